//! The Finesse REST subset over real HTTPS: status codes as documented (DOMAIN.md §5).

use sim::fleet::FleetSpec;

const FLEET: &str = r#"
[[cluster]]
name = "A"

[[cluster.node]]
fqdn = "finesse1.rest.example.com"
kind = "finesse"
password = "Adm1n!pass"
https_ports = [0]
connected_users = { desktop = 4, fippa = 1, third_party = 0, proxy = 2 }

[[cluster.node.agent]]
id = "agent1"
password = "Agent1!pass"
first_name = "Ada"

[[cluster.node.agent]]
id = "agent2"
password = "Agent2!pass"
"#;

#[tokio::test]
async fn finesse_rest_authenticates_and_answers_as_documented() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let spec: FleetSpec = toml::from_str(FLEET).unwrap();
    let running = sim::start(sim::Fleet::new(spec, None).unwrap())
        .await
        .unwrap();
    let base = format!("https://{}", running.nodes[0].https[0]);
    let client = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .build()
        .unwrap();
    let get = |path: &str, user: Option<(&str, &str)>| {
        let mut request = client.get(format!("{base}{path}"));
        if let Some((u, p)) = user {
            request = request.basic_auth(u, Some(p));
        }
        request.send()
    };
    let admin = Some(("admin", "Adm1n!pass"));
    let agent = Some(("agent1", "Agent1!pass"));

    let info = get("/finesse/api/SystemInfo", None).await.unwrap();
    assert_eq!(
        info.status(),
        200,
        "unauthenticated on the LAN while secureSystemInfo is false"
    );
    assert!(info
        .text()
        .await
        .unwrap()
        .contains("<host>finesse1.rest.example.com</host>"));

    assert_eq!(
        get("/finesse/api/ConnectedUsersInfo", None)
            .await
            .unwrap()
            .status(),
        401
    );
    assert_eq!(
        get("/finesse/api/ConnectedUsersInfo", agent)
            .await
            .unwrap()
            .status(),
        403
    );
    let users = get("/finesse/api/ConnectedUsersInfo", admin).await.unwrap();
    assert_eq!(users.status(), 200);
    let body = users.text().await.unwrap();
    assert!(
        body.contains("<desktopUsers>4</desktopUsers>")
            && body.contains("<totalConnectedUsers>5</totalConnectedUsers>")
            && body.contains("<totalConnectedUsersViaProxy>2</totalConnectedUsersViaProxy>"),
        "{body}"
    );

    assert_eq!(
        get("/finesse/api/User/agent1", agent)
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        get("/finesse/api/User/agent2", agent)
            .await
            .unwrap()
            .status(),
        403
    );
    assert_eq!(
        get("/finesse/api/User/agent2", admin)
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        get("/finesse/api/Users", agent).await.unwrap().status(),
        403
    );
    let wrong = get("/finesse/api/User/agent1", Some(("agent1", "nope")))
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert!(wrong
        .text()
        .await
        .unwrap()
        .contains("<ApiErrors><ApiError>"));

    // Five wrong passwords lock the account: the right one is refused too, for 5 minutes.
    for _ in 0..4 {
        get("/finesse/api/User/agent1", Some(("agent1", "nope")))
            .await
            .unwrap();
    }
    assert_eq!(
        get("/finesse/api/User/agent1", agent)
            .await
            .unwrap()
            .status(),
        401
    );
}
