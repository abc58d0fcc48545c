//! Copying a file to the node the way `scp` does (its sink protocol over an exec channel of
//! the same SSH session): BroadWorks takes trust anchors from files on the node (seed 003:
//! "Copy both text files to a temporary location on the XSP|ADP").

use super::{session_error, Shell};
use crate::driver::{DriverError, Upload};
use russh::ChannelMsg;
use tokio::time::Instant;

/// Sends `upload` to its path; `Ok` once the node confirmed every step.
pub(super) async fn send(
    shell: &mut Shell,
    upload: &Upload,
    deadline: Instant,
) -> Result<(), DriverError> {
    let contents = upload.contents().map_err(DriverError::Refused)?;
    let mut channel = shell
        .session
        .channel_open_session()
        .await
        .map_err(session_error)?;
    let command = format!("scp -t {}", upload.path().as_str());
    channel
        .exec(true, command.as_bytes())
        .await
        .map_err(session_error)?;
    let refused = |what: &str| DriverError::Session(format!("copying {}: {what}", upload.path()));
    let ready =
        async |channel: &mut russh::Channel<russh::client::Msg>| -> Result<(), DriverError> {
            loop {
                let message = tokio::time::timeout_at(deadline, channel.wait())
                    .await
                    .map_err(|_| refused("no answer in time"))?;
                match message {
                    Some(ChannelMsg::Data { data }) => {
                        return match data.first() {
                            Some(0) => Ok(()),
                            _ => Err(refused(
                                String::from_utf8_lossy(&data[1.min(data.len())..]).trim(),
                            )),
                        }
                    }
                    Some(ChannelMsg::Eof | ChannelMsg::Close) | None => {
                        return Err(refused("the node closed the copy"))
                    }
                    Some(ChannelMsg::Failure) => return Err(refused("the node offers no scp")),
                    Some(_) => continue,
                }
            }
        };
    ready(&mut channel).await?;
    let header = format!("C0644 {} {}\n", contents.len(), upload.name());
    channel
        .data(header.as_bytes())
        .await
        .map_err(session_error)?;
    ready(&mut channel).await?;
    let mut body = contents;
    body.push(0);
    channel.data(&body[..]).await.map_err(session_error)?;
    ready(&mut channel).await?;
    let _ = channel.eof().await;
    let _ = channel.close().await;
    Ok(())
}
