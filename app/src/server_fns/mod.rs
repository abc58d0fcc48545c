//! The server functions the pages call: thin adapters that read the request's principal and
//! the services from the Leptos context, call the domain, and turn its errors into
//! [`crate::error::AppError`]. One file per area, as in the domain crate.

pub mod appliances;
pub mod audit;
pub mod auth;
pub mod certificates;
pub mod cti;
pub mod inventory;
pub mod policy;
pub mod posture;
pub mod proxies;
pub mod proxymaps;
pub mod tokens;
pub mod trust;
pub mod users;
pub mod webhooks;

use leptos::server_fn;
#[cfg(feature = "ssr")]
use server_fn::ServerFn;

/// Where every server function answers (each one's `#[server(prefix = ...)]` says it too; a
/// test holds them the same).
pub const PREFIX: &str = "/api/fn";

/// Who may call a server function, declared once, here, by its own path. A POST changes
/// something and needs an admin unless this table says otherwise; a GET reads and is left to
/// its service's check (a reader or a monitor, as what it reads). The server enforces this
/// before the function runs (`server::access`); the services check again.
#[cfg(feature = "ssr")]
pub fn needs() -> [(&'static str, domain::auth::principal::Need); 8] {
    use domain::auth::principal::Need;
    [
        // Signing in and out and first-start setup need no principal; changing one's own
        // password needs a signed-in user, which its service checks.
        (<auth::Login as ServerFn>::PATH, Need::Anyone),
        (<auth::Logout as ServerFn>::PATH, Need::Anyone),
        (<auth::Setup as ServerFn>::PATH, Need::Anyone),
        (<auth::ChangePassword as ServerFn>::PATH, Need::Anyone),
        // POSTs that only read (what they read is in the body).
        (<policy::LookupHosts as ServerFn>::PATH, Need::Reader),
        (<policy::PolicyDiff as ServerFn>::PATH, Need::Reader),
        (<certificates::SplitChain as ServerFn>::PATH, Need::Reader),
        (<trust::CheckCertificate as ServerFn>::PATH, Need::Reader),
    ]
}

/// Server functions whose bodies may be as large as an inventory import.
#[cfg(feature = "ssr")]
pub fn large_bodies() -> [&'static str; 1] {
    [<inventory::ImportInventory as ServerFn>::PATH]
}

/// How every server function answers: JSON, as with `server_fn`'s own `Json`, but read in the
/// browser from text (`serde_json::from_str`) rather than from bytes. The page's resources take
/// the server's data over from text too, and each reader is a copy of every type's JSON
/// decoder: one reader instead of two keeps a sixth of the browser bundle out of it.
pub type Answer = server_fn::codec::Post<JsonText>;

/// The encoding of [`Answer`].
pub struct JsonText;

impl server_fn::ContentType for JsonText {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl server_fn::FormatType for JsonText {
    const FORMAT_TYPE: server_fn::Format = server_fn::Format::Text;
}

impl<T: serde::Serialize> server_fn::Encodes<T> for JsonText {
    type Error = serde_json::Error;

    fn encode(output: &T) -> Result<server_fn::Bytes, Self::Error> {
        serde_json::to_vec(output).map(server_fn::Bytes::from)
    }
}

impl<T: serde::de::DeserializeOwned> server_fn::Decodes<T> for JsonText {
    type Error = serde_json::Error;

    fn decode(bytes: server_fn::Bytes) -> Result<T, Self::Error> {
        let text = std::str::from_utf8(&bytes).map_err(serde::de::Error::custom)?;
        serde_json::from_str(text)
    }
}
