//! Thumbnails, and the size an image shows at. Decoding an upload is the
//! one costly thing done with it: callers run this on a blocking thread,
//! a few at a time. Anything that does not decode, or would decode to more
//! than [`MAX_PIXELS`], is no image here (never an error).

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};

/// The most pixels an image may decode to.
pub const MAX_PIXELS: u64 = 50_000_000;

/// A thumbnail's longest side.
pub const SIDE: u32 = 800;

/// The image types that get a size and a thumbnail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Jpeg,
    Png,
    Gif,
    Webp,
}

impl Kind {
    /// The kind of an upload of media type `mime`, if it is an image.
    pub fn of(mime: &str) -> Option<Kind> {
        match mime {
            "image/jpeg" => Some(Kind::Jpeg),
            "image/png" => Some(Kind::Png),
            "image/gif" => Some(Kind::Gif),
            "image/webp" => Some(Kind::Webp),
            _ => None,
        }
    }

    fn format(self) -> ImageFormat {
        match self {
            Kind::Jpeg => ImageFormat::Jpeg,
            Kind::Png => ImageFormat::Png,
            Kind::Gif => ImageFormat::Gif,
            Kind::Webp => ImageFormat::WebP,
        }
    }
}

/// What decoding an image gave.
pub struct Thumbnail {
    /// The image's width as it shows (after its orientation).
    pub width: u32,
    /// Its height as it shows.
    pub height: u32,
    /// The thumbnail's bytes: a JPEG for a JPEG, else a PNG (which keeps
    /// transparency).
    pub bytes: Vec<u8>,
    /// The thumbnail's media type.
    pub mime: &'static str,
}

/// The thumbnail of `file`, an image of `kind`, if it decodes.
pub fn make(file: &[u8], kind: Kind) -> Option<Thumbnail> {
    let mut reader = ImageReader::with_format(Cursor::new(file), kind.format());
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_PIXELS * 4 + (64 << 20));
    reader.limits(limits);
    let mut decoder = reader.into_decoder().ok()?;
    let (w, h) = decoder.dimensions();
    if u64::from(w) * u64::from(h) > MAX_PIXELS || w == 0 || h == 0 {
        return None;
    }
    let orientation = decoder.orientation().ok()?;
    let mut image = DynamicImage::from_decoder(decoder).ok()?;
    image.apply_orientation(orientation);
    let (width, height) = (image.width(), image.height());
    let small = if width.max(height) > SIDE {
        image.thumbnail(SIDE, SIDE)
    } else {
        image
    };
    let mut bytes = Vec::new();
    let mime = match kind {
        Kind::Jpeg => {
            let encoder = JpegEncoder::new_with_quality(&mut bytes, 80);
            small.to_rgb8().write_with_encoder(encoder).ok()?;
            "image/jpeg"
        }
        _ => {
            small
                .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
                .ok()?;
            "image/png"
        }
    };
    Some(Thumbnail {
        width,
        height,
        bytes,
        mime,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let image = DynamicImage::new_rgba8(width, height);
        let mut bytes = Vec::new();
        image
            .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
            .unwrap();
        bytes
    }

    #[test]
    fn a_thumbnail_is_at_most_800_on_its_longest_side() {
        let made = make(&png(1600, 400), Kind::Png).unwrap();
        assert_eq!(
            (made.width, made.height, made.mime),
            (1600, 400, "image/png")
        );
        let thumb = image::load_from_memory(&made.bytes).unwrap();
        assert_eq!((thumb.width(), thumb.height()), (800, 200));
        let small = make(&png(30, 20), Kind::Png).unwrap();
        assert_eq!((small.width, small.height), (30, 20));
    }

    #[test]
    fn what_does_not_decode_or_is_too_big_is_no_image() {
        assert!(make(b"not a png at all", Kind::Png).is_none());
        assert!(make(&png(10, 10), Kind::Jpeg).is_none());
        // A header that claims 10,000 x 10,000: never decoded.
        let mut huge = png(1, 1);
        huge[16..20].copy_from_slice(&10_000u32.to_be_bytes());
        huge[20..24].copy_from_slice(&10_000u32.to_be_bytes());
        assert!(make(&huge, Kind::Png).is_none());
    }
}
