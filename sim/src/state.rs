//! What each simulated appliance has been configured with, kept in a JSON file so that a
//! restarted simulator keeps it.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One certificate of a node's own or trust store.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct StoredCert {
    /// `tomcat`, `ipsec`, `tomcat-trust`, ...
    pub unit: String,
    /// `tomcat.pem`, `<CN>.pem`.
    pub file: String,
    pub description: String,
    pub cert_pem: String,
    /// Own certificates only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_pem: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum CorsMode {
    /// Fresh install: every origin allowed.
    EnableAll,
    /// Only the allowed origins.
    Enable,
    Disable,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Cors {
    pub mode: CorsMode,
    pub origins: Vec<String>,
}

impl Default for Cors {
    fn default() -> Self {
        Self {
            mode: CorsMode::EnableAll,
            origins: Vec::new(),
        }
    }
}

/// Everything a node keeps between commands (and between runs).
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct NodeState {
    /// The SSH host key (PKCS#8 PEM, RSA as on VOS).
    pub host_key: String,
    /// The tomcat certificate's RSA key (regenerations keep it, as VOS does unless asked).
    pub rsa_key: String,
    pub own: Vec<StoredCert>,
    pub trust: Vec<StoredCert>,
    /// The tomcat certificate the HTTPS endpoints serve: the store's as of the last restart
    /// of the web service (a regeneration or import shows only after it).
    pub active_tomcat: Option<StoredCert>,
    pub allowed_hosts: Vec<String>,
    pub config_uris: Vec<String>,
    /// Minutes between proxy-map fetches; `None` before any config URI was added.
    pub update_frequency: Option<u32>,
    /// The proxy map as last fetched (`internal=external` lines).
    pub proxy_map: Vec<String>,
    pub client_auth: bool,
    pub cors: BTreeMap<String, Cors>,
    pub frame_access: Vec<String>,
    pub properties: BTreeMap<String, String>,
    pub https_redirect: bool,
    /// Gadgets may reach only the allow list's URIs (off on a fresh install).
    pub gadget_source_check: bool,
    /// `show tls min-version` (`1.0` ... `1.3`; empty in a state file older than it: the
    /// fleet file's or the default).
    pub tls_min: String,
    pub csr: Option<String>,
    /// A BroadWorks node's CTI settings and copied files.
    pub broadworks: crate::broadworks::Broadworks,
}

impl NodeState {
    pub fn own_cert(&self, unit: &str) -> Option<&StoredCert> {
        self.own.iter().find(|c| c.unit == unit)
    }
}

/// The fleet's state: each node's by FQDN, saved after every change.
pub struct Store {
    path: Option<PathBuf>,
    pub nodes: BTreeMap<String, NodeState>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("reading the state file {path}: {error}")]
    Read { path: String, error: String },
    #[error("writing the state file {path}: {error}")]
    Write { path: String, error: std::io::Error },
}

impl Store {
    /// The state in `path` (empty when the file does not exist yet); `None`: kept in memory.
    pub fn open(path: Option<&Path>) -> Result<Self, StoreError> {
        let nodes = match path {
            Some(path) => match std::fs::read_to_string(path) {
                Ok(text) => serde_json::from_str(&text).map_err(|e| StoreError::Read {
                    path: path.display().to_string(),
                    error: e.to_string(),
                })?,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
                Err(e) => {
                    return Err(StoreError::Read {
                        path: path.display().to_string(),
                        error: e.to_string(),
                    })
                }
            },
            None => BTreeMap::new(),
        };
        Ok(Self {
            path: path.map(Path::to_path_buf),
            nodes,
        })
    }

    /// Writes the file whole (a temporary file renamed over it: never half a file).
    pub fn save(&self) -> Result<(), StoreError> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let error = |error| StoreError::Write {
            path: path.display().to_string(),
            error,
        };
        let text = serde_json::to_string_pretty(&self.nodes).map_err(|e| error(e.into()))?;
        let partial = path.with_extension("json.partial");
        std::fs::write(&partial, text).map_err(error)?;
        std::fs::rename(&partial, path).map_err(error)
    }
}
