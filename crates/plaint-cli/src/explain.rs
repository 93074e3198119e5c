//! `plaint explain`: what a policy does, tier by tier — which steps apply, every clock with its
//! targets, warning, ladder and calendar, and who is told what and when — in English, with the
//! policy's own labels and texts in its language.

use plaint::policy::StepRule;
use plaint::sla::{ClockDef, Target, Warning};
use plaint::{Policy, TierKey};
use std::fmt::Write as _;

/// The explanation of `policy`, as text.
pub(crate) fn explain(policy: &Policy) -> String {
    let mut out = String::new();
    let w = &mut out;
    let _ = writeln!(
        w,
        "Policy {} version {} (language {})",
        policy.id, policy.version, policy.locale
    );
    for tier in &policy.tiers {
        let label = policy
            .label(&tier.label)
            .map(|l| format!(" ({l})"))
            .unwrap_or_default();
        let default = if tier.key == policy.default_tier {
            ", the default"
        } else {
            ""
        };
        let _ = writeln!(w, "\nTier {}{label}{default}", tier.key);
        let _ = writeln!(w, "  steps:");
        for (name, rule) in [
            ("approval", &policy.steps.approval),
            ("negotiation", &policy.steps.negotiation),
            ("follow-up", &policy.steps.follow_up),
        ] {
            let _ = writeln!(w, "    {name}: {}", step(rule, &tier.key));
        }
        let clocks: Vec<&ClockDef> = policy
            .clocks
            .iter()
            .filter(|c| runs_for(c, &tier.key))
            .collect();
        if clocks.is_empty() {
            let _ = writeln!(w, "  clocks: none");
        } else {
            let _ = writeln!(w, "  clocks:");
        }
        for c in clocks {
            clock(w, policy, c, &tier.key);
        }
    }
    let _ = writeln!(w, "\nWho is told what");
    if policy.notifications.is_empty() {
        let _ = writeln!(
            w,
            "  the built-in recipients, without texts (the policy has no notification rules)"
        );
    }
    for rule in &policy.notifications {
        let to: Vec<String> = rule.to.iter().map(json).collect();
        let channel = rule
            .channel
            .as_ref()
            .map(|c| format!(" by {}", json(c)))
            .unwrap_or_default();
        let when = rule
            .when
            .as_ref()
            .map(|c| format!(" when {}", json(c)))
            .unwrap_or_default();
        let _ = writeln!(w, "  on {}: {}{channel}{when}", rule.on, to.join(", "));
        if let Some(text) = policy.label(&rule.text) {
            let _ = writeln!(w, "    \"{text}\"");
        }
    }
    out
}

/// Whether clock `c` has a target for `tier` (or for some channel or condition).
fn runs_for(c: &ClockDef, tier: &TierKey) -> bool {
    c.targets.contains_key(tier) || !c.channel_targets.is_empty() || !c.target_rules.is_empty()
}

fn step(rule: &StepRule, tier: &TierKey) -> String {
    if !rule.is_used() {
        return "never".into();
    }
    if rule.tiers.contains(tier) {
        return "always for this tier".into();
    }
    let mut why = Vec::new();
    if let Some(amount) = &rule.from_amount {
        why.push(format!("for a proposal of {amount} or more"));
    }
    if let Some(when) = &rule.when {
        why.push(format!("when {}", json(when)));
    }
    if why.is_empty() {
        "not for this tier".into()
    } else {
        why.join(", or ")
    }
}

fn clock(w: &mut String, policy: &Policy, c: &ClockDef, tier: &TierKey) {
    let list = |ts: &[plaint::sla::Trigger]| {
        ts.iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(
        w,
        "    {}: starts on {}, stops on {}",
        c.key,
        list(&c.start_on),
        list(&c.stop_on)
    );
    if !c.reset_on.is_empty() {
        let _ = writeln!(w, "      resets on {}", list(&c.reset_on));
    }
    if let Some(when) = &c.start_when {
        let _ = writeln!(w, "      starts only when {}", json(when));
    }
    if let Some(target) = c.targets.get(tier) {
        let _ = writeln!(w, "      target: {}", target_text(target));
    }
    for (channel, target) in &c.channel_targets {
        let _ = writeln!(w, "      through {channel}: {}", target_text(target));
    }
    for rule in &c.target_rules {
        let _ = writeln!(
            w,
            "      when {}: {}",
            json(&rule.when),
            target_text(&rule.target)
        );
    }
    let calendar = match &c.calendar {
        Some(k) => {
            let zone = policy
                .calendars
                .defs()
                .iter()
                .find(|d| d.key == *k)
                .map(|d| d.time_zone.clone());
            format!(
                "calendar {k}{}",
                zone.map(|z| format!(" ({z})")).unwrap_or_default()
            )
        }
        None => "no calendar (elapsed time)".into(),
    };
    let _ = writeln!(w, "      {calendar}");
    match c.warning {
        Some(Warning::Percent(p)) => {
            let _ = writeln!(w, "      warns at {p} % of the time allowed");
        }
        Some(Warning::Before(s)) => {
            let _ = writeln!(w, "      warns {s} before the deadline");
        }
        _ => {}
    }
    if let Some(role) = &c.breach_notify {
        let _ = writeln!(w, "      on breach, tells role {role}");
    }
    for (i, rung) in c.escalation.iter().enumerate() {
        let mut what = format!(
            "      rung {}: {} after the deadline, tells role {}",
            i + 1,
            rung.after,
            rung.notify
        );
        if let Some(t) = &rung.raise_tier {
            let _ = write!(what, ", raises the tier to {t}");
        }
        if rung.ledger {
            what.push_str(", written in the escalation ledger");
        }
        let _ = writeln!(w, "{what}");
    }
    if let Some(ah) = &c.after_hours {
        let urgent: Vec<String> = ah.urgent_tiers.iter().map(|t| t.to_string()).collect();
        let _ = writeln!(
            w,
            "      out of hours: tiers {} alert role {} at once; others count from the next opening",
            urgent.join(", "),
            ah.notify
        );
    }
}

fn target_text(t: &Target) -> String {
    match t {
        Target::AtOnce => "at once".into(),
        Target::Elapsed(s) => format!("{s} of elapsed time"),
        Target::Business(s) => format!("{s} of business time"),
        Target::WorkingDays(n) => format!("{n} working day(s), to the end of the last"),
        Target::WorkingDaysSameTime(n) => format!("{n} working day(s), at the same time of day"),
        Target::Days(n) => format!("{n} day(s), to the end of the last"),
        Target::Cutoff { at, days_after } => {
            format!("by {at} on the {days_after}th working day after")
        }
        Target::Window {
            not_before,
            not_after,
        } => format!("between {not_before} and {not_after}"),
        Target::DayWindow { from, to } => format!("from day {from} to the end of day {to}"),
    }
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}
