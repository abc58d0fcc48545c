//! The Identity Service's part in SSO, as a proxy in front of it needs it: access tokens for
//! the fleet's agents (JWTs signed ES256 with a key the node makes at start) and the key that
//! verifies them (`GET /ids/v1/keys/verifying`, what seed 004's proxy polls every 300 s).
//! Cisco's IdS signs with a key of its own and its tokens are opaque to clients; the claims
//! here (`sub`: the login ID, `exp`) are what a proxy reads of them.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use std::time::{SystemTime, UNIX_EPOCH};

/// An IdS node's token signing key.
pub(crate) struct Signer {
    key: EcdsaKeyPair,
    kid: String,
}

impl Signer {
    pub fn new(fqdn: &str) -> Option<Signer> {
        let random = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &random).ok()?;
        let key =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &random)
                .ok()?;
        let kid = format!("{fqdn}-{}", &B64.encode(&key.public_key().as_ref()[1..7]));
        Some(Signer { key, kid })
    }

    /// An access token for `user`, valid `seconds` from now (negative: expired already).
    pub fn token(&self, issuer: &str, user: &str, seconds: i64) -> Option<String> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs() as i64;
        let header = serde_json::json!({"alg": "ES256", "typ": "JWT", "kid": self.kid});
        let claims =
            serde_json::json!({"iss": issuer, "sub": user, "iat": now, "exp": now + seconds});
        let signed = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(claims.to_string())
        );
        let signature = self
            .key
            .sign(&SystemRandom::new(), signed.as_bytes())
            .ok()?;
        Some(format!("{signed}.{}", B64.encode(signature.as_ref())))
    }

    /// The verifying key as the keys endpoint serves it.
    pub fn published(&self) -> serde_json::Value {
        serde_json::json!({"keys": [{
            "kid": self.kid,
            "alg": "ES256",
            // The uncompressed P-256 point (0x04 ‖ x ‖ y), base64url.
            "key": B64.encode(self.key.public_key().as_ref()),
        }]})
    }
}

impl crate::Fleet {
    /// An SSO access token IdS node `node` signs for `user`, valid `seconds` from now
    /// (negative: expired); `None` when the node is not an IdS.
    pub fn ids_token(&self, node: usize, user: &str, seconds: i64) -> Option<String> {
        let issuer = &self.nodes[node].fqdn;
        self.live[node].ids.as_ref()?.token(issuer, user, seconds)
    }

    /// IdS node `node`'s verifying key, as it publishes it.
    pub(crate) fn ids_key(&self, node: usize) -> Option<serde_json::Value> {
        Some(self.live[node].ids.as_ref()?.published())
    }

    /// Whether some agent of the fleet signs in with `user` and `password` (the IdS's
    /// identity provider, simulated).
    pub(crate) fn agent_password(&self, user: &str, password: &str) -> bool {
        self.nodes
            .iter()
            .flat_map(|n| &n.agents)
            .any(|a| a.id == user && a.password == password)
    }
}
