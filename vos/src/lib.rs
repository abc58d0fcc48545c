//! The Cisco VOS `admin:` CLI's outputs, parsed into typed results (DOMAIN.md §4).
//!
//! Shared by the SSH driver (which reads what real appliances print) and the appliance
//! simulator (which must print the same). Every parser first [`normalize`]s the raw text (CRLF,
//! trailing spaces, pagination prompts, blank lines), then accepts only the shapes the
//! documentation shows: anything else is [`Error::Unexpected`] carrying the raw text, never a
//! silent success. An answer the appliance gives to refuse the input is [`Error::Rejected`].

use std::fmt;

/// Why an output does not mean success.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The appliance refused the input (`Source X is invalid`): what it named, and its words.
    Rejected { input: String, message: String },
    /// Output none of the documented shapes match.
    Unexpected { raw: String },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Rejected { input, message } => {
                write!(f, "the appliance refused {input}: {message}")
            }
            Error::Unexpected { raw } => write!(f, "unexpected output from the appliance: {raw:?}"),
        }
    }
}

impl std::error::Error for Error {}

fn unexpected(raw: &str) -> Error {
    Error::Unexpected {
        raw: raw.to_owned(),
    }
}

/// What VOS prints while pagination is on; the driver turns it off, but a parser never takes
/// it for content.
pub const PAGINATION_PROMPT: &str =
    "Press <enter> for 1 line, <space> for one page, or <q> to quit";

/// The output's meaningful lines: CRLF and CR made LF, trailing spaces and pagination prompts
/// removed, blank lines dropped.
pub fn normalize(raw: &str) -> Vec<&str> {
    raw.split(['\n', '\r'])
        .map(str::trim_end)
        .filter(|line| !line.trim().is_empty() && !line.contains(PAGINATION_PROMPT))
        .collect()
}

/// A restart the appliance asks for, e.g. `utils service restart Cisco Web Proxy Service`.
fn restart_hint(lines: &[&str]) -> Vec<String> {
    lines
        .iter()
        .filter_map(|line| {
            let at = line.find("utils service restart ")?;
            Some(
                line[at + "utils service restart ".len()..]
                    .trim()
                    .to_owned(),
            )
        })
        .collect()
}

/// What an add or a change asks for afterwards, and what the appliance printed while making it
/// (for the operator and the audit log).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Changed {
    /// Services to restart for the change to take effect, as named in the output.
    pub restart: Vec<String>,
    /// The command's whole output.
    pub output: String,
}

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

/// `1. value` (or `1: value` with `separator` `": "`) → `value`.
fn numbered(line: &str, separator: &str) -> Option<String> {
    let (number, value) = line.trim().split_once(separator)?;
    number.parse::<u32>().ok()?;
    Some(value.trim().to_owned())
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

/// `utils finesse show_connected_users summary`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ConnectedUsers {
    pub total: u32,
    pub desktop: u32,
    pub fippa: u32,
    pub third_party: u32,
    /// Via LAN/WAN.
    pub lan: u32,
    pub proxy: u32,
}

pub fn parse_connected_users(raw: &str) -> Result<ConnectedUsers, Error> {
    let mut users = ConnectedUsers::default();
    let mut seen = 0;
    for line in normalize(raw) {
        let Some((label, value)) = line.trim().rsplit_once(": ") else {
            continue;
        };
        let slot = match label {
            "Total Connected Users" => &mut users.total,
            "Desktop Users" => &mut users.desktop,
            "FIPPA Users" => &mut users.fippa,
            "Third-party Users" => &mut users.third_party,
            "Users connected to Finesse via LAN/WAN" => &mut users.lan,
            "Users connected to Finesse via Proxy" => &mut users.proxy,
            _ => continue,
        };
        *slot = value.trim().parse().map_err(|_| unexpected(raw))?;
        seen += 1;
    }
    if seen == 6 {
        Ok(users)
    } else {
        Err(unexpected(raw))
    }
}

/// Finesse's `GET /finesse/api/ConnectedUsersInfo` body (DOMAIN.md §5). It has no LAN/WAN
/// count of its own: LAN/WAN is the total less those via the proxy.
pub fn parse_connected_users_info(xml: &str) -> Result<ConnectedUsers, Error> {
    let field = |tag: &str| -> Result<u32, Error> {
        let open = format!("<{tag}>");
        let start = xml.find(&open).ok_or_else(|| unexpected(xml))? + open.len();
        let end = xml[start..]
            .find(&format!("</{tag}>"))
            .ok_or_else(|| unexpected(xml))?;
        xml[start..start + end]
            .trim()
            .parse()
            .map_err(|_| unexpected(xml))
    };
    if !xml.contains("<ConnectedUsersInfo>") {
        return Err(unexpected(xml));
    }
    let total = field("totalConnectedUsers")?;
    let proxy = field("totalConnectedUsersViaProxy")?;
    Ok(ConnectedUsers {
        total,
        desktop: field("desktopUsers")?,
        fippa: field("fippaUsers")?,
        third_party: field("thirdPartyUsers")?,
        lan: total.saturating_sub(proxy),
        proxy,
    })
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

/// One entry of `show cert list own|trust`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertEntry {
    /// `tomcat`, `tomcat-trust`, `ipsec`, ...
    pub unit: String,
    /// `tomcat.pem`, `<name>.pem`.
    pub file: String,
    pub description: String,
}

pub fn parse_cert_list(raw: &str) -> Result<Vec<CertEntry>, Error> {
    normalize(raw)
        .iter()
        .map(|line| {
            let (path, description) = line
                .trim()
                .split_once(": ")
                .or_else(|| line.trim().strip_suffix(':').map(|p| (p, "")))
                .ok_or_else(|| unexpected(raw))?;
            let (unit, file) = path.split_once('/').ok_or_else(|| unexpected(raw))?;
            if unit.is_empty() || file.is_empty() || path.contains(' ') {
                return Err(unexpected(raw));
            }
            Ok(CertEntry {
                unit: unit.to_owned(),
                file: file.to_owned(),
                description: description.trim().to_owned(),
            })
        })
        .collect()
}

/// The PEM block of `show cert own|trust <file>` (the dump before it is not needed: the
/// console parses the certificate itself).
pub fn parse_cert_pem(raw: &str) -> Result<String, Error> {
    let begin = raw
        .find("-----BEGIN CERTIFICATE-----")
        .ok_or_else(|| unexpected(raw))?;
    let end_marker = "-----END CERTIFICATE-----";
    let end = raw[begin..]
        .find(end_marker)
        .ok_or_else(|| unexpected(raw))?;
    let block = &raw[begin..begin + end + end_marker.len()];
    Ok(normalize(block).join("\n") + "\n")
}

/// A service's state while `utils service restart` streams its progress.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceState {
    pub service: String,
    /// `STOPPING`, `STARTING`, `STARTED`, ...
    pub state: String,
}

/// One line of a restart's streamed output: `Cisco Finesse Tomcat[STARTED]` → the state;
/// other lines (the warning, `Service Manager is running`) → `None`.
pub fn parse_service_line(line: &str) -> Option<ServiceState> {
    let line = line.trim();
    let open = line.rfind('[')?;
    let state = line[open + 1..].strip_suffix(']')?;
    if state.is_empty() || !state.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
        return None;
    }
    Some(ServiceState {
        service: line[..open].trim().to_owned(),
        state: state.to_owned(),
    })
}

/// `show version active`: the active version (`Active Master Version: 12.6.2.10000-32`).
pub fn parse_version_active(raw: &str) -> Result<String, Error> {
    normalize(raw)
        .iter()
        .find_map(|line| {
            let (label, value) = line.trim().split_once(": ")?;
            (label == "Active Master Version" && !value.trim().is_empty())
                .then(|| value.trim().to_owned())
        })
        .ok_or_else(|| unexpected(raw))
}

/// `set cert import trust <unit>` after the paste: `Successfully imported certificate for <unit>.`
pub fn parse_imported(raw: &str, unit: &str) -> Result<(), Error> {
    let done = format!("Successfully imported certificate for {unit}.");
    if normalize(raw).iter().any(|l| l.trim() == done) {
        Ok(())
    } else {
        Err(unexpected(raw))
    }
}

/// Whether a success line is there, the restarts asked for, or the refusal (`... X is invalid`).
pub fn parse_done(raw: &str, success: &[&str]) -> Result<Changed, Error> {
    let lines = normalize(raw);
    if lines.iter().any(|l| success.contains(&l.trim())) {
        return Ok(Changed {
            restart: restart_hint(&lines),
            output: raw.to_owned(),
        });
    }
    if let Some(line) = lines
        .iter()
        .find(|l| l.starts_with("Operation failed") || l.trim_end().ends_with(" is invalid"))
    {
        let input = line
            .trim_end()
            .strip_suffix(" is invalid")
            .and_then(|rest| rest.rsplit(' ').next())
            .unwrap_or_default()
            .to_owned();
        return Err(Error::Rejected {
            input,
            message: lines.join("\n"),
        });
    }
    Err(unexpected(raw))
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

/// `utils service list`: every service with its state.
pub fn parse_service_list(raw: &str) -> Result<Vec<ServiceState>, Error> {
    let services: Vec<ServiceState> = normalize(raw)
        .iter()
        .filter_map(|line| parse_service_line(line))
        .collect();
    if services.is_empty() {
        Err(unexpected(raw))
    } else {
        Ok(services)
    }
}

/// `show csr own <unit>`: the CSR's PEM block.
pub fn parse_csr_pem(raw: &str) -> Result<String, Error> {
    let begin = raw
        .find("-----BEGIN CERTIFICATE REQUEST-----")
        .ok_or_else(|| unexpected(raw))?;
    let end_marker = "-----END CERTIFICATE REQUEST-----";
    let end = raw[begin..]
        .find(end_marker)
        .ok_or_else(|| unexpected(raw))?;
    Ok(normalize(&raw[begin..begin + end + end_marker.len()]).join("\n") + "\n")
}

pub mod driver;
#[cfg(feature = "rest")]
pub mod rest;
#[cfg(feature = "ssh")]
pub mod ssh;

#[cfg(test)]
mod tests;
