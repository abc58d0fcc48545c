//! Finesse's REST API, where it is the lighter source: `ConnectedUsersInfo` (admin Basic
//! authentication, refreshed by Finesse every 5 s). Credentials go only to the certificate the
//! caller pins (the one Gatehouse last saw that endpoint serve), never to whatever answers:
//! appliances mostly serve self-signed certificates no public root vouches for.

use crate::{parse_connected_users_info, ConnectedUsers};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// A node's HTTPS endpoint and the certificate it must present.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The URL's host and the TLS server name (the node's FQDN, or the name it is reached by).
    pub name: String,
    /// Where `name` is reached when not through the resolver: an IP address.
    pub address: Option<IpAddr>,
    pub port: u16,
    /// SHA-256 of the leaf certificate, lowercase hex.
    pub pin_sha256: String,
}

#[derive(Debug)]
pub enum RestError {
    /// No TCP or TLS connection, or no answer in time.
    Connect(String),
    /// The endpoint presented another certificate than the pinned one: nothing was sent.
    Certificate,
    /// A status other than 200 (401 bad credentials, 403 not an admin, 503 not in service).
    Status { status: u16, body: String },
    /// A 200 whose body is not a ConnectedUsersInfo.
    Output(crate::Error),
}

impl fmt::Display for RestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RestError::Connect(why) => write!(f, "no answer from the Finesse REST API: {why}"),
            RestError::Certificate => f.write_str(
                "the REST endpoint presented another certificate than the pinned one (the node's own, as read over SSH): nothing was sent",
            ),
            RestError::Status { status, .. } => write!(
                f,
                "the Finesse REST API answered HTTP {status}{}",
                match status {
                    401 => " (the stored account was refused)",
                    403 => " (the stored account is not a Finesse administrator)",
                    503 => " (Finesse is not in service)",
                    _ => "",
                }
            ),
            RestError::Output(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for RestError {}

/// `GET /finesse/api/ConnectedUsersInfo` as `username`.
pub async fn connected_users(
    endpoint: &Endpoint,
    username: &str,
    password: &str,
    timeout: Duration,
) -> Result<ConnectedUsers, RestError> {
    let pin = pin_bytes(&endpoint.pin_sha256).ok_or(RestError::Certificate)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let only_the_pinned = certs::tls::Verifier::new(provider.clone(), move |leaf| {
        ring::digest::digest(&ring::digest::SHA256, leaf).as_ref() == pin
    });
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| RestError::Connect(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(only_the_pinned))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let mut client = reqwest::Client::builder()
        .use_preconfigured_tls(config)
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none());
    if let Some(ip) = endpoint.address {
        client = client.resolve(&endpoint.name, SocketAddr::new(ip, endpoint.port));
    }
    let client = client
        .build()
        .map_err(|e| RestError::Connect(e.to_string()))?;
    let url = format!(
        "https://{}:{}/finesse/api/ConnectedUsersInfo",
        endpoint.name, endpoint.port
    );
    let answer = client
        .get(url)
        .basic_auth(username, Some(password))
        .send()
        .await
        .map_err(|e| match certificate_refused(&e) {
            true => RestError::Certificate,
            false => RestError::Connect(chain(&e)),
        })?;
    let status = answer.status().as_u16();
    let body = answer
        .text()
        .await
        .map_err(|e| RestError::Connect(chain(&e)))?;
    if status != 200 {
        return Err(RestError::Status { status, body });
    }
    parse_connected_users_info(&body).map_err(RestError::Output)
}

/// An error and its causes on one line.
fn chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn certificate_refused(error: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(rustls::Error::InvalidCertificate(_)) = cause.downcast_ref::<rustls::Error>() {
            return true;
        }
        source = cause.source();
    }
    false
}

/// The pin as bytes (`None`: not 64 hex digits).
fn pin_bytes(hex: &str) -> Option<[u8; 32]> {
    let hex = hex.trim();
    if hex.len() != 64 || !hex.is_ascii() {
        return None;
    }
    let mut sha256 = [0u8; 32];
    for (i, byte) in sha256.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(sha256)
}
