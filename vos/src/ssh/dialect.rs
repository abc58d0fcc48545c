//! The two CLIs the SSH driver speaks, told apart by their prompts.

use super::PROMPT;

/// Which CLI answers on the other end: VOS's `admin:` or BroadWorks' `XSP_CLI/...>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dialect {
    #[default]
    Vos,
    /// An XSP|ADP or AS: the account's shell is the BroadWorks CLI (`bwcli`); commands run in
    /// contexts (`cd /Interface/CTI/CTIServer`) and files are copied by SCP.
    BroadWorks,
}

impl Dialect {
    /// Where the prompt starts when `tail` (the output so far, trailing blanks removed) ends
    /// with one.
    pub(crate) fn prompt_at(self, tail: &str) -> Option<usize> {
        match self {
            Dialect::Vos => {
                let at = tail.len().checked_sub(PROMPT.len())?;
                (tail.ends_with(PROMPT) && (at == 0 || tail[..at].ends_with(['\n', '\r'])))
                    .then_some(at)
            }
            Dialect::BroadWorks => {
                let at = tail.rfind(['\n', '\r']).map_or(0, |i| i + 1);
                is_bw_prompt(&tail[at..]).then_some(at)
            }
        }
    }
}

/// `XSP_CLI>`, `ADP_CLI/Interface/CTI/CTIServer>`, `AS_CLI/System/ClientIdentity>`.
fn is_bw_prompt(line: &str) -> bool {
    let Some(body) = line.strip_suffix('>') else {
        return false;
    };
    let mut parts = body.split('/');
    let server = parts.next().unwrap_or_default();
    server
        .strip_suffix("_CLI")
        .is_some_and(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_uppercase()))
        && parts.all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

#[cfg(test)]
mod tests {
    use super::Dialect;

    #[test]
    fn each_cli_ends_with_its_own_prompt() {
        assert_eq!(Dialect::Vos.prompt_at("Source added\nadmin:"), Some(13));
        assert_eq!(Dialect::Vos.prompt_at("admin:"), Some(0));
        assert_eq!(Dialect::Vos.prompt_at("not admin:"), None);
        let bw = Dialect::BroadWorks;
        assert_eq!(
            bw.prompt_at("...Done\r\nXSP_CLI/Interface/CTI/CTIServer>"),
            Some(9)
        );
        assert_eq!(bw.prompt_at("AS_CLI>"), Some(0));
        for no in [
            "XSP_CLI/Inter face>",
            "xsp_cli>",
            "_CLI>",
            "XSP_CLI//>",
            "  10.0.0.1  8012",
        ] {
            assert_eq!(bw.prompt_at(no), None, "{no:?}");
        }
    }
}
