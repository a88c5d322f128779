//! Tokens: access tokens expire and cannot be altered or forged, refresh
//! tokens work once, logging out ends a login, and a failed login does not
//! tell whether the email has an account.

use super::{PASSWORD, access, customer, login, post_open, refresh_token};
use crate::it::{TestApp, assert_error, eventually};
use serde_json::{Value, json};
use std::time::Duration;
use wagate_api::accounts::tokens::{Claims, TokenKeys, TokenKind};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_access_token_expires() {
    let app = TestApp::spawn_with(&[("WAGATE_JWT_ACCESS_TTL_S", "1")]).await;
    let (_, email) = customer(&app, "brief").await;
    let tokens = login(&app, &email, PASSWORD).await;
    assert_eq!(tokens["expiresIn"], 1);
    let jwt = access(&tokens);
    let expired = eventually(Duration::from_secs(5), || async {
        let response = app.get("/api/v1/users/profile", &jwt).await;
        (response.status() == 401).then_some(response)
    })
    .await;
    let body = assert_error(expired, 401, "Unauthorized").await;
    assert_eq!(body["message"], "Token expired");
    // The refresh token still gets a new pair.
    let body = json!({ "refreshToken": refresh_token(&tokens) });
    let renewed = post_open(&app, "/api/v1/auth/refresh", body).await;
    assert_eq!(renewed.status(), 200);
}

/// The gateway's token keys, from the master key it keeps in its data
/// directory.
fn gateway_keys(app: &TestApp) -> TokenKeys {
    let text = std::fs::read_to_string(app.data_dir.join("master.key")).unwrap();
    let master = wagate_store::StateCipher::from_base64(&text).unwrap();
    TokenKeys::new(&master, Duration::from_secs(900), Duration::from_secs(3600))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_tampered_and_foreign_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let (tenant, email) = customer(&app, "shop").await;
    let tokens = login(&app, &email, PASSWORD).await;
    let jwt = access(&tokens);
    let user_id = tokens["user"]["id"].as_i64().unwrap();
    let refused = |token: String, message: &'static str| {
        let app = &app;
        async move {
            let response = app.get("/api/v1/users/profile", &token).await;
            let body = assert_error(response, 401, "Unauthorized").await;
            assert_eq!(body["message"], message, "{token}");
        }
    };

    // Signed with the gateway's own key, but an hour old.
    let now = chrono::Utc::now().timestamp();
    let stale = Claims {
        sub: user_id.to_string(),
        tenant,
        role: "customer".to_string(),
        kind: TokenKind::Access,
        iat: now - 3600,
        exp: now - 2700,
        jti: None,
    };
    let keys = gateway_keys(&app);
    refused(keys.sign(&stale), "Token expired").await;
    // The same claims made current pass: the key is the gateway's.
    let current = Claims {
        exp: now + 60,
        ..stale.clone()
    };
    assert_eq!(
        app.get("/api/v1/users/profile", &keys.sign(&current))
            .await
            .status(),
        200
    );

    // The payload changed to claim the admin role; the signature kept.
    let parts: Vec<&str> = jwt.split('.').collect();
    let admin = Claims {
        role: "admin".to_string(),
        ..current.clone()
    };
    let forged_payload = keys.sign(&admin).split('.').nth(1).unwrap().to_string();
    refused(
        format!("{}.{forged_payload}.{}", parts[0], parts[2]),
        "Invalid token",
    )
    .await;
    // Another gateway's key.
    let foreign = TokenKeys::random(Duration::from_secs(900), Duration::from_secs(3600));
    refused(foreign.sign(&current), "Invalid token").await;
    // A refresh token is not an access token.
    refused(refresh_token(&tokens), "Invalid token").await;
    // A token sent as X-Api-Key is taken for a key.
    let as_key = app
        .http
        .get(app.url("/api/v1/sessions"))
        .header("X-Api-Key", &jwt)
        .send()
        .await
        .unwrap();
    assert_error(as_key, 403, "Forbidden").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_and_an_unknown_email_look_the_same() {
    let app = TestApp::spawn().await;
    let (_, email) = customer(&app, "quiet").await;
    let wrong = json!({ "email": email, "password": "not the password" });
    let wrong = post_open(&app, "/api/v1/auth/login", wrong).await;
    let wrong = assert_error(wrong, 401, "Unauthorized").await;
    let unknown = json!({ "email": "nobody@quiet.example", "password": "not the password" });
    let unknown = post_open(&app, "/api/v1/auth/login", unknown).await;
    let unknown = assert_error(unknown, 401, "Unauthorized").await;
    assert_eq!(wrong, unknown);
    assert_eq!(wrong["message"], "Invalid email or password");
    // The email is matched in any case.
    login(&app, &email.to_uppercase(), PASSWORD).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_token_works_once_and_logout_ends_the_login() {
    let app = TestApp::spawn().await;
    let (_, email) = customer(&app, "rotor").await;
    let first = login(&app, &email, PASSWORD).await;
    let refresh = |token: String| {
        let app = &app;
        async move {
            post_open(
                app,
                "/api/v1/auth/refresh",
                json!({ "refreshToken": token }),
            )
            .await
        }
    };

    let second = refresh(refresh_token(&first)).await;
    assert_eq!(second.status(), 200);
    let second: Value = second.json().await.unwrap();
    assert_ne!(refresh_token(&second), refresh_token(&first));
    assert_eq!(second["user"]["email"], email);
    app.read("/api/v1/users/profile", &access(&second)).await;

    // The used token again: refused, and the login it belongs to ends.
    let again = refresh(refresh_token(&first)).await;
    let body = assert_error(again, 401, "Unauthorized").await;
    assert!(
        body["message"].as_str().unwrap().contains("already used"),
        "{body}"
    );
    let newest = refresh(refresh_token(&second)).await;
    assert_error(newest, 401, "Unauthorized").await;

    // Logging out ends a login; doing it twice is no error.
    let third = login(&app, &email, PASSWORD).await;
    let body = json!({ "refreshToken": refresh_token(&third) });
    let out = post_open(&app, "/api/v1/auth/logout", body.clone()).await;
    assert_eq!(out.status(), 204);
    let after = refresh(refresh_token(&third)).await;
    let body_after = assert_error(after, 401, "Unauthorized").await;
    assert!(
        body_after["message"].as_str().unwrap().contains("revoked"),
        "{body_after}"
    );
    assert_eq!(
        post_open(&app, "/api/v1/auth/logout", body).await.status(),
        204
    );

    // An access token, or anything else, is no refresh token.
    for token in [access(&third), "wgk_nothing".to_string()] {
        let response = refresh(token.clone()).await;
        let body = assert_error(response, 401, "Unauthorized").await;
        assert_eq!(body["message"], "Invalid refresh token");
        let out = post_open(
            &app,
            "/api/v1/auth/logout",
            json!({ "refreshToken": token }),
        )
        .await;
        assert_error(out, 401, "Unauthorized").await;
    }
}
