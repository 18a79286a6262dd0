//! `GET /health`: Report service health.
use std::sync::LazyLock;
use std::time::Instant;

use archgen_runtime as rt;

use crate::app::App;
use crate::generated::prelude::*;

static STARTED: LazyLock<Instant> = LazyLock::new(Instant::now);

pub async fn handle(
    app: &App,
    _cx: &rt::Context,
    input: GetHealthInput,
) -> Result<Health, rt::ApiError> {
    let GetHealthInput {} = input;
    // The database answers if a cheap query does; anything else degrades rather than fails.
    let probe = rt::ListQuery {
        limit: 1,
        ..rt::ListQuery::first(&crate::generated::storage::repository::ARTIFACT_TABLE)
    };
    let status = match app.repos.storage.artifacts.list(&probe).await {
        Ok(_) => HealthStatus::Ok,
        Err(_) => HealthStatus::Degraded,
    };
    Ok(Health {
        status,
        uptime: i64::try_from(STARTED.elapsed().as_secs()).unwrap_or(i64::MAX),
    })
}
