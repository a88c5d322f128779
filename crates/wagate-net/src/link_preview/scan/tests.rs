use super::*;

fn page() -> Url {
    Url::parse("https://shop.example/catalog/sofa?id=7").unwrap()
}

fn meta(html: &str) -> PageMeta {
    scan(html, &page())
}

#[test]
fn open_graph_tags_win_over_the_plain_ones() {
    let got = meta(
        r#"<!doctype html><html><head>
        <title>Sofa | Shop</title>
        <meta name="description" content="Plain description">
        <meta property="og:title" content="The Sofa">
        <meta property="og:description" content="Seats three">
        <meta property="og:image" content="https://cdn.example/sofa.png">
        </head><body></body></html>"#,
    );
    assert_eq!(
        got,
        PageMeta {
            title: Some("The Sofa".into()),
            description: Some("Seats three".into()),
            image: Some(Url::parse("https://cdn.example/sofa.png").unwrap()),
        }
    );
}

#[test]
fn without_open_graph_the_title_tag_and_description_meta_are_used() {
    let got = meta(
        "<HTML><HEAD><TITLE>\n  Sofa\n  catalogue </TITLE>\
         <META NAME=Description CONTENT='Everything to sit on'></HEAD>",
    );
    assert_eq!(got.title.as_deref(), Some("Sofa catalogue"));
    assert_eq!(got.description.as_deref(), Some("Everything to sit on"));
    assert_eq!(got.image, None);
}

#[test]
fn an_empty_open_graph_title_falls_back_to_the_title_tag() {
    let got = meta(r#"<meta property="og:title" content="  "><title>Shop</title>"#);
    assert_eq!(got.title.as_deref(), Some("Shop"));
}

#[test]
fn relative_images_are_resolved_against_the_page() {
    let image = |src: &str| {
        meta(&format!(r#"<meta property="og:image" content="{src}">"#))
            .image
            .map(|u| u.to_string())
    };
    assert_eq!(
        image("/img/sofa.png").as_deref(),
        Some("https://shop.example/img/sofa.png")
    );
    assert_eq!(
        image("sofa.png").as_deref(),
        Some("https://shop.example/catalog/sofa.png")
    );
    assert_eq!(
        image("//cdn.example/a.jpg").as_deref(),
        Some("https://cdn.example/a.jpg")
    );
    // Only http(s) images are fetched.
    assert_eq!(image("data:image/png;base64,AAAA"), None);
    assert_eq!(image("ftp://files.example/a.png"), None);
}

#[test]
fn character_references_are_decoded_once() {
    let got = meta(
        r#"<meta property="og:title" content="Tom &amp; Jerry&#39;s &#x2014; &quot;Sofas&quot;">
        <meta property="og:description" content="&amp;lt;b&amp;gt; stays &lt;b&gt;; a &bogus; &amp stays">
        <meta property="og:image" content="/img?w=300&amp;h=200">"#,
    );
    assert_eq!(got.title.as_deref(), Some("Tom & Jerry's — \"Sofas\""));
    assert_eq!(
        got.description.as_deref(),
        Some("&lt;b&gt; stays <b>; a &bogus; &amp stays")
    );
    assert_eq!(
        got.image.unwrap().as_str(),
        "https://shop.example/img?w=300&h=200"
    );
}

#[test]
fn a_page_without_a_head_is_still_read() {
    let got = meta(r#"<title>Bare</title><meta property="og:description" content="No head">"#);
    assert_eq!(got.title.as_deref(), Some("Bare"));
    assert_eq!(got.description.as_deref(), Some("No head"));
}

#[test]
fn tags_in_the_body_comments_and_scripts_are_ignored() {
    let got = meta(
        r#"<head>
        <!-- <meta property="og:title" content="commented out"> -->
        <script>var t = '<meta property="og:title" content="in a script">';</script>
        <style>a[title="</head>"] {}</style>
        <meta content="Real" property="og:title" data-x="a > b">
        </head>
        <body><meta property="og:description" content="in the body"><title>late</title>"#,
    );
    assert_eq!(got.title.as_deref(), Some("Real"));
    assert_eq!(got.description, None);
}

#[test]
fn the_first_of_repeated_tags_counts() {
    let got = meta(
        r#"<meta name="og:image" content="/first.png"><meta property="og:image" content="/second.png">"#,
    );
    assert_eq!(
        got.image.unwrap().as_str(),
        "https://shop.example/first.png"
    );
}

#[test]
fn unfinished_markup_does_not_panic() {
    for html in [
        "",
        "<",
        "<meta",
        "<meta property=\"og:title\" content=\"cut",
        "<title>never closed",
        "<!-- never closed",
        "<script>never closed",
        "<meta property=og:title content=Unquoted>",
        "héllo <méta> ünïcode <title>Ça va</title>",
    ] {
        let _ = meta(html);
    }
    assert_eq!(
        meta("<meta property=og:title content=Unquoted>")
            .title
            .as_deref(),
        Some("Unquoted")
    );
    assert_eq!(
        meta("héllo <title>Ça va</title>").title.as_deref(),
        Some("Ça va")
    );
}

#[test]
fn long_texts_are_cut() {
    let long = "word ".repeat(200);
    let got = meta(&format!(
        r#"<meta property="og:title" content="{long}"><meta property="og:description" content="{long}">"#
    ));
    let title = got.title.unwrap();
    assert!(title.chars().count() <= MAX_TITLE_CHARS + 1, "{title}");
    assert!(title.ends_with('…'));
    assert!(got.description.unwrap().chars().count() <= MAX_DESCRIPTION_CHARS + 1);
}
