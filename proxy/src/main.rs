//! `gatehouse-proxy`: run the engine from a configuration file (watched: a change is put in
//! force within a second, or refused with the reason while the last good one keeps serving),
//! or check a file without serving it.

use clap::{Parser, Subcommand};
use proxy::Engine;
use proxyconf::Config;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "gatehouse-proxy",
    version,
    about = "The Gatehouse VPN-less reverse-proxy engine"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the configuration in a file (every change of it put in force), or the one the
    /// Gatehouse console publishes for this instance.
    Run {
        /// The configuration document (JSON, see proxyconf).
        #[arg(
            long,
            env = "GATEHOUSE_PROXY_CONFIG",
            conflicts_with = "console",
            required_unless_present = "console"
        )]
        config: Option<PathBuf>,
        /// The console's URL (`https://gatehouse.example.com`).
        #[arg(long, env = "GATEHOUSE_PROXY_CONSOLE", requires = "token_file")]
        console: Option<String>,
        /// A file holding this instance's token (issued on the proxy's page in the console).
        #[arg(long, env = "GATEHOUSE_PROXY_TOKEN_FILE")]
        token_file: Option<PathBuf>,
        /// The certificate (PEM) the console's chain must lead to.
        #[arg(long, env = "GATEHOUSE_PROXY_CONSOLE_CA")]
        console_ca: Option<PathBuf>,
        /// This instance's name in reports and logs (`proxy-a`).
        #[arg(long, env = "GATEHOUSE_PROXY_INSTANCE", default_value = "proxy")]
        instance: String,
        /// Threads serving clients, each with the connections it was handed (default: one per
        /// CPU the process may use).
        #[arg(long, env = "GATEHOUSE_PROXY_WORKERS", value_parser = clap::value_parser!(u16).range(1..=1024))]
        workers: Option<u16>,
    },
    /// Read FILE as `run` would (its certificate and key files included) and list its problems.
    Check { config: PathBuf },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("GATEHOUSE_PROXY_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .init();
    let cli = Cli::parse();
    // This thread accepts, follows the configuration and keeps house; the workers serve the
    // connections (proxy::workers).
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("gatehouse-proxy: cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Command::Run { workers, .. } = &cli.command {
        let count = workers.map_or_else(
            || std::thread::available_parallelism().map_or(1, usize::from),
            usize::from,
        );
        if let Err(e) = proxy::workers::start(count) {
            eprintln!("gatehouse-proxy: cannot start its workers: {e}");
            return ExitCode::FAILURE;
        }
    }
    runtime.block_on(async {
        match cli.command {
            Command::Check { config } => check(&config),
            Command::Run {
                config: Some(config),
                instance,
                ..
            } => run(&config, &instance).await,
            Command::Run {
                console: Some(console),
                token_file: Some(token_file),
                console_ca,
                instance,
                ..
            } => follow(&console, &token_file, console_ca.as_deref(), &instance).await,
            Command::Run { .. } => {
                eprintln!(
                    "gatehouse-proxy: give --config FILE, or --console URL with --token-file FILE"
                );
                ExitCode::FAILURE
            }
        }
    })
}

fn read(path: &Path) -> Result<Config, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Config::from_json(&text).map_err(|p| format!("{}: {p}", path.display()))
}

fn check(path: &Path) -> ExitCode {
    let problems = match read(path) {
        Ok(config) => match proxy::live::Loaded::build(config) {
            Ok(_) => Vec::new(),
            Err(problems) => problems.iter().map(ToString::to_string).collect(),
        },
        Err(e) => vec![e],
    };
    if problems.is_empty() {
        println!("{}: ok", path.display());
        return ExitCode::SUCCESS;
    }
    for p in problems {
        eprintln!("{p}");
    }
    ExitCode::FAILURE
}

async fn run(path: &Path, instance: &str) -> ExitCode {
    let config = match read(path) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("gatehouse-proxy: {e}");
            return ExitCode::FAILURE;
        }
    };
    let engine = match Engine::start(instance, config).await {
        Ok(engine) => engine,
        Err(e) => {
            eprintln!("gatehouse-proxy: {e}");
            return ExitCode::FAILURE;
        }
    };
    for address in engine.client_addresses() {
        tracing::info!(%address, "serving clients");
    }
    let mut seen = stamp(path);
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let mut hangup = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("gatehouse-proxy: {e}");
            return ExitCode::FAILURE;
        }
    };
    loop {
        let forced = tokio::select! {
            _ = tick.tick() => false,
            _ = hangup.recv() => true,
            _ = tokio::signal::ctrl_c() => {
                engine.shutdown();
                return ExitCode::SUCCESS;
            }
        };
        let now = stamp(path);
        if !forced && now == seen {
            continue;
        }
        seen = now;
        match read(path) {
            Ok(config) => {
                let _ = engine.apply(config).await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "configuration unreadable; the one in force keeps serving")
            }
        }
    }
}

async fn follow(url: &str, token_file: &Path, ca: Option<&Path>, instance: &str) -> ExitCode {
    let token = match std::fs::read_to_string(token_file) {
        Ok(t) => t.trim().to_owned(),
        Err(e) => {
            eprintln!("gatehouse-proxy: {}: {e}", token_file.display());
            return ExitCode::FAILURE;
        }
    };
    let ca = ca.map(|p| p.display().to_string());
    let console = match proxy::console::Console::new(url, token, ca.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("gatehouse-proxy: {e}");
            return ExitCode::FAILURE;
        }
    };
    let engine = Engine::idle(instance);
    tracing::info!(console = %url, "following the console");
    tokio::select! {
        _ = console.follow(engine.clone()) => ExitCode::FAILURE,
        _ = tokio::signal::ctrl_c() => {
            engine.shutdown();
            ExitCode::SUCCESS
        }
    }
}

/// What tells a changed file: its modification time and length.
fn stamp(path: &Path) -> Option<(std::time::SystemTime, u64)> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}
