//! A JSON body extractor whose rejections are `ApiError`s, so bad JSON,
//! wrong types, missing fields and oversized bodies all get the API's error
//! shape, with the offending field named.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

/// Largest JSON body accepted; larger bodies are answered with 413.
pub const JSON_BODY_LIMIT: usize = 1024 * 1024;

/// `Json<T>` with API-shaped rejections.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<mime_lite::Essence>().ok())
            .is_some_and(|essence| essence.is_json());
        if !is_json {
            return Err(ApiError::UnsupportedMediaType(
                "Expected a JSON body with 'Content-Type: application/json'".to_string(),
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge(format!(
                    "Request body exceeds the limit of {JSON_BODY_LIMIT} bytes"
                ))
            } else {
                ApiError::BadRequest("Could not read the request body".to_string())
            }
        })?;
        parse(&bytes).map(ApiJson)
    }
}

/// Deserializes `bytes`, turning serde's complaint into a field-named error.
/// Every request body of this API is a JSON object; serde would also
/// accept an array for a struct, and name its fields `[0]`, `[1]`.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => {}
        None => return Err(ApiError::BadRequest("Request body is empty".to_string())),
        Some(_) => {
            return Err(ApiError::BadRequest(
                "Request body must be a JSON object".to_string(),
            ));
        }
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        if !inner.is_data() {
            return ApiError::BadRequest(format!("Invalid JSON body: {inner}"));
        }
        let detail = strip_position(&inner.to_string());
        if let Some(missing) = missing_field(&detail) {
            let field = if path == "." {
                missing.to_string()
            } else {
                format!("{path}.{missing}")
            };
            return ApiError::validation(field, "is required");
        }
        if path == "." {
            return ApiError::BadRequest(format!("Invalid request body: {detail}"));
        }
        ApiError::validation(path, detail)
    })?;
    // Trailing garbage after the object is malformed JSON too.
    de.end()
        .map_err(|err| ApiError::BadRequest(format!("Invalid JSON body: {err}")))?;
    Ok(value)
}

/// serde_json appends "at line L column C"; the field name says more.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// The field name in serde's "missing field `name`".
fn missing_field(message: &str) -> Option<&str> {
    message.strip_prefix("missing field `")?.split('`').next()
}

/// Just enough media-type parsing to accept `application/json`,
/// `application/json; charset=utf-8` and `application/*+json`.
mod mime_lite {
    pub struct Essence(String);

    impl std::str::FromStr for Essence {
        type Err = ();
        fn from_str(s: &str) -> Result<Self, ()> {
            let essence = s.split(';').next().ok_or(())?.trim().to_ascii_lowercase();
            Ok(Essence(essence))
        }
    }

    impl Essence {
        pub fn is_json(&self) -> bool {
            self.0 == "application/json"
                || (self.0.starts_with("application/") && self.0.ends_with("+json"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[allow(dead_code)]
    #[derive(Debug, Deserialize)]
    struct Send {
        to: String,
        message: String,
    }

    fn field_of(err: ApiError) -> String {
        match err {
            ApiError::Validation { field, .. } => field,
            other => panic!("not a validation error: {other:?}"),
        }
    }

    #[test]
    fn names_the_field() {
        let missing = parse::<Send>(br#"{"to": "1"}"#).unwrap_err();
        assert_eq!(field_of(missing), "message");
        let wrong = parse::<Send>(br#"{"to": 5, "message": "x"}"#).unwrap_err();
        assert_eq!(field_of(wrong), "to");
    }

    #[test]
    fn malformed_is_bad_request() {
        assert!(matches!(parse::<Send>(b"{"), Err(ApiError::BadRequest(_))));
        assert!(matches!(
            parse::<Send>(b"[1]"),
            Err(ApiError::BadRequest(_))
        ));
        let trailing = parse::<Send>(br#"{"to":"1","message":"x"} x"#);
        assert!(matches!(trailing, Err(ApiError::BadRequest(_))));
    }
}
