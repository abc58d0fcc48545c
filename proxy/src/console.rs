//! The engine configured by the Gatehouse console: it pulls the configuration it is told to
//! serve and the orders it has not taken (`GET /api/v1/proxy/config`, a long poll, so a change
//! reaches it within a second), and reports what it serves (`POST /api/v1/proxy/report`)
//! every few seconds and at once after a change, a ban or an order. Only with its own token;
//! over HTTPS verified against the console's certificate (plain HTTP only to a loopback
//! address: the same host).

use crate::Engine;
use bytes::Bytes;
use http::{header, Method, Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use proxyconf::{Ban, BanTarget, Config, Report};
use serde::Deserialize;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;

/// Where the console is and how the instance proves who it is.
#[derive(Clone)]
pub struct Console {
    uri: Uri,
    host: String,
    port: u16,
    token: String,
    tls: Option<tokio_rustls::TlsConnector>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("the console's URL {0:?}: {1}")]
    Url(String, &'static str),
    #[error("the console's certificate file {0}: {1}")]
    Certificate(String, String),
    #[error("the console: {0}")]
    Talk(String),
    #[error("the console refused the instance's token ({0}): issue a new one on the proxy's page")]
    Refused(StatusCode),
    #[error("the console took a report within the last second: sending again")]
    Again,
}

/// What a pull answers (the console's `domain::proxies::Pull`).
#[derive(Debug, Deserialize)]
struct Pull {
    config: Option<Config>,
    #[serde(default)]
    orders: Vec<Order>,
}

#[derive(Debug, Deserialize)]
struct Order {
    id: i64,
    #[serde(flatten)]
    what: OrderKind,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", tag = "order")]
enum OrderKind {
    Ban { ban: Ban },
    Lift { target: BanTarget },
}

impl Console {
    /// `url`: `https://console.example.com` (or `http://127.0.0.1:3000` on the same host);
    /// `ca`: the PEM certificates the console's chain must lead to (HTTPS).
    pub fn new(url: &str, token: String, ca: Option<&str>) -> Result<Console, ConsoleError> {
        let bad = |why| ConsoleError::Url(url.to_owned(), why);
        let uri: Uri = url
            .trim_end_matches('/')
            .parse()
            .map_err(|_| bad("not a URL"))?;
        let host = uri
            .host()
            .ok_or_else(|| bad("no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let secure = match uri.scheme_str() {
            Some("https") => true,
            Some("http") => false,
            _ => return Err(bad("use https:// (or http:// to a loopback address)")),
        };
        let loopback = host == "localhost" || host.parse::<IpAddr>().is_ok_and(|a| a.is_loopback());
        if !secure && !loopback {
            return Err(bad("plain HTTP only to a loopback address: use https://"));
        }
        let tls = if secure {
            let Some(path) = ca else {
                return Err(ConsoleError::Certificate(
                    "(none given)".into(),
                    "HTTPS needs --console-ca: the console's certificate or its CA".into(),
                ));
            };
            use rustls::pki_types::pem::PemObject;
            let mut roots = rustls::RootCertStore::empty();
            let certs = rustls::pki_types::CertificateDer::pem_file_iter(path)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|e| ConsoleError::Certificate(path.into(), e.to_string()))?;
            for cert in certs {
                roots
                    .add(cert)
                    .map_err(|e| ConsoleError::Certificate(path.into(), e.to_string()))?;
            }
            let config = rustls::ClientConfig::builder_with_provider(crate::tls::provider())
                .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
                .expect("the provider supports TLS 1.2 and 1.3")
                .with_root_certificates(roots)
                .with_no_client_auth();
            Some(tokio_rustls::TlsConnector::from(Arc::new(config)))
        } else {
            None
        };
        let port = uri.port_u16().unwrap_or(if secure { 443 } else { 80 });
        Ok(Console {
            uri,
            host,
            port,
            token,
            tls,
        })
    }

    /// One request on a connection of its own: the status and the body.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        timeout: Duration,
    ) -> Result<(StatusCode, Bytes), ConsoleError> {
        let talk = |e: &dyn std::fmt::Display| ConsoleError::Talk(e.to_string());
        let base = self.uri.path().trim_end_matches('/');
        let request = Request::builder()
            .method(method)
            .uri(format!("{base}{path}"))
            .header(
                header::HOST,
                self.uri
                    .authority()
                    .map(|a| a.as_str())
                    .unwrap_or(&self.host),
            )
            .header(header::AUTHORIZATION, format!("Bearer {}", self.token))
            .header(header::CONTENT_TYPE, "application/json")
            .header(
                header::USER_AGENT,
                concat!("gatehouse-proxy/", env!("CARGO_PKG_VERSION")),
            )
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| talk(&e))?;
        let exchange = async {
            let tcp = TcpStream::connect((self.host.as_str(), self.port))
                .await
                .map_err(|e| talk(&e))?;
            let _ = tcp.set_nodelay(true);
            let response = match &self.tls {
                Some(tls) => {
                    let name = rustls::pki_types::ServerName::try_from(self.host.clone())
                        .map_err(|e| talk(&e))?;
                    let stream = tls.connect(name, tcp).await.map_err(|e| talk(&e))?;
                    send(TokioIo::new(stream), request).await?
                }
                None => send(TokioIo::new(tcp), request).await?,
            };
            let status = response.status();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| talk(&e))?
                .to_bytes();
            Ok::<_, ConsoleError>((status, body))
        };
        tokio::time::timeout(timeout, exchange)
            .await
            .map_err(|_| ConsoleError::Talk(format!("no answer within {timeout:?}")))?
    }

    /// Pulls and puts in force, takes orders, and reports, until the engine is dropped.
    pub async fn follow(self, engine: Arc<Engine>) {
        let reporter = tokio::spawn(self.clone().report_loop(Arc::downgrade(&engine)));
        let mut have = engine.config().config.version;
        let mut taken = 0i64;
        let mut pause = Duration::from_millis(500);
        loop {
            let path = format!("/api/v1/proxy/config?version={have}&order={taken}&wait=25");
            match self
                .call(Method::GET, &path, None, Duration::from_secs(40))
                .await
            {
                Ok((StatusCode::OK, body)) => {
                    pause = Duration::from_millis(500);
                    match serde_json::from_slice::<Pull>(&body) {
                        Ok(pull) => {
                            if let Some(config) = pull.config {
                                // A refused version is not pulled again: the refusal is
                                // reported and the version in force keeps serving.
                                have = config.version;
                                let _ = engine.apply(config).await;
                            }
                            for order in pull.orders {
                                taken = taken.max(order.id);
                                match order.what {
                                    OrderKind::Ban { ban } => engine.ban(ban),
                                    OrderKind::Lift { target } => {
                                        engine.lift(&target);
                                    }
                                }
                            }
                            let _ = self.report_now(&engine).await;
                        }
                        Err(e) => tracing::warn!(error = %e, "the console's answer is not a pull"),
                    }
                }
                Ok((StatusCode::NO_CONTENT, _)) => pause = Duration::from_millis(500),
                Ok((status @ (StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN), _)) => {
                    tracing::error!("{}", ConsoleError::Refused(status));
                    tokio::time::sleep(Duration::from_secs(10)).await;
                }
                Ok((status, _)) => {
                    tracing::warn!(%status, "the console answered a pull with an error");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(10));
                }
                Err(e) => {
                    tracing::warn!(error = %e, "pulling the configuration failed");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(10));
                }
            }
            if reporter.is_finished() {
                return;
            }
        }
    }

    async fn report(&self, report: &Report) -> Result<(), ConsoleError> {
        let body = serde_json::to_vec(report).map_err(|e| ConsoleError::Talk(e.to_string()))?;
        match self
            .call(
                Method::POST,
                "/api/v1/proxy/report",
                Some(body),
                Duration::from_secs(10),
            )
            .await?
        {
            (StatusCode::NO_CONTENT | StatusCode::OK, _) => Ok(()),
            (StatusCode::TOO_MANY_REQUESTS, _) => Err(ConsoleError::Again),
            (status @ (StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN), _) => {
                Err(ConsoleError::Refused(status))
            }
            (status, _) => Err(ConsoleError::Talk(format!(
                "the report was answered {status}"
            ))),
        }
    }

    /// Reports what `engine` serves now; one the console declined (another came within the
    /// second) is sent again, fresh, a second later, so a ban reaches the console's pages
    /// within about a second.
    async fn report_now(&self, engine: &Engine) -> Result<(), ConsoleError> {
        for _ in 0..3 {
            match self.report(&engine.report()).await {
                Err(ConsoleError::Again) => tokio::time::sleep(Duration::from_millis(1_100)).await,
                done => return done,
            }
        }
        Err(ConsoleError::Again)
    }

    /// Reports every 5 s, and within a second of a ban.
    async fn report_loop(self, engine: std::sync::Weak<Engine>) {
        let Some(mut bans) = engine.upgrade().map(|e| e.bans.events.subscribe()) else {
            return;
        };
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = bans.recv() => {}
            }
            let Some(strong) = engine.upgrade() else {
                return;
            };
            if let Err(e) = self.report_now(&strong).await {
                tracing::warn!(error = %e, "reporting to the console failed");
            }
            drop(strong);
        }
    }
}

async fn send<I>(
    io: I,
    request: Request<Full<Bytes>>,
) -> Result<http::Response<hyper::body::Incoming>, ConsoleError>
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let talk = |e: &dyn std::fmt::Display| ConsoleError::Talk(e.to_string());
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| talk(&e))?;
    tokio::spawn(connection);
    sender.send_request(request).await.map_err(|e| talk(&e))
}
