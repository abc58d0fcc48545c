//! A fleet running: every node's SSH and HTTPS listeners, the connected users drifting over
//! time, and the inventory CSV that registers the fleet in Gatehouse.

use super::*;

/// Where a running node listens.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NodeAddr {
    pub fqdn: String,
    pub ssh: SocketAddr,
    pub https: Vec<SocketAddr>,
    /// Plain HTTP (Finesse's 80 and 8082).
    pub http: Vec<SocketAddr>,
    /// The unencrypted notification ports (5222, 7071), open only while enabled.
    pub insecure: Vec<SocketAddr>,
    /// A BroadWorks node's CTI listeners (8012).
    pub cti: Vec<SocketAddr>,
    /// The SSH host key's SHA-256 fingerprint as OpenSSH prints it (`SHA256:...`).
    pub host_key: String,
}

/// A running fleet: its listeners stop when this is dropped.
pub struct Running {
    pub fleet: Arc<Fleet>,
    pub nodes: Vec<NodeAddr>,
    tasks: JoinSet<()>,
}

impl Running {
    pub fn node(&self, fqdn: &str) -> Option<&NodeAddr> {
        self.nodes.iter().find(|n| n.fqdn == fqdn)
    }

    /// Runs until the listeners fail (never, in practice).
    pub async fn wait(mut self) {
        while self.tasks.join_next().await.is_some() {}
    }
}

/// Makes the fleet a TOML text describes (as a fleet file holds it; `state`: the file its
/// nodes' state is kept in, else memory) and starts it: how tests, benchmarks and the demo set
/// one up. Making a fresh fleet's keys takes seconds of CPU, so not on the async threads.
pub async fn start_toml(text: &str, state: Option<std::path::PathBuf>) -> Result<Running, Error> {
    let spec: crate::fleet::FleetSpec =
        toml::from_str(text).map_err(|e| Error::Spec(e.to_string()))?;
    spec.check().map_err(Error::Spec)?;
    let fleet = tokio::task::spawn_blocking(move || Fleet::new(spec, state.as_deref()))
        .await
        .map_err(|e| Error::Spec(format!("making it stopped: {e}")))??;
    start(fleet).await
}

/// Starts every node's listeners.
pub async fn start(fleet: Arc<Fleet>) -> Result<Running, Error> {
    let mut tasks = JoinSet::new();
    let mut nodes = Vec::new();
    for (index, spec) in fleet.nodes.iter().enumerate() {
        let listen = |port: u16| {
            let address = format!("{}:{port}", spec.address);
            async move {
                tokio::net::TcpListener::bind(&address)
                    .await
                    .map_err(|error| Error::Listen { address, error })
            }
        };
        let ssh_listener = listen(spec.ssh_port).await?;
        let ssh = ssh_listener.local_addr().map_err(|error| Error::Listen {
            address: spec.address.clone(),
            error,
        })?;
        tasks.spawn(ssh::serve(fleet.clone(), index, ssh_listener));
        let mut https = Vec::new();
        for (i, port) in spec.https_ports.iter().enumerate() {
            let listener = listen(*port).await?;
            https.push(listener.local_addr().map_err(|error| Error::Listen {
                address: spec.address.clone(),
                error,
            })?);
            let port = match i {
                0 if spec.is_finesse() => https::Port::FinesseRest,
                1 if spec.is_finesse() => https::Port::Notifications,
                _ => https::Port::Web,
            };
            tasks.spawn(https::serve(fleet.clone(), index, listener, port));
        }
        let local = |listener: &tokio::net::TcpListener| {
            listener.local_addr().map_err(|error| Error::Listen {
                address: spec.address.clone(),
                error,
            })
        };
        let mut http = Vec::new();
        for port in &spec.http_ports {
            let listener = listen(*port).await?;
            http.push(local(&listener)?);
            let to = https.first().map_or(8445, |a| a.port());
            tasks.spawn(plain::serve_http(fleet.clone(), index, listener, to));
        }
        let mut cti = Vec::new();
        for port in &spec.cti_ports {
            let listener = listen(*port).await?;
            cti.push(local(&listener)?);
            tasks.spawn(crate::cti::serve(fleet.clone(), index, listener));
        }
        let mut insecure = Vec::new();
        for port in &spec.insecure_ports {
            // A port is chosen now (0: any free one) and opened only while enabled.
            let address = local(&listen(*port).await?)?;
            insecure.push(address);
            tasks.spawn(plain::serve_insecure(fleet.clone(), index, address));
        }
        let host_key = fleet.read(index, |s| ssh::fingerprint(&s.host_key));
        nodes.push(NodeAddr {
            fqdn: spec.fqdn.clone(),
            ssh,
            https,
            http,
            insecure,
            cti,
            host_key,
        });
    }
    tasks.spawn(refresh_maps(fleet.clone()));
    if fleet.spec.drift_users {
        tasks.spawn(drift_users(fleet.clone()));
    }
    Ok(Running {
        fleet,
        nodes,
        tasks,
    })
}

/// Each node with config URIs fetches its proxy map again at its update frequency (the
/// first URI that answers with a valid map wins; the last good map is kept otherwise).
async fn refresh_maps(fleet: Arc<Fleet>) {
    let minute = Duration::from_millis(fleet.spec.minute_ms.unwrap_or(60_000).max(1));
    let tick = (minute / 12).min(Duration::from_secs(5));
    let mut last = vec![tokio::time::Instant::now(); fleet.nodes.len()];
    loop {
        tokio::time::sleep(tick).await;
        for (node, last) in last.iter_mut().enumerate() {
            let (uris, minutes) = fleet.read(node, |s| (s.config_uris.clone(), s.update_frequency));
            let due = minute * minutes.unwrap_or(1);
            if uris.is_empty() || last.elapsed() < due {
                continue;
            }
            *last = tokio::time::Instant::now();
            for uri in uris {
                match fleet.fetch_map(node, &uri).await {
                    Ok(map) => {
                        fleet.edit(node, |s| s.proxy_map = map);
                        break;
                    }
                    Err(error) => {
                        tracing::info!(node = %fleet.nodes[node].fqdn, %uri, %error, "proxy map fetch failed")
                    }
                }
            }
        }
    }
}

/// Every 30 s, each Finesse node's counts take a step of -2..=2 each, kept within ±40% of the
/// fleet file's numbers, and those via the proxy never more than all of them.
async fn drift_users(fleet: Arc<Fleet>) {
    // A xorshift seeded by the clock: the demo needs movement, not statistics.
    let mut seed = time::OffsetDateTime::now_utc().unix_timestamp_nanos() as u64 | 1;
    let mut step = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % 5) as i64 - 2
    };
    loop {
        tokio::time::sleep(Duration::from_secs(30)).await;
        for (node, spec) in fleet.nodes.iter().enumerate() {
            if !spec.is_finesse() {
                continue;
            }
            let next = drift(fleet.users(node), spec.connected_users, &mut step);
            fleet.set_users(node, next);
        }
    }
}

/// One step of [`drift_users`]: each count moves by `step()`, within ±40% of `base`; those
/// via the proxy are never more than all of them.
fn drift(now: Users, base: Users, step: &mut impl FnMut() -> i64) -> Users {
    let mut walk = |current: u32, base: u32| -> u32 {
        let (low, high) = (i64::from(base) * 6 / 10, i64::from(base) * 14 / 10);
        u32::try_from((i64::from(current) + step()).clamp(low, high)).unwrap_or(0)
    };
    let mut next = Users {
        desktop: walk(now.desktop, base.desktop),
        fippa: walk(now.fippa, base.fippa),
        third_party: walk(now.third_party, base.third_party),
        proxy: walk(now.proxy, base.proxy),
    };
    next.proxy = next.proxy.min(next.total());
    next
}

/// The running fleet as Gatehouse's inventory CSV (`cluster,kind,role,fqdn,address,version,
/// tags,ports`), each node reached at its loopback address on its HTTPS ports.
pub fn inventory_csv(running: &Running) -> String {
    let field = |value: &str| {
        if value.contains([',', '"', '\n']) {
            format!("\"{}\"", value.replace('"', "\"\""))
        } else {
            value.to_owned()
        }
    };
    let mut csv = String::from("cluster,kind,role,fqdn,address,version,tags,ports\n");
    for cluster in &running.fleet.spec.clusters {
        for node in &cluster.nodes {
            let Some(addr) = running.node(&node.fqdn) else {
                continue;
            };
            let ports: Vec<String> = addr.https.iter().map(|a| a.port().to_string()).collect();
            csv.push_str(&format!(
                "{},{},{},{},{},{},simulated,{}\n",
                field(&cluster.name),
                field(&node.kind),
                field(&node.role),
                field(&node.fqdn),
                node.address,
                field(&node.version),
                ports.join(";")
            ));
        }
    }
    csv
}

#[cfg(test)]
mod drift_tests {
    use super::*;

    #[test]
    fn users_drift_within_forty_percent_and_proxy_never_exceeds_the_total() {
        let base = Users {
            desktop: 40,
            fippa: 5,
            third_party: 0,
            proxy: 30,
        };
        let mut up = || 2;
        let mut now = base;
        for _ in 0..50 {
            now = drift(now, base, &mut up);
        }
        assert_eq!((now.desktop, now.fippa, now.third_party), (56, 7, 0));
        assert_eq!(now.proxy, 42);
        let mut down = || -2;
        for _ in 0..50 {
            now = drift(now, base, &mut down);
        }
        assert_eq!((now.desktop, now.fippa, now.proxy), (24, 3, 18));
        // A proxy count above the total is cut to it.
        let odd = Users {
            desktop: 1,
            fippa: 0,
            third_party: 0,
            proxy: 10,
        };
        assert_eq!(drift(odd, odd, &mut || 0).proxy, 1);
    }
}
