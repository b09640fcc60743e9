//! Demo mode only (`serve --demo`): `GET /v1/demo/members` lists the demo members with their
//! key files and the demo passphrase, so the browser's "try as" list can import one in a click.
//! The route exists only when the server was started with a demo directory
//! ([`crate::ServeConfig::demo_dir`]); a production server answers 404. The server only passes
//! on files `serve --demo` wrote (synthetic organizations); it never opens a key file.

use std::path::Path;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::AppState;

/// The index `serve --demo` writes in the demo directory.
pub const INDEX: &str = "members.json";

/// `GET /v1/demo/members`: the demo directory's `members.json` as written by the seeding.
pub async fn members(State(st): State<AppState>) -> Response {
    let Some(dir) = st.demo_dir.as_deref() else {
        return ApiError::NotFound("no demo on this server".into()).into_response();
    };
    match read(dir).await {
        Ok(body) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "application/json"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            body,
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "demo members index unreadable");
            ApiError::NotFound("the demo is not seeded yet".into()).into_response()
        }
    }
}

async fn read(dir: &Path) -> std::io::Result<Vec<u8>> {
    tokio::fs::read(dir.join(INDEX)).await
}
