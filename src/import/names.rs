//! Readable, stable names for snapshot tasks made by hand (TrueNAS gives them none):
//! `<system>-<dataset, / as ->-<schedule preset or naming schema prefix>`, told apart by
//! their naming schema, then by a number, in the order of their ids.

use std::collections::BTreeSet;

use super::collect::TaskEntry;

/// Names the tasks without one; `managed` ones keep their recorded names.
pub fn assign(tasks: Vec<(TaskEntry, bool)>) -> Vec<TaskEntry> {
    let mut taken: BTreeSet<String> = tasks
        .iter()
        .filter(|(_, managed)| *managed)
        .map(|(e, _)| e.task.name.clone())
        .collect();
    let mut out = Vec::with_capacity(tasks.len());
    for (mut e, managed) in tasks {
        if !managed {
            let t = &e.task;
            let base = format!("{}-{}", t.system, t.dataset.replace('/', "-"));
            let schema = schema_word(&t.naming_schema);
            let first = match super::schedule::preset(&t.schedule) {
                Some(p) => format!("{base}-{p}"),
                None => format!("{base}-{schema}"),
            };
            let mut candidates = vec![first.clone(), format!("{first}-{schema}")];
            candidates.dedup();
            let name = candidates
                .into_iter()
                .chain((2..).map(|n| format!("{first}-{n}")))
                .find(|c| !taken.contains(c))
                .unwrap_or(first);
            taken.insert(name.clone());
            e.task.name = name;
        }
        out.push(e);
    }
    out
}

/// `auto-%Y-%m-%d_%H-%M` → `auto`; a schema that starts with its date → `snap`.
fn schema_word(schema: &str) -> String {
    let head = schema.split('%').next().unwrap_or("");
    let word: String = head
        .trim_matches(|c: char| !c.is_alphanumeric())
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    if word.is_empty() {
        "snap".to_string()
    } else {
        word
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_words() {
        assert_eq!(schema_word("auto-%Y-%m-%d_%H-%M"), "auto");
        assert_eq!(schema_word("Weekly Keep-%Y%m%d.%H%M"), "weekly-keep");
        assert_eq!(schema_word("%Y-%m-%d_%H-%M"), "snap");
    }
}
