//! Who a request is: Basic credentials read, believed from the cache or checked against
//! Finesse; SSO bearer tokens verified with the IdS's key (`crate::sso`); credentials a
//! WebSocket handshake carries in `Sec-WebSocket-Protocol`; failures counted toward bans.

use super::*;
use crate::auth;

pub(super) enum Credentials {
    Basic(String, String),
    Bearer(String),
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
        return Credentials::Bearer(rest.trim().to_owned());
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

/// Credentials a WebSocket handshake carries in `Sec-WebSocket-Protocol` (a browser cannot set
/// `Authorization` on one; seed 004's later proxies read them there): an entry
/// `basic.<user:password in base64url>` or `bearer.<token>`. The entry is returned too: it is
/// taken out of the header before the request goes upstream and answered as the protocol
/// chosen when the upstream chooses none (a browser that offered protocols needs one back).
pub(super) fn protocol_credentials(headers: &HeaderMap) -> Option<(Credentials, String)> {
    for value in headers.get_all(header::SEC_WEBSOCKET_PROTOCOL) {
        let Ok(value) = value.to_str() else {
            continue;
        };
        for entry in value.split(',').map(str::trim) {
            let (kind, rest) = entry.split_once('.').unwrap_or((entry, ""));
            let found = if kind.eq_ignore_ascii_case("basic") {
                let decoded = base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(rest.trim_end_matches('='))
                    .ok()
                    .and_then(|d| String::from_utf8(d).ok());
                match decoded.as_deref().and_then(|t| t.split_once(':')) {
                    Some((user, password)) => {
                        Credentials::Basic(user.to_owned(), password.to_owned())
                    }
                    None => Credentials::Malformed,
                }
            } else if kind.eq_ignore_ascii_case("bearer") && !rest.is_empty() {
                Credentials::Bearer(rest.to_owned())
            } else {
                continue;
            };
            return Some((found, entry.to_owned()));
        }
    }
    None
}

/// Whether a `Sec-WebSocket-Protocol` entry carries credentials (`basic.…`, `bearer.…`).
fn credential_entry(entry: &str) -> bool {
    let kind = entry.split_once('.').map_or(entry, |(kind, _)| kind);
    kind.eq_ignore_ascii_case("basic") || kind.eq_ignore_ascii_case("bearer")
}

/// Takes every credential entry out of `headers`' `Sec-WebSocket-Protocol` (the header is
/// dropped when nothing else was offered): credentials never go upstream in it. Whether
/// other entries were offered.
pub(super) fn without_credentials(headers: &mut HeaderMap) -> bool {
    if !headers.contains_key(header::SEC_WEBSOCKET_PROTOCOL) {
        return false;
    }
    let rest: Vec<String> = headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|e| !e.is_empty() && !credential_entry(e))
        .map(str::to_owned)
        .collect();
    headers.remove(header::SEC_WEBSOCKET_PROTOCOL);
    match HeaderValue::from_str(&rest.join(", ")) {
        Ok(value) if !rest.is_empty() => {
            headers.insert(header::SEC_WEBSOCKET_PROTOCOL, value);
            true
        }
        _ => false,
    }
}

/// An SSO bearer token: believed from the cache, else verified with the IdS's key (fetched
/// first when the token names a key not known yet). A token that does not verify counts as a
/// failure against the address.
pub(super) async fn authenticate_token(
    conn: &Conn,
    live: &Loaded,
    client: Client,
    token: &str,
) -> Result<String, Response<Body>> {
    let engine = &conn.engine;
    if let Some(user) = engine.sso.believed(token) {
        return Ok(user);
    }
    let issuers = &live.config.auth.token_issuers;
    let mut verified = engine.sso.verify(token, issuers);
    if verified == Err(crate::sso::Refused::UnknownKey) && live.has_ids() {
        // A fetch under way (the first, at start) ends first; then one of our own if due.
        let _fetching = engine.sso.fetching.lock().await;
        verified = engine.sso.verify(token, issuers);
        let refresh = Duration::from_secs(live.config.auth.ids_key_refresh_secs);
        if verified == Err(crate::sso::Refused::UnknownKey) && engine.sso.due(refresh, true) {
            fetch_keys(engine, live).await;
            verified = engine.sso.verify(token, issuers);
        }
    }
    match verified {
        Ok((user, exp)) => {
            // As with passwords: a banned account is not let in anew (a believed token was).
            if engine
                .bans
                .banned(&BanTarget::Account(user.to_ascii_lowercase()))
            {
                return Err(refuse(
                    conn,
                    "banned",
                    StatusCode::IM_A_TEAPOT,
                    "blocked for exceeding the retry limit",
                ));
            }
            if !client.exempt {
                engine.bans.succeeded(&[BanTarget::Address(client.key)]);
            }
            engine
                .sso
                .remember(token, &user, exp, live.config.auth.token_cache_secs);
            Ok(user)
        }
        Err(crate::sso::Refused::UnknownKey) if !engine.sso.has_keys() => {
            tracing::warn!("a bearer token could not be checked: no IdS key is known");
            Err(refuse(
                conn,
                "auth_unavailable",
                StatusCode::SERVICE_UNAVAILABLE,
                "tokens cannot be checked now",
            ))
        }
        Err(why) => {
            tracing::debug!(?why, "bearer token refused");
            if why.counts() && !client.exempt {
                for ban in engine
                    .bans
                    .failed(&[BanTarget::Address(client.key)], &live.config.bans)
                {
                    if let BanTarget::Address(address) = ban.target {
                        engine.forget_address_but(address, Some(&conn.handle));
                    }
                }
            }
            let text = match why {
                crate::sso::Refused::Expired => "the token has expired",
                crate::sso::Refused::Revoked => "the token is no longer valid",
                _ => "Invalid token",
            };
            Err(unauthorized(conn, text, false))
        }
    }
}

/// Fetches the verifying keys every IdS route publishes (`auth.ids_key_path`).
pub(crate) async fn fetch_ids_keys(engine: &Engine, live: &Loaded) {
    let _fetching = engine.sso.fetching.lock().await;
    fetch_keys(engine, live).await;
}

async fn fetch_keys(engine: &Engine, live: &Loaded) {
    let path = &live.config.auth.ids_key_path;
    for target in live.ids() {
        let Ok(uri) = format!("https://{target}{path}").parse::<Uri>() else {
            continue;
        };
        let Ok(req) = Request::get(uri).body(crate::body::bytes(Bytes::new())) else {
            continue;
        };
        let upstream = target.to_string();
        let timeout = Duration::from_secs(live.config.timeouts.upstream_connect_secs + 10);
        let answer = match tokio::time::timeout(timeout, live.upstream.request(req)).await {
            Ok(Ok(response)) if response.status() == StatusCode::OK => {
                let limited = http_body_util::Limited::new(response.into_body(), 64 << 10);
                match tokio::time::timeout(timeout, limited.collect()).await {
                    Ok(Ok(body)) => Ok(body.to_bytes()),
                    _ => Err("the keys could not be read".to_owned()),
                }
            }
            Ok(Ok(response)) => Err(format!("the keys: {}", response.status())),
            Ok(Err(e)) => Err(error_chain(&e)),
            Err(_) => Err(format!("no answer in {timeout:?}")),
        };
        match answer {
            Ok(body) => {
                engine.health.ok(&upstream);
                let read = engine.sso.take_keys(&upstream, &body);
                tracing::info!(%upstream, keys = read, "IdS token keys fetched");
            }
            Err(e) => {
                tracing::warn!(%upstream, error = %e, "IdS token keys not fetched");
                engine.health.failed(&upstream, format!("{upstream}: {e}"));
            }
        }
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
) -> Result<(), Response<Body>> {
    let engine = &conn.engine;
    let config = &live.config;
    // Login IDs are counted without case, so that `Agent1` and `agent1` share one count.
    let account = BanTarget::Account(user.to_ascii_lowercase());
    // A login ID Finesse does not list is a failure without asking it.
    let refresh = Duration::from_secs(config.auth.users_refresh_secs);
    let listed = live.users_login.is_none() || engine.valid.knows(user, refresh) != Some(false);
    let plausible = auth::plausible_user(user) && listed;
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
        match finesse_accepts(conn, live, user, password).await {
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
        let Ok(uri) = format!("https://{target}/finesse/api/Users").parse::<Uri>() else {
            continue;
        };
        let req = Request::get(uri).header(header::AUTHORIZATION, authorization.clone());
        let Ok(req) = req.body(crate::body::bytes(Bytes::new())) else {
            continue;
        };
        let upstream = target.to_string();
        let answer = match tokio::time::timeout(timeout, live.upstream.request(req)).await {
            Ok(Ok(response)) if response.status() == StatusCode::OK => {
                let limited = http_body_util::Limited::new(response.into_body(), 32 << 20);
                match tokio::time::timeout(timeout, limited.collect()).await {
                    Ok(Ok(body)) => Ok(body.to_bytes()),
                    _ => Err("the user list could not be read".to_owned()),
                }
            }
            Ok(Ok(response)) => Err(format!("the user list: {}", response.status())),
            Ok(Err(e)) => Err(error_chain(&e)),
            Err(_) => Err(format!("no answer in {timeout:?}")),
        };
        match answer {
            Ok(body) => {
                let users = crate::auth::login_ids(&String::from_utf8_lossy(&body));
                let n = engine.valid.take(users);
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
        let Ok(uri) = format!("https://{target}/finesse/api/User/{user}").parse::<Uri>() else {
            continue;
        };
        let req = Request::get(uri).header(header::AUTHORIZATION, authorization.clone());
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
        assert!(matches!(credentials(&h), Credentials::Bearer(t) if t == "abc"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic !!!"));
        assert!(matches!(credentials(&h), Credentials::Malformed));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Digest x"));
        assert!(matches!(credentials(&h), Credentials::Malformed));
        h.remove(header::AUTHORIZATION);
        assert!(matches!(credentials(&h), Credentials::None));
    }

    #[test]
    fn a_websocket_handshake_carries_credentials_in_its_protocols_and_they_stay_here() {
        let mut h = HeaderMap::new();
        // base64url("agent1:p?ss") without padding.
        h.insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static("xmpp, basic.YWdlbnQxOnA_c3M"),
        );
        let (found, entry) = protocol_credentials(&h).unwrap();
        assert!(matches!(found, Credentials::Basic(u, p) if u == "agent1" && p == "p?ss"));
        assert_eq!(entry, "basic.YWdlbnQxOnA_c3M");
        h.append(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static("Bearer.x.y.z"),
        );
        assert!(without_credentials(&mut h), "xmpp was offered too");
        assert_eq!(h[header::SEC_WEBSOCKET_PROTOCOL], "xmpp");
        h.insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static("basic.YWdlbnQxOnA_c3M"),
        );
        assert!(!without_credentials(&mut h));
        assert!(!h.contains_key(header::SEC_WEBSOCKET_PROTOCOL));
        h.insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static("bearer.aaa.bbb.ccc"),
        );
        assert!(
            matches!(protocol_credentials(&h), Some((Credentials::Bearer(t), _)) if t == "aaa.bbb.ccc")
        );
        h.insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static("basic.!!"),
        );
        assert!(matches!(
            protocol_credentials(&h),
            Some((Credentials::Malformed, _))
        ));
        h.insert(
            header::SEC_WEBSOCKET_PROTOCOL,
            HeaderValue::from_static("chat"),
        );
        assert!(protocol_credentials(&h).is_none());
    }
}
