//! The command line and the configuration, read from flags and environment variables.
//! Every knob is in README.md's configuration table. Secrets (the database URL, which may
//! carry a password, and the bootstrap admin's password) are `SecretString`s: `Debug` prints
//! them as `[REDACTED]`, and only the code that uses one exposes it.

use clap::{Args, Parser, Subcommand};
use secrecy::SecretString;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "gatehouse",
    version,
    about = "The contact-center security console"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the console.
    Serve(Box<Serve>),
    /// Apply the database migrations and exit.
    Migrate(Database),
    /// Manage users from the shell.
    #[command(subcommand)]
    User(UserCommand),
    /// Audit log tools.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Proxy-config map (proxymap.txt) tools.
    #[command(subcommand)]
    Proxymap(ProxymapCommand),
}

#[derive(Debug, Subcommand)]
pub enum ProxymapCommand {
    /// Check proxy maps: prints `file:line:col: level: code: message` for each problem and exits
    /// 1 when any file has an error (warnings alone exit 0). `-` reads standard input.
    Check {
        #[arg(required = true)]
        files: Vec<std::path::PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user. The password is read from GATEHOUSE_PASSWORD or, if unset, from standard input.
    Add {
        username: String,
        #[arg(long, default_value = "admin", value_parser = ["admin", "auditor"])]
        role: String,
        #[command(flatten)]
        database: Database,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the audit log's hash chain; exits 1 and names the first broken entry if it is broken.
    Verify {
        #[command(flatten)]
        database: Database,
    },
}

/// Where the database is.
#[derive(Debug, Clone, Args)]
pub struct Database {
    /// PostgreSQL to use. Unset: Gatehouse runs its own private cluster in the data directory.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true, value_parser = secret)]
    pub database_url: Option<SecretString>,
    /// Where Gatehouse keeps its state (the embedded PostgreSQL cluster, keys).
    #[arg(long, env = "GATEHOUSE_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// How long to keep trying an external database that is not reachable at start.
    #[arg(long, env = "GATEHOUSE_DB_WAIT_SECONDS", default_value_t = 60)]
    pub db_wait_seconds: u64,
}

#[derive(Debug, Clone, Args)]
pub struct Serve {
    /// Address and port to listen on.
    #[arg(long, env = "GATEHOUSE_LISTEN", default_value = "127.0.0.1:3000")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub database: Database,
    /// `name:password` of the first admin, created at start when no user exists (ignored after).
    #[arg(long, env = "GATEHOUSE_BOOTSTRAP_ADMIN", hide_env_values = true, value_parser = secret)]
    pub bootstrap_admin: Option<SecretString>,
    /// A PEM certificate chain: with `--tls-key`, the console is served over HTTPS only
    /// (cookies get `Secure`, responses get HSTS).
    #[arg(long, env = "GATEHOUSE_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key for `--tls-cert`.
    #[arg(long, env = "GATEHOUSE_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// The URL the appliances reach this console at, the base of the proxy maps' config URIs
    /// (`<url>/maps/<slug>/proxymap.txt`), e.g. `https://gatehouse.example.com:8443`. Unset:
    /// the listen address (`127.0.0.1` for an unspecified one), over HTTPS with TLS.
    #[arg(long, env = "GATEHOUSE_PUBLIC_URL", value_parser = public_url)]
    pub public_url: Option<String>,
    /// Proxy-map fetches one address may make per minute (more are answered 429).
    #[arg(long, env = "GATEHOUSE_MAP_FETCH_LIMIT", default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub map_fetch_limit: u32,
    /// Where the built site is (the wasm bundle, CSS and static files).
    #[arg(long, env = "LEPTOS_SITE_ROOT", default_value = "target/site")]
    pub site_root: String,
    /// Minutes of inactivity after which a session ends.
    #[arg(long, env = "GATEHOUSE_SESSION_IDLE_MINUTES", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=1440))]
    pub session_idle_minutes: u64,
    /// Hours after sign-in after which a session ends, however active.
    #[arg(long, env = "GATEHOUSE_SESSION_ABSOLUTE_HOURS", default_value_t = 12, value_parser = clap::value_parser!(u64).range(1..=720))]
    pub session_absolute_hours: u64,
    /// Failed sign-ins for one account within the window before it is throttled.
    #[arg(long, env = "GATEHOUSE_LOGIN_ACCOUNT_LIMIT", default_value_t = 5)]
    pub login_account_limit: usize,
    /// Failed sign-ins from one address within the window before it is throttled.
    #[arg(long, env = "GATEHOUSE_LOGIN_ADDRESS_LIMIT", default_value_t = 20)]
    pub login_address_limit: usize,
    /// The throttle's sliding window, in minutes.
    #[arg(long, env = "GATEHOUSE_LOGIN_WINDOW_MINUTES", default_value_t = 15)]
    pub login_window_minutes: u64,
    /// Hours between scheduled scans of the whole fleet (with up to 10% random delay); 0 turns
    /// the scheduler off.
    #[arg(long, env = "GATEHOUSE_SCAN_INTERVAL_HOURS", default_value_t = 6.0, value_parser = scan_interval)]
    pub scan_interval_hours: f64,
    /// Addresses and CIDR networks that may read /metrics without a token (comma-separated),
    /// e.g. the Prometheus server: `10.0.5.20,10.0.6.0/24`. Empty: a monitor token is required.
    #[arg(long, env = "GATEHOUSE_METRICS_ALLOW", default_value = "", value_parser = metrics_allow)]
    pub metrics_allow: crate::address_list::AddressList,
    /// Endpoints probed at the same time.
    #[arg(long, env = "GATEHOUSE_SCAN_CONCURRENCY", default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub scan_concurrency: u64,
    /// The 32-byte key that seals appliance passwords (64 hex characters). Unset:
    /// `<data dir>/secret.key`, generated with mode 0600 on first start. Losing it loses the
    /// stored passwords (they must be entered again), nothing else.
    #[arg(long, env = "GATEHOUSE_SECRET_KEY_FILE")]
    pub secret_key_file: Option<PathBuf>,
    /// Run the simulated demo fleet (sim/demo-fleet.toml) inside the server and register it in
    /// the inventory (clusters "Demo: ...", nodes tagged simulated). Never for real deployments.
    #[arg(long, env = "GATEHOUSE_DEMO")]
    pub demo: bool,
    /// SSH sessions to appliances open at once across the fleet.
    #[arg(long, env = "GATEHOUSE_SSH_CONCURRENCY", default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=512))]
    pub ssh_concurrency: u64,
    /// Seconds between background reads of the Finesse nodes' connected users (the Connected
    /// agents history); 0 turns the sampler off (the page still reads while it is open).
    #[arg(long, env = "GATEHOUSE_SAMPLE_INTERVAL_SECONDS", default_value_t = 60, value_parser = sample_interval)]
    pub sample_interval_seconds: u64,
    /// Minutes between drift checks of the nodes under an access policy (each node read and
    /// compared with the policy last applied); 0 turns them off.
    #[arg(long, env = "GATEHOUSE_DRIFT_INTERVAL_MINUTES", default_value_t = 15, value_parser = clap::value_parser!(u64).range(0..=10_080))]
    pub drift_interval_minutes: u64,
    /// Seconds one endpoint's probe (connect and handshake) may take.
    #[arg(long, env = "GATEHOUSE_PROBE_TIMEOUT_SECONDS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=120))]
    pub probe_timeout_seconds: u64,
    /// Seconds between looks for webhook deliveries that are due; 0 turns the sender off (alert
    /// transitions are still recorded and sent once it runs again).
    #[arg(long, env = "GATEHOUSE_WEBHOOK_POLL_SECONDS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub webhook_poll_seconds: u64,
    /// Seconds between sweeps of what has expired: sessions, sign-in failures outside the
    /// throttle's window, connected-user samples past retention, jobs finished over a week ago.
    #[arg(long, env = "GATEHOUSE_SESSION_SWEEP_SECONDS", default_value_t = 600, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub session_sweep_seconds: u64,
    /// Background jobs (scans, samples, sweeps, ...) this replica runs at once; 0: none (a
    /// replica that only serves pages and the API; another one must run the jobs).
    #[arg(long, env = "GATEHOUSE_JOB_SLOTS", default_value_t = 4, value_parser = clap::value_parser!(u64).range(0..=64))]
    pub job_slots: u64,
    /// Seconds a job stays a replica's without renewal: when a replica dies, another takes its
    /// jobs over this long after its last renewal (renewed every sixth of it).
    #[arg(long, env = "GATEHOUSE_JOB_LEASE_SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(3..=3600))]
    pub job_lease_seconds: u64,
}

fn public_url(text: &str) -> Result<String, String> {
    let text = text.trim();
    let scheme = ["https://", "http://"]
        .into_iter()
        .find(|scheme| text.starts_with(scheme))
        .ok_or("must start with https:// or http://")?;
    let rest = text[scheme.len()..].trim_end_matches('/');
    let only = "must be a scheme and host[:port] only, e.g. https://gatehouse.example.com:8443";
    if rest.contains(['/', '?', '#', '@', ' ']) {
        return Err(only.into());
    }
    // An IPv6 address is bracketed; anything else has at most the port's colon.
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') || host.ends_with(']') => (host, Some(port)),
        _ => (rest, None),
    };
    let bracketed = host.starts_with('[') && host.ends_with(']');
    if host.is_empty() || (host.contains(':') && !bracketed) {
        return Err(only.into());
    }
    if port.is_some_and(|port| !matches!(port.parse::<u16>(), Ok(1..))) {
        return Err("the port must be a number from 1 to 65535".into());
    }
    Ok(format!("{scheme}{rest}"))
}

impl Serve {
    /// [`Serve::public_url`], or the listen address over the scheme the console serves.
    pub fn public_url(&self, tls: bool) -> String {
        if let Some(url) = &self.public_url {
            return url.clone();
        }
        let mut address = self.listen;
        if address.ip().is_unspecified() {
            address.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        format!("{}://{address}", if tls { "https" } else { "http" })
    }
}

fn secret(text: &str) -> Result<SecretString, String> {
    Ok(SecretString::from(text))
}

fn metrics_allow(text: &str) -> Result<crate::address_list::AddressList, String> {
    crate::address_list::AddressList::parse(text)
}

fn sample_interval(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(seconds) if seconds == 0 || (10..=86_400).contains(&seconds) => Ok(seconds),
        _ => Err("seconds between 10 and 86400, or 0 to turn the sampler off".into()),
    }
}

fn scan_interval(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(hours) if hours == 0.0 || (0.01..=720.0).contains(&hours) => Ok(hours),
        _ => Err("hours between 0.01 and 720, or 0 to turn scheduled scans off".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_show_in_debug_output() {
        let cli = Cli::parse_from([
            "gatehouse",
            "serve",
            "--database-url",
            "postgres://gatehouse:db-s3cret@db.example/gatehouse",
            "--bootstrap-admin",
            "root:admin-s3cret-password",
        ]);
        let Command::Serve(serve) = &cli.command else {
            unreachable!("parsed as serve")
        };
        let shown = format!("{cli:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("REDACTED"), "{shown}");
        use secrecy::ExposeSecret;
        let url = serve
            .database
            .database_url
            .as_ref()
            .map(|u| u.expose_secret());
        assert_eq!(
            url,
            Some("postgres://gatehouse:db-s3cret@db.example/gatehouse")
        );
    }

    #[test]
    fn the_public_url_is_a_scheme_and_a_host_with_an_optional_port() {
        for (given, kept) in [
            (
                "https://gatehouse.example.com:8443/",
                "https://gatehouse.example.com:8443",
            ),
            (" http://10.0.0.7 ", "http://10.0.0.7"),
            ("https://[2001:db8::7]:8443", "https://[2001:db8::7]:8443"),
            ("https://[2001:db8::7]", "https://[2001:db8::7]"),
        ] {
            assert_eq!(public_url(given).as_deref(), Ok(kept), "{given}");
        }
        for (given, why) in [
            ("gatehouse.example.com", "must start with https://"),
            ("ftp://gatehouse.example.com", "must start with https://"),
            ("https://", "host[:port] only"),
            ("https://:8443", "host[:port] only"),
            ("https://gatehouse.example.com/console", "host[:port] only"),
            ("https://admin@gatehouse.example.com", "host[:port] only"),
            ("https://2001:db8::7", "host[:port] only"),
            ("https://gatehouse.example.com:https", "from 1 to 65535"),
            ("https://gatehouse.example.com:0", "from 1 to 65535"),
            ("https://gatehouse.example.com:65536", "from 1 to 65535"),
        ] {
            let error = public_url(given).expect_err(given);
            assert!(error.contains(why), "{given}: {error}");
        }
    }
}
