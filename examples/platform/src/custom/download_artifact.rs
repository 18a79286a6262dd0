//! `GET /artifacts/{id}/download`: a short-lived link to an artifact's content.
use archgen_runtime as rt;

use crate::app::App;
use crate::generated::prelude::*;

/// How long a download link stays valid.
const LINK_LIFETIME: chrono::Duration = chrono::Duration::minutes(15);

pub async fn handle(
    app: &App,
    _cx: &rt::Context,
    input: DownloadArtifactInput,
) -> Result<DownloadArtifactResponse, rt::ApiError> {
    let artifact = app
        .repos
        .storage
        .artifacts
        .get(input.id)
        .await?
        .ok_or_else(|| rt::ApiError::not_found(format!("Artifact {} not found", input.id)))?;
    // The artifact exists, so 404 would be wrong: it has no content to link to yet.
    let url = artifact.url.clone().ok_or_else(|| {
        rt::ApiError::conflict(format!("Artifact {} has no stored content yet", input.id))
    })?;
    // Subscribers (billing, audit) learn of every link handed out.
    app.repos
        .storage
        .artifacts
        .emit(crate::generated::storage::repository::ArtifactEvent::Downloaded(artifact))
        .await?;
    Ok(DownloadArtifactResponse {
        data: DownloadArtifactResponseData {
            url,
            expires_at: rt::sql::now() + LINK_LIFETIME,
        },
    })
}
