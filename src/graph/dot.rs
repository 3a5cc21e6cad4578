//! The topology in Graphviz's DOT language (`zfleet graph | dot -Tpng`).

use super::{Health, Topology};

fn quote(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

pub fn render(t: &Topology) -> String {
    let mut out = format!(
        "// Replication topology of {}: an edge's colour is the health of its last run.\n",
        t.project
    );
    out.push_str(&format!("digraph {} {{\n", quote(&t.project)));
    out.push_str("  graph [rankdir=LR, fontname=\"Helvetica\"];\n");
    out.push_str("  node [shape=box, style=\"rounded\", fontname=\"Helvetica\"];\n");
    out.push_str("  edge [fontname=\"Helvetica\", fontsize=10, penwidth=2];\n");
    for n in &t.nodes {
        let mut attrs = vec![format!(
            "label={}",
            quote(&format!("{}\n{}", n.name, n.detail))
        )];
        if !n.read {
            let grey = Health::Unknown.colour();
            attrs.push(format!(
                "style=\"rounded,dashed\", color=\"{grey}\", fontcolor=\"{grey}\""
            ));
        }
        out.push_str(&format!("  {} [{}];\n", quote(&n.name), attrs.join(", ")));
    }
    for e in &t.edges {
        let (Some(from), Some(to)) = (t.nodes.get(e.from), t.nodes.get(e.to)) else {
            continue;
        };
        let label = format!("{}\n{}\n{}", e.replication, e.datasets, e.summary());
        let colour = e.health.colour();
        let mut attrs = vec![
            format!("label={}", quote(&label)),
            format!("color=\"{colour}\""),
            format!("fontcolor=\"{colour}\""),
        ];
        if e.health == Health::Unknown {
            attrs.push("style=dashed".into());
        }
        if let Some(reason) = &e.reason {
            attrs.push(format!("tooltip={}", quote(reason)));
        }
        out.push_str(&format!(
            "  {} -> {} [{}];\n",
            quote(&from.name),
            quote(&to.name),
            attrs.join(", ")
        ));
    }
    out.push_str("}\n");
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn quotes_and_backslashes_are_escaped() {
        assert_eq!(super::quote("a\"b\\c\nd\te"), "\"a\\\"b\\\\c\\nd e\"");
    }
}
