//! `plaint check`: every problem and warning of each policy file, with path, line and column.

use crate::locate::{Position, locate, position};
use crate::{CliError, Format};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Severity {
    Error,
    Warning,
}

impl Severity {
    fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One problem or warning in one file.
#[derive(Debug)]
struct Finding {
    severity: Severity,
    /// The path in the policy (`clocks[0].calendar`), empty for the document as a whole.
    path: String,
    message: String,
    at: Option<Position>,
}

/// Checks every file; the exit status is the worst finding's (0 clean, 1 warnings, 2 errors).
pub(crate) fn run(files: &[PathBuf], format: Format) -> Result<ExitCode, CliError> {
    let mut worst = 0u8;
    let mut report = Vec::new();
    for file in files {
        let findings = check(file)?;
        for f in &findings {
            worst = worst.max(match f.severity {
                Severity::Error => 2,
                Severity::Warning => 1,
            });
        }
        match format {
            Format::Text => print_text(file, &findings),
            Format::Json => report.push(json(file, &findings)),
        }
    }
    if format == Format::Json {
        let text =
            serde_json::to_string_pretty(&report).map_err(|e| CliError::Usage(e.to_string()))?;
        outln!("{text}");
    }
    Ok(ExitCode::from(worst))
}

/// The findings of one file: its errors, or when it loads, its warnings.
fn check(file: &Path) -> Result<Vec<Finding>, CliError> {
    let text = crate::read(file)?;
    let document = (!crate::is_json(file))
        .then(|| toml_edit::Document::parse(text.as_str()).ok())
        .flatten();
    let at = |path: &str| document.as_ref().and_then(|d| locate(&text, d, path));
    let finding = |severity, p: plaint::Problem| Finding {
        at: at(&p.path),
        severity,
        path: p.path,
        message: p.message,
    };
    Ok(match crate::parse_policy(file, &text) {
        Ok(policy) => policy
            .warnings()
            .into_iter()
            .map(|p| finding(Severity::Warning, p))
            .collect(),
        Err(plaint::PolicyError::Invalid(problems)) => problems
            .into_iter()
            .map(|p| finding(Severity::Error, p))
            .collect(),
        Err(other) => vec![Finding {
            severity: Severity::Error,
            path: String::new(),
            message: other.to_string(),
            at: syntax_position(&text, &document, file),
        }],
    })
}

/// Where a document that does not parse as TOML first goes wrong.
fn syntax_position(
    text: &str,
    document: &Option<toml_edit::Document<&str>>,
    file: &Path,
) -> Option<Position> {
    if document.is_some() || crate::is_json(file) {
        return None;
    }
    let error = toml_edit::Document::parse(text).err()?;
    Some(position(text, error.span()?.start))
}

fn print_text(file: &Path, findings: &[Finding]) {
    let file = file.display();
    if findings.is_empty() {
        outln!("{file}: ok");
    }
    for f in findings {
        let place = match f.at {
            Some(p) => format!("{file}:{}:{}", p.line, p.column),
            None => format!("{file}"),
        };
        let sev = f.severity.name();
        if f.path.is_empty() {
            outln!("{place}: {sev}: {}", f.message);
        } else {
            outln!("{place}: {sev}: {}: {}", f.path, f.message);
        }
    }
}

fn json(file: &Path, findings: &[Finding]) -> serde_json::Value {
    let items: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| {
            serde_json::json!({
                "severity": f.severity.name(),
                "path": f.path,
                "message": f.message,
                "line": f.at.map(|p| p.line),
                "column": f.at.map(|p| p.column),
            })
        })
        .collect();
    serde_json::json!({ "file": file.display().to_string(), "findings": items })
}
