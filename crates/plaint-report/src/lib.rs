//! plaint-report: the monthly complaint analysis (客户投诉分析月报) — counts, time-limit
//! compliance, response and resolution times, satisfaction, repeats, recurring categories,
//! department scores and the escalation ledger — as data, Markdown, CSV and SVG charts.
//!
//! ```
//! use plaint_report::{Period, Report};
//! let store = plaint_memory::MemoryStore::new();
//! let policy = plaint_core::testing::policy();
//! let month = Period::month(2026, 11).unwrap();
//! let report = plaint_core::blocking::block_on(Report::from_store(&store, &policy, month))?;
//! assert_eq!(report.received, 0);
//! println!("{}", report.to_markdown());
//! # Ok::<(), plaint_core::StoreError>(())
//! ```

mod build;
mod csv;
mod markdown;
mod period;
mod quantiles;
mod report;
mod svg;

pub use build::ReportBuilder;
pub use period::Period;
pub use quantiles::Durations;
pub use report::{
    Compliance, ConsultationCounts, Day, DepartmentScore, LedgerEntry, Recurring, Repeats, Report,
    SatisfactionCounts, ValidityCounts,
};
pub use svg::{Chart, months_svg};
