//! The report's charts as small, self-contained SVG documents, written by hand: three plain
//! bar charts need no plotting crate (and no fonts: the viewer draws the text).

use crate::Report;
use std::fmt::Write;

/// A chart of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Chart {
    /// Time limits met per department, in percent.
    Compliance,
    /// Complaints received and closed per day.
    Trend,
    /// The recurring categories against the previous period.
    Categories,
}

impl Chart {
    /// All charts.
    pub const ALL: [Chart; 3] = [Chart::Compliance, Chart::Trend, Chart::Categories];

    /// A file name for it (`compliance.svg`, …).
    pub fn file_name(self) -> &'static str {
        match self {
            Chart::Compliance => "compliance.svg",
            Chart::Trend => "trend.svg",
            Chart::Categories => "categories.svg",
        }
    }
}

const WIDTH: f64 = 640.0;
const LABEL: f64 = 170.0;
const BAR: f64 = 22.0;
const BLUE: &str = "#2f6db5";
const GREY: &str = "#b9c3cf";
const GREEN: &str = "#3c9a5f";

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

struct Svg {
    out: String,
    height: f64,
}

impl Svg {
    fn new(title: &str, height: f64) -> Self {
        let mut out = String::new();
        let _ = write!(
            out,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="sans-serif" font-size="12"><rect width="100%" height="100%" fill="white"/><text x="10" y="22" font-size="15" font-weight="bold">{}</text>"#,
            escape(title)
        );
        Self { out, height }
    }

    fn text(&mut self, x: f64, y: f64, anchor: &str, s: &str) {
        let _ = write!(
            self.out,
            r#"<text x="{x:.1}" y="{y:.1}" text-anchor="{anchor}">{}</text>"#,
            escape(s)
        );
    }

    fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str) {
        let _ = write!(
            self.out,
            r#"<rect x="{x:.1}" y="{y:.1}" width="{:.1}" height="{:.1}" fill="{fill}"/>"#,
            w.max(0.0),
            h.max(0.0)
        );
    }

    fn finish(mut self) -> String {
        if self.height <= 40.0 {
            self.text(10.0, 40.0, "start", "no data");
        }
        self.out.push_str("</svg>\n");
        self.out
    }
}

/// Horizontal bars: a label, one or two values against `max`, a value text.
fn hbars(title: &str, rows: &[(String, f64, Option<f64>, String)], max: f64) -> String {
    let height = 40.0 + rows.len() as f64 * (BAR + 8.0) + 10.0;
    let mut svg = Svg::new(title, if rows.is_empty() { 40.0 } else { height });
    let span = WIDTH - LABEL - 160.0;
    for (i, (label, value, second, text)) in rows.iter().enumerate() {
        let y = 40.0 + i as f64 * (BAR + 8.0);
        svg.text(LABEL - 8.0, y + BAR * 0.7, "end", label);
        if let Some(second) = second {
            svg.rect(LABEL, y + BAR * 0.55, span * second / max, BAR * 0.45, GREY);
            svg.rect(LABEL, y, span * value / max, BAR * 0.55, BLUE);
        } else {
            svg.rect(LABEL, y, span * value / max, BAR, BLUE);
        }
        svg.text(
            LABEL + span * value.max(second.unwrap_or(0.0)) / max + 6.0,
            y + BAR * 0.7,
            "start",
            text,
        );
    }
    svg.finish()
}

impl Report {
    /// A chart as an SVG document.
    pub fn svg(&self, chart: Chart) -> String {
        match chart {
            Chart::Compliance => {
                let rows: Vec<_> = self
                    .scores
                    .iter()
                    .filter_map(|d| {
                        let p = d.met_percent()?;
                        Some((
                            d.department.clone(),
                            p,
                            None,
                            format!("{p:.0} % of {}", d.decided_cycles),
                        ))
                    })
                    .collect();
                hbars(
                    &format!("Time limits met by department, {}", self.period),
                    &rows,
                    100.0,
                )
            }
            Chart::Categories => {
                let max = self
                    .recurring
                    .iter()
                    .map(|c| c.count.max(c.previous))
                    .max()
                    .unwrap_or(1)
                    .max(1) as f64;
                let rows: Vec<_> = self
                    .recurring
                    .iter()
                    .map(|c| {
                        let text =
                            format!("{} (before: {}, {:+})", c.count, c.previous, c.change());
                        (
                            c.category.clone(),
                            c.count as f64,
                            Some(c.previous as f64),
                            text,
                        )
                    })
                    .collect();
                hbars(
                    &format!("Top categories, {} (grey: previous period)", self.period),
                    &rows,
                    max,
                )
            }
            Chart::Trend => self.trend(),
        }
    }

    fn trend(&self) -> String {
        let days = self.daily.len().max(1) as f64;
        let max = self
            .daily
            .iter()
            .map(|d| d.received.max(d.closed))
            .max()
            .unwrap_or(0)
            .max(1) as f64;
        let (top, bottom, left) = (40.0, 250.0, 40.0);
        let mut svg = Svg::new(
            &format!(
                "Received (blue) and closed (green) per day, {}",
                self.period
            ),
            280.0,
        );
        let step = (WIDTH - left - 10.0) / days;
        svg.text(left - 6.0, top + 4.0, "end", &format!("{max}"));
        svg.text(left - 6.0, bottom, "end", "0");
        let mut line = String::new();
        for (i, d) in self.daily.iter().enumerate() {
            let x = left + i as f64 * step;
            let h = (bottom - top) * d.received as f64 / max;
            svg.rect(x + step * 0.15, bottom - h, step * 0.7, h, BLUE);
            let y = bottom - (bottom - top) * d.closed as f64 / max;
            let _ = write!(
                line,
                "{}{:.1},{:.1}",
                if i == 0 { "" } else { " " },
                x + step / 2.0,
                y
            );
            if i % 7 == 0 {
                svg.text(
                    x + step / 2.0,
                    bottom + 16.0,
                    "middle",
                    &d.date.format("%m-%d").to_string(),
                );
            }
        }
        let _ = write!(
            svg.out,
            r#"<polyline points="{line}" fill="none" stroke="{GREEN}" stroke-width="2"/>"#
        );
        svg.finish()
    }
}

/// The trend across several periods (a year of monthly reports, say): complaints received per
/// period as bars, with the share of time limits met written above each.
///
/// ```
/// use plaint_report::{Period, Report, months_svg};
/// let store = plaint_memory::MemoryStore::new();
/// let policy = plaint_core::testing::policy();
/// let reports: Vec<Report> = (9..=11)
///     .map(|m| Period::month(2026, m).unwrap())
///     .map(|month| plaint_core::blocking::block_on(Report::from_store(&store, &policy, month)))
///     .collect::<Result<_, _>>()?;
/// assert_eq!(months_svg(&reports).matches("<rect").count(), 1 + 3);
/// # Ok::<(), plaint_core::StoreError>(())
/// ```
pub fn months_svg(reports: &[Report]) -> String {
    let (top, bottom, left) = (50.0, 240.0, 40.0);
    let mut svg = Svg::new(
        "Complaints received per period (time limits met above)",
        280.0,
    );
    let max = reports.iter().map(|r| r.received).max().unwrap_or(0).max(1) as f64;
    let step = (WIDTH - left - 10.0) / reports.len().max(1) as f64;
    svg.text(left - 6.0, top + 4.0, "end", &format!("{max}"));
    svg.text(left - 6.0, bottom, "end", "0");
    for (i, r) in reports.iter().enumerate() {
        let x = left + i as f64 * step;
        let h = (bottom - top) * r.received as f64 / max;
        svg.rect(x + step * 0.15, bottom - h, step * 0.7, h, BLUE);
        let (met, decided) = r.compliance.iter().fold((0, 0), |(m, d), c| {
            (m + c.met, d + c.met + c.early + c.breached)
        });
        if decided > 0 {
            let p = format!("{:.0} %", met as f64 * 100.0 / decided as f64);
            svg.text(x + step / 2.0, bottom - h - 6.0, "middle", &p);
        }
        let label = r.period.from.format("%Y-%m").to_string();
        svg.text(x + step / 2.0, bottom + 16.0, "middle", &label);
    }
    svg.finish()
}
