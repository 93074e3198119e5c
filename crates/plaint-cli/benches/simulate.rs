//! `plaint simulate` on a synthetic month of express complaints (tests/data/express-month.toml:
//! 139 arrivals an hour, about 100,000 in November), replayed under express.toml and under a
//! copy with the investigation limit halved, through the release binary as a user runs it.
//! The binary prints the complaints it replayed and the rate; the bench times the whole run.
//!
//! Run: `cargo bench -p plaint-cli --bench simulate`; `PLAINT_SIM_PER_HOUR=14` for a month of
//! about 10,000 complaints.

use criterion::{Criterion, criterion_group, criterion_main};
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn simulate(c: &mut Criterion) {
    let per_hour: f64 = std::env::var("PLAINT_SIM_PER_HOUR")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(139.0);
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = here.join("../..");
    let dir = tempfile::tempdir().unwrap();
    let month = std::fs::read_to_string(here.join("tests/data/express-month.toml"))
        .unwrap()
        .replace(
            "arrivals_per_hour = 139.0",
            &format!("arrivals_per_hour = {per_hour}"),
        );
    let synthetic = dir.path().join("month.toml");
    std::fs::write(&synthetic, month).unwrap();
    let policy = root.join("examples/policies/express.toml");
    let changed = dir.path().join("express-24h.toml");
    std::fs::write(
        &changed,
        std::fs::read_to_string(&policy).unwrap().replace(
            r#"targets = { general = { elapsed = "48h" }, major = { elapsed = "24h" } }"#,
            r#"targets = { general = { elapsed = "24h" }, major = { elapsed = "12h" } }"#,
        ),
    )
    .unwrap();
    let run = || {
        let out = Command::new(env!("CARGO_BIN_EXE_plaint"))
            .arg("simulate")
            .arg("--policy")
            .arg(&policy)
            .arg("--changed")
            .arg(&changed)
            .arg("--synthetic")
            .arg(&synthetic)
            .args(["--month", "2026-11"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    eprintln!("{}", run().trim());
    let mut g = c.benchmark_group("simulate");
    g.sample_size(10);
    g.measurement_time(Duration::from_secs(60));
    g.bench_function(format!("month/{per_hour}-per-hour/two-policies"), |b| {
        b.iter(run)
    });
    g.finish();
}

criterion_group!(benches, simulate);
criterion_main!(benches);
