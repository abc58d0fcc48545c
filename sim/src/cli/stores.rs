//! The certificate stores as the CLI shows and changes them (list, show, import a trust
//! certificate, regenerate, make a CSR), and restarting services.

use super::*;

impl Cli {
    pub(super) fn cert_list(&self, own: bool) -> String {
        self.fleet.read(self.node, |s| {
            let store = if own { &s.own } else { &s.trust };
            store
                .iter()
                .map(|c| format!("{}/{}: {}\n", c.unit, c.file, c.description))
                .collect()
        })
    }

    /// `show cert own tomcat`, `show cert own tomcat/tomcat.pem`, `show cert trust tomcat-trust/x.pem`.
    pub(super) fn cert_show(&self, own: bool, name: &str) -> String {
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

    pub(super) fn import(&mut self, unit: &str, text: &str) -> String {
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

    pub(super) fn regen(&mut self, unit: &str, answer: &str) -> String {
        if answer != "yes" {
            return String::new();
        }
        match self.fleet.regenerate(self.node, unit) {
            Ok(()) => format!("Successfully Regenerated Certificate for {unit}.\nYou must restart services related to {unit} for the regenerated certificates to become active.\n"),
            Err(error) => format!("Failed to regenerate the certificate for {unit}: {error}\n"),
        }
    }

    pub(super) fn csr_gen(&mut self, unit: &str) -> String {
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

    pub(super) async fn restart(&mut self, service: &str, out: &mut Vec<Out>) {
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
