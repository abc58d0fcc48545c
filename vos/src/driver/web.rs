//! The products' browser-facing settings: the CORS mode and allowed origins of Finesse, CUIC
//! and LiveData, and the frame-ancestors list of Finesse and CUIC (`utils <product> cors ...`,
//! `utils <product> frame_access_allowed_list ...`): an extension of every [`Driver`], as
//! [`FinesseSettings`](super::FinesseSettings) is, so the core trait stays the platform's.

use super::{Change, Command, Driver, DriverError, Product};
use crate::Changed;
use std::future::Future;

/// CORS and frame-ancestors, for every driver.
pub trait WebAccess: Driver {
    /// `utils finesse|cuic frame_access_allowed_list list` (CUIC's is not documented publicly:
    /// Finesse's shape, inferred; LiveData has none).
    fn frame_access(
        &self,
        product: Product,
    ) -> impl Future<Output = Result<Vec<String>, DriverError>> + Send {
        let line = product
            .utils()
            .then(crate::cli!("frame_access_allowed_list list"));
        async move {
            let out = self.run(Command::new(line)).await?;
            Ok(crate::parse_frame_list(&out)?)
        }
    }

    fn add_frame_sources(
        &self,
        product: Product,
        sources: &[&str],
    ) -> impl Future<Output = Result<Changed, DriverError>> + Send {
        let change = Change::add_frame_sources(product, sources);
        async move { self.apply(&change?).await }
    }

    fn delete_frame_source(
        &self,
        product: Product,
        source: &str,
        at: Option<usize>,
    ) -> impl Future<Output = Result<Changed, DriverError>> + Send {
        let change = Change::delete_frame_source(product, source, at);
        async move { self.apply(&change).await }
    }

    fn cors(
        &self,
        product: Product,
    ) -> impl Future<Output = Result<crate::CorsMode, DriverError>> + Send {
        let line = product.utils().then(crate::cli!("cors status"));
        async move {
            Ok(crate::parse_cors_status(
                &self.run(Command::new(line)).await?,
            )?)
        }
    }

    fn set_cors(
        &self,
        product: Product,
        mode: crate::CorsMode,
    ) -> impl Future<Output = Result<Changed, DriverError>> + Send {
        let change = Change::set_cors(product, mode);
        async move { self.apply(&change).await }
    }

    fn allowed_origins(
        &self,
        product: Product,
    ) -> impl Future<Output = Result<Vec<String>, DriverError>> + Send {
        let line = product
            .utils()
            .then(crate::cli!("cors allowed_origin list"));
        async move {
            Ok(crate::parse_origin_list(
                &self.run(Command::new(line)).await?,
            )?)
        }
    }

    fn add_allowed_origins(
        &self,
        product: Product,
        origins: &[&str],
    ) -> impl Future<Output = Result<Changed, DriverError>> + Send {
        let change = Change::add_allowed_origins(product, origins);
        async move { self.apply(&change?).await }
    }

    fn delete_allowed_origin(
        &self,
        product: Product,
        origin: &str,
        at: Option<usize>,
    ) -> impl Future<Output = Result<Changed, DriverError>> + Send {
        let change = Change::delete_allowed_origin(product, origin, at);
        async move { self.apply(&change).await }
    }
}

impl<D: Driver + ?Sized> WebAccess for D {}
