//! The platform's state: services (listed and restarting), the active version, Finesse's
//! connected users.

use crate::{normalize, unexpected, Error};

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

/// `utils service restart <service>`: the streamed states end with the service `STARTED`.
pub fn parse_restarted(raw: &str, service: &str) -> Result<(), Error> {
    let started = normalize(raw).iter().any(|line| {
        parse_service_line(line).is_some_and(|s| s.service == service && s.state == "STARTED")
    });
    if started {
        Ok(())
    } else {
        Err(unexpected(raw))
    }
}
