//! What a file is, judged from its first bytes rather than from what the client claims.

/// Types decoded on the server for thumbnails.
pub const DECODABLE_IMAGES: &[&str] = &["image/jpeg", "image/png", "image/gif", "image/webp"];

/// Types a browser shows or plays without running anything from the file. Everything else is
/// served as a download.
const INLINE: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "video/mp4",
    "video/webm",
    "video/ogg",
    "audio/mpeg",
    "audio/ogg",
    "audio/wav",
    "audio/x-wav",
    "audio/webm",
    "audio/mp4",
    "audio/m4a",
    "audio/x-m4a",
    "audio/x-flac",
    "audio/flac",
];

/// The content type of a file from its first bytes (up to a few KiB).
pub fn mime_of(head: &[u8]) -> String {
    if let Some(t) = infer::get(head) {
        // Matroska's WebM profile is what browsers record; infer names both by the container.
        return match t.mime_type() {
            "video/x-matroska" if contains(head, b"webm") => "video/webm".into(),
            m => m.to_string(),
        };
    }
    let text = match std::str::from_utf8(head) {
        Ok(t) => Some(t),
        // A multi-byte character may be cut at the end of the sample.
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&head[..e.valid_up_to()]).ok(),
        Err(_) => None,
    };
    match text {
        Some(t) if looks_like_markup(t) => "text/html".into(),
        Some(_) => "text/plain".into(),
        None => "application/octet-stream".into(),
    }
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// HTML, SVG and XML, which a browser could run scripts from.
fn looks_like_markup(t: &str) -> bool {
    let start = t
        .trim_start_matches('\u{feff}')
        .trim_start()
        .to_ascii_lowercase();
    ["<", "<?xml", "<svg", "<!doctype", "<html", "<script"]
        .iter()
        .any(|p| start.starts_with(p))
}

/// "image", "video", "audio" or "file", for how the UI presents it.
pub fn kind_of(mime: &str) -> &'static str {
    if DECODABLE_IMAGES.contains(&mime) {
        "image"
    } else if mime.starts_with("video/") && is_inline(mime) {
        "video"
    } else if mime.starts_with("audio/") && is_inline(mime) {
        "audio"
    } else {
        "file"
    }
}

/// Whether the browser may show the file in the page rather than download it.
pub fn is_inline(mime: &str) -> bool {
    INLINE.contains(&mime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn executable_content_is_never_inline() {
        for bytes in [
            &b"<svg xmlns='http://www.w3.org/2000/svg'><script>1</script></svg>"[..],
            b"<!DOCTYPE html><script>alert(1)</script>",
            b"  <?xml version='1.0'?><x/>",
            b"alert(document.cookie)",
            b"\x00\x01\x02\xff\xfe",
        ] {
            let m = mime_of(bytes);
            assert!(!is_inline(&m), "{m} must be a download");
            assert_eq!(kind_of(&m), "file");
        }
    }

    #[test]
    fn photos_are_recognised_by_content() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
        assert_eq!(mime_of(png), "image/png");
        assert_eq!(kind_of("image/png"), "image");
        assert!(is_inline("image/png"));
        assert_eq!(mime_of(b"\xff\xd8\xff\xe0\0\x10JFIF\0"), "image/jpeg");
    }
}
