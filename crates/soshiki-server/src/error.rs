//! Errors as responses: 4xx with a safe JSON message naming what is wrong, 5xx with a generic
//! message (the detail goes to the log only).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use soshiki_client::proto::json::{ErrorBody, ErrorDetail};
use soshiki_store::StoreError;

/// A handler error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// Malformed or invalid input (400).
    #[error("{0}")]
    BadRequest(String),
    /// Missing, invalid or expired token, or a failed login (401).
    #[error("{0}")]
    Unauthorized(String),
    /// Authenticated but not allowed (403).
    #[error("{0}")]
    Forbidden(String),
    /// Unknown id (404).
    #[error("{0}")]
    NotFound(String),
    /// Conflicts with the current state (409).
    #[error("{0}")]
    Conflict(String),
    /// Existed, but is no longer available (410).
    #[error("{0}")]
    Gone(String),
    /// Too large (413).
    #[error("{0}")]
    TooLarge(String),
    /// A server failure; the message is logged, never sent (500).
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    fn parts(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad-request"),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not-found"),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::Gone(_) => (StatusCode::GONE, "gone"),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too-large"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.parts().0
    }

    /// Map a store error with a message for `NotFound` ("unknown delivery") and `Conflict`.
    pub(crate) fn store(not_found: &str, conflict: &str) -> impl Fn(StoreError) -> ApiError {
        let (nf, cf) = (not_found.to_string(), conflict.to_string());
        move |e| match e {
            StoreError::NotFound(_) => ApiError::NotFound(nf.clone()),
            StoreError::Conflict(_) => ApiError::Conflict(cf.clone()),
            other => ApiError::from(other),
        }
    }
}

/// A JSON error response.
pub(crate) fn error_response(status: StatusCode, code: &str, message: String) -> Response {
    (
        status,
        Json(ErrorBody {
            error: ErrorDetail {
                code: code.into(),
                message,
            },
        }),
    )
        .into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.parts();
        let message = match self {
            ApiError::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                "internal server error".to_string()
            }
            ApiError::BadRequest(m)
            | ApiError::Unauthorized(m)
            | ApiError::Forbidden(m)
            | ApiError::NotFound(m)
            | ApiError::Conflict(m)
            | ApiError::Gone(m)
            | ApiError::TooLarge(m) => m,
        };
        error_response(status, code, message)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(_) => ApiError::NotFound("not found".into()),
            StoreError::Conflict(_) => {
                ApiError::Conflict("conflicts with the current state".into())
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

/// Handler result.
pub type ApiResult<T> = Result<T, ApiError>;
