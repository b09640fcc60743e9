//! Extractors whose rejections are [`ApiError`]s (JSON, with a safe message).

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

fn rejection(status: StatusCode, text: String) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::TooLarge("the request body is too large".into())
    } else {
        ApiError::BadRequest(text)
    }
}

/// A JSON body.
#[derive(Debug)]
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(JsonBody(v)),
            Err(r) => Err(rejection(r.status(), r.body_text())),
        }
    }
}

/// A whole binary body (bounded by the route's body limit).
#[derive(Debug)]
pub struct BinaryBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for BinaryBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        match Bytes::from_request(req, state).await {
            Ok(b) => Ok(BinaryBody(b)),
            Err(r) => Err(rejection(r.status(), r.body_text())),
        }
    }
}

/// Query parameters.
#[derive(Debug)]
pub struct QueryParams<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryParams<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(QueryParams(v)),
            Err(r) => Err(ApiError::BadRequest(r.body_text())),
        }
    }
}

async fn hex_path<S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
    n: usize,
) -> Result<String, ApiError> {
    let axum::extract::Path(s) = axum::extract::Path::<String>::from_request_parts(parts, state)
        .await
        .map_err(|r| ApiError::BadRequest(r.body_text()))?;
    if s.len() != 2 * n
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(ApiError::BadRequest(format!(
            "malformed id {s:?}: expected {} lower-case hex digits",
            2 * n
        )));
    }
    Ok(s)
}

/// A fingerprint path parameter (organization or certificate id: 64 hex digits).
#[derive(Debug)]
pub struct FpPath(pub String);

impl<S: Send + Sync> FromRequestParts<S> for FpPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        hex_path(parts, state, 32).await.map(FpPath)
    }
}

/// A random-id path parameter (delivery, enrollment, upload, envelope: 32 hex digits).
#[derive(Debug)]
pub struct IdPath(pub String);

impl<S: Send + Sync> FromRequestParts<S> for IdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        hex_path(parts, state, 16).await.map(IdPath)
    }
}
