//! Where a policy problem's path (`clocks[0].escalation[1].notify`) is in the TOML text: the
//! line and column of the deepest part of the path the document has.

use toml_edit::{Item, Table, Value};

/// A 1-based line and column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Position {
    pub(crate) line: usize,
    pub(crate) column: usize,
}

/// One step of a path: a key, or an index into an array.
#[derive(Debug, PartialEq, Eq)]
enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

/// A place in the document a path walks through.
#[derive(Clone, Copy)]
enum Node<'a> {
    Table(&'a Table),
    Item(&'a Item),
    Value(&'a Value),
}

/// The steps of `path`; `None` when it is not of the form `a.b[2].c`.
fn steps(path: &str) -> Option<Vec<Step<'_>>> {
    let mut out = Vec::new();
    for part in path.split('.') {
        let (key, mut rest) = match part.find('[') {
            Some(i) => part.split_at(i),
            None => (part, ""),
        };
        if !key.is_empty() {
            out.push(Step::Key(key));
        }
        while let Some(tail) = rest.strip_prefix('[') {
            let end = tail.find(']')?;
            out.push(Step::Index(tail[..end].parse().ok()?));
            rest = &tail[end + 1..];
        }
        if !rest.is_empty() {
            return None;
        }
    }
    Some(out)
}

/// One step down from `node`, with the span that names the place (the key, or the element).
fn down<'a>(node: Node<'a>, step: &Step<'_>) -> Option<(Option<std::ops::Range<usize>>, Node<'a>)> {
    let keyed = |(key, item): (&toml_edit::Key, &'a Item)| (key.span(), Node::Item(item));
    match (step, node) {
        (Step::Key(k), Node::Table(t) | Node::Item(Item::Table(t))) => {
            t.get_key_value(k).map(keyed)
        }
        (
            Step::Key(k),
            Node::Item(Item::Value(Value::InlineTable(t))) | Node::Value(Value::InlineTable(t)),
        ) => t.get_key_value(k).map(keyed),
        (Step::Index(i), Node::Item(Item::ArrayOfTables(a))) => {
            a.get(*i).map(|t| (t.span(), Node::Table(t)))
        }
        (
            Step::Index(i),
            Node::Item(Item::Value(Value::Array(a))) | Node::Value(Value::Array(a)),
        ) => a.get(*i).map(|v| (v.span(), Node::Value(v))),
        _ => None,
    }
}

/// Where `path` is in `document` (parsed from `text`), as far as the document has it; `None`
/// when not even its first step is there (a required key missing at the top level).
pub(crate) fn locate(
    text: &str,
    document: &toml_edit::Document<&str>,
    path: &str,
) -> Option<Position> {
    let mut at = None;
    let mut node = Node::Table(document.as_table());
    for step in steps(path)? {
        let Some((span, child)) = down(node, &step) else {
            break;
        };
        at = span.or(at);
        node = child;
    }
    at.map(|span: std::ops::Range<usize>| position(text, span.start))
}

/// The line and column of byte `offset` in `text`.
pub(crate) fn position(text: &str, offset: usize) -> Position {
    let before = &text[..offset.min(text.len())];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    Position {
        line: before.matches('\n').count() + 1,
        column: before[line_start..].chars().count() + 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str, path: &str) -> Option<(usize, usize)> {
        let doc = toml_edit::Document::parse(text).unwrap();
        locate(text, &doc, path).map(|p| (p.line, p.column))
    }

    const POLICY: &str = "format = 2\ndefault_tier = \"urgent\"\n\n[[clocks]]\nkey = \"a\"\n\n[[clocks]]\nkey = \"b\"\nescalation = [{ after = \"1h\" }, { after = \"2h\", notify = \"boss\" }]\n";

    #[test]
    fn a_path_points_at_its_key_or_element() {
        assert_eq!(at(POLICY, "default_tier"), Some((2, 1)));
        assert_eq!(at(POLICY, "clocks[1].key"), Some((8, 1)));
        assert_eq!(at(POLICY, "clocks[1].escalation[1].notify"), Some((9, 49)));
    }

    #[test]
    fn a_path_the_document_lacks_points_at_its_deepest_ancestor() {
        assert_eq!(at(POLICY, "clocks[1].calendar"), Some((7, 1)));
        assert_eq!(at(POLICY, "clocks[5].key").map(|(line, _)| line), Some(4));
        assert_eq!(at(POLICY, "missing"), None);
        assert_eq!(at(POLICY, "not a [path"), None);
    }
}
