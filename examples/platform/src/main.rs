//! Serves every operation of the spec. `PORT` (default 8080) and `DATABASE_URL` (default an
//! SQLite file here; `postgres://…` for Postgres) configure it; `ARCHGEN_DEV_ORGANIZATION` acts
//! for one organization during development. This file is yours.
use archgen_runtime as rt;

#[tokio::main]
async fn main() -> Result<(), rt::BoxError> {
    if rt::settings::help_requested() {
        print!("{}", rt::settings::help("archgen-platform"));
        return Ok(());
    }
    rt::server::init_tracing();
    let config = rt::server::Config::from_env("archgen-platform")?;
    let db = rt::sql::Db::connect(&config.database_url).await?;
    let router = rt::server::dev_caller(archgen_platform::router(&db).await?)?;
    rt::deps::tracing::info!(database = db.backend(), "migrations applied");
    rt::server::serve(router, config.port).await
}
