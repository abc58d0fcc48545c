//! A node's fully qualified domain name, as the inventory keeps it.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A fully qualified domain name, lowercased, without a trailing dot. The components must be
/// reached by name, never by IP address (certificates name hosts; seed 000).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Fqdn(String);

impl Fqdn {
    pub fn parse(value: &str) -> Result<Self, String> {
        let name = value.trim().trim_end_matches('.').to_ascii_lowercase();
        if name.is_empty() {
            return Err("enter the node's FQDN, e.g. finesse1.example.com".into());
        }
        if name.parse::<std::net::IpAddr>().is_ok()
            || name
                .trim_matches(['[', ']'])
                .parse::<std::net::Ipv6Addr>()
                .is_ok()
        {
            return Err(format!(
                "'{}' is an IP address; use the node's FQDN (certificates and the components name hosts, not addresses); put an address in the management address field",
                value.trim()
            ));
        }
        if name.len() > 253 {
            return Err("an FQDN has at most 253 characters".into());
        }
        let labels: Vec<&str> = name.split('.').collect();
        if labels.len() < 2 {
            return Err(format!(
                "'{name}' is not fully qualified; add its domain, e.g. {name}.example.com"
            ));
        }
        for label in &labels {
            if label.is_empty() {
                return Err(format!("'{name}' has an empty label (two dots in a row)"));
            }
            if label.len() > 63 {
                return Err(format!("the label '{label}' is longer than 63 characters"));
            }
            if let Some(bad) = label
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
            {
                return Err(format!(
                    "'{bad}' is not allowed in a host name; use letters, digits and '-'"
                ));
            }
            if label.starts_with('-') || label.ends_with('-') {
                return Err(format!("the label '{label}' starts or ends with '-'"));
            }
        }
        if labels
            .last()
            .is_some_and(|tld| tld.chars().all(|c| c.is_ascii_digit()))
        {
            return Err(format!("'{name}' ends in a number; that is not a domain"));
        }
        Ok(Fqdn(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Fqdn {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Fqdn::parse(&value)
    }
}

impl From<Fqdn> for String {
    fn from(value: Fqdn) -> Self {
        value.0
    }
}

impl fmt::Display for Fqdn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
