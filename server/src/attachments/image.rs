//! Re-encoding of uploaded raster images: pixel limit before decoding, EXIF orientation
//! applied, shrunk to fit inside 1920×1080, lossy WebP (or PNG where there is transparency).
//! Re-encoding keeps pixels only, so EXIF, GPS and every other metadata block is dropped.
//!
//! [`optimize`] is synchronous and CPU-heavy (≈ 100-250 ms for a 12 MP photo): call it on the
//! blocking pool (`blocking::CpuPool`, bounded concurrency), never
//! on the async runtime.
//!
//! JPEG is decoded with `jpeg-decoder`'s DCT scaling (1/2, 1/4, 1/8 while decoding), as libvips
//! does with libjpeg's shrink-on-load: a 12 MP photo bound for 1440×1080 is decoded at
//! 2016×1512, which is most of the time saved. Other formats, and JPEGs it cannot read
//! (CMYK, arithmetic coding), go through `image`'s decoders.

use std::io::Cursor;
use std::time::Instant;

use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
use image::{
    codecs::png::{CompressionType, FilterType as PngFilter, PngEncoder},
    metadata::Orientation,
    DynamicImage, GrayImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage,
};

use super::kind::FileKind;

/// Images above this many pixels are refused before decoding (a 40 MP RGBA image is 160 MB
/// of memory; a "decompression bomb" is a tiny file claiming far more).
pub const MAX_PIXELS: u64 = 40_000_000;
/// The box the output must fit in; smaller images are never enlarged.
pub const MAX_WIDTH: u32 = 1920;
pub const MAX_HEIGHT: u32 = 1080;
pub const WEBP_QUALITY: f32 = 70.0;
/// What a decoder may allocate: a 40 MP image at 16 bits per channel with alpha, and slack.
const MAX_DECODE_ALLOC: u64 = MAX_PIXELS * 8 + 64 * 1024 * 1024;

/// The re-encoded image and what the attachment row records.
#[derive(Debug, Clone)]
pub struct OptimizedImage {
    pub bytes: Vec<u8>,
    /// `Webp`, or `Png` for images with transparency.
    pub kind: FileKind,
    pub width: u32,
    pub height: u32,
    /// As stored in the upload (before orientation).
    pub original_width: u32,
    pub original_height: u32,
    pub original_size: u64,
    pub optimized_size: u64,
}

impl OptimizedImage {
    pub fn content_type(&self) -> &'static str {
        self.kind.content_type()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("not a raster image: {0:?}")]
    NotRaster(FileKind),
    #[error("image of {width}x{height} pixels is above the limit")]
    TooManyPixels { width: u32, height: u32 },
    #[error("image could not be decoded: {0}")]
    Unreadable(String),
    #[error("image could not be encoded: {0}")]
    Encode(String),
}

impl ImageError {
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotRaster(_) => "image_not_raster",
            Self::TooManyPixels { .. } => "image_too_large",
            Self::Unreadable(_) => "image_unreadable",
            Self::Encode(_) => "image_encode_failed",
        }
    }

    /// What the user reads (no internals).
    pub fn message(&self) -> String {
        match self {
            Self::NotRaster(_) => "This file is not an image.".into(),
            Self::TooManyPixels { width, height } => format!(
                "The image is {width}×{height} pixels; images may have at most {} megapixels.",
                MAX_PIXELS / 1_000_000
            ),
            Self::Unreadable(_) => "The image is damaged or could not be read.".into(),
            Self::Encode(_) => "The image could not be processed. Please try again.".into(),
        }
    }
}

fn unreadable(e: impl std::fmt::Display) -> ImageError {
    ImageError::Unreadable(e.to_string())
}

/// Reads only the header: the dimensions as stored.
pub fn header_dimensions(bytes: &[u8], kind: FileKind) -> Result<(u32, u32), ImageError> {
    let format = image_format(kind)?;
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    // The header is read without limits so a bomb is reported as one, not as a failed read.
    reader.no_limits();
    reader.into_dimensions().map_err(unreadable)
}

/// Refuses images whose header claims more than [`MAX_PIXELS`], without decoding them.
pub fn check_dimensions(bytes: &[u8], kind: FileKind) -> Result<(u32, u32), ImageError> {
    let (width, height) = header_dimensions(bytes, kind)?;
    if u64::from(width) * u64::from(height) > MAX_PIXELS || width == 0 || height == 0 {
        return Err(ImageError::TooManyPixels { width, height });
    }
    Ok((width, height))
}

fn image_format(kind: FileKind) -> Result<ImageFormat, ImageError> {
    Ok(match kind {
        FileKind::Jpeg => ImageFormat::Jpeg,
        FileKind::Png => ImageFormat::Png,
        FileKind::Gif => ImageFormat::Gif,
        FileKind::Webp => ImageFormat::WebP,
        other => return Err(ImageError::NotRaster(other)),
    })
}

/// Re-encodes an uploaded image whose kind [`super::kind::detect`] decided. Synchronous and
/// CPU-heavy: run it on the blocking pool.
pub fn optimize(bytes: &[u8], kind: FileKind) -> Result<OptimizedImage, ImageError> {
    let format = image_format(kind)?;
    let (original_width, original_height) = check_dimensions(bytes, kind)?;

    let scaled = if kind == FileKind::Jpeg {
        decode_jpeg_scaled(bytes, original_width, original_height)
    } else {
        None
    };
    let (mut image, orientation) = match scaled {
        Some(decoded) => decoded,
        None => decode(bytes, format)?,
    };
    image.apply_orientation(orientation);

    let transparent = has_transparency(&image);
    let (width, height) = fit_inside(image.width(), image.height(), MAX_WIDTH, MAX_HEIGHT);
    if (width, height) != (image.width(), image.height()) {
        image = resize(&image, width, height);
    }

    let (out, out_kind) = if transparent {
        (encode_png(image)?, FileKind::Png)
    } else {
        (encode_webp(image)?, FileKind::Webp)
    };
    Ok(OptimizedImage {
        optimized_size: out.len() as u64,
        bytes: out,
        kind: out_kind,
        width,
        height,
        original_width,
        original_height,
        original_size: bytes.len() as u64,
    })
}

fn decode_limits() -> Limits {
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_DECODE_ALLOC);
    limits
}

/// Any format through `image`, with limits; the orientation comes from the EXIF if any.
fn decode(bytes: &[u8], format: ImageFormat) -> Result<(DynamicImage, Orientation), ImageError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), format);
    reader.limits(decode_limits());
    let mut decoder = reader.into_decoder().map_err(unreadable)?;
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let image = DynamicImage::from_decoder(decoder).map_err(unreadable)?;
    Ok((image, orientation))
}

/// JPEG decoded at the smallest DCT scale that still covers the output size. `None` when
/// `jpeg-decoder` cannot do it (the caller falls back to `image`).
fn decode_jpeg_scaled(
    bytes: &[u8],
    width: u32,
    height: u32,
) -> Option<(DynamicImage, Orientation)> {
    let mut decoder = jpeg_decoder::Decoder::new(Cursor::new(bytes));
    decoder.set_max_decoding_buffer_size(usize::try_from(MAX_DECODE_ALLOC).ok()?);
    decoder.read_info().ok()?;
    let orientation = decoder
        .exif_data()
        .and_then(Orientation::from_exif_chunk)
        .unwrap_or(Orientation::NoTransforms);
    // The box in stored (unrotated) coordinates.
    let (box_w, box_h) = if swaps_axes(orientation) {
        (MAX_HEIGHT, MAX_WIDTH)
    } else {
        (MAX_WIDTH, MAX_HEIGHT)
    };
    let (target_w, target_h) = fit_inside(width, height, box_w, box_h);
    decoder
        .scale(u16::try_from(target_w).ok()?, u16::try_from(target_h).ok()?)
        .ok()?;
    let pixels = decoder.decode().ok()?;
    let info = decoder.info()?;
    let (w, h) = (u32::from(info.width), u32::from(info.height));
    let image = match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => {
            DynamicImage::ImageRgb8(RgbImage::from_raw(w, h, pixels)?)
        }
        jpeg_decoder::PixelFormat::L8 => {
            DynamicImage::ImageLuma8(GrayImage::from_raw(w, h, pixels)?)
        }
        // CMYK and 16-bit: rare; `image` converts them properly.
        _ => return None,
    };
    Some((image, orientation))
}

fn swaps_axes(orientation: Orientation) -> bool {
    matches!(
        orientation,
        Orientation::Rotate90
            | Orientation::Rotate270
            | Orientation::Rotate90FlipH
            | Orientation::Rotate270FlipH
    )
}

/// The largest size with the same aspect ratio inside `box_w`×`box_h`; never larger than
/// the input.
pub fn fit_inside(width: u32, height: u32, box_w: u32, box_h: u32) -> (u32, u32) {
    if width <= box_w && height <= box_h {
        return (width, height);
    }
    let scale = f64::min(
        f64::from(box_w) / f64::from(width),
        f64::from(box_h) / f64::from(height),
    );
    let w = (f64::from(width) * scale)
        .round()
        .clamp(1.0, f64::from(box_w));
    let h = (f64::from(height) * scale)
        .round()
        .clamp(1.0, f64::from(box_h));
    (w as u32, h as u32)
}

/// Lanczos3 (as libvips) through `fast_image_resize`, whose SIMD convolution takes ~12 ms for
/// 2016×1512 → 1440×1080 where `image`'s `resize` took 150+ ms (measured, release, this
/// machine). It resizes with premultiplied alpha, so transparent edges do not darken.
fn resize(image: &DynamicImage, width: u32, height: u32) -> DynamicImage {
    let options = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    let mut resized = DynamicImage::new(width, height, image.color());
    match Resizer::new().resize(image, &mut resized, &options) {
        Ok(()) => resized,
        // Pixel types it does not take (32-bit float): `image` does them, slowly.
        Err(_) => image.resize_exact(width, height, image::imageops::FilterType::Lanczos3),
    }
}

/// Real transparency: an alpha channel with at least one pixel below opaque.
fn has_transparency(image: &DynamicImage) -> bool {
    match image {
        DynamicImage::ImageRgba8(buf) => buf.pixels().any(|p| p.0[3] < u8::MAX),
        DynamicImage::ImageLumaA8(buf) => buf.pixels().any(|p| p.0[1] < u8::MAX),
        DynamicImage::ImageRgba16(buf) => buf.pixels().any(|p| p.0[3] < u16::MAX),
        DynamicImage::ImageLumaA16(buf) => buf.pixels().any(|p| p.0[1] < u16::MAX),
        other if other.color().has_alpha() => other.to_rgba8().pixels().any(|p| p.0[3] < u8::MAX),
        _ => false,
    }
}

fn encode_webp(image: DynamicImage) -> Result<Vec<u8>, ImageError> {
    let rgb = image.into_rgb8();
    let encoded = webp::Encoder::from_rgb(rgb.as_raw(), rgb.width(), rgb.height())
        .encode_simple(false, WEBP_QUALITY)
        .map_err(|e| ImageError::Encode(format!("{e:?}")))?;
    Ok(encoded.to_vec())
}

fn encode_png(image: DynamicImage) -> Result<Vec<u8>, ImageError> {
    let rgba = image.into_rgba8();
    let mut out = Vec::new();
    let encoder =
        PngEncoder::new_with_quality(&mut out, CompressionType::Default, PngFilter::Adaptive);
    rgba.write_with_encoder(encoder)
        .map_err(|e| ImageError::Encode(e.to_string()))?;
    Ok(out)
}

/// For the bench command: optimises the image at `path` `iterations` times (at least once)
/// and returns the median wall time in milliseconds and the output size in bytes.
pub fn bench_optimize(path: &std::path::Path, iterations: usize) -> anyhow::Result<(f64, usize)> {
    use anyhow::Context;
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let kind = super::kind::detect(name, &bytes).map_err(|e| anyhow::anyhow!(e.message()))?;
    let mut times = Vec::with_capacity(iterations.max(1));
    let mut size = 0;
    for _ in 0..iterations.max(1) {
        let start = Instant::now();
        let out = optimize(&bytes, kind).map_err(|e| anyhow::anyhow!("{e}"))?;
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        size = out.bytes.len();
    }
    times.sort_by(f64::total_cmp);
    Ok((times[times.len() / 2], size))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attachments::{fixture_path, kind::detect};

    fn optimize_fixture(name: &str) -> OptimizedImage {
        let bytes = std::fs::read(fixture_path(name)).expect("fixture");
        let kind = detect(name, &bytes).expect("accepted");
        optimize(&bytes, kind).expect("optimised")
    }

    fn assert_no_metadata(bytes: &[u8]) {
        for marker in [
            &b"Exif"[..],
            b"EXIF",
            b"GPS",
            b"MM\0*",
            b"II*\0",
            b"XMP ",
            b"eXIf",
        ] {
            assert!(
                !bytes.windows(marker.len()).any(|w| w == marker),
                "output still holds {:?}",
                String::from_utf8_lossy(marker)
            );
        }
    }

    #[test]
    fn twelve_megapixel_photo_becomes_1440x1080_webp() {
        let out = optimize_fixture("photo-4032x3024.jpg");
        assert_eq!(out.kind, FileKind::Webp);
        assert_eq!(out.content_type(), "image/webp");
        assert_eq!((out.width, out.height), (1440, 1080));
        assert_eq!((out.original_width, out.original_height), (4032, 3024));
        assert_eq!(out.original_size, 1_353_325);
        assert_eq!(out.optimized_size, out.bytes.len() as u64);
        assert!(out.optimized_size < out.original_size / 10);
        let decoded = image::load_from_memory_with_format(&out.bytes, ImageFormat::WebP).unwrap();
        assert_eq!((decoded.width(), decoded.height()), (1440, 1080));
        assert_no_metadata(&out.bytes);
    }

    #[test]
    fn alpha_png_stays_png_and_transparent() {
        let out = optimize_fixture("diagram-2400x1800-alpha.png");
        assert_eq!(out.kind, FileKind::Png);
        assert_eq!((out.width, out.height), (1440, 1080));
        let decoded = image::load_from_memory_with_format(&out.bytes, ImageFormat::Png)
            .unwrap()
            .into_rgba8();
        assert!(decoded.pixels().any(|p| p.0[3] == 0), "transparency lost");
    }

    #[test]
    fn exif_photo_is_upright_with_red_block_top_right_and_no_metadata() {
        let out = optimize_fixture("photo-800x600-exif-orientation6-gps.jpg");
        assert_eq!(out.kind, FileKind::Webp);
        assert_eq!((out.width, out.height), (600, 800));
        assert_no_metadata(&out.bytes);
        let rgb = image::load_from_memory_with_format(&out.bytes, ImageFormat::WebP)
            .unwrap()
            .into_rgb8();
        let is_red = |x: u32, y: u32| {
            let [r, g, b] = rgb.get_pixel(x, y).0;
            r > 180 && g < 80 && b < 80
        };
        assert!(is_red(600 - 30, 30), "top-right corner should be red");
        for (x, y) in [(30, 30), (30, 800 - 30), (600 - 30, 800 - 30)] {
            assert!(
                !is_red(x, y),
                "only the top-right corner is red, not ({x},{y})"
            );
        }
    }

    /// A valid PNG signature and IHDR claiming 100000×100000, and nothing else.
    fn png_bomb_header() -> Vec<u8> {
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(b"IHDR");
        ihdr.extend_from_slice(&100_000u32.to_be_bytes());
        ihdr.extend_from_slice(&100_000u32.to_be_bytes());
        ihdr.extend_from_slice(&[8, 6, 0, 0, 0]);
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut chunk = |body: &[u8]| {
            png.extend_from_slice(&(body.len() as u32 - 4).to_be_bytes());
            png.extend_from_slice(body);
            png.extend_from_slice(&crc32(body).to_be_bytes());
        };
        chunk(&ihdr);
        // An empty zlib stream: the file is well-formed, only its pixels are missing.
        chunk(b"IDAT\x78\x9c\x03\x00\x00\x00\x00\x01");
        chunk(b"IEND");
        png
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &byte in data {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn decompression_bomb_is_refused_from_its_header() {
        let bomb = png_bomb_header();
        let kind = detect("bomb.png", &bomb).expect("a PNG by its magic number");
        let err = optimize(&bomb, kind).unwrap_err();
        assert!(
            matches!(
                err,
                ImageError::TooManyPixels {
                    width: 100_000,
                    height: 100_000
                }
            ),
            "{err:?}"
        );
        assert!(err.message().contains("megapixels"));
    }

    #[test]
    fn small_images_are_not_enlarged_and_documents_are_not_images() {
        let mut small = Vec::new();
        DynamicImage::ImageRgb8(RgbImage::from_pixel(40, 30, image::Rgb([10, 200, 30])))
            .write_to(&mut Cursor::new(&mut small), ImageFormat::Png)
            .unwrap();
        let out = optimize(&small, FileKind::Png).unwrap();
        assert_eq!((out.width, out.height, out.kind), (40, 30, FileKind::Webp));
        assert!(matches!(
            optimize(b"%PDF-1.7", FileKind::Pdf),
            Err(ImageError::NotRaster(FileKind::Pdf))
        ));
        assert!(matches!(
            optimize(b"\x89PNG\r\n\x1a\nbroken", FileKind::Png),
            Err(ImageError::Unreadable(_))
        ));
    }

    fn encoded(image: DynamicImage, format: ImageFormat) -> Vec<u8> {
        let mut bytes = Vec::new();
        image
            .write_to(&mut Cursor::new(&mut bytes), format)
            .unwrap();
        bytes
    }

    #[test]
    fn gif_with_transparency_becomes_png_and_webp_is_shrunk() {
        let mut frame = image::RgbaImage::from_pixel(64, 48, image::Rgba([0, 0, 255, 255]));
        frame.put_pixel(0, 0, image::Rgba([0, 0, 0, 0]));
        let gif = encoded(DynamicImage::ImageRgba8(frame), ImageFormat::Gif);
        let kind = detect("a.gif", &gif).unwrap();
        let out = optimize(&gif, kind).unwrap();
        assert_eq!((out.kind, out.width, out.height), (FileKind::Png, 64, 48));

        let wide = DynamicImage::ImageRgb8(RgbImage::from_pixel(2500, 100, image::Rgb([9, 9, 9])));
        let webp = encoded(wide, ImageFormat::WebP);
        let kind = detect("a.webp", &webp).unwrap();
        let out = optimize(&webp, kind).unwrap();
        assert_eq!(
            (out.kind, out.width, out.height),
            (FileKind::Webp, 1920, 77)
        );
    }

    #[test]
    fn fit_inside_keeps_the_aspect_ratio() {
        assert_eq!(fit_inside(4032, 3024, 1920, 1080), (1440, 1080));
        assert_eq!(fit_inside(3024, 4032, 1920, 1080), (810, 1080));
        assert_eq!(fit_inside(4000, 1000, 1920, 1080), (1920, 480));
        assert_eq!(fit_inside(800, 600, 1920, 1080), (800, 600));
        assert_eq!(fit_inside(100_000, 1, 1920, 1080), (1920, 1));
    }
}
