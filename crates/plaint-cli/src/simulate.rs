//! `plaint simulate`: a month of complaints — replayed from a store's histories, or drawn from
//! a small synthetic description — run through the real engine under the policy in force and
//! under a changed one, with the breaches, warnings, escalations, ledger entries and points
//! side by side.
//!
//! Each run is a fresh [`MemoryStore`] and a [`ManualClock`]: before each command the clock is
//! set to the command's instant and everything due by then is ticked, so clocks fire as they
//! would have in production; after the last command the clock goes to the month's end and
//! ticks once more. The source store is never written: it is read from a [`backup`] copy in a
//! temporary directory (opening a store may cut a torn tail or checkpoint).
//!
//! # What a replay reconstructs
//!
//! A replay takes the complaints the store received in the month and their commands up to
//! the month's end (later ones are not replayed). A complaint's history keeps, per command, its id, actor (with its kind and roles), instant
//! and the events it caused; the command itself is not stored. Each command is rebuilt from
//! its first event that a command causes (`Triaged` → `Triage`, `Routed` → `Route`, …);
//! commands that only fired clocks (ticks, by the system) are not replayed — the replay's own
//! ticks fire them under the policy being tried. What cannot be rebuilt exactly: a `Triage`
//! that took the default tier is replayed with the tier it got; a `Route` the routing rules
//! decided is replayed with the responsibility they chose. Both are then fixed by the
//! original policy rather than re-decided by the changed one. A command the changed policy
//! refuses is counted by its kind and rejection code and the complaint goes on with the next
//! one. Commands are replayed in the order of their instants (ties in complaint-id order): a
//! store written under a clock that went back — the examples' scenarios run one complaint
//! after another, each on its own days — may see a command refused that was accepted (a merge
//! into a complaint that, by the instants, had closed already).
//!
//! [`backup`]: plaint::file::backup

use crate::CliError;
use plaint::blocking::{Engine, Wait as _};
use plaint::report::{Period, Report, ReportBuilder};
use plaint::{
    Actor, ActorKind, Clock as _, ClockKey, Command, CommandId, ComplaintId, Event, ListQuery,
    ManualClock, MemoryStore, Policy, Recorded, Store, Timestamp,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

/// `plaint simulate`'s arguments.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The policy in force.
    #[arg(long)]
    policy: PathBuf,
    /// The changed policy to compare it with.
    #[arg(long)]
    changed: PathBuf,
    /// Replay the complaints this FileStore directory received in the month (read from a
    /// copy; nothing is written to it).
    #[arg(
        long,
        conflicts_with = "synthetic",
        required_unless_present = "synthetic"
    )]
    store: Option<PathBuf>,
    /// Or draw the month's complaints from this synthetic description (TOML: seed, arrivals
    /// per hour, tier and category mix, handling times; see the README).
    #[arg(long)]
    synthetic: Option<PathBuf>,
    /// The month, as `YYYY-MM`.
    #[arg(long)]
    month: String,
    /// Text side by side, or JSON.
    #[arg(long, value_enum, default_value_t = crate::Format::Text)]
    format: crate::Format,
}

/// One command of the workload, at its instant.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    at: Timestamp,
    complaint: ComplaintId,
    id: CommandId,
    command: Command,
    actor: Actor,
    /// A step the lifecycle may not need (an approval, a follow-up): its rejection is not
    /// counted.
    optional: bool,
}

/// What one run found.
#[derive(Debug, Default, Serialize)]
pub(crate) struct Outcome {
    /// Commands run and accepted.
    pub accepted: u64,
    /// Commands refused, by command kind and rejection code (`close illegal_transition`).
    pub rejected: BTreeMap<String, u64>,
    /// Clock breaches.
    pub breaches: Counts,
    /// Clock warnings.
    pub warnings: Counts,
    /// Escalation rungs reached.
    pub escalations: Counts,
    /// Entries in the complaint ledger, by department.
    pub ledger: BTreeMap<String, u64>,
    /// Points per department (the report's scores).
    pub points: BTreeMap<String, f64>,
    /// The month's report under this policy.
    #[serde(skip)]
    pub report: Option<Report>,
}

/// Firings counted three ways.
#[derive(Debug, Default, Serialize)]
pub(crate) struct Counts {
    /// In all.
    pub total: u64,
    /// By clock.
    pub clock: BTreeMap<String, u64>,
    /// By the complaint's tier (at the month's end).
    pub tier: BTreeMap<String, u64>,
    /// By the complaint's primary department (at the month's end).
    pub department: BTreeMap<String, u64>,
}

impl Counts {
    fn add(&mut self, clock: &ClockKey, tier: &str, department: &str) {
        self.total += 1;
        *self.clock.entry(clock.as_str().to_owned()).or_default() += 1;
        *self.tier.entry(tier.to_owned()).or_default() += 1;
        *self.department.entry(department.to_owned()).or_default() += 1;
    }
}

pub(crate) fn run(args: Args) -> Result<ExitCode, CliError> {
    let period = Period::parse_month(&args.month).ok_or_else(|| {
        CliError::Usage(format!(
            "--month {:?}: expected YYYY-MM, e.g. 2026-11",
            args.month
        ))
    })?;
    let current = crate::load_policy(&args.policy)?;
    let changed = crate::load_policy(&args.changed)?;
    let (start, end) = period.instants(current.time_zone());
    let (steps, source) = match (&args.store, &args.synthetic) {
        (Some(dir), _) => (from_store(dir, start, end)?, dir.display().to_string()),
        (None, Some(file)) => {
            let text = crate::read(file)?;
            let spec: Synthetic = toml::from_str(&text)
                .map_err(|e| CliError::Usage(format!("{}: {e}", file.display())))?;
            (spec.steps(start, end)?, file.display().to_string())
        }
        (None, None) => return Err(CliError::Usage("--store or --synthetic".into())),
    };
    let complaints = steps
        .iter()
        .filter(|s| matches!(s.command, Command::Receive(_) | Command::Consult { .. }))
        .count();
    let timer = std::time::Instant::now();
    let a = simulate(&current, &steps, period, end, "current")?;
    let b = simulate(&changed, &steps, period, end, "changed")?;
    let seconds = timer.elapsed().as_secs_f64();
    eprintln!(
        "replayed {complaints} complaint(s), {} command(s), twice, in {seconds:.1} s ({:.0} complaints/s per policy)",
        steps.len(),
        2.0 * complaints as f64 / seconds.max(1e-9)
    );
    match args.format {
        crate::Format::Json => {
            let doc = serde_json::json!({
                "source": source,
                "month": args.month,
                "complaints": complaints,
                "commands": steps.len(),
                "current": { "policy": args.policy, "outcome": a },
                "changed": { "policy": args.changed, "outcome": b },
            });
            outln!(
                "{}",
                serde_json::to_string_pretty(&doc).map_err(|e| CliError::Usage(e.to_string()))?
            );
        }
        crate::Format::Text => out!(
            "{}",
            side_by_side(&source, &args.month, complaints, steps.len(), &a, &b)
        ),
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs `steps` through the engine under `policy`; returns what happened in `period`.
pub(crate) fn simulate(
    policy: &Policy,
    steps: &[Step],
    period: Period,
    end: Timestamp,
    label: &str,
) -> Result<Outcome, CliError> {
    let start = steps.first().map_or(end, |s| s.at);
    let clock = Arc::new(ManualClock::new(start));
    let engine = Engine::builder(MemoryStore::new(), policy.clone())
        .clock(Arc::clone(&clock))
        .build();
    let failed = |e: &dyn std::fmt::Display| CliError::Store(format!("simulation: {e}"));
    let progress = bar(steps.len() as u64, label);
    let mut out = Outcome::default();
    for (i, step) in steps.iter().enumerate() {
        advance(&engine, &clock, step.at).map_err(|e| failed(&e))?;
        match engine.execute(
            step.id.clone(),
            &step.complaint,
            step.command.clone(),
            &step.actor,
        ) {
            Ok(_) => out.accepted += 1,
            Err(plaint::EngineError::Rejected(_)) if step.optional => {}
            Err(e @ plaint::EngineError::Store(_)) => return Err(failed(&e)),
            Err(e) => {
                let why = format!("{} {}", step.command.kind().name(), e.code());
                *out.rejected.entry(why).or_default() += 1;
            }
        }
        if i % 4096 == 0 {
            progress.set_position(i as u64);
        }
    }
    advance(&engine, &clock, end).map_err(|e| failed(&e))?;
    progress.finish_and_clear();
    let report = tally(engine.store(), policy, period, &mut out).map_err(|e| failed(&e))?;
    for entry in &report.ledger {
        let dept = entry.department.clone().unwrap_or_else(|| "-".into());
        *out.ledger.entry(dept).or_default() += 1;
    }
    for score in &report.scores {
        out.points.insert(score.department.clone(), score.points);
    }
    out.report = Some(report);
    Ok(out)
}

/// Sets the clock to `to` (never back) and fires what is due by then.
fn advance(
    engine: &Engine<MemoryStore, plaint::DiscardNotifier, Arc<ManualClock>>,
    clock: &ManualClock,
    to: Timestamp,
) -> Result<(), plaint::EngineError> {
    if to > clock.now() {
        clock.set(to);
    }
    if engine.next_due()?.is_some_and(|due| due <= clock.now()) {
        engine.tick()?;
    }
    Ok(())
}

/// Counts the clock firings of every complaint in the store, and makes the period's report
/// in the same pass over complaints and histories.
fn tally(
    store: &MemoryStore,
    policy: &Policy,
    period: Period,
    out: &mut Outcome,
) -> Result<Report, plaint::StoreError> {
    let mut report = ReportBuilder::new(policy, period);
    let mut query = ListQuery::new().limit(ListQuery::MAX_LIMIT);
    loop {
        let page = store.list(&query).wait()?;
        for c in &page.items {
            let tier = c.tier.as_ref().map_or("-", |t| t.as_str());
            let dept = c
                .responsibility
                .as_ref()
                .map_or("-", |r| r.primary.as_str());
            let history = store.history(&c.id).wait()?;
            for r in &history {
                match &r.event {
                    Event::ClockBreached { clock, .. } => out.breaches.add(clock, tier, dept),
                    Event::ClockWarned { clock, .. } => out.warnings.add(clock, tier, dept),
                    Event::RungReached { clock, .. } => out.escalations.add(clock, tier, dept),
                    _ => {}
                }
            }
            report.add(c, &history);
        }
        match page.next {
            Some(next) => query.after = Some(next),
            None => return Ok(report.finish()),
        }
    }
}

fn bar(len: u64, label: &str) -> indicatif::ProgressBar {
    use std::io::IsTerminal as _;
    if !std::io::stderr().is_terminal() {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("{msg:>8} [{bar:40}] {pos}/{len} commands {eta}")
    {
        bar.set_style(style);
    }
    bar.set_message(label.to_owned());
    bar
}

/// The side-by-side table.
fn side_by_side(
    source: &str,
    month: &str,
    complaints: usize,
    commands: usize,
    a: &Outcome,
    b: &Outcome,
) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{source}, {month}: {complaints} complaint(s), {commands} command(s)\n"
    );
    let _ = writeln!(
        s,
        "{:<48} {:>10} {:>10} {:>10}",
        "", "current", "changed", "change"
    );
    let row = |s: &mut String, name: &str, x: f64, y: f64| {
        let _ = writeln!(s, "{name:<48} {x:>10} {y:>10} {:>+10}", y - x);
    };
    let rows =
        |s: &mut String, title: &str, x: &BTreeMap<String, u64>, y: &BTreeMap<String, u64>| {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let get = |m: &BTreeMap<String, u64>| m.get(k).copied().unwrap_or(0) as f64;
                row(s, &format!("  {title} {k}"), get(x), get(y));
            }
        };
    row(
        &mut s,
        "commands accepted",
        a.accepted as f64,
        b.accepted as f64,
    );
    let rejected = |o: &Outcome| o.rejected.values().sum::<u64>() as f64;
    row(&mut s, "commands rejected", rejected(a), rejected(b));
    rows(&mut s, "rejected:", &a.rejected, &b.rejected);
    for (name, x, y) in [
        ("breaches", &a.breaches, &b.breaches),
        ("warnings", &a.warnings, &b.warnings),
        ("escalations", &a.escalations, &b.escalations),
    ] {
        let _ = writeln!(s);
        row(&mut s, name, x.total as f64, y.total as f64);
        rows(&mut s, "clock", &x.clock, &y.clock);
        rows(&mut s, "tier", &x.tier, &y.tier);
        rows(&mut s, "department", &x.department, &y.department);
    }
    let _ = writeln!(s);
    let total = |m: &BTreeMap<String, u64>| m.values().sum::<u64>() as f64;
    row(&mut s, "ledger entries", total(&a.ledger), total(&b.ledger));
    rows(&mut s, "department", &a.ledger, &b.ledger);
    let _ = writeln!(s);
    let _ = writeln!(s, "points per department");
    let keys: std::collections::BTreeSet<&String> =
        a.points.keys().chain(b.points.keys()).collect();
    for k in keys {
        let get = |m: &BTreeMap<String, f64>| m.get(k).copied().unwrap_or(0.0);
        let (x, y) = (get(&a.points), get(&b.points));
        let _ = writeln!(
            s,
            "{:<48} {x:>10.1} {y:>10.1} {:>+10.1}",
            format!("  {k}"),
            y - x
        );
    }
    s
}

// ---- Replay from a store ------------------------------------------------------------------

/// The commands of the complaints `dir` received in `[start, end)`, rebuilt from their
/// histories, in time order. The store is copied first and the copy opened.
fn from_store(dir: &Path, start: Timestamp, end: Timestamp) -> Result<Vec<Step>, CliError> {
    crate::store::existing_dir(dir)?;
    let fail = |e: &dyn std::fmt::Display| CliError::Store(format!("{}: {e}", dir.display()));
    let tmp = tempfile::tempdir().map_err(|e| fail(&e))?;
    let copy = tmp.path().join("store");
    plaint::file::backup(dir, &copy).map_err(|e| fail(&e))?;
    // The key table after the data, so it opens everything the copy holds.
    let keys = dir.join(plaint::file::KEYS_FILE);
    if keys.exists() {
        plaint::file::install_keys(&keys, &copy).map_err(|e| fail(&e))?;
    }
    let opened = crate::store::open(&copy)?;
    let store = opened.store;
    let mut steps = Vec::new();
    let mut query = ListQuery::new()
        .received(start, end)
        .limit(ListQuery::MAX_LIMIT);
    loop {
        let page = store.list(&query).wait().map_err(|e| fail(&e))?;
        for c in &page.items {
            let history = store.history(&c.id).wait().map_err(|e| fail(&e))?;
            steps.extend(
                commands_of(&c.id, &history)
                    .into_iter()
                    .filter(|s| s.at < end),
            );
        }
        match page.next {
            Some(next) => query.after = Some(next),
            None => break,
        }
    }
    store.close().map_err(|e| fail(&e))?;
    steps.sort_by_key(|s| s.at);
    Ok(steps)
}

/// A complaint's commands, rebuilt from its history (see the module's notes).
pub(crate) fn commands_of(id: &ComplaintId, history: &[Recorded]) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut i = 0;
    while i < history.len() {
        let first = &history[i];
        let group: Vec<&Recorded> = history[i..]
            .iter()
            .take_while(|r| r.command == first.command)
            .collect();
        i += group.len();
        let kind = match &first.actor_kind {
            Some(ActorKind::System) | None => continue,
            Some(k) => k.clone(),
        };
        let Some(command) = command_of(&group) else {
            continue;
        };
        steps.push(Step {
            at: first.at,
            complaint: id.clone(),
            id: first.command.clone(),
            command,
            actor: Actor {
                id: first.actor.clone(),
                kind,
            },
            optional: false,
        });
    }
    steps
}

/// The command that caused a group of events: from the first event a command causes.
fn command_of(group: &[&Recorded]) -> Option<Command> {
    let consulted = group.iter().find_map(|r| match &r.event {
        Event::Consulted { answer } => Some(answer.clone()),
        _ => None,
    });
    group.iter().find_map(|r| {
        Some(match r.event.clone() {
            Event::Received { intake, .. } => match &consulted {
                Some(answer) => Command::Consult {
                    intake,
                    answer: answer.clone(),
                },
                None => Command::Receive(intake),
            },
            Event::Acknowledged => Command::Acknowledge,
            Event::Triaged {
                category,
                tier,
                validity,
            } => Command::Triage {
                category,
                tier: Some(tier),
                validity,
            },
            Event::Explained { text } => Command::Explain { text },
            Event::ExplanationAccepted => Command::AcceptExplanation,
            Event::ExplanationRejected { reason } => Command::RejectExplanation { reason },
            Event::Routed { responsibility } => Command::Route {
                responsibility: Some(responsibility),
            },
            Event::Reassigned {
                responsibility,
                reason,
                ..
            } => Command::Reassign {
                responsibility,
                reason,
            },
            Event::FindingsRecorded {
                findings,
                root_cause,
            } => Command::RecordFindings {
                findings,
                root_cause,
            },
            Event::RemedyProposed {
                remedy,
                description,
                amount,
                ..
            } => Command::Propose {
                remedy,
                description,
                amount,
            },
            Event::ApprovalGranted { note, .. } => Command::Approve { note },
            Event::ApprovalDeclined { reason } => Command::DeclineApproval { reason },
            Event::ProposalAccepted { agreement } => Command::AcceptProposal { agreement },
            Event::ProposalRejected { reason } => Command::RejectProposal { reason },
            Event::ExecutionRecorded {
                action,
                reference,
                finished,
            } => Command::RecordExecution {
                action,
                reference,
                finished,
            },
            Event::FeedbackGiven { text } => Command::GiveFeedback { text },
            Event::SatisfactionRecorded { satisfaction, .. } => {
                Command::ConfirmSatisfaction(satisfaction)
            }
            Event::FollowedUp { satisfaction } => Command::FollowUp(satisfaction),
            Event::ResolvedOnTheSpot {
                remedy,
                description,
            } => Command::ResolveOnTheSpot {
                remedy,
                description,
            },
            Event::Closed { .. } => Command::Close,
            Event::Withdrawn { reason } => Command::Withdraw { reason },
            Event::Merged { into } => Command::Merge { into },
            Event::TierChanged { to, reason, .. } => Command::ChangeTier { tier: to, reason },
            Event::EvidenceAdded { evidence } => Command::AddEvidence(evidence),
            Event::ProgressReported { note } => Command::ReportProgress { note },
            Event::ActionRecorded {
                action,
                note,
                document,
                ..
            } => Command::RecordAction {
                action,
                note,
                document,
            },
            Event::DeadlineAgreed {
                clock, deadline, ..
            } => Command::AgreeDeadline { clock, deadline },
            Event::ConvertedToComplaint { reason } => Command::ConvertToComplaint { reason },
            Event::PointsAdjusted { points, reason } => Command::AdjustPoints { points, reason },
            // Clock events and the like are what commands cause, not commands.
            _ => return None,
        })
    })
}

// ---- A synthetic month --------------------------------------------------------------------

/// A synthetic month, from a small TOML file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Synthetic {
    /// The seed of the deterministic random draws.
    seed: u64,
    /// Mean arrivals per hour (a Poisson stream over the whole month).
    arrivals_per_hour: f64,
    /// The channel complaints arrive on.
    #[serde(default = "default_channel")]
    channel: String,
    /// Tier → weight.
    tiers: BTreeMap<String, f64>,
    /// Category path → weight.
    categories: BTreeMap<String, f64>,
    /// The remedy proposed.
    remedy: String,
    /// The roles of the staff member who gives every staff command but approvals.
    roles: Vec<String>,
    /// The roles of the one who approves (another person: nobody approves their own
    /// proposal).
    approver_roles: Vec<String>,
    /// Mean minutes from the previous step to each step (exponentially distributed).
    handling: Handling,
}

fn default_channel() -> String {
    "hotline".into()
}

/// Mean minutes before each step of the lifecycle.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Handling {
    acknowledge: f64,
    triage: f64,
    route: f64,
    findings: f64,
    propose: f64,
    approve: f64,
    accept: f64,
    execute: f64,
    feedback: f64,
    satisfaction: f64,
    follow_up: f64,
    close: f64,
}

/// SplitMix64: a small, well-known deterministic generator (same seed, same month).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    fn unit(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 1.0) / (1u64 << 53) as f64
    }

    /// Exponential with this mean.
    fn exp(&mut self, mean: f64) -> f64 {
        -mean * self.unit().ln()
    }

    fn pick<'a>(&mut self, weights: &'a [(String, f64)], total: f64) -> &'a str {
        let mut x = self.unit() * total;
        for (k, w) in weights {
            if x <= *w {
                return k;
            }
            x -= w;
        }
        &weights[weights.len() - 1].0
    }
}

impl Synthetic {
    /// The month's commands, in time order.
    pub(crate) fn steps(&self, start: Timestamp, end: Timestamp) -> Result<Vec<Step>, CliError> {
        let usage = |what: &str| CliError::Usage(format!("synthetic: {what}"));
        let weights = |m: &BTreeMap<String, f64>, what: &str| {
            let v: Vec<(String, f64)> = m
                .iter()
                .filter(|(_, w)| w.is_finite() && **w > 0.0)
                .map(|(k, w)| (k.clone(), *w))
                .collect();
            let total: f64 = v.iter().map(|(_, w)| w).sum();
            if v.is_empty() {
                Err(usage(&format!("{what} needs a positive weight")))
            } else {
                Ok((v, total))
            }
        };
        let (tiers, tiers_total) = weights(&self.tiers, "tiers")?;
        let (categories, categories_total) = weights(&self.categories, "categories")?;
        if !(self.arrivals_per_hour.is_finite() && self.arrivals_per_hour > 0.0) {
            return Err(usage("arrivals_per_hour must be positive"));
        }
        let h = &self.handling;
        let means = [
            h.acknowledge,
            h.triage,
            h.route,
            h.findings,
            h.propose,
            h.approve,
            h.accept,
            h.execute,
            h.feedback,
            h.satisfaction,
            h.follow_up,
            h.close,
        ];
        if means.iter().any(|m| !(m.is_finite() && *m >= 0.0)) {
            return Err(usage("handling times are minutes, zero or more"));
        }
        let key = |e: &dyn std::fmt::Display| usage(&e.to_string());
        let person = |id: &str, roles: &[String]| -> Result<Actor, CliError> {
            let roles = roles
                .iter()
                .map(|r| plaint::RoleKey::new(r.clone()).map_err(|e| key(&e)))
                .collect::<Result<Vec<_>, _>>()?;
            let id = plaint::ActorId::new(id).map_err(|e| key(&e))?;
            Ok(Actor::staff(id, roles, None))
        };
        let staff = person("sim-staff", &self.roles)?;
        let approver = person("sim-approver", &self.approver_roles)?;
        let remedy = plaint::RemedyKey::new(self.remedy.clone()).map_err(|e| key(&e))?;
        let mut rng = Rng(self.seed);
        let mut steps = Vec::new();
        let mut at = start;
        let mut n = 0u64;
        loop {
            let gap = rng.exp(3600.0 / self.arrivals_per_hour);
            at += plaint::chrono::Duration::milliseconds((gap * 1000.0) as i64);
            if at >= end {
                break;
            }
            let id = ComplaintId::new(format!("SIM-{n:07}")).map_err(|e| key(&e))?;
            let customer = format!("sim-cust-{n}");
            let intake: plaint::Intake = serde_json::from_value(serde_json::json!({
                "complainant": { "id": customer, "name": "Simulated", "contacts": [] },
                "channel": self.channel,
                "received_at": at,
                "description": "simulated",
            }))
            .map_err(|e| key(&e))?;
            let tier = plaint::TierKey::new(rng.pick(&tiers, tiers_total).to_owned())
                .map_err(|e| key(&e))?;
            let category = plaint::CategoryPath::parse(rng.pick(&categories, categories_total))
                .map_err(|e| key(&e))?;
            let complainant =
                Actor::complainant(plaint::ActorId::new(customer).map_err(|e| key(&e))?);
            let happy = plaint::Satisfaction {
                satisfied: true,
                score: Some(5),
                comment: None,
            };
            let life: [(Command, &Actor, bool); 13] = [
                (Command::Receive(Arc::new(intake)), &staff, false),
                (Command::Acknowledge, &staff, false),
                (
                    Command::Triage {
                        category,
                        tier: Some(tier),
                        validity: plaint::Validity::Valid,
                    },
                    &staff,
                    false,
                ),
                (
                    Command::Route {
                        responsibility: None,
                    },
                    &staff,
                    false,
                ),
                (
                    Command::RecordFindings {
                        findings: plaint::Findings {
                            summary: "simulated".into(),
                            records: vec![],
                        },
                        root_cause: None,
                    },
                    &staff,
                    false,
                ),
                (
                    Command::Propose {
                        remedy: remedy.clone(),
                        description: "simulated".into(),
                        amount: None,
                    },
                    &staff,
                    false,
                ),
                (Command::Approve { note: None }, &approver, true),
                (
                    Command::AcceptProposal { agreement: None },
                    &complainant,
                    false,
                ),
                (
                    Command::RecordExecution {
                        action: "simulated".into(),
                        reference: None,
                        finished: true,
                    },
                    &staff,
                    false,
                ),
                (
                    Command::GiveFeedback {
                        text: "simulated".into(),
                    },
                    &staff,
                    false,
                ),
                (
                    Command::ConfirmSatisfaction(happy.clone()),
                    &complainant,
                    false,
                ),
                (Command::FollowUp(happy), &staff, true),
                (Command::Close, &staff, false),
            ];
            let mut t = at;
            for (k, (command, actor, optional)) in life.into_iter().enumerate() {
                if k > 0 {
                    let minutes = rng.exp(means[k - 1]);
                    t += plaint::chrono::Duration::seconds((minutes * 60.0) as i64);
                }
                if t >= end {
                    break;
                }
                steps.push(Step {
                    at: t,
                    complaint: id.clone(),
                    id: CommandId::new(format!("sim-{n}-{k}")).map_err(|e| key(&e))?,
                    command,
                    actor: actor.clone(),
                    optional,
                });
            }
            n += 1;
        }
        steps.sort_by_key(|s| s.at);
        Ok(steps)
    }
}
