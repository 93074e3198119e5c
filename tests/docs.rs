//! The documents stay true: README's lifecycle diagram is the one the code generates.

#[test]
fn readme_diagram_is_current() {
    let readme = include_str!("../README.md");
    let diagram = plaint::TransitionGraph::new().to_mermaid();
    assert!(
        readme.contains(&diagram),
        "README.md's diagram is stale: paste the output of `cargo run --example lifecycle_diagram`"
    );
}

#[test]
fn readme_gives_the_two_commands() {
    let readme = include_str!("../README.md");
    assert!(readme.contains("cargo run --example express"));
    assert!(readme.contains("cargo test --workspace"));
}
