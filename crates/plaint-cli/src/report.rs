//! `plaint report`: the monthly analysis of a FileStore directory or a PostgreSQL database,
//! as Markdown, CSV, JSON or SVG charts.

use crate::CliError;
use plaint::blocking::Wait as _;
use plaint::report::{Chart, Period, Report};
use std::path::PathBuf;
use std::process::ExitCode;

/// `plaint report`'s arguments.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The FileStore directory, or a PostgreSQL URL (`postgres://user@host/db`). A directory
    /// is opened as a service opens it (a store in use by a running service is locked: report
    /// on a backup copy of it); a database is read while services use it.
    store: PathBuf,
    /// The schema that holds the PgStore's tables (PostgreSQL only; the user's default
    /// schema without it).
    #[arg(long)]
    schema: Option<String>,
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
    let report = match args.store.to_str().filter(|s| is_postgres_url(s)) {
        Some(url) => from_postgres(url, args.schema.as_deref(), &policy, period)?,
        None => {
            if args.schema.is_some() {
                return Err(CliError::Usage(
                    "--schema is for a PostgreSQL URL, not a directory".into(),
                ));
            }
            let opened = crate::store::open(&args.store)?;
            Report::from_store(&opened.store, &policy, period)
                .wait()
                .map_err(|e| CliError::Store(format!("{}: {e}", args.store.display())))?
        }
    };
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
        None => out!("{}", files[0].1),
        Some(dir) => {
            let io = |path: PathBuf| move |source| CliError::Io { path, source };
            std::fs::create_dir_all(dir).map_err(io(dir.clone()))?;
            for (file, text) in files {
                let path = dir.join(file);
                std::fs::write(&path, text).map_err(io(path.clone()))?;
                outln!("{}", path.display());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn is_postgres_url(s: &str) -> bool {
    s.starts_with("postgres://") || s.starts_with("postgresql://")
}

/// The report over a PgStore database, read on a tokio runtime of its own.
#[cfg(feature = "postgres")]
fn from_postgres(
    url: &str,
    schema: Option<&str>,
    policy: &plaint::Policy,
    period: Period,
) -> Result<Report, CliError> {
    use plaint::postgres::{PgConfig, PgStore};
    let fail = |e: &dyn std::fmt::Display| CliError::Store(format!("PostgreSQL: {e}"));
    let mut config = PgConfig::new(url).map_err(|e| fail(&e))?.max_connections(2);
    if let Some(name) = schema {
        config = config.schema(name).map_err(|e| fail(&e))?;
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| fail(&e))?;
    rt.block_on(async {
        let store = PgStore::connect(config).await.map_err(|e| fail(&e))?;
        Report::from_store(&store, policy, period)
            .await
            .map_err(|e| fail(&e))
    })
}

#[cfg(not(feature = "postgres"))]
fn from_postgres(
    _: &str,
    _: Option<&str>,
    _: &plaint::Policy,
    _: Period,
) -> Result<Report, CliError> {
    Err(CliError::Usage(
        "this plaint was built without its `postgres` feature".into(),
    ))
}
