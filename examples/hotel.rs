//! A hotel front desk's procedure on its policy (`examples/policies/hotel.toml`) over a
//! weekend, on a 24/7 calendar: stained towels fixed on the spot, a minibar dispute resolved
//! by explanation, broken air conditioning nobody answers (the ladder climbs within the
//! hour), a noise complaint from an online review with a tracking officer, a rejected
//! upgrade and a refund, a rude waiter reissued after the follow-up call, and a slip on a
//! wet floor whose compensation the general manager approves.
//!
//! Run it with `cargo run --example hotel`; it exits non-zero if anything unexpected happens.

#[path = "scenarios/hotel.rs"]
mod scenario;
#[path = "support/mod.rs"]
mod support;

fn main() -> support::Res<()> {
    let store = support::file_store("hotel")?;
    let summary = scenario::run(std::sync::Arc::clone(&store), false)?;
    println!("\nsummary: {summary:#?}");
    let policy = include_str!("policies/hotel.toml");
    support::report(&*store, policy, (2026, 11), "hotel")?;
    Ok(())
}
