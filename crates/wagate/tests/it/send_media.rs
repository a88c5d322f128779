//! Media of every kind, however it reaches the gateway (base64 in JSON, a
//! multipart upload, a URL it fetches), arrives at the contact's phone as
//! the very bytes that were sent: the phone downloads and decrypts the
//! file and the inbox shows its digest and size.

use super::TestApp;
use super::sending::{
    JPEG, MP3, MP4, OGG, PDF, PNG, assert_same_file, base64, file_of, linked_shop, queue,
    queue_form, sent, serve_file, webp,
};
use reqwest::multipart::{Form, Part};
use serde_json::json;
use std::sync::atomic::Ordering;

const CUSTOMER: &str = "15550200004";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_media_kind_arrives_byte_for_byte() {
    let app = TestApp::spawn().await;
    linked_shop(&app).await;
    let photo = file_of(JPEG, 48_000, 1);
    let clip = file_of(MP4, 200_000, 2);
    let song = file_of(MP3, 30_000, 3);
    let note = file_of(OGG, 12_000, 4);
    let invoice = file_of(PDF, 64_000, 5);
    let sticker = webp();

    let media = |bytes: &[u8], mimetype: Option<&str>| {
        let mut m = json!({"base64": base64(bytes)});
        if let Some(t) = mimetype {
            m["mimetype"] = json!(t);
        }
        m
    };
    let image = queue(
        &app,
        json!({"to": CUSTOMER, "type": "image", "caption": "Your new sofa",
               "media": media(&photo, Some("image/jpeg"))}),
    )
    .await;
    let video = queue(
        &app,
        json!({"to": CUSTOMER, "type": "video", "caption": "Assembly guide",
               "media": media(&clip, Some("video/mp4"))}),
    )
    .await;
    let audio = queue(
        &app,
        json!({"to": CUSTOMER, "type": "audio", "media": media(&song, Some("audio/mpeg"))}),
    )
    .await;
    // A voice note without a mimetype gets the one WhatsApp plays.
    let voice = queue(
        &app,
        json!({"to": CUSTOMER, "type": "voice", "media": media(&note, None)}),
    )
    .await;
    let mut pdf = media(&invoice, Some("application/pdf"));
    pdf["filename"] = json!("invoice-1042.pdf");
    let document = queue(
        &app,
        json!({"to": CUSTOMER, "type": "document", "media": pdf}),
    )
    .await;
    let sticker_id = queue(
        &app,
        json!({"to": CUSTOMER, "type": "sticker", "media": media(&sticker, Some("image/webp"))}),
    )
    .await;

    let got = app.received(CUSTOMER, &image).await;
    assert_eq!(got["type"], "image", "{got}");
    assert_same_file(&got, &photo);
    assert_eq!(got["mimetype"], "image/jpeg");
    assert_eq!(got["caption"], "Your new sofa");

    let got = app.received(CUSTOMER, &video).await;
    assert_eq!(got["type"], "video", "{got}");
    assert_same_file(&got, &clip);
    assert_eq!(got["mimetype"], "video/mp4");
    assert_eq!(got["caption"], "Assembly guide");

    let got = app.received(CUSTOMER, &audio).await;
    assert_eq!(got["type"], "audio", "{got}");
    assert_same_file(&got, &song);
    assert_eq!(got["mimetype"], "audio/mpeg");
    assert_eq!(got["ptt"], false, "plain audio is no voice note: {got}");

    let got = app.received(CUSTOMER, &voice).await;
    assert_eq!(got["type"], "audio", "{got}");
    assert_same_file(&got, &note);
    assert_eq!(got["mimetype"], "audio/ogg; codecs=opus");
    assert_eq!(got["ptt"], true, "{got}");

    let got = app.received(CUSTOMER, &document).await;
    assert_eq!(got["type"], "document", "{got}");
    assert_same_file(&got, &invoice);
    assert_eq!(got["mimetype"], "application/pdf");
    assert_eq!(got["filename"], "invoice-1042.pdf");
    assert_eq!(got["caption"], json!(null), "{got}");

    let got = app.received(CUSTOMER, &sticker_id).await;
    assert_eq!(got["type"], "sticker", "{got}");
    assert_same_file(&got, &sticker);
    assert_eq!(got["mimetype"], "image/webp");
    assert_eq!(got["animated"], false);

    let kinds = [
        (&image, "image"),
        (&video, "video"),
        (&audio, "audio"),
        (&voice, "voice"),
        (&document, "document"),
        (&sticker_id, "sticker"),
    ];
    for (id, kind) in kinds {
        assert_eq!(sent(&app, id).await["type"], kind);
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploaded_files_arrive_byte_for_byte() {
    let app = TestApp::spawn().await;
    linked_shop(&app).await;
    let photo = file_of(PNG, 30_000, 6);
    let terms = file_of(PDF, 20_000, 7);

    // The part's name says the kind; its type and name come with the part.
    let part = Part::bytes(photo.clone())
        .file_name("photo.png")
        .mime_str("image/png")
        .unwrap();
    let form = Form::new()
        .text("to", CUSTOMER)
        .text("caption", "Colour: teal")
        .part("image", part);
    let image = queue_form(&app, form).await;

    // A part named `file` without a `type` is a document.
    let part = Part::bytes(terms.clone())
        .file_name("terms.pdf")
        .mime_str("application/pdf")
        .unwrap();
    let form = Form::new()
        .text("to", CUSTOMER)
        .text("caption", "Our terms")
        .part("file", part);
    let document = queue_form(&app, form).await;

    // Fields may name the file's type and name when its part cannot.
    let form = Form::new()
        .text("to", CUSTOMER)
        .text("mimetype", "application/pdf")
        .text("filename", "terms-v2.pdf")
        .part("document", Part::bytes(terms.clone()));
    let named = queue_form(&app, form).await;

    let got = app.received(CUSTOMER, &image).await;
    assert_eq!(got["type"], "image", "{got}");
    assert_same_file(&got, &photo);
    assert_eq!(got["mimetype"], "image/png");
    assert_eq!(got["caption"], "Colour: teal");

    // A captioned document travels inside a wrapper; the phone opens it.
    let got = app.received(CUSTOMER, &document).await;
    assert_eq!(got["type"], "document", "{got}");
    assert_same_file(&got, &terms);
    assert_eq!(got["mimetype"], "application/pdf");
    assert_eq!(got["filename"], "terms.pdf");
    assert_eq!(got["caption"], "Our terms");

    let got = app.received(CUSTOMER, &named).await;
    assert_same_file(&got, &terms);
    assert_eq!(got["mimetype"], "application/pdf");
    assert_eq!(got["filename"], "terms-v2.pdf");

    assert_eq!(sent(&app, &image).await["type"], "image");
    assert_eq!(sent(&app, &document).await["type"], "document");
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_from_an_allowed_url_arrive_byte_for_byte() {
    // The tenant's file server is on this machine, which the gateway
    // refuses to fetch from unless allowed.
    let app = TestApp::spawn_with(&[("WAGATE_MEDIA_FETCH_ALLOW", "127.0.0.1/32")]).await;
    linked_shop(&app).await;
    let photo = file_of(JPEG, 40_000, 8);
    let manual = file_of(PDF, 25_000, 9);
    let (photo_url, photo_hits) =
        serve_file("/catalog/sofa.jpg", "image/jpeg", photo.clone()).await;
    let (manual_url, _) = serve_file("/files/manual.pdf", "application/pdf", manual.clone()).await;

    let image = queue(
        &app,
        json!({"to": CUSTOMER, "type": "image", "caption": "Back in stock",
               "media": {"url": photo_url}}),
    )
    .await;
    // The server's type and the file name in the URL fill in what the
    // request leaves out.
    let document = queue(
        &app,
        json!({"to": CUSTOMER, "type": "document", "media": {"url": manual_url}}),
    )
    .await;
    assert_eq!(
        photo_hits.load(Ordering::SeqCst),
        1,
        "fetched once, before the 202"
    );

    let got = app.received(CUSTOMER, &image).await;
    assert_eq!(got["type"], "image", "{got}");
    assert_same_file(&got, &photo);
    assert_eq!(got["mimetype"], "image/jpeg");
    assert_eq!(got["caption"], "Back in stock");

    let got = app.received(CUSTOMER, &document).await;
    assert_eq!(got["type"], "document", "{got}");
    assert_same_file(&got, &manual);
    assert_eq!(got["mimetype"], "application/pdf");
    assert_eq!(got["filename"], "manual.pdf");

    assert_eq!(sent(&app, &image).await["type"], "image");
    assert_eq!(sent(&app, &document).await["type"], "document");
    app.stop().await;
}
