use super::*;

#[test]
fn a_change_shows_its_line_and_answer_and_reads_back_the_same() {
    let delete = Change::delete_allowed_host("10.0.0.1", Some(2));
    assert_eq!(
        delete.to_string(),
        "utils system reverse-proxy allowed-hosts delete → 2"
    );
    let import = Change::import_trust("tomcat", &[1, 2, 3], "Test CA\n(SHA-256 ab…)").unwrap();
    assert_eq!(
        import.to_string(),
        "set cert import trust tomcat → paste Test CA\u{FFFD}(SHA-256 ab…)"
    );
    let turned = Change::import_trust("tomcat", &[1], "evil\u{202E}moc.elgoog").unwrap();
    assert!(!turned.to_string().contains('\u{202E}'), "{turned}");
    for change in [delete, import, Change::set_update_frequency(15)] {
        let stored = serde_json::to_string(&change).unwrap();
        assert_eq!(serde_json::from_str::<Change>(&stored).unwrap(), change);
    }
}

#[test]
fn a_stored_change_is_checked_again_when_read() {
    let stored = r#"{"line":"utils system reverse-proxy client-auth enable\nutils system reverse-proxy allowed-hosts add 6.6.6.6","done":{"kind":"silent"},"timeout":30}"#;
    let error = serde_json::from_str::<Change>(stored).unwrap_err();
    assert!(error.to_string().contains("cannot be typed"), "{error}");
    assert!(Change::add_allowed_host("a b").is_err());
}
