//! Who may call each REST route, declared once, with the route.
//!
//! An operation needs `reader` when it reads (GET) and `admin` when it changes something; one
//! that needs otherwise says so in its `#[utoipa::path]`:
//! `extensions(("x-gatehouse-need" = json!("anyone")))` (signing in and out) or `"monitor"`
//! (alerts). From the route list the router is built with, this module
//! - writes every operation's need into the OpenAPI document (`x-gatehouse-need`, and a
//!   `security` requirement that is empty for `anyone`), so that clients and the tests read it;
//! - builds the table that [`enforce`] checks before any extractor or handler runs: 401 without
//!   a session or token, 403 for a weaker role.
//!
//! The services check the principal again (`domain::auth::principal`), so a route that
//! declares too little still refuses; this layer makes the refusal uniform and early.

use crate::api::error::ApiError;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use domain::auth::principal::{Need, RequestContext};
use http::Method;
use std::collections::HashMap;
use std::sync::Arc;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::OpenApi;
use utoipa::Modify;

/// The route that answers every path under the API that the route list does not declare.
pub const UNKNOWN: &str = "/api/v1/{*rest}";

/// The OpenAPI extension that names an operation's [`Need`].
pub const EXTENSION: &str = "x-gatehouse-need";

/// Each operation of a path item with its method.
pub fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = (Method, &mut Operation)> {
    [
        (Method::GET, &mut item.get),
        (Method::POST, &mut item.post),
        (Method::PUT, &mut item.put),
        (Method::PATCH, &mut item.patch),
        (Method::DELETE, &mut item.delete),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.as_mut().map(|o| (method, o)))
}

/// The need an operation declares, else the default for its method.
pub fn need_of(method: &Method, operation: &Operation) -> Need {
    operation
        .extensions
        .as_ref()
        .and_then(|e| e.get(EXTENSION))
        .and_then(|v| v.as_str())
        .and_then(Need::parse)
        .unwrap_or(if *method == Method::GET {
            Need::Reader
        } else {
            Need::Admin
        })
}

/// Writes every operation's need and security requirement into the document.
pub struct Needs;

impl Modify for Needs {
    fn modify(&self, openapi: &mut OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for (method, operation) in operations_mut(item) {
                let need = need_of(&method, operation);
                operation
                    .extensions
                    .get_or_insert_with(Default::default)
                    .insert(EXTENSION.to_owned(), need.as_str().into());
                operation.security = Some(match need {
                    // An empty requirement: no credentials needed.
                    Need::Anyone => vec![SecurityRequirement::default()],
                    _ => vec![
                        SecurityRequirement::new("bearer", Vec::<String>::new()),
                        SecurityRequirement::new("session", Vec::<String>::new()),
                    ],
                });
            }
        }
    }
}

/// (method, path template) → need, for every documented operation.
#[derive(Debug, Default)]
pub struct Table(HashMap<(Method, String), Need>);

impl Table {
    /// Reads the needs [`Needs`] wrote into the document.
    pub fn of(openapi: &OpenApi) -> Self {
        let mut table = HashMap::new();
        for (path, item) in &openapi.paths.paths {
            let operations = [
                (Method::GET, &item.get),
                (Method::POST, &item.post),
                (Method::PUT, &item.put),
                (Method::PATCH, &item.patch),
                (Method::DELETE, &item.delete),
            ];
            for (method, operation) in operations {
                if let Some(operation) = operation {
                    let need = need_of(&method, operation);
                    table.insert((method, path.clone()), need);
                }
            }
        }
        Self(table)
    }

    /// Every (method, path template, need), sorted by path and method.
    pub fn entries(&self) -> Vec<(Method, String, Need)> {
        sorted(&self.0)
    }

    fn get(&self, method: &Method, path: &str) -> Option<Need> {
        // HEAD is answered by the GET handler.
        let method = if method == Method::HEAD {
            Method::GET
        } else {
            method.clone()
        };
        if path == UNKNOWN {
            // A read of a path no one declared answers 404 to anyone; a write is refused as
            // any write would be, so an endpoint that forgot to declare itself is no gap.
            return Some(match method {
                Method::GET => Need::Anyone,
                _ => Need::Admin,
            });
        }
        self.0.get(&(method, path.to_owned())).copied()
    }
}

/// A table of (method, path) → need as (method, path, need), sorted by path and method.
pub fn sorted<N: Copy>(table: &HashMap<(Method, String), N>) -> Vec<(Method, String, N)> {
    let mut entries: Vec<_> = table
        .iter()
        .map(|((method, path), need)| (method.clone(), path.clone(), *need))
        .collect();
    entries.sort_by(|a, b| (&a.1, a.0.as_str()).cmp(&(&b.1, b.0.as_str())));
    entries
}

/// Refuses a request whose principal is less than its route needs.
pub async fn enforce(
    State(table): State<Arc<Table>>,
    matched: Option<MatchedPath>,
    request: Request,
    next: Next,
) -> Response {
    let need = matched.and_then(|path| table.get(request.method(), path.as_str()));
    if let Some(need) = need {
        let context = request
            .extensions()
            .get::<RequestContext>()
            .cloned()
            .unwrap_or_default();
        if let Err(error) = context.require(need) {
            return ApiError::from(error).into_response();
        }
    }
    next.run(request).await
}
