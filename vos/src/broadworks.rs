//! The BroadWorks XSP|ADP (and AS) CLI's outputs for the CTI interface (seed 003), parsed.
//!
//! BroadWorks prints tables: a header, a line of `=`, rows whose columns are separated by runs
//! of spaces, and often `N entries found.` after them. The seed shows the CTIServer and Trusts
//! tables; the Protocols, Ciphers, ClientIdentity and CertificateAuthentication outputs are
//! inferred in the same shape (and so marked). A command that changes something answers
//! `...Done`; anything else is an error with the CLI's words.

use crate::{normalize, unexpected, Changed, Error};

/// One CTI interface (`XSP|ADP_CLI/Interface/CTI/CTIServer> get`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CtiInterface {
    pub ip: String,
    pub port: u16,
    pub secure: bool,
    pub server_certificate: bool,
    pub client_auth_required: bool,
}

/// One trust anchor (`.../ClientAuthentication/Trusts> get`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TrustAnchor {
    pub alias: String,
    /// The certificate's subject common name.
    pub owner: String,
    /// Its issuer's, `[self-signed]` removed.
    pub issuer: String,
    pub self_signed: bool,
}

/// A table's rows (after the `=` line), each split on runs of two or more spaces, without the
/// `N entries found.` line. `None`: no table at all.
fn rows(raw: &str) -> Option<Vec<Vec<String>>> {
    let lines = normalize(raw);
    let rule = lines
        .iter()
        .position(|l| l.trim().starts_with("===") && l.trim().chars().all(|c| c == '='))?;
    Some(
        lines[rule + 1..]
            .iter()
            .filter(|l| !is_count(l))
            .map(|l| {
                l.trim()
                    .split("  ")
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .collect(),
    )
}

/// A table's rows; none when the answer is empty (`0 entries found.`); an error when it is
/// no table at all.
fn table(raw: &str) -> Result<Vec<Vec<String>>, Error> {
    if empty(raw) {
        return Ok(Vec::new());
    }
    rows(raw).ok_or_else(|| unexpected(raw))
}

/// `1 entry found.`, `0 entries found.`
fn is_count(line: &str) -> bool {
    let line = line.trim();
    line.split_once(' ').is_some_and(|(n, rest)| {
        n.parse::<u32>().is_ok() && (rest == "entry found." || rest == "entries found.")
    })
}

/// An empty answer (`0 entries found.`, or nothing) where a table was asked for.
fn empty(raw: &str) -> bool {
    normalize(raw).iter().all(|l| is_count(l))
}

fn boolean(word: &str, raw: &str) -> Result<bool, Error> {
    match word {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(unexpected(raw)),
    }
}

/// `Interface/CTI/CTIServer> get` (seed 003's table).
pub fn parse_cti_servers(raw: &str) -> Result<Vec<CtiInterface>, Error> {
    let rows = table(raw)?;
    rows.iter()
        .map(|row| {
            let words: Vec<&str> = row.iter().flat_map(|c| c.split_whitespace()).collect();
            let [ip, port, secure, server, client] = words.as_slice() else {
                return Err(unexpected(raw));
            };
            Ok(CtiInterface {
                ip: (*ip).to_owned(),
                port: port.parse().map_err(|_| unexpected(raw))?,
                secure: boolean(secure, raw)?,
                server_certificate: boolean(server, raw)?,
                client_auth_required: boolean(client, raw)?,
            })
        })
        .collect()
}

/// `.../SSLSettings/Protocols> get <ip>` and `.../SSLSettings/Ciphers> get <ip>` (inferred: an
/// `Interface IP` column and the value's): `(ip, value)` rows.
pub fn parse_interface_values(raw: &str) -> Result<Vec<(String, String)>, Error> {
    let rows = table(raw)?;
    rows.iter()
        .map(|row| {
            let words: Vec<&str> = row.iter().flat_map(|c| c.split_whitespace()).collect();
            match words.as_slice() {
                [ip, value] => Ok(((*ip).to_owned(), (*value).to_owned())),
                _ => Err(unexpected(raw)),
            }
        })
        .collect()
}

/// `.../ClientAuthentication/Trusts> get` (seed 003's table).
pub fn parse_trusts(raw: &str) -> Result<Vec<TrustAnchor>, Error> {
    let rows = table(raw)?;
    rows.into_iter()
        .map(|row| {
            let [alias, owner, issuer] =
                <[String; 3]>::try_from(row).map_err(|_| unexpected(raw))?;
            let (issuer, self_signed) = match issuer.strip_suffix("[self-signed]") {
                Some(name) => (name.trim().to_owned(), true),
                None => (issuer, false),
            };
            Ok(TrustAnchor {
                alias,
                owner,
                issuer,
                self_signed,
            })
        })
        .collect()
}

/// `AS_CLI/System/ClientIdentity> get` (inferred: one `Identity` column).
pub fn parse_client_identities(raw: &str) -> Result<Vec<String>, Error> {
    let rows = table(raw)?;
    rows.into_iter()
        .map(|row| match row.as_slice() {
            [identity] => Ok(identity.clone()),
            _ => Err(unexpected(raw)),
        })
        .collect()
}

/// A setting of a `get` that lists `name = value` lines (inferred), e.g.
/// `.../CertificateAuthentication> get` → `allowClientApp = true`.
pub fn parse_setting(raw: &str, name: &str) -> Result<String, Error> {
    normalize(raw)
        .iter()
        .find_map(|line| {
            let (key, value) = line.split_once('=')?;
            (key.trim() == name).then(|| value.trim().to_owned())
        })
        .ok_or_else(|| unexpected(raw))
}

/// A BroadWorks change's answer: `...Done`, else the CLI's words as a refusal.
pub fn parse_bw_done(raw: &str, input: &str) -> Result<Changed, Error> {
    let lines = normalize(raw);
    if lines.iter().any(|l| l.trim() == "...Done") {
        return Ok(Changed {
            restart: Vec::new(),
            output: raw.to_owned(),
        });
    }
    match lines.iter().find(|l| l.trim_start().starts_with("Error")) {
        Some(line) => Err(Error::Rejected {
            input: input.to_owned(),
            message: line.trim().to_owned(),
        }),
        None => Err(unexpected(raw)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_seeds_cti_server_table_reads() {
        let raw = "  Interface IP  Port  Secure  Server Certificate  Client Auth Req\n=================================================================\n  10.155.6.175  8012    true                true             true\n";
        assert_eq!(
            parse_cti_servers(raw).unwrap(),
            [CtiInterface {
                ip: "10.155.6.175".into(),
                port: 8012,
                secure: true,
                server_certificate: true,
                client_auth_required: true
            }]
        );
        assert!(parse_cti_servers("\n0 entries found.\n")
            .unwrap()
            .is_empty());
        assert!(parse_cti_servers("Error: Invalid command\n").is_err());
        let odd = "  Interface IP  Port\n====\n  10.0.0.1  8012  maybe  true  true\n";
        assert!(parse_cti_servers(odd).is_err());
    }

    #[test]
    fn the_seeds_trust_anchor_table_reads_with_its_self_signed_mark() {
        let raw = "  Alias   Owner                                   Issuer\n=============================================================================\nwebexclientissuing2023       Internal Private TLS SubCA      Internal Private Root\nwebexclientroot2023       Internal Private Root      Internal Private Root[self-signed]\n\n2 entries found.\n";
        let anchors = parse_trusts(raw).unwrap();
        assert_eq!(anchors.len(), 2);
        assert_eq!(anchors[0].alias, "webexclientissuing2023");
        assert_eq!(anchors[0].owner, "Internal Private TLS SubCA");
        assert!(!anchors[0].self_signed);
        assert_eq!(anchors[1].issuer, "Internal Private Root");
        assert!(anchors[1].self_signed);
    }

    #[test]
    fn protocols_ciphers_identities_and_settings_read() {
        let raw = "  Interface IP  Protocol\n========================\n  10.155.6.175  TLSv1.1\n  10.155.6.175  TLSv1.2\n";
        assert_eq!(
            parse_interface_values(raw).unwrap(),
            [
                ("10.155.6.175".to_owned(), "TLSv1.1".to_owned()),
                ("10.155.6.175".to_owned(), "TLSv1.2".to_owned())
            ]
        );
        let raw = "  Identity\n==========\n  bwcticlient.webex.com\n\n1 entry found.\n";
        assert_eq!(
            parse_client_identities(raw).unwrap(),
            ["bwcticlient.webex.com"]
        );
        assert_eq!(
            parse_setting("  allowClientApp = true\n", "allowClientApp").unwrap(),
            "true"
        );
        assert!(parse_setting("  other = 1\n", "allowClientApp").is_err());
        assert!(parse_bw_done("...Done\n", "add").is_ok());
        assert!(matches!(
            parse_bw_done("Error: Invalid IP address\n", "add 1.2.3"),
            Err(Error::Rejected { .. })
        ));
    }
}
