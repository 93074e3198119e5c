//! `plaint report`: the monthly analysis of a FileStore directory, as Markdown, CSV, JSON or
//! SVG charts.

use crate::CliError;
use plaint::blocking::Wait as _;
use plaint::report::{Chart, Period, Report};
use std::path::PathBuf;
use std::process::ExitCode;

/// `plaint report`'s arguments.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The FileStore directory. It is opened as a service opens it (a store in use by a
    /// running service is locked: report on a backup copy of it).
    store: PathBuf,
    /// The month, as `YYYY-MM`.
    #[arg(long)]
    month: String,
    /// The policy the report follows (its departments, reports settings and calendar).
    #[arg(long)]
    policy: PathBuf,
    /// What to write.
    #[arg(long, value_enum, default_value_t = Output::Md)]
    format: Output,
    /// Write into this directory (`report-YYYY-MM.md`, …, or the three charts) instead of
    /// standard output.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// The renderings of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Output {
    /// Markdown.
    Md,
    /// CSV.
    Csv,
    /// JSON.
    Json,
    /// The SVG charts (with `--out`; without it, the compliance chart).
    Svg,
}

/// `YYYY-MM` as a month.
fn month(text: &str) -> Result<Period, CliError> {
    Period::parse_month(text)
        .ok_or_else(|| CliError::Usage(format!("--month {text:?}: expected YYYY-MM, e.g. 2026-11")))
}

pub(crate) fn run(args: Args) -> Result<ExitCode, CliError> {
    let period = month(&args.month)?;
    let policy = crate::load_policy(&args.policy)?;
    let opened = crate::store::open(&args.store)?;
    let report = Report::from_store(&opened.store, &policy, period)
        .wait()
        .map_err(|e| CliError::Store(format!("{}: {e}", args.store.display())))?;
    let name = format!("report-{}", args.month);
    let files: Vec<(String, String)> = match args.format {
        Output::Md => vec![(format!("{name}.md"), report.to_markdown())],
        Output::Csv => vec![(format!("{name}.csv"), report.to_csv())],
        Output::Json => {
            let json = serde_json::to_string_pretty(&report)
                .map_err(|e| CliError::Usage(e.to_string()))?;
            vec![(format!("{name}.json"), json)]
        }
        Output::Svg => Chart::ALL
            .into_iter()
            .map(|c| (c.file_name().to_owned(), report.svg(c)))
            .collect(),
    };
    match &args.out {
        None => print!("{}", files[0].1),
        Some(dir) => {
            let io = |path: PathBuf| move |source| CliError::Io { path, source };
            std::fs::create_dir_all(dir).map_err(io(dir.clone()))?;
            for (file, text) in files {
                let path = dir.join(file);
                std::fs::write(&path, text).map_err(io(path.clone()))?;
                println!("{}", path.display());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
