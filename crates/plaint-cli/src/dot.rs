//! The lifecycle diagram in Graphviz DOT, rewritten line by line from the Mermaid state
//! diagram the core draws (`Policy::diagram`), so both say the same.

/// `mermaid` (a `stateDiagram-v2` of `from --> to : label` lines) as a DOT digraph.
pub(crate) fn from_mermaid(mermaid: &str) -> String {
    let mut out = String::from(
        "digraph lifecycle {\n  rankdir=LR;\n  node [shape=box, style=rounded];\n  \
         start [shape=point, width=0.2];\n  end [shape=doublecircle, label=\"\", width=0.2];\n",
    );
    for line in mermaid.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("state \"") {
            if let Some((label, id)) = rest.split_once("\" as ") {
                out.push_str(&format!("  {} [label={}];\n", quote(id), quote(label)));
            }
            continue;
        }
        let Some((from, rest)) = line.split_once(" --> ") else {
            continue;
        };
        let (to, label) = match rest.split_once(" : ") {
            Some((to, label)) => (to, Some(label)),
            None => (rest, None),
        };
        let node = |n: &str, star: &str| {
            if n == "[*]" {
                star.to_owned()
            } else {
                quote(n)
            }
        };
        out.push_str(&format!("  {} -> {}", node(from, "start"), node(to, "end")));
        if let Some(label) = label {
            out.push_str(&format!(" [label={}]", quote(label)));
        }
        out.push_str(";\n");
    }
    out.push_str("}\n");
    out
}

/// `s` as a DOT string.
fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_kind_of_mermaid_line_becomes_dot() {
        let dot = super::from_mermaid(
            "stateDiagram-v2\n    [*] --> received : receive ⏱ ack\n    received --> triaged : triage\n    \
             state \"any stage in handling\" as open\n    open --> open : tick\n    closed --> [*]\n",
        );
        assert!(
            dot.contains("  start -> \"received\" [label=\"receive ⏱ ack\"];\n"),
            "{dot}"
        );
        assert!(
            dot.contains("  \"received\" -> \"triaged\" [label=\"triage\"];\n"),
            "{dot}"
        );
        assert!(
            dot.contains("  \"open\" [label=\"any stage in handling\"];\n"),
            "{dot}"
        );
        assert!(dot.contains("  \"closed\" -> end;\n"), "{dot}");
        assert!(dot.starts_with("digraph lifecycle {") && dot.ends_with("}\n"));
    }
}
