//! Proxy maps (`proxymap.txt`, DOMAIN.md §3): what a map's text means for a cluster. The
//! parsing and checking is the `proxymap` crate's; here are the inventory's part of it (which
//! endpoints a cluster's map must have lines for) and the report the pages and the REST API show.

#[cfg(feature = "server")]
pub mod store;

#[cfg(test)]
mod tests;

use crate::inventory::model::NodeKind;
use serde::{Deserialize, Serialize};

/// The internal ports a map needs a line for, per kind (DOMAIN.md §3: Finesse 8445, IdS 8553,
/// CUIC 8444 and 8447, LiveData 12005 and 12008). IM&P's 5280 only when chat goes through
/// the proxy, and the IdP only when its name differs: neither is required.
pub fn expected_ports(kind: NodeKind) -> &'static [u16] {
    match kind {
        NodeKind::Finesse => &[8445],
        NodeKind::Ids => &[8553],
        NodeKind::Cuic => &[8444, 8447],
        NodeKind::LiveData => &[12005, 12008],
        _ => &[],
    }
}

/// One problem of a map (a [`proxymap::Diagnostic`] as the API shows it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct DiagnosticView {
    /// 1-based; 0: the map as a whole (a line that is missing).
    pub line: usize,
    /// 1-based, in characters; 0 with line 0.
    pub column: usize,
    /// `error` or `warning`.
    pub level: String,
    /// Stable: what tools match on (README, "Proxy maps").
    pub code: String,
    pub message: String,
}

impl From<&proxymap::Diagnostic> for DiagnosticView {
    fn from(d: &proxymap::Diagnostic) -> Self {
        Self {
            line: d.line,
            column: d.column,
            level: d.level.as_str().into(),
            code: d.code.as_str().into(),
            message: d.message.clone(),
        }
    }
}

/// What a map's text is: how many mappings, what is wrong, and the file the nodes would get.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(utoipa::ToSchema))]
pub struct Validation {
    /// Whether it may be published (no errors; warnings allowed).
    pub valid: bool,
    pub mappings: usize,
    pub errors: usize,
    pub warnings: usize,
    pub diagnostics: Vec<DiagnosticView>,
    /// The file the nodes fetch: one `internal:port=external:port` line per mapping.
    pub rendered: String,
}

impl Validation {
    pub fn of(map: &proxymap::Map) -> Self {
        let errors = map
            .diagnostics
            .iter()
            .filter(|d| d.level == proxymap::Level::Error)
            .count();
        Self {
            valid: errors == 0,
            mappings: map.mappings.len(),
            errors,
            warnings: map.diagnostics.len() - errors,
            diagnostics: map.diagnostics.iter().map(DiagnosticView::from).collect(),
            rendered: map.render(),
        }
    }
}
