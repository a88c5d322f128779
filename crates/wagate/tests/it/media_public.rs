//! Signed public links to received media: the payload's `publicUrl`
//! serves the file without an API key; a tampered or expired link is
//! refused.

use super::TestApp;
use super::media_s3::received_image;
use super::sending::{JPEG, file_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_public_link_serves_the_file_without_a_key_until_it_expires() {
    let app = TestApp::spawn_with(&[
        ("WAGATE_WEBHOOK_ALLOW", "127.0.0.1/32"),
        ("WAGATE_MEDIA_PUBLIC_URL_TTL_S", "600"),
    ])
    .await;
    let image = file_of(JPEG, 20_000, 9);
    let data = received_image(&app, &image).await;
    let link = data["media"]["publicUrl"].as_str().expect("a public link");
    let path = &link[link.find("/media/").unwrap()..];
    let plain = reqwest::Client::new();

    let response = plain.get(app.url(path)).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.bytes().await.unwrap(),
        image,
        "byte for byte, no key"
    );

    let (head, sig) = path.rsplit_once("sig=").unwrap();
    let flipped = if sig.starts_with('A') { "B" } else { "A" };
    let tampered = format!("{head}sig={flipped}{}", &sig[1..]);
    let expires: i64 = head
        .split("expires=")
        .nth(1)
        .and_then(|e| e.trim_end_matches('&').parse().ok())
        .unwrap();
    let past = chrono::Utc::now().timestamp() - 1;
    // A past expiry keeps the old signature: refused for either reason.
    let expired = path.replace(&format!("expires={expires}"), &format!("expires={past}"));
    for bad in [
        tampered,
        expired,
        path.split('?').next().unwrap().to_string(),
    ] {
        let response = plain.get(app.url(&bad)).send().await.unwrap();
        super::assert_error(response, 403, "Forbidden").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_setting_payloads_carry_no_public_link() {
    let app = TestApp::spawn_with(&[("WAGATE_WEBHOOK_ALLOW", "127.0.0.1/32")]).await;
    let data = received_image(&app, &file_of(JPEG, 5_000, 10)).await;
    assert!(data["media"].get("publicUrl").is_none(), "{data}");
    let id = data["media"]["url"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let response =
        reqwest::get(app.url(&format!("/media/{id}?tenant=1&expires=9999999999&sig=AAAA")))
            .await
            .unwrap();
    super::assert_error(response, 403, "Forbidden").await;
}
