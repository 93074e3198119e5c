//! `plaint`: the command line for the people around an embedding service — policy authors
//! check and draw their policies, operators report on a store.

/// `print!` for the program's output, through [`emit`]: `plaint … | head` ends quietly.
macro_rules! out {
    ($($arg:tt)*) => { $crate::emit(format_args!($($arg)*)) };
}

/// `println!` for the program's output, through [`emit`].
macro_rules! outln {
    ($($arg:tt)*) => { $crate::emit(format_args!("{}\n", format_args!($($arg)*))) };
}

mod check;
mod dot;
mod explain;
mod locate;
mod report;
mod simulate;
mod store;

use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

/// plaint on the command line.
#[derive(Debug, Parser)]
#[command(name = "plaint", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Checks policy files: every problem and warning with its path, line and column.
    /// Exits 0 when all are clean, 1 when there are only warnings, 2 on any error.
    Check {
        /// Policy files (TOML, or JSON by the `.json` extension).
        #[arg(required = true)]
        policies: Vec<PathBuf>,
        /// How to print the findings.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Says what a policy does, tier by tier: the steps that apply, every clock with its
    /// targets, warning, ladder and calendar, and who is told what and when.
    Explain {
        /// The policy file.
        policy: PathBuf,
    },
    /// Draws the lifecycle a policy enables, with its clocks on the edges.
    Diagram {
        /// The policy file.
        policy: PathBuf,
        /// Mermaid (for Markdown) or Graphviz DOT.
        #[arg(long, value_enum, default_value_t = DiagramFormat::Mermaid)]
        format: DiagramFormat,
    },
    /// Prints when a clock would fall due — warning, deadline, each escalation rung — if it
    /// started at an instant, in the policy's local time: the instants the engine computes.
    Deadline {
        /// The policy file.
        policy: PathBuf,
        /// The clock's key.
        #[arg(long)]
        clock: String,
        /// The complaint's tier.
        #[arg(long)]
        tier: String,
        /// When the clock starts: RFC 3339 (`2026-11-20T17:30:00+08:00`).
        #[arg(long)]
        from: String,
        /// The channel the complaint came through (a clock may have a target per channel).
        #[arg(long)]
        channel: Option<String>,
    },
    /// Prints a JSON Schema: the policy's, or one of the wire payloads'.
    Schema {
        /// Which schema.
        #[arg(value_enum, default_value_t = SchemaKind::Policy)]
        kind: SchemaKind,
    },
    /// The monthly analysis of a FileStore directory under a policy.
    Report(report::Args),
    /// What if: replays a month — a store's complaints, or a synthetic stream — under the
    /// policy in force and a changed one, and prints breaches, warnings, escalations, ledger
    /// entries and points side by side.
    Simulate(simulate::Args),
    /// Looks after a FileStore directory.
    #[command(subcommand)]
    Store(store::StoreCmd),
    /// Prints a shell completion script (`plaint completions bash > /etc/bash_completion.d/plaint`).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
}

/// How `check` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// One line per finding: `file:line:column: error|warning: path: message`.
    Text,
    /// One JSON document: an array of files with their findings (for editors and CI).
    Json,
}

/// How `plaint diagram` draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum DiagramFormat {
    /// A Mermaid state diagram.
    Mermaid,
    /// A Graphviz digraph (`dot -Tsvg`).
    Dot,
}

/// The schemas `plaint schema` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum SchemaKind {
    /// The policy file.
    Policy,
    /// A command.
    Command,
    /// A complaint (whole).
    Complaint,
    /// A history.
    History,
    /// An error body.
    Error,
    /// A complaint as an actor sees it.
    View,
    /// A page of views.
    ViewPage,
    /// A list query.
    ListQuery,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("plaint: {e}");
            ExitCode::from(2)
        }
    }
}

/// Writes the program's output. A reader that went away (`plaint store export … | head`)
/// ends the program as the pipe's signal would (status 141), without the panic `println!`
/// gives; any other failure to write is reported and exits 2.
fn emit(args: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    if let Err(e) = std::io::stdout().lock().write_fmt(args) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(141);
        }
        eprintln!("plaint: cannot write the output: {e}");
        std::process::exit(2);
    }
}

/// Why a command could not run at all (a finding in a policy is output, not this).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
enum CliError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The policy does not load.
    #[error("{path}: {source}")]
    Policy {
        path: PathBuf,
        #[source]
        source: plaint::PolicyError,
    },
    /// The store could not be opened or read.
    #[error("{0}")]
    Store(String),
    /// An argument is malformed.
    #[error("{0}")]
    Usage(String),
}

fn read(path: &std::path::Path) -> Result<String, CliError> {
    std::fs::read_to_string(path).map_err(|source| CliError::Io {
        path: path.to_owned(),
        source,
    })
}

/// Loads a policy file, TOML or (by its extension) JSON.
fn load_policy(path: &std::path::Path) -> Result<plaint::Policy, CliError> {
    let text = read(path)?;
    parse_policy(path, &text).map_err(|source| CliError::Policy {
        path: path.to_owned(),
        source,
    })
}

fn parse_policy(path: &std::path::Path, text: &str) -> Result<plaint::Policy, plaint::PolicyError> {
    if is_json(path) {
        plaint::Policy::from_json_str(text)
    } else {
        plaint::Policy::from_toml_str(text)
    }
}

fn is_json(path: &std::path::Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

fn run(command: Cmd) -> Result<ExitCode, CliError> {
    match command {
        Cmd::Check { policies, format } => check::run(&policies, format),
        Cmd::Explain { policy } => {
            out!("{}", explain::explain(&load_policy(&policy)?));
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Diagram { policy, format } => {
            let mermaid = load_policy(&policy)?.diagram();
            match format {
                DiagramFormat::Mermaid => outln!("{mermaid}"),
                DiagramFormat::Dot => out!("{}", dot::from_mermaid(&mermaid)),
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Schema { kind } => {
            use plaint::wire;
            let text = match kind {
                SchemaKind::Policy => plaint::Policy::json_schema(),
                SchemaKind::Command => wire::command_schema(),
                SchemaKind::Complaint => wire::complaint_schema(),
                SchemaKind::History => wire::history_schema(),
                SchemaKind::Error => wire::error_schema(),
                SchemaKind::View => wire::view_schema(),
                SchemaKind::ViewPage => wire::view_page_schema(),
                SchemaKind::ListQuery => wire::list_query_schema(),
            };
            outln!("{text}");
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Report(args) => report::run(args),
        Cmd::Simulate(args) => simulate::run(args),
        Cmd::Store(command) => store::run(command),
        Cmd::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(shell, &mut Cli::command(), "plaint", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Deadline {
            policy,
            clock,
            tier,
            from,
            channel,
        } => deadline(&policy, &clock, &tier, &from, channel.as_deref()),
    }
}

/// `plaint deadline`.
fn deadline(
    path: &std::path::Path,
    clock: &str,
    tier: &str,
    from: &str,
    channel: Option<&str>,
) -> Result<ExitCode, CliError> {
    let policy = load_policy(path)?;
    let usage = |e: &dyn std::fmt::Display| CliError::Usage(e.to_string());
    let key = plaint::ClockKey::new(clock).map_err(|e| usage(&e))?;
    let tier_key = plaint::TierKey::new(tier).map_err(|e| usage(&e))?;
    let channel = channel
        .map(plaint::ChannelKey::new)
        .transpose()
        .map_err(|e| usage(&e))?;
    let from = plaint::chrono::DateTime::parse_from_rfc3339(from)
        .map_err(|e| CliError::Usage(format!("--from {from:?}: {e} (expected RFC 3339)")))?
        .with_timezone(&plaint::chrono::Utc);
    let Some(p) = policy.deadlines(&key, &tier_key, channel.as_ref(), from) else {
        return Err(CliError::Usage(format!(
            "the policy has no clock {clock:?} with a target for tier {tier:?}"
        )));
    };
    let zone = policy.time_zone();
    let local = |t: plaint::Timestamp| {
        t.with_timezone(&zone)
            .format("%Y-%m-%d %H:%M:%S %Z (%a)")
            .to_string()
    };
    outln!("clock {clock}, tier {tier}, times in {zone}");
    outln!("counts from  {}", local(p.counts_from));
    if p.alerts_at_once {
        outln!("alerts       at once");
    }
    let s = &p.schedule;
    if let Some(t) = s.not_before {
        outln!("not before   {}", local(t));
    }
    if let Some(t) = s.warning {
        outln!("warning      {}", local(t));
    }
    match s.deadline {
        Some(t) => outln!("deadline     {}", local(t)),
        None => outln!("deadline     at once"),
    }
    for (i, t) in s.rungs.iter().enumerate() {
        outln!("rung {}       {}", i + 1, local(*t));
    }
    Ok(ExitCode::SUCCESS)
}
