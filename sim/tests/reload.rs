//! Faults at run time: the `gatehouse-sim` binary applies its fleet file's faults again on
//! SIGHUP (a node taken down refuses SSH at once, and comes back), and refuses a file that
//! does not load without changing anything.

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpStream};
use std::process::{ChildStderr, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const FQDN: &str = "finesse1.reload.example.com";

use testkit::Reaped as Sim;

fn fleet(down: bool) -> String {
    format!("[[cluster]]\nname = \"R\"\n\n[[cluster.node]]\nfqdn = \"{FQDN}\"\nkind = \"finesse\"\npassword = \"pw\"\nfaults = {{ down = {down} }}\n")
}

/// The simulator's standard error, line by line, as it comes.
fn lines(stderr: ChildStderr) -> mpsc::Receiver<String> {
    let (send, receive) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { return };
            if send.send(line).is_err() {
                return;
            }
        }
    });
    receive
}

fn next_line_with(lines: &mpsc::Receiver<String>, needle: &str) -> String {
    loop {
        let line = lines
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("no line with {needle:?} from gatehouse-sim"));
        if line.contains(needle) {
            return line;
        }
    }
}

/// Whether the node answers SSH: its identification line arrives.
fn answers(ssh: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&ssh, Duration::from_secs(5)) else {
        return false;
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut first = [0u8; 8];
    stream.read_exact(&mut first).is_ok() && first.starts_with(b"SSH-2.0-")
}

fn hangup(sim: &Sim) {
    let status = Command::new("kill")
        .args(["-HUP", &sim.0.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn sighup_applies_the_fleet_files_faults() {
    let dir = std::env::temp_dir().join(format!("gatehouse-reload-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("fleet.toml");
    std::fs::write(&file, fleet(false)).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse-sim"))
        .arg("--fleet")
        .arg(&file)
        .arg("--state")
        .arg(dir.join("state.json"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = lines(child.stderr.take().unwrap());
    let sim = Sim(child);
    // "finesse1...: ssh 127.0.0.1:PORT (host key ...), https ..."
    let listening = next_line_with(&lines, &format!("{FQDN}: ssh "));
    let ssh: SocketAddr = listening
        .split_whitespace()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address in {listening:?}"));
    next_line_with(&lines, "nodes running");
    assert!(answers(ssh), "the node answers before any fault");

    std::fs::write(&file, fleet(true)).unwrap();
    hangup(&sim);
    let applied = next_line_with(&lines, "reload");
    assert!(
        applied.contains(FQDN) && applied.contains("down: true"),
        "{applied}"
    );
    assert!(!answers(ssh), "a node taken down refuses SSH");

    // A file that does not load changes nothing: the node stays down.
    std::fs::write(&file, "[[cluster]\n").unwrap();
    hangup(&sim);
    let refused = next_line_with(&lines, "reload");
    assert!(refused.contains("reload refused"), "{refused}");
    assert!(!answers(ssh));

    std::fs::write(&file, fleet(false)).unwrap();
    hangup(&sim);
    next_line_with(&lines, "reload");
    assert!(answers(ssh), "the node is back once the fault is lifted");
    drop(sim);
    let _ = std::fs::remove_dir_all(&dir);
}
