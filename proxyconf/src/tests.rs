use super::*;

const MINIMAL: &str = r#"{
  "schema": 1,
  "version": 3,
  "pair": "dmz",
  "listeners": [{"address": "0.0.0.0:443",
                 "certificates": [{"certificate": "/etc/gp/a.pem", "key": "/etc/gp/a.key"}]}],
  "routes": [
    {"external": "finesse1.xyz.com:443", "internal": "finesse1.internal.com:8445", "component": "finesse"},
    {"external": "cuicpub.xyz.com", "internal": "cuicpub.internal.com:8444", "address": "10.0.0.7:8444", "component": "cuic"}
  ],
  "forwarders": {"addresses": ["10.1.0.0/16", "192.0.2.7"], "header": "X-Real-IP"},
  "upstream": {"trust": ["-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"]}
}"#;

fn minimal() -> Config {
    Config::from_json(MINIMAL).unwrap()
}

#[test]
fn a_minimal_document_takes_the_installers_defaults_and_has_no_problem() {
    let c = minimal();
    assert_eq!(c.check(), vec![]);
    assert_eq!(
        c.limits.rates.finesse,
        Rate {
            per_second: 90,
            burst: 50
        }
    );
    assert_eq!(
        c.limits.rates.ids,
        Rate {
            per_second: 5,
            burst: 4
        }
    );
    assert_eq!(c.limits.http1_connections, 12);
    assert_eq!(c.limits.body_bytes, 15 << 20);
    assert_eq!(
        (c.bans.failures, c.bans.window_secs, c.bans.ban_secs),
        (5, 30, 1800)
    );
    assert_eq!(c.auth.credential_cache_secs, 900);
    assert_eq!(c.auth.token_cache_secs, 7200);
    assert_eq!(c.timeouts.keepalive_requests, 500);
    // No port: 443, as in the map.
    assert_eq!(c.routes[1].external.port, 443);
}

#[test]
fn the_document_reads_back_as_written() {
    let c = minimal();
    assert_eq!(Config::from_json(&c.to_json()).unwrap(), c);
}

#[test]
fn routes_are_found_by_host_without_case_and_by_port() {
    let c = minimal();
    assert_eq!(
        c.route("FINESSE1.xyz.com", 443).map(|r| r.component),
        Some(Component::Finesse)
    );
    assert!(c.route("finesse1.xyz.com", 8443).is_none());
    assert!(c.route("finesse9.xyz.com", 443).is_none());
}

#[test]
fn unknown_fields_and_bad_values_are_refused_with_where() {
    let e = Config::from_json(&MINIMAL.replace("\"pair\"", "\"pairs\"")).unwrap_err();
    assert!(e.message.contains("unknown field `pairs`"), "{e}");
    let e = Config::from_json(&MINIMAL.replace("finesse1.xyz.com:443", "https://x/")).unwrap_err();
    assert!(e.message.contains("not a URL"), "{e}");
    let e = Config::from_json(&MINIMAL.replace("10.1.0.0/16", "10.1.0.1/16")).unwrap_err();
    assert!(e.message.contains("network address"), "{e}");
}

fn problems(edit: impl FnOnce(&mut Config)) -> Vec<String> {
    let mut c = minimal();
    edit(&mut c);
    c.check().iter().map(ToString::to_string).collect()
}

#[test]
fn every_problem_is_named_with_its_field() {
    assert_eq!(
        problems(|c| c.schema = 2),
        ["schema: this engine reads schema 1; the document is schema 2"]
    );
    assert_eq!(
        problems(|c| c.routes[0].internal = "finesse1.internal.com:5222".parse().unwrap()),
        ["routes[0].internal: port 5222 is XMPP over TCP, which is not supported through the proxy (seed 004)"]
    );
    assert_eq!(
        problems(|c| c.routes[1].external = "cuicpub.xyz.com:8444".parse().unwrap()),
        ["routes[1].external: no listener takes port 8444"]
    );
    assert_eq!(
        problems(|c| c.routes[1].external = "Finesse1.xyz.com:443".parse().unwrap()),
        ["routes[1].external: Finesse1.xyz.com:443 is routed twice"]
    );
    assert_eq!(
        problems(|c| c.forwarders.header = Some("Host".into())),
        ["forwarders.header: Host means something to HTTP itself; use X-Real-IP or a header of your own"]
    );
    assert_eq!(
        problems(|c| c.forwarders.header = Some("X-Real IP\n".into())),
        ["forwarders.header: a header name is letters, digits and - only"]
    );
    assert_eq!(
        problems(|c| c.routes.retain(|r| r.component != Component::Finesse)),
        ["routes: no Finesse route: credentials could not be checked, so every request would be refused"]
    );
    assert_eq!(
        problems(|c| c.auth.finesse = vec!["cuicpub.internal.com:8444".parse().unwrap()]),
        ["auth.finesse[0]: cuicpub.internal.com:8444 is not the internal side of a Finesse route"]
    );
    assert_eq!(
        problems(|c| c.auth.static_prefixes = vec!["/desktop/../etc/".into(), "/desktop".into()]),
        [
            "auth.static_prefixes[0]: a path starting with / in plain characters (no .., %, ?, #, \\)",
            "auth.static_prefixes[1]: a directory: end it with /"
        ]
    );
    assert_eq!(
        problems(|c| c.forwarders.addresses = vec!["0.0.0.0/0".parse().unwrap()]),
        ["forwarders.addresses[0]: 0.0.0.0/0 is wider than any forwarder's network: every client in it could set its own address"]
    );
    assert_eq!(
        problems(|c| c.auth.static_prefixes = vec!["/finesse/".into()]),
        ["auth.static_prefixes[0]: the Finesse API (SystemInfo included) always needs credentials through the proxy"]
    );
    assert_eq!(
        problems(|c| c.bans.ban_secs = u64::MAX),
        ["bans.ban_secs: at most 31536000 (a year)"]
    );
    assert_eq!(
        problems(|c| c.limits.rates.cuic.burst = 0),
        ["limits.rates.cuic: requests per second and burst must be 1 or more"]
    );
    assert_eq!(
        problems(|c| c.upstream.trust.clear()),
        ["upstream.trust: no trusted certificate: upstreams could not be verified, and credentials are never sent to an unverified peer"]
    );
    assert_eq!(
        problems(|c| c.status.address = Some("0.0.0.0:443".parse().unwrap())),
        ["status.address: 0.0.0.0:443 is bound twice"]
    );
    assert_eq!(
        problems(|c| c.status.proxymap = "a.internal:8445=".into()),
        ["status.proxymap: line 1: external side: this side has no host: write `host` or `host:port`"]
    );
}

#[test]
fn address_ranges_hold_what_they_say() {
    let net: Cidr = "10.1.0.0/16".parse().unwrap();
    assert!(net.contains("10.1.200.3".parse().unwrap()));
    assert!(!net.contains("10.2.0.1".parse().unwrap()));
    // An IPv4 client seen through an IPv6 socket is still that client.
    assert!(net.contains("::ffff:10.1.0.9".parse().unwrap()));
    let one: Cidr = "192.0.2.7".parse().unwrap();
    assert!(one.contains("192.0.2.7".parse().unwrap()));
    assert!(!one.contains("192.0.2.8".parse().unwrap()));
    let v6: Cidr = "2001:db8::/32".parse().unwrap();
    assert!(v6.contains("2001:db8:1::5".parse().unwrap()));
    assert!(!v6.contains("10.1.0.1".parse().unwrap()));
    let all: Cidr = "0.0.0.0/0".parse().unwrap();
    assert!(all.contains("203.0.113.9".parse().unwrap()));
    assert_eq!(one.to_string(), "192.0.2.7");
    assert_eq!(net.to_string(), "10.1.0.0/16");
    assert!("10.0.0.0/33".parse::<Cidr>().is_err());
    assert!("ten".parse::<Cidr>().is_err());
}

#[test]
fn each_request_has_its_rate_class() {
    assert_eq!(
        Class::of(Component::Finesse, "/finesse/api/User/1001"),
        Class::Finesse
    );
    assert_eq!(
        Class::of(Component::Finesse, "/finesse/api/User/1001/ClientLog"),
        Class::ClientLog
    );
    assert_eq!(
        Class::of(Component::Finesse, "/desktop/sso/token"),
        Class::Sso
    );
    assert_eq!(Class::of(Component::Ids, "/ids/v1/oauth/token"), Class::Ids);
    assert_eq!(
        Class::of(Component::LiveData, "/livedata/x"),
        Class::LiveData
    );
    assert_eq!(Class::of(Component::Other, "/gadget"), Class::Finesse);
}
