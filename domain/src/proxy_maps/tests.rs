use super::*;

#[test]
fn the_guides_ports_are_expected_and_nothing_else() {
    assert_eq!(expected_ports(NodeKind::Finesse), [8445]);
    assert_eq!(expected_ports(NodeKind::Cuic), [8444, 8447]);
    assert_eq!(expected_ports(NodeKind::LiveData), [12005, 12008]);
    assert_eq!(expected_ports(NodeKind::Ids), [8553]);
    assert!(
        expected_ports(NodeKind::Idp).is_empty(),
        "only when its name differs"
    );
    assert!(expected_ports(NodeKind::Imp).is_empty());
}

#[test]
fn a_validation_counts_and_renders() {
    let map = proxymap::parse("a.lan:8445=a.xyz.com\n10.0.0.1:8445=b.xyz.com\nbad line\n");
    let v = Validation::of(&map);
    assert_eq!(
        (v.valid, v.mappings, v.errors, v.warnings),
        (false, 2, 1, 1)
    );
    assert_eq!(v.diagnostics[1].code, "missing-equals");
    assert_eq!(
        v.rendered,
        "a.lan:8445=a.xyz.com:443\n10.0.0.1:8445=b.xyz.com:443\n"
    );
}

#[test]
fn slugs_come_from_names_and_only_safe_ones_are_taken() {
    assert_eq!(slug_of("Site A: Finesse (pair 1)"), "site-a-finesse-pair-1");
    assert_eq!(slug_of("---"), "");
    assert!(slug_is_valid("site-a"));
    for bad in ["", "-a", "Site", "a/b", "a.b", &"a".repeat(64)] {
        assert!(!slug_is_valid(bad), "{bad}");
    }
}
