//! The receiving end of `scp -t`, for a BroadWorks node: the files an admin copies to it
//! before `updateTrust` (seed 003).

use crate::Fleet;

/// Largest file `scp` may copy here.
const MAX_FILE: usize = 64 * 1024;

/// The receiving end of `scp -t <path>` (its sink protocol): one file, kept in the node's
/// state at `path` (or `path/<name>` when `path` ends with `/`).
pub(crate) async fn sink(
    fleet: &Fleet,
    node: usize,
    channel: &mut russh::Channel<russh::server::Msg>,
    path: &str,
) {
    use russh::ChannelMsg;
    if channel.data(&[0u8][..]).await.is_err() {
        return;
    }
    let mut buf: Vec<u8> = Vec::new();
    let mut header: Option<(usize, String)> = None;
    loop {
        let Ok(Some(message)) =
            tokio::time::timeout(std::time::Duration::from_secs(10), channel.wait()).await
        else {
            return;
        };
        let ChannelMsg::Data { data } = message else {
            if matches!(message, ChannelMsg::Eof | ChannelMsg::Close) {
                return;
            }
            continue;
        };
        buf.extend_from_slice(&data);
        if header.is_none() {
            let Some(end) = buf.iter().position(|b| *b == b'\n') else {
                continue;
            };
            let line = String::from_utf8_lossy(&buf[..end]).into_owned();
            buf.drain(..=end);
            let mut words = line.split(' ');
            let (Some(_mode), Some(size), Some(name)) = (
                words.next().and_then(|w| w.strip_prefix('C')),
                words.next().and_then(|w| w.parse::<usize>().ok()),
                words.next(),
            ) else {
                let _ = channel.data(&b"\x01scp: protocol error\n"[..]).await;
                return;
            };
            if size > MAX_FILE {
                let _ = channel.data(&b"\x01scp: file too large\n"[..]).await;
                return;
            }
            header = Some((size, name.to_owned()));
            if channel.data(&[0u8][..]).await.is_err() {
                return;
            }
        }
        if let Some((size, name)) = &header {
            if buf.len() < size + 1 {
                continue;
            }
            let text = String::from_utf8_lossy(&buf[..*size]).into_owned();
            let target = if path.ends_with('/') {
                format!("{path}{name}")
            } else {
                path.to_owned()
            };
            fleet.edit(node, |s| {
                s.broadworks.files.insert(target, text);
            });
            let _ = channel.data(&[0u8][..]).await;
            let _ = channel.exit_status(0).await;
            let _ = channel.eof().await;
            let _ = channel.close().await;
            return;
        }
    }
}
