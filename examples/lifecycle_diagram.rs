//! Prints the lifecycle as a Mermaid state diagram: the whole transition graph (the one in
//! README.md), or, given a policy file, the lifecycle that policy enables with its clocks.
//!
//! Run: `cargo run --example lifecycle_diagram [examples/policies/express.toml]`.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    match std::env::args().nth(1) {
        None => print!("{}", plaint::TransitionGraph::new().to_mermaid()),
        Some(path) => {
            let policy = plaint::Policy::from_toml_str(&std::fs::read_to_string(path)?)?;
            print!("{}", policy.diagram());
        }
    }
    Ok(())
}
