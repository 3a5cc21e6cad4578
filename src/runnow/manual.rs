//! A one-time manual snapshot, as TrueCommand's Create Snapshot takes it: checked first,
//! as plan checks its datasets, so that a refusal comes before anything is sent.

use chrono::{DateTime, Utc};

use crate::diag::Problem;
use crate::inventory::Inventory;
use crate::model::dataset::is_same_or_below;

use super::{SNAPSHOT_ARGUMENT, SNAPSHOT_EXISTS, SNAPSHOT_READONLY};

/// TrueCommand's name for manual snapshots.
pub const DEFAULT_SCHEMA: &str = "manual-%Y-%m-%d_%H-%M";

/// `SYSTEM:DATASET` split in two.
pub fn split_target(text: &str) -> Result<(&str, &str), Problem> {
    match text.split_once(':') {
        Some((s, d)) if !s.is_empty() && !d.trim_matches('/').is_empty() => {
            Ok((s, d.trim_matches('/')))
        }
        _ => Err(
            Problem::error(SNAPSHOT_ARGUMENT, format!("`{text}` is not SYSTEM:DATASET"))
                .help("name the system of the config and the dataset, e.g. `nas1:tank/data`"),
        ),
    }
}

/// The snapshot name `schema` gives at the system's clock, in its timezone, as TrueNAS
/// expands `naming_schema` itself.
pub fn name_at(inv: &Inventory, schema: &str) -> String {
    let now: DateTime<Utc> = inv.info.datetime.map_or_else(Utc::now, |d| d.0);
    let tz: chrono_tz::Tz = inv
        .info
        .timezone
        .as_deref()
        .and_then(|t| t.parse().ok())
        .unwrap_or(chrono_tz::UTC);
    crate::model::naming::expand(schema, now.with_timezone(&tz))
}

/// Why `dataset@name` cannot be taken on the system, if anything stands in the way: the
/// dataset is missing or read-only, or a snapshot of that name exists (on a descendant too,
/// with `recursive`, where `zfs snapshot -r` would refuse).
pub fn check(
    system: &str,
    inv: &Inventory,
    dataset: &str,
    name: &str,
    recursive: bool,
) -> Result<(), Problem> {
    let full = format!("{dataset}@{name}");
    let Some(ds) = inv.dataset(dataset) else {
        let names: Vec<&str> = inv.datasets.iter().map(|d| d.name.as_str()).collect();
        let help = match crate::config::de::suggest(dataset, &names) {
            Some(s) => format!("did you mean `{s}`?"),
            None => "create the dataset on the system first, or correct the name".into(),
        };
        // TrueNAS's own wording for this snapshot (the snapshot plugin's `CallError` around
        // py-libzfs `get_dataset`'s error).
        return Err(Problem::error(
            crate::plan::codes::DATASET_MISSING,
            format!("Failed to snapshot {full}: Dataset {dataset} not found"),
        )
        .system(system)
        .help(help));
    };
    if ds.readonly {
        return Err(Problem::error(
            SNAPSHOT_READONLY,
            format!("{dataset} is read-only (readonly=on); no snapshot was taken"),
        )
        .system(system)
        .help("a read-only dataset is usually a replica, where a snapshot of its own breaks the next incremental run; take it on the source"));
    }
    let taken = inv.snapshots.iter().find(|s| {
        s.split_once('@').is_some_and(|(d, n)| {
            n == name && (d == dataset || (recursive && is_same_or_below(d, dataset)))
        })
    });
    if let Some(existing) = taken {
        return Err(Problem::error(
            SNAPSHOT_EXISTS,
            format!("Failed to snapshot {existing}: dataset already exists"),
        )
        .system(system)
        .help("take it later, or give another name with `--naming-schema`"));
    }
    Ok(())
}

/// Takes `dataset@name` (`zfs.snapshot.create`, `pool.snapshot.create` from 25.10 on);
/// returns the full name TrueNAS gives back. The name is sent as it is rather than the
/// schema, so that the name checked is the name taken whatever minute it is by now.
pub async fn take<R: crate::transport::Runner>(
    client: &crate::client::Client<R>,
    dataset: &str,
    name: &str,
    recursive: bool,
) -> Result<String, crate::client::ClientError> {
    let v = client.version().await?;
    let method = format!("{}.create", v.snapshot_namespace());
    let args = vec![serde_json::json!({"dataset": dataset, "name": name, "recursive": recursive})];
    let out = client.call(&method, args).await?;
    Ok(out
        .get("name")
        .and_then(serde_json::Value::as_str)
        .map_or_else(|| format!("{dataset}@{name}"), str::to_string))
}
