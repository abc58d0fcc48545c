//! TLS verification: why a chain is not trusted ([`TrustFailure`], plain data the browser
//! shows too) and, with the `tls` feature, the rustls verifiers the probe and the REST client
//! use.

mod reason;
pub use reason::TrustFailure;

#[cfg(feature = "tls")]
mod from_rustls;
#[cfg(feature = "tls")]
mod verifiers;
#[cfg(feature = "tls")]
pub use verifiers::*;
