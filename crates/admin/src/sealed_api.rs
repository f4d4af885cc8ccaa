//! The audio download of encrypted recordings: the representation is the decrypted audio (WAV sizes filled
//! in), and a range decrypts only the chunks it lies in, one piece at a time while the body is sent.

use std::sync::Arc;

use axum::body::Body;
use axum::http::StatusCode;
use tokio::io::AsyncWriteExt;

use crate::api::ApiError;
use crate::sealed::{is_sealed, SealedError, SealedFile};

/// Plaintext bytes decrypted and sent per step.
const PIECE: u64 = 64 * 1024;

/// The recording opened for decryption when it is encrypted; `None` for a file in clear.
/// A file under its final name must be whole (`part` false); a `.part` is served up to its last complete chunk.
pub(crate) fn open(
    file: &std::fs::File,
    part: bool,
    keys: Option<&rec_vault::Keyring>,
) -> Result<Option<SealedFile>, ApiError> {
    let internal = || {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "cannot read the audio file",
        )
    };
    if !is_sealed(file).map_err(|_| internal())? {
        return Ok(None);
    }
    let file = file.try_clone().map_err(|_| internal())?;
    match SealedFile::open(file, keys).and_then(|s| {
        if !part {
            s.require_finished()?;
        }
        Ok(s)
    }) {
        Ok(s) => Ok(Some(s)),
        Err(SealedError::NoKeys) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the recording is encrypted and this server has no key configured for it",
        )),
        Err(e) => {
            tracing::error!(error = %e, "encrypted recording cannot be opened");
            Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("the encrypted recording cannot be decrypted: {e}"),
            ))
        }
    }
}

/// A body of `len` decrypted bytes from `start`. A chunk failing authentication ends the body early (the
/// client sees fewer bytes than announced) and is logged.
pub(crate) fn stream(sealed: SealedFile, start: u64, len: u64) -> Body {
    let sealed = Arc::new(sealed);
    let (mut tx, rx) = tokio::io::duplex(PIECE as usize);
    tokio::spawn(async move {
        let mut at = start;
        let end = start + len;
        while at < end {
            let n = PIECE.min(end - at);
            let s = Arc::clone(&sealed);
            let piece = tokio::task::spawn_blocking(move || s.read_range(at, n)).await;
            match piece {
                Ok(Ok(bytes)) if !bytes.is_empty() => {
                    if tx.write_all(&bytes).await.is_err() {
                        return; // the client went away
                    }
                    at += bytes.len() as u64;
                }
                Ok(Ok(_)) => {
                    tracing::error!(at, "encrypted recording ended before the announced length");
                    return;
                }
                Ok(Err(e)) => {
                    tracing::error!(error = %e, at, "encrypted recording: download stopped");
                    return;
                }
                Err(_) => return,
            }
        }
        let _ = tx.shutdown().await;
    });
    Body::from_stream(tokio_util::io::ReaderStream::with_capacity(
        rx,
        PIECE as usize,
    ))
}
