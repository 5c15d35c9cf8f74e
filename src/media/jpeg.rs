//! Takes a JPEG's metadata out as it streams by, without decoding it: the
//! segments before the first scan that may say where a photo was taken
//! and with what (EXIF, XMP, IPTC, comments, makers' notes) are dropped,
//! and the orientation, if the photo had one, is put back in a minimal
//! EXIF segment so it still shows the right way up. From the first scan on
//! the bytes pass unchanged: the compressed image is the upload's.

/// The most bytes of segments before the first scan that are held to
/// find it: past this, the file is passed through as it is (no JPEG has
/// that much header; something else that starts like one is not an image
/// we show).
const MAX_HEAD: usize = 1 << 20;

/// A JPEG going through, in pieces.
#[derive(Default)]
pub struct Stripper {
    head: Vec<u8>,
    passing: bool,
}

impl Stripper {
    /// Takes the next `input` of the file; appends what is to be stored
    /// to `out`.
    pub fn push(&mut self, input: &[u8], out: &mut Vec<u8>) {
        if self.passing {
            out.extend_from_slice(input);
            return;
        }
        self.head.extend_from_slice(input);
        match scan_start(&self.head) {
            Scan::Found(at) => {
                out.extend(strip_head(&self.head[..at]));
                out.extend_from_slice(&self.head[at..]);
            }
            Scan::NotJpeg => out.append(&mut self.head),
            Scan::More if self.head.len() > MAX_HEAD => out.append(&mut self.head),
            Scan::More => return,
        }
        self.head = Vec::new();
        self.passing = true;
    }

    /// The end of the file: appends what is still held to `out`.
    pub fn finish(self, out: &mut Vec<u8>) {
        out.extend(self.head);
    }
}

enum Scan {
    /// The first scan (SOS) starts at this offset.
    Found(usize),
    /// Not a JPEG, or not one we understand: passed through as it is.
    NotJpeg,
    /// Not there yet.
    More,
}

/// Where the first scan starts in `head`, walking its segments.
fn scan_start(head: &[u8]) -> Scan {
    if head.len() >= 2 && head[..2] != [0xFF, 0xD8] {
        return Scan::NotJpeg;
    }
    let mut at = 2;
    loop {
        let (Some(&ff), Some(&marker)) = (head.get(at), head.get(at + 1)) else {
            return Scan::More;
        };
        if ff != 0xFF {
            return Scan::NotJpeg;
        }
        if marker == 0xFF {
            at += 1; // fill
            continue;
        }
        if marker == 0xDA {
            return Scan::Found(at);
        }
        let Some(len) = head.get(at + 2..at + 4) else {
            return Scan::More;
        };
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        if len < 2 {
            return Scan::NotJpeg;
        }
        at += 2 + len;
    }
}

/// The segments of `head` (SOI up to the first scan) without metadata,
/// with the orientation kept.
fn strip_head(head: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(head.len());
    out.extend_from_slice(&head[..2]);
    let mut orientation = None;
    let mut at = 2;
    let mut segments = Vec::new();
    while at + 4 <= head.len() {
        let marker = head[at + 1];
        let len = usize::from(u16::from_be_bytes([head[at + 2], head[at + 3]]));
        let end = (at + 2 + len).min(head.len());
        let segment = &head[at..end];
        let payload = &segment[4.min(segment.len())..];
        if marker == 0xE1 && payload.starts_with(b"Exif\0\0") {
            orientation = orientation.or_else(|| exif_orientation(&payload[6..]));
        }
        if keep(marker, payload) {
            segments.push(segment);
        }
        at = end;
    }
    // APP0 (JFIF) comes first where there is one; the orientation right after.
    let mut segments = segments.into_iter().peekable();
    if let Some(first) = segments.peek()
        && first[1] == 0xE0
    {
        out.extend_from_slice(first);
        segments.next();
    }
    if let Some(o) = orientation.filter(|o| (2..=8).contains(o)) {
        out.extend_from_slice(&orientation_segment(o));
    }
    for segment in segments {
        out.extend_from_slice(segment);
    }
    out
}

/// Whether a segment before the first scan stays: the image's own
/// (tables, frame, restart interval), JFIF, Adobe's color transform and
/// the color profile; never EXIF, XMP, IPTC, comments or other
/// application data.
fn keep(marker: u8, payload: &[u8]) -> bool {
    match marker {
        0xE0 | 0xEE => true,
        0xE2 => payload.starts_with(b"ICC_PROFILE\0"),
        0xE1 | 0xE3..=0xED | 0xEF | 0xFE => false,
        _ => true,
    }
}

/// The orientation tag (0x0112) of IFD0 of a TIFF structure (EXIF's body).
fn exif_orientation(tiff: &[u8]) -> Option<u16> {
    let big = match tiff.get(..2)? {
        b"MM" => true,
        b"II" => false,
        _ => return None,
    };
    let u16_at = |at: usize| -> Option<u16> {
        let b = tiff.get(at..at + 2)?;
        Some(if big {
            u16::from_be_bytes([b[0], b[1]])
        } else {
            u16::from_le_bytes([b[0], b[1]])
        })
    };
    let u32_at = |at: usize| -> Option<usize> {
        let b = tiff.get(at..at + 4)?;
        let v = if big {
            u32::from_be_bytes([b[0], b[1], b[2], b[3]])
        } else {
            u32::from_le_bytes([b[0], b[1], b[2], b[3]])
        };
        usize::try_from(v).ok()
    };
    let ifd = u32_at(4)?;
    let count = usize::from(u16_at(ifd)?);
    (0..count.min(512)).find_map(|i| {
        let entry = ifd + 2 + i * 12;
        (u16_at(entry)? == 0x0112 && u16_at(entry + 2)? == 3).then(|| u16_at(entry + 8))?
    })
}

/// An APP1 segment with EXIF holding only orientation `o`.
fn orientation_segment(o: u16) -> Vec<u8> {
    let mut s = vec![0xFF, 0xE1, 0x00, 34];
    s.extend_from_slice(b"Exif\0\0MM\0\x2a\0\0\0\x08\0\x01");
    s.extend_from_slice(&[0x01, 0x12, 0x00, 0x03, 0, 0, 0, 1]);
    s.extend_from_slice(&o.to_be_bytes());
    s.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(marker: u8, payload: &[u8]) -> Vec<u8> {
        let len = u16::try_from(payload.len() + 2).unwrap().to_be_bytes();
        [&[0xFF, marker], &len[..], payload].concat()
    }

    fn exif(orientation: u16, gps: &[u8]) -> Vec<u8> {
        let mut tiff = b"II\x2a\0\x08\0\0\0\x01\0".to_vec();
        tiff.extend_from_slice(&[0x12, 0x01, 0x03, 0x00, 1, 0, 0, 0]);
        tiff.extend_from_slice(&orientation.to_le_bytes());
        tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        tiff.extend_from_slice(gps);
        [b"Exif\0\0".as_slice(), &tiff].concat()
    }

    #[test]
    fn metadata_goes_orientation_stays_and_the_scan_is_untouched() {
        let scan = [&[0xFF, 0xDA, 0, 4, 1, 2][..], &[7; 100], &[0xFF, 0xD9]].concat();
        let file = [
            vec![0xFF, 0xD8],
            segment(0xE0, b"JFIF\0\x01\x01"),
            segment(0xE1, &exif(6, b"GPS 48.85N 2.35E Canon")),
            segment(
                0xE1,
                b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>where</x:xmpmeta>",
            ),
            segment(0xFE, b"a comment"),
            segment(0xDB, &[0; 65]),
            segment(0xC0, &[8, 0, 16, 0, 16, 1, 1, 0x11, 0]),
            scan.clone(),
        ]
        .concat();
        for piece in [1, 7, file.len()] {
            let mut stripper = Stripper::default();
            let mut out = Vec::new();
            for chunk in file.chunks(piece) {
                stripper.push(chunk, &mut out);
            }
            stripper.finish(&mut out);
            let text = String::from_utf8_lossy(&out);
            assert!(
                !text.contains("GPS") && !text.contains("xmpmeta") && !text.contains("comment")
            );
            assert!(out.ends_with(&scan), "the scan is the upload's");
            assert_eq!(
                exif_orientation(&out[2 + 11 + 4 + 6..]),
                Some(6),
                "{out:x?}"
            );
            assert!(out.windows(5).any(|w| w == b"JFIF\0"));
        }
    }

    #[test]
    fn what_is_no_jpeg_passes_as_it_is() {
        for file in [
            b"GIF89a not a jpeg".to_vec(),
            vec![0xFF, 0xD8, 0x00, 0x01, 2, 3],
        ] {
            let mut stripper = Stripper::default();
            let mut out = Vec::new();
            stripper.push(&file, &mut out);
            stripper.finish(&mut out);
            assert_eq!(out, file);
        }
    }
}
