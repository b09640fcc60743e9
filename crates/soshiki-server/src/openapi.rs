//! The OpenAPI 3.1 document of the HTTP API (hand-maintained in `openapi.json`; a test checks
//! that it describes exactly the router's routes).

use axum::http::header;
use axum::response::IntoResponse;

/// The document.
pub const OPENAPI_JSON: &str = include_str!("openapi.json");

/// `GET /v1/openapi.json`.
pub async fn document() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI_JSON)
}
