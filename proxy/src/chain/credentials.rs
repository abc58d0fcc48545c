//! Who a request is: Basic credentials read, believed from the cache or checked against
//! Finesse, failures counted toward bans.

use super::*;
use crate::auth;

pub(super) enum Credentials {
    Basic(String, String),
    Bearer,
    Malformed,
    None,
}

pub(super) fn credentials(headers: &HeaderMap) -> Credentials {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Credentials::None;
    };
    let Ok(value) = value.to_str() else {
        return Credentials::Malformed;
    };
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if scheme.eq_ignore_ascii_case("bearer") {
        return Credentials::Bearer;
    }
    if !scheme.eq_ignore_ascii_case("basic") {
        return Credentials::Malformed;
    }
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(rest.trim()) else {
        return Credentials::Malformed;
    };
    let Ok(text) = String::from_utf8(decoded) else {
        return Credentials::Malformed;
    };
    match text.split_once(':') {
        Some((user, password)) => Credentials::Basic(user.to_owned(), password.to_owned()),
        None => Credentials::Malformed,
    }
}

/// Basic credentials: believed from the cache, else checked against Finesse. A failure counts
/// against the address and the account; reaching the limit bans them. An address ban closes
/// what the address has open. An account ban stops every further check of that account's
/// passwords (no more guessing) but lets credentials already believed through: anyone can
/// fail five times with an agent's name, and that must not throw the agent out.
pub(super) async fn authenticate(
    conn: &Conn,
    live: &Loaded,
    client: Client,
    user: &str,
    password: &str,
    headers: &HeaderMap,
) -> Result<(), Response<Body>> {
    let engine = &conn.engine;
    let config = &live.config;
    // Login IDs are counted without case, so that `Agent1` and `agent1` share one count.
    let account = BanTarget::Account(user.to_ascii_lowercase());
    let plausible = auth::plausible_user(user);
    if plausible && engine.auth.believed(user, password) {
        return Ok(());
    }
    if plausible && engine.bans.banned(&account) {
        return Err(refuse(
            conn,
            "banned",
            StatusCode::IM_A_TEAPOT,
            "blocked for exceeding the retry limit",
        ));
    }
    let accepted = if plausible {
        match finesse_accepts(conn, live, user, headers).await {
            Ok(accepted) => accepted,
            Err(reason) => {
                tracing::warn!(%reason, "credentials could not be checked");
                return Err(refuse(
                    conn,
                    "auth_unavailable",
                    StatusCode::BAD_GATEWAY,
                    "credentials could not be checked",
                ));
            }
        }
    } else {
        false
    };
    let mut targets = Vec::with_capacity(2);
    if !client.exempt {
        targets.push(BanTarget::Address(client.key));
    }
    if plausible {
        targets.push(account);
    }
    if accepted {
        engine.bans.succeeded(&targets);
        engine
            .auth
            .remember(user, password, config.auth.credential_cache_secs);
        return Ok(());
    }
    let mut banned = false;
    for ban in engine.bans.failed(&targets, &config.bans) {
        banned |= matches!(ban.target, BanTarget::Address(_));
        if let BanTarget::Address(address) = ban.target {
            // This connection still answers (401), then closes: it is over the line now.
            engine.forget_address_but(address, Some(&conn.handle));
        }
    }
    let mut refused = unauthorized(conn, "Invalid credentials", false);
    if banned {
        refused
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    Err(refused)
}

/// Asks Finesse (`GET /finesse/api/User/<id>` with the client's credentials): `Ok(false)` when
/// it refuses them, `Err` when no Finesse node answered.
async fn finesse_accepts(
    conn: &Conn,
    live: &Loaded,
    user: &str,
    headers: &HeaderMap,
) -> Result<bool, String> {
    let config = &live.config;
    let targets: Vec<&proxyconf::HostPort> = if config.auth.finesse.is_empty() {
        config
            .routes
            .iter()
            .filter(|r| r.component == proxyconf::Component::Finesse)
            .map(|r| &r.internal)
            .take(2)
            .collect()
    } else {
        config.auth.finesse.iter().collect()
    };
    let mut last = String::from("no Finesse node");
    for target in targets {
        let Ok(uri) = format!("https://{target}/finesse/api/User/{user}").parse::<Uri>() else {
            continue;
        };
        let mut req = Request::get(uri);
        if let Some(v) = headers.get(header::AUTHORIZATION) {
            req = req.header(header::AUTHORIZATION, v.clone());
        }
        let Ok(req) = req.body(crate::body::bytes(Bytes::new())) else {
            continue;
        };
        let upstream = target.to_string();
        let timeout = Duration::from_secs(config.timeouts.upstream_connect_secs + 10);
        match tokio::time::timeout(timeout, live.upstream.request(req)).await {
            Ok(Ok(response)) => {
                conn.engine.health.ok(&upstream);
                match response.status() {
                    StatusCode::OK => return Ok(true),
                    StatusCode::UNAUTHORIZED | StatusCode::NOT_FOUND => return Ok(false),
                    other => last = format!("{upstream} answered {other}"),
                }
            }
            Ok(Err(e)) => {
                last = format!("{upstream}: {}", error_chain(&e));
                conn.engine.health.failed(&upstream, last.clone());
            }
            Err(_) => {
                last = format!("{upstream}: no answer in {timeout:?}");
                conn.engine.health.failed(&upstream, last.clone());
            }
        }
    }
    Err(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_read_and_anything_else_is_told_apart() {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Basic YWdlbnQxOnBhc3M6d29yZA=="),
        );
        assert!(
            matches!(credentials(&h), Credentials::Basic(u, p) if u == "agent1" && p == "pass:word")
        );
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert!(matches!(credentials(&h), Credentials::Bearer));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic !!!"));
        assert!(matches!(credentials(&h), Credentials::Malformed));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Digest x"));
        assert!(matches!(credentials(&h), Credentials::Malformed));
        h.remove(header::AUTHORIZATION);
        assert!(matches!(credentials(&h), Credentials::None));
    }
}
