//! Prints the lifecycle's transition graph as a Mermaid state diagram (the one in README.md).
//!
//! Run: `cargo run --example lifecycle_diagram`.

fn main() {
    print!("{}", plaint::TransitionGraph::new().to_mermaid());
}
