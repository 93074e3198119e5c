//! Building a report in one pass over the complaints: `ReportBuilder` takes them one at a
//! time (with their history when it asks for it) and keeps only per-group counters.

use crate::Period;
use crate::quantiles::Minutes;
use crate::report::{
    Compliance, ConsultationCounts, Day, DepartmentScore, LedgerEntry, Recurring, Repeats, Report,
    SatisfactionCounts, ValidityCounts,
};
use chrono::NaiveDate;
use chrono_tz::Tz;
use plaint_core::sla::ClockOutcome;
use plaint_core::{
    Complaint, Event, ListQuery, Policy, Recorded, StageKind, Store, StoreError, Timestamp,
    Validity,
};
use std::collections::{BTreeMap, HashMap};

/// Folds complaints into a [`Report`]. Memory grows with the number of groups (categories,
/// departments, clocks, days, distinct minutes of duration) and, for repeat detection, with
/// one small key per complaint received within the repeat window before or in the period —
/// not with the complaints' histories.
///
/// ```
/// use plaint_report::{Period, ReportBuilder};
/// let policy = plaint_core::testing::policy();
/// let mut b = ReportBuilder::new(&policy, Period::month(2026, 11).unwrap());
/// let c = plaint_core::testing::received();
/// let history = [];
/// b.add(&c, if b.wants_history(&c) { &history[..] } else { &[] });
/// assert_eq!(b.finish().received, 1);
/// ```
pub struct ReportBuilder<'p> {
    policy: &'p Policy,
    zone: Tz,
    period: Period,
    previous: Period,
    /// The period's end, for open pauses.
    end: Timestamp,
    received: u64,
    consultations: ConsultationCounts,
    validity: ValidityCounts,
    stages: BTreeMap<String, u64>,
    categories: BTreeMap<String, u64>,
    leaves: BTreeMap<String, (u64, u64)>,
    departments: BTreeMap<String, u64>,
    tiers: BTreeMap<String, u64>,
    channels: BTreeMap<String, u64>,
    actions: BTreeMap<String, u64>,
    compliance: BTreeMap<(String, String), Compliance>,
    /// How long stopped cycles ran, per compliance row.
    handling: BTreeMap<(String, String), Minutes>,
    first_response: Minutes,
    resolution: Minutes,
    satisfaction: SatisfactionCounts,
    score_sum: u64,
    /// Repeat keys (complainant or order) → receipt instants with the complaint id, when in
    /// the period.
    seen: HashMap<String, Vec<(Timestamp, Option<String>)>>,
    scores: BTreeMap<String, DepartmentScore>,
    ledger: Vec<LedgerEntry>,
    daily: BTreeMap<NaiveDate, (u64, u64)>,
}

impl<'p> ReportBuilder<'p> {
    /// A builder for `period` under `policy` (its first calendar's time zone, UTC without one).
    pub fn new(policy: &'p Policy, period: Period) -> Self {
        let zone = policy.time_zone();
        let (_, end) = period.instants(zone);
        let daily = (0..period.days())
            .map(|d| (period.from + chrono::Days::new(d), (0, 0)))
            .collect();
        Self {
            policy,
            zone,
            period,
            previous: period.previous(),
            end,
            received: 0,
            consultations: ConsultationCounts::default(),
            validity: ValidityCounts::default(),
            stages: BTreeMap::new(),
            categories: BTreeMap::new(),
            leaves: BTreeMap::new(),
            departments: BTreeMap::new(),
            tiers: BTreeMap::new(),
            channels: BTreeMap::new(),
            actions: BTreeMap::new(),
            compliance: BTreeMap::new(),
            handling: BTreeMap::new(),
            first_response: Minutes::default(),
            resolution: Minutes::default(),
            satisfaction: SatisfactionCounts::default(),
            score_sum: 0,
            seen: HashMap::new(),
            scores: BTreeMap::new(),
            ledger: Vec::new(),
            daily,
        }
    }

    fn date(&self, t: Timestamp) -> NaiveDate {
        t.with_timezone(&self.zone).date_naive()
    }

    fn received_in_period(&self, c: &Complaint) -> bool {
        self.period.contains(self.date(c.intake.received_at))
    }

    /// Whether [`ReportBuilder::add`] needs this complaint's history: when it was received in
    /// the period, or may have ledger entries in it.
    pub fn wants_history(&self, c: &Complaint) -> bool {
        (self.received_in_period(c) && c.stage.kind() != StageKind::Consultation)
            || (c.in_ledger && self.date(c.updated_at) >= self.period.from)
    }

    /// Adds one complaint: its state, and its history if [`ReportBuilder::wants_history`]
    /// said so (otherwise pass an empty slice).
    pub fn add(&mut self, c: &Complaint, history: &[Recorded]) {
        let received = self.date(c.intake.received_at);
        // A consultation is no complaint: counted apart, and nothing else.
        if c.stage.kind() == StageKind::Consultation {
            self.consultations.answered += u64::from(self.period.contains(received));
            return;
        }
        if let Some(closed) = c.closed_at.filter(|_| c.stage.kind() == StageKind::Closed)
            && let Some(day) = self.daily.get_mut(&self.date(closed))
        {
            day.1 += 1;
        }
        self.ledger_entries(c, history);
        let window = chrono::Days::new(u64::from(self.policy.reports.repeat_window_days));
        let in_period = self.period.contains(received);
        if in_period || (received >= self.period.from - window && received < self.period.to) {
            let id = in_period.then(|| c.id.to_string());
            for key in repeat_keys(c) {
                self.seen
                    .entry(key)
                    .or_default()
                    .push((c.intake.received_at, id.clone()));
            }
        }
        if self.previous.contains(received)
            && let Some(cat) = &c.category
        {
            self.leaves.entry(cat.to_string()).or_default().1 += 1;
        }
        if !in_period {
            return;
        }
        self.received += 1;
        self.consultations.converted += u64::from(c.consultation.is_some());
        if let Some(day) = self.daily.get_mut(&received) {
            day.0 += 1;
        }
        match &c.validity {
            Some(Validity::Valid) => self.validity.valid += 1,
            Some(_) => self.validity.invalid += 1,
            None => self.validity.undecided += 1,
        }
        *self
            .stages
            .entry(c.stage.kind().name().to_owned())
            .or_default() += 1;
        if let Some(cat) = &c.category {
            let path = cat.to_string();
            let mut prefix = String::new();
            for part in path.split('/') {
                if !prefix.is_empty() {
                    prefix.push('/');
                }
                prefix.push_str(part);
                *self.categories.entry(prefix.clone()).or_default() += 1;
            }
            self.leaves.entry(path).or_default().0 += 1;
        }
        if let Some(r) = &c.responsibility {
            *self.departments.entry(r.primary.to_string()).or_default() += 1;
        }
        let tier = c
            .tier
            .as_ref()
            .map_or("untriaged", |t| t.as_str())
            .to_owned();
        if c.tier.is_some() {
            *self.tiers.entry(tier.clone()).or_default() += 1;
        }
        *self
            .channels
            .entry(c.intake.channel.to_string())
            .or_default() += 1;
        for a in &c.actions {
            // The policy's label now, so one action counts under one name; the label it was
            // recorded under for an action the policy no longer declares.
            let label = self
                .policy
                .action(&a.action)
                .and_then(|d| self.policy.label(&d.label))
                .unwrap_or(&a.label);
            *self.actions.entry(label.to_owned()).or_default() += 1;
        }
        if let Some(at) = c.acknowledged_at {
            self.first_response.add(at - c.intake.received_at);
        }
        if let Some(at) = c.closed_at.filter(|_| c.stage.kind() == StageKind::Closed) {
            self.resolution.add(at - c.intake.received_at);
        }
        self.satisfaction_of(c);
        let cycles = self.clocks(&tier, history);
        self.score(c, &cycles);
    }

    fn satisfaction_of(&mut self, c: &Complaint) {
        let s = &mut self.satisfaction;
        s.feedback_given += u64::from(c.feedback.is_some());
        if let Some(sat) = &c.satisfaction {
            if sat.satisfied {
                s.satisfied += 1;
            } else {
                s.unsatisfied += 1;
            }
        }
        if let Some(f) = &c.follow_up {
            if f.satisfaction.satisfied {
                s.follow_up_satisfied += 1;
            } else {
                s.follow_up_unsatisfied += 1;
            }
        }
        let scores = [
            c.satisfaction.as_ref(),
            c.follow_up.as_ref().map(|f| &f.satisfaction),
        ];
        for score in scores.into_iter().flatten().filter_map(|s| s.score) {
            s.scored += 1;
            self.score_sum += u64::from(score);
        }
    }

    /// Each clock cycle of the complaint, classified, into the compliance table; returns the
    /// cycles as (clock, breached, decided, met).
    fn clocks(&mut self, tier: &str, history: &[Recorded]) -> Vec<(String, bool, bool, bool)> {
        #[derive(Default)]
        struct Cycle {
            started: Option<Timestamp>,
            stopped: Option<Timestamp>,
            warned: bool,
            breached: bool,
            outcome: Option<ClockOutcome>,
            paused: i64,
            pause_start: Option<Timestamp>,
        }
        let mut cycles: BTreeMap<(String, u32), Cycle> = BTreeMap::new();
        for r in history {
            let (Event::ClockStarted { clock, cycle, .. }
            | Event::ClockWarned { clock, cycle, .. }
            | Event::ClockBreached { clock, cycle, .. }
            | Event::ClockStopped { clock, cycle, .. }
            | Event::ClockPaused { clock, cycle, .. }
            | Event::ClockResumed { clock, cycle, .. }) = &r.event
            else {
                continue;
            };
            let c = cycles.entry((clock.to_string(), *cycle)).or_default();
            match &r.event {
                Event::ClockStarted { at, .. } => c.started = Some(*at),
                Event::ClockWarned { .. } => c.warned = true,
                Event::ClockBreached { .. } => c.breached = true,
                Event::ClockStopped { outcome, .. } => {
                    c.outcome = Some(*outcome);
                    c.stopped = Some(r.at);
                }
                Event::ClockPaused { .. } => c.pause_start = Some(r.at),
                Event::ClockResumed { .. } => {
                    if let Some(from) = c.pause_start.take() {
                        c.paused += (r.at - from).num_seconds();
                    }
                }
                _ => {}
            }
        }
        let mut out = Vec::new();
        for ((clock, _), c) in cycles {
            let name = clock.clone();
            if let (Some(from), Some(to)) = (c.started, c.stopped) {
                self.handling
                    .entry((clock.clone(), tier.to_owned()))
                    .or_default()
                    .add(to - from - chrono::Duration::seconds(c.paused));
            }
            let row = self
                .compliance
                .entry((clock.clone(), tier.to_owned()))
                .or_insert_with(|| Compliance {
                    clock,
                    tier: tier.to_owned(),
                    ..Compliance::default()
                });
            row.cycles += 1;
            row.warned += u64::from(c.warned);
            let open = c
                .pause_start
                .map_or(0, |from| (self.end - from).num_seconds().max(0));
            row.paused_minutes += (c.paused + open) / 60;
            let breached = c.breached || c.outcome == Some(ClockOutcome::Breached);
            match (breached, c.outcome) {
                (true, _) => row.breached += 1,
                (false, Some(ClockOutcome::Early)) => row.early += 1,
                (false, Some(_)) => row.met += 1,
                (false, None) => row.running += 1,
            }
            let met = !breached && c.outcome == Some(ClockOutcome::Met);
            out.push((name, breached, breached || c.outcome.is_some(), met));
        }
        out
    }

    /// The complaint's points to its departments by share of responsibility: its tier's, each
    /// breach's (by clock) and its adjustments, split by share.
    fn score(&mut self, c: &Complaint, cycles: &[(String, bool, bool, bool)]) {
        let Some(r) = &c.responsibility else { return };
        let scoring = &self.policy.scoring;
        let breaches = cycles.iter().filter(|x| x.1).count() as u64;
        let decided = cycles.iter().filter(|x| x.2).count() as u64;
        let met = cycles.iter().filter(|x| x.3).count() as u64;
        let breach_points = cycles.iter().filter(|x| x.1).fold(0i64, |sum, x| {
            sum.saturating_add(scoring.breach_points(&x.0))
        });
        let points = scoring
            .complaint_points(c)
            .saturating_add(breach_points)
            .saturating_add(c.points_adjusted()) as f64;
        let primary_share = if r.collaborating.is_empty() {
            100.0
        } else {
            f64::from(scoring.primary_share.min(100))
        };
        let rest = (100.0 - primary_share) / r.collaborating.len().max(1) as f64;
        let shares = std::iter::once((&r.primary, primary_share))
            .chain(r.collaborating.iter().map(|d| (d, rest)));
        for (d, share) in shares {
            let s = self
                .scores
                .entry(d.to_string())
                .or_insert_with(|| DepartmentScore {
                    department: d.to_string(),
                    complaints: 0,
                    breaches: 0,
                    decided_cycles: 0,
                    met_cycles: 0,
                    points: 0.0,
                });
            s.complaints += 1;
            s.breaches += breaches;
            s.decided_cycles += decided;
            s.met_cycles += met;
            s.points += points * share / 100.0;
        }
    }

    fn ledger_entries(&mut self, c: &Complaint, history: &[Recorded]) {
        for r in history {
            if let Event::RungReached {
                clock,
                rung,
                ledger: true,
                ..
            } = &r.event
                && self.period.contains(self.date(r.at))
            {
                self.ledger.push(LedgerEntry {
                    complaint: c.id.to_string(),
                    at: r.at,
                    clock: clock.to_string(),
                    rung: *rung,
                    tier: c.tier.as_ref().map(|t| t.to_string()),
                    department: c.responsibility.as_ref().map(|r| r.primary.to_string()),
                });
            }
        }
    }

    /// The report.
    pub fn finish(self) -> Report {
        let window = i64::from(self.policy.reports.repeat_window_days);
        let mut repeats = Repeats {
            window_days: self.policy.reports.repeat_window_days,
            ..Repeats::default()
        };
        let mut repeat_ids = std::collections::BTreeSet::new();
        for (key, mut times) in self.seen {
            times.sort();
            for (i, (t, id)) in times.iter().enumerate() {
                let Some(id) = id else { continue };
                let earlier = times[..i]
                    .iter()
                    .any(|(e, _)| *t - *e <= chrono::Duration::days(window));
                if earlier {
                    if key.starts_with("who:") {
                        repeats.same_complainant += 1;
                    } else {
                        repeats.same_order += 1;
                    }
                    repeat_ids.insert(id.clone());
                }
            }
        }
        repeats.complaints = repeat_ids.into_iter().collect();
        let mut recurring: Vec<Recurring> = self
            .leaves
            .into_iter()
            .filter(|(_, (n, _))| *n > 0)
            .map(|(category, (count, previous))| Recurring {
                category,
                count,
                previous,
            })
            .collect();
        recurring.sort_by(|a, b| b.count.cmp(&a.count).then(a.category.cmp(&b.category)));
        recurring.truncate(self.policy.reports.top_categories as usize);
        let mut satisfaction = self.satisfaction;
        satisfaction.mean_score =
            (satisfaction.scored > 0).then(|| self.score_sum as f64 / satisfaction.scored as f64);
        let scores = self
            .scores
            .into_values()
            .map(|mut s| {
                s.points = (s.points * 100.0).round() / 100.0;
                s
            })
            .collect();
        let mut ledger = self.ledger;
        ledger.sort_by(|a, b| (a.at, &a.complaint).cmp(&(b.at, &b.complaint)));
        Report {
            policy: self.policy.id.clone(),
            period: self.period,
            zone: self.zone.name().to_owned(),
            received: self.received,
            consultations: self.consultations,
            validity: self.validity,
            stages: self.stages,
            categories: self.categories,
            departments: self.departments,
            tiers: self.tiers,
            channels: self.channels,
            actions: self.actions,
            compliance: {
                let handling = self.handling;
                self.compliance
                    .into_iter()
                    .map(|(key, mut row)| {
                        if let Some(m) = handling.get(&key) {
                            row.handling = m.summary();
                        }
                        row
                    })
                    .collect()
            },
            first_response: self.first_response.summary(),
            resolution: self.resolution.summary(),
            satisfaction,
            repeats,
            recurring,
            scores,
            ledger,
            daily: self
                .daily
                .into_iter()
                .map(|(date, (received, closed))| Day {
                    date,
                    received,
                    closed,
                })
                .collect(),
        }
    }
}

/// What makes a later complaint a repeat of this one: its complainant, its order or waybill.
fn repeat_keys(c: &Complaint) -> Vec<String> {
    let s = &c.intake.subject;
    let mut keys = vec![format!("who:{}", c.intake.complainant.id)];
    keys.extend(s.order.iter().map(|o| format!("order:{o}")));
    keys.extend(s.waybill.iter().map(|w| format!("order:{w}")));
    keys
}

impl Report {
    /// The report for `period` over every complaint in `store`, under `policy`: one pass,
    /// a page of complaints at a time, loading a history only when the report needs it.
    /// Sync code waits for it with `plaint_core::blocking::block_on`.
    ///
    /// # Errors
    /// A store error.
    pub async fn from_store<S: Store + ?Sized>(
        store: &S,
        policy: &Policy,
        period: Period,
    ) -> Result<Self, StoreError> {
        let mut b = ReportBuilder::new(policy, period);
        let mut query = ListQuery::new().limit(ListQuery::MAX_LIMIT);
        loop {
            let page = store.list(&query).await?;
            for c in &page.items {
                if b.wants_history(c) {
                    b.add(c, &store.history(&c.id).await?);
                } else {
                    b.add(c, &[]);
                }
            }
            match page.next {
                Some(next) => query = query.after(next),
                None => return Ok(b.finish()),
            }
        }
    }
}
