//! The VOS `admin:` CLI of one simulated node: each line typed in, the output it prints (as
//! documented in DOMAIN.md §4, byte for byte where the documentation shows it), with the
//! node's state changed as the appliance would change it.
//!
//! Outputs the documentation does not show (CORS, the HTTPS redirect, some refusals) are
//! modelled on the documented ones and marked "inferred" where they are written.

use crate::state::{Cors, CorsMode, StoredCert};
use crate::Fleet;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

pub const PROMPT: &str = "admin:";
/// Lines per page while pagination is on.
const PAGE: usize = 20;
const WEB_PROXY: &str = "Cisco Web Proxy Service";
const RESTART_PROXY: &str = "Restart Cisco Web Proxy Service for the changes to take effect";

/// What the CLI sends back: text, or a pause (a restart takes its time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Out {
    Text(String),
    Sleep(Duration),
}

enum Pending {
    /// Pagination: the lines not shown yet.
    Page(VecDeque<String>),
    Menu(Menu, Vec<String>),
    Regen(String),
    Paste {
        unit: String,
        text: String,
    },
}

#[derive(Clone, Copy)]
enum Menu {
    AllowedHosts,
    ConfigUri,
    Frame,
    Origins(Product),
}

/// Whose CORS commands (`utils finesse|cuic|live-data cors`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Product {
    Finesse,
    Cuic,
    LiveData,
}

impl Product {
    fn key(self) -> &'static str {
        match self {
            Product::Finesse => "finesse",
            Product::Cuic => "cuic",
            Product::LiveData => "live-data",
        }
    }
    fn name(self) -> &'static str {
        match self {
            Product::Finesse => "Finesse",
            Product::Cuic => "CUIC",
            Product::LiveData => "LiveData",
        }
    }
}

/// One CLI session (one SSH shell).
pub struct Cli {
    fleet: Arc<Fleet>,
    node: usize,
    pagination: bool,
    pending: Option<Pending>,
}

impl Cli {
    pub fn new(fleet: Arc<Fleet>, node: usize) -> Self {
        Self {
            fleet,
            node,
            pagination: true,
            pending: None,
        }
    }

    /// What a new shell prints before its first prompt.
    pub fn banner(&self) -> String {
        format!(
            "Command Line Interface is starting up, please wait ...\n\n   Welcome to the Platform Command Line Interface\n\n{PROMPT}"
        )
    }

    /// Whether the next input is a single key (pagination), not a line.
    pub fn wants_key(&self) -> bool {
        matches!(self.pending, Some(Pending::Page(_)))
    }

    /// Whether a pasted certificate is being read (lines are not echoed as commands).
    pub fn reading_paste(&self) -> bool {
        matches!(self.pending, Some(Pending::Paste { .. }))
    }

    /// The output for one line typed (or one key, see [`Cli::wants_key`]), ending with the
    /// next prompt. `None`: the session ends (`quit`).
    pub async fn input(&mut self, line: &str) -> Option<Vec<Out>> {
        let mut out = Vec::new();
        let text = match self.pending.take() {
            Some(Pending::Page(rest)) => return Some(self.more(rest, line)),
            Some(Pending::Menu(menu, items)) => self.choose(menu, items, line.trim()),
            Some(Pending::Regen(unit)) => self.regen(&unit, line.trim()),
            Some(Pending::Paste { unit, mut text }) => {
                text.push_str(line);
                text.push('\n');
                if !(line.trim().is_empty() && text.contains("-----END CERTIFICATE-----")) {
                    self.pending = Some(Pending::Paste { unit, text });
                    return Some(Vec::new());
                }
                self.import(&unit, &text)
            }
            None => {
                let words: Vec<&str> = line.split_whitespace().collect();
                if matches!(words.as_slice(), ["quit"] | ["exit"]) {
                    return None;
                }
                match self.command(&words, &mut out).await {
                    Some(text) => text,
                    None => return Some(out),
                }
            }
        };
        Some(self.show(out, text))
    }

    /// Output, paginated when pagination is on, then the prompt (or the pending question).
    fn show(&mut self, mut out: Vec<Out>, text: String) -> Vec<Out> {
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        if self.pagination && self.pending.is_none() && lines.len() > PAGE {
            out.push(Out::Text(lines[..PAGE].concat()));
            out.push(Out::Text(vos::PAGINATION_PROMPT.to_owned()));
            self.pending = Some(Pending::Page(
                lines[PAGE..].iter().map(|l| (*l).to_owned()).collect(),
            ));
            return out;
        }
        let prompt = if self.pending.is_some() { "" } else { PROMPT };
        out.push(Out::Text(text + prompt));
        out
    }

    fn more(&mut self, mut rest: VecDeque<String>, key: &str) -> Vec<Out> {
        let take = match key {
            "q" | "Q" => 0,
            " " => PAGE,
            _ => 1,
        };
        let mut text = String::from("\n");
        if take == 0 {
            rest.clear();
        }
        for _ in 0..take {
            match rest.pop_front() {
                Some(line) => text.push_str(&line),
                None => break,
            }
        }
        if rest.is_empty() {
            return vec![Out::Text(text + PROMPT)];
        }
        self.pending = Some(Pending::Page(rest));
        vec![Out::Text(text + vos::PAGINATION_PROMPT)]
    }

    /// Runs a command; `None` when it wrote its whole output into `out` itself (a restart).
    async fn command(&mut self, words: &[&str], out: &mut Vec<Out>) -> Option<String> {
        let finesse = self.fleet.spec_of(self.node).is_finesse();
        let text = match words {
            [] => String::new(),
            ["set", "cli", "pagination", on @ ("on" | "off")] => {
                self.pagination = *on == "on";
                format!("Automatic pagination is turned {on}\n")
            }
            ["show", "version", "active"] => format!(
                "Active Master Version: {}\nActive Version Installed Software Options:\nNo Installed Software Options Found.\n",
                self.fleet.spec_of(self.node).version
            ),
            ["utils", "system", "reverse-proxy", rest @ ..] => self.reverse_proxy(rest).await,
            ["utils", "finesse", "show_connected_users", "summary"] if finesse => {
                let u = self.fleet.users(self.node);
                format!(
                    "\nTotal Connected Users: {}\n\nDesktop Users: {}\nFIPPA Users: {}\nThird-party Users: {}\n\nUsers connected to Finesse via LAN/WAN: {}\nUsers connected to Finesse via Proxy: {}\n\nTo view the complete list of signed-in users, log in to the Cisco Finesse\nAdministration Console, and navigate to the Connected Agents tab.\n",
                    u.total(), u.desktop, u.fippa, u.third_party, u.total() - u.proxy, u.proxy
                )
            }
            ["utils", "finesse", "frame_access_allowed_list", rest @ ..] if finesse => {
                self.frame_access(rest)
            }
            ["utils", "finesse", "set_property", "webservices", name, value] if finesse => {
                let (name, value) = (name.to_string(), value.to_string());
                self.fleet.edit(self.node, |s| s.properties.insert(name, value));
                "Property successfully updated.\n".into()
            }
            ["utils", "finesse", "show_property", "webservices", name] if finesse => {
                let value = self.fleet.read(self.node, |s| s.properties.get(*name).cloned());
                format!(
                    "The value of property '{name}' is '{}'\n",
                    value.unwrap_or_else(|| "false".into())
                )
            }
            // Inferred wording.
            ["utils", "finesse", "application_https_redirect", what @ ("status" | "enable" | "disable")] if finesse => {
                if *what != "status" {
                    let on = *what == "enable";
                    self.fleet.edit(self.node, |s| s.https_redirect = on);
                }
                let on = self.fleet.read(self.node, |s| s.https_redirect);
                format!(
                    "Application HTTPS redirect is {}\n",
                    if on { "enabled" } else { "disabled" }
                )
            }
            ["utils", product, "cors", rest @ ..] => match self.product(product) {
                Some(product) => self.cors(product, rest),
                None => unknown(),
            },
            ["show", "cert", "list", which @ ("own" | "trust")] => self.cert_list(which == &"own"),
            ["show", "cert", which @ ("own" | "trust"), name] => self.cert_show(which == &"own", name),
            ["set", "cert", "import", "trust", unit] => {
                self.pending = Some(Pending::Paste {
                    unit: unit.to_string(),
                    text: String::new(),
                });
                "Paste the Certificate and Hit Enter\n".into()
            }
            ["set", "cert", "regen", unit] => {
                if self.fleet.read(self.node, |s| s.own_cert(unit).is_none()) {
                    format!("{unit} is not a valid certificate unit\n")
                } else {
                    self.pending = Some(Pending::Regen(unit.to_string()));
                    format!("WARNING: This operation will overwrite any CA signed certificate previously imported for  {unit}\nProceed with regeneration (yes|no)? ")
                }
            }
            ["set", "csr", "gen", unit] => self.csr_gen(unit),
            ["show", "csr", "own", unit] => self
                .fleet
                .read(self.node, |s| s.csr.clone())
                .filter(|_| *unit == "tomcat")
                .unwrap_or_else(|| format!("No CSR found for {unit}\n")),
            ["utils", "service", "list"] => {
                let mut text = String::from("Requesting service status, please wait...\n");
                for service in self.fleet.services(self.node) {
                    text.push_str(&format!("{service}[STARTED]\n"));
                }
                text
            }
            ["utils", "service", "restart", name @ ..] if !name.is_empty() => {
                self.restart(&name.join(" "), out).await;
                return None;
            }
            _ => unknown(),
        };
        Some(text)
    }

    fn product(&self, word: &str) -> Option<Product> {
        let kind = self.fleet.spec_of(self.node).kind.as_str();
        match (word, kind) {
            ("finesse", "finesse") => Some(Product::Finesse),
            ("cuic", "cuic") => Some(Product::Cuic),
            ("live-data", "livedata" | "cuic") => Some(Product::LiveData),
            _ => None,
        }
    }

    async fn reverse_proxy(&mut self, words: &[&str]) -> String {
        let node = self.node;
        match words {
            ["allowed-hosts", "add", sources] => {
                let mut text = String::new();
                for source in sources.split(',').filter(|s| !s.is_empty()) {
                    if self.fleet.resolves(source).await {
                        self.fleet.edit(node, |s| {
                            if !s.allowed_hosts.iter().any(|h| h == source) {
                                s.allowed_hosts.push(source.to_owned());
                            }
                        });
                        text.push_str(&format!("Source {source} successfully added\n"));
                    } else {
                        text.push_str(&format!("Either IPv4 address or hostname is invalid or is not resolvable. Now validating IPv6 address for source {source}\nOperation failed, please enter valid source(s). Source {source} is invalid\n\n"));
                        return text;
                    }
                }
                text + &format!("\n{RESTART_PROXY}: utils service restart {WEB_PROXY}\n\n")
            }
            ["allowed-hosts", "list"] => source_list(&self.fleet.read(node, |s| s.allowed_hosts.clone())),
            ["allowed-hosts", "delete"] => {
                let items = self.fleet.read(node, |s| s.allowed_hosts.clone());
                self.menu(Menu::AllowedHosts, items)
            }
            ["client-auth", "status"] => format!(
                "SSL certificate verification for connections established from reverse proxy hosts is {}\n",
                if self.fleet.read(node, |s| s.client_auth) { "enabled" } else { "disabled" }
            ),
            ["client-auth", what @ ("enable" | "disable")] => {
                let on = *what == "enable";
                self.fleet.edit(node, |s| s.client_auth = on);
                format!(
                    "SSL certificate verification {what}d for connections established from reverse proxy hosts\n\n{RESTART_PROXY}:\nutils service restart {WEB_PROXY}\n\n"
                )
            }
            ["config-uri", "list"] => source_list(&self.fleet.read(node, |s| s.config_uris.clone())),
            ["config-uri", "add", uri] => {
                let refused = |why: &str| {
                    format!("Operation failed, please enter valid source(s). Source {uri} is invalid\n{why}\n")
                };
                // Inferred wording for both refusals; the documentation shows only that a URI
                // which does not serve a valid map is refused.
                if self.fleet.read(node, |s| s.config_uris.len()) >= 2 {
                    return refused("At most 2 config-uri sources can be configured.");
                }
                match self.fleet.fetch_map(node, uri).await {
                    Ok(map) => {
                        self.fleet.edit(node, |s| {
                            s.config_uris.push(uri.to_string());
                            s.update_frequency.get_or_insert(1);
                            if s.config_uris.len() == 1 {
                                s.proxy_map = map;
                            }
                        });
                        format!("Source {uri} successfully added\n")
                    }
                    Err(why) => refused(&why),
                }
            }
            ["config-uri", "delete"] => {
                let items = self.fleet.read(node, |s| s.config_uris.clone());
                self.menu(Menu::ConfigUri, items)
            }
            ["show-config-update-frequency"] => match self.fleet.read(node, |s| s.update_frequency) {
                None => "No config-uri configured\n".into(),
                Some(1) => "1 minute\n".into(),
                Some(n) => format!("{n} minutes\n"),
            },
            ["set-config-update-frequency", minutes] => match minutes.parse::<u32>() {
                Ok(n) if (1..=1440).contains(&n) => {
                    self.fleet.edit(node, |s| s.update_frequency = Some(n));
                    String::new()
                }
                // Inferred wording.
                _ => format!("Invalid frequency {minutes}: enter a number of minutes from 1 to 1440\n"),
            },
            ["show-proxy-config-map"] => {
                let map = self.fleet.read(node, |s| s.proxy_map.clone());
                map.iter().map(|l| format!("{l}\n")).collect::<String>() + if map.is_empty() { "" } else { "\n" }
            }
            _ => unknown(),
        }
    }

    fn frame_access(&mut self, words: &[&str]) -> String {
        let node = self.node;
        match words {
            ["list"] => {
                let list = self.fleet.read(node, |s| s.frame_access.clone());
                if list.is_empty() {
                    return "No source is configured in the frame access list\n".into();
                }
                let mut text = String::from(
                    "The following source(s) are configured in the frame access list:\n",
                );
                for (i, source) in list.iter().enumerate() {
                    text.push_str(&format!("{}: {source}\n", i + 1));
                }
                text
            }
            ["add", sources] => {
                let sources: Vec<&str> = sources.split(',').filter(|s| !s.is_empty()).collect();
                if let Some(bad) = sources.iter().find(|s| !frame_source_valid(s)) {
                    return format!(
                        "Operation failed, please enter valid source(s). Source {bad} is invalid\n"
                    );
                }
                let total: usize = self
                    .fleet
                    .read(node, |s| s.frame_access.iter().map(|f| f.len() + 1).sum());
                if total + sources.iter().map(|s| s.len() + 1).sum::<usize>() > 2000 {
                    return "Operation failed, the frame access list can hold at most 2000 characters\n".into();
                }
                self.fleet.edit(node, |s| {
                    for source in &sources {
                        if !s.frame_access.iter().any(|f| f == source) {
                            s.frame_access.push(source.to_string());
                        }
                    }
                });
                "Source(s) successfully added.\nEnsure Source(s) is added to the frame access list in all Finesse nodes in the cluster.\nRestart Cisco Finesse Tomcat and Cisco Finesse Notification Service for the changes to take effect:\nutils service restart Cisco Finesse Tomcat\nutils service restart Cisco Finesse Notification Service\n".into()
            }
            ["delete"] => {
                let items = self.fleet.read(node, |s| s.frame_access.clone());
                self.menu(Menu::Frame, items)
            }
            _ => unknown(),
        }
    }

    /// `utils <product> cors ...`: outputs inferred (not documented publicly).
    fn cors(&mut self, product: Product, words: &[&str]) -> String {
        let node = self.node;
        let key = product.key().to_owned();
        let name = product.name();
        let cors = self
            .fleet
            .read(node, |s| s.cors.get(&key).cloned().unwrap_or_default());
        let set =
            |fleet: &Fleet, cors: Cors| fleet.edit(node, |s| s.cors.insert(key.clone(), cors));
        match words {
            ["status"] => match cors.mode {
                CorsMode::EnableAll => format!("{name} CORS is enabled for all origins\n"),
                CorsMode::Enable => format!("{name} CORS is enabled\n"),
                CorsMode::Disable => format!("{name} CORS is disabled\n"),
            },
            [what @ ("enable" | "enable_all" | "disable")] => {
                let mode = match *what {
                    "enable" => CorsMode::Enable,
                    "enable_all" => CorsMode::EnableAll,
                    _ => CorsMode::Disable,
                };
                set(&self.fleet, Cors { mode, ..cors });
                format!(
                    "{name} CORS {}d successfully.\n",
                    what.trim_end_matches("_all")
                )
            }
            ["allowed_origin", "list"] => {
                if cors.origins.is_empty() {
                    return "No origin is configured\n".into();
                }
                let mut text = String::from("The following origin(s) are configured:\n");
                for (i, origin) in cors.origins.iter().enumerate() {
                    text.push_str(&format!("{}: {origin}\n", i + 1));
                }
                text
            }
            ["allowed_origin", "add", origins] => {
                let origins: Vec<&str> = origins.split(',').filter(|s| !s.is_empty()).collect();
                if let Some(bad) = origins.iter().find(|o| {
                    **o == "*" || !(o.starts_with("https://") || o.starts_with("http://"))
                }) {
                    return format!(
                        "Operation failed, please enter valid origin(s). Origin {bad} is invalid\n"
                    );
                }
                let mut next = cors.clone();
                for origin in origins {
                    if !next.origins.iter().any(|o| o == origin) {
                        next.origins.push(origin.to_owned());
                    }
                }
                if next.origins.iter().map(|o| o.len() + 1).sum::<usize>() > 4000 {
                    return "Operation failed, the allowed origins can hold at most 4000 characters\n".into();
                }
                set(&self.fleet, next);
                "Origin(s) successfully added.\n".into()
            }
            ["allowed_origin", "delete"] => self.menu(Menu::Origins(product), cors.origins),
            _ => unknown(),
        }
    }

    /// A delete menu in the shape its command uses.
    fn menu(&mut self, menu: Menu, items: Vec<String>) -> String {
        if items.is_empty() {
            return match menu {
                Menu::AllowedHosts | Menu::ConfigUri => {
                    "Currently no source is configured\n".into()
                }
                Menu::Frame => "No source is configured in the frame access list\n".into(),
                Menu::Origins(_) => "No origin is configured\n".into(),
            };
        }
        let n = items.len();
        let mut text = String::new();
        match menu {
            Menu::AllowedHosts => {
                text.push_str("Select the reverse-proxy source IP to delete:\n");
                for (i, item) in items.iter().enumerate() {
                    text.push_str(&format!(" {}) {item}\n", i + 1));
                }
                text.push_str(&format!(
                    " {}) all\n {}) quit\nPlease select an option (1 - {} or \"q\" ): ",
                    n + 1,
                    n + 2,
                    n + 2
                ));
            }
            Menu::ConfigUri => {
                text.push_str("Select the reverse-proxy source URI to delete:\n");
                for (i, item) in items.iter().enumerate() {
                    text.push_str(&format!(" {}) {item}\n", i + 1));
                }
                text.push_str(&format!(
                    " {}) all\n q) quit\nPlease select an option (1 - {} or \"q\" ): ",
                    n + 1,
                    n + 1
                ));
            }
            Menu::Frame | Menu::Origins(_) => {
                for (i, item) in items.iter().enumerate() {
                    text.push_str(&format!("{}: {item}\n", i + 1));
                }
                let what = if matches!(menu, Menu::Frame) {
                    "source"
                } else {
                    "origin(s)"
                };
                text.push_str(&format!(
                    "a: all\nq: quit\nSelect the index of {what} to be deleted [1-{n} or a,q]: "
                ));
            }
        }
        self.pending = Some(Pending::Menu(menu, items));
        text
    }

    fn choose(&mut self, menu: Menu, items: Vec<String>, answer: &str) -> String {
        let n = items.len();
        let numbered_all = matches!(menu, Menu::AllowedHosts | Menu::ConfigUri);
        let chosen: Option<Vec<String>> = match answer.parse::<usize>() {
            Ok(i) if (1..=n).contains(&i) => Some(vec![items[i - 1].clone()]),
            Ok(i) if numbered_all && i == n + 1 => Some(items.clone()),
            Ok(i) if matches!(menu, Menu::AllowedHosts) && i == n + 2 => None,
            _ if answer == "a" && !numbered_all => Some(items.clone()),
            _ if answer == "q" => None,
            _ => return "Invalid option\n".into(),
        };
        let Some(chosen) = chosen else {
            return String::new();
        };
        let remove = |list: &mut Vec<String>| list.retain(|x| !chosen.contains(x));
        match menu {
            Menu::AllowedHosts => {
                self.fleet.edit(self.node, |s| remove(&mut s.allowed_hosts));
                "Delete operation successful\n\n".into()
            }
            Menu::ConfigUri => {
                self.fleet.edit(self.node, |s| remove(&mut s.config_uris));
                "Delete operation successful\n".into()
            }
            Menu::Frame => {
                self.fleet.edit(self.node, |s| remove(&mut s.frame_access));
                "Sources deleted successfully.\n".into()
            }
            Menu::Origins(product) => {
                self.fleet.edit(self.node, |s| {
                    remove(&mut s.cors.entry(product.key().to_owned()).or_default().origins)
                });
                "Origin(s) deleted successfully.\n".into()
            }
        }
    }

    fn cert_list(&self, own: bool) -> String {
        self.fleet.read(self.node, |s| {
            let store = if own { &s.own } else { &s.trust };
            store
                .iter()
                .map(|c| format!("{}/{}: {}\n", c.unit, c.file, c.description))
                .collect()
        })
    }

    /// `show cert own tomcat`, `show cert own tomcat/tomcat.pem`, `show cert trust tomcat-trust/x.pem`.
    fn cert_show(&self, own: bool, name: &str) -> String {
        let (unit, file) = match name.split_once('/') {
            Some((unit, file)) => (unit, Some(file)),
            None => (name, None),
        };
        let cert = self.fleet.read(self.node, |s| {
            let store = if own { &s.own } else { &s.trust };
            store
                .iter()
                .find(|c| c.unit == unit && file.is_none_or(|f| f == c.file))
                .cloned()
        });
        match cert {
            Some(cert) => dump(&cert),
            // Inferred wording.
            None => format!("{name}: no such certificate file\n"),
        }
    }

    fn import(&mut self, unit: &str, text: &str) -> String {
        let trust_unit = if unit.ends_with("-trust") {
            unit.to_owned()
        } else {
            format!("{unit}-trust")
        };
        let ders = match certs::analyze::pem_certificates(text) {
            Ok(ders) if !ders.is_empty() => ders,
            // Inferred wording.
            _ => return "Error: the pasted text is not a valid certificate\n".into(),
        };
        let mut names = Vec::new();
        for der in &ders {
            let Ok(info) = certs::analyze::parse(der) else {
                return "Error: the pasted text is not a valid certificate\n".into();
            };
            let name = info
                .subject_cn
                .unwrap_or(info.serial)
                .replace([' ', '/'], "_");
            names.push((format!("{name}.pem"), certs::analyze::pem(der)));
        }
        // The publisher replicates its trust stores to the other nodes of its cluster.
        let targets = self.fleet.replicas(self.node);
        for node in targets {
            self.fleet.edit(node, |s| {
                for (file, pem) in &names {
                    s.trust
                        .retain(|c| !(c.unit == trust_unit && &c.file == file));
                    s.trust.push(StoredCert {
                        unit: trust_unit.clone(),
                        file: file.clone(),
                        description: "Trust Certificate".into(),
                        cert_pem: pem.clone(),
                        key_pem: None,
                    });
                }
            });
        }
        format!("Successfully imported certificate for {unit}.\nPlease restart services related to {unit} for the new certificate to\nbecome active.\n")
    }

    fn regen(&mut self, unit: &str, answer: &str) -> String {
        if answer != "yes" {
            return String::new();
        }
        match self.fleet.regenerate(self.node, unit) {
            Ok(()) => format!("Successfully Regenerated Certificate for {unit}.\nYou must restart services related to {unit} for the regenerated certificates to become active.\n"),
            Err(error) => format!("Failed to regenerate the certificate for {unit}: {error}\n"),
        }
    }

    fn csr_gen(&mut self, unit: &str) -> String {
        if unit != "tomcat" {
            return format!("{unit} is not a valid certificate unit\n");
        }
        match self.fleet.csr(self.node) {
            Ok(pem) => {
                self.fleet.edit(self.node, |s| s.csr = Some(pem));
                "Successfully Generated CSR for tomcat.\n".into()
            }
            Err(error) => format!("Failed to generate the CSR for tomcat: {error}\n"),
        }
    }

    async fn restart(&mut self, service: &str, out: &mut Vec<Out>) {
        if !self.fleet.services(self.node).contains(&service) {
            // Inferred wording.
            out.push(Out::Text(format!(
                "Service Manager is running\n{service}: service not found\n{PROMPT}"
            )));
            return;
        }
        let step = self.fleet.restart_step(self.node);
        out.push(Out::Text(" Don't press Ctrl-c while the service is getting RESTARTED.If Service has not Restarted Properly, execute the same Command Again\nService Manager is running\n".into()));
        for state in ["STOPPING", "STARTING", "STARTED"] {
            out.push(Out::Sleep(step));
            if state == "STARTED" && self.fleet.is_web_service(self.node, service) {
                self.fleet.activate_tomcat(self.node);
            }
            out.push(Out::Text(format!("{service}[{state}]\n")));
        }
        out.push(Out::Text(PROMPT.into()));
    }
}

fn unknown() -> String {
    "Executed command unsuccessfully\nNo valid command entered\n".into()
}

fn source_list(sources: &[String]) -> String {
    if sources.is_empty() {
        return "Currently no source is configured\n".into();
    }
    let mut text = String::from("The following source(s) are configured:\n");
    for (i, source) in sources.iter().enumerate() {
        text.push_str(&format!("{}. {source}\n", i + 1));
    }
    text + "\n"
}

/// `https://fqdn[:port]` or `https://IP[:port]`, `*` allowed in host and port.
fn frame_source_valid(source: &str) -> bool {
    let Some(rest) = source.strip_prefix("https://") else {
        return false;
    };
    let (host, port) = rest.split_once(':').unwrap_or((rest, "443"));
    !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '*'))
        && (port == "*" || port.parse::<u16>().is_ok_and(|p| p > 0))
}

/// The certificate as `show cert` prints it: a summary, then the PEM block.
fn dump(cert: &StoredCert) -> String {
    let info = certs::analyze::pem_certificates(&cert.cert_pem)
        .ok()
        .and_then(|ders| ders.first().and_then(|d| certs::analyze::parse(d).ok()));
    let Some(info) = info else {
        return cert.cert_pem.clone();
    };
    let date = |t: i64| {
        time::OffsetDateTime::from_unix_timestamp(t)
            .map(|t| t.to_string())
            .unwrap_or_default()
    };
    format!(
        "[\n  Version: V{}\n  Serial Number: {}\n  SignatureAlgorithm: {}\n  Issuer Name: {}\n  Validity From: {}\n           To:   {}\n  Subject Name: {}\n  Key: {}\n]\n{}",
        info.version,
        info.serial,
        info.signature_algorithm,
        info.issuer,
        date(info.not_before),
        date(info.not_after),
        info.subject,
        info.key.algorithm,
        cert.cert_pem
    )
}
