//! Photos: decoding under limits, orientation, thumbnails and previews, metadata removal.
//! Everything here is blocking and runs on the blocking pool, never on the async workers.

use std::io::{BufRead, Cursor, Seek};

use image::codecs::jpeg::JpegEncoder;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageReader, Limits};
use img_parts::jpeg::{markers, Jpeg, JpegSegment};
use img_parts::png::Png;
use img_parts::{Bytes, DynImage, ImageEXIF};

/// Longest side of a thumbnail, in pixels (sized for a chat timeline at 2x density).
pub const THUMB_MAX: u32 = 480;
/// Longest side of the medium preview shown when a photo is opened.
pub const PREVIEW_MAX: u32 = 1600;
/// Largest photo side decoded; bigger ones are kept as plain files.
const MAX_SIDE: u32 = 16_384;
/// Memory one photo's processing may use. A decompression bomb stops here instead of
/// exhausting memory. Counted as the decoder really allocates: its output buffer, which is the
/// only full-size image made (thumbnails and previews are scaled straight from it and turned
/// upright when small); 192 MiB is a 64-megapixel RGB photo, and two run at once.
const MAX_ALLOC: u64 = 192 << 20;

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("the image cannot be decoded: {0}")]
    Decode(#[from] image::ImageError),
    #[error("the image cannot be encoded: {0}")]
    Encode(String),
}

/// An encoded derived image.
#[derive(Debug)]
pub struct Encoded {
    pub bytes: Vec<u8>,
    pub mime: &'static str,
}

#[derive(Debug)]
pub struct Processed {
    /// Dimensions after orientation.
    pub width: u32,
    pub height: u32,
    /// The EXIF orientation the photo carried (1: none).
    pub orientation: u8,
    pub thumb: Encoded,
    /// Only for photos larger than a preview; the original serves otherwise.
    pub preview: Option<Encoded>,
}

fn limits() -> Limits {
    let mut l = Limits::default();
    l.max_image_width = Some(MAX_SIDE);
    l.max_image_height = Some(MAX_SIDE);
    l.max_alloc = Some(MAX_ALLOC);
    l
}

/// Decodes an image (its format recognised from the content) with limits; returns it as
/// stored (not yet upright) and its EXIF orientation.
fn decode_raw<R: BufRead + Seek>(input: R) -> Result<(DynamicImage, Orientation), ImageError> {
    let mut reader = ImageReader::new(input)
        .with_guessed_format()
        .map_err(image::ImageError::IoError)?;
    reader.limits(limits());
    let mut decoder = reader.into_decoder()?;
    // The decoder checks its own buffer against `max_alloc` only for some formats and counts
    // some of them in a narrower type; check the whole output here for every format.
    if decoder.total_bytes() > MAX_ALLOC {
        return Err(ImageError::Decode(image::ImageError::Limits(
            image::error::LimitError::from_kind(image::error::LimitErrorKind::InsufficientMemory),
        )));
    }
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let img = DynamicImage::from_decoder(decoder)?;
    Ok((img, orientation))
}

/// Decodes an image (its format recognised from the content) with limits, and turns it upright.
pub fn decode<R: BufRead + Seek>(input: R) -> Result<(DynamicImage, u8), ImageError> {
    let (mut img, orientation) = decode_raw(input)?;
    img.apply_orientation(orientation);
    Ok((img, orientation.to_exif()))
}

/// Whether an orientation swaps width and height.
fn swaps_sides(o: Orientation) -> bool {
    matches!(
        o,
        Orientation::Rotate90
            | Orientation::Rotate270
            | Orientation::Rotate90FlipH
            | Orientation::Rotate270FlipH
    )
}

/// A copy no larger than `max` on its longer side, made without any full-size intermediate
/// (`thumbnail` averages areas in integers; `resize` would build a float copy as tall as the
/// original), turned upright.
fn scaled_upright(img: &DynamicImage, max: u32, orientation: Orientation) -> DynamicImage {
    let mut small = if img.width().max(img.height()) > max {
        img.thumbnail(max, max)
    } else {
        img.clone()
    };
    small.apply_orientation(orientation);
    small
}

/// Makes the thumbnail and preview of a photo.
pub fn process<R: BufRead + Seek>(input: R) -> Result<Processed, ImageError> {
    let (img, orientation) = decode_raw(input)?;
    let (width, height) = if swaps_sides(orientation) {
        (img.height(), img.width())
    } else {
        (img.width(), img.height())
    };
    // Never enlarge: a small photo is its own thumbnail, re-encoded without metadata.
    let thumb = encode(&scaled_upright(&img, THUMB_MAX, orientation))?;
    let preview = if width.max(height) > PREVIEW_MAX {
        Some(encode(&scaled_upright(&img, PREVIEW_MAX, orientation))?)
    } else {
        None
    };
    Ok(Processed {
        width,
        height,
        orientation: orientation.to_exif(),
        thumb,
        preview,
    })
}

/// A small still for a video, from the frame the sender's browser captured.
pub fn poster(bytes: &[u8]) -> Result<(Encoded, u32, u32), ImageError> {
    let (img, _) = decode(Cursor::new(bytes))?;
    let max = PREVIEW_MAX / 2;
    let small = if img.width().max(img.height()) > max {
        encode(&img.thumbnail(max, max))?
    } else {
        encode(&img)?
    };
    Ok((small, img.width(), img.height()))
}

/// Sides of a profile photo: the small one for names in lists and messages (48 px at 2x), the
/// large one for the profile card.
pub const AVATAR_SMALL: u32 = 96;
pub const AVATAR_LARGE: u32 = 512;

/// A profile photo's two sizes (JPEG), cropped square around the centre and never enlarged.
pub fn avatar(bytes: &[u8]) -> Result<(Vec<u8>, Vec<u8>), ImageError> {
    let (img, _) = decode(Cursor::new(bytes))?;
    let side = img.width().min(img.height());
    if side == 0 {
        return Err(ImageError::Encode("the image is empty".into()));
    }
    let square = img.crop_imm(
        (img.width() - side) / 2,
        (img.height() - side) / 2,
        side,
        side,
    );
    let sized = |max: u32| -> Result<Vec<u8>, ImageError> {
        let img = if side > max {
            square.resize_exact(max, max, image::imageops::FilterType::Triangle)
        } else {
            square.clone()
        };
        let mut out = Vec::new();
        // Flattened onto white: a transparent photo would show the page behind it.
        let rgb = if img.color().has_alpha() {
            let mut canvas =
                image::RgbImage::from_pixel(img.width(), img.height(), [255; 3].into());
            for (x, y, p) in img.to_rgba8().enumerate_pixels() {
                let a = u16::from(p[3]);
                let px = canvas.get_pixel_mut(x, y);
                for i in 0..3 {
                    px[i] = ((u16::from(p[i]) * a + 255 * (255 - a)) / 255) as u8;
                }
            }
            canvas
        } else {
            img.to_rgb8()
        };
        JpegEncoder::new_with_quality(&mut out, 85)
            .encode_image(&rgb)
            .map_err(|e| ImageError::Encode(e.to_string()))?;
        Ok(out)
    };
    Ok((sized(AVATAR_SMALL)?, sized(AVATAR_LARGE)?))
}

/// JPEG for opaque images; PNG where transparency must survive.
fn encode(img: &DynamicImage) -> Result<Encoded, ImageError> {
    let mut out = Vec::new();
    if img.color().has_alpha() {
        img.to_rgba8()
            .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
            .map_err(|e| ImageError::Encode(e.to_string()))?;
        Ok(Encoded {
            bytes: out,
            mime: "image/png",
        })
    } else {
        JpegEncoder::new_with_quality(&mut out, 82)
            .encode_image(&img.to_rgb8())
            .map_err(|e| ImageError::Encode(e.to_string()))?;
        Ok(Encoded {
            bytes: out,
            mime: "image/jpeg",
        })
    }
}

/// An EXIF block holding only an orientation, so that a stripped photo still shows upright.
fn orientation_exif(orientation: u8) -> Bytes {
    let mut tiff = Vec::with_capacity(26);
    tiff.extend_from_slice(b"II*\0");
    tiff.extend_from_slice(&8u32.to_le_bytes());
    tiff.extend_from_slice(&1u16.to_le_bytes());
    tiff.extend_from_slice(&0x0112u16.to_le_bytes());
    tiff.extend_from_slice(&3u16.to_le_bytes());
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&u32::from(orientation).to_le_bytes());
    tiff.extend_from_slice(&0u32.to_le_bytes());
    Bytes::from(tiff)
}

/// The photo without its metadata (camera, time, GPS location, comments), keeping what decoding
/// needs (colour profile, JFIF and Adobe markers) and the orientation. `None` when the format
/// has nothing to remove or cannot be rewritten.
pub fn strip_metadata(data: Bytes, mime: &str, orientation: u8) -> Option<Bytes> {
    let exif = (orientation > 1).then(|| orientation_exif(orientation));
    match mime {
        "image/jpeg" => {
            let mut jpeg = Jpeg::from_bytes(data).ok()?;
            jpeg.segments_mut().retain(|s: &JpegSegment| {
                let m = s.marker();
                let app = (markers::APP0..=markers::APP15).contains(&m);
                let keep = m == markers::APP0
                    || m == markers::APP14
                    || (m == markers::APP2 && s.contents().starts_with(b"ICC_PROFILE\0"));
                !(m == markers::COM || (app && !keep))
            });
            jpeg.set_exif(exif);
            Some(jpeg.encoder().bytes())
        }
        "image/png" => {
            let mut png = Png::from_bytes(data).ok()?;
            for kind in [*b"tEXt", *b"zTXt", *b"iTXt", *b"tIME", *b"eXIf"] {
                png.remove_chunks_by_type(kind);
            }
            png.set_exif(exif);
            Some(png.encoder().bytes())
        }
        "image/webp" => {
            let mut img = DynImage::from_bytes(data).ok()??;
            img.set_exif(exif);
            Some(img.encoder().bytes())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageBuffer, ImageEncoder, Rgb};

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = ImageBuffer::from_fn(w, h, |x, _| Rgb([(x % 256) as u8, 0, 0]));
        let mut out = Vec::new();
        JpegEncoder::new_with_quality(&mut out, 90)
            .encode_image(&img)
            .unwrap();
        out
    }

    #[test]
    fn orientation_survives_stripping() {
        let stripped = strip_metadata(Bytes::from(jpeg(40, 20)), "image/jpeg", 6).unwrap();
        let p = process(Cursor::new(stripped.to_vec())).unwrap();
        assert_eq!((p.width, p.height, p.orientation), (20, 40, 6));
        assert!(p.thumb.bytes.starts_with(&[0xff, 0xd8]));
    }

    #[test]
    fn hostile_inputs_fail_cleanly() {
        // Truncated, garbage, and a PNG header claiming 100000 x 100000 pixels.
        let whole = jpeg(64, 64);
        // A decoder may fill in a cut-off photo; it must only not panic or hang.
        let _ = process(Cursor::new(whole[..whole.len() / 2].to_vec()));
        assert!(process(Cursor::new(whole[..40].to_vec())).is_err());
        assert!(process(Cursor::new(b"\xff\xd8\xff\xe0garbage".to_vec())).is_err());
        let mut bomb = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        bomb.extend_from_slice(&100_000u32.to_be_bytes());
        bomb.extend_from_slice(&100_000u32.to_be_bytes());
        bomb.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
        assert!(process(Cursor::new(bomb)).is_err());
    }

    #[test]
    fn a_huge_flat_png_is_refused_before_its_pixels_are_decoded() {
        // The audit's case: 16384 x 16384 grey pixels compress to a few hundred KB and used
        // to peak at ~700 MB (a float copy for the preview, an RGB copy for the encoder).
        let side = 16_384u32;
        let zeros = vec![0u8; (side * side) as usize];
        let mut png = Vec::new();
        image::codecs::png::PngEncoder::new_with_quality(
            &mut png,
            image::codecs::png::CompressionType::Fast,
            image::codecs::png::FilterType::NoFilter,
        )
        .write_image(&zeros, side, side, image::ExtendedColorType::L8)
        .unwrap();
        drop(zeros);
        assert!(png.len() < 2 << 20, "{} bytes", png.len());
        let started = std::time::Instant::now();
        assert!(process(Cursor::new(png)).is_err());
        assert!(started.elapsed() < std::time::Duration::from_secs(2));
    }

    #[test]
    fn previews_are_made_upright_from_the_stored_pixels() {
        // A landscape photo stored sideways (orientation 6: rotate 90) is reported upright.
        let img = image::RgbImage::from_pixel(2000, 1000, image::Rgb([200, 10, 10]));
        let mut jpg = Vec::new();
        JpegEncoder::new_with_quality(&mut jpg, 80)
            .encode_image(&img)
            .unwrap();
        let jpg = Jpeg::from_bytes(Bytes::from(jpg)).unwrap();
        let mut jpg = jpg;
        jpg.set_exif(Some(orientation_exif(6)));
        let mut out = Vec::new();
        jpg.encoder().write_to(&mut out).unwrap();
        let p = process(Cursor::new(out)).unwrap();
        assert_eq!((p.width, p.height, p.orientation), (1000, 2000, 6));
        let thumb = image::load_from_memory(&p.thumb.bytes).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (240, 480));
        let preview = image::load_from_memory(&p.preview.unwrap().bytes).unwrap();
        assert_eq!((preview.width(), preview.height()), (800, 1600));
    }

    /// A short in-tree run of what `fuzz/fuzz_targets/thumbnail.rs` does at length: mutated
    /// photos of every format must fail or succeed, never panic.
    #[test]
    fn mutated_photos_never_panic() {
        let mut seeds = vec![jpeg(40, 30)];
        for fmt in [
            image::ImageFormat::Png,
            image::ImageFormat::Gif,
            image::ImageFormat::WebP,
        ] {
            let img = image::DynamicImage::ImageRgb8(ImageBuffer::from_fn(20, 10, |x, y| {
                Rgb([x as u8 * 9, y as u8 * 20, 7])
            }));
            let mut out = Vec::new();
            img.write_to(&mut Cursor::new(&mut out), fmt).unwrap();
            seeds.push(out);
        }
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..400 {
            let mut data = seeds[round % seeds.len()].clone();
            for _ in 0..(1 + next() % 8) {
                let i = (next() as usize) % data.len();
                data[i] = next() as u8;
            }
            if next() % 4 == 0 {
                let keep = (next() as usize) % data.len();
                data.truncate(keep.max(1));
            }
            let _ = process(Cursor::new(data.clone()));
            let _ = strip_metadata(Bytes::from(data), "image/jpeg", 3);
        }
    }
}
