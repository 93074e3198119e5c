//! The kill test: a child process appends and prints each acknowledgement; the parent kills
//! it (SIGKILL) at an arbitrary point mid-stream, reopens the store, and checks every
//! acknowledged command is there. 50 kills by default; `PLAINT_KILLS` sets how many.

mod common;

use common::{check, command_id, engine, step};
use plaint_core::Store;
use plaint_core::blocking::Wait as _;
use plaint_file::{FileStore, Options};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

const CHILD: &str = "PLAINT_KILL_CHILD";

/// In the child: append from step `start` on, printing `ack i` after each acknowledgement,
/// until killed.
fn child(dir: &str, start: u64) {
    let (engine, _) = engine(
        FileStore::open(dir, Options::new())
            .expect("child opens")
            .store,
    );
    for i in start.. {
        step(&engine, i).expect("child step");
        println!("ack {i}");
    }
}

/// The step an `ack i` line acknowledges (the test harness may print its own text before it
/// on the first line).
fn ack(line: &str) -> Option<u64> {
    line.rsplit_once("ack ")?.1.parse().ok()
}

/// A small deterministic generator (no clock, no external crate): xorshift64.
fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

#[test]
fn a_killed_writer_never_loses_an_acknowledged_command() {
    if let Ok(dir) = std::env::var(CHILD) {
        let start = std::env::var("PLAINT_KILL_START").unwrap().parse().unwrap();
        return child(&dir, start);
    }
    let kills: u64 = std::env::var("PLAINT_KILLS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let dir = tempfile::tempdir().unwrap();
    let mut acked: Vec<u64> = Vec::new();
    let mut start = 0u64;
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut torn = 0;
    for kill in 0..kills {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "a_killed_writer_never_loses_an_acknowledged_command",
            ])
            .args(["--nocapture", "--test-threads=1"])
            .env(CHILD, dir.path())
            .env("PLAINT_KILL_START", start.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Kill after a random number of acknowledgements: the child is then somewhere in its
        // next append (deciding, encoding, writing or syncing).
        let wait_for = 1 + next(&mut seed) % 25;
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut seen = 0;
        while seen < wait_for {
            let Some(line) = lines.next() else { break };
            if let Some(i) = ack(&line.unwrap()) {
                acked.push(i);
                seen += 1;
            }
        }
        child.kill().unwrap();
        // Acknowledgements already in the pipe when the kill landed count too.
        for line in lines.map_while(Result::ok) {
            acked.extend(ack(&line));
        }
        child.wait().unwrap();
        assert!(seen > 0, "kill {kill}: the child acknowledged nothing");

        let opened = FileStore::open(dir.path(), Options::new())
            .unwrap_or_else(|e| panic!("kill {kill}: reopening fails: {e}"));
        torn += u32::from(opened.report.torn_tail.is_some());
        let store = opened.store;
        let last = *acked.last().unwrap();
        // Exactly a prefix survives: every acknowledged step, and perhaps the one in flight.
        start = last + 1;
        check(&store, &acked, &[start], start + 1);
        if store.command(&command_id(start)).wait().unwrap().is_some() {
            // The step in flight made it to disk: it is part of the prefix from now on.
            acked.push(start);
            start += 1;
        }
        assert!(Path::new(dir.path()).join("LOCK").exists());
    }
    eprintln!(
        "{kills} kills, {} acknowledged commands, {torn} torn tails cut",
        acked.len()
    );
}
