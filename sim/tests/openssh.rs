//! Interoperability: the driver against Debian's OpenSSH server (not russh), restricted to the
//! algorithms VOS offers, whose forced command serves the simulator's CLI on a terminal.
//!
//! Needs root (it runs sshd and gives a system user `gatehouse-sim` a fresh random password)
//! and `/usr/sbin/sshd` (`./x test` installs openssh-server).

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;
use testkit::Reaped;
use tokio::sync::Semaphore;
use vos::driver::{Driver, Store};
use vos::ssh::{Settings, Target, VosSsh};

const USER: &str = "gatehouse-sim";
const FQDN: &str = "finesse1.openssh.example.com";

fn run(program: &str, args: &[&str], input: Option<&str>) {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    if let Some(input) = input {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "{program} {args:?}: {status}");
}

/// The system user the forced command runs as, with a new random password.
fn user_with_password() -> String {
    let exists = Command::new("id")
        .arg(USER)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success();
    if !exists {
        run(
            "useradd",
            &["--system", "--no-create-home", "--shell", "/bin/sh", USER],
            None,
        );
    }
    let password = format!(
        "Gh-{:x}-{}",
        std::process::id(),
        time::OffsetDateTime::now_utc().unix_timestamp_nanos()
    );
    run("chpasswd", &[], Some(&format!("{USER}:{password}\n")));
    password
}

fn sshd(dir: &Path, port: u16) -> Reaped {
    let key = dir.join("host_rsa");
    run(
        "ssh-keygen",
        &[
            "-q",
            "-t",
            "rsa",
            "-b",
            "2048",
            "-N",
            "",
            "-f",
            key.to_str().unwrap(),
        ],
        None,
    );
    let fleet = dir.join("fleet.toml");
    std::fs::write(
        &fleet,
        format!("[[cluster]]\nname = \"O\"\n\n[[cluster.node]]\nfqdn = \"{FQDN}\"\nkind = \"finesse\"\npassword = \"unused\"\nconnected_users = {{ desktop = 2, proxy = 1 }}\n"),
    )
    .unwrap();
    // The forced command runs as that user, who may not be able to reach the build (a checkout
    // in root's home directory): it runs a copy beside the test's other files.
    let sim = dir.join("gatehouse-sim");
    std::fs::copy(env!("CARGO_BIN_EXE_gatehouse-sim"), &sim).unwrap();
    let command = format!(
        "{} --fleet {} --state {} --stdio {FQDN}",
        sim.display(),
        fleet.display(),
        dir.join("state.json").display()
    );
    let config = dir.join("sshd_config");
    std::fs::write(
        &config,
        format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {key}\nPidFile {pid}\nUsePAM no\nPasswordAuthentication yes\n\
             KbdInteractiveAuthentication no\nPubkeyAuthentication no\nPermitRootLogin no\nAllowUsers {USER}\nStrictModes no\n\
             PermitTTY yes\nForceCommand {command}\n\
             KexAlgorithms diffie-hellman-group14-sha256,diffie-hellman-group14-sha1\n\
             Ciphers aes128-ctr,aes192-ctr,aes256-ctr\nMACs hmac-sha2-256\n\
             HostKeyAlgorithms rsa-sha2-512,rsa-sha2-256,ssh-rsa\n",
            key = key.display(),
            pid = dir.join("sshd.pid").display(),
        ),
    )
    .unwrap();
    std::fs::create_dir_all("/run/sshd").unwrap();
    let sshd = Reaped(
        Command::new("/usr/sbin/sshd")
            .args(["-D", "-e", "-f", config.to_str().unwrap()])
            .stdout(Stdio::null())
            .spawn()
            .expect("/usr/sbin/sshd (install openssh-server)"),
    );
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return sshd;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("sshd did not listen on {port}");
}

#[tokio::test]
async fn the_driver_works_through_openssh_with_the_vos_algorithms() {
    let uid = Command::new("id").arg("-u").output().unwrap().stdout;
    assert_eq!(
        String::from_utf8_lossy(&uid).trim(),
        "0",
        "this test runs sshd and needs root (as ./x test does in CI)"
    );
    let dir = std::env::temp_dir().join(format!("gatehouse-openssh-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // The forced command runs as the user: it writes the node's state here.
    run("chmod", &["0777", dir.to_str().unwrap()], None);
    let password = user_with_password();
    let port = testkit::free_port();
    let _sshd = sshd(&dir, port);

    let node = VosSsh::new(
        Target {
            host: "127.0.0.1".into(),
            port,
            username: USER.into(),
            password,
        },
        None,
        Settings::default(),
        Arc::new(Semaphore::new(4)),
    );
    assert_eq!(node.version().await.unwrap().active, "12.6.2.10000-32");
    assert_eq!(node.host_key().unwrap().algorithm, "ssh-rsa");
    node.add_allowed_host("10.78.95.178").await.unwrap();
    node.add_allowed_host("192.0.2.10").await.unwrap();
    node.delete_allowed_host("10.78.95.178", None)
        .await
        .unwrap();
    assert_eq!(node.allowed_hosts().await.unwrap(), ["192.0.2.10"]);
    let users = node.connected_users().await.unwrap();
    assert_eq!((users.total, users.proxy), (2, 1));
    let own = node.cert_list(Store::Own).await.unwrap();
    let pem = node.cert_pem(Store::Own, &own[0]).await.unwrap();
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    let ca = testkit::pki::Ca::new("OpenSSH Test CA").der();
    node.import_trust("tomcat", &ca).await.unwrap();
    let trust = node.cert_list(Store::Trust).await.unwrap();
    assert!(
        trust.iter().any(|c| c.file == "OpenSSH_Test_CA.pem"),
        "{trust:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
