//! `plaint-service`: the reference service on a store directory and a policy file.
//!
//! `plaint-service --policy POLICY.toml [--store DIR] [--listen ADDR]`; the store directory
//! may also come from `PLAINT_STORE` (default `./plaint-data`), the address from
//! `PLAINT_LISTEN` (default `127.0.0.1:8080`). Logs go to stderr, filtered by `RUST_LOG`
//! (default `info`). Stops gracefully on ctrl-c.

use plaint_service::{Service, file_engine};
use std::sync::Arc;

const USAGE: &str = "usage: plaint-service --policy POLICY.toml [--store DIR] [--listen ADDR]";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let mut policy = None;
    let mut store = std::env::var("PLAINT_STORE").unwrap_or_else(|_| "plaint-data".into());
    let mut listen = std::env::var("PLAINT_LISTEN").unwrap_or_else(|_| "127.0.0.1:8080".into());
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let slot = match arg.as_str() {
            "--policy" => policy.insert(String::new()),
            "--store" => &mut store,
            "--listen" => &mut listen,
            _ => return Err(format!("unknown argument {arg:?}\n{USAGE}").into()),
        };
        *slot = args.next().ok_or(USAGE)?;
    }
    let path = policy.ok_or(USAGE)?;
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
    let policy = match path.ends_with(".json") {
        true => plaint::Policy::from_json_str(&text),
        false => plaint::Policy::from_toml_str(&text),
    }
    .map_err(|e| format!("{path}: {e}"))?;
    let engine = file_engine(&store, policy, Arc::new(plaint::SystemClock))?;
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    let running = Service::new(engine).serve(listener)?;
    eprintln!(
        "plaint-service: listening on http://{}",
        running.local_addr()
    );
    tokio::signal::ctrl_c().await?;
    eprintln!("plaint-service: shutting down");
    running.shutdown().await?;
    Ok(())
}
