//! The report as CSV for spreadsheets: one row per figure, `section,key,metric,value`.

use crate::Report;
use std::fmt::Display;

/// Quotes a field when it needs it (RFC 4180).
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

struct Rows(String);

impl Rows {
    fn row(&mut self, section: &str, key: &str, metric: &str, value: impl Display) {
        let value = value.to_string();
        for (i, f) in [section, key, metric, &value].into_iter().enumerate() {
            if i > 0 {
                self.0.push(',');
            }
            self.0.push_str(&field(f));
        }
        self.0.push_str("\r\n");
    }

    fn opt(&mut self, section: &str, key: &str, metric: &str, value: Option<impl Display>) {
        if let Some(v) = value {
            self.row(section, key, metric, v);
        }
    }
}

impl Report {
    /// The report as CSV: a header, then `section,key,metric,value` rows (CRLF line ends).
    pub fn to_csv(&self) -> String {
        let r = self;
        let mut w = Rows(String::from("section,key,metric,value\r\n"));
        w.row("period", &r.policy, "from", r.period.from);
        w.row("period", &r.policy, "to", r.period.to);
        w.row("period", &r.policy, "zone", &r.zone);
        w.row("total", "", "received", r.received);
        if r.consultations.answered > 0 || r.consultations.converted > 0 {
            w.row("consultations", "", "answered", r.consultations.answered);
            w.row("consultations", "", "converted", r.consultations.converted);
        }
        w.row("validity", "valid", "complaints", r.validity.valid);
        w.row("validity", "invalid", "complaints", r.validity.invalid);
        w.row("validity", "undecided", "complaints", r.validity.undecided);
        for (section, map) in [
            ("stage", &r.stages),
            ("category", &r.categories),
            ("department", &r.departments),
            ("tier", &r.tiers),
            ("channel", &r.channels),
        ] {
            for (k, n) in map {
                w.row(section, k, "complaints", n);
            }
        }
        for (label, n) in &r.actions {
            w.row("action", label, "recorded", n);
        }
        for c in &r.compliance {
            let key = format!("{}/{}", c.clock, c.tier);
            for (m, v) in [
                ("cycles", c.cycles),
                ("met", c.met),
                ("early", c.early),
                ("breached", c.breached),
                ("running", c.running),
                ("warned", c.warned),
            ] {
                w.row("compliance", &key, m, v);
            }
            w.row("compliance", &key, "paused_minutes", c.paused_minutes);
            w.row("compliance", &key, "handled_count", c.handling.count);
            w.opt(
                "compliance",
                &key,
                "handled_median_minutes",
                c.handling.median_minutes,
            );
            w.opt(
                "compliance",
                &key,
                "handled_p90_minutes",
                c.handling.p90_minutes,
            );
        }
        for (key, d) in [
            ("first_response", &r.first_response),
            ("resolution", &r.resolution),
        ] {
            w.row("duration", key, "count", d.count);
            w.opt("duration", key, "median_minutes", d.median_minutes);
            w.opt("duration", key, "p90_minutes", d.p90_minutes);
        }
        let s = &r.satisfaction;
        for (m, v) in [
            ("feedback_given", s.feedback_given),
            ("satisfied", s.satisfied),
            ("unsatisfied", s.unsatisfied),
            ("follow_up_satisfied", s.follow_up_satisfied),
            ("follow_up_unsatisfied", s.follow_up_unsatisfied),
            ("scored", s.scored),
        ] {
            w.row("satisfaction", "", m, v);
        }
        w.opt(
            "satisfaction",
            "",
            "mean_score",
            s.mean_score.map(|m| format!("{m:.2}")),
        );
        w.row("repeats", "", "window_days", r.repeats.window_days);
        w.row(
            "repeats",
            "",
            "same_complainant",
            r.repeats.same_complainant,
        );
        w.row("repeats", "", "same_order", r.repeats.same_order);
        for id in &r.repeats.complaints {
            w.row("repeats", id, "repeat", 1);
        }
        for c in &r.recurring {
            w.row("recurring", &c.category, "count", c.count);
            w.row("recurring", &c.category, "previous", c.previous);
            w.row("recurring", &c.category, "change", c.change());
        }
        for d in &r.scores {
            w.row("score", &d.department, "complaints", d.complaints);
            w.row("score", &d.department, "breaches", d.breaches);
            w.row("score", &d.department, "decided_cycles", d.decided_cycles);
            w.row("score", &d.department, "met_cycles", d.met_cycles);
            w.row("score", &d.department, "points", format!("{:.2}", d.points));
        }
        for e in &r.ledger {
            let key = format!("{}/{}/{}", e.complaint, e.clock, e.rung);
            w.row("ledger", &key, "at", e.at.to_rfc3339());
        }
        for d in &r.daily {
            w.row("daily", &d.date.to_string(), "received", d.received);
            w.row("daily", &d.date.to_string(), "closed", d.closed);
        }
        w.0
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn fields_are_quoted_when_needed() {
        assert_eq!(super::field("a,b"), "\"a,b\"");
        assert_eq!(super::field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(super::field("plain"), "plain");
    }
}
