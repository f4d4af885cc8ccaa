//! The web UI: static pages embedded in the binary (`assets/`), sign-in with a bearer token into a server-side
//! session (cookie `Secure; HttpOnly; SameSite=Strict`), and the JSON/audio/peaks routes the pages use. Every
//! response carries a strict Content-Security-Policy; the pages render untrusted SIP fields as text only.
//!
//! Routes (all under the admin server's TLS and audit log):
//! - public: `GET /ui/` (the page), `GET /ui/app.js`, `GET /ui/app.css`, `POST /ui/login` (form field
//!   `token`);
//! - with a session: `POST /ui/logout`, `GET /ui/api/session`, `GET /ui/api/calls` (search),
//!   `GET /ui/api/calls/{id}` (detail), `…/{id}/audio` (inline playback, Range), `…/{id}/peaks` (waveform),
//!   and for the `admin` role only `…/{id}/download` (attachment, Range) and `…/{id}/rtp` (kept RTP pcap).
//!
//! State-changing requests (`POST`) need the session's CSRF token in `X-CSRF-Token` and, when the browser
//! sends one, an `Origin` equal to the server's own.

pub mod session;

mod pages;

use std::sync::Arc;

use axum::http::{header, HeaderValue};
use axum::response::Response;
use axum::Router;

use crate::api::AppState;

/// The Content-Security-Policy of every UI response.
pub const CSP: &str =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    media-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
    frame-ancestors 'none'";

/// The UI routes, to be merged into the admin router (inside its audit layer).
pub(crate) fn router(app: Arc<AppState>) -> Router<Arc<AppState>> {
    pages::router(app).layer(axum::middleware::map_response(security_headers))
}

async fn security_headers(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        header::STRICT_TRANSPORT_SECURITY,
        HeaderValue::from_static("max-age=31536000"),
    );
    response
}
