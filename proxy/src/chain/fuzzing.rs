//! What the fuzz targets drive (`proxy/fuzz`, `./x fuzz-proxy`): the engine's reading of a
//! request head, without a network. Any bytes: nothing panics, and what the chain relies on
//! holds: a host it routes by is lowercase and has no user part; a path it calls plain has no
//! segment the upstream could read otherwise; no credential protocol entry survives on its way
//! upstream; the headers sent upstream carry one client address, the engine's, and no
//! hop-by-hop header.

use super::forward::{address_value, upstream_headers};
use super::*;

/// Reads `data` as a request head (up to 64 headers) the way the chain does.
pub(crate) fn request_head(data: &[u8]) {
    let mut parsed = [httparse::EMPTY_HEADER; 64];
    let mut head = httparse::Request::new(&mut parsed);
    let Ok(httparse::Status::Complete(_)) = head.parse(data) else {
        return;
    };
    let (Some(method), Some(target)) = (head.method, head.path) else {
        return;
    };
    let mut builder = Request::builder().method(method).uri(target);
    for h in head.headers.iter() {
        builder = builder.header(h.name, h.value);
    }
    let Ok(mut req) = builder.body(()) else {
        return;
    };
    if let Some((host, _port)) = authority(&req, 443) {
        assert!(!host.is_empty() && !host.contains('@'), "{host:?}");
        assert_eq!(host, host.to_ascii_lowercase());
    }
    let path = req.uri().path().to_owned();
    if plain_path(&path) {
        let lower = path.to_ascii_lowercase();
        for bad in ["/../", "/./", "//", "\\", "%2e", "%2f", "%5c", ";", "\0"] {
            assert!(!lower.contains(bad), "{path:?} is plain but holds {bad:?}");
        }
        assert!(
            !lower.ends_with("/..") && !lower.ends_with("/."),
            "{path:?}"
        );
    }
    let _ = is_websocket(&req);
    let _ = content_length(req.headers());
    let _ = credentials(req.headers());
    let _ = protocol_credentials(req.headers());
    without_credentials(req.headers_mut());
    assert!(
        protocol_credentials(req.headers()).is_none(),
        "a credential entry is left for upstream: {:?}",
        req.headers().get_all(header::SEC_WEBSOCKET_PROTOCOL)
    );
    let mut config = proxyconf::Config::from_json(
        r#"{"schema": 1, "version": 1, "pair": "fuzz", "listeners": [], "routes": [],
            "forwarders": {"addresses": ["10.0.0.0/8"], "header": "X-Real-IP"}}"#,
    )
    .expect("the fuzz configuration reads");
    for peer in [[10, 1, 2, 3], [192, 0, 2, 7]] {
        let peer = IpAddr::from(peer);
        let Ok(client) = client_address(peer, &config, req.headers()) else {
            continue;
        };
        let mut headers = req.headers().clone();
        upstream_headers(
            &mut headers,
            address_value(client.address),
            Some("x-real-ip"),
        );
        let forwarded: Vec<_> = headers.get_all("x-forwarded-for").iter().collect();
        assert_eq!(forwarded.len(), 1);
        assert_eq!(
            forwarded[0].to_str().ok(),
            Some(client.address.to_string().as_str())
        );
        for name in HOP_BY_HOP {
            assert!(!headers.contains_key(&name), "{name} is sent upstream");
        }
    }
    config.forwarders.header = None;
    let _ = client_address(IpAddr::from([10, 9, 9, 9]), &config, req.headers());
}

#[cfg(test)]
mod tests {
    /// The corpus the fuzz target starts from (`proxy/fuzz/corpus/head`) reads without a
    /// panic here too, so the target cannot rot between fuzzing runs.
    #[test]
    fn the_fuzz_corpus_reads() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/head");
        let mut read = 0;
        for entry in std::fs::read_dir(&dir).expect("the corpus") {
            super::request_head(&std::fs::read(entry.unwrap().path()).unwrap());
            read += 1;
        }
        assert!(read >= 5, "{read} inputs");
    }
}
