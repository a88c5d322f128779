//! Reads what a page says about itself from the start of its HTML: the
//! Open Graph tags link previews are made of, and the plain HTML fallbacks.
//!
//! Pages in the wild are rarely valid HTML, and only a handful of tags in
//! the head matter, so this is a forgiving tag scanner rather than a
//! parser: it skips comments, scripts and styles (whose text may contain
//! `<meta` by accident), reads the attributes of `<meta>` and the text of
//! `<title>`, and stops where the body begins.

use reqwest::Url;

/// The parts of a page a link preview shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageMeta {
    /// `og:title`, else the `<title>` text.
    pub title: Option<String>,
    /// `og:description`, else `<meta name="description">`.
    pub description: Option<String>,
    /// `og:image`, resolved against the page's URL.
    pub image: Option<Url>,
}

/// Longer texts are cut: a preview card shows a line or two of each, and
/// a page should not be able to grow the message without bound.
const MAX_TITLE_CHARS: usize = 256;
const MAX_DESCRIPTION_CHARS: usize = 512;

/// Scans `html` (the page at `page_url`) for its preview fields.
pub fn scan(html: &str, page_url: &Url) -> PageMeta {
    let mut found = Found::default();
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        rest = &rest[open..];
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map_or("", |end| &after[end + 3..]);
            continue;
        }
        let name = tag_name(&rest[1..]);
        let end = tag_end(rest);
        let (tag, after) = (&rest[..end], &rest[end..]);
        match name.as_str() {
            "meta" => found.meta(&attributes(&tag[5..])),
            "title" => {
                let (text, next) = text_until_close(after, "title");
                found.title_tag.get_or_insert_with(|| clean(text));
                rest = next;
                continue;
            }
            "script" | "style" | "noscript" | "template" => {
                rest = text_until_close(after, &name).1;
                continue;
            }
            "/head" | "body" => break,
            _ => {}
        }
        rest = after;
    }
    found.into_meta(page_url)
}

#[derive(Default)]
struct Found {
    og_title: Option<String>,
    title_tag: Option<String>,
    og_description: Option<String>,
    description: Option<String>,
    og_image: Option<String>,
}

impl Found {
    fn meta(&mut self, attrs: &[(String, String)]) {
        let get = |wanted: &str| {
            attrs
                .iter()
                .find(|(name, _)| name == wanted)
                .map(|(_, value)| value.as_str())
        };
        let Some(content) = get("content") else {
            return;
        };
        // Open Graph says `property`, but many sites write `name`.
        let key = get("property").or_else(|| get("name")).unwrap_or_default();
        let slot = match key.to_ascii_lowercase().as_str() {
            "og:title" => &mut self.og_title,
            "og:description" => &mut self.og_description,
            "description" => &mut self.description,
            "og:image" | "og:image:url" | "og:image:secure_url" => &mut self.og_image,
            _ => return,
        };
        // The first of repeated tags is the one the page means most.
        slot.get_or_insert_with(|| clean(content));
    }

    fn into_meta(self, page_url: &Url) -> PageMeta {
        let present = |v: Option<String>| v.filter(|v| !v.is_empty());
        PageMeta {
            title: present(self.og_title)
                .or(present(self.title_tag))
                .map(|t| cut(t, MAX_TITLE_CHARS)),
            description: present(self.og_description)
                .or(present(self.description))
                .map(|d| cut(d, MAX_DESCRIPTION_CHARS)),
            image: present(self.og_image)
                .and_then(|src| page_url.join(&src).ok())
                .filter(|url| matches!(url.scheme(), "http" | "https")),
        }
    }
}

/// The lower-cased name after `<`, with a leading `/` kept for end tags.
fn tag_name(after_lt: &str) -> String {
    let closing = after_lt.starts_with('/');
    let name: String = after_lt[usize::from(closing)..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if closing { format!("/{name}") } else { name }
}

/// Where the tag starting at `tag[0] == '<'` ends: after its `>`, skipping
/// any `>` inside quoted attribute values.
fn tag_end(tag: &str) -> usize {
    let mut quote = None;
    for (i, c) in tag.char_indices().skip(1) {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, '>') => return i + 1,
            _ => {}
        }
    }
    tag.len()
}

/// The text before `</name` (any case) and what follows that end tag.
fn text_until_close<'a>(html: &'a str, name: &str) -> (&'a str, &'a str) {
    let closing = format!("</{name}");
    let Some(at) = find_ascii_ci(html, &closing) else {
        return (html, "");
    };
    let after = &html[at..];
    (&html[..at], &after[tag_end(after)..])
}

fn find_ascii_ci(haystack: &str, needle: &str) -> Option<usize> {
    let (h, n) = (haystack.as_bytes(), needle.as_bytes());
    (0..h.len().checked_sub(n.len())? + 1).find(|&i| h[i..i + n.len()].eq_ignore_ascii_case(n))
}

/// The attributes of a tag, names lower-cased, values unquoted but still
/// as written (decoded once, by [`clean`]).
fn attributes(inner: &str) -> Vec<(String, String)> {
    let mut attrs = Vec::new();
    let mut rest = inner.trim_end_matches('>');
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
        let name_len = rest
            .find(|c: char| c.is_whitespace() || c == '=' || c == '/')
            .unwrap_or(rest.len());
        if name_len == 0 {
            return attrs;
        }
        let name = rest[..name_len].to_ascii_lowercase();
        rest = rest[name_len..].trim_start();
        let Some(after_eq) = rest.strip_prefix('=') else {
            attrs.push((name, String::new()));
            continue;
        };
        let after_eq = after_eq.trim_start();
        let (value, next) = match after_eq.chars().next() {
            Some(q @ ('"' | '\'')) => {
                let body = &after_eq[1..];
                let end = body.find(q).unwrap_or(body.len());
                (&body[..end], body.get(end + 1..).unwrap_or(""))
            }
            _ => {
                let end = after_eq.find(char::is_whitespace).unwrap_or(after_eq.len());
                (&after_eq[..end], &after_eq[end..])
            }
        };
        attrs.push((name, value.to_string()));
        rest = next;
    }
}

/// Decodes the character references pages actually use in titles and
/// descriptions; anything else is left as written.
fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        let decoded = rest[1..]
            .find(';')
            .filter(|&end| end <= 10)
            .and_then(|end| Some((entity(&rest[1..=end])?, end + 2)));
        match decoded {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn entity(name: &str) -> Option<char> {
    if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse().ok()?,
        };
        return char::from_u32(code).filter(|c| *c != '\0');
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        "ndash" => '–',
        "mdash" => '—',
        "hellip" => '…',
        "laquo" => '«',
        "raquo" => '»',
        "rsquo" => '’',
        "lsquo" => '‘',
        "rdquo" => '”',
        "ldquo" => '“',
        "middot" => '·',
        "copy" => '©',
        _ => return None,
    })
}

/// Entities decoded, runs of whitespace (newlines in titles, the `&nbsp;`
/// padding some sites add) made single spaces.
fn clean(text: &str) -> String {
    let decoded = decode_entities(text);
    let words: Vec<&str> = decoded
        .split(|c: char| c.is_whitespace() || c == '\u{a0}')
        .filter(|w| !w.is_empty())
        .collect();
    words.join(" ")
}

fn cut(text: String, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((at, _)) => format!("{}…", text[..at].trim_end()),
        None => text,
    }
}

#[cfg(test)]
mod tests;
