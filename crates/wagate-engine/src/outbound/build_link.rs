//! Texts with a link preview. A phone fetches the linked page before it
//! sends and puts the page's title, description and a small picture in the
//! message; the sender does the same here, at send time, so accepting a
//! message never waits on someone else's web site.

use super::build::MediaSource;
use wagate_core::outbound::{Content, LinkPreview};
use whatsapp_rust::buffa::MessageField;
use whatsapp_rust::waproto::whatsapp as wa;

/// What a linked page gave for its preview card.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkCard {
    pub title: Option<String>,
    pub description: Option<String>,
    pub thumbnail: Option<JpegThumbnail>,
}

/// The picture on the card, carried in the message itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JpegThumbnail {
    pub jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// The card of the page a text links to, when the sender asked for a
/// preview without writing its title. Fields the sender did write still
/// win (see [`text_message`]); a page that cannot be read gives `None`.
pub(super) async fn fetch_card(content: &Content, media: &dyn MediaSource) -> Option<LinkCard> {
    match content {
        Content::Text {
            link_preview: Some(preview),
            ..
        } if preview.title.is_none() => media.link_card(&preview.url).await,
        _ => None,
    }
}

/// Plain text is a bare `conversation`, as WhatsApp Web sends it; a link
/// preview needs the extended form. A preview with nothing to show (the
/// page could not be read and the sender wrote no title or description)
/// is left out: phones send a link they could not preview as plain text.
pub(super) fn text_message(
    text: &str,
    preview: Option<&LinkPreview>,
    card: Option<&LinkCard>,
) -> wa::Message {
    let card = card.cloned().unwrap_or_default();
    let preview = preview.map(|p| {
        (
            p,
            p.title.clone().or(card.title),
            p.description.clone().or(card.description),
        )
    });
    let Some((preview, title, description)) = preview.filter(|(_, title, description)| {
        title.is_some() || description.is_some() || card.thumbnail.is_some()
    }) else {
        return wa::Message {
            conversation: Some(text.to_string()),
            ..Default::default()
        };
    };
    let thumbnail = card.thumbnail;
    wa::Message {
        extended_text_message: MessageField::some(wa::message::ExtendedTextMessage {
            text: Some(text.to_string()),
            // The link as it appears in the text. WhatsApp's current
            // protocol has no separate canonical URL any more.
            matched_text: Some(preview.url.clone()),
            title,
            description,
            thumbnail_width: thumbnail.as_ref().map(|t| t.width),
            thumbnail_height: thumbnail.as_ref().map(|t| t.height),
            jpeg_thumbnail: thumbnail.map(|t| t.jpeg),
            // NONE is what WhatsApp Web sets for an ordinary page preview.
            preview_type: Some(wa::message::extended_text_message::PreviewType::NONE),
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn preview(title: Option<&str>, description: Option<&str>) -> LinkPreview {
        LinkPreview {
            url: "https://example.com/a".into(),
            title: title.map(Into::into),
            description: description.map(Into::into),
        }
    }

    fn fetched() -> LinkCard {
        LinkCard {
            title: Some("Page title".into()),
            description: Some("Page description".into()),
            thumbnail: Some(JpegThumbnail {
                jpeg: vec![0xFF, 0xD8, 0xFF, 0xD9],
                width: 300,
                height: 157,
            }),
        }
    }

    fn extended(msg: &wa::Message) -> &wa::message::ExtendedTextMessage {
        msg.extended_text_message
            .as_option()
            .expect("extended text")
    }

    #[test]
    fn a_fetched_card_fills_the_preview() {
        let msg = text_message(
            "see https://example.com/a",
            Some(&preview(None, None)),
            Some(&fetched()),
        );
        let ext = extended(&msg);
        assert_eq!(ext.matched_text.as_deref(), Some("https://example.com/a"));
        assert_eq!(ext.title.as_deref(), Some("Page title"));
        assert_eq!(ext.description.as_deref(), Some("Page description"));
        assert_eq!(
            ext.jpeg_thumbnail.as_deref(),
            Some(&[0xFF, 0xD8, 0xFF, 0xD9][..])
        );
        assert_eq!(
            (ext.thumbnail_width, ext.thumbnail_height),
            (Some(300), Some(157))
        );
    }

    #[test]
    fn what_the_sender_wrote_wins_over_the_page() {
        let msg = text_message(
            "see https://example.com/a",
            Some(&preview(None, Some("Mine"))),
            Some(&fetched()),
        );
        let ext = extended(&msg);
        assert_eq!(ext.title.as_deref(), Some("Page title"));
        assert_eq!(ext.description.as_deref(), Some("Mine"));
    }

    #[test]
    fn a_preview_with_nothing_to_show_is_plain_text() {
        let msg = text_message("https://example.com/a", Some(&preview(None, None)), None);
        assert_eq!(msg.conversation.as_deref(), Some("https://example.com/a"));
        assert!(msg.extended_text_message.as_option().is_none());

        // A picture alone is worth a card.
        let only_picture = LinkCard {
            thumbnail: fetched().thumbnail,
            ..LinkCard::default()
        };
        let msg = text_message(
            "https://example.com/a",
            Some(&preview(None, None)),
            Some(&only_picture),
        );
        let ext = extended(&msg);
        assert_eq!(ext.title, None);
        assert!(ext.jpeg_thumbnail.is_some());
    }

    #[test]
    fn no_preview_asked_means_no_card_even_if_one_was_fetched() {
        let msg = text_message("https://example.com/a", None, Some(&fetched()));
        assert_eq!(msg.conversation.as_deref(), Some("https://example.com/a"));
    }
}
