//! Who sent a request: the user its credentials name once checked, or the one that
//! authenticated from its address lately (a WebSocket handshake without credentials), and the
//! 401 answers.

use super::*;

/// Who sent `req`: its credentials read and checked (see `finesse.rs`, `bearer.rs`), or, for
/// a WebSocket handshake without any, the user that authenticated from its address lately.
/// Credentials `Authorization` carried that were believed from the cache are kept in the
/// connection's memo, as of `generation` (read before `live` was). A WebSocket handshake's
/// protocol entry with credentials is put in `offered`.
pub(super) async fn identify(
    conn: &Conn,
    live: &Loaded,
    (client, generation): (Client, u64),
    req: &Request<Incoming>,
    upgrade: bool,
    offered: &mut Option<String>,
) -> Result<Arc<str>, Response<Body>> {
    let engine = &conn.engine;
    let config = &live.config;
    let found = match credentials(req.headers()) {
        Credentials::None if upgrade => match protocol_credentials(req.headers()) {
            Some((found, entry)) => {
                *offered = Some(entry);
                found
            }
            None => Credentials::None,
        },
        found => found,
    };
    let user: Arc<str> = match found {
        Credentials::Basic(user, password) => {
            let until = authenticate(conn, live, client, &user, &password).await?;
            let user: Arc<str> = user.into();
            engine.auth.seen(&user, client.address);
            if let (Some(until), None, Some(value)) = (
                until,
                offered.as_ref(),
                req.headers().get(header::AUTHORIZATION),
            ) {
                engine.auth.memorise(
                    &conn.believed,
                    (value.as_bytes(), client.address),
                    user.clone(),
                    generation,
                    until,
                );
            }
            user
        }
        Credentials::Bearer(token) => {
            let user = Box::pin(authenticate_token(conn, live, client, &token)).await?;
            engine.auth.seen(&user, client.address);
            user.into()
        }
        Credentials::Malformed => {
            return Err(unauthorized(
                conn,
                "the credentials are not readable",
                false,
            ));
        }
        Credentials::None if upgrade => {
            let window = Duration::from_secs(config.auth.websocket_window_secs);
            match engine.auth.recently(client.address, window) {
                Some(user) => user.into(),
                None => {
                    return Err(refuse(
                        conn,
                        "unauthorized",
                        StatusCode::UNAUTHORIZED,
                        "Authorization Failed",
                    ));
                }
            }
        }
        Credentials::None => {
            return Err(unauthorized(
                conn,
                "credentials required",
                navigation(req.headers()),
            ))
        }
    };
    engine.conns.user(&conn.handle, &user);
    Ok(user)
}

/// The 401 answer. Only a page the browser navigates to without credentials is challenged
/// (`WWW-Authenticate: Basic`, the browser's own prompt); the desktop's own requests (fetch,
/// XHR) are answered without the challenge, as Finesse answers them, or every mistyped
/// password would open the browser's sign-in dialog over the desktop.
pub(super) fn unauthorized(conn: &Conn, text: &str, challenge: bool) -> Response<Body> {
    let mut response = refuse(conn, "unauthorized", StatusCode::UNAUTHORIZED, text);
    if challenge {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"Finesse\""),
        );
    }
    response
}

/// A top-level navigation (`Sec-Fetch-Mode: navigate`), or a client that does not say (curl,
/// older clients).
fn navigation(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-mode")
        .is_none_or(|mode| mode.as_bytes() == b"navigate")
}
