//! The photo half of `bench/run upload`: writes a JPEG the size of a
//! phone's photo, for timing thumbnails.
//!
//! `cargo bench --bench photo -- FILE WIDTH HEIGHT`
// A benchmark that cannot go on stops with a message.
#![allow(clippy::unwrap_used, clippy::expect_used)]

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let [file, width, height] = args.as_slice() else {
        eprintln!("usage: photo FILE WIDTH HEIGHT");
        std::process::exit(2);
    };
    let (width, height): (u32, u32) = (width.parse().unwrap(), height.parse().unwrap());
    // Gradients and a little noise: compresses like a photo, not like a
    // flat colour.
    let mut seed = 12_345_u32;
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let noise = (seed >> 24) as u8 / 8;
        image::Rgb([
            ((x * 255 / width) as u8).wrapping_add(noise),
            ((y * 255 / height) as u8).wrapping_add(noise),
            (((x + y) / 16) as u8).wrapping_add(noise),
        ])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 88)
        .encode_image(&image)
        .unwrap();
    std::fs::write(file, out).unwrap();
}
