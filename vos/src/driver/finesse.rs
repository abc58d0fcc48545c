//! Finesse's own settings (`utils finesse show_property|set_property webservices`,
//! `application_https_redirect`, `gadget_source_check`): an extension of every [`Driver`], kept apart from the core
//! operations the console runs on every node kind.

use super::{Command, Driver, DriverError};
use std::future::Future;

/// Finesse properties and HTTPS redirect, for every driver.
pub trait FinesseSettings: Driver {
    fn property(&self, name: &str) -> impl Future<Output = Result<String, DriverError>> + Send {
        let line = crate::cli!("utils finesse show_property webservices").arg(name);
        async move {
            let out = self.run(Command::new(line?)).await?;
            Ok(crate::parse_property(&out, name)?)
        }
    }

    fn set_property(
        &self,
        name: &str,
        value: &str,
    ) -> impl Future<Output = Result<(), DriverError>> + Send {
        let line = crate::cli!("utils finesse set_property webservices")
            .arg(name)
            .and_then(|line| line.arg(value));
        async move {
            let out = self.run(Command::new(line?)).await?;
            crate::parse_done(&out, &["Property successfully updated."])?;
            Ok(())
        }
    }

    fn https_redirect(&self) -> impl Future<Output = Result<bool, DriverError>> + Send {
        async {
            let out = self
                .run(Command::new(crate::cli!(
                    "utils finesse application_https_redirect status"
                )))
                .await?;
            Ok(crate::parse_https_redirect(&out)?)
        }
    }

    /// `utils finesse gadget_source_check status`: whether gadgets may reach only the allow
    /// list's URIs (seed 001, against SSRF).
    fn gadget_source_check(&self) -> impl Future<Output = Result<bool, DriverError>> + Send {
        async {
            let out = self
                .run(Command::new(crate::cli!(
                    "utils finesse gadget_source_check status"
                )))
                .await?;
            Ok(crate::parse_gadget_source_check(&out)?)
        }
    }
}

impl<D: Driver + ?Sized> FinesseSettings for D {}
