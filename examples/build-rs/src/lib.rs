//! The storage service, generated at build time. Only this file and the spec are in the repository.

use std::sync::Arc;

use archgen_runtime as rt;

/// Everything archgen generated, as one module tree.
pub mod api {
    include!(concat!(env!("OUT_DIR"), "/archgen.rs"));
}

/// A service that takes every generated default and leaves custom operations at 501.
pub struct Service {
    repos: api::Repositories,
}

#[rt::async_trait]
impl api::storage::StorageService for Service {
    fn storage_repositories(&self) -> &api::storage::StorageRepositories {
        &self.repos.storage
    }
}

#[rt::async_trait]
impl api::server::ServerService for Service {}

/// The router over in-memory repositories: enough to serve and test without a database.
pub fn in_memory() -> rt::deps::axum::Router {
    api::router(Arc::new(Service {
        repos: api::Repositories::in_memory(),
    }))
}
