//! The certificate stores: `show cert list`, a certificate's PEM, a trust import's answer, a
//! CSR.

use crate::{normalize, unexpected, Error};

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

/// `set cert import trust <unit>` after the paste: `Successfully imported certificate for <unit>.`
pub fn parse_imported(raw: &str, unit: &str) -> Result<(), Error> {
    let done = format!("Successfully imported certificate for {unit}.");
    if normalize(raw).iter().any(|l| l.trim() == done) {
        Ok(())
    } else {
        Err(unexpected(raw))
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
