//! `gatehouse`: the console's binary. See `gatehouse --help`.

use anyhow::{Context, Result};
use clap::Parser;
use server::config::{AuditCommand, Cli, Command, UserCommand};
use std::net::SocketAddr;

#[tokio::main]
async fn main() -> std::process::ExitCode {
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
            let tls = match (&serve.tls_cert, &serve.tls_key) {
                (Some(cert), Some(key)) => Some(server::tls::server_config(cert, key)?),
                _ => None,
            };
            let database = server::Database::open(&serve.database).await?;
            let state = server::app_state(database.pool.clone(), &serve, tls.is_some())?;
            server::bootstrap(&state.services, &serve).await?;
            let _demo = match serve.demo {
                true => Some(server::demo::start(&state.services, &serve.database.data_dir).await?),
                false => None,
            };
            let scheduler =
                domain::scans::schedule::spawn(state.services.clone(), serve.scan_interval_hours)
                    .await?;
            let sampler = domain::scans::schedule::spawn_sampler(
                state.services.clone(),
                std::time::Duration::from_secs(serve.sample_interval_seconds),
            );
            let notifier = domain::webhooks::deliver::Notifier::new(database.pool.clone())?.spawn();
            let store = domain::auth::session_store::PgStore::new(database.pool.clone());
            let sweeper = tokio::spawn(async move {
                let mut every = tokio::time::interval(std::time::Duration::from_secs(600));
                loop {
                    every.tick().await;
                    if let Err(error) = store.delete_expired().await {
                        tracing::warn!(%error, "deleting expired sessions");
                    }
                }
            });
            let listener = tokio::net::TcpListener::bind(serve.listen)
                .await
                .with_context(|| format!("listening on {}", serve.listen))?;
            let app = server::router(state)?.into_make_service_with_connect_info::<SocketAddr>();
            let served = match tls {
                None => {
                    tracing::info!("Gatehouse listening on http://{}", listener.local_addr()?);
                    axum::serve(server::nodelay(listener), app)
                        .with_graceful_shutdown(shutdown_signal())
                        .await
                }
                Some(config) => {
                    tracing::info!("Gatehouse listening on https://{}", listener.local_addr()?);
                    let handle = axum_server::Handle::new();
                    let stopper = handle.clone();
                    tokio::spawn(async move {
                        shutdown_signal().await;
                        stopper.graceful_shutdown(Some(std::time::Duration::from_secs(10)));
                    });
                    let config = axum_server::tls_rustls::RustlsConfig::from_config(config);
                    let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(config)
                        .acceptor(axum_server::accept::NoDelayAcceptor);
                    axum_server::from_tcp(listener.into_std()?)?
                        .acceptor(acceptor)
                        .handle(handle)
                        .serve(app)
                        .await
                }
            };
            served.context("serving HTTP")?;
            sweeper.abort();
            notifier.abort();
            for task in [scheduler, sampler].into_iter().flatten() {
                task.abort();
            }
            database.close().await?;
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
