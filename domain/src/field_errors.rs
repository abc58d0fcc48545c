//! Per-field validation messages, shared by the services (which find them) and the forms
//! (which show them beside their fields).

use std::collections::BTreeMap;

/// Field name → messages, for forms and JSON bodies.
pub type FieldErrors = BTreeMap<String, Vec<String>>;

/// One line for all of them: `invalid input: name: too long, port: not a number`.
pub fn summary(fields: &FieldErrors) -> String {
    let parts: Vec<String> = fields
        .iter()
        .map(|(field, messages)| format!("{field}: {}", messages.join("; ")))
        .collect();
    format!("invalid input: {}", parts.join(", "))
}
