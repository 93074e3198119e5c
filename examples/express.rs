//! The express company's procedure on its policy (`examples/policies/express.toml`): a lost
//! insured camera with two rounds of negotiation and general-manager approval, a courier
//! complaint resolved on the spot, an invalid complaint resolved by explanation, a late
//! delivery that breaches and climbs the escalation ladder over a weekend, a damage claim
//! reissued after an unsatisfied follow-up, and a regulator transfer merged as a duplicate.
//!
//! Run it with `cargo run --example express`. It prints every timeline in China Standard
//! Time and exits non-zero if anything unexpected happens.

#[path = "scenarios/express.rs"]
mod scenario;
#[path = "support/mod.rs"]
mod support;

fn main() -> support::Res<()> {
    let store = support::file_store("express")?;
    let summary = scenario::run(std::sync::Arc::clone(&store), false)?;
    println!("\nsummary: {summary:#?}");
    let policy = include_str!("policies/express.toml");
    support::report(&*store, policy, (2026, 11), "express")?;
    Ok(())
}
