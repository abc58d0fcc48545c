//! `set cert import own <unit>`: a CA-signed certificate for the node's own key, refused as a
//! VOS node refuses it (not for the CSR's key, SANs other than the CSR's, an issuer not in
//! tomcat-trust). It is served after the web service restarts.

use super::*;
use certs::analyze;

impl Cli {
    pub(super) fn import_own(&mut self, unit: &str, text: &str) -> String {
        if unit != "tomcat" {
            return format!("{unit} is not a valid certificate unit\n");
        }
        let Some(der) = analyze::pem_certificates(text)
            .ok()
            .and_then(|d| d.into_iter().next())
        else {
            // Inferred wording.
            return "Error: the pasted text is not a valid certificate\n".into();
        };
        let Ok(info) = analyze::parse(&der) else {
            return "Error: the pasted text is not a valid certificate\n".into();
        };
        let (csr, trust) = self.fleet.read(self.node, |s| {
            let trust: Vec<String> = s
                .trust
                .iter()
                .filter(|c| c.unit == "tomcat-trust")
                .map(|c| c.cert_pem.clone())
                .collect();
            (s.csr.clone(), trust)
        });
        let request = csr
            .and_then(|pem| analyze::pem_blocks(&pem).ok())
            .and_then(|blocks| {
                blocks
                    .into_iter()
                    .find(|(label, _)| label.ends_with("REQUEST"))
            })
            .and_then(|(_, der)| analyze::parse_csr(&der).ok());
        let Some(request) = request else {
            // Inferred wording.
            return "Error: no certificate signing request was generated for tomcat; run set csr gen tomcat first\n".into();
        };
        if analyze::public_key_sha256(&der).as_deref() != Some(&request.public_key_sha256) {
            // Inferred wording.
            return "Error: the certificate does not match the private key of the CSR for tomcat\n"
                .into();
        }
        let names = |list: &[String]| {
            let mut list: Vec<String> = list.iter().map(|n| n.to_ascii_lowercase()).collect();
            list.sort();
            list
        };
        if request.has_san && names(&request.san_dns) != names(&info.san_dns) {
            // Seed 000's words.
            return "CSR SAN and Certificate SAN does not match\n".into();
        }
        let issuer_trusted = info.self_signed
            || trust.iter().any(|pem| {
                analyze::pem_certificates(pem)
                    .ok()
                    .and_then(|d| d.into_iter().next())
                    .is_some_and(|ca| analyze::signed_by(&der, &ca))
            });
        if !issuer_trusted {
            // Inferred wording.
            return "Error: the issuer of the certificate is not in tomcat-trust; import the root and intermediate certificates first\n".into();
        }
        let key = self.fleet.read(self.node, |s| s.rsa_key.clone());
        let issuer = info.issuer_cn.clone().unwrap_or(info.issuer);
        self.fleet.edit(self.node, |s| {
            if let Some(own) = s.own.iter_mut().find(|c| c.unit == unit) {
                own.cert_pem = analyze::pem(&der);
                own.key_pem = Some(key);
                own.description = format!("Certificate Signed by {issuer}");
            }
        });
        format!("Successfully imported certificate for {unit}.\nPlease restart services related to {unit} for the new certificate to\nbecome active.\n")
    }
}
