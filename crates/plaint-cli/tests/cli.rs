//! The `plaint` binary, run as a user runs it: on the shipped policies, the broken-policy
//! corpus, a policy with warnings, and a store written through the engine.

use plaint::blocking::Engine;
use plaint_core::testing;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Runs `plaint` with `args`: its exit status and standard output.
fn plaint(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_plaint"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("the binary runs");
    (
        out.status.code().expect("exited"),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// A FileStore in `dir/store` holding `received` complaints received through the engine, the
/// first `withdrawn` of them withdrawn; closed, so the binary can open it.
fn written_store(dir: &Path, received: usize, withdrawn: usize) -> PathBuf {
    let store = dir.join("store");
    let opened = plaint::FileStore::open(&store, plaint::file::Options::new()).unwrap();
    let clock = Arc::new(plaint::ManualClock::new(testing::t(1)));
    let engine = Engine::builder(opened.store, testing::policy())
        .clock(clock)
        .build();
    for i in 0..received {
        let id = plaint::ComplaintId::new(format!("C-{i}")).unwrap();
        let receive = plaint::Command::Receive(Arc::new(testing::intake(testing::t(0))));
        let command = plaint::CommandId::new(format!("r-{i}")).unwrap();
        engine
            .execute(command, &id, receive, &testing::agent())
            .unwrap();
    }
    for i in 0..withdrawn {
        let id = plaint::ComplaintId::new(format!("C-{i}")).unwrap();
        let withdraw = plaint::Command::Withdraw { reason: None };
        let command = plaint::CommandId::new(format!("w-{i}")).unwrap();
        engine
            .execute(command, &id, withdraw, &testing::agent())
            .unwrap();
    }
    engine.into_store().close().unwrap();
    store
}

#[test]
fn the_shipped_policies_check_clean() {
    let (code, out, _) = plaint(&[
        "check",
        "examples/policies/express.toml",
        "examples/policies/hotel.toml",
        "examples/policies/supermarket.toml",
    ]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        out.lines().filter(|l| l.ends_with(": ok")).count(),
        3,
        "{out}"
    );
}

#[test]
fn every_broken_policy_fails_with_its_problems_at_their_lines() {
    let dir = root().join("tests/policies/bad");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() > 40);
    let (mut findings, mut located) = (0, 0);
    for file in &files {
        let name = file.strip_prefix(root()).unwrap().display().to_string();
        let (code, out, err) = plaint(&["check", &name]);
        assert_eq!(code, 2, "{name} must fail:\n{out}{err}");
        for line in out.lines() {
            assert!(
                line.starts_with(&name) && line.contains(": error: "),
                "{line}"
            );
            findings += 1;
            let mut parts = line[name.len()..].split(':');
            parts.next();
            let numbers = (parts.next(), parts.next());
            if let (Some(l), Some(c)) = numbers
                && l.parse::<usize>().is_ok()
                && c.parse::<usize>().is_ok()
            {
                located += 1;
            }
        }
    }
    // Only a required key missing from the top level has no place in the file.
    assert!(
        located + 1 >= findings,
        "{located} of {findings} findings located"
    );
    let (_, out, _) = plaint(&["check", "tests/policies/bad/01-unknown-default-tier.toml"]);
    assert_eq!(
        out.trim(),
        "tests/policies/bad/01-unknown-default-tier.toml:7:1: error: default_tier: unknown tier \"urgent\""
    );
}

#[test]
fn json_output_names_file_severity_path_line_and_column() {
    let (code, out, _) = plaint(&[
        "check",
        "--format",
        "json",
        "tests/policies/bad/01-unknown-default-tier.toml",
        "examples/policies/hotel.toml",
    ]);
    assert_eq!(code, 2);
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report[0]["findings"][0]["severity"], "error");
    assert_eq!(report[0]["findings"][0]["path"], "default_tier");
    assert_eq!(report[0]["findings"][0]["line"], 7);
    assert_eq!(report[0]["findings"][0]["column"], 1);
    assert_eq!(report[1]["findings"], serde_json::json!([]));
}

#[test]
fn a_policy_with_only_warnings_exits_1_and_a_syntax_error_is_located() {
    let dir = tempfile::tempdir().unwrap();
    let base = include_str!("../../plaint-core/src/testing/policy.toml");
    let without_approval: String = base
        .lines()
        .filter(|l| !l.starts_with("approval = "))
        .collect::<Vec<_>>()
        .join("\n");
    let clock = "\n[[clocks]]\nkey = \"approved\"\nstart_on = [\"approval_granted\"]\n\
        stop_on = [\"closed\"]\ntargets = { general = { elapsed = \"1h\" } }\n";
    let warned = dir.path().join("warned.toml");
    std::fs::write(&warned, format!("{without_approval}{clock}")).unwrap();
    let (code, out, _) = plaint(&["check", warned.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(": warning: clocks[0].start_on: the clock can never start"),
        "{out}"
    );
    let broken = dir.path().join("broken.toml");
    std::fs::write(&broken, "format = 2\nid = \"x\"\nname = [unclosed\n").unwrap();
    let (code, out, _) = plaint(&["check", broken.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(out.contains("broken.toml:3:"), "{out}");
}

#[test]
fn diagram_and_schema_print_what_they_name() {
    let (code, out, _) = plaint(&["diagram", "examples/policies/express.toml"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("stateDiagram-v2"), "{out}");
    let edges = out.lines().filter(|l| l.contains(" --> ")).count();
    let (code, dot, _) = plaint(&[
        "diagram",
        "--format",
        "dot",
        "examples/policies/express.toml",
    ]);
    assert_eq!(code, 0);
    assert!(dot.starts_with("digraph lifecycle {"), "{dot}");
    assert_eq!(
        dot.lines().filter(|l| l.contains(" -> ")).count(),
        edges,
        "every edge drawn"
    );
    for kind in ["policy", "command", "view-page", "list-query"] {
        let (code, out, _) = plaint(&["schema", kind]);
        assert_eq!(code, 0);
        let schema: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert!(
            schema.get("$schema").is_some() || schema.get("title").is_some(),
            "{kind}"
        );
    }
    let (code, _, err) = plaint(&["diagram", "no/such/policy.toml"]);
    assert_eq!(code, 2);
    assert!(err.contains("no/such/policy.toml"), "{err}");
}

#[test]
fn report_reads_a_file_store_written_by_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    let store = written_store(dir.path(), 3, 0);
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        include_str!("../../plaint-core/src/testing/policy.toml"),
    )
    .unwrap();
    let month = testing::t(0).format("%Y-%m").to_string();
    let (store, policy) = (store.to_str().unwrap(), policy.to_str().unwrap());
    let (code, out, err) = plaint(&[
        "report", store, "--month", &month, "--policy", policy, "--format", "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["received"], 3, "{out}");
    let charts = dir.path().join("charts");
    let (code, out, _) = plaint(&[
        "report",
        store,
        "--month",
        &month,
        "--policy",
        policy,
        "--format",
        "svg",
        "--out",
        charts.to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 3);
    assert!(
        std::fs::read_to_string(charts.join("compliance.svg"))
            .unwrap()
            .starts_with("<svg")
    );
    let (code, _, err) = plaint(&["report", store, "--month", "2026-13", "--policy", policy]);
    assert_eq!(code, 2);
    assert!(err.contains("expected YYYY-MM"), "{err}");
}

#[test]
fn deadline_prints_the_due_instants_in_local_time() {
    let from = "2026-11-20T17:30:00+08:00";
    let (code, out, _) = plaint(&[
        "deadline",
        "examples/policies/express.toml",
        "--clock",
        "investigation",
        "--tier",
        "major",
        "--from",
        from,
    ]);
    assert_eq!(code, 0);
    // 24 hours for a major complaint, warned at 75 %, rungs 4 and 8 hours after the deadline.
    assert_eq!(
        out,
        "clock investigation, tier major, times in Asia/Shanghai\n\
         counts from  2026-11-20 17:30:00 CST (Fri)\n\
         warning      2026-11-21 11:30:00 CST (Sat)\n\
         deadline     2026-11-21 17:30:00 CST (Sat)\n\
         rung 1       2026-11-21 21:30:00 CST (Sat)\n\
         rung 2       2026-11-22 01:30:00 CST (Sun)\n"
    );
    // The channel's own target wins over the tier's: 15 minutes through the app.
    let (_, out, _) = plaint(&[
        "deadline",
        "examples/policies/express.toml",
        "--clock",
        "acknowledge",
        "--tier",
        "major",
        "--from",
        from,
        "--channel",
        "app",
    ]);
    assert!(
        out.contains("deadline     2026-11-20 17:45:00 CST (Fri)"),
        "{out}"
    );
    let (code, _, err) = plaint(&[
        "deadline",
        "examples/policies/express.toml",
        "--clock",
        "investigation",
        "--tier",
        "major",
        "--from",
        "tomorrow",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("RFC 3339"), "{err}");
}

#[test]
fn explain_says_what_each_tier_gets() {
    let (code, out, _) = plaint(&["explain", "examples/policies/express.toml"]);
    assert_eq!(code, 0);
    assert!(out.contains("Tier major (重大)"), "{out}");
    // The express policy approves every major proposal, and others by amount or remedy.
    assert!(
        out.contains("    approval: always for this tier\n"),
        "{out}"
    );
    assert!(
        out.contains("approval: for a proposal of 0.01 CNY or more, or when"),
        "{out}"
    );
    assert!(
        out.contains(
            "rung 2: 8h after the deadline, tells role general-manager, raises the tier to major"
        ),
        "{out}"
    );
    assert!(out.contains("through app: 15m of elapsed time"), "{out}");
}

#[test]
fn completions_name_every_command() {
    let (code, out, _) = plaint(&["completions", "bash"]);
    assert_eq!(code, 0);
    for command in [
        "check", "explain", "deadline", "diagram", "schema", "report",
    ] {
        assert!(out.contains(command), "{command}");
    }
}

#[test]
fn store_stats_and_checkpoint_on_a_store_written_by_the_engine() {
    let dir = tempfile::tempdir().unwrap();
    let store = written_store(dir.path(), 4, 1);
    let path = store.to_str().unwrap();
    let (code, out, err) = plaint(&["store", "stats", path]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("complaints: 4\n"), "{out}");
    assert!(out.contains("  received               3\n"), "{out}");
    assert!(out.contains("  withdrawn              1\n"), "{out}");
    let (code, out, err) = plaint(&["store", "checkpoint", path]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("checkpointed "), "{out}");
    // The checkpoint moved what it could and lost nothing.
    let (_, out, _) = plaint(&["store", "stats", path]);
    assert!(out.contains("complaints: 4\n"), "{out}");
    assert!(
        out.contains("0 segment(s) replayed") || out.contains("1 segment(s) replayed"),
        "{out}"
    );
    // A mistyped directory is an error, not a new store.
    let missing = dir.path().join("typo");
    let (code, _, err) = plaint(&["store", "checkpoint", missing.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("no store here"), "{err}");
    assert!(!missing.exists());
}

/// The store's files ending in `.{extension}`, in order.
fn files(dir: &Path, extension: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == extension))
        .collect();
    v.sort();
    v
}

#[test]
fn store_verify_is_clean_on_a_written_store_and_names_the_damage_in_a_copy() {
    let dir = tempfile::tempdir().unwrap();
    let store = written_store(dir.path(), 6, 2);
    let path = store.to_str().unwrap();
    let (code, out, err) = plaint(&["store", "verify", path]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.trim_end().ends_with(": clean"), "{out}");

    // A backup, then a byte flipped in the middle of the copy's log.
    let copy = dir.path().join("copy");
    let (code, out, err) = plaint(&["store", "backup", path, copy.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("verified clean"), "{out}");
    let segment = files(&copy, "log").pop().unwrap();
    let mut data = std::fs::read(&segment).unwrap();
    // The first frame (more frames follow it: damage, not a torn tail).
    data[30] ^= 0x01;
    std::fs::write(&segment, &data).unwrap();
    let (code, out, _) = plaint(&["store", "verify", copy.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    let expected = format!(
        "damage: {} at byte 16: checksum mismatch",
        segment.display()
    );
    assert!(out.contains(&expected), "{out}");
    assert!(out.contains("1 damaged place(s)"), "{out}");
    // Verify changed nothing.
    assert_eq!(std::fs::read(&segment).unwrap(), data);

    // A snapshot cut short.
    let copy2 = dir.path().join("copy2");
    plaint(&["store", "backup", path, copy2.to_str().unwrap()]);
    let snapshot = files(&copy2, "snap").pop().unwrap();
    let len = std::fs::metadata(&snapshot).unwrap().len();
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&snapshot)
        .unwrap();
    f.set_len(len - 3).unwrap();
    let (code, out, _) = plaint(&["store", "verify", copy2.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(&format!("damage: {} at byte ", snapshot.display())),
        "{out}"
    );

    // Nothing to read.
    let (code, _, err) = plaint(&["store", "verify", dir.path().join("typo").to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("no store here"), "{err}");
}

#[test]
fn store_restore_refuses_to_overwrite_and_restores_a_backup() {
    let dir = tempfile::tempdir().unwrap();
    let store = written_store(dir.path(), 3, 1);
    let backup = dir.path().join("backup");
    let (code, _, err) = plaint(&[
        "store",
        "backup",
        store.to_str().unwrap(),
        backup.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    // Onto the store itself (not empty): refused, nothing changed.
    let before: Vec<_> = files(&store, "log")
        .iter()
        .map(|f| std::fs::read(f).unwrap())
        .collect();
    let (code, _, err) = plaint(&[
        "store",
        "restore",
        backup.to_str().unwrap(),
        store.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("not empty"), "{err}");
    let after: Vec<_> = files(&store, "log")
        .iter()
        .map(|f| std::fs::read(f).unwrap())
        .collect();
    assert_eq!(before, after);
    // A backup holds no key table: without one, its sealed personal data cannot be restored.
    let restored = dir.path().join("restored");
    let (code, _, err) = plaint(&[
        "store",
        "restore",
        backup.to_str().unwrap(),
        restored.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("key table"), "{err}");
    let keys = store.join("keys");
    let (code, _, err) = plaint(&[
        "store",
        "restore",
        backup.to_str().unwrap(),
        restored.to_str().unwrap(),
        "--keys",
        keys.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let (_, out, _) = plaint(&["store", "stats", restored.to_str().unwrap()]);
    assert!(out.contains("complaints: 3\n"), "{out}");
}

#[test]
fn store_export_writes_a_complaints_and_a_complainants_whole_record() {
    let dir = tempfile::tempdir().unwrap();
    let store = written_store(dir.path(), 3, 1);
    let path = store.to_str().unwrap();
    let (code, out, err) = plaint(&["store", "export", path, "--complaint", "C-0"]);
    assert_eq!(code, 0, "{err}");
    // The engine's export document, as `Engine::export_complainant` gives it.
    let doc: plaint::Export = serde_json::from_str(&out).unwrap();
    assert_eq!(doc.complainant.as_str(), "cust-1");
    assert_eq!(doc.complaints.len(), 1);
    assert_eq!(doc.complaints[0].state.id.as_str(), "C-0");
    // Received, then withdrawn.
    assert!(doc.complaints[0].history.len() >= 2, "{out}");

    let (code, out, err) = plaint(&["store", "export", path, "--complainant", "cust-1"]);
    assert_eq!(code, 0, "{err}");
    let doc: plaint::Export = serde_json::from_str(&out).unwrap();
    let ids: Vec<&str> = doc.complaints.iter().map(|c| c.state.id.as_str()).collect();
    assert_eq!(ids, ["C-0", "C-1", "C-2"]);

    let (code, _, err) = plaint(&["store", "export", path, "--complainant", "nobody"]);
    assert_eq!(code, 2);
    assert!(err.contains("complainant \"nobody\" is not in"), "{err}");
    let (code, _, _) = plaint(&["store", "export", path]);
    assert_eq!(code, 2, "one of --complaint and --complainant is required");
}

/// express.toml with the investigation limit cut from 48 h to 24 h (24 h to 12 h for major).
fn express_24h(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(root().join("examples/policies/express.toml")).unwrap();
    let old = r#"targets = { general = { elapsed = "48h" }, major = { elapsed = "24h" } }"#;
    assert_eq!(
        text.matches(old).count(),
        1,
        "the investigation clock's targets"
    );
    let changed = text.replace(
        old,
        r#"targets = { general = { elapsed = "24h" }, major = { elapsed = "12h" } }"#,
    );
    let path = dir.join("express-24h.toml");
    std::fs::write(&path, changed).unwrap();
    path
}

/// The synthetic month of tests/data, thinned to `per_hour` arrivals.
fn synthetic(dir: &Path, per_hour: f64) -> PathBuf {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/express-month.toml"),
    )
    .unwrap();
    let text = text.replace(
        "arrivals_per_hour = 139.0",
        &format!("arrivals_per_hour = {per_hour}"),
    );
    let path = dir.join("month.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn simulate_a_synthetic_month_under_a_shorter_investigation_limit() {
    let dir = tempfile::tempdir().unwrap();
    let changed = express_24h(dir.path());
    let month = synthetic(dir.path(), 1.0);
    let args = [
        "simulate",
        "--policy",
        "examples/policies/express.toml",
        "--changed",
        changed.to_str().unwrap(),
        "--synthetic",
        month.to_str().unwrap(),
        "--month",
        "2026-11",
        "--format",
        "json",
    ];
    let (code, out, err) = plaint(&args);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("complaints/s"), "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    // About 720 arrivals in 30 days at one an hour.
    let n = doc["complaints"].as_u64().unwrap();
    assert!((600..850).contains(&n), "{n}");
    let outcome = |which: &str| doc[which]["outcome"].clone();
    let (a, b) = (outcome("current"), outcome("changed"));
    // The lifecycle is legal under both: nothing refused.
    assert_eq!(a["rejected"], serde_json::json!({}), "{a}");
    assert_eq!(b["rejected"], serde_json::json!({}), "{b}");
    let investigation = |o: &serde_json::Value| {
        o["breaches"]["clock"]["investigation"]
            .as_u64()
            .unwrap_or(0)
    };
    assert!(investigation(&a) > 0, "{a}");
    assert!(investigation(&b) > investigation(&a), "{a}\n{b}");
    // Only the investigation clock (and what hangs on it) changed: acknowledgements did not.
    assert_eq!(
        a["breaches"]["clock"]["acknowledge"],
        b["breaches"]["clock"]["acknowledge"]
    );
    // Deterministic: the same seed gives the same month.
    let (_, again, _) = plaint(&args);
    let again: serde_json::Value = serde_json::from_str(&again).unwrap();
    assert_eq!(again, doc);

    // The text table puts them side by side.
    let (code, out, _) = plaint(&args[..args.len() - 2]);
    assert_eq!(code, 0);
    let line = out
        .lines()
        .find(|l| l.trim_start().starts_with("clock investigation"))
        .unwrap();
    let cols: Vec<i64> = line
        .split_whitespace()
        .skip(2)
        .map(|c| c.parse().unwrap())
        .collect();
    assert_eq!(cols.len(), 3, "{line}");
    assert_eq!(cols[0], investigation(&a) as i64);
    assert_eq!(cols[1], investigation(&b) as i64);
    assert_eq!(cols[2], cols[1] - cols[0]);
    assert!(out.contains("points per department"), "{out}");
}

#[test]
fn simulate_replays_a_stores_month_without_writing_to_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = written_store(dir.path(), 5, 2);
    let before: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&store)
        .unwrap()
        .map(|e| {
            let p = e.unwrap().path();
            let data = std::fs::read(&p).unwrap();
            (p, data)
        })
        .collect();
    // The sample policy the store was written under, as a file.
    let policy = root().join("crates/plaint-core/src/testing/policy.toml");
    let month = testing::t(0).format("%Y-%m").to_string();
    let (code, out, err) = plaint(&[
        "simulate",
        "--policy",
        policy.to_str().unwrap(),
        "--changed",
        policy.to_str().unwrap(),
        "--store",
        store.to_str().unwrap(),
        "--month",
        &month,
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["complaints"], 5, "{out}");
    // 5 receipts and 2 withdrawals, all legal again under the same policy.
    assert_eq!(doc["commands"], 7, "{out}");
    assert_eq!(doc["current"]["outcome"]["accepted"], 7, "{out}");
    assert_eq!(doc["current"]["outcome"], doc["changed"]["outcome"]);
    for (path, data) in before {
        assert_eq!(std::fs::read(&path).unwrap(), data, "{path:?} changed");
    }
}

#[test]
fn verify_and_backup_run_beside_the_stores_owner() {
    let dir = tempfile::tempdir().unwrap();
    let store = written_store(dir.path(), 4, 1);
    // A service holds the store (its lock) while the operator verifies and backs it up.
    let held = plaint::FileStore::open(&store, plaint::file::Options::new()).unwrap();
    let path = store.to_str().unwrap();
    let (code, _, err) = plaint(&["store", "stats", path]);
    assert_eq!(code, 2, "stats opens the store: refused while held");
    assert!(err.contains("in use"), "{err}");
    let (code, out, err) = plaint(&["store", "verify", path]);
    assert_eq!(code, 0, "{out}{err}");
    let copy = dir.path().join("copy");
    let (code, _, err) = plaint(&["store", "backup", path, copy.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    held.store.close().unwrap();
    // The copy has no key table (erasure must reach backups); the store's opens it.
    assert!(!copy.join("keys").exists());
    plaint::file::install_keys(&store.join("keys"), &copy).unwrap();
    let (_, out, _) = plaint(&["store", "stats", copy.to_str().unwrap()]);
    assert!(out.contains("complaints: 4\n"), "{out}");
}

/// Runs SQL on the server at `url`.
#[cfg(feature = "postgres")]
fn sql(rt: &tokio::runtime::Runtime, url: &str, text: &str) {
    rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .expect("connects");
        let task = tokio::spawn(conn);
        client.batch_execute(text).await.expect("sql runs");
        drop(client);
        let _ = task.await;
    });
}

#[cfg(feature = "postgres")]
#[test]
fn report_reads_a_postgresql_database() {
    let Some(url) = std::env::var("PLAINT_PG_URL")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        println!("skipped: PLAINT_PG_URL not set");
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let schema = format!("cli_{}", std::process::id());
    sql(
        &rt,
        &url,
        &format!("DROP SCHEMA IF EXISTS {schema} CASCADE;"),
    );
    let config = plaint::postgres::PgConfig::new(&url)
        .unwrap()
        .schema(&schema)
        .unwrap();
    rt.block_on(async {
        plaint::PgStore::migrate(&config).await.unwrap();
        let store = plaint::PgStore::connect(config).await.unwrap();
        let clock = Arc::new(plaint::ManualClock::new(testing::t(1)));
        let engine = plaint::Engine::builder(store, testing::policy())
            .clock(clock)
            .build();
        for i in 0..3 {
            let id = plaint::ComplaintId::new(format!("C-{i}")).unwrap();
            let receive = plaint::Command::Receive(Arc::new(testing::intake(testing::t(0))));
            let command = plaint::CommandId::new(format!("r-{i}")).unwrap();
            engine
                .execute(command, &id, receive, &testing::agent())
                .await
                .unwrap();
        }
    });
    let policy = "crates/plaint-core/src/testing/policy.toml";
    let args = [
        "report", &url, "--schema", &schema, "--month", "2026-11", "--policy", policy, "--format",
        "json",
    ];
    let (code, out, err) = plaint(&args);
    let (bad_code, _, bad_err) = plaint(&[
        "report",
        &url,
        "--schema",
        "no_such_schema_here",
        "--month",
        "2026-11",
        "--policy",
        policy,
    ]);
    sql(
        &rt,
        &url,
        &format!("DROP SCHEMA IF EXISTS {schema} CASCADE;"),
    );
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["received"], 3, "{out}");
    assert_eq!(bad_code, 2);
    assert!(bad_err.contains("PostgreSQL"), "{bad_err}");
}

/// The sample policy with its clocks, as one file (what `testing::sla_policy` parses).
fn sla_policy_file(dir: &Path) -> PathBuf {
    let core = root().join("crates/plaint-core/src/testing");
    let text = std::fs::read_to_string(core.join("policy.toml")).unwrap()
        + &std::fs::read_to_string(core.join("clocks.toml")).unwrap();
    let path = dir.join("sla.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn simulate_under_the_same_policy_reproduces_the_stores_month() {
    use plaint::{CategoryPath, Command as C, Currency, Findings, Money, Party, Responsibility};
    let dir = tempfile::tempdir().unwrap();
    let policy_file = sla_policy_file(dir.path());
    let store = dir.path().join("store");
    let opened = plaint::FileStore::open(&store, plaint::file::Options::new()).unwrap();
    let clock = Arc::new(plaint::ManualClock::new(testing::t(0)));
    let engine = Engine::builder(opened.store, testing::sla_policy())
        .clock(Arc::clone(&clock))
        .build();
    let cny = Currency::new("CNY").unwrap();
    // Complaint k is handled at a pace of 4(k + 1) hours a step (all within November): the slow ones breach and climb.
    let mut work = Vec::new();
    for k in 0..6i64 {
        let script = vec![
            (
                C::Receive(Arc::new(testing::intake(testing::t(k * 5)))),
                testing::agent(),
            ),
            (C::Acknowledge, testing::agent()),
            (
                C::Triage {
                    category: CategoryPath::parse("logistics/delay").unwrap(),
                    tier: None,
                    validity: plaint::Validity::Valid,
                },
                testing::agent(),
            ),
            (
                C::Route {
                    responsibility: Some(Responsibility {
                        primary: "hub".try_into().unwrap(),
                        collaborating: vec!["outlet".try_into().unwrap()],
                        party: Party::Internal {
                            unit: "hub-3".into(),
                        },
                    }),
                },
                testing::agent(),
            ),
            (
                C::RecordFindings {
                    findings: Findings {
                        summary: "backlog".into(),
                        records: vec![],
                    },
                    root_cause: None,
                },
                testing::agent(),
            ),
            (
                C::Propose {
                    remedy: "compensation".try_into().unwrap(),
                    description: "refund".into(),
                    amount: Some(Money::new(1_200, cny)),
                },
                testing::agent(),
            ),
            (C::Approve { note: None }, testing::manager()),
            (C::AcceptProposal { agreement: None }, testing::customer()),
            (
                C::RecordExecution {
                    action: "refunded".into(),
                    reference: None,
                    finished: true,
                },
                testing::agent(),
            ),
            (
                C::GiveFeedback {
                    text: "refunded".into(),
                },
                testing::agent(),
            ),
            (
                C::ConfirmSatisfaction(plaint::Satisfaction {
                    satisfied: true,
                    score: Some(4),
                    comment: None,
                }),
                testing::customer(),
            ),
            (C::Close, testing::agent()),
        ];
        for (i, (command, actor)) in script.into_iter().enumerate() {
            let at = testing::t(k * 5) + plaint::chrono::Duration::hours(4 * (k + 1) * i as i64);
            work.push((at, k, i, command, actor));
        }
    }
    work.sort_by_key(|w| w.0);
    let mut accepted = 0;
    for (at, k, i, command, actor) in work {
        clock.set(at);
        engine.tick().unwrap();
        let id = plaint::ComplaintId::new(format!("C-{k}")).unwrap();
        let cid = plaint::CommandId::new(format!("c-{k}-{i}")).unwrap();
        // A complaint raised to major needs a follow-up before closing: that close is refused
        // (and not in the history, so not replayed).
        if engine.execute(cid, &id, command, &actor).is_ok() {
            accepted += 1;
        }
    }
    engine.into_store().close().unwrap();

    let (p, s) = (policy_file.to_str().unwrap(), store.to_str().unwrap());
    let (code, out, err) = plaint(&[
        "report", s, "--policy", p, "--month", "2026-11", "--format", "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let (code, out, err) = plaint(&[
        "simulate",
        "--policy",
        p,
        "--changed",
        p,
        "--store",
        s,
        "--month",
        "2026-11",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let sim: serde_json::Value = serde_json::from_str(&out).unwrap();
    let outcome = &sim["current"]["outcome"];
    assert_eq!(outcome["accepted"], accepted, "{outcome}");
    assert_eq!(outcome["rejected"], serde_json::json!({}));
    assert!(
        outcome["breaches"]["total"].as_u64().unwrap() > 0,
        "{outcome}"
    );
    // The replay's points per department are the stored month's, to the decimal.
    let stored: serde_json::Map<String, serde_json::Value> = report["scores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["department"].as_str().unwrap().to_owned(),
                s["points"].clone(),
            )
        })
        .collect();
    assert!(stored.len() >= 2, "{report}");
    assert_eq!(
        outcome["points"],
        serde_json::Value::Object(stored),
        "{outcome}"
    );
    let ledger = report["ledger"].as_array().unwrap().len() as u64;
    let replayed: u64 = outcome["ledger"]
        .as_object()
        .unwrap()
        .values()
        .map(|v| v.as_u64().unwrap())
        .sum();
    assert!(
        ledger > 0,
        "the slow complaints climb to the ledger rung: {outcome}"
    );
    assert_eq!(replayed, ledger);
}

#[test]
fn a_reader_that_went_away_ends_the_output_without_a_panic() {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader); // `plaint schema policy | head -c0`: nobody reads
    let out = Command::new(env!("CARGO_BIN_EXE_plaint"))
        .args(["schema", "policy"])
        .current_dir(root())
        .stdout(writer)
        .output()
        .expect("the binary runs");
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(141), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
