//! The JSON Schema of the config file (draft-07, as yaml-language-server reads it), generated
//! from the same types the loader reads, so the two cannot drift apart.

use schemars::generate::SchemaSettings;

use super::raw::RawConfig;

/// The schema as pretty-printed JSON, ending with a newline.
pub fn json_schema() -> String {
    let generator = SchemaSettings::draft07().into_generator();
    let schema = generator.into_root_schema_for::<RawConfig>();
    let mut text =
        serde_json::to_string_pretty(&schema).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    text.push('\n');
    text
}
