//! The simulator's CLI prints the documented transcripts (DOMAIN.md §4) byte for byte: each
//! test types the documented commands and compares the whole session, prompts included.

use sim::cli::{Cli, Out};
use sim::fleet::FleetSpec;

const FLEET: &str = r#"
[hosts]
"proxy.xyz.com" = "10.78.95.179"
"proxy125.xyz.com" = "10.78.95.180"

[[cluster]]
name = "A"

[[cluster.node]]
fqdn = "finesse1.internal.com"
kind = "finesse"
password = "pw"
restart_ms = 30
connected_users = { desktop = 1, fippa = 2, third_party = 3, proxy = 1 }
"#;

/// The session as the terminal shows it (without the echo's CR): `admin:`, each line typed,
/// then what the CLI printed.
async fn session(lines: &[&str]) -> String {
    let spec: FleetSpec = toml::from_str(FLEET).unwrap();
    let fleet = sim::Fleet::new(spec, None).unwrap();
    let mut cli = Cli::new(fleet, 0);
    let mut shown = String::from("admin:");
    for line in lines {
        shown.push_str(line);
        shown.push('\n');
        for out in cli.input(line).await.unwrap() {
            if let Out::Text(text) = out {
                shown.push_str(&text);
            }
        }
    }
    shown
}

#[tokio::test]
async fn allowed_hosts_add_refuse_list_delete() {
    let shown = session(&[
        "utils system reverse-proxy allowed-hosts add 10.78.95.178",
        "utils system reverse-proxy allowed-hosts add proxy.xyz.com",
        "utils system reverse-proxy allowed-hosts add group.facebook",
        "utils system reverse-proxy allowed-hosts add proxy125.xyz.com",
        "utils system reverse-proxy allowed-hosts list",
        "utils system reverse-proxy allowed-hosts delete",
        "1",
    ])
    .await;
    // The documentation shows the restart hint after the second add only; the simulator
    // prints it after every successful add (the parser takes both).
    assert_eq!(
        shown,
        "admin:utils system reverse-proxy allowed-hosts add 10.78.95.178
Source 10.78.95.178 successfully added

Restart Cisco Web Proxy Service for the changes to take effect: utils service restart Cisco Web Proxy Service

admin:utils system reverse-proxy allowed-hosts add proxy.xyz.com
Source proxy.xyz.com successfully added

Restart Cisco Web Proxy Service for the changes to take effect: utils service restart Cisco Web Proxy Service

admin:utils system reverse-proxy allowed-hosts add group.facebook
Either IPv4 address or hostname is invalid or is not resolvable. Now validating IPv6 address for source group.facebook
Operation failed, please enter valid source(s). Source group.facebook is invalid

admin:utils system reverse-proxy allowed-hosts add proxy125.xyz.com
Source proxy125.xyz.com successfully added

Restart Cisco Web Proxy Service for the changes to take effect: utils service restart Cisco Web Proxy Service

admin:utils system reverse-proxy allowed-hosts list
The following source(s) are configured:
1. 10.78.95.178
2. proxy.xyz.com
3. proxy125.xyz.com

admin:utils system reverse-proxy allowed-hosts delete
Select the reverse-proxy source IP to delete:
 1) 10.78.95.178
 2) proxy.xyz.com
 3) proxy125.xyz.com
 4) all
 5) quit
Please select an option (1 - 5 or \"q\" ): 1
Delete operation successful

admin:"
    );
}

#[tokio::test]
async fn client_auth_config_uri_and_update_frequency() {
    // Enabled on a fresh node (seeds 001, 004); the guide's status example is of a node where
    // it had been disabled, as here.
    let shown = session(&[
        "utils system reverse-proxy client-auth disable",
        "utils system reverse-proxy client-auth status",
        "utils system reverse-proxy client-auth enable",
        "utils system reverse-proxy config-uri list",
        "utils system reverse-proxy show-config-update-frequency",
        "utils system reverse-proxy set-config-update-frequency 5",
        "utils system reverse-proxy show-config-update-frequency",
    ])
    .await;
    assert_eq!(
        shown,
        "admin:utils system reverse-proxy client-auth disable
SSL certificate verification disabled for connections established from reverse proxy hosts

Restart Cisco Web Proxy Service for the changes to take effect:
utils service restart Cisco Web Proxy Service

admin:utils system reverse-proxy client-auth status
SSL certificate verification for connections established from reverse proxy hosts is disabled
admin:utils system reverse-proxy client-auth enable
SSL certificate verification enabled for connections established from reverse proxy hosts

Restart Cisco Web Proxy Service for the changes to take effect:
utils service restart Cisco Web Proxy Service

admin:utils system reverse-proxy config-uri list
Currently no source is configured
admin:utils system reverse-proxy show-config-update-frequency
No config-uri configured
admin:utils system reverse-proxy set-config-update-frequency 5
admin:utils system reverse-proxy show-config-update-frequency
5 minutes
admin:"
    );
}

#[tokio::test]
async fn connected_users_and_frame_access() {
    let shown = session(&[
        "utils finesse show_connected_users summary",
        "utils finesse frame_access_allowed_list add https://www.abc.com:8445,https://*.abc.com",
        "utils finesse frame_access_allowed_list list",
        "utils finesse frame_access_allowed_list delete",
        "1",
    ])
    .await;
    assert_eq!(
        shown,
        "admin:utils finesse show_connected_users summary

Total Connected Users: 6

Desktop Users: 1
FIPPA Users: 2
Third-party Users: 3

Users connected to Finesse via LAN/WAN: 5
Users connected to Finesse via Proxy: 1

To view the complete list of signed-in users, log in to the Cisco Finesse
Administration Console, and navigate to the Connected Agents tab.
admin:utils finesse frame_access_allowed_list add https://www.abc.com:8445,https://*.abc.com
Source(s) successfully added.
Ensure Source(s) is added to the frame access list in all Finesse nodes in the cluster.
Restart Cisco Finesse Tomcat and Cisco Finesse Notification Service for the changes to take effect:
utils service restart Cisco Finesse Tomcat
utils service restart Cisco Finesse Notification Service
admin:utils finesse frame_access_allowed_list list
The following source(s) are configured in the frame access list:
1: https://www.abc.com:8445
2: https://*.abc.com
admin:utils finesse frame_access_allowed_list delete
1: https://www.abc.com:8445
2: https://*.abc.com
a: all
q: quit
Select the index of source to be deleted [1-2 or a,q]: 1
Sources deleted successfully.
admin:"
    );
}

#[tokio::test]
async fn regen_and_restart() {
    let shown = session(&[
        "set cert regen tomcat",
        "yes",
        "utils service restart Cisco Finesse Tomcat",
    ])
    .await;
    assert_eq!(
        shown,
        "admin:set cert regen tomcat
WARNING: This operation will overwrite any CA signed certificate previously imported for  tomcat
Proceed with regeneration (yes|no)? yes
Successfully Regenerated Certificate for tomcat.
You must restart services related to tomcat for the regenerated certificates to become active.
admin:utils service restart Cisco Finesse Tomcat
 Don't press Ctrl-c while the service is getting RESTARTED.If Service has not Restarted Properly, execute the same Command Again
Service Manager is running
Cisco Finesse Tomcat[STOPPING]
Cisco Finesse Tomcat[STARTING]
Cisco Finesse Tomcat[STARTED]
admin:"
    );
}

#[tokio::test]
async fn pagination_stops_long_output_until_turned_off() {
    let spec: FleetSpec = toml::from_str(FLEET).unwrap();
    let fleet = sim::Fleet::new(spec, None).unwrap();
    let mut cli = Cli::new(fleet, 0);
    let text = |outs: Vec<Out>| -> String {
        outs.into_iter()
            .filter_map(|o| match o {
                Out::Text(t) => Some(t),
                Out::Sleep(_) => None,
            })
            .collect()
    };
    for i in 0..25 {
        cli.input(&format!(
            "utils system reverse-proxy allowed-hosts add 10.0.0.{i}"
        ))
        .await
        .unwrap();
    }
    let first = text(
        cli.input("utils system reverse-proxy allowed-hosts list")
            .await
            .unwrap(),
    );
    assert!(first.ends_with(vos::PAGINATION_PROMPT), "{first}");
    assert!(cli.wants_key());
    let rest = text(cli.input("q").await.unwrap());
    assert!(rest.ends_with("admin:"));
    text(cli.input("set cli pagination off").await.unwrap());
    let whole = text(
        cli.input("utils system reverse-proxy allowed-hosts list")
            .await
            .unwrap(),
    );
    assert_eq!(
        vos::parse_source_list(whole.trim_end_matches("admin:"))
            .unwrap()
            .len(),
        25
    );
}
