//! A private PostgreSQL cluster, run from the machine's PostgreSQL binaries when no
//! `DATABASE_URL` is given.
//!
//! `start`: initdb into `<data dir>/postgres` on first use (password authentication with a random
//! password kept in `<data dir>/postgres.password`, mode 0600) → clear a stale `postmaster.pid`
//! left by a crash → start `postgres` on a free loopback port (no Unix socket) → wait until it
//! accepts connections → create the `gatehouse` database if missing. `stop`: fast shutdown.
//!
//! PostgreSQL refuses to run as root; when Gatehouse runs as root the cluster belongs to, and
//! runs as, the `postgres` system user (from Debian's `postgresql-common`), or `nobody`; where
//! that user cannot reach the data directory, the cluster lives elsewhere ([`home`]).
//! The server is started with a parent-death signal, so it also stops if Gatehouse is killed.

mod home;
pub use home::{remove_data_dir, RELOCATED};

use anyhow::{bail, Context, Result};
use home::{run_as, RunAs};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

const DB_USER: &str = "gatehouse";
const DB_NAME: &str = "gatehouse";

/// A running private cluster; stop it with [`EmbeddedPostgres::stop`].
pub struct EmbeddedPostgres {
    child: tokio::process::Child,
    pgdata: PathBuf,
    options: PgConnectOptions,
    password: String,
}

/// The newest installed PostgreSQL's `bin` directory (`GATEHOUSE_PG_BIN` overrides).
fn pg_bin() -> Result<PathBuf> {
    if let Ok(dir) = std::env::var("GATEHOUSE_PG_BIN") {
        return Ok(PathBuf::from(dir));
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .context("no PostgreSQL under /usr/lib/postgresql: install the 'postgresql' package or set DATABASE_URL")?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("postgres").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin).context(
        "no PostgreSQL server binaries found: install the 'postgresql' package or set DATABASE_URL",
    )
}

fn command(bin: &Path, program: &str, user: &Option<RunAs>) -> tokio::process::Command {
    let mut std_command = std::process::Command::new(bin.join(program));
    if let Some(user) = user {
        std_command.uid(user.uid).gid(user.gid);
    }
    // Not the caller's directory: the PostgreSQL user may not be allowed into it.
    std_command
        .env_remove("PGDATA")
        .current_dir("/")
        .stdin(Stdio::null());
    tokio::process::Command::from(std_command)
}

fn chown(path: &Path, user: &Option<RunAs>) -> Result<()> {
    if let Some(user) = user {
        std::os::unix::fs::chown(path, Some(user.uid), Some(user.gid))
            .with_context(|| format!("giving {} to the PostgreSQL user", path.display()))?;
    }
    Ok(())
}

/// Whether `pid` is a live PostgreSQL server process.
fn is_live_postgres(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|comm| matches!(comm.trim(), "postgres" | "postmaster"))
        .unwrap_or(false)
}

fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

impl EmbeddedPostgres {
    /// Starts the cluster on a free loopback port.
    pub async fn start(data_dir: &Path) -> Result<Self> {
        Self::start_on(data_dir, None).await
    }

    /// Starts the cluster on `port` (a free one when `None`).
    pub async fn start_on(data_dir: &Path, port: Option<u16>) -> Result<Self> {
        let bin = pg_bin()?;
        let user = run_as()?;
        std::fs::create_dir_all(data_dir)
            .with_context(|| format!("creating the data directory {}", data_dir.display()))?;
        let data_dir = data_dir
            .canonicalize()
            .with_context(|| format!("resolving {}", data_dir.display()))?;
        let pgdata = home::cluster_dir(&data_dir, &user)?;
        let password_file = data_dir.join("postgres.password");

        if !pgdata.join("PG_VERSION").exists() {
            Self::init(&bin, &user, &pgdata, &password_file).await?;
        }
        let password = std::fs::read_to_string(&password_file)
            .with_context(|| format!("reading {}", password_file.display()))?;

        Self::clear_stale_pid(&pgdata)?;
        let port = match port {
            Some(port) => port,
            None => free_port()?,
        };
        let log_path = data_dir.join("postgres.log");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .with_context(|| format!("opening {}", log_path.display()))?;
        let mut postgres = command(&bin, "postgres", &user);
        postgres
            .arg("-D")
            .arg(&pgdata)
            .args(["-p", &port.to_string()])
            .args([
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "unix_socket_directories=",
            ])
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(false);
        // SAFETY: prctl is async-signal-safe; the closure touches no memory of the parent.
        unsafe {
            postgres.pre_exec(|| {
                // Fast shutdown if Gatehouse dies without stopping us.
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGINT);
                Ok(())
            });
        }
        let child = postgres.spawn().context("starting postgres")?;
        tracing::info!(pgdata = %pgdata.display(), port, "starting the embedded PostgreSQL");

        let options = PgConnectOptions::new()
            .host("127.0.0.1")
            .port(port)
            .username(DB_USER)
            .password(password.trim())
            .database("postgres")
            .log_statements(tracing::log::LevelFilter::Trace);
        let mut this = Self {
            child,
            pgdata,
            options,
            password: password.trim().to_owned(),
        };
        this.wait_ready(&log_path).await?;
        this.create_database().await?;
        Ok(this)
    }

    async fn init(
        bin: &Path,
        user: &Option<RunAs>,
        pgdata: &Path,
        password_file: &Path,
    ) -> Result<()> {
        tracing::info!(pgdata = %pgdata.display(), "creating the embedded PostgreSQL cluster");
        std::fs::create_dir_all(pgdata)?;
        std::fs::set_permissions(pgdata, std::fs::Permissions::from_mode(0o700))?;
        chown(pgdata, user)?;
        let password = domain::tokens::store::random_secret();
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .mode(0o600)
            .open(password_file)
            .with_context(|| format!("writing {}", password_file.display()))?;
        std::io::Write::write_all(&mut file, password.as_bytes())?;
        // initdb reads the password from a file the PostgreSQL user can read.
        let pwfile = pgdata.with_extension("pwfile");
        std::fs::write(&pwfile, &password)?;
        std::fs::set_permissions(&pwfile, std::fs::Permissions::from_mode(0o600))?;
        chown(&pwfile, user)?;
        let output = command(bin, "initdb", user)
            .arg("-D")
            .arg(pgdata)
            .args([
                "-U",
                DB_USER,
                "--auth=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C",
            ])
            .arg(format!("--pwfile={}", pwfile.display()))
            .output()
            .await
            .context("running initdb")?;
        let _ = std::fs::remove_file(&pwfile);
        if !output.status.success() {
            bail!(
                "initdb failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok(())
    }

    /// A `postmaster.pid` whose process is gone (or is not PostgreSQL any more) is left by a
    /// crash: remove it. One whose process is a live PostgreSQL means the cluster is in use.
    fn clear_stale_pid(pgdata: &Path) -> Result<()> {
        let pid_file = pgdata.join("postmaster.pid");
        let Ok(content) = std::fs::read_to_string(&pid_file) else {
            return Ok(());
        };
        let pid = content
            .lines()
            .next()
            .and_then(|l| l.trim().parse::<i32>().ok());
        match pid {
            Some(pid) if is_live_postgres(pid) => bail!(
                "the embedded PostgreSQL in {} is already running (pid {pid}): is another gatehouse using this data directory?",
                pgdata.display()
            ),
            _ => {
                tracing::warn!(file = %pid_file.display(), "removing a stale postmaster.pid left by a crash");
                std::fs::remove_file(&pid_file).context("removing a stale postmaster.pid")
            }
        }
    }

    async fn wait_ready(&mut self, log_path: &Path) -> Result<()> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait()? {
                let log = std::fs::read_to_string(log_path).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(5).collect();
                bail!(
                    "postgres exited at start ({status}); its log ({}) ends with:\n{}",
                    log_path.display(),
                    tail.into_iter().rev().collect::<Vec<_>>().join("\n")
                );
            }
            match self.options.connect().await {
                Ok(conn) => {
                    let _ = conn.close().await;
                    return Ok(());
                }
                Err(_) if tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(error) => {
                    return Err(error)
                        .context("the embedded PostgreSQL did not accept connections within 60 s")
                }
            }
        }
    }

    async fn create_database(&self) -> Result<()> {
        let mut conn = self.options.connect().await?;
        let exists: bool =
            sqlx::query_scalar("select exists(select 1 from pg_database where datname = $1)")
                .bind(DB_NAME)
                .fetch_one(&mut conn)
                .await?;
        if !exists {
            sqlx::query(&format!("create database {DB_NAME}"))
                .execute(&mut conn)
                .await
                .context("creating the gatehouse database")?;
        }
        conn.close().await?;
        Ok(())
    }

    /// The loopback port the cluster listens on.
    pub fn port(&self) -> u16 {
        self.options.get_port()
    }

    /// Connection options for a database of this cluster.
    pub fn connect_options(&self, database: &str) -> PgConnectOptions {
        self.options.clone().database(database)
    }

    /// A `DATABASE_URL` for a database of this cluster (its password is URL-safe base64), for
    /// another process: a second replica, a test.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://{}:{}@127.0.0.1:{}/{database}",
            self.options.get_username(),
            self.password,
            self.port()
        )
    }

    /// The options for the `gatehouse` database.
    pub fn gatehouse_options(&self) -> PgConnectOptions {
        self.connect_options(DB_NAME)
    }

    /// Fast shutdown: active connections are closed, nothing committed is lost.
    pub async fn stop(mut self) -> Result<()> {
        if let Some(pid) = self.child.id() {
            // SAFETY: sending a signal to our own child process.
            unsafe { libc::kill(pid as i32, libc::SIGINT) };
        }
        match tokio::time::timeout(Duration::from_secs(30), self.child.wait()).await {
            Ok(status) => {
                tracing::info!(pgdata = %self.pgdata.display(), status = %status?, "embedded PostgreSQL stopped");
                Ok(())
            }
            Err(_) => {
                self.child.kill().await?;
                bail!("the embedded PostgreSQL did not stop within 30 s and was killed")
            }
        }
    }
}
