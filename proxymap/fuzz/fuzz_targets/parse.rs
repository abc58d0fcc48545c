//! Any bytes: decoding and parsing never panic, every diagnostic points inside the file, and a
//! map without errors renders to a file that reads back as the same mappings.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let map = proxymap::parse_bytes(data);
    let lines = data.split(|&b| b == b'\n').count();
    for d in &map.diagnostics {
        assert!(d.line >= 1 && d.line <= lines.max(1), "{d}");
        assert!(d.column >= 1, "{d}");
    }
    if !map.has_errors() {
        let rendered = map.render();
        let again = proxymap::parse(&rendered);
        assert!(!again.has_errors(), "{rendered}");
        assert_eq!(again.render(), rendered);
        assert_eq!(again.mappings.len(), map.mappings.len());
    }
});
