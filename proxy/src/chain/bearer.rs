//! SSO bearer tokens: believed from the cache, else verified with the IdS's key
//! (`crate::sso`), fetched from the IdS routes when due or when a token names an unknown key.

use super::*;

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
        let Ok(uri) = path.parse::<Uri>() else {
            continue;
        };
        let Ok(req) = Request::get(uri).body(crate::body::bytes(Bytes::new())) else {
            continue;
        };
        let upstream = target.to_string();
        let timeout = Duration::from_secs(live.config.timeouts.upstream_connect_secs + 10);
        let answer = match tokio::time::timeout(timeout, live.upstream.send(target, req)).await {
            Ok(Ok(response)) if response.status() == StatusCode::OK => {
                let limited = http_body_util::Limited::new(response.into_body(), 64 << 10);
                match tokio::time::timeout(timeout, limited.collect()).await {
                    Ok(Ok(body)) => Ok(body.to_bytes()),
                    _ => Err("the keys could not be read".to_owned()),
                }
            }
            Ok(Ok(response)) => Err(format!("the keys: {}", response.status())),
            Ok(Err(e)) => Err(error_chain(&*e)),
            Err(_) => Err(format!("no answer in {timeout:?}")),
        };
        match answer {
            Ok(body) => {
                engine.health.ok(target);
                let read = engine.sso.take_keys(&upstream, &body);
                tracing::info!(%upstream, keys = read, "IdS token keys fetched");
            }
            Err(e) => {
                tracing::warn!(%upstream, error = %e, "IdS token keys not fetched");
                engine.health.failed(target, format!("{upstream}: {e}"));
            }
        }
    }
}
