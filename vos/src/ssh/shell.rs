//! One shell's conversation with the `admin:` CLI: a command sent, its output read to the next
//! prompt, pagination paged through and questions answered by the command's plan. What is
//! typed is only ever a [`Line`](crate::driver::Line) or an [`Answer`] (whose bytes they make
//! themselves), a space to page on, or `q` to quit a question the plan cannot answer.

use super::{session_error, Shell};
use crate::driver::{Answer, Command, DriverError};
use russh::ChannelMsg;
use tokio::time::Instant;

/// Output beyond this is not kept: the command is abandoned with an error (no CLI command
/// prints anywhere near it).
pub const MAX_OUTPUT: usize = 8 * 1024 * 1024;

/// Sends one command and reads its output to the next prompt, answering questions by plan.
pub(super) async fn exchange(shell: &mut Shell, command: Command) -> Result<String, DriverError> {
    let deadline = Instant::now() + command.timeout;
    if let Some(context) = &command.context {
        send(shell, context.typed()).await?;
        let raw = read_until_prompt(shell, deadline, Some(context.as_str()), None, None).await?;
        let said = strip_echo(&raw, context.as_str());
        if !crate::normalize(said).is_empty() {
            return Err(DriverError::Output(crate::Error::Rejected {
                input: context.as_str().to_owned(),
                message: said.trim().to_owned(),
            }));
        }
    }
    if let Some(upload) = &command.upload {
        super::scp::send(shell, upload, deadline).await?;
    }
    send(shell, command.line.typed()).await?;
    let raw = read_until_prompt(
        shell,
        deadline,
        Some(command.line.as_str()),
        Some(&command),
        command.progress.as_ref(),
    )
    .await?;
    Ok(strip_echo(&raw, command.line.as_str()).to_owned())
}

/// The output without the terminal's echo of the line typed.
fn strip_echo<'a>(raw: &'a str, line: &str) -> &'a str {
    match raw.split_once('\n') {
        Some((first, rest)) if first.trim_end().ends_with(line.trim()) => rest,
        _ => raw,
    }
}

/// Reads until the output ends with the `admin:` prompt (which is removed). Pagination
/// prompts are paged through; questions are answered by the `command`'s plan (without an
/// answer, quit with `q` and report the question), shown the output after the `echo` of the
/// command line.
pub(super) async fn read_until_prompt(
    shell: &mut Shell,
    deadline: Instant,
    echo: Option<&str>,
    command: Option<&Command>,
    progress: Option<&std::sync::mpsc::Sender<String>>,
) -> Result<String, DriverError> {
    let mut raw = String::new();
    let mut bytes: Vec<u8> = Vec::new();
    // Where the part of the output not yet looked at for a question starts.
    let mut asked_from = 0;
    let mut lines_sent = 0;
    let mut unanswered: Option<String> = None;
    loop {
        let message = match tokio::time::timeout_at(deadline, shell.channel.wait()).await {
            Err(_) => {
                return Err(DriverError::Timeout {
                    after: deadline.saturating_duration_since(Instant::now()),
                    partial: raw,
                })
            }
            Ok(message) => message,
        };
        match message {
            Some(ChannelMsg::Data { data }) | Some(ChannelMsg::ExtendedData { data, .. }) => {
                bytes.extend_from_slice(&data);
                // Decode only whole UTF-8 sequences.
                let valid = match std::str::from_utf8(&bytes) {
                    Ok(_) => bytes.len(),
                    Err(e) if e.error_len().is_none() => e.valid_up_to(),
                    Err(_) => bytes.len(),
                };
                raw.push_str(&String::from_utf8_lossy(&bytes[..valid]));
                bytes.drain(..valid);
                if raw.len() > MAX_OUTPUT {
                    return Err(DriverError::Session(format!(
                        "the output exceeded {} MiB; the command was abandoned",
                        MAX_OUTPUT / (1024 * 1024)
                    )));
                }
            }
            Some(ChannelMsg::Eof | ChannelMsg::Close) | None => {
                return Err(DriverError::Dropped { partial: raw })
            }
            Some(_) => continue,
        }
        if let Some(progress) = progress {
            let complete: Vec<&str> = raw
                .split_inclusive('\n')
                .filter(|l| l.ends_with('\n'))
                .collect();
            for line in &complete[lines_sent.min(complete.len())..] {
                let _ = progress.send(line.trim_end().to_owned());
            }
            lines_sent = complete.len();
        }
        let tail = raw.trim_end_matches([' ', '\t']);
        if let Some(at) = shell.dialect.prompt_at(tail) {
            let out = raw[..at].to_owned();
            return match unanswered {
                Some(question) => Err(DriverError::UnexpectedPrompt { raw: question }),
                None => Ok(out),
            };
        }
        if asked_from == 0 {
            if let Some(line) = echo {
                match raw.split_once('\n') {
                    Some((first, _)) if first.trim_end().ends_with(line.trim()) => {
                        asked_from = first.len() + 1;
                    }
                    // No echo of the command: everything is output.
                    Some(_) => {}
                    // The echo is still arriving: the command's own text (a URI ending in `?`,
                    // say) is no question, and no `q` may be typed after it.
                    None => continue,
                }
            }
        }
        let fresh = &raw[asked_from..];
        if fresh.trim_end().ends_with(crate::PAGINATION_PROMPT) {
            asked_from = raw.len();
            send(shell, b" ".to_vec()).await?;
            continue;
        }
        if is_question(fresh) {
            asked_from = raw.len();
            let answer: Option<Answer> = command.and_then(|command| command.answer(fresh));
            match answer {
                Some(answer) => send(shell, answer.typed()).await?,
                None => {
                    unanswered = Some(fresh.to_owned());
                    send(shell, b"q\n".to_vec()).await?;
                }
            }
        }
    }
}

/// Whether the output so far ends with a question waiting for input.
fn is_question(fresh: &str) -> bool {
    let trimmed = fresh.trim_end_matches([' ', '\t']);
    let last_line = trimmed.rsplit(['\n', '\r']).next().unwrap_or_default();
    let waiting = last_line.ends_with('?')
        || last_line.ends_with("):")
        || last_line.ends_with("]:")
        || last_line.ends_with("? ):")
        || menu_range(last_line);
    let paste = trimmed
        .trim_end_matches(['\r', '\n'])
        .ends_with("Paste the Certificate and Hit Enter")
        && trimmed.ends_with('\n');
    waiting || paste
}

/// A menu's choice range at the end of the line, with or without a colon after it: `[1-4 or
/// a,q]` (the CORS delete prompt as documented has none). A service state such as
/// `Cisco Finesse Tomcat[STARTED]` is not one.
fn menu_range(line: &str) -> bool {
    let line = line.strip_suffix(':').unwrap_or(line);
    let Some(inside) = line.strip_suffix(']').and_then(|l| l.rsplit_once('[')) else {
        return false;
    };
    let Some((range, keys)) = inside.1.split_once(" or ") else {
        return false;
    };
    let numbers = range
        .split_once('-')
        .is_some_and(|(a, b)| a.parse::<u32>().is_ok() && b.parse::<u32>().is_ok());
    numbers
        && keys
            .split(',')
            .all(|k| k.len() == 1 && k.chars().all(|c| c.is_ascii_lowercase()))
}

/// Types `bytes`: made only by [`Line::typed`](crate::driver::Line::typed),
/// [`Answer::typed`] and the two keys above.
async fn send(shell: &mut Shell, bytes: Vec<u8>) -> Result<(), DriverError> {
    shell.channel.data_bytes(bytes).await.map_err(session_error)
}

#[cfg(test)]
mod tests {
    use super::is_question;

    #[test]
    fn documented_questions_are_recognised_with_or_without_a_closing_colon() {
        for question in [
            "Select the reverse-proxy source IP to delete:\n 1) a\n 2) all\n 3) quit\nPlease select an option (1 - 3 or \"q\" ): ",
            "1: https://www.abc.com:8445\na: all\nq: quit\nSelect the index of source to be deleted [1-2 or a,q]: ",
            "1: https://a.xyz.com\na: all\nq: quit\nSelect the index of origin(s) to be deleted [1-4 or a,q]",
            "Select the index of origin(s) to be deleted [1-4 or a,q] ",
            "Proceed with regeneration (yes|no)? ",
            "Paste the Certificate and Hit Enter\n",
        ] {
            assert!(is_question(question), "{question:?}");
        }
    }

    #[test]
    fn output_that_merely_ends_in_brackets_is_not_a_question() {
        for output in [
            "Service Manager is running\nCisco Finesse Tomcat[STOPPING]",
            "Cisco Finesse Tomcat[STARTED]\n",
            "values [1-2]",
            "Source proxy.xyz.com successfully added\n",
        ] {
            assert!(!is_question(output), "{output:?}");
        }
    }
}
