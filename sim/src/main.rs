//! `gatehouse-sim`: runs the fleet of a fleet file until stopped, printing where each node
//! listens (and, with `--inventory`, a CSV Gatehouse's inventory import takes). On SIGHUP it
//! reads the fleet file again and applies each node's faults and connected users at once.

use clap::Parser;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    version,
    about = "A fleet of simulated Cisco VOS appliances on loopback"
)]
struct Args {
    /// The fleet file (TOML, or JSON by its extension).
    #[arg(long, env = "GATEHOUSE_SIM_FLEET")]
    fleet: PathBuf,
    /// Where the nodes' state is kept between runs (default: beside the fleet file).
    #[arg(long, env = "GATEHOUSE_SIM_STATE")]
    state: Option<PathBuf>,
    /// Print the fleet as Gatehouse inventory CSV on stdout once it listens.
    #[arg(long)]
    inventory: bool,
    /// Instead of listening: run this node's CLI on standard input and output (for a real
    /// SSH server's forced command; its terminal does the echo and line editing).
    #[arg(long, value_name = "FQDN")]
    stdio: Option<String>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    // Behind an SSH server, standard error reaches the client: only errors go there.
    let quiet = if args.stdio.is_some() {
        "error"
    } else {
        "info"
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| quiet.into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("gatehouse-sim: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let spec = sim::fleet::FleetSpec::load(&args.fleet)?;
    let state = args
        .state
        .unwrap_or_else(|| args.fleet.with_extension("state.json"));
    let fleet = sim::Fleet::new(spec, Some(&state))?;
    if let Some(fqdn) = args.stdio {
        let node = fleet
            .index(&fqdn)
            .ok_or_else(|| format!("{fqdn} is not a node of the fleet file"))?;
        return stdio(fleet, node).await;
    }
    let running = sim::start(fleet).await?;
    // Before saying it runs: a SIGHUP from then on must not end the process.
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    for node in &running.nodes {
        let https: Vec<String> = node.https.iter().map(ToString::to_string).collect();
        let cti: String = node.cti.iter().map(|a| format!(", cti {a}")).collect();
        eprintln!(
            "{}: ssh {} (host key {}), https {}{cti}",
            node.fqdn,
            node.ssh,
            node.host_key,
            if https.is_empty() {
                "-".into()
            } else {
                https.join(" ")
            }
        );
    }
    if args.inventory {
        print!("{}", sim::inventory_csv(&running));
    }
    eprintln!(
        "gatehouse-sim: {} nodes running; state in {}",
        running.nodes.len(),
        state.display()
    );
    let fleet = running.fleet.clone();
    let done = running.wait();
    tokio::pin!(done);
    loop {
        tokio::select! {
            () = &mut done => break,
            _ = tokio::signal::ctrl_c() => break,
            _ = hangup.recv() => reload(&fleet, &args.fleet),
        }
    }
    Ok(())
}

/// SIGHUP: the fleet file's faults and connected users, applied; a file that does not load
/// changes nothing.
fn reload(fleet: &sim::Fleet, path: &std::path::Path) {
    let applied = sim::fleet::FleetSpec::load(path)
        .map_err(|e| e.to_string())
        .and_then(|spec| fleet.reload(&spec).map_err(|e| e.to_string()));
    match applied {
        Ok(changes) if changes.is_empty() => eprintln!("gatehouse-sim: reloaded; nothing changed"),
        Ok(changes) => {
            for change in changes {
                eprintln!("gatehouse-sim: reloaded: {change}");
            }
        }
        Err(error) => eprintln!("gatehouse-sim: reload refused, nothing changed: {error}"),
    }
}

/// One CLI session on standard input and output, until `quit` or the end of input.
async fn stdio(
    fleet: std::sync::Arc<sim::Fleet>,
    node: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    use sim::cli::{Cli, Out};
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt};
    let mut out = tokio::io::stdout();
    let mut cli = Cli::new(fleet, node);
    out.write_all(cli.banner().as_bytes()).await?;
    out.flush().await?;
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    while let Some(line) = lines.next_line().await? {
        let line = line.trim_end_matches('\r');
        // In canonical mode a key arrives as a line: its first character (none: Enter).
        let input = if cli.wants_key() {
            line.chars().next().map(String::from).unwrap_or_default()
        } else {
            line.to_owned()
        };
        let Some(outs) = cli.input(&input).await else {
            break;
        };
        for o in outs {
            match o {
                Out::Text(text) => {
                    out.write_all(text.as_bytes()).await?;
                    out.flush().await?;
                }
                Out::Sleep(pause) => tokio::time::sleep(pause).await,
            }
        }
    }
    Ok(())
}
