//! The documented transcripts (DOMAIN.md §4), byte for byte, and variations of them.

use super::*;

#[test]
fn an_added_source_and_the_restart_it_asks_for() {
    let ip = "Source 10.78.95.178 successfully added\n";
    assert_eq!(
        parse_source_added(ip, "10.78.95.178"),
        Ok(Changed {
            restart: Vec::new(),
            output: ip.to_owned(),
        })
    );
    let name = "Source proxy.xyz.com successfully added\n\nRestart Cisco Web Proxy Service for the changes to take effect: utils service restart Cisco Web Proxy Service\n";
    assert_eq!(
        parse_source_added(name, "proxy.xyz.com").unwrap().restart,
        ["Cisco Web Proxy Service"]
    );
    // CRLF and trailing spaces, as a terminal may send them.
    let crlf = name.replace('\n', "  \r\n");
    assert_eq!(
        parse_source_added(&crlf, "proxy.xyz.com").unwrap().restart,
        ["Cisco Web Proxy Service"]
    );
}

#[test]
fn a_refused_source_is_a_rejection_naming_it() {
    let raw = "Either IPv4 address or hostname is invalid or is not resolvable. Now validating IPv6 address for source group.facebook\nOperation failed, please enter valid source(s). Source group.facebook is invalid\n";
    match parse_source_added(raw, "group.facebook") {
        Err(Error::Rejected { input, message }) => {
            assert_eq!(input, "group.facebook");
            assert!(message.contains("Operation failed"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_add_answered_otherwise_is_unexpected_not_success() {
    for raw in [
        "",
        "Source other.xyz.com successfully added\n",
        "Executed command unsuccessfully\n",
    ] {
        assert_eq!(
            parse_source_added(raw, "proxy.xyz.com"),
            Err(Error::Unexpected { raw: raw.into() }),
            "{raw:?}"
        );
    }
}

#[test]
fn source_lists_with_and_without_sources() {
    let raw = "The following source(s) are configured:\n1. 10.78.95.178\n2. proxy.xyz.com\n3. proxy125.xyz.com\n";
    assert_eq!(
        parse_source_list(raw).unwrap(),
        ["10.78.95.178", "proxy.xyz.com", "proxy125.xyz.com"]
    );
    assert_eq!(
        parse_source_list("Currently no source is configured\n").unwrap(),
        Vec::<String>::new()
    );
    // Extra blank lines and a pagination prompt are not content.
    let paged = format!("\n{raw}\n{PAGINATION_PROMPT}\n\n");
    assert_eq!(parse_source_list(&paged).unwrap().len(), 3);
    let unknown = "The following source(s) are configured:\n1. a.xyz.com\nsomething else\n";
    assert!(matches!(
        parse_source_list(unknown),
        Err(Error::Unexpected { .. })
    ));
}

#[test]
fn delete_menus_and_their_answers() {
    let hosts = "Select the reverse-proxy source IP to delete:\n 1) 10.78.95.178\n 2) proxy.xyz.com\n 3) proxy125.xyz.com\n 4) all\n 5) quit\nPlease select an option (1 - 5 or \"q\" ): ";
    let menu = parse_menu(hosts).unwrap();
    assert_eq!(menu.len(), 5);
    assert_eq!(menu_key(&menu, "proxy.xyz.com"), Some("2"));
    assert_eq!(menu_key(&menu, "all"), Some("4"));
    assert_eq!(menu_key(&menu, "nothere.xyz.com"), None);

    let uris = "Select the reverse-proxy source URI to delete:\n 1) https://saproxy.xyz.com:10000/proxymap.txt\n 2) all\n q) quit\nPlease select an option (1 - 2 or \"q\" ): ";
    let menu = parse_menu(uris).unwrap();
    assert_eq!(menu_key(&menu, "quit"), Some("q"));
    assert_eq!(
        menu_key(&menu, "https://saproxy.xyz.com:10000/proxymap.txt"),
        Some("1")
    );

    let frames = "1: https://www.abc.com:8445\n2: https://*.abc.com\na: all\nq: quit\nSelect the index of source to be deleted [1-2 or a,q]: ";
    let menu = parse_menu(frames).unwrap();
    assert_eq!(menu_key(&menu, "https://*.abc.com"), Some("2"));
    assert_eq!(menu_key(&menu, "all"), Some("a"));

    assert_eq!(parse_deleted("1\nDelete operation successful\n"), Ok(()));
    assert_eq!(parse_deleted("Sources deleted successfully.\n"), Ok(()));
    assert!(parse_deleted("Invalid option\n").is_err());
    assert!(parse_menu("Select the reverse-proxy source IP to delete:\n").is_err());
}

#[test]
fn delete_menus_as_the_guide_prints_them_blank_lines_and_no_leading_space() {
    let hosts = "Select the reverse-proxy source IP to delete:\n\n1) 10.78.95.178\n2) proxy.xyz.com\n3) proxy125.xyz.com\n4) all\n5) quit\n\nPlease select an option (1 - 5 or \"q\" ): ";
    let menu = parse_menu(hosts).unwrap();
    assert_eq!(menu.len(), 5);
    assert_eq!(menu_key(&menu, "proxy125.xyz.com"), Some("3"));
    let origins = "\r\n1: https://a.xyz.com\r\n\r\n2: https://b.xyz.com:8445\r\na: all\r\nq: quit\r\nSelect the index of origin(s) to be deleted [1-2 or a,q]";
    let menu = parse_menu(origins).unwrap();
    assert_eq!(menu_key(&menu, "https://b.xyz.com:8445"), Some("2"));
    assert_eq!(menu_key(&menu, "all"), Some("a"));
}

#[test]
fn restart_hints_on_one_line_on_two_or_quoted_as_in_the_guide() {
    for text in [
        "Source p.xyz.com successfully added\n\nRestart Cisco Web Proxy Service for the changes to take effect: utils service restart Cisco Web Proxy Service\n",
        "Source p.xyz.com successfully added\nRestart Cisco Web Proxy Service for the changes to take effect:\nutils service restart Cisco Web Proxy Service\n",
        "Source p.xyz.com successfully added\nRestart Cisco Web Proxy Service for the changes to take effect: `utils service restart Cisco Web Proxy Service`\n",
    ] {
        let changed = parse_source_added(text, "p.xyz.com").unwrap();
        assert_eq!(changed.restart, ["Cisco Web Proxy Service"], "{text:?}");
    }
}

#[test]
fn client_auth_status_and_changes() {
    let disabled = "SSL certificate verification for connections established from reverse proxy hosts is disabled\n";
    assert_eq!(parse_client_auth_status(disabled), Ok(false));
    assert_eq!(
        parse_client_auth_status(&disabled.replace("disabled", "enabled")),
        Ok(true)
    );
    assert!(parse_client_auth_status("Unknown command\n").is_err());
    let enabled = "SSL certificate verification enabled for connections established from reverse proxy hosts\n\nRestart Cisco Web Proxy Service for the changes to take effect:\nutils service restart Cisco Web Proxy Service\n";
    assert_eq!(
        parse_client_auth_set(enabled, true).unwrap().restart,
        ["Cisco Web Proxy Service"]
    );
    assert!(parse_client_auth_set(enabled, false).is_err());
}

#[test]
fn update_frequency_before_and_after_a_config_uri() {
    assert_eq!(
        parse_update_frequency("No config-uri configured\n"),
        Ok(None)
    );
    assert_eq!(parse_update_frequency("1 minute\n"), Ok(Some(1)));
    assert_eq!(parse_update_frequency("5 minutes\r\n"), Ok(Some(5)));
    assert!(parse_update_frequency("five minutes\n").is_err());
    assert!(parse_update_frequency("5 minutes\n6 minutes\n").is_err());
}

#[test]
fn the_proxy_config_map() {
    let raw = "finesse1.internal.com:8445=finesse1.xyz.com:443\nfinesse1.internal.com:7443=finesse1.xyz.com:7443\n";
    assert_eq!(
        parse_proxy_config_map(raw).unwrap(),
        [
            (
                "finesse1.internal.com:8445".to_owned(),
                "finesse1.xyz.com:443".to_owned()
            ),
            (
                "finesse1.internal.com:7443".to_owned(),
                "finesse1.xyz.com:7443".to_owned()
            )
        ]
    );
    assert_eq!(parse_proxy_config_map("\n").unwrap(), Vec::new());
    assert!(parse_proxy_config_map("Error fetching map\n").is_err());
}

#[test]
fn connected_users_summary() {
    let raw = "\nTotal Connected Users: 6\n\nDesktop Users: 1\nFIPPA Users: 2\nThird-party Users: 3\n\nUsers connected to Finesse via LAN/WAN: 5\nUsers connected to Finesse via Proxy: 1\n\nTo view the complete list of signed-in users, log in to the Cisco Finesse\nAdministration Console, and navigate to the Connected Agents tab.\n";
    assert_eq!(
        parse_connected_users(raw),
        Ok(ConnectedUsers {
            total: 6,
            desktop: 1,
            fippa: 2,
            third_party: 3,
            lan: 5,
            proxy: 1
        })
    );
    let missing = raw.replace("FIPPA Users: 2\n", "");
    assert!(parse_connected_users(&missing).is_err());
    assert!(parse_connected_users(&raw.replace(": 6", ": six")).is_err());
}

#[test]
fn connected_users_info_over_rest() {
    let xml = "<ConnectedUsersInfo><userSummary><desktopUsers>4</desktopUsers><fippaUsers>1</fippaUsers><thirdPartyUsers>0</thirdPartyUsers><totalConnectedUsers>5</totalConnectedUsers><totalConnectedUsersViaProxy>2</totalConnectedUsersViaProxy></userSummary><uri>/finesse/api/ConnectedUsersInfo</uri></ConnectedUsersInfo>";
    assert_eq!(
        parse_connected_users_info(xml),
        Ok(ConnectedUsers {
            total: 5,
            desktop: 4,
            fippa: 1,
            third_party: 0,
            lan: 3,
            proxy: 2
        })
    );
    // An error body, a missing count, a count that is no number: errors with the raw text.
    let error = "<ApiErrors><ApiError><ErrorType>Unauthorized</ErrorType></ApiError></ApiErrors>";
    assert_eq!(
        parse_connected_users_info(error),
        Err(Error::Unexpected { raw: error.into() })
    );
    assert!(parse_connected_users_info(&xml.replace("<fippaUsers>1</fippaUsers>", "")).is_err());
    assert!(parse_connected_users_info(&xml.replace(">5<", ">five<")).is_err());
}

#[test]
fn frame_access_list_and_properties() {
    let raw = "The following source(s) are configured in the frame access list:\n1: https://www.abc.com:8445\n2: https://*.abc.com\n";
    assert_eq!(
        parse_frame_list(raw).unwrap(),
        ["https://www.abc.com:8445", "https://*.abc.com"]
    );
    assert_eq!(
        parse_property(
            "The value of property 'trustAllCertificates' is 'false'\n",
            "trustAllCertificates"
        ),
        Ok("false".into())
    );
    assert!(parse_property(
        "The value of property 'secureSystemInfo' is 'true'\n",
        "trustAllCertificates"
    )
    .is_err());
}

#[test]
fn certificate_lists_and_pem() {
    let raw = "tomcat/tomcat.pem: Self-signed certificate generated by system\ntomcat/tomcat-ECDSA.pem: Self-signed certificate generated by system\n";
    let list = parse_cert_list(raw).unwrap();
    assert_eq!(list[0].unit, "tomcat");
    assert_eq!(list[1].file, "tomcat-ECDSA.pem");
    assert_eq!(
        list[0].description,
        "Self-signed certificate generated by system"
    );
    assert!(parse_cert_list("Executed command unsuccessfully\n").is_err());

    let dump = "[\n  Version: V3\n  Serial Number: 1\n]\n-----BEGIN CERTIFICATE-----\r\nMIIB\r\nAAAA\r\n-----END CERTIFICATE-----\r\n";
    assert_eq!(
        parse_cert_pem(dump).unwrap(),
        "-----BEGIN CERTIFICATE-----\nMIIB\nAAAA\n-----END CERTIFICATE-----\n"
    );
    assert!(parse_cert_pem("no certificate\n").is_err());
}

#[test]
fn a_restart_streams_its_states() {
    let raw = " Don't press Ctrl-c while the service is getting RESTARTED.If Service has not Restarted Properly, execute the same Command Again\nService Manager is running\nCisco Finesse Tomcat[STOPPING]\nCisco Finesse Tomcat[STARTING]\nCisco Finesse Tomcat[STARTED]\n";
    let states: Vec<ServiceState> = raw.lines().filter_map(parse_service_line).collect();
    assert_eq!(states.len(), 3);
    assert_eq!(states[2].service, "Cisco Finesse Tomcat");
    assert_eq!(states[2].state, "STARTED");
    assert_eq!(parse_service_line("Service Manager is running"), None);
}

#[test]
fn cors_origins_redirect_services_and_csr() {
    assert_eq!(
        parse_cors_status("Finesse CORS is enabled for all origins\r\n").unwrap(),
        CorsMode::EnableAll
    );
    assert_eq!(
        parse_cors_status("\nCUIC CORS is enabled  \n").unwrap(),
        CorsMode::Enable
    );
    assert_eq!(
        parse_cors_status("LiveData CORS is disabled\n").unwrap(),
        CorsMode::Disable
    );
    assert!(matches!(
        parse_cors_status("CORS: maybe\n"),
        Err(Error::Unexpected { .. })
    ));

    assert_eq!(
        parse_origin_list("The following origin(s) are configured:\r\n1: https://a.example.com\r\n2: https://b.example.com\r\n\r\n").unwrap(),
        ["https://a.example.com", "https://b.example.com"]
    );
    assert!(parse_origin_list("No origin is configured\n")
        .unwrap()
        .is_empty());
    assert!(parse_origin_list("The following origin(s) are configured:\nhttps://x\n").is_err());

    assert!(parse_https_redirect("Application HTTPS redirect is enabled\n").unwrap());
    assert!(!parse_https_redirect("Application HTTPS redirect is disabled\n").unwrap());

    let services = parse_service_list(
        "Requesting service status, please wait...\r\nSystem SSH[STARTED]\r\nCisco Tomcat[STOPPED]\r\n",
    )
    .unwrap();
    assert_eq!(services.len(), 2);
    assert_eq!(
        (services[1].service.as_str(), services[1].state.as_str()),
        ("Cisco Tomcat", "STOPPED")
    );
    assert!(parse_service_list("Requesting service status, please wait...\n").is_err());

    let csr = parse_csr_pem("noise\r\n-----BEGIN CERTIFICATE REQUEST-----\r\nMIIB\r\n-----END CERTIFICATE REQUEST-----\r\n").unwrap();
    assert_eq!(
        csr,
        "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n"
    );
}

#[test]
fn done_lines_refusals_and_other_answers() {
    let added = parse_done(
        "Origin(s) successfully added.\n\nRestart Cisco Finesse Tomcat for the changes to take effect:\nutils service restart Cisco Finesse Tomcat\n",
        &["Origin(s) successfully added."],
    )
    .unwrap();
    assert_eq!(added.restart, ["Cisco Finesse Tomcat"]);
    match parse_done(
        "Operation failed, please enter valid origin(s). Origin * is invalid\n",
        &["Origin(s) successfully added."],
    ) {
        Err(Error::Rejected { input, .. }) => assert_eq!(input, "*"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        parse_done(
            "Befehl nicht erkannt\n",
            &["Property successfully updated."]
        ),
        Err(Error::Unexpected { .. })
    ));
}

#[test]
fn silent_commands_cors_changes_and_restarts_are_judged_by_their_output() {
    assert_eq!(parse_silent("\r\n  \n"), Ok(()));
    assert!(parse_silent("Invalid value\n").is_err());
    assert_eq!(parse_cors_set("CORS enabled successfully\n"), Ok(()));
    assert!(parse_cors_set("Executed command unsuccessfully\n").is_err());
    let restart = "Cisco Finesse Tomcat[STOPPING]\nCisco Finesse Tomcat[STARTING]\nCisco Finesse Tomcat[STARTED]\n";
    assert_eq!(parse_restarted(restart, "Cisco Finesse Tomcat"), Ok(()));
    assert!(parse_restarted(restart, "Cisco Web Proxy Service").is_err());
    assert!(parse_restarted("Cisco Finesse Tomcat[STOPPING]\n", "Cisco Finesse Tomcat").is_err());
}

#[test]
fn tls_minimum_version_and_gadget_source_check() {
    assert_eq!(
        parse_tls_min_version("Configured TLS minimum version: 1.0\n"),
        Ok("1.0".into())
    );
    assert!(parse_tls_min_version("Configured TLS minimum version: 9\n").is_err());
    assert!(parse_tls_min_version("Executed command unsuccessfully\n").is_err());
    assert_eq!(
        parse_gadget_source_check("Gadget source check is enabled\n"),
        Ok(true)
    );
    assert_eq!(
        parse_gadget_source_check("Gadget Source Check is disabled.\n"),
        Ok(false)
    );
    assert!(parse_gadget_source_check("Invalid command\n").is_err());
}
