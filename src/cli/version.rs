//! What `zfleet --version` says: the release and the TrueNAS versions it drives.

use std::sync::OnceLock;

/// `0.1.0 (TrueNAS CORE 13.0, 13.3, TrueNAS SCALE 24.04, …)`, made once: clap takes a
/// `&'static str`, and the list comes from the client's personality table.
pub fn text() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| {
        format!(
            "{} ({})",
            env!("CARGO_PKG_VERSION"),
            crate::client::version::supported_releases()
        )
    })
}
