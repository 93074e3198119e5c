//! The semantic checks of a policy: every reference names something defined, keys are unique,
//! limits are consistent. Each problem is reported with its path; none stops the others.

use super::problems::Problems;
use super::{CategoryNode, Condition, Policy, Problem};
use crate::lifecycle::CommandKind;
use crate::money::Money;
use crate::sla::{Target, Trigger, Warning};
use std::collections::BTreeSet;
use std::fmt::Display;

pub(super) fn check(policy: &Policy, p: &mut Problems) {
    unique(p, "channels", policy.channels.iter().map(|c| &c.key));
    unique(p, "tiers", policy.tiers.iter().map(|t| &t.key));
    unique(p, "departments", policy.departments.iter().map(|d| &d.key));
    unique(p, "roles", policy.roles.iter().map(|r| &r.key));
    unique(p, "remedies", policy.remedies.iter().map(|r| &r.key));
    unique(
        p,
        "calendars",
        policy.calendars.defs().iter().map(|c| &c.key),
    );
    unique(p, "clocks", policy.clocks.iter().map(|c| &c.key));
    unique(p, "flags", policy.flags.iter().map(|f| &f.key));
    unique(p, "actions", policy.actions.iter().map(|a| &a.key));
    categories(p, "categories", &policy.categories);
    if policy.tiers.is_empty() {
        p.add("tiers", "at least one tier is needed");
    }
    tier(p, policy, "default_tier", &policy.default_tier);
    for (i, rule) in policy.severity.iter().enumerate() {
        tier(p, policy, &format!("severity[{i}].tier"), &rule.tier);
        let at = format!("severity[{i}].when");
        condition(p, policy, &at, &rule.when);
        never_known(
            p,
            &at,
            &rule.when,
            SEVERITY_CANNOT_KNOW,
            "at triage, where severity rules pick the tier",
        );
    }
    for (name, rule) in [
        ("approval", &policy.steps.approval),
        ("negotiation", &policy.steps.negotiation),
        ("follow_up", &policy.steps.follow_up),
    ] {
        for (i, t) in rule.tiers.iter().enumerate() {
            tier(p, policy, &format!("steps.{name}.tiers[{i}]"), t);
        }
        if let Some(m) = &rule.from_amount {
            money(p, policy, &format!("steps.{name}.from_amount"), m);
        }
        if let Some(w) = &rule.when {
            condition(p, policy, &format!("steps.{name}.when"), w);
        }
    }
    for (i, remedy) in policy.remedies.iter().enumerate() {
        for (k, cap) in remedy.caps.iter().enumerate() {
            let at = format!("remedies[{i}].caps[{k}]");
            if let Some(m) = &cap.minimum {
                money(p, policy, &format!("{at}.minimum"), m);
            }
            if let Some(w) = &cap.when {
                condition(p, policy, &format!("{at}.when"), w);
            }
            if cap.percent == 0 {
                p.add(
                    format!("{at}.percent"),
                    "a cap of 0 % allows nothing; remove the remedy instead",
                );
            }
        }
    }
    for (i, role) in policy.roles.iter().enumerate() {
        for (k, t) in role.approve_tiers.iter().enumerate() {
            tier(p, policy, &format!("roles[{i}].approve_tiers[{k}]"), t);
        }
        if role.may.contains(&CommandKind::Tick) {
            p.add(
                format!("roles[{i}].may"),
                "only the system ticks: remove \"tick\"",
            );
        }
        if let Some(w) = &role.approve_when {
            condition(p, policy, &format!("roles[{i}].approve_when"), w);
            if !role.may.contains(&CommandKind::Approve) {
                p.add(
                    format!("roles[{i}].approve_when"),
                    "the role may not approve",
                );
            }
        }
        if let Some(m) = &role.approval_limit {
            money(p, policy, &format!("roles[{i}].approval_limit"), m);
            if !role.may.contains(&CommandKind::Approve) {
                p.add(
                    format!("roles[{i}].approval_limit"),
                    "the role may not approve",
                );
            }
        }
    }
    actions(policy, p);
    routing(policy, p);
    clocks(policy, p);
    for t in policy.scoring.per_tier.keys() {
        tier(p, policy, &format!("scoring.per_tier.{t}"), t);
    }
    for k in policy.scoring.per_breach_of.keys() {
        clock_ref(p, policy, &format!("scoring.per_breach_of.{k}"), k.as_str());
    }
    if policy.scoring.primary_share > 100 {
        p.add("scoring.primary_share", "a share is at most 100 percent");
    }
    for (i, rule) in policy.scoring.rules.iter().enumerate() {
        condition(p, policy, &format!("scoring.rules[{i}].when"), &rule.when);
    }
    notifications(policy, p);
}

fn actions(policy: &Policy, p: &mut Problems) {
    for (i, action) in policy.actions.iter().enumerate() {
        if action.roles.is_empty() {
            p.add(
                format!("actions[{i}].roles"),
                "an action needs at least one role that records it",
            );
        }
        for (k, r) in action.roles.iter().enumerate() {
            role(p, policy, &format!("actions[{i}].roles[{k}]"), r);
        }
    }
    for (i, r) in policy.roles.iter().enumerate() {
        if r.may.contains(&CommandKind::RecordAction) {
            p.add(
                format!("roles[{i}].may"),
                "each action says which roles record it (actions[].roles): remove \"record_action\"",
            );
        }
    }
}

/// A clock trigger or notification moment that names an action must name a declared one.
/// A clock named by a trigger or a scoring rule must be one the policy defines.
fn clock_ref(p: &mut Problems, policy: &Policy, path: &str, key: &str) {
    if !policy.clocks.iter().any(|c| c.key.as_str() == key) && !p.left_out("clocks", key) {
        p.add(path, format!("unknown clock \"{key}\""));
    }
}

fn action_ref(p: &mut Problems, policy: &Policy, path: &str, key: &crate::ActionKey) {
    if policy.action(key).is_none() && !p.left_out("actions", key.as_str()) {
        p.add(path, format!("unknown action \"{key}\""));
    }
}

fn notifications(policy: &Policy, p: &mut Problems) {
    use crate::notify::{Audience, Channel, NotificationKind as K};
    let mut seen = BTreeSet::new();
    for (i, rule) in policy.notifications.iter().enumerate() {
        let at = format!("notifications[{i}]");
        if let Some(w) = &rule.when {
            condition(p, policy, &format!("{at}.when"), w);
        }
        if let Some(key) = &rule.on.action {
            action_ref(p, policy, &format!("{at}.on"), key);
        }
        if rule.to.is_empty() {
            p.add(format!("{at}.to"), "a rule must tell someone");
        }
        for (j, a) in rule.to.iter().enumerate() {
            let path = format!("{at}.to[{j}]");
            match a {
                Audience::Role(r) => role(p, policy, &path, r),
                Audience::Department(d) => department(p, policy, &path, d),
                Audience::Named
                    if !matches!(
                        rule.on.kind,
                        K::ClockBreach | K::Escalation | K::OnDuty | K::AtOnce
                    ) =>
                {
                    p.add(
                        path.clone(),
                        format!(
                            "\"named\" is the role a clock rule names; {} names none",
                            rule.on.name()
                        ),
                    );
                }
                _ => {}
            }
            let channel = rule.channel.unwrap_or(match a {
                Audience::Complainant => Channel::Sms,
                _ => Channel::InApp,
            });
            if !seen.insert((rule.on.clone(), a.clone(), channel)) {
                p.add(
                    path,
                    format!(
                        "{} already tells {} by {}",
                        rule.on.name(),
                        String::from(a.clone()),
                        channel.name()
                    ),
                );
            }
        }
    }
    if policy.notifications.iter().all(|r| r.text.is_empty()) {
        return;
    }
    let values = crate::notify::values::Availability::of(policy);
    for (i, rule) in policy.notifications.iter().enumerate() {
        for (language, text) in &rule.text {
            let path = format!("notifications[{i}].text.{language}");
            texts(policy, &values, p, &path, rule.on.kind, text);
        }
    }
}

/// The placeholders of one notification text at moment `on`: each must be one the renderer
/// knows, a deadline must name clocks the policy has, and each must have a value at that
/// moment (`values`).
fn texts(
    policy: &Policy,
    values: &crate::notify::values::Availability<'_>,
    p: &mut Problems,
    path: &str,
    on: crate::notify::NotificationKind,
    text: &str,
) {
    use crate::notify::template::{Field, Piece, parse};
    for piece in parse(text) {
        let (whole, field) = match piece {
            Piece::Invalid(_, problem) => {
                p.add(path, problem);
                continue;
            }
            Piece::Text(_) => continue,
            Piece::Field(whole, field) => (whole, field),
        };
        if let Field::DeadlineOf(keys) = &field {
            let unknown: Vec<&&str> = keys
                .iter()
                .filter(|k| !policy.clocks.iter().any(|c| c.key.as_str() == **k))
                .collect();
            for key in &unknown {
                if !p.left_out("clocks", key) {
                    p.add(path, format!("unknown clock \"{key}\" in {whole}"));
                }
            }
            if !unknown.is_empty() {
                continue;
            }
        }
        if !values.has(on, &field) {
            let why = match field {
                Field::Deadline if on == crate::notify::NotificationKind::Escalation => {
                    ": an escalation comes after its clock's deadline was missed (say \
                     {clock}, or name a clock that runs: {deadline:<clock>})"
                }
                Field::Deadline => {
                    ": only a clock moment (warning, breach, on-duty alert) has a clock of its \
                     own; name one, as in {deadline:<clock>}"
                }
                Field::Clock => {
                    ": only a clock moment (warning, breach, escalation, on-duty alert) is \
                     about a clock"
                }
                Field::Action => {
                    ": only an action moment (action_recorded, action:<key>) is about an action"
                }
                _ => "",
            };
            p.add(
                path,
                format!(
                    "placeholder {whole} has no value for moment \"{}\"{why}",
                    on.name()
                ),
            );
        }
    }
}

fn routing(policy: &Policy, p: &mut Problems) {
    for (i, r) in policy.routing.iter().enumerate() {
        let at = format!("routing[{i}]");
        if !policy.has_category(&r.category) {
            p.add(
                format!("{at}.category"),
                format!("\"{}\" is not in the category tree", r.category),
            );
        }
        for (path, d) in std::iter::once((format!("{at}.primary"), &r.primary)).chain(
            r.collaborating
                .iter()
                .enumerate()
                .map(|(k, d)| (format!("{at}.collaborating[{k}]"), d)),
        ) {
            department(p, policy, &path, d);
        }
        if let Some(t) = &r.tier {
            tier(p, policy, &format!("{at}.tier"), t);
        }
        if let Some(ch) = &r.channel
            && !policy.has_channel(ch)
        {
            p.add(format!("{at}.channel"), format!("unknown channel \"{ch}\""));
        }
        if let Some(w) = &r.when {
            let at = format!("{at}.when");
            condition(p, policy, &at, w);
            never_known(
                p,
                &at,
                w,
                ROUTING_CANNOT_KNOW,
                "when routing picks the department, right after triage",
            );
        }
    }
    if policy.routing.is_empty() {
        return;
    }
    // Every leaf category needs a rule without conditions, so routing by policy never fails.
    let mut leaves = Vec::new();
    leaf_paths(
        &policy.categories,
        &mut Vec::new(),
        "categories",
        &mut leaves,
    );
    for (path, leaf) in leaves {
        let covered = policy.routing.iter().any(|r| {
            r.tier.is_none()
                && r.channel.is_none()
                && r.when.is_none()
                && leaf.starts_with(&r.category)
        });
        if !covered {
            p.add(
                path,
                format!("leaf category \"{leaf}\" has no routing rule"),
            );
        }
    }
}

fn leaf_paths(
    nodes: &[CategoryNode],
    prefix: &mut Vec<crate::CategoryKey>,
    path: &str,
    out: &mut Vec<(String, crate::CategoryPath)>,
) {
    for (i, n) in nodes.iter().enumerate() {
        prefix.push(n.key.clone());
        let here = format!("{path}[{i}]");
        if n.children.is_empty() {
            out.push((here, crate::CategoryPath::new(prefix.clone())));
        } else {
            leaf_paths(&n.children, prefix, &format!("{here}.children"), out);
        }
        prefix.pop();
    }
}

fn clocks(policy: &Policy, p: &mut Problems) {
    for (i, c) in policy.clocks.iter().enumerate() {
        let at = format!("clocks[{i}]");
        if c.start_on.is_empty() {
            p.add(
                format!("{at}.start_on"),
                "a clock needs at least one event to start on",
            );
        }
        for (name, list) in [
            ("start_on", &c.start_on),
            ("stop_on", &c.stop_on),
            ("reset_on", &c.reset_on),
        ] {
            for (k, t) in list.iter().enumerate() {
                let path = format!("{at}.{name}[{k}]");
                match t {
                    Trigger::Action(key) => action_ref(p, policy, &path, key),
                    Trigger::Clock { clock, .. } => clock_ref(p, policy, &path, clock.as_str()),
                    _ => {}
                }
            }
        }
        for e in c.start_on.iter().filter(|e| c.stop_on.contains(e)) {
            p.add(
                format!("{at}.stop_on"),
                format!("\"{e}\" both starts and stops the clock"),
            );
        }
        for ch in c.channel_targets.keys() {
            if !policy.has_channel(ch) {
                p.add(
                    format!("{at}.channel_targets.{ch}"),
                    format!("unknown channel \"{ch}\""),
                );
            }
        }
        if c.targets.is_empty() && c.channel_targets.is_empty() && c.target_rules.is_empty() {
            p.add(
                format!("{at}.targets"),
                "a clock needs a target: for a tier, a channel or a target rule",
            );
        }
        let calendar = match &c.calendar {
            Some(key) if policy.calendars.get(key).is_none() => {
                if !p.left_out("calendars", key.as_str()) {
                    p.add(
                        format!("{at}.calendar"),
                        format!("unknown calendar \"{key}\""),
                    );
                }
                true // reported already; do not also complain that it is missing
            }
            Some(_) => true,
            None => false,
        };
        for (r, rule) in c.target_rules.iter().enumerate() {
            condition(
                p,
                policy,
                &format!("{at}.target_rules[{r}].when"),
                &rule.when,
            );
        }
        if let Some(w) = &c.start_when {
            condition(p, policy, &format!("{at}.start_when"), w);
        }
        for (sub, target, tier_key) in c.all_targets() {
            let path = format!("{at}.{sub}");
            if let Some(t) = tier_key {
                tier(p, policy, &path, t);
            }
            let needs_calendar = match target {
                Target::Elapsed(_) | Target::Window { .. } | Target::AtOnce => None,
                Target::Days(_) | Target::DayWindow { .. } => Some(
                    "day counts need the clock's calendar: its time zone says where a day ends",
                ),
                _ => Some("business, working-day and cut-off targets need the clock's calendar"),
            };
            if let (Some(message), false) = (needs_calendar, calendar) {
                p.add(path.clone(), message);
            }
            if matches!(target, Target::AtOnce) && c.breach_notify.is_none() {
                p.add(
                    path.clone(),
                    "an at-once target alerts the clock's breach_notify role when it starts: name one",
                );
            }
            if let Target::DayWindow { from, to } = *target {
                if to == 0 {
                    p.add(
                        format!("{path}.day_window.to"),
                        "a window must end on day 1 or later (day 0 is the start's date)",
                    );
                }
                if to > 36_500 {
                    p.add(
                        format!("{path}.day_window.to"),
                        format!("{to} days is longer than 100 years"),
                    );
                }
                if from > to {
                    p.add(
                        format!("{path}.day_window"),
                        format!("from (day {from}) must not be after to (day {to})"),
                    );
                }
            }
            match target {
                Target::Window {
                    not_before,
                    not_after,
                } if not_before >= not_after => {
                    p.add(
                        format!("{path}.window"),
                        format!("not_before ({not_before}) must be before not_after ({not_after})"),
                    );
                }
                Target::Elapsed(s) | Target::Business(s) if s.seconds() == 0 => {
                    p.add(path, "a zero target is breached at once (for \"handle at once\" write `at_once`)");
                }
                Target::WorkingDays(n)
                | Target::WorkingDaysSameTime(n)
                | Target::Days(n)
                | Target::Cutoff { days_after: n, .. }
                    if *n > 36_500 =>
                {
                    p.add(path, format!("{n} days is longer than 100 years"));
                }
                Target::WorkingDays(0) | Target::WorkingDaysSameTime(0) | Target::Days(0) => {
                    p.add(path, "a zero target is breached at once (for \"handle at once\" write `at_once`)");
                }
                _ => {}
            }
        }
        match c.warning {
            Some(Warning::Percent(pc)) if !(1..=99).contains(&pc) => p.add(
                format!("{at}.warning.percent"),
                format!("{pc} is not between 1 and 99"),
            ),
            Some(Warning::Before(s)) if s.seconds() == 0 => p.add(
                format!("{at}.warning.before"),
                "a warning zero before the deadline is the breach itself",
            ),
            _ => {}
        }
        if c.agreed_max.is_some_and(|s| s.seconds() == 0) {
            p.add(
                format!("{at}.agreed_max"),
                "a zero limit leaves no deadline to agree",
            );
        }
        let mut last = None;
        for (r, rung) in c.escalation.iter().enumerate() {
            let path = format!("{at}.escalation[{r}]");
            if last.is_some_and(|l| rung.after <= l) {
                p.add(
                    format!("{path}.after"),
                    "rungs must come at increasing offsets",
                );
            }
            last = Some(rung.after);
            role(p, policy, &format!("{path}.notify"), &rung.notify);
            if let Some(t) = &rung.raise_tier {
                tier(p, policy, &format!("{path}.raise_tier"), t);
            }
        }
        if let Some(r) = &c.breach_notify {
            role(p, policy, &format!("{at}.breach_notify"), r);
        }
        if let Some(ah) = &c.after_hours {
            if c.calendar.is_none() {
                p.add(
                    format!("{at}.after_hours"),
                    "after-hours rules need the clock's calendar",
                );
            }
            role(p, policy, &format!("{at}.after_hours.notify"), &ah.notify);
            for (k, t) in ah.urgent_tiers.iter().enumerate() {
                tier(p, policy, &format!("{at}.after_hours.urgent_tiers[{k}]"), t);
            }
        }
    }
}

fn condition(p: &mut Problems, policy: &Policy, path: &str, c: &Condition) {
    match c {
        Condition::All(cs) | Condition::Any(cs) => {
            let kind = if matches!(c, Condition::All(_)) {
                "all"
            } else {
                "any"
            };
            if cs.is_empty() {
                p.add(format!("{path}.{kind}"), "an empty list");
            }
            for (i, c) in cs.iter().enumerate() {
                condition(p, policy, &format!("{path}.{kind}[{i}]"), c);
            }
        }
        Condition::Not(c) => condition(p, policy, &format!("{path}.not"), c),
        Condition::Category(cat) if !policy.has_category(cat) => {
            p.add(
                format!("{path}.category"),
                format!("\"{cat}\" is not in the category tree"),
            );
        }
        Condition::Channel(ch) if !policy.has_channel(ch) => {
            p.add(
                format!("{path}.channel"),
                format!("unknown channel \"{ch}\""),
            );
        }
        Condition::AmountAtLeast(m) => money(p, policy, &format!("{path}.amount_at_least"), m),
        Condition::ProposedAtLeast(m) => {
            money(p, policy, &format!("{path}.proposed_at_least"), m);
        }
        Condition::Tier(t) => tier(p, policy, &format!("{path}.tier"), t),
        Condition::Department(d) => department(p, policy, &format!("{path}.department"), d),
        Condition::Remedy(r) if !policy.has_remedy(r) && !p.left_out("remedies", r.as_str()) => {
            p.add(format!("{path}.remedy"), format!("unknown remedy \"{r}\""));
        }
        Condition::Flag(f) if !policy.has_flag(f) && !p.left_out("flags", f.as_str()) => {
            p.add(format!("{path}.flag"), format!("unknown flag \"{f}\""));
        }
        _ => {}
    }
}

/// What severity rules cannot know: the tier they pick, and what comes after triage.
const SEVERITY_CANNOT_KNOW: &[&str] = &[
    "tier",
    "department",
    "remedy",
    "proposed_at_least",
    "satisfied",
];

/// What routing rules cannot know: the department they pick, and what comes after routing.
const ROUTING_CANNOT_KNOW: &[&str] = &["department", "remedy", "proposed_at_least", "satisfied"];

/// Reports each atom of `c` about a fact never known where the condition is evaluated
/// (`names`): such an atom never holds, and its negation never does either.
fn never_known(p: &mut Problems, path: &str, c: &Condition, names: &[&str], place: &str) {
    let mut atoms = Vec::new();
    c.atoms(path, &mut atoms);
    for (at, atom) in atoms {
        if names.contains(&atom.name()) {
            let fact = match atom {
                Condition::Tier(_) => "the tier",
                Condition::Department(_) => "the responsible department",
                Condition::Remedy(_) => "the remedy",
                Condition::ProposedAtLeast(_) => "a proposal's amount",
                _ => "the complainant's answer",
            };
            p.add(
                at,
                format!("{fact} is never known {place}, so this never holds"),
            );
        }
    }
}

fn unique<'a, K: Display + Ord + 'a>(
    p: &mut Problems,
    section: &str,
    keys: impl Iterator<Item = &'a K>,
) {
    let mut seen = BTreeSet::new();
    for (i, k) in keys.enumerate() {
        if !seen.insert(k) {
            p.add(
                format!("{section}[{i}].key"),
                format!("\"{k}\" is defined twice"),
            );
        }
    }
}

fn categories(p: &mut Problems, path: &str, nodes: &[CategoryNode]) {
    unique(p, path, nodes.iter().map(|n| &n.key));
    for (i, n) in nodes.iter().enumerate() {
        categories(p, &format!("{path}[{i}].children"), &n.children);
    }
}

fn tier(p: &mut Problems, policy: &Policy, path: &str, t: &crate::TierKey) {
    if policy.tier_rank(t).is_none() && !p.left_out("tiers", t.as_str()) {
        p.add(path, format!("unknown tier \"{t}\""));
    }
}

fn role(p: &mut Problems, policy: &Policy, path: &str, r: &crate::RoleKey) {
    if policy.role(r).is_none() && !p.left_out("roles", r.as_str()) {
        p.add(path, format!("unknown role \"{r}\""));
    }
}

fn department(p: &mut Problems, policy: &Policy, path: &str, d: &crate::DepartmentKey) {
    if !policy.has_department(d) && !p.left_out("departments", d.as_str()) {
        p.add(path, format!("unknown department \"{d}\""));
    }
}

fn money(p: &mut Problems, policy: &Policy, path: &str, m: &Money) {
    if m.currency != policy.currency {
        p.add(
            path,
            format!("{m} is not in the policy's currency {}", policy.currency),
        );
    }
}

/// Traps a policy can be loaded with but probably does not mean: on a calendar with business
/// hours, a span counts open time, so a window or business target of whole days is days of 24
/// open hours, not days as the law counts them.
pub(super) fn warnings(policy: &Policy) -> Vec<Problem> {
    let mut p = Problems::default();
    lifecycle_traps(policy, &mut p);
    for (i, c) in policy.clocks.iter().enumerate() {
        let Some(key) = &c.calendar else { continue };
        let business_hours = policy
            .calendars
            .defs()
            .iter()
            .any(|d| &d.key == key && !d.always_open);
        if !business_hours {
            continue;
        }
        let days = |s: crate::sla::Span| {
            let secs = s.seconds();
            (secs > 0 && secs % 86_400 == 0).then_some(secs / 86_400)
        };
        for (sub, target, _) in c.all_targets() {
            let path = format!("clocks[{i}].{sub}");
            match *target {
                Target::Window {
                    not_before,
                    not_after,
                } => {
                    if let Some(to) = days(not_after) {
                        let from = not_before.seconds() / 86_400;
                        p.add(
                            format!("{path}.window"),
                            format!(
                                "on calendar \"{key}\" the window counts open time: \
                                 {not_before}..{not_after} is {}..{} open hours, not days; \
                                 for days as the law counts them write \
                                 `day_window = {{ from = {from}, to = {to} }}`",
                                not_before.seconds() / 3600,
                                not_after.seconds() / 3600,
                            ),
                        );
                    }
                }
                Target::Business(s) => {
                    if let Some(n) = days(s) {
                        p.add(
                            path,
                            format!(
                                "on calendar \"{key}\" `business = \"{s}\"` is {} open hours, \
                                 not {n} days; for days as the law counts them write \
                                 `working_days = {n}` or `days = {n}`",
                                s.seconds() / 3600
                            ),
                        );
                    }
                }
                _ => {}
            }
        }
    }
    p.0
}

/// Clocks the policy's lifecycle can never start, or never stop before the complaint ends.
fn lifecycle_traps(policy: &Policy, p: &mut Problems) {
    let can = super::reach::Possible::of(policy);
    let list = |ts: &[crate::sla::Trigger]| {
        ts.iter()
            .map(|t| format!("\"{t}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for (i, c) in policy.clocks.iter().enumerate() {
        if !can.starts(i) {
            p.add(
                format!("clocks[{i}].start_on"),
                format!(
                    "the clock can never start: none of {} happens under this policy's \
                     lifecycle, roles and steps",
                    list(&c.start_on)
                ),
            );
        } else if !c.stop_on.is_empty() && !c.stop_on.iter().any(|t| can.may(policy, t)) {
            p.add(
                format!("clocks[{i}].stop_on"),
                format!(
                    "the clock can never stop before the complaint is closed, withdrawn or \
                     merged: none of {} happens under this policy's lifecycle, roles and steps",
                    list(&c.stop_on)
                ),
            );
        }
    }
}
