//! `GET /maps/<slug>/proxymap.txt`: the published proxy map as the appliances fetch it. No
//! session (the nodes have none), read-only, conditional (`ETag`, `Last-Modified`), limited
//! per source address, optionally to the inventory's addresses; every answered fetch recorded.

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use domain::proxy_maps::store::serve;
use domain::{Error, Services};
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use time::OffsetDateTime;

/// Fetches one address may make in a minute (a node polls once a minute by default).
#[derive(Clone)]
pub struct Hosting {
    services: Services,
    limiter: Arc<Limiter>,
}

pub fn router(services: Services, per_minute: u32) -> Router {
    Router::new()
        .route("/maps/{slug}/proxymap.txt", get(fetch))
        .with_state(Hosting {
            services,
            limiter: Arc::new(Limiter::new(per_minute, Duration::from_secs(60))),
        })
}

/// A fixed window per address, in this replica's memory (two replicas allow twice as much;
/// the limit is against a runaway poller, not a precise quota).
pub struct Limiter {
    per_window: u32,
    window: Duration,
    counts: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl Limiter {
    pub fn new(per_window: u32, window: Duration) -> Self {
        Self {
            per_window,
            window,
            counts: Mutex::default(),
        }
    }

    /// `Ok` when `ip` may go on; `Err(seconds)` until its window ends.
    pub fn admit(&self, ip: IpAddr, now: Instant) -> Result<(), u64> {
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if counts.len() > 10_000 {
            counts.retain(|_, (start, _)| now.duration_since(*start) < self.window);
        }
        let (start, count) = counts.entry(ip).or_insert((now, 0));
        if now.duration_since(*start) >= self.window {
            *start = now;
            *count = 0;
        }
        *count += 1;
        if *count > self.per_window {
            let left = self.window.saturating_sub(now.duration_since(*start));
            return Err(left.as_secs().max(1));
        }
        Ok(())
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
    if let Err(seconds) = hosting.limiter.admit(source, Instant::now()) {
        let mut response = text(
            StatusCode::TOO_MANY_REQUESTS,
            format!("too many fetches from {source}: try again in {seconds} s\n"),
        );
        if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    match answer(&hosting.services, &slug, source, &method, &headers).await {
        Ok(response) => response,
        Err(Error::NotFound(message)) => text(StatusCode::NOT_FOUND, format!("{message}\n")),
        Err(Error::Forbidden(message)) => text(StatusCode::FORBIDDEN, format!("{message}\n")),
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
    services: &Services,
    slug: &str,
    source: IpAddr,
    method: &Method,
    headers: &HeaderMap,
) -> Result<Response, Error> {
    let published = serve::published(&services.pool, slug).await?;
    let node = serve::node_at(&services.pool, source, published.cluster_id).await?;
    if published.restricted && node.is_none() {
        return Err(Error::Forbidden(format!(
            "{source} is no node of the inventory: this map is served only to the inventory's addresses"
        )));
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
    serve::record_fetch(
        &services.pool,
        published.map_id,
        source,
        node,
        published.version,
        status.as_u16(),
    )
    .await?;
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
    fn an_address_over_its_limit_waits_for_the_next_window() {
        let limiter = Limiter::new(2, Duration::from_secs(60));
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let other: IpAddr = "192.0.2.8".parse().unwrap();
        let start = Instant::now();
        assert!(limiter.admit(ip, start).is_ok());
        assert!(limiter.admit(ip, start).is_ok());
        assert_eq!(limiter.admit(ip, start + Duration::from_secs(20)), Err(40));
        assert!(limiter.admit(other, start).is_ok());
        assert!(limiter.admit(ip, start + Duration::from_secs(60)).is_ok());
    }

    #[test]
    fn dates_are_imf_fixdate() {
        let at = OffsetDateTime::from_unix_timestamp(784_111_777).unwrap();
        assert_eq!(http_date(at), "Sun, 06 Nov 1994 08:49:37 GMT");
        assert_eq!(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), Some(at));
        assert_eq!(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), None);
    }
}
