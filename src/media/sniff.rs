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
            "video/x-matroska" | "video/webm" if contains(head, b"webm") => {
                // A browser's voice recording is WebM with one Opus (or Vorbis) track and no
                // video track; its codec ids are in the first few hundred bytes.
                let audio = contains(head, b"A_OPUS") || contains(head, b"A_VORBIS");
                if audio && !contains(head, b"V_") {
                    "audio/webm".into()
                } else {
                    "video/webm".into()
                }
            }
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

    /// The start of a WebM file: its EBML header, then a track with this codec id.
    fn webm_head(codec: &[u8]) -> Vec<u8> {
        let mut v = vec![
            0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81, 0x01, 0x42, 0xF7, 0x81, 0x01, 0x42,
            0xF2, 0x81, 0x04, 0x42, 0xF3, 0x81, 0x08, 0x42, 0x82, 0x84, b'w', b'e', b'b', b'm',
            0x42, 0x87, 0x81, 0x04, 0x42, 0x85, 0x81, 0x02, 0x18, 0x53, 0x80, 0x67, 0x01, 0xFF,
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x16, 0x54, 0xAE, 0x6B, 0x90, 0xAE, 0x8E, 0x86,
        ];
        v.push(0x80 | codec.len() as u8);
        v.extend_from_slice(codec);
        v.extend_from_slice(&[0u8; 300]);
        v
    }

    #[test]
    fn a_voice_recording_is_audio_and_a_video_stays_video() {
        assert_eq!(mime_of(&webm_head(b"A_OPUS")), "audio/webm");
        assert_eq!(kind_of("audio/webm"), "audio");
        let mut both = webm_head(b"V_VP8");
        both.extend_from_slice(b"A_OPUS");
        assert_eq!(mime_of(&both), "video/webm");
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
