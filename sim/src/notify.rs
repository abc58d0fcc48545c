//! Finesse's notification service (port 7443 on a real node; a Finesse node's second HTTPS
//! port here): a WebSocket at `/ws/` that authenticates the agent inside the connection
//! (`<auth mechanism="PLAIN">base64(\0user\0password)</auth>`, answered `<success/>` or
//! `<failure/>`) and then pushes an `<Update>` for every agent state change on the node.

use crate::Fleet;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use base64::Engine as _;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone)]
pub(crate) struct Notifications {
    pub fleet: Arc<Fleet>,
    pub node: usize,
}

pub(crate) async fn upgrade(State(n): State<Notifications>, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| session(n, socket))
}

/// The `<Update>` pushed when `agent`'s state becomes `state`.
pub(crate) fn update(agent: &str, state: &str) -> String {
    format!("<Update><data><user><loginId>{agent}</loginId><state>{state}</state></user></data><event>PUT</event><source>/finesse/api/User/{agent}</source></Update>")
}

async fn session(n: Notifications, mut socket: WebSocket) {
    let mut events = n.fleet.events(n.node);
    let first = tokio::time::timeout(Duration::from_secs(10), socket.recv()).await;
    let Ok(Some(Ok(Message::Text(text)))) = first else {
        return;
    };
    let user = plain(&text).filter(|(user, password)| n.fleet.is_agent(n.node, user, password));
    let Some((user, _)) = user else {
        let _ = socket.send(Message::Text("<failure/>".into())).await;
        return;
    };
    if socket
        .send(Message::Text("<success/>".into()))
        .await
        .is_err()
    {
        return;
    }
    let _ = socket
        .send(Message::Text(
            update(
                &user,
                &n.fleet
                    .agent_state(n.node, &user)
                    .unwrap_or_else(|| "NOT_READY".into()),
            )
            .into(),
        ))
        .await;
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Ok(text) => {
                    if socket.send(Message::Text(text.into())).await.is_err() {
                        return;
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(_) => return,
            },
            incoming = socket.recv() => match incoming {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => continue,
            },
        }
    }
}

/// `user` and `password` of a SASL PLAIN `<auth>` element.
fn plain(text: &str) -> Option<(String, String)> {
    let encoded = text
        .trim()
        .strip_prefix("<auth mechanism=\"PLAIN\">")?
        .strip_suffix("</auth>")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let mut parts = decoded.split('\0');
    let (first, second, third) = (parts.next()?, parts.next()?, parts.next());
    match third {
        Some(password) => Some((second.to_owned(), password.to_owned())),
        None => Some((first.to_owned(), second.to_owned())),
    }
}
