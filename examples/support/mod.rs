//! What the example scenarios share: a driver that runs commands on a manual clock in the
//! policy's time zone, ticks like an embedding service would, and prints timelines.

#![allow(dead_code, unreachable_pub)] // each example uses part of it

use chrono::{Duration, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use plaint::blocking::Wait as _;
use plaint::file::{FileStore, Options};
use plaint::{
    Actor, ActorId, Command, CommandId, Complainant, Complaint, ComplaintId, Contact, EngineError,
    Intake, ListQuery, ManualClock, Policy, RecordingNotifier, Rejection, RoleKey, StageKind,
    Store, Subject,
};
use std::collections::BTreeMap;
use std::error::Error;
use std::sync::Arc;

/// Errors end the scenario (and the example exits non-zero).
pub type Res<T> = Result<T, Box<dyn Error>>;

type Engine =
    plaint::blocking::Engine<Arc<dyn plaint::DynStore>, Arc<RecordingNotifier>, Arc<ManualClock>>;

/// Prints the analysis of `period` (`2026-11`) over `store` under `policy_text`, and writes
/// its charts to `target/plaint-examples/<name>-report/`.
pub fn report(
    store: &dyn plaint::DynStore,
    policy_text: &str,
    period: (i32, u32),
    name: &str,
) -> Res<()> {
    use plaint::report::{Chart, Period, Report};
    let policy = Policy::from_toml_str(policy_text)?;
    let period = Period::month(period.0, period.1).ok_or("no such month")?;
    let report = Report::from_store(store, &policy, period).wait()?;
    println!("\n{}", report.to_markdown());
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/plaint-examples")
        .join(format!("{name}-report"));
    std::fs::create_dir_all(&dir)?;
    std::fs::write(dir.join("report.csv"), report.to_csv())?;
    std::fs::write(
        dir.join("report.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    for chart in Chart::ALL {
        std::fs::write(dir.join(chart.file_name()), report.svg(chart))?;
    }
    println!("charts, CSV and JSON in {}", dir.display());
    Ok(())
}

/// The example's durable store: a FileStore in `target/plaint-examples/<name>`, emptied
/// first when the command line says `--fresh`. A second run continues where the first
/// stopped: the scenario gives the same command ids, so commands already recorded are
/// answered from the store and applied once only.
pub fn file_store(name: &str) -> Res<Arc<dyn plaint::DynStore>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/plaint-examples")
        .join(name);
    let fresh = std::env::args().skip(1).any(|a| a == "--fresh");
    if fresh && dir.exists() {
        std::fs::remove_dir_all(&dir)?;
    }
    let opened = FileStore::open(&dir, Options::new())?;
    if let Some(tail) = &opened.report.torn_tail {
        println!(
            "cut a torn tail off {}: {} bytes at {}",
            tail.file.display(),
            tail.removed,
            tail.offset
        );
    }
    let known = opened.store.list(&ListQuery::new()).wait()?.items.len();
    println!(
        "store: {} ({known} complaint(s) already there{})",
        dir.display(),
        match known {
            0 => "",
            _ => "; their recorded commands are answered from the store, `--fresh` starts over",
        }
    );
    Ok(Arc::new(opened.store))
}

/// Drives one policy's engine through a scenario.
pub struct Run {
    pub engine: Engine,
    pub clock: Arc<ManualClock>,
    pub notes: Arc<RecordingNotifier>,
    pub zone: Tz,
    pub refused: usize,
    pub fired: usize,
    ids: Vec<ComplaintId>,
    seq: u32,
    quiet: bool,
    /// The last accepted command was already in the store (a second run): the complaint may
    /// since have moved on, so a refusal is judged on a later state.
    replaying: bool,
}

/// What a scenario ended with, for tests to assert.
#[derive(Debug, Default)]
pub struct Summary {
    /// Final stage of every complaint, by id.
    pub stages: BTreeMap<String, String>,
    /// Commands the policy refused, as the scenario expected.
    pub refused: usize,
    /// Clock items fired by ticks.
    pub fired: usize,
    /// Complaints with a breached clock.
    pub breached: usize,
    /// Complaints entered in the ledger by an escalation.
    pub in_ledger: usize,
    /// Complaints reopened at least once.
    pub reopened: usize,
    /// Complaints whose proposals went through more than one round.
    pub renegotiated: usize,
    /// The text of every notification delivered with one, by notification id.
    pub texts: Texts,
}

/// Notification texts by notification id. `Debug` shows only how many there are: the texts
/// hold phone numbers (`print` shows them, as the notifier got them).
#[derive(Default)]
pub struct Texts(pub BTreeMap<String, String>);

impl std::fmt::Debug for Texts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} texts", self.0.len())
    }
}

impl Run {
    /// An engine over `store` and `policy_text`, its clock at `start` local time
    /// (`2026-11-16 09:00`).
    pub fn new(
        store: Arc<dyn plaint::DynStore>,
        policy_text: &str,
        start: &str,
        quiet: bool,
    ) -> Res<Self> {
        let policy = Policy::from_toml_str(policy_text)?;
        let zone = policy.time_zone();
        let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
        let notes = Arc::new(RecordingNotifier::new());
        let engine = plaint::blocking::Engine::builder(store, policy)
            .clock(Arc::clone(&clock))
            .notifier(Arc::clone(&notes))
            .build();
        let run = Self {
            engine,
            clock,
            notes,
            zone,
            refused: 0,
            fired: 0,
            ids: Vec::new(),
            seq: 0,
            quiet,
            replaying: false,
        };
        run.at(start)?;
        Ok(run)
    }

    /// Sets the clock to a local time (`2026-11-16 09:00`).
    pub fn at(&self, local: &str) -> Res<()> {
        let naive = NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M")?;
        let t = self
            .zone
            .from_local_datetime(&naive)
            .earliest()
            .ok_or("no such local time")?;
        self.clock.set(t.to_utc());
        Ok(())
    }

    /// Moves the clock on.
    pub fn after(&self, minutes: i64) {
        self.clock.advance(Duration::minutes(minutes));
    }

    /// The current time.
    pub fn now(&self) -> plaint::Timestamp {
        plaint::Clock::now(&*self.clock)
    }

    /// Registers a complaint received now.
    pub fn receive(&mut self, id: &str, mut intake: Intake, by: &Actor) -> Res<Arc<Complaint>> {
        intake.received_at = self.now();
        self.ids.push(ComplaintId::new(id)?);
        self.ok(id, Command::Receive(Arc::new(intake)), by)
    }

    /// Records a contact answered now as a consultation (no complaint).
    pub fn consult(
        &mut self,
        id: &str,
        mut intake: Intake,
        answer: &str,
        by: &Actor,
    ) -> Res<Arc<Complaint>> {
        intake.received_at = self.now();
        self.ids.push(ComplaintId::new(id)?);
        let answer = answer.into();
        self.ok(
            id,
            Command::Consult {
                intake: Arc::new(intake),
                answer,
            },
            by,
        )
    }

    /// A command the scenario expects to be accepted.
    pub fn ok(&mut self, id: &str, command: Command, actor: &Actor) -> Res<Arc<Complaint>> {
        let cmd = self.next_id();
        let kind = command.kind();
        self.replaying = self.engine.store().command(&cmd).wait()?.is_some();
        self.engine
            .execute(cmd, &ComplaintId::new(id)?, command, actor)
            .map_err(|e| format!("{id}: {kind} by {}: {e}", actor.id).into())
    }

    /// A command the scenario expects the policy to refuse.
    pub fn refused(&mut self, id: &str, command: Command, actor: &Actor) -> Res<()> {
        let cmd = self.next_id();
        let kind = command.kind();
        match self
            .engine
            .execute(cmd, &ComplaintId::new(id)?, command, actor)
        {
            Err(EngineError::Rejected(r))
                if self.replaying
                    || matches!(r, Rejection::Forbidden { .. } | Rejection::Invalid { .. }) =>
            {
                if !self.quiet {
                    println!("refused {kind} on {id} by {}: {r}", actor.id);
                }
                self.refused += 1;
                Ok(())
            }
            Err(e) => Err(e.into()),
            Ok(_) => Err(format!("{id}: {kind} by {} should have been refused", actor.id).into()),
        }
    }

    /// Fires what fell due, as an embedding service's timer would.
    pub fn tick(&mut self) -> Res<usize> {
        let tick = self.engine.tick()?;
        if let Some((id, e)) = tick.failed.first() {
            return Err(format!("tick could not fire {id}: {e}").into());
        }
        let fired = tick.fired.len();
        // The relay delivers what the commands and the tick put in the outbox.
        self.engine.relay()?;
        self.fired += fired;
        if !self.quiet && fired > 0 {
            println!("tick at {}: {fired} event(s)", self.local(self.now()));
        }
        Ok(fired)
    }

    /// Advances `minutes`, ticking every `step` minutes on the way (a service's timer).
    pub fn wait(&mut self, minutes: i64, step: i64) -> Res<()> {
        let mut left = minutes;
        while left > 0 {
            let d = left.min(step);
            self.after(d);
            self.tick()?;
            left -= d;
        }
        Ok(())
    }

    /// Ticks every `step` minutes until local time `until`.
    pub fn wait_until(&mut self, until: &str, step: i64) -> Res<()> {
        let naive = NaiveDateTime::parse_from_str(until, "%Y-%m-%d %H:%M")?;
        let end = self
            .zone
            .from_local_datetime(&naive)
            .earliest()
            .ok_or("no such local time")?;
        let minutes = (end.to_utc() - self.now()).num_minutes();
        self.wait(minutes, step)
    }

    /// The complaint now.
    pub fn get(&self, id: &str) -> Res<Arc<Complaint>> {
        Ok(self
            .engine
            .get(&ComplaintId::new(id)?)?
            .ok_or("no such complaint")?)
    }

    /// The complainant of `id`, acting themselves.
    pub fn customer_of(&self, id: &str) -> Res<Actor> {
        Ok(Actor::complainant(
            self.get(id)?.intake.complainant.id.clone(),
        ))
    }

    fn local(&self, t: plaint::Timestamp) -> String {
        t.with_timezone(&self.zone)
            .format("%a %m-%d %H:%M")
            .to_string()
    }

    fn next_id(&mut self) -> CommandId {
        self.seq += 1;
        CommandId::new(format!("cmd-{:04}", self.seq)).expect("a valid id")
    }

    /// Prints every complaint's timeline in local time, then the notifications (with the
    /// text of those that have one, as the notifier received it).
    pub fn print(&self) -> Res<()> {
        for id in &self.ids {
            let c = self.engine.get(id)?.ok_or("missing")?;
            println!(
                "\n== {id} ({}) — {:?}",
                c.tier.as_ref().map_or("untriaged", |t| t.as_str()),
                c.stage
            );
            for r in self.engine.history(id)? {
                println!(
                    "  {}  {:<34} {}",
                    self.local(r.at),
                    r.who(),
                    r.event.display_in(self.zone)
                );
            }
        }
        self.engine.relay()?;
        let delivered = self.notes.delivered();
        println!("\nnotifications: {}", delivered.len());
        for n in delivered {
            if let Some(text) = &n.text {
                println!("  {}: {text}", n.id);
            }
        }
        Ok(())
    }

    /// What the scenario ended with.
    pub fn summary(&self) -> Res<Summary> {
        self.engine.relay()?;
        let mut s = Summary {
            refused: self.refused,
            fired: self.fired,
            texts: Texts(
                self.notes
                    .delivered()
                    .into_iter()
                    .filter_map(|n| Some((n.id.to_string(), n.text?.to_string())))
                    .collect(),
            ),
            ..Summary::default()
        };
        for id in &self.ids {
            let c = self.engine.get(id)?.ok_or("missing")?;
            s.stages
                .insert(id.to_string(), c.stage.kind().name().to_owned());
            s.breached += usize::from(c.clocks.iter().any(|k| k.breached));
            s.in_ledger += usize::from(c.in_ledger);
            s.reopened += usize::from(c.reopened > 0);
            s.renegotiated += usize::from(c.negotiation_rounds() > 1);
        }
        Ok(s)
    }
}

/// A staff member with one role.
pub fn staff(id: &str, role: &str) -> Actor {
    Actor::staff(
        ActorId::new(id).expect("id"),
        vec![RoleKey::new(role).expect("role")],
        None,
    )
}

/// An intake from complainant `who` on `channel` (its time is set on receipt).
pub fn intake(who: &str, name: &str, phone: &str, channel: &str, description: &str) -> Intake {
    Intake {
        complainant: Complainant {
            id: ActorId::new(who).expect("id"),
            name: name.into(),
            contacts: vec![Contact::Phone(phone.into())],
        },
        channel: channel.try_into().expect("channel"),
        received_at: chrono::Utc::now(),
        subject: Subject::default(),
        description: description.into(),
        evidence: vec![],
        requested_remedy: None,
        staff_involved: vec![],
        flags: Default::default(),
        people_affected: None,
    }
}

/// Fails the scenario unless `cond`.
pub fn expect(cond: bool, what: &str) -> Res<()> {
    if cond {
        Ok(())
    } else {
        Err(format!("unexpected: {what} is false").into())
    }
}

/// Whether a complaint is closed in the given way, for summaries.
pub fn closed(c: &Complaint) -> bool {
    c.stage.kind() == StageKind::Closed
}

/// Short builders for the commands scenarios give most.
pub mod cmd {
    use super::Res;
    use plaint::{CategoryPath, Command, Findings, Money, Satisfaction, Validity};

    /// A satisfaction answer.
    pub fn happy(satisfied: bool, score: u8) -> Satisfaction {
        Satisfaction {
            satisfied,
            score: Some(score),
            comment: None,
        }
    }

    /// Valid, in `category`, tier by the policy's rules.
    pub fn triage(category: &str) -> Res<Command> {
        Ok(Command::Triage {
            category: CategoryPath::parse(category)?,
            tier: None,
            validity: Validity::Valid,
        })
    }

    /// Route by the policy's routing rules.
    pub fn route() -> Command {
        Command::Route {
            responsibility: None,
        }
    }

    /// Findings without a root cause.
    pub fn findings(text: &str) -> Command {
        Command::RecordFindings {
            findings: Findings {
                summary: text.into(),
                records: vec![],
            },
            root_cause: None,
        }
    }

    /// Findings with the root-cause category.
    pub fn findings_root(text: &str, root: &str) -> Res<Command> {
        Ok(Command::RecordFindings {
            findings: Findings {
                summary: text.into(),
                records: vec![],
            },
            root_cause: Some(CategoryPath::parse(root)?),
        })
    }

    /// A proposal.
    pub fn propose(remedy: &str, text: &str, amount: Option<Money>) -> Res<Command> {
        Ok(Command::Propose {
            remedy: remedy.try_into()?,
            description: text.into(),
            amount,
        })
    }

    /// Execution finished.
    pub fn done(text: &str) -> Command {
        Command::RecordExecution {
            action: text.into(),
            reference: None,
            finished: true,
        }
    }

    /// Feedback to the complainant.
    pub fn feedback(text: &str) -> Command {
        Command::GiveFeedback { text: text.into() }
    }
}
