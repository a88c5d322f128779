//! The media host against the client's own media code: wacore's encryptor
//! and whatsapp-rust's downloader over real TLS via `SimHttpClient`.
//!
//! `Client::upload` itself needs a logged-in session (it fetches media_conn
//! over the socket), so uploads here build the request exactly as
//! whatsapp-rust 0.7's `upload.rs` does; the end-to-end suite drives the real
//! one through the simulator.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use wacore::download::{MediaHost as RouteHost, MediaRoute};
use wacore::iq::spec::IqSpec;
use wacore::net::{HttpClient, HttpRequest, HttpResponse, WHATSAPP_WEB_ORIGIN};
use wacore_binary::builder::NodeBuilder;
use waproto::whatsapp::message::{DocumentMessage, ImageMessage};
use wasim::media::{MediaHost, MediaHostConfig, MediaType, SimHttpClient};
use whatsapp_rust::download::{DownloadParams, MediaDownloader};

#[derive(serde::Deserialize)]
struct UploadAnswer {
    url: String,
    direct_path: String,
}

/// Media with some structure, so an offset or truncation bug shows.
fn sample(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

/// `https://{hostname}{upload_path}/{token}?auth={auth}&token={token}` with
/// the headers whatsapp-rust sends.
fn upload_request(host: &MediaHost, media_type: MediaType, auth: &str, token: &str) -> HttpRequest {
    let url = format!(
        "https://{}{}/{token}?auth={auth}&token={token}",
        host.hostname(),
        media_type.upload_path()
    );
    HttpRequest::post(url)
        .with_header("Content-Type", "application/octet-stream")
        .with_header("Origin", WHATSAPP_WEB_ORIGIN)
}

/// Encrypts `plain` with wacore and uploads it the way the client does.
async fn client_upload(
    http: &SimHttpClient,
    host: &MediaHost,
    media_type: MediaType,
    plain: &[u8],
) -> (wacore::upload::EncryptedMedia, HttpResponse) {
    let enc = wacore::upload::encrypt_media(plain, media_type).unwrap();
    let token = URL_SAFE_NO_PAD.encode(enc.file_enc_sha256);
    let request = upload_request(host, media_type, host.auth_token(), &token)
        .with_body(enc.data_to_upload.clone());
    let response = http.execute(request).await.unwrap();
    (enc, response)
}

fn sim_client(host: &MediaHost) -> SimHttpClient {
    SimHttpClient::new(host.ca_pem()).unwrap()
}

fn downloader(host: &MediaHost) -> MediaDownloader {
    let route = MediaRoute::authenticated(
        vec![RouteHost::new(host.hostname())],
        host.auth_token().to_string(),
    );
    MediaDownloader::new(
        Arc::new(sim_client(host)),
        Arc::new(whatsapp_rust::TokioRuntime),
        route,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_uploads_decrypt_byte_exact_for_contacts() {
    let host = MediaHost::start().unwrap();
    let http = sim_client(&host);

    for (media_type, plain) in [
        (MediaType::Image, sample(70_001, 1)),
        (MediaType::Document, sample(123_457, 2)),
    ] {
        let (enc, response) = client_upload(&http, &host, media_type, &plain).await;
        assert_eq!(
            response.status_code,
            200,
            "{}",
            response.body_string().unwrap()
        );
        let answer: UploadAnswer = serde_json::from_slice(&response.body).unwrap();
        assert_eq!(
            answer.url,
            format!("https://{}{}", host.hostname(), answer.direct_path)
        );

        for reference in [&answer.direct_path, &answer.url] {
            let got = host
                .decrypt_download(
                    reference,
                    &enc.media_key,
                    media_type,
                    Some(&enc.file_enc_sha256),
                )
                .unwrap();
            assert_eq!(got, plain, "{media_type:?} via {reference}");
        }
    }
    assert_eq!(host.blob_count(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contact_media_downloads_through_whatsapp_rust() {
    let host = MediaHost::start().unwrap();
    let downloader = downloader(&host);

    // An image the way a contact's ImageMessage carries it.
    let photo = sample(200_003, 3);
    let up = host.upload_plain(&photo, MediaType::Image).unwrap();
    let message = ImageMessage {
        url: Some(up.url.clone()),
        mimetype: Some("image/jpeg".to_string()),
        direct_path: Some(up.direct_path.clone()),
        media_key: Some(up.media_key.clone()),
        file_sha256: Some(up.file_sha256.clone()),
        file_enc_sha256: Some(up.file_enc_sha256.clone()),
        file_length: Some(up.file_length),
        media_key_timestamp: Some(up.media_key_timestamp),
        ..Default::default()
    };
    assert_eq!(downloader.download(&message).await.unwrap(), photo);

    // A document, into a writer (the client's streaming path).
    let pdf = sample(9_999, 4);
    let up = host.upload_plain(&pdf, MediaType::Document).unwrap();
    let message = DocumentMessage {
        direct_path: Some(up.direct_path.clone()),
        media_key: Some(up.media_key.clone()),
        file_sha256: Some(up.file_sha256.clone()),
        file_enc_sha256: Some(up.file_enc_sha256.clone()),
        file_length: Some(up.file_length),
        ..Default::default()
    };
    let writer = downloader
        .download_to_writer(&message, std::io::Cursor::new(Vec::new()))
        .await
        .unwrap();
    assert_eq!(writer.into_inner(), pdf);

    // Raw fields, as a re-download from stored references does.
    let params = DownloadParams::encrypted(
        up.direct_path,
        &up.media_key,
        &up.file_sha256,
        &up.file_enc_sha256,
        up.file_length,
        MediaType::Document,
    );
    assert_eq!(downloader.download(&params).await.unwrap(), pdf);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_upload_is_stored_like_a_buffered_one() {
    // `Client::upload_stream` sends through `execute_upload` from a blocking
    // task, with an explicit Content-Length instead of chunked encoding.
    let host = MediaHost::start().unwrap();
    let http = sim_client(&host);
    let plain = sample(300_001, 8);
    let enc = wacore::upload::encrypt_media(&plain, MediaType::Audio).unwrap();
    let token = URL_SAFE_NO_PAD.encode(enc.file_enc_sha256);
    let request = upload_request(&host, MediaType::Audio, host.auth_token(), &token);
    let len = enc.data_to_upload.len() as u64;
    let body = std::io::Cursor::new(enc.data_to_upload);
    let response = tokio::task::spawn_blocking(move || {
        assert!(http.supports_upload_streaming());
        http.execute_upload(request, Box::new(body), len)
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        response.status_code,
        200,
        "{}",
        response.body_string().unwrap()
    );
    let answer: UploadAnswer = serde_json::from_slice(&response.body).unwrap();
    let got = host
        .decrypt_download(&answer.direct_path, &enc.media_key, MediaType::Audio, None)
        .unwrap();
    assert_eq!(got, plain);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_with_wrong_or_missing_auth_is_403() {
    let host = MediaHost::start().unwrap();
    let http = sim_client(&host);
    let enc = wacore::upload::encrypt_media(b"secret", MediaType::Image).unwrap();
    let token = URL_SAFE_NO_PAD.encode(enc.file_enc_sha256);

    let wrong = upload_request(&host, MediaType::Image, "not-the-token", &token)
        .with_body(enc.data_to_upload.clone());
    assert_eq!(http.execute(wrong).await.unwrap().status_code, 403);

    let url = format!(
        "https://{}/mms/image/{token}?token={token}",
        host.hostname()
    );
    let missing = HttpRequest::post(url).with_body(enc.data_to_upload);
    assert_eq!(http.execute(missing).await.unwrap().status_code, 403);
    assert_eq!(host.blob_count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversize_upload_is_413() {
    let host = MediaHost::start_with(MediaHostConfig {
        max_upload_bytes: 4096,
        ..Default::default()
    })
    .unwrap();
    let http = sim_client(&host);

    let (_, response) = client_upload(&http, &host, MediaType::Document, &sample(8192, 5)).await;
    assert_eq!(response.status_code, 413);
    let (_, response) = client_upload(&http, &host, MediaType::Document, &sample(1000, 5)).await;
    assert_eq!(response.status_code, 200);

    assert!(
        host.upload_plain(&sample(8192, 6), MediaType::Image)
            .is_err()
    );
    assert_eq!(host.blob_count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_paths_are_404() {
    let host = MediaHost::start().unwrap();
    let http = sim_client(&host);
    let base = format!("https://{}", host.hostname());

    for url in [
        format!("{base}/v/t62.7118-24/0123456789abcdef.enc?token=AAAA"),
        format!("{base}/nothing/here"),
    ] {
        let response = http.execute(HttpRequest::get(url)).await.unwrap();
        assert_eq!(response.status_code, 404);
    }
    let bogus_type = format!("{base}/mms/bogus/abc?auth={}&token=abc", host.auth_token());
    let response = http
        .execute(HttpRequest::post(bogus_type).with_body(vec![1, 2, 3]))
        .await
        .unwrap();
    assert_eq!(response.status_code, 404);

    let err = host
        .decrypt_download(
            "/v/t62.7118-24/missing.enc",
            &[0; 32],
            MediaType::Image,
            None,
        )
        .unwrap_err();
    assert!(err.to_string().contains("no media"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mismatched_references_are_refused() {
    let host = MediaHost::start().unwrap();
    let http = sim_client(&host);
    let up = host.upload_plain(b"hello", MediaType::Image).unwrap();
    let other = host.upload_plain(b"world", MediaType::Image).unwrap();

    // Wrong hash, wrong key: the contact must not accept either.
    assert!(
        host.decrypt_download(
            &up.direct_path,
            &up.media_key,
            MediaType::Image,
            Some(&other.file_enc_sha256)
        )
        .is_err()
    );
    assert!(
        host.decrypt_download(&up.direct_path, &other.media_key, MediaType::Image, None)
            .is_err()
    );
    // Wrong media type means wrong HKDF info, so the MAC fails too.
    assert!(
        host.decrypt_download(&up.direct_path, &up.media_key, MediaType::Video, None)
            .is_err()
    );

    // A download token naming other content is not this blob.
    let url = format!(
        "{}?token={}",
        up.url,
        URL_SAFE_NO_PAD.encode(&other.file_enc_sha256)
    );
    assert_eq!(
        http.execute(HttpRequest::get(url))
            .await
            .unwrap()
            .status_code,
        404
    );

    // An upload whose body is not what its token says is refused.
    let enc = wacore::upload::encrypt_media(b"abc", MediaType::Image).unwrap();
    let token = URL_SAFE_NO_PAD.encode(enc.file_enc_sha256);
    let mut body = enc.data_to_upload;
    body[0] ^= 1;
    let request =
        upload_request(&host, MediaType::Image, host.auth_token(), &token).with_body(body);
    assert_eq!(http.execute(request).await.unwrap().status_code, 400);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_upload_passes_the_resume_check() {
    let host = MediaHost::start().unwrap();
    let http = sim_client(&host);
    // At 5 MiB and above the client first asks whether the upload exists.
    let plain = sample(6 * 1024 * 1024 + 7, 7);
    let enc = wacore::upload::encrypt_media(&plain, MediaType::Video).unwrap();
    let token = URL_SAFE_NO_PAD.encode(enc.file_enc_sha256);
    let check = || {
        let request = upload_request(&host, MediaType::Video, host.auth_token(), &token);
        let url = format!("{}&resume=1", request.url);
        HttpRequest::post(url).with_header("Origin", WHATSAPP_WEB_ORIGIN)
    };

    // Unknown: a 4xx, which the client reads as "upload from the start".
    assert_eq!(http.execute(check()).await.unwrap().status_code, 404);

    let request = upload_request(&host, MediaType::Video, host.auth_token(), &token)
        .with_body(enc.data_to_upload.clone());
    let response = http.execute(request).await.unwrap();
    assert_eq!(response.status_code, 200);
    let answer: UploadAnswer = serde_json::from_slice(&response.body).unwrap();

    let done = http.execute(check()).await.unwrap();
    assert_eq!(done.status_code, 200);
    let progress: serde_json::Value = serde_json::from_slice(&done.body).unwrap();
    assert_eq!(progress["resume"], "complete");
    assert_eq!(progress["direct_path"], answer.direct_path.as_str());

    let got = host
        .decrypt_download(&answer.direct_path, &enc.media_key, MediaType::Video, None)
        .unwrap();
    assert!(got == plain, "large video differs after the round trip");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_that_do_not_trust_the_ca_fail_tls() {
    let host = MediaHost::start().unwrap();
    let up = host.upload_plain(b"tls", MediaType::Image).unwrap();

    // Stock ureq with the public web roots.
    let url = up.url.clone();
    let plain = tokio::task::spawn_blocking(move || ureq::get(&url).call())
        .await
        .unwrap();
    let err = plain.expect_err("a public-roots client must reject the sim's certificate");
    // Refused for the certificate, not for anything the host said.
    assert!(format!("{err:?}").contains("UnknownIssuer"), "{err:?}");

    // A SimHttpClient for another host's CA is pinned to that host only.
    let other = MediaHost::start().unwrap();
    let pinned_elsewhere = SimHttpClient::new(other.ca_pem()).unwrap();
    assert!(
        pinned_elsewhere
            .execute(HttpRequest::get(up.url.clone()))
            .await
            .is_err()
    );

    // And the right one gets through.
    let ok = sim_client(&host)
        .execute(HttpRequest::get(up.url))
        .await
        .unwrap();
    assert_eq!(ok.status_code, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_conn_node_reads_back_through_the_client_parser() {
    let host = MediaHost::start().unwrap();
    let iq = NodeBuilder::new("iq")
        .attr("type", "result")
        .attr("from", "s.whatsapp.net")
        .children([host.media_conn_node()])
        .build();

    let parsed = wacore::iq::mediaconn::MediaConnSpec::new()
        .parse_response(&iq.as_node_ref())
        .unwrap();
    assert_eq!(parsed.auth, host.auth_token());
    assert_eq!(parsed.ttl, 3600);
    assert_eq!(parsed.hosts.len(), 1);
    assert_eq!(parsed.hosts[0].hostname, host.hostname());
    assert_eq!(
        parsed.hosts[0].host_type,
        wacore::iq::mediaconn::HostType::Primary
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_stops_serving() {
    let host = MediaHost::start().unwrap();
    let http = sim_client(&host);
    let url = format!("https://{}/v/none", host.hostname());
    assert_eq!(
        http.execute(HttpRequest::get(url.clone()))
            .await
            .unwrap()
            .status_code,
        404
    );

    host.shutdown();
    // Pooled keep-alive connections close as the server drains; give it a
    // moment, then new connections must be refused.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    loop {
        let fresh = sim_client(&host);
        if fresh.execute(HttpRequest::get(url.clone())).await.is_err() {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "host still serving");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
