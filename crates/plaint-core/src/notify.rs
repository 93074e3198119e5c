//! The notification port: what the engine tells people, the `Notifier` trait, and test notifiers.

use crate::id::{ClockKey, ComplaintId, DepartmentKey, RoleKey};
use crate::lifecycle::{Event, Next, Recorded};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};

pub(crate) mod template;
pub(crate) mod values;

/// One message to deliver. `id` is stable, so a receiver can drop duplicates.
///
/// Its text may hold the complainant's phone or email (for a recipient allowed to see them),
/// so `Debug` shows only the text's length: a notifier that logs `{n:?}` logs no personal
/// data.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// Stable id for deduplication.
    pub id: NotificationId,
    /// The complaint it is about.
    pub complaint: ComplaintId,
    /// Who is told.
    pub recipient: Recipient,
    /// What they are told.
    pub kind: NotificationKind,
    /// How it reaches them.
    pub channel: Channel,
    /// The message, rendered from the text of the policy's notification rule (in the policy's
    /// locale) when the command that caused it was decided, so every delivery reads the same;
    /// `None` when the rule has no text (the notifier composes its own). Outbox entries
    /// written by plaint 0.1.0 have `None` too: the relay renders those from the history.
    #[serde(default)]
    pub text: Option<crate::Text>,
}

impl std::fmt::Debug for Notification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        /// Stands for a text in `Debug` output: its length, never its content.
        struct Withheld(usize);
        impl std::fmt::Debug for Withheld {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                write!(f, "<{} characters withheld>", self.0)
            }
        }
        f.debug_struct("Notification")
            .field("id", &self.id)
            .field("complaint", &self.complaint)
            .field("recipient", &self.recipient)
            .field("kind", &self.kind)
            .field("channel", &self.channel)
            .field(
                "text",
                &self.text.as_ref().map(|t| Withheld(t.chars().count())),
            )
            .finish()
    }
}

/// A notification's stable id: the event that caused it, what it says, to whom and how.
/// Displays as `<complaint>/<version>/<kind>/<recipient>/<channel>`, e.g.
/// `EXP-1/2/acknowledged/complainant/sms`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct NotificationId {
    /// The complaint.
    pub complaint: ComplaintId,
    /// The version of the event that caused it.
    pub version: u64,
    /// What it says.
    pub kind: NotificationKind,
    /// Who is told.
    pub recipient: Recipient,
    /// How.
    pub channel: Channel,
}

impl std::fmt::Display for NotificationId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/{}/{}/",
            self.complaint,
            self.version,
            self.kind.name()
        )?;
        match &self.recipient {
            Recipient::Complainant => f.write_str("complainant"),
            Recipient::Department { department } => write!(f, "department:{department}"),
            Recipient::Approvers => f.write_str("approvers"),
            Recipient::Responsible => f.write_str("responsible"),
            Recipient::Role { role } => write!(f, "role:{role}"),
        }?;
        write!(f, "/{}", self.channel.name())
    }
}

/// How a notification reaches its recipient.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Channel {
    /// A text message to the complainant's phone.
    Sms,
    /// An email.
    Email,
    /// A task for staff to phone the complainant back.
    Callback,
    /// A message in the staff's (or the customer's) application.
    InApp,
}

impl Channel {
    /// The snake_case name used in notification ids and policies.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sms => "sms",
            Self::Email => "email",
            Self::Callback => "callback",
            Self::InApp => "in_app",
        }
    }

    /// The channel a recipient gets when the policy names none: SMS for the complainant,
    /// in-app for staff.
    pub fn default_for(recipient: &Recipient) -> Self {
        match recipient {
            Recipient::Complainant => Self::Sms,
            _ => Self::InApp,
        }
    }
}

/// Who a policy's notification rule tells, as written in the policy: `complainant`,
/// `responsible` (the department responsible), `approvers`, `named` (the role the clock rule
/// names: a breach's or a rung's `notify`, the on-duty role), `role:<key>` or
/// `department:<key>`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[non_exhaustive]
pub enum Audience {
    /// The complainant.
    Complainant,
    /// The department responsible for the complaint.
    Responsible,
    /// Whoever may approve the proposal.
    Approvers,
    /// The role the event names (clock breach, escalation rung, on-duty alert).
    Named,
    /// Everyone holding this role.
    Role(RoleKey),
    /// This department's queue.
    Department(DepartmentKey),
}

impl TryFrom<String> for Audience {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Ok(match s.as_str() {
            "complainant" => Self::Complainant,
            "responsible" => Self::Responsible,
            "approvers" => Self::Approvers,
            "named" => Self::Named,
            _ => match s.split_once(':') {
                Some(("role", k)) => Self::Role(RoleKey::new(k).map_err(|e| e.to_string())?),
                Some(("department", k)) => {
                    Self::Department(DepartmentKey::new(k).map_err(|e| e.to_string())?)
                }
                _ => {
                    return Err(format!(
                        "unknown audience \"{s}\": use complainant, responsible, approvers, \
                         named, role:<key> or department:<key>"
                    ));
                }
            },
        })
    }
}

impl From<Audience> for String {
    fn from(a: Audience) -> String {
        match a {
            Audience::Complainant => "complainant".into(),
            Audience::Responsible => "responsible".into(),
            Audience::Approvers => "approvers".into(),
            Audience::Named => "named".into(),
            Audience::Role(r) => format!("role:{r}"),
            Audience::Department(d) => format!("department:{d}"),
        }
    }
}

impl schemars::JsonSchema for Audience {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Audience".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^(complainant|responsible|approvers|named|role:.+|department:.+)$",
            "description": "complainant, responsible, approvers, named, role:<key> or department:<key>"
        })
    }
}

impl Audience {
    /// The recipient this audience means for one moment: `named` is the event's role (none if
    /// it names none), `responsible` the department the event routes to, when it routes.
    fn resolve(&self, m: &Moment) -> Option<Recipient> {
        Some(match self {
            Self::Complainant => Recipient::Complainant,
            Self::Responsible => match &m.department {
                Some(d) => Recipient::Department {
                    department: d.clone(),
                },
                None => Recipient::Responsible,
            },
            Self::Approvers => Recipient::Approvers,
            Self::Named => Recipient::Role {
                role: m.named.clone()?,
            },
            Self::Role(role) => Recipient::Role { role: role.clone() },
            Self::Department(d) => Recipient::Department {
                department: d.clone(),
            },
        })
    }

    /// Whether this audience may have produced a notification to `r`.
    pub fn covers(&self, r: &Recipient) -> bool {
        match (self, r) {
            (Self::Complainant, Recipient::Complainant)
            | (Self::Approvers, Recipient::Approvers)
            | (Self::Responsible, Recipient::Responsible | Recipient::Department { .. })
            | (Self::Named, Recipient::Role { .. }) => true,
            (Self::Role(a), Recipient::Role { role }) => a == role,
            (Self::Department(a), Recipient::Department { department }) => a == department,
            _ => false,
        }
    }
}

/// Who a notification is for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "to", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Recipient {
    /// The complainant, through their contacts.
    Complainant,
    /// A department's queue.
    Department {
        /// Which one.
        department: DepartmentKey,
    },
    /// Whoever may approve proposals.
    Approvers,
    /// The department responsible for the complaint (or the receiver, before routing).
    Responsible,
    /// Everyone holding a role (a manager, the on-duty officer).
    Role {
        /// The role.
        role: RoleKey,
    },
}

/// The moment a notification is about. The engine decides the moment from the events; the
/// policy's `notifications` rules decide who hears of it, how, and in which words.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum NotificationKind {
    /// The complaint was received.
    Acknowledged,
    /// The complaint was triaged (category, tier and validity set): a desk can be told, as in
    /// `on = "triaged"`, `to = ["department:food-safety"]`, `when = { category =
    /// "food-safety" }`. Nobody is told by default.
    Triaged,
    /// The department is responsible now.
    Assigned,
    /// A proposal waits for approval.
    ApprovalRequested,
    /// A proposal waits for the complainant's answer.
    ProposalOffered,
    /// The result was given; confirm satisfaction.
    ResultGiven,
    /// The complaint was closed.
    Closed,
    /// A time limit is close.
    ClockWarning,
    /// A time limit was missed.
    ClockBreach,
    /// An escalation rung was reached.
    Escalation,
    /// An urgent complaint arrived after hours.
    OnDuty,
    /// A clock whose target is "at once" started: its role is alerted.
    AtOnce,
    /// One of the policy's actions was recorded (a rule names it: `on = "action:callback"`).
    ActionRecorded,
}

impl NotificationKind {
    /// The snake_case name used in notification ids and policies.
    pub fn name(self) -> &'static str {
        match self {
            Self::Acknowledged => "acknowledged",
            Self::Triaged => "triaged",
            Self::Assigned => "assigned",
            Self::ApprovalRequested => "approval_requested",
            Self::ProposalOffered => "proposal_offered",
            Self::ResultGiven => "result_given",
            Self::Closed => "closed",
            Self::ClockWarning => "clock_warning",
            Self::ClockBreach => "clock_breach",
            Self::Escalation => "escalation",
            Self::OnDuty => "on_duty",
            Self::AtOnce => "at_once",
            Self::ActionRecorded => "action_recorded",
        }
    }
}

/// The moment a notification rule reacts to, written as a string: a moment's name
/// (`"result_given"`, `"clock_breach"`, …; `"action_recorded"`: any action), or
/// `"action:<key>"`: the policy's action `<key>` was recorded — as a clock's `start_on` names
/// an action.
///
/// ```toml
/// [[notifications]]
/// on = "action:progress-report"
/// to = ["role:service-manager"]
/// text = { en = "Progress on {complaint} was reported to the desk" }
/// ```
///
/// ```
/// use plaint_core::notify::{NotificationKind, On};
/// let on: On = "action:callback".parse().unwrap();
/// assert_eq!(on.kind, NotificationKind::ActionRecorded);
/// assert_eq!(on.action.unwrap().as_str(), "callback");
/// assert_eq!("result_given".parse::<On>().unwrap(), NotificationKind::ResultGiven);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct On {
    /// The moment.
    pub kind: NotificationKind,
    /// For [`NotificationKind::ActionRecorded`], the one action the rule is about (`None`: any).
    pub action: Option<crate::ActionKey>,
}

impl On {
    /// The text the rule is written as.
    pub fn name(&self) -> String {
        self.to_string()
    }

    /// Whether the rule reacts to a moment of `kind` about `action`.
    pub fn covers(&self, kind: NotificationKind, action: Option<&crate::ActionKey>) -> bool {
        self.kind == kind && self.action.as_ref().is_none_or(|want| action == Some(want))
    }
}

impl From<NotificationKind> for On {
    fn from(kind: NotificationKind) -> Self {
        Self { kind, action: None }
    }
}

impl PartialEq<NotificationKind> for On {
    fn eq(&self, kind: &NotificationKind) -> bool {
        self.kind == *kind && self.action.is_none()
    }
}

impl std::str::FromStr for On {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        use serde::Deserialize as _;
        use serde::de::IntoDeserializer;
        if let Some(key) = s.strip_prefix("action:") {
            return crate::ActionKey::new(key)
                .map(|k| Self {
                    kind: NotificationKind::ActionRecorded,
                    action: Some(k),
                })
                .map_err(|e| format!("action \"{key}\": {e}"));
        }
        let de: serde::de::value::StrDeserializer<'_, serde::de::value::Error> =
            s.into_deserializer();
        NotificationKind::deserialize(de)
            .map(Self::from)
            .map_err(|e| format!("{e}, or action:<key>"))
    }
}

impl TryFrom<String> for On {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<On> for String {
    fn from(on: On) -> String {
        on.to_string()
    }
}

impl std::fmt::Display for On {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.action {
            Some(key) => write!(f, "action:{key}"),
            None => f.write_str(self.kind.name()),
        }
    }
}

impl schemars::JsonSchema for On {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "On".into()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let kinds = generator.subschema_for::<NotificationKind>();
        schemars::json_schema!({
            "description": "A moment's name, or action:<key> (that action was recorded).",
            "anyOf": [
                kinds,
                { "type": "string", "pattern": "^action:[A-Za-z0-9._:/-]{1,64}$" }
            ]
        })
    }
}

/// A moment an event calls for telling someone: what, who by default, the department and
/// role the event itself names, and for a clock moment the clock and (a breach) the instant
/// it was due.
struct Moment {
    kind: NotificationKind,
    defaults: Vec<Recipient>,
    department: Option<DepartmentKey>,
    named: Option<RoleKey>,
    clock: Option<ClockKey>,
    due: Option<crate::Timestamp>,
    action: Option<crate::ActionKey>,
}

impl Moment {
    fn new(kind: NotificationKind, defaults: Vec<Recipient>) -> Self {
        Self {
            kind,
            defaults,
            department: None,
            named: None,
            clock: None,
            due: None,
            action: None,
        }
    }

    /// This moment, about `clock`.
    fn about(self, clock: &ClockKey, due: Option<crate::Timestamp>) -> Self {
        Self {
            clock: Some(clock.clone()),
            due,
            ..self
        }
    }
}

/// The moments an event calls for.
fn moments(event: &Event) -> Vec<Moment> {
    use NotificationKind as K;
    let role = |role: &RoleKey| Recipient::Role { role: role.clone() };
    let named = |kind, defaults, r: &RoleKey| Moment {
        named: Some(r.clone()),
        ..Moment::new(kind, defaults)
    };
    match event {
        Event::Acknowledged => vec![Moment::new(K::Acknowledged, vec![Recipient::Complainant])],
        Event::Triaged { .. } => vec![Moment::new(K::Triaged, vec![])],
        Event::Routed { responsibility } | Event::Reassigned { responsibility, .. } => {
            let d = responsibility.primary.clone();
            vec![Moment {
                department: Some(d.clone()),
                ..Moment::new(K::Assigned, vec![Recipient::Department { department: d }])
            }]
        }
        Event::RemedyProposed { next, .. } | Event::ApprovalGranted { next, .. } => match next {
            Next::Approval => vec![Moment::new(
                K::ApprovalRequested,
                vec![Recipient::Approvers],
            )],
            Next::Agreement => vec![Moment::new(
                K::ProposalOffered,
                vec![Recipient::Complainant],
            )],
            Next::Execution => vec![],
        },
        Event::FeedbackGiven { .. } => {
            vec![Moment::new(K::ResultGiven, vec![Recipient::Complainant])]
        }
        Event::Closed { .. } => vec![Moment::new(K::Closed, vec![Recipient::Complainant])],
        Event::ClockWarned { clock, .. } => {
            vec![Moment::new(K::ClockWarning, vec![Recipient::Responsible]).about(clock, None)]
        }
        Event::ClockBreached {
            clock, due, notify, ..
        } => {
            let mut defaults = vec![Recipient::Responsible];
            defaults.extend(notify.iter().map(role));
            vec![
                Moment {
                    named: notify.clone(),
                    ..Moment::new(K::ClockBreach, defaults)
                }
                .about(clock, Some(*due)),
            ]
        }
        Event::RungReached {
            clock,
            notify: Some(r),
            ..
        } => vec![named(K::Escalation, vec![role(r)], r).about(clock, None)],
        Event::OnDutyAlerted { clock, role: r } => {
            vec![named(K::OnDuty, vec![role(r)], r).about(clock, None)]
        }
        Event::AlertedAtOnce { clock, role: r } => {
            vec![named(K::AtOnce, vec![role(r)], r).about(clock, None)]
        }
        // Only a policy rule tells anyone of an action: it has no built-in recipients.
        Event::ActionRecorded { action, .. } => vec![Moment {
            action: Some(action.clone()),
            ..Moment::new(K::ActionRecorded, Vec::new())
        }],
        _ => vec![],
    }
}

/// The notifications a command's events on complaint `id` call for under `policy`: its
/// `notifications` rules (who, by which channel) when it has any, else the built-in ones
/// (each moment's natural recipients, by [`Channel::default_for`]).
///
/// A rule with a `when` tells its audiences only when its condition holds for the complaint
/// as the command that caused the moment left it; each notification whose rule has a text
/// gets it now, rendered from that same complaint: `before` (the state the command was
/// decided on; `None` for a receipt) with the command's events folded on. When several rules
/// would tell the same recipient the same moment by the same channel, one notification goes
/// out, with the text of the first of them that has one. Rendering when the command is decided
/// is what makes a text describe its moment: a relay that runs late, or delivers again after
/// a failure, sends the same words. It costs a copy of the complaint and the rendering, and
/// only for commands that notify someone by a rule with a text or a condition: an engine
/// without a notifier never calls this, and one whose rules have neither never copies. The alternative, replaying
/// the history at relay time, would cost a history read per delivery; the relay does that
/// only for entries written by 0.1.0 ([`text_from_history`]).
///
/// `events` may span several commands (a whole history): each is rendered as of the end of
/// its own command.
pub fn notifications_for(
    id: &ComplaintId,
    before: Option<&crate::Complaint>,
    events: &[Recorded],
    policy: &crate::Policy,
) -> Vec<Notification> {
    let mut found: Vec<Found> = Vec::new();
    for (at, r) in events.iter().enumerate() {
        for m in moments(&r.event) {
            let mut push = |recipient: Recipient, channel, rule: Option<usize>| {
                let nid = NotificationId {
                    complaint: id.clone(),
                    version: r.version,
                    kind: m.kind,
                    recipient: recipient.clone(),
                    channel,
                };
                found.push(Found {
                    n: Notification {
                        id: nid,
                        complaint: id.clone(),
                        recipient,
                        kind: m.kind,
                        channel,
                        text: None,
                    },
                    at,
                    rule,
                    clock: m.clock.clone(),
                    deadline: m.due,
                    holds: true,
                });
            };
            if policy.notifications.is_empty() {
                for rec in &m.defaults {
                    push(rec.clone(), Channel::default_for(rec), None);
                }
                continue;
            }
            for (i, rule) in policy.notifications.iter().enumerate() {
                if !rule.on.covers(m.kind, m.action.as_ref()) {
                    continue;
                }
                for rec in rule.to.iter().filter_map(|a| a.resolve(&m)) {
                    let channel = rule.channel.unwrap_or_else(|| Channel::default_for(&rec));
                    push(rec, channel, Some(i));
                }
            }
        }
    }
    let rule = |f: &Found| f.rule.and_then(|i| policy.notifications.get(i));
    if found
        .iter()
        .filter_map(rule)
        .any(|r| r.when.is_some() || !r.text.is_empty())
    {
        decide_and_write(&mut found, id, before, events, policy);
    }
    // The first rule that holds makes the notification; its text is the first text among the
    // rules that hold for it.
    let mut out: Vec<Notification> = Vec::new();
    for f in found.into_iter().filter(|f| f.holds) {
        match out.iter_mut().find(|n| n.id == f.n.id) {
            Some(n) => {
                if n.text.is_none() {
                    n.text = f.n.text;
                }
            }
            None => out.push(f.n),
        }
    }
    out
}

/// A notification being derived: the index of its event, the rule that made it (none for a
/// built-in one), the clock its moment is about with that clock's deadline at the moment,
/// once known, and whether the rule's condition holds.
struct Found {
    n: Notification,
    at: usize,
    rule: Option<usize>,
    clock: Option<ClockKey>,
    deadline: Option<crate::Timestamp>,
    holds: bool,
}

/// Folds `events` onto `before` one command at a time and, from the complaint as each command
/// left it, decides the conditions of the rules that made the notifications the command
/// caused and renders their texts. A clock moment's deadline is taken just before its event
/// (a warning's clock may be re-projected later in the same tick); a breach carries its own.
fn decide_and_write(
    found: &mut [Found],
    id: &ComplaintId,
    before: Option<&crate::Complaint>,
    events: &[Recorded],
    policy: &crate::Policy,
) {
    let mut state: Option<crate::Complaint> = before.cloned();
    let mut start = 0;
    while start < events.len() {
        let end = Recorded::command_span(events, start).end;
        for (i, r) in events.iter().enumerate().take(end).skip(start) {
            if let Some(c) = &state {
                for f in found
                    .iter_mut()
                    .filter(|f| f.at == i && f.deadline.is_none())
                {
                    if let Some(clock) = &f.clock
                        && !matches!(
                            r.event,
                            Event::OnDutyAlerted { .. } | Event::AlertedAtOnce { .. }
                        )
                    {
                        f.deadline = running_deadline(c, clock.as_str());
                    }
                }
            }
            match &mut state {
                Some(c) => c.apply(r),
                None => state = crate::Complaint::open(id.clone(), r),
            }
        }
        if let Some(c) = &state {
            let facts = crate::policy::Facts::of(c);
            for f in found.iter_mut().filter(|f| (start..end).contains(&f.at)) {
                let Some(rule) = f.rule.and_then(|i| policy.notifications.get(i)) else {
                    continue;
                };
                f.holds = rule.when.as_ref().is_none_or(|w| w.holds(&facts));
                let text = rule
                    .text
                    .get(&policy.locale)
                    .or_else(|| rule.text.values().next());
                if let (true, Some(template)) = (f.holds, text) {
                    let at = Occasion {
                        complaint: c,
                        clock: f.clock.as_ref(),
                        deadline: f.deadline,
                    };
                    f.n.text = Some(render(template, &f.n, &at, policy).into());
                }
            }
        }
        start = end;
    }
}

/// The text of notification `n` as the command that caused it left its complaint, from the
/// complaint's `history`: how the relay renders an outbox entry written without its text (by
/// plaint 0.1.0, which rendered when delivering). `None` when the history lacks the event or
/// the policy gives the notification no text.
pub fn text_from_history(
    n: &Notification,
    history: &[Recorded],
    policy: &crate::Policy,
) -> Option<crate::Text> {
    let at = history.iter().position(|r| r.version == n.id.version)?;
    let span = Recorded::command_span(history, at);
    let before = crate::Complaint::replay(n.complaint.clone(), &history[..span.start]);
    notifications_for(&n.complaint, before.as_ref(), &history[span], policy)
        .into_iter()
        .find(|m| m.id == n.id)?
        .text
}

/// Delivers notifications (SMS, email, a queue…). It may be slow or fail.
///
/// `deliver` is `async` (it returns a `Send` future), so an SMS gateway's or a mail server's
/// async client is awaited as it is, on whatever runtime the relay runs; a notifier with
/// nothing to wait for writes an `async fn` that never awaits. Behind `dyn` (several kinds
/// in one [`FanOut`]), a notifier is a [`DynNotifier`].
pub trait Notifier: Send + Sync {
    /// Delivers one notification.
    ///
    /// # Errors
    /// [`NotifyError`] when it could not be delivered.
    fn deliver(
        &self,
        notification: &Notification,
    ) -> impl Future<Output = Result<(), NotifyError>> + Send;

    /// Whether this notifier delivers anything at all; the engine skips deriving
    /// notifications for one that does not.
    fn is_enabled(&self) -> bool {
        true
    }
}

impl<T: Notifier + ?Sized> Notifier for Arc<T> {
    fn deliver(
        &self,
        notification: &Notification,
    ) -> impl Future<Output = Result<(), NotifyError>> + Send {
        (**self).deliver(notification)
    }
    fn is_enabled(&self) -> bool {
        (**self).is_enabled()
    }
}

/// The future a [`DynNotifier`] delivers with.
pub type Delivery<'a> =
    std::pin::Pin<Box<dyn Future<Output = Result<(), NotifyError>> + Send + 'a>>;

/// A [`Notifier`] that can live behind `dyn` (its future boxed): every notifier is one.
pub trait DynNotifier: Send + Sync {
    /// [`Notifier::deliver`], boxed.
    fn deliver_boxed<'a>(&'a self, notification: &'a Notification) -> Delivery<'a>;
    /// [`Notifier::is_enabled`].
    fn enabled(&self) -> bool;
}

impl<N: Notifier> DynNotifier for N {
    fn deliver_boxed<'a>(&'a self, notification: &'a Notification) -> Delivery<'a> {
        Box::pin(self.deliver(notification))
    }
    fn enabled(&self) -> bool {
        self.is_enabled()
    }
}

/// Why a notification was not delivered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NotifyError {
    /// Delivery failed; trying again may work.
    #[error("delivery failed: {0}")]
    Failed(String),
}

/// What a notification's text may tell: the complaint as the command that caused the
/// notification left it and, for a clock moment (warning, breach, escalation, on-duty
/// alert), the clock it is about and that clock's deadline at the moment.
#[derive(Debug, Clone, Copy)]
pub struct Occasion<'a> {
    /// The complaint right after the command that caused the notification.
    pub complaint: &'a crate::Complaint,
    /// The clock a clock moment is about.
    pub clock: Option<&'a ClockKey>,
    /// That clock's deadline at the moment (a breach's: the instant it was due); when `None`,
    /// the clock's running deadline in `complaint`.
    pub deadline: Option<crate::Timestamp>,
}

impl<'a> Occasion<'a> {
    /// The moment of a notification about no clock, as `complaint` shows it.
    pub fn of(complaint: &'a crate::Complaint) -> Self {
        Self {
            complaint,
            clock: None,
            deadline: None,
        }
    }
}

/// Renders a template for one notification at its occasion. The placeholders:
///
/// - `{complaint}`: the complaint's id;
/// - `{department}`: the responsible department's label in the policy's locale;
/// - `{deadline}`: at a clock warning, breach or on-duty alert, the deadline of its clock (a
///   breach's: the instant it was due); `{deadline:<clock>}`: that clock's deadline if it
///   runs; `{deadline:<a>|<b>}`: the first of these that runs. Local time in the policy's
///   zone (its first calendar's), as `2026-11-18 17:00`;
/// - `{clock}`: at a clock moment (warning, breach, escalation, on-duty alert), its clock's
///   key;
/// - `{action}`: at an action moment (`action_recorded`, `action:<key>`), the action's label
///   in the policy's locale;
/// - `{proposal}`, `{amount}`: the current proposal's description and amount (`0.00` in the
///   policy's currency when it involves no money);
/// - `{phone}`, `{email}`: the complainant's, masked unless the recipient is the complainant
///   or holds a role with contact access.
///
/// Staff free text (`{proposal}`, `{action}`) reaches a recipient who may not see contacts
/// with every phone number and email address it quotes masked
/// ([`crate::complainant::mask_contacts_in`]).
///
/// A loaded policy uses each placeholder only at moments where it has a value (checked when
/// it loads); a value still missing (a complainant without a phone, a clock that breached
/// and was then paused, whose state keeps no deadline) reads `-`. Placeholders are filled in
/// one pass: a value is never read as a template, so staff free text saying `{phone}` stays
/// as written; text that is no placeholder (`{phnoe}`, which a loaded policy cannot contain)
/// stays as written too.
pub fn render(
    template: &str,
    n: &Notification,
    at: &Occasion<'_>,
    policy: &crate::Policy,
) -> String {
    use template::Field;
    let c = at.complaint;
    let zone = policy.time_zone();
    let local = |t: crate::Timestamp| t.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string();
    let may_see = match &n.recipient {
        Recipient::Complainant => true,
        Recipient::Role { role } => policy.shows_contacts(role),
        _ => false,
    };
    let contact = |want: fn(&crate::Contact) -> bool| {
        c.intake
            .complainant
            .contacts
            .iter()
            .find(|x| want(x))
            .map(|x| {
                if may_see {
                    x.expose().to_owned()
                } else {
                    x.masked()
                }
            })
    };
    // Staff free text may quote a phone number or an email address.
    let free_text = |text: &str| {
        if may_see {
            text.to_owned()
        } else {
            crate::complainant::mask_contacts_in(text)
        }
    };
    let proposal = c.current_proposal();
    template::fill(&template::parse(template), |field| match field {
        Field::Complaint => Some(c.id.to_string()),
        Field::Department => c.responsibility.as_ref().map(|r| {
            policy
                .departments
                .iter()
                .find(|d| d.key == r.primary)
                .and_then(|d| d.label.get(&policy.locale))
                .cloned()
                .unwrap_or_else(|| r.primary.to_string())
        }),
        Field::Deadline => at
            .deadline
            .or_else(|| at.clock.and_then(|k| running_deadline(c, k.as_str())))
            .map(local),
        Field::DeadlineOf(keys) => keys.iter().find_map(|k| running_deadline(c, k)).map(local),
        Field::Clock => at.clock.map(ToString::to_string),
        // The command that recorded an action left it last.
        Field::Action => c.actions.last().map(|a| free_text(&a.label)),
        Field::Proposal => proposal.map(|p| free_text(&p.description)),
        Field::Amount => proposal.map(|p| {
            p.amount
                .unwrap_or_else(|| crate::Money::new(0, policy.currency))
                .to_string()
        }),
        Field::Phone => contact(|x| matches!(x, crate::Contact::Phone(_))),
        Field::Email => contact(|x| matches!(x, crate::Contact::Email(_))),
    })
}

/// The deadline of clock `key` if its latest cycle runs (open, not paused).
fn running_deadline(c: &crate::Complaint, key: &str) -> Option<crate::Timestamp> {
    c.clocks
        .iter()
        .rev()
        .find(|k| k.clock.as_str() == key)
        .filter(|k| k.is_running())
        .and_then(|k| k.schedule.deadline)
}

/// A notification in the outbox: written with the events that caused it, delivered by the
/// engine's relay, retried with back-off, and given up on (a dead letter) after the last
/// attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxEntry {
    /// What to deliver.
    pub notification: Notification,
    /// Failed attempts so far.
    pub attempts: u32,
    /// Not to be tried before this instant (a relay that claims it pushes it on by a lease).
    pub next_attempt: crate::Timestamp,
    /// The last failure.
    pub last_error: Option<String>,
}

/// How a claimed outbox entry ended, for [`crate::Store::settle`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Settlement {
    /// Delivered: it leaves the outbox.
    Delivered,
    /// Failed; try again at `next_attempt`.
    Retry {
        /// When.
        next_attempt: crate::Timestamp,
        /// Why it failed.
        error: String,
    },
    /// Failed for the last time: it becomes a dead letter.
    Dead {
        /// Why it failed.
        error: String,
    },
}

/// Delivers to several notifiers; fails if any fails (the relay then retries, and receivers
/// drop what they already have by the notification's id).
pub struct FanOut(pub Vec<Box<dyn DynNotifier>>);

impl Notifier for FanOut {
    async fn deliver(&self, n: &Notification) -> Result<(), NotifyError> {
        let mut first_error = None;
        for target in &self.0 {
            if let Err(e) = target.deliver_boxed(n).await {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// Tries a delivery up to `attempts` times at once before reporting failure (for transient
/// errors of a gateway); the relay's back-off handles longer outages.
pub struct Retry<N> {
    /// The notifier it retries.
    pub inner: N,
    /// Tries per delivery (at least 1).
    pub attempts: u32,
}

impl<N: Notifier> Notifier for Retry<N> {
    async fn deliver(&self, n: &Notification) -> Result<(), NotifyError> {
        let mut last = Ok(());
        for _ in 0..self.attempts.max(1) {
            last = self.inner.deliver(n).await;
            if last.is_ok() {
                break;
            }
        }
        last
    }
    fn is_enabled(&self) -> bool {
        self.inner.is_enabled()
    }
}

/// A notifier that drops everything: for embeddings that do not notify.
#[derive(Debug, Clone, Copy, Default)]
pub struct DiscardNotifier;

impl Notifier for DiscardNotifier {
    async fn deliver(&self, _: &Notification) -> Result<(), NotifyError> {
        Ok(())
    }
    fn is_enabled(&self) -> bool {
        false
    }
}

/// A notifier that keeps what it is given, for tests and examples.
#[derive(Debug, Default)]
pub struct RecordingNotifier(Mutex<Vec<Notification>>);

impl RecordingNotifier {
    /// An empty recorder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything delivered so far, in order.
    pub fn delivered(&self) -> Vec<Notification> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Notifier for RecordingNotifier {
    async fn deliver(&self, n: &Notification) -> Result<(), NotifyError> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(n.clone());
        Ok(())
    }
}
