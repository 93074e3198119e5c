//! Policy documents: the shipped examples load; every broken policy in `tests/policies/bad/`
//! reports exactly the problems its `# expect:` lines list, with their paths, all at once.

use plaint_core::{Policy, PolicyError};
use std::path::Path;

fn files(dir: &str) -> Vec<std::path::PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    let mut v: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml" || x == "json"))
        .collect();
    v.sort();
    v
}

fn load(path: &Path) -> Result<Policy, PolicyError> {
    let text = std::fs::read_to_string(path).unwrap();
    if path.extension().is_some_and(|x| x == "json") {
        Policy::from_json_str(&text)
    } else {
        Policy::from_toml_str(&text)
    }
}

#[test]
fn good_policies_load() {
    let mut n = 0;
    for dir in ["examples/policies", "tests/policies/good"] {
        for path in files(dir) {
            if let Err(e) = load(&path) {
                panic!("{}: {e}", path.display());
            }
            n += 1;
        }
    }
    assert!(n >= 2);
}

#[test]
fn every_bad_policy_reports_exactly_its_problems() {
    let bad = files("tests/policies/bad");
    assert!(bad.len() >= 20, "the corpus has {} files", bad.len());
    let mut failures = Vec::new();
    for path in bad {
        let text = std::fs::read_to_string(&path).unwrap();
        let expected: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# expect: "))
            .collect();
        assert!(
            !expected.is_empty(),
            "{} lists no expectation",
            path.display()
        );
        let got: Vec<String> = match load(&path) {
            Ok(_) => vec!["<loaded without problems>".into()],
            Err(PolicyError::Invalid(problems)) => problems.iter().map(|p| p.to_string()).collect(),
            Err(other) => vec![other.to_string()],
        };
        if got != expected {
            failures.push(format!(
                "{}:\n  expected {expected:#?}\n  got {got:#?}",
                path.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn json_is_accepted_too() {
    let toml_text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/policies/good/minimal.toml"),
    )
    .unwrap();
    let from_toml = Policy::from_toml_str(&toml_text).unwrap();
    let json = serde_json::to_string(&from_toml).unwrap();
    assert_eq!(Policy::from_json_str(&json).unwrap(), from_toml);
}

#[test]
fn text_that_is_not_toml_is_a_parse_error() {
    let err = Policy::from_toml_str("id = ").unwrap_err();
    assert!(matches!(err, PolicyError::Parse(_)), "{err}");
}
