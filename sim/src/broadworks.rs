//! A BroadWorks XSP|ADP (or AS) node's CLI, as far as seed 003's CTI checklist reaches: the
//! contexts (`cd /Interface/CTI/CTIServer`, the prompt `XSP_CLI/Interface/CTI/CTIServer>`),
//! `get` tables in the seed's shape, `add`/`set`/`updateTrust` answering `...Done`, and the
//! files an admin copies to the node first (`/var/broadworks/tmp/...`, by SCP: `ssh.rs`).
//!
//! The CTIServer and Trusts tables are the seed's; the Protocols, Ciphers, ClientIdentity and
//! CertificateAuthentication outputs, `set <ip> clientAuthReq`, and the refusals are inferred.

use crate::Fleet;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// One CTI interface of the node (as the driver reads it).
pub use vos::CtiInterface;

/// A trust anchor: its alias and the certificate's PEM.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Anchor {
    pub alias: String,
    pub pem: String,
}

/// What a BroadWorks node keeps.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq, Default)]
#[serde(default)]
pub struct Broadworks {
    pub cti: Vec<CtiInterface>,
    /// `(interface IP, protocol)` at the CTI interface level.
    pub protocols: Vec<(String, String)>,
    /// `(interface IP, IANA suite name)`; none: the system's default list applies.
    pub ciphers: Vec<(String, String)>,
    pub trusts: Vec<Anchor>,
    pub allow_client_app: bool,
    /// The Application Server's ClientIdentity entries.
    pub client_identities: Vec<String>,
    /// Files copied to the node: path → content.
    pub files: std::collections::BTreeMap<String, String>,
}

const CTI_SERVER: &str = "/Interface/CTI/CTIServer";
const PROTOCOLS: &str = "/Interface/CTI/CTIServer/SSLSettings/Protocols";
const CIPHERS: &str = "/Interface/CTI/CTIServer/SSLSettings/Ciphers";
const TRUSTS: &str = "/Interface/CTI/SSLCommonSettings/ClientAuthentication/Trusts";
const CERT_AUTH: &str =
    "/System/CommunicationUtility/DefaultSettings/ExternalAuthentication/CertificateAuthentication";
const CLIENT_IDENTITY: &str = "/System/ClientIdentity";

/// Every context a `cd` may reach (their parents too).
const LEAVES: [&str; 6] = [
    CTI_SERVER,
    PROTOCOLS,
    CIPHERS,
    TRUSTS,
    CERT_AUTH,
    CLIENT_IDENTITY,
];

/// One BroadWorks CLI session.
pub struct BwCli {
    fleet: Arc<Fleet>,
    node: usize,
    /// `XSP_CLI`, `ADP_CLI` or `AS_CLI`.
    server: &'static str,
    /// The current context, `/` first (`""` at the top).
    context: String,
}

fn done() -> String {
    "...Done\n".into()
}

fn error(what: &str) -> String {
    format!("Error: {what}\n")
}

fn table(header: &str, rows: &[String]) -> String {
    let mut out = format!("  {header}\n{}\n", "=".repeat(header.len() + 2));
    for row in rows {
        out.push_str(&format!("  {row}\n"));
    }
    let n = rows.len();
    out.push_str(&format!(
        "\n{n} {} found.\n",
        if n == 1 { "entry" } else { "entries" }
    ));
    out
}

impl BwCli {
    pub fn new(fleet: Arc<Fleet>, node: usize) -> Self {
        let server = match fleet.spec_of(node).bw_server.as_deref() {
            Some("as") => "AS_CLI",
            Some("adp") => "ADP_CLI",
            _ => "XSP_CLI",
        };
        Self {
            fleet,
            node,
            server,
            context: String::new(),
        }
    }

    pub fn prompt(&self) -> String {
        format!("{}{}>", self.server, self.context)
    }

    pub fn banner(&self) -> String {
        format!(
            "BroadWorks Command Line Interface\nType HELP for more information\n\n{}",
            self.prompt()
        )
    }

    /// The output of one line, ending with the next prompt; `None`: `quit`.
    pub fn input(&mut self, line: &str) -> Option<String> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let text = match words.as_slice() {
            [] => String::new(),
            ["quit" | "exit" | "q"] => return None,
            ["cd", path] => self.cd(path),
            ["help", ..] => "Commands: cd, get, add, set, delete, updateTrust, quit\n".into(),
            rest => self.command(rest),
        };
        Some(format!("{text}{}", self.prompt()))
    }

    fn cd(&mut self, path: &str) -> String {
        let mut parts: Vec<&str> = if path.starts_with('/') {
            Vec::new()
        } else {
            self.context.split('/').filter(|p| !p.is_empty()).collect()
        };
        for part in path.split('/').filter(|p| !p.is_empty()) {
            match part {
                ".." => {
                    parts.pop();
                }
                part => parts.push(part),
            }
        }
        let wanted = parts.iter().map(|p| format!("/{p}")).collect::<String>();
        let known = wanted.is_empty()
            || LEAVES.iter().any(|leaf| {
                leaf.eq_ignore_ascii_case(&wanted)
                    || leaf
                        .to_ascii_lowercase()
                        .starts_with(&format!("{}/", wanted.to_ascii_lowercase()))
            });
        let applies = !wanted.eq_ignore_ascii_case(CLIENT_IDENTITY) || self.server == "AS_CLI";
        if !known || !applies {
            return error(&format!("Invalid context: {path}"));
        }
        // Contexts keep their canonical spelling.
        self.context = LEAVES
            .iter()
            .find_map(|leaf| {
                let lower = leaf.to_ascii_lowercase();
                let want = wanted.to_ascii_lowercase();
                (lower == want || lower.starts_with(&format!("{want}/")))
                    .then(|| leaf[..wanted.len()].to_owned())
            })
            .unwrap_or_default();
        String::new()
    }

    fn command(&self, words: &[&str]) -> String {
        let context = self.context.clone();
        let node = self.node;
        let read = |f: &dyn Fn(&Broadworks) -> String| self.fleet.read(node, |s| f(&s.broadworks));
        match (context.as_str(), words) {
            (CTI_SERVER, ["get"]) => read(&|b| {
                let rows: Vec<String> = b
                    .cti
                    .iter()
                    .map(|i| {
                        format!(
                            "{}  {}    {}                {}             {}",
                            i.ip, i.port, i.secure, i.server_certificate, i.client_auth_required
                        )
                    })
                    .collect();
                table(
                    "Interface IP  Port  Secure  Server Certificate  Client Auth Req",
                    &rows,
                )
            }),
            (CTI_SERVER, ["add", ip, port, secure, server, client]) => {
                let (Ok(port), Some(secure), Some(server), Some(client)) = (
                    port.parse::<u16>(),
                    flag(secure),
                    flag(server),
                    flag(client),
                ) else {
                    return error("Invalid value");
                };
                if ip.parse::<std::net::IpAddr>().is_err() {
                    return error(&format!("Invalid IP address: {ip}"));
                }
                let ip = ip.to_string();
                self.fleet.edit(node, |s| {
                    let cti = &mut s.broadworks.cti;
                    if cti.iter().any(|i| i.ip == ip) {
                        return error(&format!("Interface {ip} already exists"));
                    }
                    cti.push(CtiInterface {
                        ip,
                        port,
                        secure,
                        server_certificate: server,
                        client_auth_required: client,
                    });
                    done()
                })
            }
            (CTI_SERVER, ["set", ip, "clientAuthReq", value]) => {
                let Some(value) = flag(value) else {
                    return error("Invalid value");
                };
                let ip = ip.to_string();
                self.fleet.edit(node, |s| {
                    match s.broadworks.cti.iter_mut().find(|i| i.ip == ip) {
                        Some(interface) => {
                            interface.client_auth_required = value;
                            done()
                        }
                        None => error(&format!("No such interface: {ip}")),
                    }
                })
            }
            (PROTOCOLS | CIPHERS, ["get"] | ["get", _]) => {
                let filter = words.get(1).map(|ip| ip.to_string());
                let protocols = context == PROTOCOLS;
                read(&|b| {
                    let list = if protocols { &b.protocols } else { &b.ciphers };
                    let rows: Vec<String> = list
                        .iter()
                        .filter(|(ip, _)| filter.as_ref().is_none_or(|f| f == ip))
                        .map(|(ip, value)| format!("{ip}  {value}"))
                        .collect();
                    let header = if protocols {
                        "Interface IP  Protocol"
                    } else {
                        "Interface IP  Cipher"
                    };
                    table(header, &rows)
                })
            }
            (PROTOCOLS, ["add", ip, protocol]) => {
                if !matches!(*protocol, "TLSv1" | "TLSv1.1" | "TLSv1.2" | "TLSv1.3") {
                    return error(&format!("Invalid protocol: {protocol}"));
                }
                self.add_value(ip, protocol, true)
            }
            (CIPHERS, ["add", ip, cipher]) => {
                // The CLI takes IANA names only (seed 003).
                if certs::suites::by_iana(cipher).is_none() {
                    return error(&format!(
                        "Invalid cipher suite name: {cipher} (use the IANA name)"
                    ));
                }
                self.add_value(ip, cipher, false)
            }
            (TRUSTS, ["get"]) => read(&|b| {
                let rows: Vec<String> = b
                    .trusts
                    .iter()
                    .map(|a| {
                        let (owner, issuer, self_signed) = names(&a.pem);
                        let mark = if self_signed { "[self-signed]" } else { "" };
                        format!("{}       {owner}      {issuer}{mark}", a.alias)
                    })
                    .collect();
                let mut out = table(
                    "Alias   Owner                                   Issuer",
                    &rows,
                );
                // The seed's rows start at the margin.
                out = out.replace("\n  ", "\n");
                out
            }),
            (TRUSTS, ["updateTrust", alias, file]) => self.update_trust(alias, file),
            (CERT_AUTH, ["get"]) => {
                read(&|b| format!("  allowClientApp = {}\n", b.allow_client_app))
            }
            (CERT_AUTH, ["set", "allowClientApp", value]) => match flag(value) {
                Some(value) => self.fleet.edit(node, |s| {
                    s.broadworks.allow_client_app = value;
                    done()
                }),
                None => error("Invalid value"),
            },
            (CLIENT_IDENTITY, ["get"]) => read(&|b| table("Identity", &b.client_identities)),
            (CLIENT_IDENTITY, ["add", identity]) => {
                let identity = identity.to_string();
                self.fleet.edit(node, |s| {
                    if !s.broadworks.client_identities.contains(&identity) {
                        s.broadworks.client_identities.push(identity);
                    }
                    done()
                })
            }
            _ => error("Invalid command"),
        }
    }

    fn add_value(&self, ip: &str, value: &str, protocols: bool) -> String {
        let (ip, value) = (ip.to_string(), value.to_string());
        self.fleet.edit(self.node, |s| {
            if !s.broadworks.cti.iter().any(|i| i.ip == ip) {
                return error(&format!("No such interface: {ip}"));
            }
            let list = if protocols {
                &mut s.broadworks.protocols
            } else {
                &mut s.broadworks.ciphers
            };
            if !list.contains(&(ip.clone(), value.clone())) {
                list.push((ip, value));
            }
            done()
        })
    }

    fn update_trust(&self, alias: &str, file: &str) -> String {
        if alias.is_empty()
            || !alias
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        {
            return error(&format!("Invalid alias: {alias}"));
        }
        let (alias, file) = (alias.to_string(), file.to_string());
        self.fleet.edit(self.node, |s| {
            let Some(text) = s.broadworks.files.get(&file).cloned() else {
                return error(&format!("File not found: {file}"));
            };
            let blocks = text.matches("-----BEGIN CERTIFICATE-----").count();
            if blocks != 1 {
                return error(&format!(
                    "{file} must hold exactly one certificate (it holds {blocks}): split the chain first"
                ));
            }
            if certs_der(&text).is_none() {
                return error(&format!("{file} is not a PEM certificate"));
            }
            let anchor = Anchor { alias: alias.clone(), pem: text };
            match s.broadworks.trusts.iter_mut().find(|a| a.alias == alias) {
                Some(existing) => *existing = anchor,
                None => s.broadworks.trusts.push(anchor),
            }
            done()
        })
    }
}

fn flag(word: &str) -> Option<bool> {
    match word {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// The DER of a PEM certificate.
pub(crate) fn certs_der(pem: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    let body: String = pem
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN CERTIFICATE-----"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END CERTIFICATE-----"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body.trim())
        .ok()
}

/// A certificate's subject and issuer common names, and whether it issued itself.
fn names(pem: &str) -> (String, String, bool) {
    let Some(info) = certs_der(pem).and_then(|der| certs::analyze::parse(&der).ok()) else {
        return ("?".into(), "?".into(), false);
    };
    let owner = info
        .subject_cn
        .clone()
        .unwrap_or_else(|| info.subject.clone());
    let issuer = info
        .issuer_cn
        .clone()
        .unwrap_or_else(|| info.issuer.clone());
    (owner, issuer, info.subject == info.issuer)
}
