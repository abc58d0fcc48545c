//! The queries behind the certificate pages, the REST API and monitoring.
//!
//! Everything reads the latest probe of each endpoint and judges it at the time of the request:
//! expiry moves with the clock, the findings with it. Whether a served chain reaches a trusted
//! anchor does not, so it is judged once when the probe is recorded (`probe.chain_incomplete`).

use super::{
    Alert, CertificateReport, ChainCertificate, ClusterCa, Dashboard, EffectiveThresholds,
    EndpointReport, Filter, HistoryEntry, Mute, NodeReport, Placement, ProbeSummary, ScanProgress,
    ScanResult, ScanStatus, ServedCertificate, ThresholdsInput, Timeline, TimelineWeek,
};
use crate::audit::store::{record, record_alone};
use crate::auth::principal::RequestContext;
use crate::dates::{now, rfc3339, unix_rfc3339};
use crate::Error;
use certs::lints::{AlertState, Thresholds};
use certs::tls::TrustFailure;
use certs::{CertInfo, Finding};
use serde::Deserialize;
use serde_json::json;
use sqlx::PgPool;
use std::collections::{HashMap, HashSet};
use time::OffsetDateTime;

mod certificate;
mod cluster_cas;
mod fleet;
mod mutes;
mod overview;
mod reports;
mod scans;
mod thresholds;
mod views;
pub use certificate::*;
pub use cluster_cas::*;
pub use fleet::*;
pub use mutes::*;
pub(in crate::certificates) use overview::*;
pub use reports::*;
pub use scans::*;
pub use thresholds::*;
pub use views::*;

/// PEM text of a DER certificate.
pub use certs::analyze::pem;

fn valid_fingerprint(sha256: &str) -> Result<String, Error> {
    let sha256 = sha256.trim().to_ascii_lowercase();
    if sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(sha256)
    } else {
        Err(crate::certificates::Refused::NotAFingerprint.into())
    }
}

/// Stores certificates once by fingerprint (those known already are left as they are).
/// `certificates` sorted by fingerprint, without repeats, so that concurrent writers take
/// their row locks in one order.
pub async fn insert_certificates(
    tx: &mut sqlx::PgConnection,
    certificates: &[(&CertInfo, &[u8])],
) -> Result<(), Error> {
    if certificates.is_empty() {
        return Ok(());
    }
    let mut c = CertificateColumns::default();
    for (info, der) in certificates {
        c.push(info, der)?;
    }
    sqlx::query!(
        "insert into certificate (sha256, der, subject_cn, issuer_cn, serial, not_before, not_after, info)
         select * from unnest($1::text[], $2::bytea[], $3::text[], $4::text[], $5::text[], $6::timestamptz[],
                              $7::timestamptz[], $8::jsonb[])
         order by 1 on conflict (sha256) do nothing",
        &c.sha256,
        &c.der,
        &c.subject_cn as &[Option<String>],
        &c.issuer_cn as &[Option<String>],
        &c.serial,
        &c.not_before,
        &c.not_after,
        &c.info
    )
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The certificate table's columns for one batch.
#[derive(Default)]
struct CertificateColumns {
    sha256: Vec<String>,
    der: Vec<Vec<u8>>,
    subject_cn: Vec<Option<String>>,
    issuer_cn: Vec<Option<String>>,
    serial: Vec<String>,
    not_before: Vec<time::OffsetDateTime>,
    not_after: Vec<time::OffsetDateTime>,
    info: Vec<serde_json::Value>,
}

impl CertificateColumns {
    fn push(&mut self, info: &CertInfo, der: &[u8]) -> Result<(), Error> {
        let at = |t: i64| {
            time::OffsetDateTime::from_unix_timestamp(t)
                .map_err(|e| Error::internal(anyhow::anyhow!("certificate validity: {e}")))
        };
        self.sha256.push(info.sha256.clone());
        self.der.push(der.to_vec());
        self.subject_cn.push(info.subject_cn.clone());
        self.issuer_cn.push(info.issuer_cn.clone());
        self.serial.push(info.serial.clone());
        self.not_before.push(at(info.not_before)?);
        self.not_after.push(at(info.not_after)?);
        self.info
            .push(serde_json::to_value(info).map_err(|e| Error::internal(anyhow::anyhow!(e)))?);
        Ok(())
    }
}
