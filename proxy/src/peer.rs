//! The HA pair's own link: each ban an instance decides (failures it counted) reaches the other
//! instance within a second, whether or not the console is reachable. Mutual TLS where each
//! side shows its upstream client certificate and accepts exactly the other's (pinned: no CA,
//! no name, the certificate itself); `POST /v1/bans` with the ban as JSON, answered 204.

use crate::body::{answer, Body};
use crate::{lock, Engine};
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use proxyconf::{Ban, BanOrigin, Problem};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::sign::CertifiedKey;
use rustls::{DigitallySignedStruct, DistinguishedName, SignatureScheme};
use std::collections::VecDeque;
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// The link's TLS, both ways.
pub(crate) struct Link {
    pub server: Arc<rustls::ServerConfig>,
    pub client: Arc<rustls::ClientConfig>,
    pub address: std::net::SocketAddr,
}

/// Accepts exactly one certificate (and a handshake signature made with its key).
#[derive(Debug)]
struct Pinned {
    der: Vec<u8>,
    provider: Arc<CryptoProvider>,
}

impl Pinned {
    fn check(&self, presented: &CertificateDer<'_>) -> Result<(), rustls::Error> {
        if presented.as_ref() == self.der.as_slice() {
            Ok(())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn tls12(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(m, c, d, &self.provider.signature_verification_algorithms)
    }

    fn tls13(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(m, c, d, &self.provider.signature_verification_algorithms)
    }

    fn schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        self.check(end_entity)
            .map(|()| ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.tls12(m, c, d)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.tls13(m, c, d)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.schemes()
    }
}

impl ClientCertVerifier for Pinned {
    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }
    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        self.check(end_entity)
            .map(|()| ClientCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.tls12(m, c, d)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.tls13(m, c, d)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.schemes()
    }
}

/// The link for `peer`, this instance being `own` (its upstream client certificate).
pub(crate) fn link(peer: &proxyconf::Peer, own: &Arc<CertifiedKey>) -> Result<Link, Problem> {
    use rustls::pki_types::pem::PemObject;
    let der = CertificateDer::pem_slice_iter(peer.certificate.as_bytes())
        .next()
        .and_then(Result::ok)
        .ok_or_else(|| Problem::new("peer.certificate", "not a PEM certificate"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let pinned = Arc::new(Pinned {
        der: der.to_vec(),
        provider: provider.clone(),
    });
    let versions = [&rustls::version::TLS13];
    let server = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(&versions)
        .map_err(|e| Problem::new("peer", e.to_string()))?
        .with_client_cert_verifier(pinned.clone())
        .with_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(own.clone())));
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions)
        .map_err(|e| Problem::new("peer", e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(pinned)
        .with_client_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(own.clone())));
    Ok(Link {
        server: Arc::new(server),
        client: Arc::new(client),
        address: peer.address,
    })
}

/// Serves the peer's bans on `listener` until `stop`.
pub(crate) async fn serve(engine: Weak<Engine>, listener: TcpListener, stop: CancellationToken) {
    loop {
        let accepted = tokio::select! {
            _ = stop.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let Ok((tcp, _)) = accepted else {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let Some(tls) = engine
            .upgrade()
            .and_then(|e| e.live().peer.as_ref().map(|l| l.server.clone()))
        else {
            continue;
        };
        let weak = engine.clone();
        // On a worker, as client connections are (see `status::serve`).
        crate::workers::hand_over(tcp, move |tcp| async move {
            let Ok(Ok(stream)) = tokio::time::timeout(
                Duration::from_secs(5),
                tokio_rustls::TlsAcceptor::from(tls).accept(tcp),
            )
            .await
            else {
                return;
            };
            let service = hyper::service::service_fn(move |req| {
                let weak = weak.clone();
                async move { Ok::<_, std::convert::Infallible>(receive(weak, req).await) }
            });
            let mut builder = hyper::server::conn::http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(Duration::from_secs(10));
            let _ = builder
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn receive(engine: Weak<Engine>, req: Request<Incoming>) -> Response<Body> {
    if req.method() != Method::POST || req.uri().path() != "/v1/bans" {
        return answer(StatusCode::NOT_FOUND, "POST /v1/bans");
    }
    let Ok(body) = Limited::new(req.into_body(), 64 << 10).collect().await else {
        return answer(StatusCode::PAYLOAD_TOO_LARGE, "a ban is small");
    };
    let Ok(mut ban) = serde_json::from_slice::<Ban>(&body.to_bytes()) else {
        return answer(StatusCode::BAD_REQUEST, "not a ban");
    };
    let Some(engine) = engine.upgrade() else {
        return answer(StatusCode::SERVICE_UNAVAILABLE, "stopping");
    };
    // Believed only as long as this instance's own policy would ban.
    let longest = engine.live().config.bans.ban_secs;
    ban.until = ban.until.min(crate::now() + longest);
    ban.origin = BanOrigin::Peer;
    engine.ban(ban);
    answer(StatusCode::NO_CONTENT, "")
}

/// Sends each ban this instance decides to its peer, retrying every half second for a minute
/// while the peer is unreachable (at most 10,000 waiting).
pub(crate) async fn forward(engine: Weak<Engine>) {
    let Some(mut events) = engine.upgrade().map(|e| e.bans.events.subscribe()) else {
        return;
    };
    let waiting: std::sync::Mutex<VecDeque<(Ban, tokio::time::Instant)>> = Default::default();
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Ok(ban) if ban.origin == BanOrigin::Here => {
                    let mut w = lock(&waiting);
                    if w.len() < 10_000 {
                        w.push_back((ban, tokio::time::Instant::now()));
                    }
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(_) => return,
            },
            _ = tick.tick() => {}
        }
        let Some(strong) = engine.upgrade() else {
            return;
        };
        let live = strong.live();
        drop(strong);
        let Some(link) = live.peer.as_ref() else {
            lock(&waiting).clear();
            continue;
        };
        loop {
            let next = lock(&waiting).front().cloned();
            let Some((ban, since)) = next else {
                break;
            };
            if since.elapsed() > Duration::from_secs(60) {
                lock(&waiting).pop_front();
                continue;
            }
            match send(link, &ban).await {
                Ok(()) => {
                    lock(&waiting).pop_front();
                }
                Err(e) => {
                    tracing::debug!(error = %e, "the peer did not take a ban yet");
                    break;
                }
            }
        }
    }
}

async fn send(link: &Link, ban: &Ban) -> Result<(), String> {
    let exchange = async {
        let tcp = TcpStream::connect(link.address)
            .await
            .map_err(|e| e.to_string())?;
        let name = ServerName::IpAddress(link.address.ip().into());
        let tls = tokio_rustls::TlsConnector::from(link.client.clone())
            .connect(name, tcp)
            .await
            .map_err(|e| e.to_string())?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| e.to_string())?;
        tokio::spawn(connection);
        let body = serde_json::to_vec(ban).map_err(|e| e.to_string())?;
        let request = Request::post("/v1/bans")
            .header(http::header::HOST, link.address.to_string())
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| e.to_string())?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        if response.status() == StatusCode::NO_CONTENT {
            Ok(())
        } else {
            Err(format!("the peer answered {}", response.status()))
        }
    };
    tokio::time::timeout(Duration::from_secs(3), exchange)
        .await
        .map_err(|_| "no answer in 3 s".to_owned())?
}
