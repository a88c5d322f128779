//! The small JPEG a link preview card shows, made from the page's image.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageReader, Limits, Rgb, RgbImage};

/// A JPEG small enough to travel inside the message itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumbnail {
    pub jpeg: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// Quality 75 keeps a 300 px card around 10–20 KB, like the phones' own.
const QUALITY: u8 = 75;

/// Decodes `bytes` (JPEG, PNG, GIF or WebP, told apart by their content)
/// and scales the picture so its longest side is at most `max_side`.
///
/// A small file can declare a huge picture; the decoder refuses to
/// allocate more than a large photo needs instead of trusting it.
pub fn make(bytes: &[u8], max_side: u32) -> Result<Thumbnail, image::ImageError> {
    let mut reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format()?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(12_000);
    limits.max_image_height = Some(12_000);
    limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(limits);
    let picture = reader.decode()?;
    let small = if picture.width() > max_side || picture.height() > max_side {
        picture.thumbnail(max_side, max_side)
    } else {
        picture
    };
    let rgb = on_white(&small);
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, QUALITY).encode_image(&rgb)?;
    Ok(Thumbnail {
        jpeg,
        width: rgb.width(),
        height: rgb.height(),
    })
}

/// JPEG has no transparency; dropping the alpha channel would show
/// whatever colour transparent pixels happen to hold (often black), so
/// logos are laid on white, as a page would show them.
fn on_white(picture: &DynamicImage) -> RgbImage {
    let rgba = picture.to_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let blend =
            |c: u8| ((u16::from(c) * u16::from(a) + 255 * (255 - u16::from(a))) / 255) as u8;
        Rgb([blend(r), blend(g), blend(b)])
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{ImageFormat, Rgba, RgbaImage};

    fn encoded(picture: RgbaImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        DynamicImage::ImageRgba8(picture)
            .write_to(&mut out, format)
            .unwrap();
        out.into_inner()
    }

    fn decoded(thumb: &Thumbnail) -> RgbImage {
        image::load_from_memory_with_format(&thumb.jpeg, ImageFormat::Jpeg)
            .unwrap()
            .to_rgb8()
    }

    #[test]
    fn a_large_png_becomes_a_small_jpeg_of_the_same_shape() {
        let png = encoded(
            RgbaImage::from_pixel(1200, 600, Rgba([200, 30, 30, 255])),
            ImageFormat::Png,
        );
        let thumb = make(&png, 300).unwrap();
        assert_eq!((thumb.width, thumb.height), (300, 150));
        assert_eq!(&thumb.jpeg[..3], &[0xFF, 0xD8, 0xFF]);
        let back = decoded(&thumb);
        assert_eq!(back.dimensions(), (300, 150));
        let [r, g, b] = back.get_pixel(150, 75).0;
        assert!(r > 180 && g < 60 && b < 60, "{r} {g} {b}");
    }

    #[test]
    fn small_pictures_keep_their_size() {
        let png = encoded(
            RgbaImage::from_pixel(40, 20, Rgba([0, 0, 255, 255])),
            ImageFormat::Png,
        );
        let thumb = make(&png, 300).unwrap();
        assert_eq!((thumb.width, thumb.height), (40, 20));
    }

    #[test]
    fn transparency_is_laid_on_white() {
        let png = encoded(
            RgbaImage::from_pixel(16, 16, Rgba([0, 0, 0, 0])),
            ImageFormat::Png,
        );
        let [r, g, b] = decoded(&make(&png, 300).unwrap()).get_pixel(8, 8).0;
        assert!(r > 240 && g > 240 && b > 240, "{r} {g} {b}");
    }

    #[test]
    fn gif_and_jpeg_are_read_too() {
        let pixels = RgbaImage::from_pixel(10, 10, Rgba([10, 200, 10, 255]));
        for format in [ImageFormat::Gif, ImageFormat::Jpeg] {
            let bytes = match format {
                // The JPEG encoder takes no alpha channel.
                ImageFormat::Jpeg => {
                    let mut out = Cursor::new(Vec::new());
                    DynamicImage::ImageRgba8(pixels.clone())
                        .to_rgb8()
                        .write_to(&mut out, format)
                        .unwrap();
                    out.into_inner()
                }
                _ => encoded(pixels.clone(), format),
            };
            let thumb = make(&bytes, 300).unwrap();
            assert_eq!((thumb.width, thumb.height), (10, 10), "{format:?}");
        }
    }

    #[test]
    fn what_is_not_a_picture_is_an_error() {
        assert!(make(b"<html>not an image</html>", 300).is_err());
        assert!(make(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A], 300).is_err());
    }
}
