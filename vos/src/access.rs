//! Who may reach the appliance and from where: reverse-proxy allowed hosts and config URIs,
//! the interactive delete menus, client auth, the proxy config map, CORS and frame-ancestors,
//! system properties.

use crate::{normalize, numbered, restart_hint, unexpected, Changed, Error};

/// `utils system reverse-proxy allowed-hosts add <source>` (and `config-uri add`).
pub fn parse_source_added(raw: &str, source: &str) -> Result<Changed, Error> {
    let lines = normalize(raw);
    if lines
        .iter()
        .any(|l| l.trim() == format!("Source {source} successfully added"))
    {
        return Ok(Changed {
            restart: restart_hint(&lines),
            output: raw.to_owned(),
        });
    }
    if let Some(line) = lines
        .iter()
        .find(|l| l.starts_with("Operation failed") || l.contains(" is invalid"))
    {
        let input = line
            .split("Source ")
            .nth(1)
            .and_then(|rest| rest.strip_suffix(" is invalid"))
            .unwrap_or(source)
            .to_owned();
        return Err(Error::Rejected {
            input,
            message: lines.join("\n"),
        });
    }
    Err(unexpected(raw))
}

/// `allowed-hosts list` and `config-uri list`: the configured sources, in order.
pub fn parse_source_list(raw: &str) -> Result<Vec<String>, Error> {
    let lines = normalize(raw);
    match lines.first().map(|l| l.trim()) {
        Some("Currently no source is configured") if lines.len() == 1 => Ok(Vec::new()),
        Some("The following source(s) are configured:") => lines[1..]
            .iter()
            .map(|line| numbered(line, ". ").ok_or_else(|| unexpected(raw)))
            .collect(),
        _ => Err(unexpected(raw)),
    }
}

/// One choice of an interactive delete menu.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuItem {
    /// What to type: `1`, `a`, `q`.
    pub key: String,
    pub label: String,
}

/// An interactive delete menu: its items, in order (`1) x`, `4) all`, `q) quit`, `a: all`).
/// The prompt line (`Please select an option ...`, `Select the index ...`) ends the menu.
pub fn parse_menu(raw: &str) -> Result<Vec<MenuItem>, Error> {
    let mut items = Vec::new();
    for line in normalize(raw) {
        let line = line.trim();
        if line.starts_with("Please select") || line.starts_with("Select the index") {
            return if items.is_empty() {
                Err(unexpected(raw))
            } else {
                Ok(items)
            };
        }
        if line.starts_with("Select the") {
            continue;
        }
        let item = line
            .split_once(") ")
            .or_else(|| line.split_once(": "))
            .filter(|(key, _)| !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric()));
        match item {
            Some((key, label)) => items.push(MenuItem {
                key: key.to_owned(),
                label: label.trim().to_owned(),
            }),
            None => return Err(unexpected(raw)),
        }
    }
    Err(unexpected(raw))
}

/// The key that selects `label` in a menu (`None`: not offered).
pub fn menu_key<'a>(menu: &'a [MenuItem], label: &str) -> Option<&'a str> {
    menu.iter()
        .find(|item| item.label == label)
        .map(|item| item.key.as_str())
}

/// The answer to a delete menu's choice.
pub fn parse_deleted(raw: &str) -> Result<(), Error> {
    let lines = normalize(raw);
    let done = [
        "Delete operation successful",
        "Sources deleted successfully.",
        "Origin(s) deleted successfully.",
    ];
    if lines.iter().any(|l| done.contains(&l.trim())) {
        Ok(())
    } else {
        Err(unexpected(raw))
    }
}

/// `utils system reverse-proxy client-auth status`: whether proxies must present certificates.
pub fn parse_client_auth_status(raw: &str) -> Result<bool, Error> {
    let lines = normalize(raw);
    let line = lines.first().map(|l| l.trim()).unwrap_or_default();
    if !line.contains("reverse proxy hosts") || lines.len() != 1 {
        return Err(unexpected(raw));
    }
    if line.ends_with("is enabled") {
        Ok(true)
    } else if line.ends_with("is disabled") {
        Ok(false)
    } else {
        Err(unexpected(raw))
    }
}

/// `client-auth enable|disable`: the change and the restart it asks for.
pub fn parse_client_auth_set(raw: &str, enable: bool) -> Result<Changed, Error> {
    let lines = normalize(raw);
    let expected = if enable {
        "SSL certificate verification enabled for connections established from reverse proxy hosts"
    } else {
        "SSL certificate verification disabled for connections established from reverse proxy hosts"
    };
    if lines.first().map(|l| l.trim()) == Some(expected) {
        Ok(Changed {
            restart: restart_hint(&lines),
            output: raw.to_owned(),
        })
    } else {
        Err(unexpected(raw))
    }
}

/// `show-config-update-frequency`: minutes, or `None` before any config URI is set.
pub fn parse_update_frequency(raw: &str) -> Result<Option<u32>, Error> {
    let lines = normalize(raw);
    let [line] = lines.as_slice() else {
        return Err(unexpected(raw));
    };
    let line = line.trim();
    if line == "No config-uri configured" {
        return Ok(None);
    }
    let (number, unit) = line.split_once(' ').ok_or_else(|| unexpected(raw))?;
    match (number.parse::<u32>(), unit) {
        (Ok(n), "minute" | "minutes") => Ok(Some(n)),
        _ => Err(unexpected(raw)),
    }
}

/// `show-proxy-config-map`: `internal host:port=external host:port` pairs, in order.
pub fn parse_proxy_config_map(raw: &str) -> Result<Vec<(String, String)>, Error> {
    normalize(raw)
        .iter()
        .map(|line| {
            let (from, to) = line.trim().split_once('=').ok_or_else(|| unexpected(raw))?;
            if from.is_empty() || to.is_empty() || from.contains(' ') || to.contains(' ') {
                return Err(unexpected(raw));
            }
            Ok((from.to_owned(), to.to_owned()))
        })
        .collect()
}

/// `utils finesse frame_access_allowed_list list`: the sources, in order.
pub fn parse_frame_list(raw: &str) -> Result<Vec<String>, Error> {
    colon_list(
        raw,
        "The following source(s) are configured in the frame access list:",
        "No source",
    )
}

/// A `header` then `1: value` lines, or one line starting with `none` for an empty list.
fn colon_list(raw: &str, header: &str, none: &str) -> Result<Vec<String>, Error> {
    let lines = normalize(raw);
    match lines.first().map(|l| l.trim()) {
        Some(first) if first == header => lines[1..]
            .iter()
            .map(|line| numbered(line, ": ").ok_or_else(|| unexpected(raw)))
            .collect(),
        Some(line) if line.starts_with(none) && lines.len() == 1 => Ok(Vec::new()),
        _ => Err(unexpected(raw)),
    }
}

/// `utils finesse show_property webservices <name>`: its value.
pub fn parse_property(raw: &str, name: &str) -> Result<String, Error> {
    let lines = normalize(raw);
    let prefix = format!("The value of property '{name}' is '");
    lines
        .iter()
        .find_map(|line| line.trim().strip_prefix(&prefix)?.strip_suffix('\''))
        .map(str::to_owned)
        .ok_or_else(|| unexpected(raw))
}

/// CORS of Finesse, CUIC or LiveData (`utils <product> cors status`; wording inferred).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CorsMode {
    /// Every origin allowed (a fresh install's `enable_all`).
    EnableAll,
    /// Only the allowed origins.
    Enable,
    Disable,
}

pub fn parse_cors_status(raw: &str) -> Result<CorsMode, Error> {
    let lines = normalize(raw);
    let [line] = lines.as_slice() else {
        return Err(unexpected(raw));
    };
    let line = line.trim();
    if !line.contains("CORS is ") {
        return Err(unexpected(raw));
    }
    if line.ends_with("is enabled for all origins") {
        Ok(CorsMode::EnableAll)
    } else if line.ends_with("is enabled") {
        Ok(CorsMode::Enable)
    } else if line.ends_with("is disabled") {
        Ok(CorsMode::Disable)
    } else {
        Err(unexpected(raw))
    }
}

/// `utils <product> cors allowed_origin list`: the origins, in order.
pub fn parse_origin_list(raw: &str) -> Result<Vec<String>, Error> {
    colon_list(raw, "The following origin(s) are configured:", "No origin")
}

/// `utils finesse application_https_redirect status` (wording inferred): whether it is on.
pub fn parse_https_redirect(raw: &str) -> Result<bool, Error> {
    let lines = normalize(raw);
    match lines.as_slice() {
        [line] if line.contains("HTTPS redirect is enabled") => Ok(true),
        [line] if line.contains("HTTPS redirect is disabled") => Ok(false),
        _ => Err(unexpected(raw)),
    }
}

/// `utils finesse gadget_source_check status` (wording inferred, as the redirect's): whether
/// the gadget source allow list is enforced.
pub fn parse_gadget_source_check(raw: &str) -> Result<bool, Error> {
    let lines = normalize(raw);
    let line = lines
        .iter()
        .find(|l| l.to_ascii_lowercase().contains("gadget source"));
    match line.map(|l| l.to_ascii_lowercase()) {
        Some(l) if l.ends_with("is enabled") || l.ends_with("is enabled.") => Ok(true),
        Some(l) if l.ends_with("is disabled") || l.ends_with("is disabled.") => Ok(false),
        _ => Err(unexpected(raw)),
    }
}

/// `show tls min-version`: the lowest TLS version the node's services accept (`1.0`, `1.1`,
/// `1.2`, `1.3`), from `Configured TLS minimum version: 1.2`.
pub fn parse_tls_min_version(raw: &str) -> Result<String, Error> {
    normalize(raw)
        .iter()
        .find_map(|line| {
            let (label, value) = line.trim().rsplit_once(':')?;
            let value = value.trim();
            (label.to_ascii_lowercase().contains("minimum version")
                && matches!(value, "1.0" | "1.1" | "1.2" | "1.3"))
            .then(|| value.to_owned())
        })
        .ok_or_else(|| unexpected(raw))
}

/// A command that prints nothing when it works (`set-config-update-frequency`).
pub fn parse_silent(raw: &str) -> Result<(), Error> {
    if normalize(raw).is_empty() {
        Ok(())
    } else {
        Err(unexpected(raw))
    }
}

/// `utils <product> cors enable|enable_all|disable`: a line saying it was done successfully
/// (VOS's "Executed command unsuccessfully" is not one).
pub fn parse_cors_set(raw: &str) -> Result<(), Error> {
    let done = |l: &&str| l.contains("successfully") && !l.contains("unsuccessfully");
    if normalize(raw).iter().any(done) {
        Ok(())
    } else {
        Err(unexpected(raw))
    }
}
