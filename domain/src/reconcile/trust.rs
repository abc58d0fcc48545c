//! A certificate in a node's tomcat-trust as a list entry of the engine: a line that names it
//! (its subject and the start of its fingerprint), then its PEM. Item kinds that keep
//! certificates trusted (a map host's, a trusted proxy's) share these; the server reads and
//! imports them through `drive::{read_tomcat_trust, import_trust_entry}`.

/// A trusted certificate as an entry: a line that names it, then its PEM.
pub fn trust_entry(label: &str, pem: &str) -> String {
    format!("{label}\n{}", pem.trim())
}

/// The PEM of a trust entry.
pub fn trust_pem(entry: &str) -> &str {
    entry.split_once('\n').map_or(entry, |(_, pem)| pem)
}

/// The line that names a trust entry, as plans show it.
pub fn trust_label(entry: &str) -> &str {
    entry.split_once('\n').map_or(entry, |(label, _)| label)
}

/// The base64 body of a PEM, without its armour and whitespace: two entries are the same
/// certificate when these are equal.
fn pem_body(entry: &str) -> String {
    trust_pem(entry)
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .flat_map(|l| l.chars().filter(|c| !c.is_whitespace()))
        .collect()
}

/// Whether two entries hold the same certificate (whatever names them, however it is wrapped).
pub fn same_certificate(a: &str, b: &str) -> bool {
    pem_body(a) == pem_body(b)
}

/// A trust item's step as a plan shows it: `set cert import trust tomcat → paste <label>` for
/// an import; anything else is left alone (trust items never delete).
pub fn import_command(op: &super::Op) -> String {
    match op {
        super::Op::Add { value } => format!(
            "set cert import trust tomcat → paste {}",
            trust_label(value)
        ),
        super::Op::Remove { value, .. } | super::Op::Set { to: value, .. } => {
            format!("(left alone: {})", trust_label(value))
        }
    }
}
