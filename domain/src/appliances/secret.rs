//! Appliance passwords sealed at rest: AES-256-GCM with the server's secret key, a random
//! nonce per sealing, and the node id as associated data (a sealed password copied to another
//! node's row does not open).

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use std::path::Path;

pub struct Sealer {
    key: LessSafeKey,
    rng: SystemRandom,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer(..)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("the secret key file {path}: {message}")]
    File { path: String, message: String },
}

impl Sealer {
    /// The key in `path` (64 hex characters); a missing file is created with a new random
    /// key, readable by the owner only.
    pub fn from_file(path: &Path) -> Result<Self, KeyError> {
        let error = |message: String| KeyError::File {
            path: path.display().to_string(),
            message,
        };
        let rng = SystemRandom::new();
        let bytes = match std::fs::read_to_string(path) {
            Ok(text) => {
                let bytes = hex::decode(text.trim())
                    .map_err(|_| error("expected 64 hexadecimal characters".into()))?;
                if bytes.len() != 32 {
                    return Err(error(format!(
                        "expected 32 bytes (64 hexadecimal characters), found {}",
                        bytes.len()
                    )));
                }
                bytes
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut bytes = vec![0u8; 32];
                rng.fill(&mut bytes)
                    .map_err(|_| error("no randomness available".into()))?;
                write_private(path, &format!("{}\n", hex::encode(&bytes)))
                    .map_err(|e| error(e.to_string()))?;
                tracing::info!(path = %path.display(), "generated the secret key that seals appliance passwords");
                bytes
            }
            Err(e) => return Err(error(e.to_string())),
        };
        let key =
            UnboundKey::new(&AES_256_GCM, &bytes).map_err(|_| error("unusable key".into()))?;
        Ok(Self {
            key: LessSafeKey::new(key),
            rng,
        })
    }

    /// `(nonce, sealed)` for `secret`, bound to `node_id`.
    pub fn seal(
        &self,
        node_id: i64,
        secret: &str,
    ) -> Result<(Vec<u8>, Vec<u8>), ring::error::Unspecified> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce)?;
        let mut sealed = secret.as_bytes().to_vec();
        self.key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(node_id.to_be_bytes()),
            &mut sealed,
        )?;
        Ok((nonce.to_vec(), sealed))
    }

    /// The secret, or `None` when it does not open with this key for this node (another key,
    /// another node's row, tampered).
    pub fn open(&self, node_id: i64, nonce: &[u8], sealed: &[u8]) -> Option<String> {
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut buffer = sealed.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(node_id.to_be_bytes()), &mut buffer)
            .ok()?;
        String::from_utf8(plain.to_vec()).ok()
    }
}

/// Creates `path` with mode 0600 (its directory too, if missing).
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(text.as_bytes())?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_opens_only_for_its_node_and_key() {
        let dir = std::env::temp_dir().join(format!("gatehouse-sealer-{}", std::process::id()));
        let path = dir.join("secret.key");
        let sealer = Sealer::from_file(&path).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (nonce, sealed) = sealer.seal(7, "Cisco!123").unwrap();
        assert!(
            !sealed.windows(9).any(|w| w == b"Cisco!123"),
            "not in the clear"
        );
        assert_eq!(
            sealer.open(7, &nonce, &sealed).as_deref(),
            Some("Cisco!123")
        );
        assert_eq!(sealer.open(8, &nonce, &sealed), None, "another node's row");
        let again = Sealer::from_file(&path).unwrap();
        assert_eq!(
            again.open(7, &nonce, &sealed).as_deref(),
            Some("Cisco!123"),
            "the same key is read back"
        );
        std::fs::write(dir.join("bad.key"), "nothex").unwrap();
        assert!(Sealer::from_file(&dir.join("bad.key")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
