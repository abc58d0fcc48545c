use super::*;

const GUIDE: &str = "finesse1.internal.com:8445=finesse1.xyz.com:443
finesse2.internal.com:8445=finesse2.xyz.com:443
idspub.internal.com:8553=idspub.xyz.com:443
idssub.internal.com:8553=idssub.xyz.com:443
idp.internal.com:443=idp.xyz.com:443
cuicpub.internal.com:8444=cuicpub.xyz:8444
cuicsub.internal.com:8444=cuicsub.xyz:8444
";

/// `line:column: level: code` of each diagnostic.
fn found(text: &str) -> Vec<String> {
    parse(text)
        .diagnostics
        .iter()
        .map(|d| {
            format!(
                "{}:{}: {}: {}",
                d.line,
                d.column,
                d.level.as_str(),
                d.code.as_str()
            )
        })
        .collect()
}

#[test]
fn the_guides_example_is_valid_and_renders_as_it_is_written() {
    let map = parse(GUIDE);
    assert_eq!(map.diagnostics, []);
    assert_eq!(map.mappings.len(), 7);
    assert_eq!(map.render(), GUIDE);
    assert_eq!(map.mappings[6].external.to_string(), "cuicsub.xyz:8444");
}

#[test]
fn invalid_maps_each_say_where_and_what() {
    let table: &[(&str, &[&str])] = &[
        (
            "finesse1.internal.com:8445 finesse1.xyz.com",
            &["1:1: error: missing-equals"],
        ),
        (
            "a.lan:8445=b.xyz.com=c.xyz.com",
            &["1:21: error: extra-equals"],
        ),
        ("=finesse1.xyz.com", &["1:1: error: empty-host"]),
        ("a.lan:8445=", &["1:12: error: empty-host"]),
        (
            "finesse_1.lan:8445=f.xyz.com",
            &["1:8: error: invalid-host"],
        ),
        (
            "  a.lan:8445=https://f.xyz.com",
            &["1:14: error: invalid-host"],
        ),
        (
            "a.lan:8445=f.xyz.com # desk",
            &["1:21: error: invalid-host"],
        ),
        ("a..lan:8445=f.xyz.com", &["1:3: error: invalid-host"]),
        // A character no host name has is named before a bad label earlier in the name.
        ("a..lan_x:8445=f.xyz.com", &["1:7: error: invalid-host"]),
        ("a.lan:8445=f.xyz.1", &["1:12: error: invalid-host"]),
        ("a.lan:8445=-f.xyz.com", &["1:12: error: invalid-host"]),
        ("a.lan:84x5=f.xyz.com", &["1:7: error: invalid-port"]),
        ("a.lan:0=f.xyz.com", &["1:7: error: invalid-port"]),
        ("a.lan:65536=f.xyz.com", &["1:7: error: invalid-port"]),
        ("a.lan:=f.xyz.com", &["1:7: error: invalid-port"]),
        (
            "a.lan:8445 = f.xyz.com:99999",
            &["1:24: error: invalid-port"],
        ),
        ("2001:db8::1:8445=f.xyz.com", &["1:1: error: invalid-host"]),
        ("[2001:db8::1:8445=f.xyz.com", &["1:1: error: invalid-host"]),
        ("10.0.0.300:8445=f.xyz.com", &["1:1: error: invalid-host"]),
        (
            "F1.LAN:8445=f1.xyz.com\nf1.lan:8445=f2.xyz.com",
            &["2:1: error: duplicate-internal"],
        ),
        (
            "f1.lan:8445=desk.xyz.com\nf2.lan:8445=desk.xyz.com:443",
            &["2:13: error: shared-external"],
        ),
        (
            "a.lan:8445=x\u{7}.xyz.com",
            &["1:13: error: control-character"],
        ),
    ];
    for (text, expected) in table {
        assert_eq!(found(text), *expected, "{text:?}");
    }
}

#[test]
fn external_sides_are_compared_exactly_and_internal_ones_ignoring_case() {
    // Two external names that differ only in case are two names (seed 004: case-sensitive).
    let map = parse("f1.lan:8445=Desk.xyz.com\nf2.lan:8445=desk.xyz.com");
    assert_eq!(map.diagnostics, []);
    let map = parse("f1.lan:8445=a.xyz.com\nF1.Lan:8445=b.xyz.com");
    assert_eq!(map.diagnostics[0].code, Code::DuplicateInternal);
    assert!(
        map.diagnostics[0].message.contains("line 1"),
        "{}",
        map.diagnostics[0].message
    );
}

#[test]
fn addresses_and_internal_looking_external_sides_are_warnings() {
    assert_eq!(
        found("10.0.0.5:8445=[2001:db8::5]:443\nf1.corp.lan:8445=desk.corp.lan\nf2.corp.lan:8445=192.168.1.9"),
        [
            "1:1: warning: address-literal",
            "1:15: warning: address-literal",
            "2:18: warning: external-looks-internal",
            "3:18: warning: address-literal",
            "3:18: warning: external-looks-internal",
        ]
    );
    assert!(!parse("10.0.0.5:8445=desk.xyz.com").has_errors());
}

#[test]
fn files_as_people_have_them_are_fine() {
    let text = "\u{feff}# Site A, proxy pair 1\r\n\r\n  finesse1.internal.com:8445 = finesse1.xyz.com  \r\n\tfinesse2.internal.com=finesse2.xyz.com";
    let map = parse_bytes(text.as_bytes());
    assert_eq!(map.diagnostics, []);
    assert_eq!(
        map.render(),
        "finesse1.internal.com:8445=finesse1.xyz.com:443\nfinesse2.internal.com:443=finesse2.xyz.com:443\n"
    );
    assert_eq!(
        (map.mappings[0].line, map.mappings[0].internal_column),
        (3, 3)
    );
}

#[test]
fn what_is_not_a_map_is_refused_with_one_clear_diagnostic() {
    let refused = |bytes: &[u8]| {
        let map = parse_bytes(bytes);
        assert!(map.mappings.is_empty());
        let d = &map.diagnostics[..];
        assert_eq!(d.len(), 1, "{d:?}");
        format!("{}:{}: {}", d[0].line, d[0].column, d[0].code.as_str())
    };
    assert_eq!(refused(b"a.lan=b.xyz.com\n\x89PNG\x00\x00"), "2:5: binary");
    assert_eq!(
        refused(b"a.lan=b.xyz.com\nf\xe9e.lan=x.com"),
        "2:2: invalid-utf8"
    );
    assert_eq!(refused(&vec![b'a'; MAX_BYTES + 1]), "1:1: too-large");
    let long = format!(
        "a.lan=b.xyz.com\n{}=b.xyz.com\nc.lan=c.xyz.com",
        "a".repeat(100_000)
    );
    let map = parse(&long);
    assert_eq!(found(&long), ["2:1025: error: line-too-long"]);
    assert_eq!(map.mappings.len(), 2, "the other lines are still read");
}

/// A tiny deterministic generator (no dependency): xorshift64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[(self.next() % from.len() as u64) as usize]
    }
}

#[test]
fn generated_valid_maps_validate_and_parse_render_parse_is_stable() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..200 {
        let mut text = String::new();
        let lines = 1 + rng.next() % 40;
        for n in 0..lines {
            let kind = rng.pick(&["finesse", "ids", "cuic", "livedata", "imp", "Finesse"]);
            let port = rng.pick(&[":8445", ":8553", ":8444", ":12005", "", ":443"]);
            let outside = rng.pick(&[":443", "", ":8444", ":10443"]);
            let space = rng.pick(&["", " ", "\t"]);
            let end = rng.pick(&["\n", "\r\n"]);
            text += &format!("{space}{kind}{n}.lan.example{port}{space}={space}{kind}{n}-{round}.xyz.com{outside}{end}");
            if rng.next().is_multiple_of(5) {
                text += "# a comment\n\n";
            }
        }
        let map = parse(&text);
        assert_eq!(map.diagnostics, [], "{text}");
        let rendered = map.render();
        let again = parse(&rendered);
        assert_eq!(again.render(), rendered);
        let pairs = |m: &Map| {
            m.mappings
                .iter()
                .map(|m| (m.internal.clone(), m.external.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(pairs(&again), pairs(&map));
    }
}

#[test]
fn a_diagnostic_prints_as_the_cli_shows_it() {
    let map = parse("a.lan:8445=b.xyz.com\na.lan:8445=c.xyz.com");
    assert_eq!(
        map.diagnostics[0].to_string(),
        "2:1: error: duplicate-internal: a.lan:8445 is already mapped on line 1 (the internal side ignores case); the proxy installer refuses duplicates: keep one line"
    );
}

/// `line:column: code` of each diagnostic of a map checked against a context.
fn places(map: &Map) -> Vec<String> {
    map.diagnostics
        .iter()
        .map(|d| format!("{}:{}: {}", d.line, d.column, d.code.as_str()))
        .collect()
}

fn endpoint(host: &str, port: u16, expected: bool) -> Endpoint {
    Endpoint {
        host: host.into(),
        port,
        label: format!("{host} (Finesse)"),
        expected,
    }
}

#[test]
fn the_inventory_the_proxy_names_and_certificates_each_add_what_they_know() {
    let context = Context {
        endpoints: vec![
            endpoint("finesse1.lan", 8445, true),
            endpoint("finesse2.lan", 8445, true),
            endpoint("finesse2.lan", 8443, false),
        ],
        proxy_names: vec!["Desk2.xyz.com".into()],
        certificate_names: Some(vec!["*.xyz.com".into()]),
    };
    let mut map = parse("FINESSE1.lan:8445=desk1.xyz.com\ncuic.lan:8444=cuic.example.net\nfinesse2.lan:8443=desk2.xyz.com");
    check_with(&mut map, &context);
    assert_eq!(
        places(&map),
        [
            "0:0: missing-endpoint",
            "2:1: unknown-endpoint",
            "2:15: no-certificate",
            "3:19: external-case",
        ]
    );
    assert!(
        map.diagnostics[0].message.contains("finesse2.lan:8445"),
        "{}",
        map.diagnostics[0].message
    );
    assert!(
        map.has_errors(),
        "a case that differs from the proxy's name is an error"
    );
    let mut unknown = parse("a.lan:8445=a.xyz.com");
    check_with(&mut unknown, &Context::default());
    assert_eq!(unknown.diagnostics, [], "an empty context checks nothing");
}

#[test]
fn a_diff_names_each_mapping_added_removed_or_pointed_elsewhere() {
    let old = parse("# v1\na.lan:8445=a.xyz.com\nb.lan:8445=b.xyz.com\nc.lan:8445=c.xyz.com\n");
    let new = parse("C.LAN:8445=c.xyz.com\na.lan:8445=a2.xyz.com\nd.lan:8553=d.xyz.com\n");
    assert_eq!(
        diff(&old, &new),
        [
            "~ a.lan:8445: a.xyz.com:443 → a2.xyz.com:443",
            "- b.lan:8445=b.xyz.com:443",
            "+ d.lan:8553=d.xyz.com:443",
        ]
    );
}

#[test]
fn the_inventory_matches_names_ignoring_case_and_addresses_however_written() {
    let context = Context {
        // One endpoint twice (two node records of one host), an IPv4 and an IPv6 node, and a
        // host no line can name (an underscore).
        endpoints: vec![
            endpoint("Finesse1.lan", 8445, true),
            endpoint("finesse1.LAN", 8445, true),
            endpoint("10.0.0.5", 8445, true),
            endpoint("2001:db8::5", 8445, true),
            endpoint("bad_name.lan", 8445, true),
        ],
        proxy_names: Vec::new(),
        certificate_names: Some(vec!["Desk1.XYZ.com".into(), "*.Xyz.com".into()]),
    };
    let mut map = parse(
        "finesse1.lan:8445=Desk1.xyz.com\n10.0.0.5:8445=desk2.xyz.com\n[2001:db8::5]:8445=desk3.xyz.com\nfinesse1.lan:8446=a.b.xyz.com",
    );
    check_with(&mut map, &context);
    assert_eq!(
        places(&map),
        [
            "0:0: missing-endpoint",
            "2:1: address-literal",
            "3:1: address-literal",
            "4:1: unknown-endpoint",
            "4:19: no-certificate",
        ]
    );
    assert!(map.diagnostics[0].message.contains("bad_name.lan"));
}
