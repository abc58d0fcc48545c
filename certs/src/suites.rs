//! TLS cipher suites by their three names: the IANA code point on the wire, the IANA name the
//! BroadWorks CLI takes, and the OpenSSL name most tools print (seed 003: "The XSP|ADP CLI
//! requires the IANA standard cipher suite name, not the openSSL cipher suite name").
//!
//! The table covers the suites of seed 003's default list and the common ones of TLS 1.0 to
//! 1.3. A suite is *recommended* for the Webex CTI interface when it has forward secrecy by
//! ephemeral elliptic-curve Diffie-Hellman and an AEAD cipher (AES-GCM or ChaCha20-Poly1305):
//! our reading of Cisco's "recommended suites", which seed 003 names but does not list.

use serde::{Deserialize, Serialize};

/// How the suite agrees on keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyExchange {
    /// Ephemeral elliptic-curve Diffie-Hellman: forward secrecy.
    Ecdhe,
    /// Ephemeral finite-field Diffie-Hellman: forward secrecy.
    Dhe,
    /// Static elliptic-curve Diffie-Hellman: none.
    Ecdh,
    /// RSA key transport: none.
    Rsa,
    /// TLS 1.3: negotiated apart from the suite, always ephemeral.
    Tls13,
}

/// One cipher suite.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Suite {
    pub code: u16,
    pub iana: &'static str,
    /// OpenSSL's name (for TLS 1.3's suites, the IANA name).
    pub openssl: &'static str,
    pub key_exchange: KeyExchange,
    /// AES-GCM, AES-CCM or ChaCha20-Poly1305 (not CBC, RC4 or 3DES).
    pub aead: bool,
}

impl Suite {
    pub fn forward_secret(&self) -> bool {
        matches!(
            self.key_exchange,
            KeyExchange::Ecdhe | KeyExchange::Dhe | KeyExchange::Tls13
        )
    }

    /// Recommended for the Webex CTI interface (see the module's note): ECDHE with an AEAD
    /// cipher, TLS 1.2.
    pub fn recommended(&self) -> bool {
        self.key_exchange == KeyExchange::Ecdhe && self.aead
    }
}

const fn s(
    code: u16,
    iana: &'static str,
    openssl: &'static str,
    key_exchange: KeyExchange,
    aead: bool,
) -> Suite {
    Suite {
        code,
        iana,
        openssl,
        key_exchange,
        aead,
    }
}

use KeyExchange::{Dhe, Ecdh, Ecdhe, Rsa, Tls13};

/// Every suite Gatehouse names, strongest first (the order a probe offers them in).
#[rustfmt::skip]
pub const SUITES: &[Suite] = &[
    s(0x1301, "TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256", Tls13, true),
    s(0x1302, "TLS_AES_256_GCM_SHA384", "TLS_AES_256_GCM_SHA384", Tls13, true),
    s(0x1303, "TLS_CHACHA20_POLY1305_SHA256", "TLS_CHACHA20_POLY1305_SHA256", Tls13, true),
    s(0xC02B, "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256", Ecdhe, true),
    s(0xC02F, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256", Ecdhe, true),
    s(0xC02C, "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", "ECDHE-ECDSA-AES256-GCM-SHA384", Ecdhe, true),
    s(0xC030, "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", "ECDHE-RSA-AES256-GCM-SHA384", Ecdhe, true),
    s(0xCCA9, "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305", Ecdhe, true),
    s(0xCCA8, "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "ECDHE-RSA-CHACHA20-POLY1305", Ecdhe, true),
    s(0x009E, "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", "DHE-RSA-AES128-GCM-SHA256", Dhe, true),
    s(0x009F, "TLS_DHE_RSA_WITH_AES_256_GCM_SHA384", "DHE-RSA-AES256-GCM-SHA384", Dhe, true),
    s(0x00A2, "TLS_DHE_DSS_WITH_AES_128_GCM_SHA256", "DHE-DSS-AES128-GCM-SHA256", Dhe, true),
    s(0x00A3, "TLS_DHE_DSS_WITH_AES_256_GCM_SHA384", "DHE-DSS-AES256-GCM-SHA384", Dhe, true),
    s(0xCCAA, "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256", "DHE-RSA-CHACHA20-POLY1305", Dhe, true),
    s(0xC023, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", "ECDHE-ECDSA-AES128-SHA256", Ecdhe, false),
    s(0xC027, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", "ECDHE-RSA-AES128-SHA256", Ecdhe, false),
    s(0xC024, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384", "ECDHE-ECDSA-AES256-SHA384", Ecdhe, false),
    s(0xC028, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384", "ECDHE-RSA-AES256-SHA384", Ecdhe, false),
    s(0xC009, "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", "ECDHE-ECDSA-AES128-SHA", Ecdhe, false),
    s(0xC013, "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", "ECDHE-RSA-AES128-SHA", Ecdhe, false),
    s(0xC00A, "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", "ECDHE-ECDSA-AES256-SHA", Ecdhe, false),
    s(0xC014, "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", "ECDHE-RSA-AES256-SHA", Ecdhe, false),
    s(0x0067, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256", "DHE-RSA-AES128-SHA256", Dhe, false),
    s(0x006B, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA256", "DHE-RSA-AES256-SHA256", Dhe, false),
    s(0x0040, "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256", "DHE-DSS-AES128-SHA256", Dhe, false),
    s(0x0033, "TLS_DHE_RSA_WITH_AES_128_CBC_SHA", "DHE-RSA-AES128-SHA", Dhe, false),
    s(0x0039, "TLS_DHE_RSA_WITH_AES_256_CBC_SHA", "DHE-RSA-AES256-SHA", Dhe, false),
    s(0xC02D, "TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256", "ECDH-ECDSA-AES128-GCM-SHA256", Ecdh, true),
    s(0xC031, "TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256", "ECDH-RSA-AES128-GCM-SHA256", Ecdh, true),
    s(0xC02E, "TLS_ECDH_ECDSA_WITH_AES_256_GCM_SHA384", "ECDH-ECDSA-AES256-GCM-SHA384", Ecdh, true),
    s(0xC032, "TLS_ECDH_RSA_WITH_AES_256_GCM_SHA384", "ECDH-RSA-AES256-GCM-SHA384", Ecdh, true),
    s(0xC025, "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256", "ECDH-ECDSA-AES128-SHA256", Ecdh, false),
    s(0xC029, "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA256", "ECDH-RSA-AES128-SHA256", Ecdh, false),
    s(0x009C, "TLS_RSA_WITH_AES_128_GCM_SHA256", "AES128-GCM-SHA256", Rsa, true),
    s(0x009D, "TLS_RSA_WITH_AES_256_GCM_SHA384", "AES256-GCM-SHA384", Rsa, true),
    s(0x003C, "TLS_RSA_WITH_AES_128_CBC_SHA256", "AES128-SHA256", Rsa, false),
    s(0x003D, "TLS_RSA_WITH_AES_256_CBC_SHA256", "AES256-SHA256", Rsa, false),
    s(0x002F, "TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA", Rsa, false),
    s(0x0035, "TLS_RSA_WITH_AES_256_CBC_SHA", "AES256-SHA", Rsa, false),
    s(0xC012, "TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", "ECDHE-RSA-DES-CBC3-SHA", Ecdhe, false),
    s(0x000A, "TLS_RSA_WITH_3DES_EDE_CBC_SHA", "DES-CBC3-SHA", Rsa, false),
    s(0xC011, "TLS_ECDHE_RSA_WITH_RC4_128_SHA", "ECDHE-RSA-RC4-SHA", Ecdhe, false),
    s(0x0005, "TLS_RSA_WITH_RC4_128_SHA", "RC4-SHA", Rsa, false),
    s(0x0004, "TLS_RSA_WITH_RC4_128_MD5", "RC4-MD5", Rsa, false),
];

/// The suite with this code point.
pub fn by_code(code: u16) -> Option<&'static Suite> {
    SUITES.iter().find(|s| s.code == code)
}

/// The suite with this IANA name (any case). ChaCha20 suites are also found without their
/// `_SHA256`, as seed 003 writes them (`TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305`).
pub fn by_iana(name: &str) -> Option<&'static Suite> {
    let name = name.trim();
    SUITES.iter().find(|s| {
        s.iana.eq_ignore_ascii_case(name)
            || (s.iana.contains("CHACHA20")
                && s.iana
                    .strip_suffix("_SHA256")
                    .is_some_and(|short| short.eq_ignore_ascii_case(name)))
    })
}

/// The suite with this OpenSSL name (any case).
pub fn by_openssl(name: &str) -> Option<&'static Suite> {
    let name = name.trim();
    SUITES.iter().find(|s| s.openssl.eq_ignore_ascii_case(name))
}

/// The suite by either of its names or its hex code point (`0xC02F`).
pub fn find(name: &str) -> Option<&'static Suite> {
    let name = name.trim();
    let code = name
        .strip_prefix("0x")
        .or_else(|| name.strip_prefix("0X"))
        .and_then(|hex| u16::from_str_radix(hex, 16).ok());
    code.and_then(by_code)
        .or_else(|| by_iana(name))
        .or_else(|| by_openssl(name))
}

/// A code point as people read it: the IANA name, else `0xC0FF`.
pub fn name(code: u16) -> String {
    by_code(code).map_or_else(|| format!("0x{code:04X}"), |s| s.iana.to_owned())
}

/// The suites of seed 003's default list, installed at the system level of a fresh XSP|ADP.
pub const BROADWORKS_DEFAULTS: [&str; 12] = [
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256",
    "TLS_DHE_DSS_WITH_AES_128_GCM_SHA256",
    "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_DHE_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_DHE_DSS_WITH_AES_128_CBC_SHA256",
    "TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDH_ECDSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDH_RSA_WITH_AES_128_CBC_SHA256",
    "TLS_ECDH_ECDSA_WITH_AES_128_CBC_SHA256",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_and_code_is_unique() {
        for (i, a) in SUITES.iter().enumerate() {
            for b in &SUITES[i + 1..] {
                assert_ne!(a.code, b.code, "{}", a.iana);
                assert_ne!(a.iana, b.iana);
                assert_ne!(a.openssl, b.openssl);
            }
        }
    }

    #[test]
    fn the_seeds_suites_map_both_ways() {
        for name in BROADWORKS_DEFAULTS {
            let suite = by_iana(name).unwrap_or_else(|| panic!("{name} is missing"));
            assert_eq!(by_openssl(suite.openssl), Some(suite));
        }
        // Seed 003's two examples.
        assert_eq!(
            by_iana("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256").map(|s| s.openssl),
            Some("ECDHE-RSA-AES128-GCM-SHA256")
        );
        assert_eq!(
            by_openssl("ECDHE-ECDSA-CHACHA20-POLY1305").map(|s| s.code),
            by_iana("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305").map(|s| s.code)
        );
        assert_eq!(
            find("0xc02f").map(|s| s.iana),
            Some("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256")
        );
        assert_eq!(find("aes128-sha").map(|s| s.code), Some(0x002F));
        assert_eq!(name(0xC0FF), "0xC0FF");
    }

    #[test]
    fn recommended_means_ecdhe_and_aead() {
        let recommended: Vec<&str> = BROADWORKS_DEFAULTS
            .iter()
            .filter(|n| by_iana(n).is_some_and(Suite::recommended))
            .copied()
            .collect();
        assert_eq!(
            recommended,
            [
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"
            ]
        );
        assert!(!by_iana("TLS_ECDH_RSA_WITH_AES_128_GCM_SHA256")
            .unwrap()
            .forward_secret());
    }
}
