//! The settings a security posture reads: the lowest TLS version the node accepts (`show|set
//! tls min-version`) and Finesse's gadget source allow list (`utils finesse
//! gadget_source_check`). Both outputs are inferred from Cisco's CLI references (no seed
//! shows them); the minimum version's question and answer follow VOS's.

use super::{Cli, Pending};

/// A fresh install's lowest TLS version when the fleet file names none.
pub(crate) const DEFAULT_TLS_MIN: &str = "1.2";

impl Cli {
    pub(super) fn tls_min(&mut self, words: &[&str]) -> String {
        match words {
            ["show", "tls", "min-version"] => format!(
                "Configured TLS minimum version: {}\n",
                self.fleet.tls_min(self.node)
            ),
            ["set", "tls", "min-version", version @ ("1.0" | "1.1" | "1.2" | "1.3")] => {
                self.pending = Some(Pending::TlsMin(version.to_string()));
                format!(
                    "**WARNING** If you are lowering the TLS version it can lead to security issues **WARNING**\n\
                     We recommend you to perform a backup before making any changes.\n\
                     This command will set the minimum TLS to {version}. To make the change effective, the system will reboot automatically.\n\
                     Do you want to continue (yes/no) ? "
                )
            }
            ["set", "tls", "min-version", ..] => {
                "Invalid TLS version. Valid values are 1.0, 1.1, 1.2 and 1.3\n".into()
            }
            _ => super::unknown(),
        }
    }

    /// The answer to `set tls min-version`'s question.
    pub(super) fn tls_min_answer(&mut self, version: &str, answer: &str) -> String {
        match answer {
            "yes" => {
                let version = version.to_owned();
                self.fleet.edit(self.node, |s| s.tls_min = version.clone());
                format!(
                    "Successfully set minimum TLS version to {version}\nThe system will reboot in few minutes.\n"
                )
            }
            "no" => "Operation cancelled\n".into(),
            _ => {
                self.pending = Some(Pending::TlsMin(version.to_owned()));
                "Do you want to continue (yes/no) ? ".into()
            }
        }
    }

    pub(super) fn gadget_source_check(&mut self, what: &str) -> String {
        if what != "status" {
            let on = what == "enable";
            self.fleet.edit(self.node, |s| s.gadget_source_check = on);
        }
        let on = self.fleet.read(self.node, |s| s.gadget_source_check);
        format!(
            "Gadget source check is {}\n",
            if on { "enabled" } else { "disabled" }
        )
    }
}
