//! `gatehouse-sim`: runs the fleet of a fleet file until stopped, printing where each node
//! listens (and, with `--inventory`, a CSV Gatehouse's inventory import takes).

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
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
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
    let running = sim::start(fleet).await?;
    for node in &running.nodes {
        let https: Vec<String> = node.https.iter().map(ToString::to_string).collect();
        eprintln!(
            "{}: ssh {} (host key {}), https {}",
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
    tokio::select! {
        () = running.wait() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(())
}
