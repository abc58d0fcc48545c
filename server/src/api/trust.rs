//! Certificates right the first time: `POST /api/v1/tools/split-chain`, the chain tool (a
//! bundle of certificates split into one PEM file each, named and put in upload order).

use super::Ctx;
use crate::api::error::ApiError;
use crate::api::openapi::ErrorBody;
use axum::Json;
use domain::certificates::chain::{self, Split};

#[utoipa::path(post, path = "/api/v1/tools/split-chain", tag = "certificates",
    extensions(("x-gatehouse-need" = json!("reader"))),
    request_body(content = String, content_type = "text/plain", description = "the bundle: PEM certificate blocks, anything between them (a pasted mail, openssl's bag attributes); the file as it is, any content type (at most 1 MiB). Nothing is kept."),
    responses((status = 200, description = "the certificates in upload order (root, intermediates, then the leaf), each with its role, store, names, validity, fingerprint, the certificate that signed it, a file name and its PEM; whether the chain is complete; notes", body = Split),
        (status = 400, description = "not PEM certificates: binary DER, a PKCS#7 bundle, a private key, no certificate, a block that does not read; the message says how to convert", body = ErrorBody)))]
pub async fn split_chain(
    Ctx(context): Ctx,
    body: axum::body::Bytes,
) -> Result<Json<Split>, ApiError> {
    Ok(Json(chain::split_for(&context, &body)?))
}
