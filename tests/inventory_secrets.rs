//! No private key is asked for, sent back, kept in the inventory or written to a trace: a
//! simulated system whose keychain holds one, read at every version.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use zfleet::client::types::Credential;
use zfleet::client::{Client, Tracer};
use zfleet::model::{SimSystem, System, SystemKind};
use zfleet::transport::{
    self, ConnectOptions, MidcltCall, RawOutput, Runner, Transport, TransportError,
};

/// The private key in the fixture's keychain (its middle line).
const SECRET: &str = "-----BEGIN OPENSSH PRIVATE KEY-----";

/// A runner that keeps every call and output passing through it.
struct Recording {
    inner: Transport,
    seen: Mutex<Vec<(MidcltCall, RawOutput)>>,
}

impl Runner for Recording {
    async fn midclt_batch(&self, calls: &[MidcltCall]) -> Result<Vec<RawOutput>, TransportError> {
        let out = self.inner.midclt_batch(calls).await?;
        if let Ok(mut seen) = self.seen.lock() {
            seen.extend(calls.iter().cloned().zip(out.iter().cloned()));
        }
        Ok(out)
    }
}

async fn simulated(dir: &Path, version: &str) -> Transport {
    let system = System {
        name: "nas1".into(),
        connect_timeout: None,
        timeout: None,
        prune: false,
        fixate_removal_date: false,
        kind: SystemKind::Simulator(SimSystem {
            fixture: Some(
                PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                    .join("tests/fixtures/sim/conformance.yaml"),
            ),
            version: Some(version.into()),
            state_file: dir.join(format!("nas1-{version}.json")),
        }),
    };
    transport::connect(&system, &ConnectOptions::default())
        .await
        .expect("simulator opens")
}

#[tokio::test]
async fn no_private_key_is_asked_for_kept_or_traced() {
    let dir = tempfile::tempdir().expect("tmp");
    for version in ["13.3", "24.04", "24.10", "25.04", "25.10"] {
        let trace = dir.path().join(format!("trace-{version}.jsonl"));
        let runner = Recording {
            inner: simulated(dir.path(), version).await,
            seen: Mutex::new(Vec::new()),
        };
        let client = Client::new("nas1", runner).with_tracer(Some(Tracer::new(&trace)));
        let inv = zfleet::inventory::read(&client)
            .await
            .unwrap_or_else(|p| panic!("{version}: {p}"));

        let seen = client.runner().seen.lock().expect("lock").clone();
        let keychain: Vec<&(MidcltCall, RawOutput)> = seen
            .iter()
            .filter(|(c, _)| c.method == "keychaincredential.query")
            .collect();
        assert_eq!(keychain.len(), 2, "{version}");
        for (call, out) in &keychain {
            let asked = serde_json::to_string(&call.args).expect("json");
            assert!(!asked.contains("private_key"), "{version}: {asked}");
            assert!(!out.stdout.contains(SECRET), "{version}: {}", out.stdout);
        }
        for (call, out) in &seen {
            assert!(
                !out.stdout.contains(SECRET) && !out.stderr.contains(SECRET),
                "{version}: {} answered with a private key",
                call.method
            );
        }
        let shown = format!(
            "{inv:?}\n{}",
            serde_json::to_string(&inv).expect("inventory as JSON")
        );
        assert!(!shown.contains(SECRET), "{version}: {shown}");
        let traced = std::fs::read_to_string(&trace).expect("trace");
        assert!(traced.contains("keychaincredential.query"), "{version}");
        assert!(!traced.contains(SECRET), "{version}: {traced}");

        // Both entries are there, the connection whole.
        let kinds: Vec<(i64, &str)> = inv.keychain.iter().map(|c| (c.id, c.kind())).collect();
        assert_eq!(
            kinds,
            vec![(2, "SSH_KEY_PAIR"), (3, "SSH_CREDENTIALS")],
            "{version}"
        );
        let Credential::SshCredentials { private_key, .. } = &inv.keychain[1].credential else {
            panic!("{version}: not a connection")
        };
        assert_eq!(*private_key, Some(2), "{version}: the key pair's id");
        if version == "25.10" {
            assert_eq!(
                inv.keychain[0].credential,
                Credential::SshKeyPair {
                    public_key: Some(
                        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKPfJWYisgodW5TMELzVqvQsoZY0gmGb+ss4sw52GI+K root@nas1\n"
                            .into()
                    )
                }
            );
        }
    }
}
