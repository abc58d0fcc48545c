//! The demo's VPN-less edge: a published proxy map exposing the two simulated Finesse nodes as
//! `finesse1.vpnless.localhost` and `finesse2.vpnless.localhost` (names every browser sends to
//! loopback), and a gatehouse-proxy pair routing by it. Side A listens on 27443 (desktop) and
//! 27444 (notifications), side B on 27445 and 27446; each presents its simulated proxy node's
//! certificate upstream from that node's address, which the demo's access policy trusts.
//! The instances' tokens are written to `<data dir>/proxy/` on every start, and the two engines
//! are started as processes of their own (`gatehouse-proxy run --console ...`, found next to
//! this executable, as `./x run` builds it), stopped with the server.

use anyhow::{Context, Result};
use domain::auth::principal::RequestContext;
use domain::Services;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Duration;

const PAIR: &str = "Demo DMZ";
const MAP: &str = "Demo: VPN-less";
/// The clients' ports (side A's; side B listens two above and is reached the same way).
const DESKTOP: u16 = 27443;
const NOTIFY: u16 = 27444;

/// Where the instances' files are.
pub fn folder(data_dir: &Path) -> PathBuf {
    data_dir.join("proxy")
}

/// Where the engines find this console.
pub struct Console {
    pub url: String,
    /// The console's certificate, when it serves HTTPS.
    pub ca: Option<PathBuf>,
}

/// Sets the pair up (first start), writes its files and tokens (every start), starts the two
/// engines and publishes the configuration once the console knows what the nodes serve.
pub async fn set_up(
    state: Services,
    context: RequestContext,
    fleet: std::sync::Arc<sim::Fleet>,
    data_dir: PathBuf,
    console: Console,
) {
    if let Err(error) = try_set_up(&state, &context, &fleet, &data_dir, &console).await {
        tracing::warn!(error = %format!("{error:#}"), "setting up the demo's VPN-less proxies");
    }
}

/// Runs `gatehouse-proxy` for each instance until the server stops (restarted if it ends).
fn start_engines(dir: &Path, console: &Console, names: Vec<String>) {
    let Some(binary) = std::env::current_exe()
        .ok()
        .map(|exe| exe.with_file_name("gatehouse-proxy"))
        .filter(|b| b.exists())
    else {
        tracing::info!(
            "gatehouse-proxy is not built next to this executable: start the demo's engines with \
             `gatehouse-proxy run --console {} --token-file {}/<instance>.token --instance <instance>`",
            console.url,
            dir.display()
        );
        return;
    };
    for name in names {
        let mut command = tokio::process::Command::new(&binary);
        command
            .arg("run")
            .arg("--console")
            .arg(&console.url)
            .arg("--token-file")
            .arg(dir.join(format!("{name}.token")))
            .arg("--instance")
            .arg(&name)
            .kill_on_drop(true);
        if let Some(ca) = &console.ca {
            command.arg("--console-ca").arg(ca);
        }
        tokio::spawn(async move {
            loop {
                match command.spawn() {
                    Ok(mut child) => {
                        tracing::info!(instance = %name, "demo proxy engine started");
                        let status = child.wait().await;
                        tracing::warn!(instance = %name, ?status, "demo proxy engine ended; restarting");
                    }
                    Err(error) => {
                        tracing::warn!(instance = %name, %error, "starting a demo proxy engine");
                        return;
                    }
                }
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        });
    }
}

async fn try_set_up(
    state: &Services,
    context: &RequestContext,
    fleet: &sim::Fleet,
    data_dir: &Path,
    console: &Console,
) -> Result<()> {
    let dir = folder(data_dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
    write_certificates(fleet, &dir)?;
    let pool = &state.pool;
    let pairs = domain::proxies::store::pairs(pool, context).await?;
    let pair = match pairs.into_iter().find(|p| p.name == PAIR) {
        Some(pair) => pair,
        None => {
            let map = map(state, context).await?;
            create_pair(state, context, map, &dir).await?
        }
    };
    for instance in &pair.instances {
        let issued = domain::proxies::store::issue_token(pool, context, instance.id).await?;
        let file = dir.join(format!("{}.token", instance.name));
        write_secret(&file, &issued.token)?;
    }
    start_engines(
        &dir,
        console,
        pair.instances.iter().map(|i| i.name.clone()).collect(),
    );
    // The upstream trust is what the scan saw the nodes serve: publish once it is known.
    for _ in 0..60 {
        match domain::proxies::store::publish(pool, context, pair.id).await {
            Ok(pair) => {
                tracing::info!(
                    pair = PAIR,
                    version = pair.version,
                    "demo proxy configuration published"
                );
                return Ok(());
            }
            Err(domain::Error::Invalid(_)) => tokio::time::sleep(Duration::from_secs(2)).await,
            Err(error) => return Err(error.into()),
        }
    }
    anyhow::bail!("the demo nodes' certificates were not seen within two minutes")
}

/// The browsers' certificate, and each side's client certificate (its simulated proxy node's).
fn write_certificates(fleet: &sim::Fleet, dir: &Path) -> Result<()> {
    let edge = dir.join("edge.pem");
    if !edge.exists() {
        let issued =
            sim::self_signed(&["finesse1.vpnless.localhost", "finesse2.vpnless.localhost"])?;
        std::fs::write(&edge, issued.cert_pem)?;
        write_secret(&dir.join("edge.key"), &issued.key_pem)?;
    }
    for (side, host) in [
        ("a", "proxy-a.demo.example.com"),
        ("b", "proxy-b.demo.example.com"),
    ] {
        let node = fleet
            .index(host)
            .with_context(|| format!("{host} is not in the demo fleet"))?;
        let tomcat = fleet
            .state(node)
            .own
            .into_iter()
            .find(|c| c.unit == "tomcat")
            .with_context(|| format!("{host} has no tomcat certificate"))?;
        std::fs::write(dir.join(format!("client-{side}.pem")), &tomcat.cert_pem)?;
        let key = tomcat
            .key_pem
            .context("the tomcat certificate has no key")?;
        write_secret(&dir.join(format!("client-{side}.key")), &key)?;
    }
    Ok(())
}

/// A file only its owner reads.
fn write_secret(path: &Path, text: &str) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    // An existing file keeps its mode when opened: set it.
    file.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    file.write_all(text.as_bytes())?;
    Ok(())
}

/// The VPN-less map of the Finesse cluster, published.
async fn map(state: &Services, context: &RequestContext) -> Result<i64> {
    use domain::proxy_maps::{store as maps, NewMap, SaveMap};
    let pool = &state.pool;
    if let Some(existing) = maps::list(pool, context)
        .await?
        .into_iter()
        .find(|m| m.name == MAP)
    {
        return Ok(existing.id);
    }
    let cluster = domain::inventory::store::list_clusters(pool, context)
        .await?
        .into_iter()
        .find(|c| c.name == "Demo: Finesse")
        .context("the demo's Finesse cluster is missing")?;
    let created = maps::create(
        pool,
        context,
        NewMap {
            name: MAP.into(),
            slug: None,
            cluster_id: Some(cluster.id),
        },
    )
    .await?;
    let text = format!(
        "# The demo's VPN-less edge: gatehouse-proxy routes by this map.\n\
         finesse1.demo.example.com:27401=finesse1.vpnless.localhost:{DESKTOP}\n\
         finesse1.demo.example.com:27402=finesse1.vpnless.localhost:{NOTIFY}\n\
         finesse2.demo.example.com:27403=finesse2.vpnless.localhost:{DESKTOP}\n\
         finesse2.demo.example.com:27404=finesse2.vpnless.localhost:{NOTIFY}\n"
    );
    let saved = maps::save(
        pool,
        context,
        created.id,
        SaveMap {
            text,
            base_version: 0,
            comment: "demo: the VPN-less edge".into(),
        },
    )
    .await?;
    maps::publish(pool, context, created.id, saved.latest_version).await?;
    Ok(created.id)
}

async fn create_pair(
    state: &Services,
    context: &RequestContext,
    map: i64,
    dir: &Path,
) -> Result<domain::proxies::Pair> {
    let file = |name: &str| dir.join(name).display().to_string();
    let listeners = |desktop: u16, notify: u16| {
        json!([
            {"address": format!("127.0.0.1:{desktop}"), "public_port": DESKTOP,
             "certificates": [{"certificate": file("edge.pem"), "key": file("edge.key")}]},
            {"address": format!("127.0.0.1:{notify}"), "public_port": NOTIFY,
             "certificates": [{"certificate": file("edge.pem"), "key": file("edge.key")}]},
        ])
    };
    let side = |side: &str, bind: &str, status: u16, link: u16, peer: u16| {
        json!({
            // The pair's own link: bans shared within a second; the other side's certificate
            // as it reports it.
            "peer": {"listen": format!("127.0.0.1:{link}"), "address": format!("127.0.0.1:{peer}"),
                     "certificate": std::fs::read_to_string(dir.join(format!("client-{}.pem", if side == "a" { "b" } else { "a" }))).unwrap_or_default()},
            "upstream": {"bind": bind,
                         "client_certificate": {"certificate": file(&format!("client-{side}.pem")),
                                                "key": file(&format!("client-{side}.key"))}},
            "status": {"address": format!("127.0.0.1:{status}")},
        })
    };
    let mut a = side("a", "127.0.2.1", 27461, 27471, 27472);
    a["listeners"] = listeners(DESKTOP, NOTIFY);
    let mut b = side("b", "127.0.2.2", 27462, 27472, 27471);
    b["listeners"] = listeners(DESKTOP + 2, NOTIFY + 2);
    let mut settings: proxyconf::Config = serde_json::from_value(json!({
        "schema": 1, "version": 0, "pair": PAIR, "listeners": [], "routes": [],
    }))?;
    // The simulated desktop's page is served without credentials, as its assets are.
    settings
        .auth
        .static_prefixes
        .push("/desktop/container/".into());
    let pair = domain::proxies::store::create(
        &state.pool,
        context,
        domain::proxies::NewPair {
            name: PAIR.into(),
            map_id: map,
            instances: ["proxy-a".into(), "proxy-b".into()],
            settings,
            overlays: Some([a, b]),
        },
    )
    .await?;
    Ok(pair)
}
