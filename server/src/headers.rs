//! The headers every response carries: the security policies for documents, and caching (the
//! bundle kept a year, the icon a day, everything else never stored).

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use domain::Services;
use http::header::{self, HeaderValue};

/// Files served as they are: the bundle (named by content) and the static files of `public/`.
enum Static {
    Bundle,
    Public,
    No,
}

/// Headers every response carries. Pages set their own nonce-based Content-Security-Policy
/// (see `app::shell`); everything else gets a policy that allows nothing.
pub async fn security_headers(
    State(state): State<Services>,
    request: Request,
    next: Next,
) -> Response {
    let static_asset = match request.uri().path() {
        path if path.starts_with("/pkg/") => Static::Bundle,
        "/favicon.svg" => Static::Public,
        _ => Static::No,
    };
    let mut response = next.run(request).await;
    let success = response.status().is_success();
    let headers = response.headers_mut();
    let set = |headers: &mut http::HeaderMap, name: header::HeaderName, value: &'static str| {
        headers.insert(name, HeaderValue::from_static(value));
    };
    // The bundle's files (JS, wasm, CSS) are never documents: the policies below govern what a
    // document may do and who may frame it, and would only add their bytes to each of the
    // thirty-odd modules a page's first visit fetches (the first-visit budget counts headers).
    let document = !matches!(static_asset, Static::Bundle) || !success;
    if document && !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        set(
            headers,
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
        );
    }
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    if document {
        set(headers, header::X_FRAME_OPTIONS, "DENY");
        set(headers, header::REFERRER_POLICY, "no-referrer");
        set(
            headers,
            header::HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        );
        set(
            headers,
            header::HeaderName::from_static("permissions-policy"),
            "camera=(), microphone=(), geolocation=()",
        );
    }
    if state.sessions.tls {
        set(
            headers,
            header::STRICT_TRANSPORT_SECURITY,
            "max-age=31536000; includeSubDomains",
        );
    }
    // The bundle's files are named by their content: a browser keeps them for a year and never
    // asks again. Pages and API answers hold an admin's data: never stored.
    // The icon keeps its name across builds: a day.
    let cache = match (static_asset, response.status().is_success()) {
        (Static::Bundle, true) => "public, max-age=31536000, immutable",
        (Static::Public, true) => "public, max-age=86400",
        _ => "no-store",
    };
    let headers = response.headers_mut();
    set(headers, header::CACHE_CONTROL, cache);
    response
}
