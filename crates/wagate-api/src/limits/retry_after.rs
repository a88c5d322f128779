//! Keeps `Retry-After` on a refused request whatever shape its answer
//! takes. The native error sets the header itself; the compatibility
//! profiles build their own bodies from [`ApiError::into_parts`], so the
//! refusal also notes its wait here and [`keep_header`] adds the header
//! to a 429 that went out without one.
//!
//! [`ApiError::into_parts`]: crate::ApiError::into_parts

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use std::cell::Cell;

tokio::task_local! {
    /// The wait of the limit a request ran into, if any.
    static REFUSED: Cell<Option<u64>>;
}

/// Records that the request being answered was refused for `seconds`.
pub(crate) fn note(seconds: u64) {
    // Outside a request (a unit test) there is no header to keep.
    let _ = REFUSED.try_with(|refused| refused.set(Some(seconds)));
}

/// Middleware over every route: a 429 whose request ran into a limit
/// gets `Retry-After` if its answer has none.
pub async fn keep_header(request: Request, next: Next) -> Response {
    let (seconds, mut response) = REFUSED
        .scope(Cell::new(None), async move {
            let response = next.run(request).await;
            (REFUSED.with(Cell::get), response)
        })
        .await;
    if let Some(seconds) = seconds
        && response.status() == StatusCode::TOO_MANY_REQUESTS
        && !response.headers().contains_key(header::RETRY_AFTER)
    {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}
