//! SSO at the edge (seed 004): a bearer token is believed when the IdS's key verifies its
//! signature and it has not expired; then it is believed for `auth.token_cache_secs` (7,200 s)
//! or until it expires, whichever comes first, without verifying it again. The IdS's keys are
//! fetched from the IdS routes (`auth.ids_key_path`) every `auth.ids_key_refresh_secs` (300 s)
//! and when a token names a key not known yet (at most once every 10 s).
//!
//! A token is a JWT signed ES256 (ECDSA P-256 with SHA-256): `header.claims.signature`,
//! each base64url; `sub` is the login ID, `exp` the Unix time it expires. Any other algorithm
//! is refused (no `none`, no HMAC with a public key).

use crate::{lock, now};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use ring::signature::{UnparsedPublicKey, ECDSA_P256_SHA256_FIXED};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Upper bound on tokens remembered.
const MAX_TOKENS: usize = 50_000;
/// Longest token read (a desktop's is well under 2 KiB).
const MAX_TOKEN: usize = 8 << 10;
/// At most one fetch of the keys this often when a token names an unknown one.
const FETCH_AT_MOST: Duration = Duration::from_secs(10);

#[derive(Default)]
pub struct Sso {
    /// Verifying keys by key id: uncompressed P-256 points, and the IdS route that published
    /// each (a fetch replaces that route's keys: a key the IdS no longer publishes is dropped).
    keys: Mutex<HashMap<String, (Vec<u8>, String)>>,
    /// Users revoked here, and when (Unix seconds): their tokens issued before are refused.
    revoked: Mutex<HashMap<String, u64>>,
    /// SHA-256 of a believed token → (login ID, believed until).
    tokens: Mutex<HashMap<[u8; 32], (String, Instant)>>,
    /// When the keys were last fetched (or tried).
    fetched: Mutex<Option<Instant>>,
    /// Held while the keys are fetched: a token waiting for a key waits for a fetch under way.
    pub(crate) fetching: tokio::sync::Mutex<()>,
}

/// Why a token is not believed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Not a token of the form this engine reads, or signed with another algorithm.
    Unreadable,
    /// Its key id is not one the IdS published (yet).
    UnknownKey,
    BadSignature,
    Expired,
    /// Issued before its user was revoked here, or not valid yet (`nbf`).
    Revoked,
}

impl Refused {
    /// Whether the refusal counts toward a ban: a token someone made up or altered does; one
    /// that merely expired, or names a key not fetched yet, does not (a desktop holding an
    /// old token must not get its whole NAT address banned).
    pub fn counts(self) -> bool {
        matches!(self, Refused::Unreadable | Refused::BadSignature)
    }
}

/// How long a revocation is remembered (longer than any access token lives).
const REVOKED_FOR: u64 = 24 * 3600;

#[derive(serde::Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: String,
}

#[derive(serde::Deserialize)]
struct Claims {
    sub: String,
    exp: u64,
    #[serde(default)]
    iat: Option<u64>,
    #[serde(default)]
    nbf: Option<u64>,
    #[serde(default)]
    iss: Option<String>,
}

fn digest(token: &str) -> [u8; 32] {
    let d = ring::digest::digest(&ring::digest::SHA256, token.as_bytes());
    let mut out = [0; 32];
    out.copy_from_slice(d.as_ref());
    out
}

impl Sso {
    /// The login ID of a token believed earlier and still within its time.
    pub fn believed(&self, token: &str) -> Option<String> {
        let tokens = lock(&self.tokens);
        let (user, until) = tokens.get(&digest(token))?;
        (Instant::now() < *until).then(|| user.clone())
    }

    /// Verifies `token`: its login ID, and until when (Unix seconds) it holds. `issuers`: the
    /// issuers believed (empty: any the IdS key signs).
    pub fn verify(&self, token: &str, issuers: &[String]) -> Result<(String, u64), Refused> {
        if token.len() > MAX_TOKEN {
            return Err(Refused::Unreadable);
        }
        let mut parts = token.split('.');
        let (Some(header), Some(claims), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Refused::Unreadable);
        };
        let read = |part: &str| B64.decode(part).map_err(|_| Refused::Unreadable);
        let header: Header =
            serde_json::from_slice(&read(header)?).map_err(|_| Refused::Unreadable)?;
        if header.alg != "ES256" {
            return Err(Refused::Unreadable);
        }
        let key = lock(&self.keys)
            .get(&header.kid)
            .map(|(point, _)| point.clone())
            .ok_or(Refused::UnknownKey)?;
        let signed = &token[..token.len() - signature.len() - 1];
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, key)
            .verify(signed.as_bytes(), &read(signature)?)
            .map_err(|_| Refused::BadSignature)?;
        let claims: Claims =
            serde_json::from_slice(&read(claims)?).map_err(|_| Refused::Unreadable)?;
        if !crate::auth::plausible_user(&claims.sub) {
            return Err(Refused::Unreadable);
        }
        if !issuers.is_empty()
            && !claims
                .iss
                .as_deref()
                .is_some_and(|iss| issuers.iter().any(|i| i.eq_ignore_ascii_case(iss)))
        {
            return Err(Refused::Unreadable);
        }
        let now = now();
        if claims.exp <= now {
            return Err(Refused::Expired);
        }
        if claims.nbf.is_some_and(|nbf| nbf > now + 60) {
            return Err(Refused::Revoked);
        }
        let user = claims.sub.to_ascii_lowercase();
        if let Some(at) = lock(&self.revoked).get(&user) {
            if claims.iat.is_none_or(|iat| iat <= *at) {
                return Err(Refused::Revoked);
            }
        }
        Ok((claims.sub, claims.exp))
    }

    /// Believes `token` as `user` for `cache_secs`, or until `exp`, whichever is sooner.
    pub fn remember(&self, token: &str, user: &str, exp: u64, cache_secs: u64) {
        let secs = exp.saturating_sub(now()).min(cache_secs);
        let mut tokens = lock(&self.tokens);
        if tokens.len() >= MAX_TOKENS {
            let now = Instant::now();
            tokens.retain(|_, (_, until)| *until > now);
            if tokens.len() >= MAX_TOKENS {
                return;
            }
        }
        tokens.insert(
            digest(token),
            (user.to_owned(), Instant::now() + Duration::from_secs(secs)),
        );
    }

    /// Revokes `user`: its believed tokens are forgotten and every token issued to it until
    /// now is refused from here on (for a day: longer than an access token lives).
    pub fn revoke(&self, user: &str) {
        lock(&self.tokens).retain(|_, (u, _)| !u.eq_ignore_ascii_case(user));
        let mut revoked = lock(&self.revoked);
        if revoked.len() < MAX_TOKENS {
            revoked.insert(user.to_ascii_lowercase(), now());
        }
    }

    pub fn expire(&self) {
        let now = Instant::now();
        lock(&self.tokens).retain(|_, (_, until)| *until > now);
        let cutoff = crate::now().saturating_sub(REVOKED_FOR);
        lock(&self.revoked).retain(|_, at| *at > cutoff);
    }

    /// Whether any key is known.
    pub fn has_keys(&self) -> bool {
        !lock(&self.keys).is_empty()
    }

    /// Whether the keys are due: never fetched, older than `refresh`, or wanted now (a token
    /// named an unknown key) and not fetched within the last 10 s. Marks the attempt.
    pub fn due(&self, refresh: Duration, wanted: bool) -> bool {
        let mut fetched = lock(&self.fetched);
        let due = match *fetched {
            None => true,
            Some(at) => at.elapsed() >= refresh || (wanted && at.elapsed() >= FETCH_AT_MOST),
        };
        if due {
            *fetched = Some(Instant::now());
        }
        due
    }

    /// Takes the keys IdS route `source` published (`{"keys": [{"kid", "alg": "ES256",
    /// "key"}]}`) in place of those it published before: how many were read. Keys of another
    /// algorithm or not a P-256 point are left out; an answer that does not read as keys
    /// changes nothing.
    pub fn take_keys(&self, source: &str, published: &[u8]) -> usize {
        #[derive(serde::Deserialize)]
        struct Published {
            keys: Vec<Key>,
        }
        #[derive(serde::Deserialize)]
        struct Key {
            kid: String,
            alg: String,
            key: String,
        }
        let Ok(published) = serde_json::from_slice::<Published>(published) else {
            return 0;
        };
        let mut keys = lock(&self.keys);
        keys.retain(|_, (_, from)| from != source);
        let mut read = 0;
        for k in published.keys.into_iter().take(16) {
            match B64.decode(&k.key) {
                Ok(point) if k.alg == "ES256" && point.len() == 65 && point[0] == 4 => {
                    // A key id another route published stays that route's.
                    keys.entry(k.kid)
                        .or_insert_with(|| (point, source.to_owned()));
                    read += 1;
                }
                _ => {}
            }
        }
        read
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ring::rand::SystemRandom;
    use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};

    fn signer() -> EcdsaKeyPair {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng).unwrap()
    }

    fn token(key: &EcdsaKeyPair, alg: &str, sub: &str, exp: u64) -> String {
        let header = serde_json::json!({"alg": alg, "kid": "k1"}).to_string();
        let claims = serde_json::json!({"sub": sub, "exp": exp, "iss": "ids1.example.com", "iat": now() - 5}).to_string();
        let signed = format!("{}.{}", B64.encode(header), B64.encode(claims));
        let sig = key.sign(&SystemRandom::new(), signed.as_bytes()).unwrap();
        format!("{signed}.{}", B64.encode(sig.as_ref()))
    }

    #[test]
    fn a_token_is_believed_only_when_the_ids_key_verifies_it_and_it_holds() {
        let key = signer();
        let sso = Sso::default();
        let published = serde_json::json!({"keys": [{"kid": "k1", "alg": "ES256",
            "key": B64.encode(key.public_key().as_ref())}]});
        let good = token(&key, "ES256", "agent1", now() + 600);
        assert_eq!(
            sso.verify(&good, &[]),
            Err(Refused::UnknownKey),
            "no key yet"
        );
        assert_eq!(sso.take_keys("ids1", published.to_string().as_bytes()), 1);
        assert_eq!(sso.verify(&good, &[]), Ok(("agent1".into(), now() + 600)));
        assert_eq!(
            sso.verify(&good, &["ids9.example.com".into()]),
            Err(Refused::Unreadable),
            "an issuer not believed"
        );
        assert_eq!(
            sso.verify(&token(&key, "ES256", "agent1", now() - 1), &[]),
            Err(Refused::Expired)
        );
        assert_eq!(
            sso.verify(&token(&signer(), "ES256", "agent1", now() + 600), &[]),
            Err(Refused::BadSignature),
            "signed by another key under the same id"
        );
        assert_eq!(
            sso.verify(&token(&key, "HS256", "agent1", now() + 600), &[]),
            Err(Refused::Unreadable)
        );
        // A token whose claims were changed after signing.
        let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
        parts[1] = B64.encode(serde_json::json!({"sub": "admin", "exp": now() + 600}).to_string());
        assert_eq!(
            sso.verify(&parts.join("."), &[]),
            Err(Refused::BadSignature)
        );
        assert_eq!(sso.verify("a.b", &[]), Err(Refused::Unreadable));
        assert_eq!(
            sso.verify(&token(&key, "ES256", "agent1\nx", now() + 600), &[]),
            Err(Refused::Unreadable)
        );
        // Believed until it expires, even when the cache would keep it longer.
        sso.remember(&good, "agent1", now() + 600, 7_200);
        assert_eq!(sso.believed(&good).as_deref(), Some("agent1"));
        sso.revoke("AGENT1");
        assert_eq!(sso.believed(&good), None);
        assert_eq!(
            sso.verify(&good, &[]),
            Err(Refused::Revoked),
            "issued before the revocation"
        );
        // The IdS stops publishing the key: it no longer verifies anything.
        assert_eq!(sso.take_keys("ids1", br#"{"keys": []}"#), 0);
        assert_eq!(sso.verify(&good, &[]), Err(Refused::UnknownKey));
        assert!(!sso.has_keys());
    }
}
