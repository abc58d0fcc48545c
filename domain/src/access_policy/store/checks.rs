//! The policy's checks that need the world: the inventory's load balancers and addresses, and
//! the resolver.

use super::super::{host_entry, AccessPolicy};
use crate::{Error, FieldErrors};
use sqlx::PgPool;
use std::time::Duration;

/// The errors only the world can tell: a host that is a load balancer of the inventory (Finesse
/// 12.6(1) ES05), a name that resolves neither through the inventory nor from here.
pub(super) async fn world_errors(
    pool: &PgPool,
    policy: &AccessPolicy,
) -> Result<FieldErrors, Error> {
    let balancers = sqlx::query!("select fqdn, address from node where kind = 'load_balancer'")
        .fetch_all(pool)
        .await?;
    let known = sqlx::query!("select fqdn, address from node where address is not null")
        .fetch_all(pool)
        .await?;
    let mut errors = FieldErrors::new();
    for (p, proxy) in policy.proxies.iter().enumerate() {
        for (h, host) in proxy.hosts.iter().enumerate() {
            let field = format!("proxies[{p}].hosts[{h}]");
            if let Some(lb) = balancers.iter().find(|b| {
                b.fqdn.eq_ignore_ascii_case(host)
                    || b.address
                        .as_deref()
                        .is_some_and(|a| a.eq_ignore_ascii_case(host))
            }) {
                errors.entry(field).or_default().push(format!(
                    "{host} is the load balancer {} in the inventory; since Finesse 12.6(1) ES05 the allowed hosts name only the proxies",
                    lb.fqdn
                ));
                continue;
            }
            if host.parse::<std::net::IpAddr>().is_ok() || host_entry(host).is_err() {
                continue;
            }
            if known.iter().any(|k| k.fqdn.eq_ignore_ascii_case(host)) {
                continue;
            }
            if let Err(why) = resolve(host).await {
                errors.entry(field).or_default().push(why);
            }
        }
    }
    Ok(errors)
}

/// The proxies' certificates parsed: each replaced by its re-encoding from DER (what is stored
/// and imported is always a certificate that parsed, never the text pasted); the errors of
/// those that do not parse.
pub(super) fn reencode_certificates(policy: &mut AccessPolicy) -> FieldErrors {
    let mut errors = FieldErrors::new();
    for (p, proxy) in policy.proxies.iter_mut().enumerate() {
        let Some(pem) = &proxy.client_certificate else {
            continue;
        };
        let parsed = certs::analyze::pem_certificates(pem).and_then(|ders| match ders.as_slice() {
            [der] => certs::analyze::parse(der)
                .map(|_| certs::analyze::pem(der))
                .map_err(|e| format!("not a readable certificate: {}", e.0)),
            _ => Err(format!("paste one certificate (found {})", ders.len())),
        });
        match parsed {
            Ok(pem) => proxy.client_certificate = Some(pem),
            Err(message) => {
                errors.insert(format!("proxies[{p}].client_certificate"), vec![message]);
            }
        }
    }
    errors
}

/// The leaf certificate the listener at `host:port` presents (reached through the inventory's
/// address for a known name, else DNS), for an admin to compare and save as a proxy's
/// certificate. Admins only: it reaches out to the network. It changes nothing.
pub async fn listener_certificate(
    services: &crate::Services,
    context: &crate::auth::principal::RequestContext,
    host: &str,
    port: u16,
) -> Result<super::super::ListenerCertificate, Error> {
    context.require_admin()?;
    host_entry(host).map_err(|m| Error::field("host", m))?;
    if port == 0 {
        return Err(Error::field("port", "use a port number from 1 to 65535"));
    }
    let address = sqlx::query_scalar!(
        "select address from node where lower(fqdn) = lower($1) and address is not null limit 1",
        host
    )
    .fetch_optional(&services.pool)
    .await?
    .flatten();
    let target = crate::scans::probe::Target {
        fqdn: host.to_owned(),
        address,
        port,
    };
    let listener = format!("{host}:{port}");
    let handshake = services
        .scans
        .prober()
        .probe(&target, None)
        .await
        .map_err(|e| crate::access_policy::Refused::ListenerUnreadable {
            listener: listener.clone(),
            why: e.message,
        })?;
    let leaf = handshake
        .chain
        .first()
        .ok_or_else(|| crate::access_policy::Refused::NoListenerCertificate(listener.clone()))?;
    let info = certs::analyze::parse(leaf).map_err(|e| {
        Error::from(crate::access_policy::Refused::ListenerUnreadable {
            listener: listener.clone(),
            why: format!("its certificate does not parse: {}", e.0),
        })
    })?;
    let fingerprint = info
        .sha256
        .as_bytes()
        .chunks(2)
        .map(|pair| String::from_utf8_lossy(pair).to_ascii_uppercase())
        .collect::<Vec<_>>()
        .join(":");
    Ok(super::super::ListenerCertificate {
        listener,
        pem: certs::analyze::pem(leaf),
        subject: info.subject_cn.unwrap_or(info.subject),
        fingerprint,
        not_after: time::OffsetDateTime::from_unix_timestamp(info.not_after)
            .map(crate::dates::rfc3339)
            .unwrap_or_default(),
    })
}

/// What `host` resolves to from Gatehouse (2 s at most), or why it does not.
pub async fn resolve(host: &str) -> Result<Vec<String>, String> {
    let lookup = tokio::net::lookup_host((host, 443));
    match tokio::time::timeout(Duration::from_secs(2), lookup).await {
        Ok(Ok(addresses)) => {
            let mut found: Vec<String> = addresses.map(|a| a.ip().to_string()).collect();
            found.sort();
            found.dedup();
            Ok(found)
        }
        Ok(Err(error)) => Err(format!(
            "{host} does not resolve from Gatehouse ({error}); the nodes refuse names they cannot resolve: enter a resolvable name or the address, or add the proxy to the inventory with its address"
        )),
        Err(_) => Err(format!("resolving {host} took longer than 2 s")),
    }
}

/// Where each of `hosts` (one per line, the first 50) leads from Gatehouse, all asked at once.
pub async fn lookup(pool: &PgPool, hosts: &str) -> Vec<(String, Result<String, String>)> {
    let names: Vec<&str> = hosts
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .take(50)
        .collect();
    let answers = futures::future::join_all(names.iter().map(|host| lookup_one(pool, host))).await;
    names.into_iter().map(str::to_owned).zip(answers).collect()
}

/// Where `host` leads from Gatehouse, in words for the editor: an address as it is, a name the
/// inventory knows with its address there, else what DNS answers; or why it leads nowhere.
async fn lookup_one(pool: &PgPool, host: &str) -> Result<String, String> {
    host_entry(host)?;
    if host.parse::<std::net::IpAddr>().is_ok() {
        return Ok("an address".into());
    }
    let known = sqlx::query_scalar!(
        "select address from node where lower(fqdn) = lower($1) and address is not null limit 1",
        host
    )
    .fetch_optional(pool)
    .await
    .map_err(|e| format!("the inventory could not be read: {e}"))?
    .flatten();
    if let Some(address) = known {
        return Ok(format!("{address} (its address in the inventory)"));
    }
    resolve(host)
        .await
        .map(|found| format!("{} (DNS)", found.join(", ")))
}
