//! `gatehouse`: the console's binary. See `gatehouse --help`.

use anyhow::{Context, Result};
use clap::Parser;
use server::config::{AuditCommand, Cli, Command, ProxymapCommand, UserCommand};

fn main() -> std::process::ExitCode {
    server::memory::tune();
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(start()),
        Err(error) => {
            eprintln!("error: starting the async runtime: {error}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn start() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,tower_sessions=warn".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match run(Cli::parse()).await {
        Ok(code) => code,
        Err(error) => {
            tracing::error!("{error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<std::process::ExitCode> {
    match cli.command {
        Command::Serve(serve) => {
            server::startup::Application::build(*serve)
                .await?
                .run_until_stopped(shutdown_signal())
                .await?;
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Migrate(db) => {
            server::Database::open(&db).await?.close().await?;
            tracing::info!("migrations applied");
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::User(UserCommand::Add {
            username,
            role,
            database,
        }) => {
            let password = match std::env::var("GATEHOUSE_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    let mut line = String::new();
                    std::io::stdin()
                        .read_line(&mut line)
                        .context("reading the password from standard input")?;
                    line.trim_end_matches(['\r', '\n']).to_owned()
                }
            };
            let role = domain::auth::Role::parse(&role).map_err(anyhow::Error::msg)?;
            let db = server::Database::open(&database).await?;
            let result = add_user(&db.pool, &username, &password, role).await;
            db.close().await?;
            result?;
            println!("user {username} ({role}) added");
            Ok(std::process::ExitCode::SUCCESS)
        }
        Command::Proxymap(ProxymapCommand::Check { files }) => {
            let mut clean = true;
            for file in &files {
                let (name, bytes) = if file.as_os_str() == "-" {
                    ("<stdin>".to_owned(), read_capped(std::io::stdin())?)
                } else {
                    let opened = std::fs::File::open(file)
                        .with_context(|| format!("opening {}", file.display()))?;
                    let bytes = read_capped(opened)
                        .with_context(|| format!("reading {}", file.display()))?;
                    (file.display().to_string(), bytes)
                };
                let map = proxymap::parse_bytes(&bytes);
                for diagnostic in &map.diagnostics {
                    println!("{name}:{diagnostic}");
                }
                clean &= !map.has_errors();
            }
            Ok(if clean {
                std::process::ExitCode::SUCCESS
            } else {
                std::process::ExitCode::from(1)
            })
        }
        Command::Audit(AuditCommand::Verify { database }) => {
            let db = server::Database::open(&database).await?;
            let report = domain::audit::store::verify(&db.pool).await;
            db.close().await?;
            let report = report.map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("{}", serde_json::to_string_pretty(&report)?);
            Ok(if report.ok {
                std::process::ExitCode::SUCCESS
            } else {
                std::process::ExitCode::from(1)
            })
        }
    }
}

async fn add_user(
    pool: &sqlx::PgPool,
    username: &str,
    password: &str,
    role: domain::auth::Role,
) -> Result<()> {
    let mut tx = pool.begin().await?;
    let id = domain::auth::store::insert_user(&mut tx, username, password, role)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    domain::audit::store::record(
        &mut tx,
        domain::audit::store::Event::new("user.create", format!("user:{username}"))
            .by_system("user add")
            .after(serde_json::json!({"id": id, "username": username, "role": role})),
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    tx.commit().await?;
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await
            }
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}

/// At most one byte past the largest map (which is then refused as too large without reading
/// a huge file into memory).
fn read_capped(from: impl std::io::Read) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(from, proxymap::MAX_BYTES as u64 + 1),
        &mut bytes,
    )?;
    Ok(bytes)
}
