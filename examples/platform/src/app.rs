//! The service: archgen's generated defaults plus your custom operations. This file is yours.
#![allow(unused_imports)]
use archgen_runtime as rt;
use rt::prelude::*;

use crate::generated::{self, prelude::*};

pub struct App {
    pub repos: generated::Repositories,
    /// Where events go; subscribe here to react to them.
    pub bus: Arc<dyn rt::events::EventBus>,
}

#[rt::async_trait]
impl generated::server::ServerService for App {
    async fn get_health(
        &self,
        cx: &rt::Context,
        input: GetHealthInput,
    ) -> Result<Health, rt::ApiError> {
        crate::custom::get_health::handle(self, cx, input).await
    }
}

#[rt::async_trait]
impl generated::storage::StorageService for App {
    fn storage_repositories(&self) -> &generated::storage::StorageRepositories {
        &self.repos.storage
    }

    async fn download_artifact(
        &self,
        cx: &rt::Context,
        input: DownloadArtifactInput,
    ) -> Result<DownloadArtifactResponse, rt::ApiError> {
        crate::custom::download_artifact::handle(self, cx, input).await
    }
}
