//! The name a downloaded file goes by, for documents sent on WhatsApp.
//! Both sources are chosen by whoever runs the server behind the URL, so a
//! name is reduced to a plain last path component before it is used.

use reqwest::Url;

/// Longest name kept, in bytes; file systems stop at 255.
const MAX_LEN: usize = 255;

/// `filename*` (RFC 6266, percent-encoded with a charset) wins over
/// `filename`, as the RFC asks.
pub(crate) fn from_content_disposition(value: &str) -> Option<String> {
    let mut plain = None;
    let mut extended = None;
    for param in split_params(value).into_iter().skip(1) {
        let Some((name, raw)) = param.split_once('=') else {
            continue;
        };
        match name.trim().to_ascii_lowercase().as_str() {
            "filename" => plain = Some(unquote(raw.trim())),
            "filename*" => extended = decode_extended(raw.trim()),
            _ => {}
        }
    }
    extended
        .and_then(|name| sanitize(&name))
        .or_else(|| plain.and_then(|name| sanitize(&name)))
}

/// The last path segment, if it has an extension: `/media/cat.jpg` names a
/// file, `/download` or `/files/` do not.
pub(crate) fn from_url_path(url: &Url) -> Option<String> {
    let segment = url.path_segments()?.next_back()?;
    let decoded = String::from_utf8(percent_decode(segment)).ok()?;
    let (stem, extension) = decoded.rsplit_once('.')?;
    let looks_like_file = !stem.is_empty()
        && (1..=8).contains(&extension.len())
        && extension.chars().all(|c| c.is_ascii_alphanumeric());
    looks_like_file.then(|| sanitize(&decoded)).flatten()
}

/// Splits on `;` outside double quotes.
fn split_params(value: &str) -> Vec<&str> {
    let mut params = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, c) in value.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ';' if !quoted => {
                params.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    params.push(&value[start..]);
    params
}

fn unquote(raw: &str) -> String {
    let Some(inner) = raw.strip_prefix('"').and_then(|r| r.strip_suffix('"')) else {
        return raw.to_owned();
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        out.push(if c == '\\' {
            chars.next().unwrap_or(c)
        } else {
            c
        });
    }
    out
}

/// `UTF-8''na%C3%AFve.pdf` or `iso-8859-1'en'caf%E9.txt`.
fn decode_extended(raw: &str) -> Option<String> {
    let mut parts = raw.splitn(3, '\'');
    let (charset, _language, encoded) = (parts.next()?, parts.next()?, parts.next()?);
    let bytes = percent_decode(encoded);
    match charset.to_ascii_lowercase().as_str() {
        "utf-8" => String::from_utf8(bytes).ok(),
        // Latin-1 bytes are the first 256 code points.
        "iso-8859-1" => Some(bytes.into_iter().map(char::from).collect()),
        _ => None,
    }
}

fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    out
}

/// Keeps the last path component, drops control characters, and refuses
/// names that mean a directory.
fn sanitize(name: &str) -> Option<String> {
    let last = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let cleaned: String = last.chars().filter(|c| !c.is_control()).collect();
    let cleaned = cleaned.trim();
    if cleaned.is_empty() || cleaned == "." || cleaned == ".." {
        return None;
    }
    let mut end = cleaned.len().min(MAX_LEN);
    while !cleaned.is_char_boundary(end) {
        end -= 1;
    }
    Some(cleaned[..end].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn disposition(value: &str) -> Option<String> {
        from_content_disposition(value)
    }

    fn from_path(url: &str) -> Option<String> {
        from_url_path(&Url::parse(url).unwrap())
    }

    #[test]
    fn content_disposition_forms() {
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(
            disposition("attachment; filename=report.pdf"),
            some("report.pdf")
        );
        assert_eq!(
            disposition("attachment; filename=\"a b.pdf\""),
            some("a b.pdf")
        );
        assert_eq!(disposition("inline; FILENAME=\"x;y.txt\""), some("x;y.txt"));
        assert_eq!(
            disposition(r#"attachment; filename="say \"hi\".txt""#),
            some("say \"hi\".txt")
        );
        assert_eq!(
            disposition("attachment; filename=\"fallback.pdf\"; filename*=UTF-8''na%C3%AFve.pdf"),
            some("naïve.pdf")
        );
        assert_eq!(
            disposition("attachment; filename*=iso-8859-1'en'caf%E9.txt"),
            some("café.txt")
        );
        assert_eq!(disposition("attachment"), None);
        assert_eq!(disposition("attachment; filename=\"\""), None);
    }

    #[test]
    fn names_cannot_climb_out_of_a_directory() {
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(
            disposition("attachment; filename=\"../../etc/passwd\""),
            some("passwd")
        );
        assert_eq!(
            disposition("attachment; filename=\"C:\\\\temp\\\\x.exe\""),
            some("x.exe")
        );
        assert_eq!(disposition("attachment; filename=\"..\""), None);
        assert_eq!(
            disposition("attachment; filename*=UTF-8''a%0Ab.txt"),
            some("ab.txt")
        );
        let long = format!("attachment; filename=\"{}.txt\"", "é".repeat(200));
        assert!(disposition(&long).unwrap().len() <= MAX_LEN);
    }

    #[test]
    fn url_paths_name_a_file_only_when_they_look_like_one() {
        let some = |s: &str| Some(s.to_owned());
        assert_eq!(
            from_path("https://cdn.example/media/cat.jpg"),
            some("cat.jpg")
        );
        assert_eq!(
            from_path("https://cdn.example/a/My%20Report.PDF?x=1"),
            some("My Report.PDF")
        );
        assert_eq!(from_path("https://cdn.example/download"), None);
        assert_eq!(from_path("https://cdn.example/files/"), None);
        assert_eq!(from_path("https://cdn.example/"), None);
        assert_eq!(from_path("https://cdn.example/.hidden"), None);
        assert_eq!(from_path("https://cdn.example/v1.2.3-beta_x"), None);
    }
}
