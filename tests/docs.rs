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

/// Every TOML example of the policy reference is TOML, and the ones that are whole items
/// read as the types they show (a clock, roles, actions, calendars, notifications).
#[test]
fn the_policy_reference_s_examples_read() {
    let page = include_str!("../docs/policy.md");
    let blocks: Vec<&str> = page
        .split("```toml\n")
        .skip(1)
        .map(|rest| rest.split("```").next().unwrap())
        .collect();
    assert!(blocks.len() >= 10, "{} blocks", blocks.len());
    for block in &blocks {
        let doc: toml::Table = toml::from_str(block).unwrap_or_else(|e| panic!("{e}\n{block}"));
        let item = |section: &str| {
            doc.get(section)
                .and_then(|v| v.as_array())
                .map(|a| a[0].clone())
        };
        if let Some(clock) = item("clocks") {
            let def: plaint::sla::ClockDef = clock.try_into().unwrap();
            assert!(def.start_when.is_some() && !def.target_rules.is_empty());
        }
        if let Some(role) = item("roles") {
            let _: plaint::policy::RoleDef = role.try_into().unwrap();
        }
        if let Some(action) = item("actions") {
            let _: plaint::policy::ActionDef = action.try_into().unwrap();
        }
        if let Some(calendar) = item("calendars") {
            let def: plaint::calendar::CalendarDef = calendar.try_into().unwrap();
            plaint::calendar::BusinessCalendar::new(&def).unwrap();
        }
        if let Some(rule) = item("notifications") {
            let _: plaint::NotificationRule = rule.try_into().unwrap();
        }
    }
}
