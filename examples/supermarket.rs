//! A supermarket's procedure on its policy (`examples/policies/supermarket.toml`) over the
//! New Year holiday and a weekend: a price error fixed at the desk, a misunderstood
//! promotion resolved by explanation, a defective kettle that breaches and climbs the
//! ladder, a food-poisoning case made urgent by rule with compensation above the statutory
//! cap approved by the general manager after a rejected first offer, expired yoghurt
//! reissued after an unsatisfied follow-up, and a rude cashier.
//!
//! Run it with `cargo run --example supermarket`; it exits non-zero if anything unexpected
//! happens.

#[path = "scenarios/supermarket.rs"]
mod scenario;
#[path = "support/mod.rs"]
mod support;

fn main() -> support::Res<()> {
    let store = support::file_store("supermarket")?;
    let summary = scenario::run(std::sync::Arc::clone(&store), false)?;
    println!("\nsummary: {summary:#?}");
    let policy = include_str!("policies/supermarket.toml");
    support::report(&*store, policy, (2026, 12), "supermarket")?;
    Ok(())
}
