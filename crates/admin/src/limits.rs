//! Resource bounds of the admin API (`[admin]` `max_connections`, `max_connections_per_source`,
//! `handshake_timeout_ms`, `header_timeout_ms`, `idle_timeout_s`, `write_timeout_s`, `max_body_kb`,
//! `body_timeout_ms`) and the audit events of connections that ended before (or instead of) a routed answer.
//!
//! - Connections: at most `max_connections`, at most `max_connections_per_source` from one address; when
//!   full, the oldest connection still in its TLS handshake is dropped for the new one.
//! - Slow clients: the TLS handshake, the request head (HTTP/1) and a request body each have a deadline; a
//!   connection on which nothing moves for `idle_timeout_s` is closed; a download the client stops reading
//!   for `write_timeout_s` is closed. Responses are streamed in 64 KiB chunks, so each download holds one
//!   chunk and the TLS buffers, whatever the size of the file or the number of `Range` requests.
//! - Memory per connection: request heads at most [`MAX_HEAD_BYTES`] (HTTP/1; larger: 431) and header lists
//!   at most [`MAX_HEAD_BYTES`] (HTTP/2), bodies at most `max_body_kb` (larger: 413).

use std::error::Error as StdError;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Largest HTTP/1 request head (request line and headers) and HTTP/2 header list, bytes.
pub const MAX_HEAD_BYTES: usize = 32 * 1024;
/// HTTP/2 streams one connection may have open at once.
pub const MAX_H2_STREAMS: u32 = 16;

/// The limits (defaults as in recorder.toml).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdminLimits {
    /// Connections held at once.
    pub max_connections: usize,
    /// Connections held at once from one source address.
    pub max_connections_per_source: usize,
    /// Longest TLS handshake.
    pub handshake_timeout: Duration,
    /// Longest time to receive a request head (HTTP/1), from its first byte.
    pub header_timeout: Duration,
    /// A connection on which nothing moves for this long is closed.
    pub idle_timeout: Duration,
    /// A response write that makes no progress for this long (the client does not read) closes the
    /// connection.
    pub write_timeout: Duration,
    /// Largest request body, bytes.
    pub max_body_bytes: usize,
    /// Longest time to receive a request body.
    pub body_timeout: Duration,
}

impl Default for AdminLimits {
    fn default() -> Self {
        AdminLimits {
            max_connections: 256,
            max_connections_per_source: 32,
            handshake_timeout: Duration::from_secs(10),
            header_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(120),
            write_timeout: Duration::from_secs(30),
            max_body_bytes: 64 * 1024,
            body_timeout: Duration::from_secs(10),
        }
    }
}

/// How a connection ended, for the audit log: `(event, HTTP status sent or 0, detail)`; `None` for an
/// ordinary end (the client closed, every request was answered and audited by the router).
pub(crate) fn connection_outcome(
    err: &(dyn StdError + 'static),
    expiry: Option<rec_netguard::Expired>,
) -> Option<(&'static str, u16, String)> {
    match expiry {
        Some(rec_netguard::Expired::Idle) => {
            return Some((
                "idle_timeout",
                0,
                "nothing received for the idle time".into(),
            ))
        }
        Some(rec_netguard::Expired::WriteStalled) => {
            return Some((
                "write_timeout",
                0,
                "the client did not read the response for the write timeout".into(),
            ))
        }
        None => {}
    }
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(h) = e.downcast_ref::<hyper::Error>() {
            let text = h.to_string();
            if h.is_timeout() {
                return Some(("header_timeout", 0, text));
            }
            if h.is_parse_too_large() {
                return Some(if text.contains("uri") || text.contains("URI") {
                    ("uri_too_long", 414, text)
                } else {
                    ("header_too_large", 431, text)
                });
            }
            if h.is_parse() || h.is_parse_version_h2() {
                return Some(("bad_request", 400, text));
            }
            if h.is_incomplete_message() || h.is_canceled() || h.is_closed() {
                return None;
            }
            let io_below = h
                .source()
                .is_some_and(|src| src.downcast_ref::<std::io::Error>().is_some());
            if !io_below {
                // HTTP/2 protocol errors and the like
                return Some(("connection_error", 0, text));
            }
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            // rustls reports bad records, alerts and decryption failures as InvalidData
            if io.kind() == std::io::ErrorKind::InvalidData {
                return Some(("tls_error", 0, io.to_string()));
            }
            if io.kind() == std::io::ErrorKind::TimedOut {
                return Some(("idle_timeout", 0, io.to_string()));
            }
            return None;
        }
        cur = e.source();
    }
    None
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
}

/// Middleware inside the audit layer: a request body larger than the limit is refused with 413 (from its
/// `Content-Length` before reading, or while reading), one not received within the body timeout with 408;
/// an accepted body is read whole (bounded) before the route runs, so no handler waits on a slow client.
pub(crate) async fn read_body(
    State(limits): State<Arc<AdminLimits>>,
    req: Request,
    next: Next,
) -> Response {
    let length = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.trim().parse::<u64>().ok());
    let chunked = req.headers().contains_key(header::TRANSFER_ENCODING);
    if !chunked && length.unwrap_or(0) == 0 {
        return next.run(req).await;
    }
    if length.is_some_and(|n| n > limits.max_body_bytes as u64) {
        return refuse(StatusCode::PAYLOAD_TOO_LARGE, "request body too large");
    }
    let (parts, body) = req.into_parts();
    match tokio::time::timeout(
        limits.body_timeout,
        axum::body::to_bytes(body, limits.max_body_bytes),
    )
    .await
    {
        Err(_) => refuse(
            StatusCode::REQUEST_TIMEOUT,
            "request body not received in time",
        ),
        Ok(Err(_)) => refuse(StatusCode::PAYLOAD_TOO_LARGE, "request body too large"),
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
    }
}
