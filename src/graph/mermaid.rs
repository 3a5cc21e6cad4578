//! The topology as a Mermaid flowchart, which GitHub and GitLab draw in Markdown.

use super::{Health, Topology};

/// Text inside a quoted Mermaid label: entity codes for what Mermaid would read.
fn text(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            '"' => out.push_str("#quot;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '#' => out.push_str("#35;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

pub fn render(t: &Topology) -> String {
    let mut out = format!("---\ntitle: {}\n---\nflowchart LR\n", text(&t.project));
    for (i, n) in t.nodes.iter().enumerate() {
        let class = if n.read { "" } else { ":::unread" };
        out.push_str(&format!(
            "  n{i}[\"{}<br/>{}\"]{class}\n",
            text(&n.name),
            text(&n.detail)
        ));
    }
    let mut styles = String::new();
    for (i, e) in t.edges.iter().enumerate() {
        let arrow = if e.health == Health::Unknown {
            "-.->"
        } else {
            "-->"
        };
        out.push_str(&format!(
            "  n{} {arrow}|\"{}<br/>{}<br/>{}\"| n{}\n",
            e.from,
            text(&e.replication),
            text(&e.datasets),
            text(&e.summary()),
            e.to
        ));
        let colour = e.health.colour();
        styles.push_str(&format!(
            "  linkStyle {i} stroke:{colour},stroke-width:2px,color:{colour}\n"
        ));
    }
    out.push_str(&styles);
    if t.nodes.iter().any(|n| !n.read) {
        out.push_str(&format!(
            "  classDef unread stroke-dasharray:4 3,color:{}\n",
            Health::Unknown.colour()
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn label_text_cannot_end_the_label() {
        assert_eq!(super::text("a\"b<c>#d"), "a#quot;b#lt;c#gt;#35;d");
    }
}
