//! The notification port: what the engine tells people, the `Notifier` trait, and test notifiers.

use crate::id::{ComplaintId, DepartmentKey, RoleKey};
use crate::lifecycle::{Event, Next, Recorded};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};

/// One message to deliver. `id` is stable, so a receiver can drop duplicates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// Stable id for deduplication.
    pub id: NotificationId,
    /// The complaint it is about.
    pub complaint: ComplaintId,
    /// Who is told.
    pub recipient: Recipient,
    /// What they are told.
    pub kind: NotificationKind,
    /// The message, rendered from the policy's template (in the policy's locale) when the
    /// relay delivers it; `None` in the outbox, or when the policy has no template for it.
    #[serde(default)]
    pub text: Option<crate::Text>,
}

/// A notification's stable id: the event that caused it, what it says and to whom. Displays
/// as `<complaint>/<version>/<kind>/<recipient>`, e.g. `EXP-1/2/acknowledged/complainant`.
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

/// What a notification says. The words come from the policy's templates (a later step);
/// the kind is what the engine decides.
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
}

impl NotificationKind {
    /// The snake_case name used in notification ids and templates.
    pub fn name(self) -> &'static str {
        match self {
            Self::Acknowledged => "acknowledged",
            Self::Assigned => "assigned",
            Self::ApprovalRequested => "approval_requested",
            Self::ProposalOffered => "proposal_offered",
            Self::ResultGiven => "result_given",
            Self::Closed => "closed",
            Self::ClockWarning => "clock_warning",
            Self::ClockBreach => "clock_breach",
            Self::Escalation => "escalation",
            Self::OnDuty => "on_duty",
        }
    }
}

/// The notifications a command's events on complaint `id` call for.
pub fn notifications_for(id: &ComplaintId, events: &[Recorded]) -> Vec<Notification> {
    let mut out = Vec::new();
    let mut push = |version: u64, recipient: Recipient, kind: NotificationKind| {
        out.push(Notification {
            id: NotificationId {
                complaint: id.clone(),
                version,
                kind,
                recipient: recipient.clone(),
            },
            complaint: id.clone(),
            recipient,
            kind,
            text: None,
        });
    };
    for r in events {
        match &r.event {
            Event::Acknowledged => push(
                r.version,
                Recipient::Complainant,
                NotificationKind::Acknowledged,
            ),
            Event::Routed { responsibility } | Event::Reassigned { responsibility, .. } => push(
                r.version,
                Recipient::Department {
                    department: responsibility.primary.clone(),
                },
                NotificationKind::Assigned,
            ),
            Event::RemedyProposed { next, .. } | Event::ApprovalGranted { next, .. } => {
                match next {
                    Next::Approval => push(
                        r.version,
                        Recipient::Approvers,
                        NotificationKind::ApprovalRequested,
                    ),
                    Next::Agreement => push(
                        r.version,
                        Recipient::Complainant,
                        NotificationKind::ProposalOffered,
                    ),
                    Next::Execution => {}
                }
            }
            Event::FeedbackGiven { .. } => push(
                r.version,
                Recipient::Complainant,
                NotificationKind::ResultGiven,
            ),
            Event::Closed { .. } => {
                push(r.version, Recipient::Complainant, NotificationKind::Closed)
            }
            Event::ClockWarned { .. } => push(
                r.version,
                Recipient::Responsible,
                NotificationKind::ClockWarning,
            ),
            Event::ClockBreached { notify, .. } => {
                push(
                    r.version,
                    Recipient::Responsible,
                    NotificationKind::ClockBreach,
                );
                if let Some(role) = notify {
                    let role = role.clone();
                    push(
                        r.version,
                        Recipient::Role { role },
                        NotificationKind::ClockBreach,
                    );
                }
            }
            Event::RungReached {
                notify: Some(role), ..
            } => push(
                r.version,
                Recipient::Role { role: role.clone() },
                NotificationKind::Escalation,
            ),
            Event::OnDutyAlerted { role, .. } => push(
                r.version,
                Recipient::Role { role: role.clone() },
                NotificationKind::OnDuty,
            ),
            _ => {}
        }
    }
    out
}

/// Delivers notifications (SMS, email, a queue…). It may be slow or fail.
pub trait Notifier: Send + Sync {
    /// Delivers one notification.
    ///
    /// # Errors
    /// [`NotifyError`] when it could not be delivered.
    fn deliver(&self, notification: &Notification) -> Result<(), NotifyError>;

    /// Whether this notifier delivers anything at all; the engine skips deriving
    /// notifications for one that does not.
    fn is_enabled(&self) -> bool {
        true
    }
}

impl<T: Notifier + ?Sized> Notifier for Arc<T> {
    fn deliver(&self, notification: &Notification) -> Result<(), NotifyError> {
        (**self).deliver(notification)
    }
    fn is_enabled(&self) -> bool {
        (**self).is_enabled()
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

/// Renders a template for one notification: `{complaint}`, `{department}`, `{deadline}`
/// (the nearest open clock deadline, in the policy's first calendar's zone), `{clock}`,
/// `{proposal}`, `{amount}`, `{phone}` and `{email}`. The complainant's phone and email are
/// masked unless the recipient is the complainant or holds a role with contact access.
pub fn render(
    template: &str,
    n: &Notification,
    c: &crate::Complaint,
    policy: &crate::Policy,
) -> String {
    let zone: chrono_tz::Tz = policy
        .calendars
        .defs()
        .first()
        .and_then(|d| d.time_zone.parse().ok())
        .unwrap_or(chrono_tz::UTC);
    let open = c
        .clocks
        .iter()
        .filter(|k| k.outcome.is_none())
        .filter_map(|k| k.schedule.deadline.map(|d| (d, k.clock.as_str())))
        .min();
    let may_see = match &n.recipient {
        Recipient::Complainant => true,
        Recipient::Role { role } => policy.role(role).is_some_and(|r| r.contact_access),
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
            .unwrap_or_default()
    };
    let proposal = c.current_proposal();
    let department = c.responsibility.as_ref().map(|r| {
        policy
            .departments
            .iter()
            .find(|d| d.key == r.primary)
            .and_then(|d| d.label.get(&policy.locale))
            .cloned()
            .unwrap_or_else(|| r.primary.to_string())
    });
    let fields: [(&str, String); 8] = [
        ("{complaint}", c.id.to_string()),
        ("{department}", department.unwrap_or_default()),
        (
            "{deadline}",
            open.map(|(d, _)| d.with_timezone(&zone).format("%Y-%m-%d %H:%M").to_string())
                .unwrap_or_default(),
        ),
        (
            "{clock}",
            open.map(|(_, k)| k.to_owned()).unwrap_or_default(),
        ),
        (
            "{proposal}",
            proposal
                .map(|p| p.description.to_string())
                .unwrap_or_default(),
        ),
        (
            "{amount}",
            proposal
                .and_then(|p| p.amount)
                .map(|a| a.to_string())
                .unwrap_or_default(),
        ),
        (
            "{phone}",
            contact(|x| matches!(x, crate::Contact::Phone(_))),
        ),
        (
            "{email}",
            contact(|x| matches!(x, crate::Contact::Email(_))),
        ),
    ];
    fields
        .iter()
        .fold(template.to_owned(), |text, (key, value)| {
            text.replace(key, value)
        })
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
pub struct FanOut(pub Vec<Box<dyn Notifier>>);

impl Notifier for FanOut {
    fn deliver(&self, n: &Notification) -> Result<(), NotifyError> {
        let mut first_error = None;
        for target in &self.0 {
            if let Err(e) = target.deliver(n) {
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
    fn deliver(&self, n: &Notification) -> Result<(), NotifyError> {
        let mut last = Ok(());
        for _ in 0..self.attempts.max(1) {
            last = self.inner.deliver(n);
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
    fn deliver(&self, _: &Notification) -> Result<(), NotifyError> {
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
    fn deliver(&self, n: &Notification) -> Result<(), NotifyError> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(n.clone());
        Ok(())
    }
}
