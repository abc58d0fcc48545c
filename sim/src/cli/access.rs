//! Who may reach the node: reverse-proxy allowed hosts and config URIs, frame-ancestors, CORS,
//! and the interactive delete menus they share.

use super::*;

impl Cli {
    pub(super) async fn reverse_proxy(&mut self, words: &[&str]) -> String {
        let node = self.node;
        match words {
            ["allowed-hosts", "add", sources] => {
                let mut text = String::new();
                for source in sources.split(',').filter(|s| !s.is_empty()) {
                    if self.fleet.resolves(source).await {
                        // Finesse adds the host's frame-ancestors entry by itself (seed 004) and
                        // leaves it when the host is deleted.
                        let finesse = self.fleet.spec_of(node).is_finesse();
                        self.fleet.edit(node, |s| {
                            if !s.allowed_hosts.iter().any(|h| h == source) {
                                s.allowed_hosts.push(source.to_owned());
                            }
                            let frame = if source.contains(':') {
                                format!("https://[{source}]")
                            } else {
                                format!("https://{source}")
                            };
                            if finesse && !s.frame_access.contains(&frame) {
                                s.frame_access.push(frame);
                            }
                        });
                        text.push_str(&format!("Source {source} successfully added\n"));
                    } else {
                        text.push_str(&format!("Either IPv4 address or hostname is invalid or is not resolvable. Now validating IPv6 address for source {source}\nOperation failed, please enter valid source(s). Source {source} is invalid\n\n"));
                        return text;
                    }
                }
                text + &format!("\n{RESTART_PROXY}: utils service restart {WEB_PROXY}\n\n")
            }
            ["allowed-hosts", "list"] => source_list(&self.fleet.read(node, |s| s.allowed_hosts.clone())),
            ["allowed-hosts", "delete"] => {
                let items = self.fleet.read(node, |s| s.allowed_hosts.clone());
                self.menu(Menu::AllowedHosts, items)
            }
            ["client-auth", "status"] => format!(
                "SSL certificate verification for connections established from reverse proxy hosts is {}\n",
                if self.fleet.read(node, |s| s.client_auth) { "enabled" } else { "disabled" }
            ),
            ["client-auth", what @ ("enable" | "disable")] => {
                let on = *what == "enable";
                self.fleet.edit(node, |s| s.client_auth = on);
                format!(
                    "SSL certificate verification {what}d for connections established from reverse proxy hosts\n\n{RESTART_PROXY}:\nutils service restart {WEB_PROXY}\n\n"
                )
            }
            ["config-uri", "list"] => source_list(&self.fleet.read(node, |s| s.config_uris.clone())),
            ["config-uri", "add", uri] => {
                let refused = |why: &str| {
                    format!("Operation failed, please enter valid source(s). Source {uri} is invalid\n{why}\n")
                };
                // Inferred wording for both refusals; the documentation shows only that a URI
                // which does not serve a valid map is refused.
                if self.fleet.read(node, |s| s.config_uris.len()) >= 2 {
                    return refused("At most 2 config-uri sources can be configured.");
                }
                match self.fleet.fetch_map(node, uri).await {
                    Ok(map) => {
                        self.fleet.edit(node, |s| {
                            s.config_uris.push(uri.to_string());
                            s.update_frequency.get_or_insert(1);
                            if s.config_uris.len() == 1 {
                                s.proxy_map = map;
                            }
                        });
                        format!("Source {uri} successfully added\n")
                    }
                    Err(why) => refused(&why),
                }
            }
            ["config-uri", "delete"] => {
                let items = self.fleet.read(node, |s| s.config_uris.clone());
                self.menu(Menu::ConfigUri, items)
            }
            ["show-config-update-frequency"] => match self.fleet.read(node, |s| s.update_frequency) {
                None => "No config-uri configured\n".into(),
                Some(1) => "1 minute\n".into(),
                Some(n) => format!("{n} minutes\n"),
            },
            ["set-config-update-frequency", minutes] => match minutes.parse::<u32>() {
                Ok(n) if (1..=1440).contains(&n) => {
                    self.fleet.edit(node, |s| s.update_frequency = Some(n));
                    String::new()
                }
                // Inferred wording.
                _ => format!("Invalid frequency {minutes}: enter a number of minutes from 1 to 1440\n"),
            },
            ["show-proxy-config-map"] => {
                let map = self.fleet.read(node, |s| s.proxy_map.clone());
                map.iter().map(|l| format!("{l}\n")).collect::<String>() + if map.is_empty() { "" } else { "\n" }
            }
            _ => unknown(),
        }
    }

    pub(super) fn frame_access(&mut self, words: &[&str]) -> String {
        let node = self.node;
        match words {
            ["list"] => {
                let list = self.fleet.read(node, |s| s.frame_access.clone());
                if list.is_empty() {
                    return "No source is configured in the frame access list\n".into();
                }
                let mut text = String::from(
                    "The following source(s) are configured in the frame access list:\n",
                );
                for (i, source) in list.iter().enumerate() {
                    text.push_str(&format!("{}: {source}\n", i + 1));
                }
                text
            }
            ["add", sources] => {
                let sources: Vec<&str> = sources.split(',').filter(|s| !s.is_empty()).collect();
                if let Some(bad) = sources.iter().find(|s| !frame_source_valid(s)) {
                    return format!(
                        "Operation failed, please enter valid source(s). Source {bad} is invalid\n"
                    );
                }
                let total: usize = self
                    .fleet
                    .read(node, |s| s.frame_access.iter().map(|f| f.len() + 1).sum());
                if total + sources.iter().map(|s| s.len() + 1).sum::<usize>() > 2000 {
                    return "Operation failed, the frame access list can hold at most 2000 characters\n".into();
                }
                self.fleet.edit(node, |s| {
                    for source in &sources {
                        if !s.frame_access.iter().any(|f| f == source) {
                            s.frame_access.push(source.to_string());
                        }
                    }
                });
                if self.fleet.spec_of(node).is_finesse() {
                    "Source(s) successfully added.\nEnsure Source(s) is added to the frame access list in all Finesse nodes in the cluster.\nRestart Cisco Finesse Tomcat and Cisco Finesse Notification Service for the changes to take effect:\nutils service restart Cisco Finesse Tomcat\nutils service restart Cisco Finesse Notification Service\n".into()
                } else {
                    // CUIC's command is not documented publicly: Finesse's shape, inferred.
                    "Source(s) successfully added.\nRestart Intelligence Center Reporting Service for the changes to take effect:\nutils service restart Intelligence Center Reporting Service\n".into()
                }
            }
            ["delete"] => {
                let items = self.fleet.read(node, |s| s.frame_access.clone());
                self.menu(Menu::Frame, items)
            }
            _ => unknown(),
        }
    }

    /// `utils <product> cors ...`: outputs inferred (not documented publicly).
    pub(super) fn cors(&mut self, product: Product, words: &[&str]) -> String {
        let node = self.node;
        let key = product.key().to_owned();
        let name = product.name();
        let cors = self
            .fleet
            .read(node, |s| s.cors.get(&key).cloned().unwrap_or_default());
        let set =
            |fleet: &Fleet, cors: Cors| fleet.edit(node, |s| s.cors.insert(key.clone(), cors));
        match words {
            ["status"] => match cors.mode {
                CorsMode::EnableAll => format!("{name} CORS is enabled for all origins\n"),
                CorsMode::Enable => format!("{name} CORS is enabled\n"),
                CorsMode::Disable => format!("{name} CORS is disabled\n"),
            },
            [what @ ("enable" | "enable_all" | "disable")] => {
                let mode = match *what {
                    "enable" => CorsMode::Enable,
                    "enable_all" => CorsMode::EnableAll,
                    _ => CorsMode::Disable,
                };
                set(&self.fleet, Cors { mode, ..cors });
                format!(
                    "{name} CORS {}d successfully.\n",
                    what.trim_end_matches("_all")
                )
            }
            ["allowed_origin", "list"] => {
                if cors.origins.is_empty() {
                    return "No origin is configured\n".into();
                }
                let mut text = String::from("The following origin(s) are configured:\n");
                for (i, origin) in cors.origins.iter().enumerate() {
                    text.push_str(&format!("{}: {origin}\n", i + 1));
                }
                text
            }
            ["allowed_origin", "add", origins] => {
                let origins: Vec<&str> = origins.split(',').filter(|s| !s.is_empty()).collect();
                if let Some(bad) = origins.iter().find(|o| {
                    **o == "*" || !(o.starts_with("https://") || o.starts_with("http://"))
                }) {
                    return format!(
                        "Operation failed, please enter valid origin(s). Origin {bad} is invalid\n"
                    );
                }
                let mut next = cors.clone();
                for origin in origins {
                    if !next.origins.iter().any(|o| o == origin) {
                        next.origins.push(origin.to_owned());
                    }
                }
                if next.origins.iter().map(|o| o.len() + 1).sum::<usize>() > 4000 {
                    return "Operation failed, the allowed origins can hold at most 4000 characters\n".into();
                }
                set(&self.fleet, next);
                "Origin(s) successfully added.\n".into()
            }
            ["allowed_origin", "delete"] => self.menu(Menu::Origins(product), cors.origins),
            _ => unknown(),
        }
    }

    /// A delete menu in the shape its command uses.
    pub(super) fn menu(&mut self, menu: Menu, items: Vec<String>) -> String {
        if items.is_empty() {
            return match menu {
                Menu::AllowedHosts | Menu::ConfigUri => {
                    "Currently no source is configured\n".into()
                }
                Menu::Frame => "No source is configured in the frame access list\n".into(),
                Menu::Origins(_) => "No origin is configured\n".into(),
            };
        }
        let n = items.len();
        let mut text = String::new();
        match menu {
            Menu::AllowedHosts => {
                text.push_str("Select the reverse-proxy source IP to delete:\n");
                for (i, item) in items.iter().enumerate() {
                    text.push_str(&format!(" {}) {item}\n", i + 1));
                }
                text.push_str(&format!(
                    " {}) all\n {}) quit\nPlease select an option (1 - {} or \"q\" ): ",
                    n + 1,
                    n + 2,
                    n + 2
                ));
            }
            Menu::ConfigUri => {
                text.push_str("Select the reverse-proxy source URI to delete:\n");
                for (i, item) in items.iter().enumerate() {
                    text.push_str(&format!(" {}) {item}\n", i + 1));
                }
                text.push_str(&format!(
                    " {}) all\n q) quit\nPlease select an option (1 - {} or \"q\" ): ",
                    n + 1,
                    n + 1
                ));
            }
            Menu::Frame | Menu::Origins(_) => {
                for (i, item) in items.iter().enumerate() {
                    text.push_str(&format!("{}: {item}\n", i + 1));
                }
                let what = if matches!(menu, Menu::Frame) {
                    "source"
                } else {
                    "origin(s)"
                };
                text.push_str(&format!(
                    "a: all\nq: quit\nSelect the index of {what} to be deleted [1-{n} or a,q]: "
                ));
            }
        }
        self.pending = Some(Pending::Menu(menu, items));
        text
    }

    pub(super) fn choose(&mut self, menu: Menu, items: Vec<String>, answer: &str) -> String {
        let n = items.len();
        let numbered_all = matches!(menu, Menu::AllowedHosts | Menu::ConfigUri);
        let chosen: Option<Vec<String>> = match answer.parse::<usize>() {
            Ok(i) if (1..=n).contains(&i) => Some(vec![items[i - 1].clone()]),
            Ok(i) if numbered_all && i == n + 1 => Some(items.clone()),
            Ok(i) if matches!(menu, Menu::AllowedHosts) && i == n + 2 => None,
            _ if answer == "a" && !numbered_all => Some(items.clone()),
            _ if answer == "q" => None,
            _ => return "Invalid option\n".into(),
        };
        let Some(chosen) = chosen else {
            return String::new();
        };
        let remove = |list: &mut Vec<String>| list.retain(|x| !chosen.contains(x));
        match menu {
            Menu::AllowedHosts => {
                self.fleet.edit(self.node, |s| remove(&mut s.allowed_hosts));
                "Delete operation successful\n\n".into()
            }
            Menu::ConfigUri => {
                self.fleet.edit(self.node, |s| remove(&mut s.config_uris));
                "Delete operation successful\n".into()
            }
            Menu::Frame => {
                self.fleet.edit(self.node, |s| remove(&mut s.frame_access));
                "Sources deleted successfully.\n".into()
            }
            Menu::Origins(product) => {
                self.fleet.edit(self.node, |s| {
                    remove(&mut s.cors.entry(product.key().to_owned()).or_default().origins)
                });
                "Origin(s) deleted successfully.\n".into()
            }
        }
    }
}

fn source_list(sources: &[String]) -> String {
    if sources.is_empty() {
        return "Currently no source is configured\n".into();
    }
    let mut text = String::from("The following source(s) are configured:\n");
    for (i, source) in sources.iter().enumerate() {
        text.push_str(&format!("{}. {source}\n", i + 1));
    }
    text + "\n"
}

/// `https://fqdn[:port]` or `https://IP[:port]`, `*` allowed in host and port.
fn frame_source_valid(source: &str) -> bool {
    let Some(rest) = source.strip_prefix("https://") else {
        return false;
    };
    let (host, port) = rest.split_once(':').unwrap_or((rest, "443"));
    !host.is_empty()
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '*'))
        && (port == "*" || port.parse::<u16>().is_ok_and(|p| p > 0))
}
