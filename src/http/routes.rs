//! A router that remembers its paths and describes them: each feature
//! registers a handler once, with [`Routes::api`], and that one call adds the
//! route, records its path (tests walk [`Routes::paths`], so a new route
//! cannot slip past the authentication checks) and adds the handler's
//! `#[utoipa::path]` description to the OpenAPI document.

use axum::routing::MethodRouter;
use axum::Router;
use utoipa::openapi::OpenApi;
use utoipa_axum::router::UtoipaMethodRouter;

use crate::app::AppState;

pub struct Routes {
    router: Router<AppState>,
    paths: Vec<String>,
    doc: OpenApi,
}

impl Default for Routes {
    fn default() -> Self {
        Self {
            router: Router::new(),
            paths: Vec::new(),
            doc: OpenApi::default(),
        }
    }
}

impl Routes {
    pub fn new() -> Self {
        Self::default()
    }

    /// A route outside the documented API (`/v1`, the UI, health).
    pub fn route(mut self, path: &str, methods: MethodRouter<AppState>) -> Self {
        self.router = self.router.route(path, methods);
        self.paths.push(path.to_string());
        self
    }

    /// Documented handlers, from `utoipa_axum::routes!(a, b, …)`: their path
    /// and methods come from their `#[utoipa::path]` annotations, so the
    /// route and its description cannot disagree.
    pub fn api(mut self, (schemas, paths, methods): UtoipaMethodRouter<AppState>) -> Self {
        for path in paths.paths.keys() {
            self.router = self.router.route(path, methods.clone());
            self.paths.push(path.clone());
        }
        for (path, item) in paths.paths {
            match self.doc.paths.paths.get_mut(&path) {
                Some(known) => known.merge_operations(item),
                None => {
                    self.doc.paths.paths.insert(path, item);
                }
            }
        }
        self.doc
            .components
            .get_or_insert_with(Default::default)
            .schemas
            .extend(schemas);
        self
    }

    pub fn merge(mut self, other: Routes) -> Self {
        self.router = self.router.merge(other.router);
        self.paths.extend(other.paths);
        self.doc.merge(other.doc);
        self
    }

    /// Every path template, e.g. `/api/v1/projects/{pid}`.
    pub fn paths(&self) -> &[String] {
        &self.paths
    }

    /// The OpenAPI paths and schemas of every handler added with [`Self::api`].
    pub fn openapi(&self) -> &OpenApi {
        &self.doc
    }

    pub fn into_router(self) -> Router<AppState> {
        self.router
    }
}
