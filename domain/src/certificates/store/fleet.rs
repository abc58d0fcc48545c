//! The fleet now: every endpoint's latest probe and chain, its mutes, the served-certificate
//! rows the pages and the REST API list, and the alerts monitoring polls.

use super::*;

/// The latest probe of an endpoint.
#[derive(Debug, Clone)]
pub struct ProbeNow {
    pub ok: bool,
    pub error_code: Option<String>,
    pub handshake_ms: Option<f64>,
    pub publicly_trusted: bool,
    /// The chain's finding as recorded: rule id and message.
    pub chain: Option<(String, String)>,
    /// Why the handshake signature did not verify with the leaf's key.
    pub signature_error: Option<String>,
}

/// One endpoint with its latest probe and the chain that probe was served.
#[derive(Debug, Clone)]
pub struct EndpointNow {
    pub endpoint_id: i64,
    pub node_id: i64,
    pub cluster_id: i64,
    pub cluster: String,
    pub fqdn: String,
    pub kind: String,
    pub version: String,
    pub port: i32,
    /// What the endpoint is for (`public listener`, `status`, ...; empty when not known).
    pub purpose: String,
    pub thresholds: Thresholds,
    /// `None` before the first probe.
    pub probe: Option<ProbeNow>,
    /// (position, certificate), leaf first.
    pub chain: Vec<(i32, CertInfo)>,
}

impl EndpointNow {
    /// The alert state of one served certificate here.
    pub fn state_of(&self, cert: &CertInfo, now: i64) -> AlertState {
        AlertState::of(cert, now, &self.thresholds)
    }

    /// `not_scanned`, `unreachable`, or the worst state of the served chain.
    pub fn state(&self, now: i64) -> &'static str {
        match &self.probe {
            None => "not_scanned",
            Some(p) if !p.ok => "unreachable",
            Some(_) => self
                .chain
                .iter()
                .map(|(_, c)| self.state_of(c, now))
                .max()
                .unwrap_or(AlertState::Ok)
                .as_str(),
        }
    }

    /// The findings for the certificate at `position` of the served chain: one place decides the
    /// lint context, for every page and API alike.
    pub fn findings(&self, position: i32, cert: &CertInfo, now: i64) -> Vec<Finding> {
        let probe = self.probe.as_ref();
        let context = certs::lints::Context {
            now,
            fqdn: Some(&self.fqdn),
            node_kind: Some(&self.kind),
            node_version: Some(&self.version),
            chain_position: usize::try_from(position).unwrap_or_default(),
            public_endpoint: crate::inventory::model::NodeKind::parse(&self.kind)
                .is_ok_and(|kind| kind.is_public_listener(&self.purpose)),
            publicly_trusted: probe.is_some_and(|p| p.publicly_trusted),
            thresholds: self.thresholds,
        };
        let mut findings = certs::lints::lint(cert, &context);
        // The chain as a whole is reported on the leaf, where admins look.
        if position == 0 {
            if let Some((rule, message)) = probe.and_then(|p| p.chain.clone()) {
                findings.push(certs::lints::chain_finding(&rule, message));
            }
            if let Some(reason) = probe.and_then(|p| p.signature_error.as_deref()) {
                findings.push(certs::lints::handshake_signature_unverified(reason));
            }
        }
        findings.sort_by_key(|f| f.severity);
        findings
    }
}

/// Every endpoint of the fleet now, or of one node.
pub async fn fleet(pool: &PgPool, node: Option<i64>) -> Result<Vec<EndpointNow>, Error> {
    let rows = sqlx::query!(
        r#"select e.id as endpoint_id, e.port, e.purpose, n.id as node_id, n.fqdn, n.kind, n.version,
                  c.id as cluster_id, c.name as cluster,
                  n.warning_days, n.critical_days, n.warning_lifetime_percent,
                  c.warning_days as c_warning, c.critical_days as c_critical, c.warning_lifetime_percent as c_percent,
                  l.id as "probe_id?", l.ok as "ok?", l.error_code, l.handshake_ms,
                  l.public_trust_error is null as "publicly_trusted?", l.chain_incomplete,
                  l.chain_rule, l.handshake_signature_error,
                  pc.position as "position?", cert.info as "info?"
           from endpoint e
           join node n on n.id = e.node_id
           join cluster c on c.id = n.cluster_id
           left join lateral (
               select p.id, p.ok, p.error_code, p.handshake_ms, p.public_trust_error, p.chain_incomplete,
                      p.chain_rule, p.handshake_signature_error
               from probe p where p.endpoint_id = e.id order by p.probed_at desc, p.id desc limit 1
           ) l on true
           left join probe_chain pc on pc.probe_id = l.id
           left join certificate cert on cert.sha256 = pc.sha256
           where ($1::bigint is null or n.id = $1)
           order by n.fqdn, e.port, pc.position"#,
        node
    )
    .fetch_all(pool)
    .await?;
    let mut endpoints: Vec<EndpointNow> = Vec::new();
    for row in rows {
        if endpoints
            .last()
            .is_none_or(|e| e.endpoint_id != row.endpoint_id)
        {
            endpoints.push(EndpointNow {
                endpoint_id: row.endpoint_id,
                node_id: row.node_id,
                cluster_id: row.cluster_id,
                cluster: row.cluster,
                fqdn: row.fqdn,
                kind: row.kind,
                version: row.version,
                port: row.port,
                purpose: row.purpose,
                thresholds: effective(
                    (
                        row.warning_days,
                        row.critical_days,
                        row.warning_lifetime_percent,
                    ),
                    (row.c_warning, row.c_critical, row.c_percent),
                ),
                probe: row.probe_id.map(|_| ProbeNow {
                    ok: row.ok.unwrap_or_default(),
                    error_code: row.error_code,
                    handshake_ms: row.handshake_ms,
                    publicly_trusted: row.publicly_trusted.unwrap_or_default(),
                    chain: row.chain_incomplete.map(|message| {
                        let rule = row.chain_rule.unwrap_or_else(|| "chain_incomplete".into());
                        (rule, message)
                    }),
                    signature_error: row.handshake_signature_error,
                }),
                chain: Vec::new(),
            });
        }
        if let (Some(position), Some(info), Some(endpoint)) =
            (row.position, row.info, endpoints.last_mut())
        {
            let info: CertInfo = serde_json::from_value(info).map_err(Error::internal)?;
            endpoint.chain.push((position, info));
        }
    }
    Ok(endpoints)
}

/// Mutes in force, by (endpoint, fingerprint).
pub async fn mutes(pool: &PgPool) -> Result<HashMap<(i64, String), Mute>, Error> {
    let rows = sqlx::query!(
        "select endpoint_id, sha256, kind, owner, note, until, muted_by from alert_mute where until > now()"
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let mute = Mute {
                kind: r.kind,
                owner: r.owner,
                note: r.note,
                until: rfc3339(r.until),
                muted_by: r.muted_by,
            };
            ((r.endpoint_id, r.sha256), mute)
        })
        .collect())
}

fn served_row(
    endpoint: &EndpointNow,
    position: i32,
    cert: &CertInfo,
    mutes: &HashMap<(i64, String), Mute>,
    now: i64,
) -> ServedCertificate {
    ServedCertificate {
        fingerprint_sha256: cert.sha256.clone(),
        subject_cn: cert.subject_cn.clone(),
        issuer_cn: cert.issuer_cn.clone(),
        not_after: unix_rfc3339(cert.not_after),
        days_left: cert.days_left(now),
        state: endpoint.state_of(cert, now).as_str().to_owned(),
        node_id: endpoint.node_id,
        cluster_id: endpoint.cluster_id,
        cluster: endpoint.cluster.clone(),
        fqdn: endpoint.fqdn.clone(),
        kind: endpoint.kind.clone(),
        port: endpoint.port,
        chain_position: position,
        findings: endpoint.findings(position, cert, now),
        mute: mutes
            .get(&(endpoint.endpoint_id, cert.sha256.clone()))
            .cloned(),
    }
}

/// Every served certificate, soonest expiry first.
pub(in crate::certificates) fn served_rows<'a>(
    endpoints: impl IntoIterator<Item = &'a EndpointNow>,
    mutes: &HashMap<(i64, String), Mute>,
    now: i64,
) -> Vec<ServedCertificate> {
    let mut rows: Vec<ServedCertificate> = endpoints
        .into_iter()
        .flat_map(|e| {
            e.chain
                .iter()
                .map(move |(position, cert)| served_row(e, *position, cert, mutes, now))
        })
        .collect();
    rows.sort_by(|a, b| {
        (a.days_left, &a.fqdn, a.port, a.chain_position).cmp(&(
            b.days_left,
            &b.fqdn,
            b.port,
            b.chain_position,
        ))
    });
    rows
}

impl Filter {
    pub(in crate::certificates) fn admits_endpoint(&self, e: &EndpointNow) -> bool {
        self.cluster.is_none_or(|c| c == e.cluster_id)
            && self.kind.as_ref().is_none_or(|k| *k == e.kind)
    }

    /// The row's endpoint and the row itself are in the filter.
    pub(in crate::certificates) fn admits(&self, row: &ServedCertificate) -> bool {
        self.cluster.is_none_or(|c| c == row.cluster_id)
            && self.kind.as_ref().is_none_or(|k| *k == row.kind)
            && self.state.as_ref().is_none_or(|s| *s == row.state)
            && self
                .lint
                .as_ref()
                .is_none_or(|l| row.findings.iter().any(|f| f.id == *l))
    }
}
