//! `GET /maps/<slug>/proxymap.txt`: the published proxy map as the appliances fetch it. No
//! session (the nodes have none), read-only, conditional (`ETag`, `Last-Modified`), limited
//! per source address, optionally to the map's own cluster's nodes; every fetch of the content
//! recorded (a 304 or a HEAD sends none).

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use domain::proxy_maps::store::serve::{self, Names};
use domain::{Error, Services};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};
use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use time::OffsetDateTime;

#[derive(Clone)]
pub struct Hosting {
    services: Services,
    limiter: Arc<Limiter>,
    names: Arc<Names>,
}

/// The map endpoint, each address allowed `per_minute` fetches a minute.
pub fn router(services: Services, per_minute: u32) -> Router {
    Router::new()
        .route("/maps/{slug}/proxymap.txt", get(fetch))
        .with_state(Hosting {
            services,
            limiter: Arc::new(Limiter::per_minute(per_minute)),
            names: Arc::new(Names::default()),
        })
}

/// Fetches per source address (a node polls once a minute by default): `governor`'s keyed
/// GCRA limiter, a burst of the minute's allowance, then one fetch every 60/N seconds. In this
/// replica's memory (two replicas allow twice as much: it holds off a runaway poller, it is no
/// precise quota); addresses not seen for a while are dropped once there are many.
pub struct Limiter {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
    /// When the idle addresses were last dropped.
    pruned: std::sync::Mutex<std::time::Instant>,
}

impl Limiter {
    /// Addresses kept before the idle ones are dropped.
    const KEPT: usize = 10_000;

    pub fn per_minute(fetches: u32) -> Self {
        let fetches = NonZeroU32::new(fetches).unwrap_or(NonZeroU32::MIN);
        Self {
            limiter: governor::RateLimiter::keyed(Quota::per_minute(fetches)),
            clock: DefaultClock::default(),
            pruned: std::sync::Mutex::new(std::time::Instant::now()),
        }
    }

    /// `Ok` when `ip` may go on; `Err(seconds)` until it may again. An IPv6 address counts
    /// with its /64 (one host usually has a whole /64 to pick fresh addresses from).
    pub fn admit(&self, ip: IpAddr) -> Result<(), u64> {
        let key = match ip {
            IpAddr::V6(v6) => IpAddr::V6(std::net::Ipv6Addr::from(
                u128::from(v6) & !((1u128 << 64) - 1),
            )),
            v4 => v4,
        };
        if self.limiter.len() > Self::KEPT {
            // At most every 10 s: dropping the idle ones walks them all.
            let mut pruned = self.pruned.lock().unwrap_or_else(|e| e.into_inner());
            if pruned.elapsed() >= std::time::Duration::from_secs(10) {
                self.limiter.retain_recent();
                *pruned = std::time::Instant::now();
            }
        }
        self.limiter.check_key(&key).map_err(|not_until| {
            not_until
                .wait_time_from(self.clock.now())
                .as_secs_f64()
                .ceil()
                .max(1.0) as u64
        })
    }
}

fn text(status: StatusCode, body: String) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

async fn fetch(
    State(hosting): State<Hosting>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(slug): Path<String>,
    method: Method,
    headers: HeaderMap,
) -> Response {
    let source = match peer.ip() {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(peer.ip(), IpAddr::V4),
        v4 => v4,
    };
    if let Err(seconds) = hosting.limiter.admit(source) {
        let mut response = text(
            StatusCode::TOO_MANY_REQUESTS,
            format!("too many fetches from {source}: try again in {seconds} s\n"),
        );
        if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    match answer(&hosting, &slug, source, &method, &headers).await {
        Ok(response) => response,
        Err(Error::NotFound(message)) => text(StatusCode::NOT_FOUND, format!("{message}\n")),
        Err(Error::NotAllowed(message)) => text(StatusCode::FORBIDDEN, format!("{message}\n")),
        Err(error) => {
            tracing::error!(%error, %slug, "serving a proxy map failed");
            text(
                StatusCode::SERVICE_UNAVAILABLE,
                "the map cannot be served now; try again later\n".into(),
            )
        }
    }
}

async fn answer(
    hosting: &Hosting,
    slug: &str,
    source: IpAddr,
    method: &Method,
    headers: &HeaderMap,
) -> Result<Response, Error> {
    let pool = &hosting.services.pool;
    let published = serve::published(pool, slug).await?;
    let node = serve::node_at(pool, source, &published, &hosting.names).await?;
    if published.restricted && node.is_none() {
        return Err(Error::NotAllowed(match published.cluster_id {
            Some(_) => format!(
                "{source} is no node of this map's cluster: the map is served only to its own nodes"
            ),
            None => format!(
                "{source} is no node of the inventory: this map is served only to the inventory's addresses"
            ),
        }));
    }
    let etag = published.etag();
    // Whole seconds: what Last-Modified can say, and what If-Modified-Since is compared with.
    let modified = published
        .published_at
        .replace_nanosecond(0)
        .unwrap_or(published.published_at);
    let fresh = match headers.get(header::IF_NONE_MATCH) {
        // If-None-Match wins over If-Modified-Since (RFC 9110 §13.2.2).
        Some(tags) => tags.to_str().is_ok_and(|tags| {
            tags.split(',')
                .map(|t| t.trim().trim_start_matches("W/"))
                .any(|t| t == "*" || t == etag)
        }),
        None => headers
            .get(header::IF_MODIFIED_SINCE)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_http_date)
            .is_some_and(|since| modified <= since),
    };
    let status = if fresh {
        StatusCode::NOT_MODIFIED
    } else {
        StatusCode::OK
    };
    if status == StatusCode::OK && method == Method::GET {
        serve::record_fetch(pool, published.map_id, source, node, published.version).await?;
    }
    let last_modified = http_date(modified);
    let mut response = if fresh || method == Method::HEAD {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        *response.status_mut() = status;
        response
    } else {
        text(StatusCode::OK, published.text)
    };
    let headers = response.headers_mut();
    for (name, value) in [
        (header::ETAG, etag),
        (header::LAST_MODIFIED, last_modified),
        (header::CACHE_CONTROL, "no-cache".to_owned()),
        (header::CONTENT_TYPE, "text/plain; charset=utf-8".to_owned()),
    ] {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    }
    Ok(response)
}

const IMF_FIXDATE: &[time::format_description::BorrowedFormatItem<'static>] = time::macros::format_description!(
    "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
);

/// `Sun, 06 Nov 1994 08:49:37 GMT` (RFC 9110's IMF-fixdate).
fn http_date(at: OffsetDateTime) -> String {
    at.to_offset(time::UtcOffset::UTC)
        .format(&IMF_FIXDATE)
        .unwrap_or_default()
}

/// An IMF-fixdate; `None` for anything else (the obsolete formats are ignored, as RFC 9110
/// allows a recipient to: the full answer is sent).
fn parse_http_date(text: &str) -> Option<OffsetDateTime> {
    time::PrimitiveDateTime::parse(text, &IMF_FIXDATE)
        .ok()
        .map(time::PrimitiveDateTime::assume_utc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_over_its_allowance_waits_while_others_go_on() {
        let limiter = Limiter::per_minute(2);
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let other: IpAddr = "192.0.2.8".parse().unwrap();
        assert!(limiter.admit(ip).is_ok());
        assert!(limiter.admit(ip).is_ok());
        // The next fetch is due 30 s after the first (two a minute).
        let wait = limiter.admit(ip).unwrap_err();
        assert!((29..=30).contains(&wait), "{wait}");
        assert!(limiter.admit(other).is_ok());
        // One /64 is one client.
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert!(limiter.admit(a).is_ok());
        assert!(limiter.admit(b).is_ok());
        assert!(limiter.admit(a).is_err());
        assert!(limiter.admit("2001:db8:1:3::1".parse().unwrap()).is_ok());
    }

    #[test]
    fn dates_are_imf_fixdate() {
        let at = OffsetDateTime::from_unix_timestamp(784_111_777).unwrap();
        assert_eq!(http_date(at), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(at));
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), None);
    }
}
