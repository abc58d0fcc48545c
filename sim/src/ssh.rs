//! The SSH server of a simulated node: password authentication with the node's platform admin
//! account, an interactive shell (pty) running the [`Cli`], with VOS's algorithms only
//! (diffie-hellman-group14, aes-ctr, hmac-sha2-256, an RSA host key).

use crate::broadworks::BwCli;
use crate::cli::{Cli, Out};
use crate::fleet::NodeSpec;
use crate::{Error, Fleet};
use russh::keys::{decode_secret_key, HashAlg};
use russh::server::{Auth, Config, Msg, Session};
use russh::{Channel, ChannelId, ChannelMsg, Preferred};
use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// What VOS offers: no curve25519, no chacha20, no GCM, no ETM MACs.
const VOS_PREFERRED: Preferred = Preferred {
    kex: Cow::Borrowed(&[
        russh::kex::DH_G14_SHA256,
        russh::kex::DH_G14_SHA1,
        russh::kex::EXTENSION_SUPPORT_AS_SERVER,
    ]),
    key: Cow::Borrowed(&[
        russh::keys::Algorithm::Rsa {
            hash: Some(HashAlg::Sha256),
        },
        russh::keys::Algorithm::Rsa {
            hash: Some(HashAlg::Sha512),
        },
        russh::keys::Algorithm::Rsa { hash: None },
    ]),
    host_key_certificates: Cow::Borrowed(&[]),
    cipher: Cow::Borrowed(&[
        russh::cipher::AES_256_CTR,
        russh::cipher::AES_192_CTR,
        russh::cipher::AES_128_CTR,
    ]),
    mac: Cow::Borrowed(&[russh::mac::HMAC_SHA256]),
    compression: Cow::Borrowed(&[russh::compression::NONE]),
};

pub(crate) fn config(node: &NodeSpec, host_key_pem: &str) -> Result<Arc<Config>, Error> {
    let key = decode_secret_key(host_key_pem, None).map_err(|e| Error::Node {
        fqdn: node.fqdn.clone(),
        message: format!("host key: {e}"),
    })?;
    Ok(Arc::new(Config {
        server_id: russh::SshId::Standard("SSH-2.0-OpenSSH_7.4".into()),
        keys: vec![key],
        methods: russh::MethodSet::from(&[russh::MethodKind::Password][..]),
        preferred: VOS_PREFERRED,
        auth_rejection_time: Duration::from_millis(300),
        auth_rejection_time_initial: Some(Duration::ZERO),
        inactivity_timeout: Some(Duration::from_secs(1800)),
        nodelay: true,
        ..Default::default()
    }))
}

/// `SHA256:...` as OpenSSH prints it.
pub(crate) fn fingerprint(host_key_pem: &str) -> String {
    decode_secret_key(host_key_pem, None)
        .map(|k| k.public_key().fingerprint(HashAlg::Sha256).to_string())
        .unwrap_or_default()
}

pub(crate) async fn serve(fleet: Arc<Fleet>, node: usize, listener: TcpListener) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let faults = fleet.faults(node);
        if faults.down {
            drop(stream);
            continue;
        }
        let _ = stream.set_nodelay(true);
        let fleet = fleet.clone();
        tokio::spawn(async move {
            if faults.latency_ms > 0 {
                tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
            }
            let config = fleet.ssh_config(node);
            fleet.count_ssh(node, true);
            let handler = Connection {
                fleet: fleet.clone(),
                node,
            };
            if let Ok(session) = russh::server::run_stream(config, stream, handler).await {
                let _ = session.await;
            }
            fleet.count_ssh(node, false);
        });
    }
}

struct Connection {
    fleet: Arc<Fleet>,
    node: usize,
}

impl russh::server::Handler for Connection {
    type Error = russh::Error;

    async fn auth_password(&mut self, user: &str, password: &str) -> Result<Auth, Self::Error> {
        let spec = self.fleet.spec_of(self.node);
        let ok = !self.fleet.faults(self.node).auth_failure
            && user == spec.username
            && password == spec.password;
        Ok(if ok { Auth::Accept } else { Auth::reject() })
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: russh::server::ChannelOpenHandle,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        reply.accept().await;
        let handle = session.handle();
        tokio::spawn(shell(self.fleet.clone(), self.node, channel, handle));
        Ok(())
    }

    async fn pty_request(
        &mut self,
        channel: ChannelId,
        _term: &str,
        _cols: u32,
        _rows: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)
    }

    /// VOS has no exec: only the interactive CLI. A BroadWorks node takes `scp -t` (files
    /// copied to it: `shell` receives them).
    async fn exec_request(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if self.fleet.spec_of(self.node).kind == "broadworks" && data.starts_with(b"scp -t ") {
            session.channel_success(channel)
        } else {
            session.channel_failure(channel)
        }
    }
}

/// One shell: line editing and echo as a terminal would see them, each line run by the CLI.
async fn shell(
    fleet: Arc<Fleet>,
    node: usize,
    mut channel: Channel<Msg>,
    handle: russh::server::Handle,
) {
    let mut cli = Console::of(&fleet, node);
    let mut line: Vec<u8> = Vec::new();
    let mut last = 0u8;
    while let Some(message) = channel.wait().await {
        let data = match message {
            ChannelMsg::RequestShell { .. } => {
                if send(&channel, &cli.banner()).await.is_err() {
                    return;
                }
                continue;
            }
            ChannelMsg::Exec { command, .. } => {
                let command = String::from_utf8_lossy(&command).into_owned();
                if let Some(path) = command.strip_prefix("scp -t ") {
                    crate::scp::sink(&fleet, node, &mut channel, path.trim()).await;
                }
                return;
            }
            ChannelMsg::Data { data } => data,
            ChannelMsg::Eof | ChannelMsg::Close => return,
            _ => continue,
        };
        for &byte in data.iter() {
            let previous = std::mem::replace(&mut last, byte);
            let input = if cli.wants_key() {
                String::from(byte as char)
            } else {
                match byte {
                    b'\n' if previous == b'\r' => continue,
                    b'\r' | b'\n' => {
                        if send(&channel, "\n").await.is_err() {
                            return;
                        }
                        String::from_utf8_lossy(&std::mem::take(&mut line)).into_owned()
                    }
                    0x7f | 0x08 => {
                        if line.pop().is_some() && send(&channel, "\x08 \x08").await.is_err() {
                            return;
                        }
                        continue;
                    }
                    0x03 => {
                        line.clear();
                        if send(&channel, &format!("^C\n{}", cli.prompt()))
                            .await
                            .is_err()
                        {
                            return;
                        }
                        continue;
                    }
                    _ => {
                        line.push(byte);
                        if channel.data_bytes(vec![byte]).await.is_err() {
                            return;
                        }
                        continue;
                    }
                }
            };
            let faults = fleet.faults(node);
            let starts = |prefix: &str| !prefix.is_empty() && input.trim().starts_with(prefix);
            let dropped = faults.drop_mid_command || starts(&faults.drop_on_command);
            if dropped && !input.trim().is_empty() && !cli.reading_paste() {
                return lose_connection(&handle).await;
            }
            if faults.latency_ms > 0 {
                tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
            }
            let Some(mut outs) = cli.input(&input).await else {
                let _ = channel.eof().await;
                let _ = channel.close().await;
                return;
            };
            if starts(&faults.drop_after_command) {
                return lose_connection(&handle).await;
            }
            if faults.garbled && !input.trim().is_empty() {
                outs = vec![Out::Text(format!(
                    "Befehl nicht erkannt: {}\n{}",
                    input.trim(),
                    cli.prompt()
                ))];
            }
            if faults.huge_output_kb > 0 {
                let line = format!("{}\n", "#".repeat(1023));
                outs.insert(0, Out::Text(line.repeat(faults.huge_output_kb as usize)));
            }
            for out in outs {
                let sent = match out {
                    Out::Text(text) => send(&channel, &text).await,
                    Out::Sleep(pause) => {
                        tokio::time::sleep(pause).await;
                        Ok(())
                    }
                };
                if sent.is_err() {
                    return;
                }
            }
        }
    }
}

/// The CLI of the node's kind: VOS's, or BroadWorks'.
enum Console {
    Vos(Cli),
    BroadWorks(BwCli),
}

impl Console {
    fn of(fleet: &Arc<Fleet>, node: usize) -> Self {
        match fleet.spec_of(node).kind.as_str() {
            "broadworks" => Console::BroadWorks(BwCli::new(fleet.clone(), node)),
            _ => Console::Vos(Cli::new(fleet.clone(), node)),
        }
    }
    fn banner(&self) -> String {
        match self {
            Console::Vos(cli) => cli.banner(),
            Console::BroadWorks(cli) => cli.banner(),
        }
    }
    fn prompt(&self) -> String {
        match self {
            Console::Vos(_) => crate::cli::PROMPT.to_owned(),
            Console::BroadWorks(cli) => cli.prompt(),
        }
    }
    fn wants_key(&self) -> bool {
        matches!(self, Console::Vos(cli) if cli.wants_key())
    }
    fn reading_paste(&self) -> bool {
        matches!(self, Console::Vos(cli) if cli.reading_paste())
    }
    async fn input(&mut self, line: &str) -> Option<Vec<Out>> {
        match self {
            Console::Vos(cli) => cli.input(line).await,
            Console::BroadWorks(cli) => cli.input(line).map(|text| vec![Out::Text(text)]),
        }
    }
}

/// Text as a terminal receives it: CRLF line ends.
async fn send(channel: &Channel<Msg>, text: &str) -> Result<(), russh::Error> {
    if text.is_empty() {
        return Ok(());
    }
    channel
        .data_bytes(text.replace('\n', "\r\n").into_bytes())
        .await
}

/// Drops the connection as a network fault would (the `drop_*` faults).
async fn lose_connection(handle: &russh::server::Handle) {
    let _ = handle
        .disconnect(
            russh::Disconnect::ByApplication,
            "connection lost".into(),
            String::new(),
        )
        .await;
}
