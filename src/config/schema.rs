//! The JSON Schema of the config file.

pub fn json_schema() -> String {
    String::from("{}")
}
