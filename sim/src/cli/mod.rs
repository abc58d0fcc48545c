//! The VOS `admin:` CLI of one simulated node: each line typed in, the output it prints (as
//! documented in DOMAIN.md §4, byte for byte where the documentation shows it), with the
//! node's state changed as the appliance would change it.
//!
//! Outputs the documentation does not show (CORS, the HTTPS redirect, some refusals) are
//! modelled on the documented ones and marked "inferred" where they are written.

mod access;
mod own;
mod posture;
pub(crate) use posture::DEFAULT_TLS_MIN;
mod stores;

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
    /// `set tls min-version`: "Do you want to continue (yes/no) ?" asked.
    TlsMin(String),
    /// `set csr gen`: "Include OU in CSR (yes|no)?" asked.
    CsrOu(String),
    Paste {
        unit: String,
        /// `set cert import own` (the node's own certificate), not `trust`.
        own: bool,
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
            Some(Pending::TlsMin(version)) => self.tls_min_answer(&version, line.trim()),
            Some(Pending::CsrOu(unit)) => match line.trim() {
                "yes" | "no" => self.csr_gen(&unit),
                _ => {
                    self.pending = Some(Pending::CsrOu(unit));
                    "Include OU in CSR (yes|no)? ".into()
                }
            },
            Some(Pending::Paste {
                unit,
                own,
                mut text,
            }) => {
                text.push_str(line);
                text.push('\n');
                if !(line.trim().is_empty() && text.contains("-----END CERTIFICATE-----")) {
                    self.pending = Some(Pending::Paste { unit, own, text });
                    return Some(Vec::new());
                }
                if own {
                    self.import_own(&unit, &text)
                } else {
                    self.import(&unit, &text)
                }
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
            ["utils", "cuic", "frame_access_allowed_list", rest @ ..]
                if self.fleet.spec_of(self.node).kind == "cuic" =>
            {
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
            ["utils", "finesse", "gadget_source_check", what @ ("status" | "enable" | "disable")]
                if finesse =>
            {
                self.gadget_source_check(what)
            }
            ["show" | "set", "tls", "min-version", ..] => self.tls_min(words),
            ["utils", product, "cors", rest @ ..] => match self.product(product) {
                Some(product) => self.cors(product, rest),
                None => unknown(),
            },
            ["show", "cert", "list", which @ ("own" | "trust")] => self.cert_list(which == &"own"),
            ["show", "cert", which @ ("own" | "trust"), name] => self.cert_show(which == &"own", name),
            ["set", "cert", "import", which @ ("own" | "trust"), unit] => {
                self.pending = Some(Pending::Paste {
                    unit: unit.to_string(),
                    own: *which == "own",
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
            ["set", "csr", "gen", "tomcat"] => {
                self.pending = Some(Pending::CsrOu("tomcat".into()));
                "Include OU in CSR (yes|no)? ".into()
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
}

fn unknown() -> String {
    "Executed command unsuccessfully\nNo valid command entered\n".into()
}
