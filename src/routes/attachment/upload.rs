//! Storing an upload as it streams in: a chunk at a time, each queued to
//! the writer like a send (messages keep flowing meanwhile), a JPEG's metadata
//! taken out on the way, then, for an image, its thumbnail made on a
//! blocking thread, a few at a time.

use bytes::Buf;
use futures_util::{Stream, StreamExt};

use crate::app::App;
use crate::domain::attachments::{self, Attachment, CHUNK, Image};
use crate::domain::error::StoreError;
use crate::http::body::BodyTimeout;
use crate::http::error::ApiError;
use crate::media::jpeg::Stripper;
use crate::media::thumbnail::{self, Kind};
use crate::writer::writes::StoreChunk;

/// Stores `body`, of media type `mime`, as the attachment begun at `seq`:
/// the attachment, complete (its links not signed yet).
pub async fn store<S, B>(app: &App, seq: i64, mime: &str, body: S) -> Result<Attachment, ApiError>
where
    S: Stream<Item = Result<B, warp::Error>>,
    B: Buf,
{
    let kind = Kind::of(mime);
    let mut stripper = (kind == Some(Kind::Jpeg)).then(Stripper::default);
    let mut pending: Vec<u8> = Vec::with_capacity(CHUNK);
    let (mut received, mut stored, mut n) = (0_u64, 0_i64, 0_i64);
    let mut body = std::pin::pin!(body);
    while let Some(piece) = body.next().await {
        let mut piece = piece.map_err(read_error)?;
        received += piece.remaining() as u64;
        if received > app.max_upload {
            return Err(ApiError::FileTooLarge(app.max_upload));
        }
        let bytes = piece.copy_to_bytes(piece.remaining());
        match &mut stripper {
            Some(stripper) => stripper.push(&bytes, &mut pending),
            None => pending.extend_from_slice(&bytes),
        }
        while pending.len() >= CHUNK {
            let rest = pending.split_off(CHUNK);
            let chunk = std::mem::replace(&mut pending, rest);
            stored += write(app, seq, 0, n, chunk).await?;
            n += 1;
        }
    }
    if let Some(stripper) = stripper {
        stripper.finish(&mut pending);
    }
    for chunk in pending.chunks(CHUNK).map(<[u8]>::to_vec).collect::<Vec<_>>() {
        stored += write(app, seq, 0, n, chunk).await?;
        n += 1;
    }
    let image = match kind {
        Some(kind) => thumbnail(app, seq, kind).await?,
        None => None,
    };
    // What claims to be an image and does not decode is a plain file.
    let mime = match (kind, &image) {
        (Some(_), None) => "application/octet-stream".to_owned(),
        _ => mime.to_owned(),
    };
    Ok(app
        .db
        .run(move |conn| attachments::finish(conn, seq, stored, &mime, image.as_ref()))
        .await?)
}

/// Stores chunk `n` of `variant`, through the writer: its length.
async fn write(app: &App, seq: i64, variant: i64, n: i64, data: Vec<u8>) -> Result<i64, ApiError> {
    let len = data.len() as i64;
    app.writer
        .submit(StoreChunk {
            seq,
            variant,
            n,
            data,
        })
        .await??;
    Ok(len)
}

/// Makes and stores the thumbnail of the image stored at `seq`, if it
/// decodes.
async fn thumbnail(app: &App, seq: i64, kind: Kind) -> Result<Option<Image>, ApiError> {
    let _turn = app
        .thumbnails
        .acquire()
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let file = app
        .db
        .run(move |conn| {
            let mut file = Vec::new();
            for n in 0.. {
                match attachments::chunk(conn, seq, 0, n)? {
                    Some(chunk) => file.extend(chunk),
                    None => break,
                }
            }
            Ok::<_, StoreError>(file)
        })
        .await?;
    let made = tokio::task::spawn_blocking(move || thumbnail::make(&file, kind))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let Some(made) = made else {
        return Ok(None);
    };
    for (n, chunk) in (0..).zip(made.bytes.chunks(CHUNK)) {
        write(app, seq, 1, n, chunk.to_vec()).await?;
    }
    Ok(Some(Image {
        width: made.width,
        height: made.height,
        thumbnail_type: made.mime,
    }))
}

/// The error of a body that broke off, or stalled past its deadline.
fn read_error(e: warp::Error) -> ApiError {
    use std::error::Error;
    match e.source().and_then(|s| s.downcast_ref::<BodyTimeout>()) {
        Some(_) => ApiError::RequestTimeout,
        None => ApiError::BadRequest(format!("reading the body: {e}")),
    }
}
