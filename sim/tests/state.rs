//! A restarted simulator keeps what was configured: lists, certificates, host keys.

use sim::cli::{Cli, Out};
use sim::fleet::FleetSpec;

const FLEET: &str = r#"
[[cluster]]
name = "A"

[[cluster.node]]
fqdn = "cuic1.state.example.com"
kind = "cuic"
password = "pw"
"#;

async fn run(fleet: &std::sync::Arc<sim::Fleet>, line: &str) -> String {
    let mut cli = Cli::new(fleet.clone(), 0);
    cli.input("set cli pagination off").await.unwrap();
    cli.input(line)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|o| match o {
            Out::Text(t) => Some(t),
            Out::Sleep(_) => None,
        })
        .collect()
}

#[tokio::test]
async fn state_survives_a_restart_and_a_bad_file_is_an_error() {
    let dir = std::env::temp_dir().join(format!("gatehouse-sim-state-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("state.json");
    let spec: FleetSpec = toml::from_str(FLEET).unwrap();

    let first = sim::Fleet::new(spec.clone(), Some(&path)).unwrap();
    run(
        &first,
        "utils system reverse-proxy allowed-hosts add 10.1.2.3",
    )
    .await;
    let cert = run(&first, "show cert own tomcat").await;
    let running = sim::start(first).await.unwrap();
    let key = running.nodes[0].host_key.clone();
    drop(running);

    let second = sim::Fleet::new(spec.clone(), Some(&path)).unwrap();
    let list = run(&second, "utils system reverse-proxy allowed-hosts list").await;
    assert_eq!(
        vos::parse_source_list(list.trim_end_matches("admin:")).unwrap(),
        ["10.1.2.3"]
    );
    assert_eq!(run(&second, "show cert own tomcat").await, cert);
    assert_eq!(sim::start(second).await.unwrap().nodes[0].host_key, key);

    std::fs::write(&path, "{ not json").unwrap();
    let error = sim::Fleet::new(spec, Some(&path)).expect_err("a broken state file is refused");
    assert!(error.to_string().contains("state.json"), "{error}");
    std::fs::remove_dir_all(&dir).unwrap();
}
