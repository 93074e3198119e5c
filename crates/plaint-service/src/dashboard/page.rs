//! The dashboard's HTML, written as strings: the layout, the queue's rows, a complaint's live
//! part (stage, clocks, timeline) and its command forms. Everything a person or the policy
//! wrote goes through [`esc`].

use super::form::{self, EVIDENCE_KINDS, Field};
use super::text::Lang;
use plaint::chrono::{Duration, Utc};
use plaint::{
    Actor, ActorKind, Available, CommandKind, Complaint, ComplaintView, Event, Policy, Recorded,
    Timestamp,
};
use std::fmt::Write;

/// `text` with `& < > " '` escaped, for text and attribute values alike.
pub(crate) fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// What every page knows: who asks, in which language, under which policy, at what time.
pub(crate) struct Ctx<'a> {
    pub(crate) actor: &'a Actor,
    pub(crate) lang: Lang,
    pub(crate) policy: &'a Policy,
    pub(crate) now: Timestamp,
}

impl Ctx<'_> {
    /// A policy label in the page's language, else the policy's locale, else `key`.
    pub(crate) fn label<'b>(&self, labels: &'b plaint::policy::Labels, key: &'b str) -> &'b str {
        labels
            .get(self.lang.tag())
            .map(String::as_str)
            .or_else(|| self.policy.label(labels))
            .unwrap_or(key)
    }

    fn tier(&self, key: &str) -> String {
        let def = self.policy.tiers.iter().find(|t| t.key.as_str() == key);
        esc(def.map_or(key, |d| self.label(&d.label, key)))
    }

    fn department(&self, key: &str) -> String {
        let def = self
            .policy
            .departments
            .iter()
            .find(|t| t.key.as_str() == key);
        esc(def.map_or(key, |d| self.label(&d.label, key)))
    }

    fn category(&self, path: &plaint::CategoryPath) -> String {
        let mut nodes = &self.policy.categories;
        let mut names = Vec::new();
        for level in path.levels() {
            match nodes.iter().find(|n| &n.key == level) {
                Some(n) => {
                    names.push(self.label(&n.label, n.key.as_str()).to_owned());
                    nodes = &n.children;
                }
                None => names.push(level.as_str().to_owned()),
            }
        }
        esc(&names.join(" / "))
    }

    /// An instant in the policy's time zone.
    pub(crate) fn time(&self, at: Timestamp) -> String {
        at.with_timezone(&self.policy.time_zone())
            .format("%Y-%m-%d %H:%M")
            .to_string()
    }

    /// How long until `due`, or how long it is overdue.
    fn left(&self, due: Timestamp) -> String {
        let d = due - self.now;
        if d < Duration::zero() {
            format!("{} {}", self.lang.t("overdue"), span(-d, self.lang))
        } else {
            span(d, self.lang)
        }
    }

    fn is_staff(&self) -> bool {
        matches!(self.actor.kind, ActorKind::Staff { .. })
    }
}

/// A duration as days, hours and minutes (the two largest parts).
fn span(d: Duration, lang: Lang) -> String {
    let mins = d.num_minutes();
    let (days, hours, m) = (mins / 1440, mins / 60 % 24, mins % 60);
    let (du, hu, mu) = match lang {
        Lang::En => ("d", "h", "m"),
        Lang::Zh => ("天", "小时", "分"),
    };
    match (days, hours) {
        (0, 0) => format!("{m}{mu}"),
        (0, h) => format!("{h}{hu} {m}{mu}"),
        (d, h) => format!("{d}{du} {h}{hu}"),
    }
}

/// The page around `main`: head, skip link, navigation, language switch, sign-in state.
pub(crate) fn layout(ctx: &Ctx<'_>, title: &str, here: &str, main: &str) -> String {
    let lang = ctx.lang;
    let mut nav = String::new();
    let mut link = |href: &str, key: &str| {
        let current = if href == here {
            " aria-current=\"page\""
        } else {
            ""
        };
        let _ = write!(nav, "<a href=\"{href}\"{current}>{}</a>", lang.t(key));
    };
    if ctx.is_staff() {
        link("/ui", "queue");
        link("/ui/ledger", "ledger");
        link("/ui/month", "month");
    } else {
        link("/ui", "mine");
    }
    let back = esc(here);
    format!(
        "<!doctype html><html lang=\"{tag}\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<title>{title} · {app}</title><link rel=\"stylesheet\" href=\"/ui/static/dashboard.css\">\
<script src=\"/ui/static/dashboard.js\" defer></script></head><body>\
<a class=\"skip\" href=\"#main\">{skip}</a>\
<header><nav aria-label=\"{app}\">{nav}</nav><div class=\"who\">{signed} <b>{who}</b> · \
<a href=\"/ui/sign-in\">{sign_in}</a> · \
<a href=\"/ui/lang?to={other}&amp;back={back}\" lang=\"{other}\">{switch}</a></div></header>\
<main id=\"main\" tabindex=\"-1\"><h1>{title}</h1>{main}</main>\
<p class=\"live-state\" id=\"live-state\" aria-live=\"polite\"></p></body></html>",
        tag = lang.tag(),
        title = esc(title),
        app = lang.t("title"),
        skip = lang.t("skip"),
        signed = lang.t("signed_in_as"),
        who = esc(ctx.actor.id.as_str()),
        sign_in = lang.t("sign_in"),
        other = lang.other().tag(),
        switch = lang.t("lang_switch"),
    )
}

/// The queue's filters as the request gave them.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(default)]
pub(crate) struct Filters {
    pub(crate) stage: Option<String>,
    pub(crate) tier: Option<String>,
    pub(crate) department: Option<String>,
    pub(crate) breached: Option<String>,
}

/// The queue's filter form.
pub(crate) fn filters(ctx: &Ctx<'_>, f: &Filters) -> String {
    let lang = ctx.lang;
    let mut s = format!(
        "<form class=\"filters\" method=\"get\" action=\"/ui\" aria-label=\"{}\">",
        lang.t("filters")
    );
    let selected = |have: &Option<String>, v: &str| {
        if have.as_deref() == Some(v) {
            " selected"
        } else {
            ""
        }
    };
    let _ = write!(
        s,
        "<label>{}<select name=\"stage\"><option value=\"\">{}</option>",
        lang.t("stage"),
        lang.t("any")
    );
    for st in plaint::StageKind::ALL
        .iter()
        .filter(|s| s.is_handling() || **s == plaint::StageKind::Consultation)
    {
        let _ = write!(
            s,
            "<option value=\"{}\"{}>{}</option>",
            st.name(),
            selected(&f.stage, st.name()),
            lang.stage(*st)
        );
    }
    let _ = write!(
        s,
        "</select></label><label>{}<select name=\"tier\"><option value=\"\">{}</option>",
        lang.t("tier"),
        lang.t("any")
    );
    for t in &ctx.policy.tiers {
        let _ = write!(
            s,
            "<option value=\"{k}\"{sel}>{name}</option>",
            k = esc(t.key.as_str()),
            sel = selected(&f.tier, t.key.as_str()),
            name = ctx.tier(t.key.as_str())
        );
    }
    let _ = write!(
        s,
        "</select></label><label>{}<select name=\"department\">",
        lang.t("department")
    );
    if matches!(
        ctx.actor.kind,
        ActorKind::Staff {
            department: Some(_),
            ..
        }
    ) {
        let _ = write!(s, "<option value=\"\">{}</option>", lang.t("my_department"));
    }
    let _ = write!(
        s,
        "<option value=\"all\"{}>{}</option>",
        selected(&f.department, "all"),
        lang.t("all_departments")
    );
    for d in &ctx.policy.departments {
        let _ = write!(
            s,
            "<option value=\"{k}\"{sel}>{name}</option>",
            k = esc(d.key.as_str()),
            sel = selected(&f.department, d.key.as_str()),
            name = ctx.department(d.key.as_str())
        );
    }
    let checked = if f.breached.as_deref() == Some("true") {
        " checked"
    } else {
        ""
    };
    let _ = write!(
        s,
        "</select></label><label class=\"check\"><input type=\"checkbox\" name=\"breached\" \
value=\"true\"{checked}> {}</label><button type=\"submit\">{}</button></form>",
        lang.t("only_breached"),
        lang.t("apply")
    );
    s
}

/// The clock a queue row shows: a breached one first, else the running one due soonest.
fn queue_clock(c: &Complaint) -> Option<&plaint::sla::ClockState> {
    c.clocks
        .iter()
        .filter(|k| k.outcome.is_none())
        .min_by_key(|k| {
            (
                !k.breached,
                k.schedule
                    .deadline
                    .unwrap_or(plaint::chrono::DateTime::<Utc>::MAX_UTC),
            )
        })
}

/// The queue's table: one row per complaint, in the order given (nearest deadline first).
pub(crate) fn queue_table(ctx: &Ctx<'_>, items: &[ComplaintView], count: &str) -> String {
    let lang = ctx.lang;
    if items.is_empty() {
        return format!(
            "<div id=\"queue\" data-live=\"queue\"><p>{}</p></div>",
            lang.t("empty")
        );
    }
    // Responsibility and clocks are staff's records: a complainant's rows say when it came.
    let columns: &[&str] = if ctx.is_staff() {
        &[
            "stage",
            "tier",
            "category",
            "department",
            "clock",
            "due",
            "left",
        ]
    } else {
        &["stage", "category", "received_at"]
    };
    let mut s = format!(
        "<div id=\"queue\" data-live=\"queue\"><p class=\"count\">{} {}</p>\
<div class=\"scroll\"><table><thead><tr><th scope=\"col\">{}</th>",
        items.len(),
        lang.t(count),
        lang.t("id"),
    );
    for col in columns {
        let _ = write!(s, "<th scope=\"col\">{}</th>", lang.t(col));
    }
    s.push_str("</tr></thead><tbody>");
    let none = || lang.t("none").to_owned();
    for v in items {
        let c = &v.complaint;
        let clock = queue_clock(c);
        let breached = clock.is_some_and(|k| k.breached);
        let _ = write!(
            s,
            "<tr{cls} data-id=\"{id}\"><th scope=\"row\"><a href=\"/ui/complaints/{id}\">{id}</a></th>",
            cls = if breached { " class=\"breached\"" } else { "" },
            id = esc(c.id.as_str()),
        );
        for col in columns {
            let cell = match *col {
                "stage" => lang.stage(c.stage.kind()).to_owned(),
                "tier" => c.tier.as_ref().map_or_else(none, |t| ctx.tier(t.as_str())),
                "category" => c.category.as_ref().map_or_else(none, |p| ctx.category(p)),
                "department" => c
                    .responsibility
                    .as_ref()
                    .map_or_else(none, |r| ctx.department(r.primary.as_str())),
                "clock" => clock.map_or_else(none, |k| esc(k.clock.as_str())),
                "due" => clock
                    .and_then(|k| k.schedule.deadline)
                    .map_or_else(none, |d| ctx.time(d)),
                "left" => match clock {
                    Some(k) if k.breached => {
                        format!("<span class=\"badge bad\">{}</span>", lang.t("breached"))
                    }
                    Some(k) => k.schedule.deadline.map_or_else(none, |d| esc(&ctx.left(d))),
                    None => none(),
                },
                _ => ctx.time(c.intake.received_at),
            };
            let _ = write!(s, "<td>{cell}</td>");
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table></div></div>");
    s
}

/// A complaint's live part: its facts, clocks, the commands on offer and the timeline.
pub(crate) fn complaint_live(
    ctx: &Ctx<'_>,
    view: &ComplaintView,
    history: &[Recorded],
    offer: &Available,
) -> String {
    let lang = ctx.lang;
    let c = &view.complaint;
    let none = lang.t("none");
    let mut s = format!(
        "<div id=\"live\" data-live=\"complaint\" data-id=\"{}\" data-version=\"{}\">",
        esc(c.id.as_str()),
        c.version
    );
    let contacts: Vec<String> = c
        .intake
        .complainant
        .contacts
        .iter()
        .map(|k| esc(k.expose())) // as the view gives it: masked unless the actor may see it
        .collect();
    let mut facts: Vec<(&str, String)> = vec![
        ("stage", lang.stage(c.stage.kind()).to_owned()),
        (
            "tier",
            c.tier
                .as_ref()
                .map_or_else(|| none.to_owned(), |t| ctx.tier(t.as_str())),
        ),
        (
            "category",
            c.category
                .as_ref()
                .map_or_else(|| none.to_owned(), |p| ctx.category(p)),
        ),
    ];
    // Responsibility is staff's record: a complainant's view has none to show.
    if ctx.is_staff() {
        facts.push((
            "department",
            c.responsibility
                .as_ref()
                .map_or_else(|| none.to_owned(), |r| ctx.department(r.primary.as_str())),
        ));
    }
    facts.extend([
        ("complainant", esc(&c.intake.complainant.name)),
        (
            "contacts",
            if contacts.is_empty() {
                none.to_owned()
            } else {
                contacts.join(", ")
            },
        ),
        ("received_at", ctx.time(c.intake.received_at)),
        ("description", esc(&c.intake.description)),
    ]);
    s.push_str("<dl class=\"facts\">");
    for (key, value) in facts {
        let _ = write!(s, "<dt>{}</dt><dd id=\"{key}\">{value}</dd>", lang.t(key));
    }
    s.push_str("</dl>");
    if ctx.is_staff() {
        s.push_str(&clocks(ctx, c));
    }
    s.push_str(&commands(ctx, c, offer));
    s.push_str(&timeline(ctx, history));
    s.push_str("</div>");
    s
}

fn clocks(ctx: &Ctx<'_>, c: &Complaint) -> String {
    let lang = ctx.lang;
    let none = lang.t("none");
    let mut s = format!(
        "<section aria-labelledby=\"clocks-h\"><h2 id=\"clocks-h\">{}</h2>",
        lang.t("clocks")
    );
    if c.clocks.is_empty() {
        let _ = write!(s, "<p>{}</p></section>", lang.t("empty"));
        return s;
    }
    let _ = write!(
        s,
        "<div class=\"scroll\"><table id=\"clocks\"><thead><tr><th scope=\"col\">{}</th>\
<th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th>\
<th scope=\"col\">{}</th></tr></thead><tbody>",
        lang.t("clock"),
        lang.t("started"),
        lang.t("warning"),
        lang.t("deadline"),
        lang.t("state"),
        lang.t("left"),
    );
    for k in &c.clocks {
        let state = if k.breached {
            format!("<span class=\"badge bad\">{}</span>", lang.t("breached"))
        } else if k.outcome.is_some() {
            format!("<span class=\"badge ok\">{}</span>", lang.t("met"))
        } else if k.is_paused() {
            lang.t("paused").to_owned()
        } else {
            lang.t("running").to_owned()
        };
        let left = match (k.outcome, k.schedule.deadline) {
            (None, Some(d)) if !k.is_paused() => esc(&ctx.left(d)),
            _ => none.to_owned(),
        };
        let _ = write!(
            s,
            "<tr data-clock=\"{key}\"{cls}><th scope=\"row\">{key}</th><td>{}</td><td>{}</td><td>{}</td><td>{state}</td><td>{left}</td></tr>",
            ctx.time(k.started_at),
            k.schedule
                .warning
                .map_or_else(|| none.to_owned(), |t| ctx.time(t)),
            k.schedule
                .deadline
                .map_or_else(|| none.to_owned(), |t| ctx.time(t)),
            key = esc(k.clock.as_str()),
            cls = if k.breached && k.outcome.is_none() {
                " class=\"breached\""
            } else {
                ""
            },
        );
    }
    s.push_str("</tbody></table></div></section>");
    s
}

fn commands(ctx: &Ctx<'_>, c: &Complaint, offer: &Available) -> String {
    let lang = ctx.lang;
    let mut s = format!(
        "<section id=\"commands\" aria-labelledby=\"commands-h\"><h2 id=\"commands-h\">{}</h2>",
        lang.t("commands")
    );
    if offer.commands.is_empty() {
        let _ = write!(s, "<p>{}</p></section>", lang.t("no_commands"));
        return s;
    }
    // The commands without fields first, as a row of buttons; then a form per command.
    let (plain, filled): (Vec<CommandKind>, Vec<CommandKind>) = offer
        .commands
        .iter()
        .partition(|k| form::fields(**k).is_empty());
    if !plain.is_empty() {
        s.push_str("<div class=\"buttons\">");
    }
    for (i, kind) in plain.iter().chain(&filled).enumerate() {
        if i == plain.len() && !plain.is_empty() {
            s.push_str("</div>");
        }
        let fields = form::fields(*kind);
        let key = format!("ui:{}:{}:{}", c.version, kind.name(), ctx.actor.id.as_str());
        let key: String = key.chars().take(128).collect();
        let _ = write!(
            s,
            "<form method=\"post\" action=\"/ui/complaints/{id}/commands\" class=\"command\" data-command=\"{name}\">\
<input type=\"hidden\" name=\"command\" value=\"{name}\"><input type=\"hidden\" name=\"key\" value=\"{key}\">",
            id = esc(c.id.as_str()),
            name = kind.name(),
            key = esc(&key),
        );
        if fields.is_empty() {
            let _ = write!(
                s,
                "<button type=\"submit\">{}</button></form>",
                lang.command(*kind)
            );
            continue;
        }
        let _ = write!(s, "<fieldset><legend>{}</legend>", lang.command(*kind));
        for f in fields {
            s.push_str(&field(ctx, c, offer, *kind, *f));
        }
        let _ = write!(
            s,
            "<button type=\"submit\">{}</button></fieldset></form>",
            lang.command(*kind)
        );
    }
    if filled.is_empty() && !plain.is_empty() {
        s.push_str("</div>");
    }
    s.push_str("</section>");
    s
}

/// One labelled input; its id is unique on the page (`<command>-<field>`).
fn field(ctx: &Ctx<'_>, c: &Complaint, offer: &Available, kind: CommandKind, f: Field) -> String {
    let lang = ctx.lang;
    let id = |name: &str| format!("{}-{name}", kind.name());
    let label = |name: &str, required: bool| {
        format!(
            "{} <span class=\"hint\">({})</span>",
            lang.t(form::name_key(name)),
            lang.t(if required { "required" } else { "optional" })
        )
    };
    let select = |name: &str, required: bool, options: Vec<(String, String)>| {
        let mut s = format!(
            "<label for=\"{i}\">{l}</label><select id=\"{i}\" name=\"{name}\"{r}>",
            i = id(name),
            l = label(name, required),
            r = if required { " required" } else { "" }
        );
        for (v, text) in options {
            let _ = write!(s, "<option value=\"{}\">{}</option>", esc(&v), text);
        }
        s.push_str("</select>");
        s
    };
    match f {
        Field::Text(name, required) => format!(
            "<label for=\"{i}\">{l}</label><input id=\"{i}\" name=\"{name}\" type=\"text\"{r}>",
            i = id(name),
            l = label(if name == "into" { "into" } else { name }, required),
            r = if required { " required" } else { "" }
        ),
        Field::Check(name) => format!(
            "<label class=\"check\" for=\"{i}\"><input id=\"{i}\" name=\"{name}\" type=\"checkbox\" value=\"true\"> {}</label>",
            lang.t(name),
            i = id(name),
        ),
        Field::Number(name) => {
            let required = name == "points";
            let range = if name == "score" {
                " min=\"1\" max=\"5\""
            } else {
                ""
            };
            format!(
                "<label for=\"{i}\">{l}</label><input id=\"{i}\" name=\"{name}\" type=\"number\" step=\"1\"{range}{r}>",
                i = id(name),
                l = label(name, required),
                r = if required { " required" } else { "" }
            )
        }
        Field::Amount => format!(
            "<label for=\"{i}\">{l} {cur}</label><input id=\"{i}\" name=\"amount\" type=\"text\" inputmode=\"decimal\">",
            i = id("amount"),
            l = label("amount", false),
            cur = esc(ctx.policy.currency.as_str()),
        ),
        Field::Tier(default) => {
            let mut opts = Vec::new();
            if default {
                opts.push((String::new(), lang.t("policy_default").to_owned()));
            }
            opts.extend(
                ctx.policy
                    .tiers
                    .iter()
                    .filter(|t| default || c.tier.as_ref() != Some(&t.key))
                    .map(|t| (t.key.to_string(), ctx.tier(t.key.as_str()))),
            );
            select("tier", !default, opts)
        }
        Field::Category(name, required) => {
            let mut opts = Vec::new();
            if !required {
                opts.push((String::new(), lang.t("none").to_owned()));
            }
            categories(ctx, &ctx.policy.categories, &mut Vec::new(), &mut opts);
            select(name, required, opts)
        }
        Field::Remedy => select(
            "remedy",
            true,
            ctx.policy
                .remedies
                .iter()
                .map(|r| (r.key.to_string(), esc(ctx.label(&r.label, r.key.as_str()))))
                .collect(),
        ),
        Field::Department(by_rules) => {
            let mut opts = Vec::new();
            if by_rules {
                opts.push((String::new(), lang.t("by_rules").to_owned()));
            }
            opts.extend(
                ctx.policy
                    .departments
                    .iter()
                    .map(|d| (d.key.to_string(), ctx.department(d.key.as_str()))),
            );
            select("department", !by_rules, opts)
        }
        Field::Validity => select(
            "validity",
            true,
            [
                "valid",
                "not_responsible",
                "misunderstanding",
                "not_a_complaint",
            ]
            .iter()
            .map(|v| ((*v).to_owned(), lang.t(v).to_owned()))
            .collect(),
        ),
        Field::Action => select(
            "action",
            true,
            offer
                .actions
                .iter()
                .map(|a| {
                    let label = ctx
                        .policy
                        .action(a)
                        .map_or(a.as_str(), |d| ctx.label(&d.label, a.as_str()));
                    (a.to_string(), esc(label))
                })
                .collect(),
        ),
        Field::Clock => select(
            "clock",
            true,
            c.clocks
                .iter()
                .filter(|k| k.outcome.is_none())
                .map(|k| (k.clock.to_string(), esc(k.clock.as_str())))
                .collect(),
        ),
        Field::When(name) => format!(
            "<label for=\"{i}\">{l}</label><input id=\"{i}\" name=\"{name}\" type=\"datetime-local\" required>",
            i = id(name),
            l = label(name, true),
        ),
        Field::EvidenceKind => select(
            "kind",
            true,
            EVIDENCE_KINDS
                .iter()
                .map(|k| ((*k).to_owned(), esc(k)))
                .collect(),
        ),
    }
}

/// Every node of the category tree as an option, its path as the value.
fn categories(
    ctx: &Ctx<'_>,
    nodes: &[plaint::policy::CategoryNode],
    path: &mut Vec<String>,
    out: &mut Vec<(String, String)>,
) {
    for n in nodes {
        path.push(n.key.to_string());
        let value = path.join("/");
        let label =
            plaint::CategoryPath::parse(&value).map_or_else(|_| esc(&value), |p| ctx.category(&p));
        out.push((value, label));
        categories(ctx, &n.children, path, out);
        path.pop();
    }
}

fn timeline(ctx: &Ctx<'_>, history: &[Recorded]) -> String {
    let lang = ctx.lang;
    let mut s = format!(
        "<section aria-labelledby=\"timeline-h\"><h2 id=\"timeline-h\">{}</h2><ol class=\"timeline\" id=\"timeline\">",
        lang.t("timeline")
    );
    for r in history.iter().rev() {
        let _ = write!(
            s,
            "<li data-event=\"{ev}\"><time datetime=\"{iso}\">{when}</time> <b>{what}</b> <span class=\"who\">{who}</span>{detail}</li>",
            ev = r.event.kind().name(),
            iso = r.at.to_rfc3339(),
            when = ctx.time(r.at),
            what = lang.event(r.event.kind()),
            who = esc(r.actor.as_str()),
            detail = detail(ctx, &r.event),
        );
    }
    s.push_str("</ol></section>");
    s
}

/// A few words on what an event carried, where it carried something to say.
fn detail(ctx: &Ctx<'_>, e: &Event) -> String {
    let text = match e {
        Event::Triaged { category, tier, .. } => {
            format!("{} · {}", ctx.category(category), ctx.tier(tier.as_str()))
        }
        Event::Routed { responsibility } | Event::Reassigned { responsibility, .. } => {
            ctx.department(responsibility.primary.as_str())
        }
        Event::Explained { text } | Event::FeedbackGiven { text } => esc(text),
        Event::RemedyProposed { description, .. } => esc(description),
        Event::ApprovalDeclined { reason } => esc(reason),
        Event::TierChanged { to, reason, .. } => {
            format!("{} · {}", ctx.tier(to.as_str()), esc(reason))
        }
        Event::ProgressReported { note } => esc(note),
        Event::ClockStarted { clock, .. }
        | Event::ClockStopped { clock, .. }
        | Event::ClockWarned { clock, .. }
        | Event::ClockBreached { clock, .. } => esc(clock.as_str()),
        _ => return String::new(),
    };
    format!(" <span class=\"detail\">{text}</span>")
}

/// The answer to a refused command: the engine's code and reason, announced.
pub(crate) fn refusal(lang: Lang, code: &str, message: &str) -> String {
    format!(
        "<div class=\"alert\" role=\"alert\" id=\"refusal\" data-code=\"{}\"><b>{}:</b> {}</div>",
        esc(code),
        lang.t("refused"),
        esc(message)
    )
}
