//! Passwords: believed from the cache, else checked against Finesse (`User/<id>`), failures
//! counted toward bans; and the valid-user list read from Finesse (`Users`).

use super::*;
use crate::auth;

/// Basic credentials: believed from the cache, else checked against Finesse. A failure counts
/// against the address and the account; reaching the limit bans them. An address ban closes
/// what the address has open. An account ban stops every further check of that account's
/// passwords (no more guessing) but lets credentials already believed through: anyone can
/// fail five times with an agent's name, and that must not throw the agent out. Credentials
/// believed from the cache come with the time their belief ends.
pub(super) async fn authenticate(
    conn: &Conn,
    live: &Loaded,
    client: Client,
    user: &str,
    password: &str,
) -> Result<Option<std::time::Instant>, Response<Body>> {
    let engine = &conn.engine;
    let config = &live.config;
    // A login ID Finesse does not list is a failure without asking it.
    let refresh = Duration::from_secs(config.auth.users_refresh_secs);
    let listed = live.users_login.is_none() || engine.valid.knows(user, refresh) != Some(false);
    let plausible = auth::plausible_user(user) && listed;
    if plausible {
        if let Some(until) = engine.auth.believed(user, password) {
            return Ok(Some(until));
        }
    }
    // Login IDs are counted without case, so that `Agent1` and `agent1` share one count.
    let account = BanTarget::Account(user.to_ascii_lowercase());
    if plausible && engine.bans.banned(&account) {
        return Err(refuse(
            conn,
            "banned",
            StatusCode::IM_A_TEAPOT,
            "blocked for exceeding the retry limit",
        ));
    }
    let accepted = if plausible {
        // Boxed: the asking is rare (a cache miss) and large; every request's future would
        // otherwise carry it and be copied whole as it moves.
        match Box::pin(finesse_accepts(conn, live, user, password)).await {
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
        return Ok(None);
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

/// The Finesse nodes that answer for credentials and users: `auth.finesse`, else the first
/// two Finesse routes' internal sides.
fn finesse_targets(config: &proxyconf::Config) -> Vec<&proxyconf::HostPort> {
    if config.auth.finesse.is_empty() {
        config
            .routes
            .iter()
            .filter(|r| r.component == proxyconf::Component::Finesse)
            .map(|r| &r.internal)
            .take(2)
            .collect()
    } else {
        config.auth.finesse.iter().collect()
    }
}

/// Reads the valid users from Finesse (`GET /finesse/api/Users` as the administrator of
/// `auth.users_credentials`), from the first node that answers.
pub(crate) async fn fetch_valid_users(engine: &Engine, live: &Loaded) {
    let Some((login, password)) = &live.users_login else {
        return;
    };
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{login}:{password}"));
    let Ok(authorization) = HeaderValue::from_str(&format!("Basic {basic}")) else {
        return;
    };
    let timeout = Duration::from_secs(live.config.timeouts.upstream_connect_secs + 10);
    for target in finesse_targets(&live.config) {
        let req =
            Request::get("/finesse/api/Users").header(header::AUTHORIZATION, authorization.clone());
        let Ok(req) = req.body(crate::body::bytes(Bytes::new())) else {
            continue;
        };
        let upstream = target.to_string();
        let answer = match tokio::time::timeout(timeout, live.upstream.send(target, req)).await {
            Ok(Ok(response)) if response.status() == StatusCode::OK => {
                let limited = http_body_util::Limited::new(response.into_body(), 32 << 20);
                match tokio::time::timeout(timeout, limited.collect()).await {
                    Ok(Ok(body)) => Ok(body.to_bytes()),
                    _ => Err("the user list could not be read".to_owned()),
                }
            }
            Ok(Ok(response)) => Err(format!("the user list: {}", response.status())),
            Ok(Err(e)) => Err(error_chain(&*e)),
            Err(_) => Err(format!("no answer in {timeout:?}")),
        };
        match answer {
            Ok(body) => {
                let users = crate::users::login_ids(&String::from_utf8_lossy(&body));
                let n = engine.valid.take(users);
                // A user no longer listed is no longer believed from a memo either.
                engine.auth.changed();
                tracing::info!(%upstream, users = n, "valid users read");
                return;
            }
            Err(e) => tracing::warn!(%upstream, error = %e, "valid users not read"),
        }
    }
}

/// Asks Finesse (`GET /finesse/api/User/<id>` with the client's credentials): `Ok(false)` when
/// it refuses them, `Err` when no Finesse node answered.
async fn finesse_accepts(
    conn: &Conn,
    live: &Loaded,
    user: &str,
    password: &str,
) -> Result<bool, String> {
    // Built anew (the client's may have come as a WebSocket protocol entry).
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    let Ok(authorization) = HeaderValue::from_str(&format!("Basic {basic}")) else {
        return Ok(false);
    };
    let config = &live.config;
    let mut last = String::from("no Finesse node");
    for target in finesse_targets(config) {
        let Ok(uri) = format!("/finesse/api/User/{user}").parse::<Uri>() else {
            continue;
        };
        let req = Request::get(uri).header(header::AUTHORIZATION, authorization.clone());
        let Ok(req) = req.body(crate::body::bytes(Bytes::new())) else {
            continue;
        };
        let upstream = target.to_string();
        let timeout = Duration::from_secs(config.timeouts.upstream_connect_secs + 10);
        match tokio::time::timeout(timeout, live.upstream.send(target, req)).await {
            Ok(Ok(response)) => {
                conn.engine.health.ok(target);
                let status = response.status();
                // Read to its end, the answer gives its connection back for the next request.
                let limited = http_body_util::Limited::new(response.into_body(), 64 << 10);
                let _ = tokio::time::timeout(timeout, limited.collect()).await;
                match status {
                    StatusCode::OK => return Ok(true),
                    StatusCode::UNAUTHORIZED | StatusCode::NOT_FOUND => return Ok(false),
                    other => last = format!("{upstream} answered {other}"),
                }
            }
            Ok(Err(e)) => {
                last = format!("{upstream}: {}", error_chain(&*e));
                conn.engine.health.failed(target, last.clone());
            }
            Err(_) => {
                last = format!("{upstream}: no answer in {timeout:?}");
                conn.engine.health.failed(target, last.clone());
            }
        }
    }
    Err(last)
}
