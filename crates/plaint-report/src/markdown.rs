//! The report as Markdown, for people.

use crate::Report;
use crate::quantiles::Durations;
use std::collections::BTreeMap;
use std::fmt::Write;

/// Minutes as `3 d 4 h 05 min`.
pub(crate) fn minutes(m: Option<i64>) -> String {
    let Some(m) = m else { return "–".into() };
    let (d, h, min) = (m / 1440, m % 1440 / 60, m % 60);
    match (d, h) {
        (0, 0) => format!("{min} min"),
        (0, _) => format!("{h} h {min:02} min"),
        _ => format!("{d} d {h} h {min:02} min"),
    }
}

fn percent(p: Option<f64>) -> String {
    p.map_or("–".into(), |p| format!("{p:.1} %"))
}

fn counts(out: &mut String, title: &str, what: &str, map: &BTreeMap<String, u64>) {
    let _ = writeln!(out, "\n## {title}\n\n| {what} | complaints |\n|---|---:|");
    for (k, n) in map {
        let _ = writeln!(out, "| {k} | {n} |");
    }
}

fn durations(out: &mut String, what: &str, d: &Durations) {
    let _ = writeln!(
        out,
        "| {what} | {} | {} | {} |",
        d.count,
        minutes(d.median_minutes),
        minutes(d.p90_minutes)
    );
}

impl Report {
    /// The report as a Markdown document.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let r = self;
        let _ = writeln!(
            out,
            "# Complaint analysis: {}, {} ({})\n\n{} complaints received: {} valid, {} invalid, {} not yet judged.",
            r.policy,
            r.period,
            r.zone,
            r.received,
            r.validity.valid,
            r.validity.invalid,
            r.validity.undecided
        );
        let c = &r.consultations;
        if c.answered > 0 || c.converted > 0 {
            let _ = writeln!(
                out,
                "\nConsultations answered at first contact (not complaints): {}. Complaints that began as a consultation: {}.",
                c.answered, c.converted
            );
        }
        counts(&mut out, "Where they are now", "stage", &r.stages);
        counts(&mut out, "By category", "category", &r.categories);
        counts(&mut out, "By department", "department", &r.departments);
        counts(&mut out, "By tier", "tier", &r.tiers);
        counts(&mut out, "By channel", "channel", &r.channels);
        if !r.actions.is_empty() {
            let _ = writeln!(out, "\n## Actions\n\n| action | recorded |\n|---|---:|");
            for (label, n) in &r.actions {
                let _ = writeln!(out, "| {label} | {n} |");
            }
        }

        let _ = writeln!(
            out,
            "\n## Time limits\n\n| clock | tier | cycles | met | early | breached | running | warned | paused | met % | handled in (median) |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
        );
        for c in &r.compliance {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                c.clock,
                c.tier,
                c.cycles,
                c.met,
                c.early,
                c.breached,
                c.running,
                c.warned,
                minutes(Some(c.paused_minutes)),
                percent(c.met_percent()),
                minutes(c.handling.median_minutes)
            );
        }

        let _ = writeln!(
            out,
            "\n## Response times\n\n| from receipt to | complaints | median | 90 % within |\n|---|---:|---:|---:|"
        );
        durations(&mut out, "acknowledgement", &r.first_response);
        durations(&mut out, "closing", &r.resolution);

        let s = &r.satisfaction;
        let _ = writeln!(
            out,
            "\n## Satisfaction\n\nResults told: {}. Satisfied: {}, not satisfied: {}. Follow-up calls: {} satisfied, {} not. Mean score: {} ({} answers).",
            s.feedback_given,
            s.satisfied,
            s.unsatisfied,
            s.follow_up_satisfied,
            s.follow_up_unsatisfied,
            s.mean_score.map_or("–".into(), |m| format!("{m:.2}")),
            s.scored
        );

        let p = &r.repeats;
        let _ = writeln!(
            out,
            "\n## Repeat complaints\n\nWithin {} days: {} from the same complainant, {} about the same order.{}",
            p.window_days,
            p.same_complainant,
            p.same_order,
            if p.complaints.is_empty() {
                String::new()
            } else {
                format!(" Repeats: {}.", p.complaints.join(", "))
            }
        );

        let _ = writeln!(
            out,
            "\n## Recurring categories\n\n| rank | category | complaints | previous period | change |\n|---:|---|---:|---:|---:|"
        );
        for (i, c) in r.recurring.iter().enumerate() {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {:+} |",
                i + 1,
                c.category,
                c.count,
                c.previous,
                c.change()
            );
        }

        let _ = writeln!(
            out,
            "\n## Department scores\n\n| department | complaints | breaches | time limits met | points |\n|---|---:|---:|---:|---:|"
        );
        for d in &r.scores {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {:.2} |",
                d.department,
                d.complaints,
                d.breaches,
                percent(d.met_percent()),
                d.points
            );
        }

        let _ = writeln!(out, "\n## Escalation ledger\n");
        if r.ledger.is_empty() {
            let _ = writeln!(out, "No entries.");
        } else {
            let zone: chrono_tz::Tz = r.zone.parse().unwrap_or(chrono_tz::UTC);
            let _ = writeln!(
                out,
                "| when | complaint | clock | rung | tier | department |\n|---|---|---|---:|---|---|"
            );
            for e in &r.ledger {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {} | {} |",
                    e.at.with_timezone(&zone).format("%Y-%m-%d %H:%M"),
                    e.complaint,
                    e.clock,
                    e.rung,
                    e.tier.as_deref().unwrap_or("–"),
                    e.department.as_deref().unwrap_or("–")
                );
            }
        }
        out
    }
}
