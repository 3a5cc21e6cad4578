//! The plan as text: `+` create, `~` update with `old → new` per field, `-` delete,
//! `<=` adopt, then unmanaged objects, notes, and the totals line.

use crate::client::shown::printable;
use crate::plan::{Action, Op, Plan, Subject, SystemPlan};

#[derive(Clone, Copy)]
struct Paint(bool);

impl Paint {
    fn wrap(self, code: &str, text: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn op(self, op: Op, text: &str) -> String {
        let code = match op {
            Op::Create => "32",
            Op::Update => "33",
            Op::Delete => "31",
            Op::Adopt => "36",
        };
        self.wrap(code, text)
    }
    fn bold(self, text: &str) -> String {
        self.wrap("1", text)
    }
    fn dim(self, text: &str) -> String {
        self.wrap("2", text)
    }
}

pub fn symbol(op: Op) -> &'static str {
    match op {
        Op::Create => "+",
        Op::Update => "~",
        Op::Delete => "-",
        Op::Adopt => "<=",
    }
}

pub fn verb(op: Op) -> &'static str {
    match op {
        Op::Create => "create",
        Op::Update => "update",
        Op::Delete => "delete",
        Op::Adopt => "adopt",
    }
}

/// The whole plan. `colour` adds ANSI colours.
pub fn render(plan: &Plan, colour: bool) -> String {
    let p = Paint(colour);
    let mut out = String::new();
    for sp in &plan.systems {
        system(&mut out, sp, p);
    }
    out.push_str(&summary(plan));
    out.push('\n');
    out
}

/// `Plan: 1 to add, 2 to change, 0 to delete.` or `No changes. …`
pub fn summary(plan: &Plan) -> String {
    let (add, change, delete) = plan.totals();
    let unknown = plan.systems.iter().filter(|s| !s.known).count();
    let mut line = if add + change + delete == 0 {
        "No changes. The live state matches the config.".to_string()
    } else {
        format!("Plan: {add} to add, {change} to change, {delete} to delete.")
    };
    if unknown > 0 {
        line.push_str(&format!(
            " {} could not be read; what {} need is unknown.",
            crate::diag::count(unknown, "system", "systems"),
            if unknown == 1 { "it may" } else { "they may" }
        ));
    }
    line
}

fn system(out: &mut String, sp: &SystemPlan, p: Paint) {
    let head = match (&sp.version, sp.known) {
        (Some(v), true) => format!("{} ({})", printable(&sp.system), printable(v)),
        _ => format!(
            "{} (unknown: the system could not be read)",
            printable(&sp.system)
        ),
    };
    if sp.known && sp.actions.is_empty() && sp.unmanaged.is_empty() && sp.notes.is_empty() {
        out.push_str(&format!("{}: no changes\n\n", p.bold(&head)));
        return;
    }
    out.push_str(&format!("{}\n", p.bold(&head)));
    for a in &sp.actions {
        action(out, a, p);
    }
    if !sp.unmanaged.is_empty() {
        out.push_str(&format!(
            "  {}\n",
            p.dim("not managed by this config (left alone):")
        ));
        for u in &sp.unmanaged {
            let owner = match &u.project {
                Some(project) => format!(" [project {}]", printable(project)),
                None => String::new(),
            };
            out.push_str(&format!(
                "    {} #{}: {}{owner}\n",
                u.kind,
                u.id,
                printable(&u.description)
            ));
        }
    }
    for n in &sp.notes {
        out.push_str(&format!("  note: {}\n", printable(n)));
    }
    out.push('\n');
}

fn action(out: &mut String, a: &Action, p: Paint) {
    let id = a.id.map(|id| format!(" (#{id})")).unwrap_or_default();
    let reason = match &a.reason {
        Some(r) => format!("  {}", p.dim(&format!("# {}", printable(r)))),
        None => String::new(),
    };
    let sym = format!("{:>2}", symbol(a.op));
    out.push_str(&format!(
        "  {} {}{}{}{}\n",
        p.op(a.op, &sym),
        p.op(a.op, verb(a.op)),
        format_args!(" {}", printable(&a.subject.label())),
        id,
        reason
    ));
    if let Subject::Replication {
        spec,
        name: Some(n),
        ..
    } = &a.subject
        && *n != spec.name
    {
        out.push_str(&format!(
            "      {}\n",
            p.dim(&format!("(part of replication {})", printable(n)))
        ));
    }
    let width = a.changes.iter().map(|c| c.field.len()).max().unwrap_or(0);
    for c in &a.changes {
        let pad = " ".repeat(width - c.field.len());
        let text = match (&c.old, &c.new) {
            (None, Some(new)) => printable(new),
            (Some(old), Some(new)) => format!("{} → {}", printable(old), printable(new)),
            (Some(old), None) => printable(old),
            (None, None) => String::new(),
        };
        out.push_str(&format!("      {}{pad}  {text}\n", c.field));
    }
}
