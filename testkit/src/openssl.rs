//! The openssl CLI as a peer nobody here wrote: certificates made by it and `openssl s_server`
//! serving them, so the probe meets a TLS stack that shares none of our assumptions.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Runs `openssl <args>` in `dir`; a failure panics with its standard error.
pub fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl CLI runs (./x installs it)");
    assert!(
        output.status.success(),
        "openssl {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A fresh directory for one test's files under `base` (a test's `CARGO_TARGET_TMPDIR`).
pub fn scratch(base: &str, name: &str) -> PathBuf {
    let dir = PathBuf::from(base).join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    dir
}

/// A self-signed RSA certificate for `cn` (SAN the same) in `dir`: `cert.pem`, `key.pem`.
pub fn self_signed(dir: &Path, cn: &str) {
    let subject = format!("/CN={cn}");
    let san = format!("subjectAltName=DNS:{cn}");
    openssl(
        dir,
        &[
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "key.pem", "-out",
            "cert.pem", "-days", "30", "-subj", &subject, "-addext", &san,
        ],
    );
}

/// `openssl s_server` on a free loopback port, stopped when dropped.
pub struct SServer {
    _child: crate::Reaped,
    pub port: u16,
}

/// Serves `cert.pem` with `key.pem` from `dir` (`-www`: connection after connection, without
/// reading standard input, whose end would stop it), with `extra` arguments (`-tls1`,
/// `-cipher ...`, `-Verify 1`).
pub fn s_server(dir: &Path, extra: &[&str]) -> SServer {
    let mut child = Command::new("openssl")
        .args([
            "s_server",
            "-www",
            "-accept",
            "127.0.0.1:0",
            "-cert",
            "cert.pem",
            "-key",
            "key.pem",
        ])
        .args(extra)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("openssl s_server starts");
    let mut lines = BufReader::new(child.stdout.take().expect("piped")).lines();
    let port = loop {
        let line = lines
            .next()
            .expect("s_server says where it listens")
            .expect("its output reads");
        if let Some(address) = line.strip_prefix("ACCEPT ") {
            break address
                .rsplit(':')
                .next()
                .and_then(|p| p.parse().ok())
                .expect("a port");
        }
    };
    std::thread::spawn(move || lines.for_each(drop));
    SServer {
        _child: crate::Reaped(child),
        port,
    }
}
