//! The proxy map through the driver: a config URI fetched, validated and shown, and fetched
//! again at the update frequency, from a plain HTTP server on loopback.

use super::{driver, fleet};
use std::sync::Arc;
use std::time::Duration;
use vos::driver::{Driver, DriverError};

const MAP: &str = "finesse1.sim.example.com:8445=finesse1.xyz.com:443\nfinesse2.sim.example.com:8445=finesse2.xyz.com:443\n";

/// A plain HTTP server on loopback that serves `map` (as it is at each request) at
/// `/proxymap.txt` and an HTML page anywhere else; returns its port.
async fn map_server(map: Arc<std::sync::Mutex<String>>) -> u16 {
    let server = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = server.local_addr().unwrap().port();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        loop {
            let (mut tcp, _) = server.accept().await.unwrap();
            let mut request = [0u8; 2048];
            let n = tcp.read(&mut request).await.unwrap_or(0);
            let path = String::from_utf8_lossy(&request[..n])
                .split_whitespace()
                .nth(1)
                .unwrap_or("")
                .to_owned();
            let body = if path == "/proxymap.txt" {
                map.lock().unwrap().clone()
            } else {
                "<html>not a map</html>".to_owned()
            };
            let _ = tcp
                .write_all(
                    format!(
                        "HTTP/1.1 200 OK\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    )
                    .as_bytes(),
                )
                .await;
        }
    });
    port
}

#[tokio::test]
async fn the_proxy_map_is_fetched_again_at_the_update_frequency() {
    let running = fleet().await;
    let node = driver(&running, "finesse2.sim.example.com", "Adm1n!pass", None);
    let map = Arc::new(std::sync::Mutex::new(MAP.to_owned()));
    let port = map_server(map.clone()).await;
    node.add_config_uri(&format!("http://127.0.0.1:{port}/proxymap.txt"))
        .await
        .unwrap();
    assert_eq!(node.proxy_config_map().await.unwrap().len(), 2);
    // The map changes where it is published; within the update frequency (1 minute, checked
    // every 5 s) the node shows the new one.
    *map.lock().unwrap() = "finesse2.sim.example.com:8445=agents.xyz.com:443\n".into();
    let deadline = std::time::Instant::now() + Duration::from_secs(90);
    loop {
        let shown = node.proxy_config_map().await.unwrap();
        if shown
            == [(
                "finesse2.sim.example.com:8445".into(),
                "agents.xyz.com:443".into(),
            )]
        {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still the old map after 90 s: {shown:?}"
        );
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
}

#[tokio::test]
async fn a_config_uri_is_fetched_validated_and_its_map_shown() {
    let running = fleet().await;
    let node = driver(&running, "finesse1.sim.example.com", "Adm1n!pass", None);
    let port = map_server(Arc::new(std::sync::Mutex::new(MAP.into()))).await;
    let bad = format!("http://127.0.0.1:{port}/proxyconfig.txt");
    match node.add_config_uri(&bad).await {
        Err(DriverError::Output(vos::Error::Rejected { input, .. })) => assert_eq!(input, bad),
        other => panic!("expected a rejection, got {other:?}"),
    }
    let good = format!("http://127.0.0.1:{port}/proxymap.txt");
    node.add_config_uri(&good).await.unwrap();
    assert_eq!(node.config_uris().await.unwrap(), vec![good.clone()]);
    assert_eq!(node.update_frequency().await.unwrap(), Some(1));
    node.set_update_frequency(5).await.unwrap();
    assert_eq!(node.update_frequency().await.unwrap(), Some(5));
    let map = node.proxy_config_map().await.unwrap();
    assert_eq!(
        map[0],
        (
            "finesse1.sim.example.com:8445".into(),
            "finesse1.xyz.com:443".into()
        )
    );

    // SystemInfo through the proxy (the request's Host is a right-hand side of the map):
    // credentials required, and the proxy's names instead of the nodes'.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let url = format!(
        "https://{}/finesse/api/SystemInfo",
        running.node("finesse1.sim.example.com").unwrap().https[0]
    );
    let lan = client.get(&url).send().await.unwrap();
    assert_eq!(lan.status(), 200);
    let lan = lan.text().await.unwrap();
    assert!(
        lan.contains(
            "<primaryNode><host>finesse1.sim.example.com</host><httpsPort>8445</httpsPort>"
        ),
        "{lan}"
    );
    let proxied = |auth: bool| {
        let request = client
            .get(&url)
            .header(reqwest::header::HOST, "finesse1.xyz.com");
        match auth {
            true => request.basic_auth("admin", Some("Adm1n!pass")),
            false => request,
        }
        .send()
    };
    assert_eq!(proxied(false).await.unwrap().status(), 401);
    let outside = proxied(true).await.unwrap().text().await.unwrap();
    assert!(
        outside.contains("<primaryNode><host>finesse1.xyz.com</host><httpsPort>443</httpsPort>")
            && outside
                .contains("<secondaryNode><host>finesse2.xyz.com</host><httpsPort>443</httpsPort>"),
        "{outside}"
    );

    node.delete_config_uri(&good, None).await.unwrap();
    assert!(node.config_uris().await.unwrap().is_empty());
}
