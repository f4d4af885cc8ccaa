//! The UI's routes: embedded assets, sign-in/out, the session check, search, detail, playback, downloads and
//! peaks.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::rejection::PathRejection;
use axum::extract::{Path as UrlPath, RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use rec_catalog::search::{Search, SortKey, MAX_PAGE};
use rec_catalog::time::parse_time;
use rec_catalog::{CallRecord, CallStatus};
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::session::{clear_cookie, cookie_value, set_cookie, SessionInfo};
use crate::api::{
    get_call, open_recording, serve_recording, with_catalog, ApiError, AppState, Disposition,
    TokenName, RECORDING_STATUS_HEADER,
};
use crate::view::CallView;
use crate::{MAX_CALL_ID_LEN, MAX_NUMBER_LEN};

const INDEX_HTML: &str = include_str!("../../assets/index.html");
const APP_JS: &str = include_str!("../../assets/app.js");
const APP_CSS: &str = include_str!("../../assets/app.css");

/// Results per search page when `limit` is not given.
pub const DEFAULT_PAGE: u32 = 50;
/// Longest party text accepted in a search.
pub const MAX_PARTY_LEN: usize = 256;
/// Related calls (same Ms-Conversation-ID) listed with a call.
const MAX_RELATED: u32 = 50;
/// The header carrying the session's CSRF token on state-changing requests.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The session cookie's id (request extension, for sign-out).
#[derive(Clone, Debug)]
struct SessionId(String);

pub(crate) fn router(app: Arc<AppState>) -> Router<Arc<AppState>> {
    let with_session = Router::new()
        .route("/ui/logout", post(logout))
        .route("/ui/api/calls", get(search))
        .route("/ui/api/calls/{id}", get(detail))
        .route("/ui/api/calls/{id}/audio", get(play))
        .route("/ui/api/calls/{id}/download", get(download))
        .route("/ui/api/calls/{id}/peaks", get(peaks))
        .route("/ui/api/calls/{id}/rtp", get(rtp))
        .route_layer(middleware::from_fn_with_state(app, require_session));
    Router::new()
        .route("/ui", get(|| async { see_other("/ui/") }))
        .route(
            "/ui/",
            get(|| async { asset("text/html; charset=utf-8", INDEX_HTML) }),
        )
        .route(
            "/ui/app.js",
            get(|| async { asset("text/javascript; charset=utf-8", APP_JS) }),
        )
        .route(
            "/ui/app.css",
            get(|| async { asset("text/css; charset=utf-8", APP_CSS) }),
        )
        .route("/ui/login", post(login))
        .route("/ui/api/whoami", get(whoami))
        .merge(with_session)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

fn see_other(location: &'static str) -> Response {
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

/// The request comes from a page of this server: its `Origin` (when sent) is `https://<Host>`, and
/// `Sec-Fetch-Site` (when sent) is not `cross-site`/`same-site`.
fn same_origin(headers: &HeaderMap, uri: &Uri) -> bool {
    if let Some(site) = headers.get("sec-fetch-site") {
        if !matches!(site.as_bytes(), b"same-origin" | b"none") {
            return false;
        }
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()));
    match (origin.to_str(), host) {
        (Ok(o), Some(h)) => o.eq_ignore_ascii_case(&format!("https://{h}")),
        _ => false,
    }
}

/// The sign-in form.
#[derive(Deserialize)]
struct LoginForm {
    token: String,
}

/// `POST /ui/login`: a configured token (form field `token`) opens a session; the answer is a redirect to
/// the page, with the session cookie on success, or with `?signin=failed`.
async fn login(
    State(app): State<Arc<AppState>>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    if !same_origin(&headers, &uri) {
        return ApiError::new(StatusCode::FORBIDDEN, "sign-in from another site refused")
            .into_response();
    }
    let form: Option<LoginForm> = serde_urlencoded::from_bytes(&body).ok();
    let found = form.as_ref().and_then(|f| {
        app.tokens
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .check_with_role(f.token.trim().as_bytes())
            .map(|(n, r)| (n.to_owned(), r))
    });
    let Some((name, role)) = found else {
        return see_other("/ui/?signin=failed");
    };
    let Some((id, _)) = app.sessions.open(&name, role, Instant::now()) else {
        return ApiError::unavailable("session store").into_response();
    };
    let mut r = see_other("/ui/");
    if let Ok(v) = HeaderValue::from_str(&set_cookie(&id, app.sessions.limits())) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r.extensions_mut().insert(TokenName(name));
    r
}

/// Session routes: a valid session cookie; for anything but GET/HEAD also the CSRF token and the origin.
async fn require_session(
    State(app): State<Arc<AppState>>,
    mut req: Request,
    next: Next,
) -> Response {
    let id = req
        .headers()
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(cookie_value)
        .map(str::to_owned);
    let info = id
        .as_deref()
        .and_then(|id| app.sessions.get(id, Instant::now()));
    let (Some(id), Some(info)) = (id, info) else {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "sign in first: no session, or it expired",
        )
        .into_response();
    };
    let state_changing = !matches!(*req.method(), Method::GET | Method::HEAD);
    if !same_origin(req.headers(), req.uri()) {
        let mut r = ApiError::new(StatusCode::FORBIDDEN, "request from another site refused")
            .into_response();
        r.extensions_mut().insert(TokenName(info.name));
        return r;
    }
    if state_changing {
        let ok = req
            .headers()
            .get(CSRF_HEADER)
            .is_some_and(|v| bool::from(v.as_bytes().ct_eq(info.csrf.as_bytes())));
        if !ok {
            let mut r =
                ApiError::new(StatusCode::FORBIDDEN, "missing or wrong CSRF token").into_response();
            r.extensions_mut().insert(TokenName(info.name));
            return r;
        }
    }
    let name = info.name.clone();
    req.extensions_mut().insert(SessionId(id));
    req.extensions_mut().insert(info);
    let mut response = next.run(req).await;
    response.extensions_mut().insert(TokenName(name));
    response
}

async fn logout(
    State(app): State<Arc<AppState>>,
    Extension(SessionId(id)): Extension<SessionId>,
) -> Response {
    app.sessions.close(&id);
    let mut r = Json(serde_json::json!({ "signed_out": true })).into_response();
    if let Ok(v) = HeaderValue::from_str(&clear_cookie()) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

/// `GET /ui/api/whoami`: `{"signed_in": false}`, or the session's token name, role, download right and
/// CSRF token (200 either way, so the sign-in page loads without an error).
async fn whoami(State(app): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let info = headers
        .get(header::COOKIE)
        .and_then(|v| v.to_str().ok())
        .and_then(cookie_value)
        .and_then(|id| app.sessions.get(id, Instant::now()));
    let Some(info) = info else {
        return Json(serde_json::json!({ "signed_in": false })).into_response();
    };
    let mut r = Json(serde_json::json!({
        "signed_in": true,
        "name": info.name,
        "role": info.role.as_str(),
        "may_download": info.role.may_download(),
        "csrf": info.csrf,
    }))
    .into_response();
    r.extensions_mut().insert(TokenName(info.name));
    r
}

/// Query parameters of `GET /ui/api/calls`, as given.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SearchParams {
    call_id: Option<String>,
    number: Option<String>,
    party: Option<String>,
    status: Option<String>,
    since: Option<String>,
    until: Option<String>,
    sort: Option<String>,
    order: Option<String>,
    offset: Option<String>,
    limit: Option<String>,
}

/// A parameter given empty (an empty form field) counts as not given.
fn given(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// Validates the search parameters.
fn search_query(raw: Option<&str>) -> Result<Search, ApiError> {
    let p: SearchParams = serde_urlencoded::from_str(raw.unwrap_or("")).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("query string: {e} (parameters: call_id, number, party, status, since, until, sort, order, offset, limit)"),
        )
    })?;
    let mut s = Search {
        limit: DEFAULT_PAGE,
        descending: true,
        ..Search::default()
    };
    if let Some(id) = given(p.call_id) {
        if id.len() > MAX_CALL_ID_LEN {
            return Err(ApiError::param(
                "call_id",
                format!("call_id must be at most {MAX_CALL_ID_LEN} bytes"),
            ));
        }
        s.call_id = Some(id);
    }
    if let Some(n) = given(p.number) {
        if n.len() > MAX_NUMBER_LEN || rec_rewrite::Number::parse(&n, None).is_none() {
            return Err(ApiError::param(
                "number",
                "number must be a phone number in a common notation (+44 20 8123 4567, 0044…, tel:…, sip:…;user=phone)",
            ));
        }
        s.number = Some(n);
    }
    if let Some(party) = given(p.party) {
        if party.len() > MAX_PARTY_LEN {
            return Err(ApiError::param(
                "party",
                format!("party must be at most {MAX_PARTY_LEN} bytes"),
            ));
        }
        s.party = Some(party);
    }
    if let Some(status) = given(p.status) {
        s.status = Some(CallStatus::from_name(&status).ok_or_else(|| {
            ApiError::param("status", "status must be one of recording, complete, partial, no_media, undecodable, decrypt_failure, interrupted, failed")
        })?);
    }
    let time = |name: &'static str, t: &str| {
        parse_time(t).map_err(|_| {
            ApiError::param(
                name,
                format!(
                    "{name} must be an RFC 3339 time (2026-11-29T10:00:00Z) or a date (2026-11-29)"
                ),
            )
        })
    };
    if let Some(t) = given(p.since) {
        s.since_us = Some(time("since", &t)?.0);
    }
    if let Some(t) = given(p.until) {
        let (us, date) = time("until", &t)?;
        s.until_us = Some(if date {
            us.saturating_add(86_400_000_000)
        } else {
            us
        });
    }
    if let Some(sort) = given(p.sort) {
        s.sort = SortKey::from_name(&sort).ok_or_else(|| {
            ApiError::param("sort", "sort must be started, duration, status, from or to")
        })?;
    }
    match given(p.order).as_deref() {
        None | Some("desc") => s.descending = true,
        Some("asc") => s.descending = false,
        Some(_) => return Err(ApiError::param("order", "order must be asc or desc")),
    }
    if let Some(o) = given(p.offset) {
        s.offset = o
            .parse::<u64>()
            .ok()
            .filter(|&n| n <= 1_000_000_000)
            .ok_or_else(|| ApiError::param("offset", "offset must be an integer from 0"))?;
    }
    if let Some(l) = given(p.limit) {
        s.limit = l
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_PAGE).contains(n))
            .ok_or_else(|| {
                ApiError::param(
                    "limit",
                    format!("limit must be an integer from 1 to {MAX_PAGE}"),
                )
            })?;
    }
    Ok(s)
}

async fn search(
    State(app): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let query = search_query(raw.as_deref())?;
    let (offset, limit) = (query.offset, query.limit);
    let page = with_catalog(&app, move |c| c.search(&query)).await?;
    let calls: Vec<CallView<'_>> = page.calls.iter().map(CallView::new).collect();
    Ok(Json(serde_json::json!({
        "total": page.total,
        "offset": offset,
        "limit": limit,
        "calls": calls,
    }))
    .into_response())
}

async fn detail(
    State(app): State<Arc<AppState>>,
    id: Result<UrlPath<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let call = get_call(&app, id).await?;
    let related: Vec<CallRecord> = match call.conversation_id.clone() {
        Some(conv) => {
            let own = call.id;
            let page = with_catalog(&app, move |c| {
                c.search(&Search {
                    conversation_id: Some(conv),
                    limit: MAX_RELATED + 1,
                    ..Search::default()
                })
            })
            .await?;
            page.calls.into_iter().filter(|c| c.id != own).collect()
        }
        None => Vec::new(),
    };
    let related: Vec<CallView<'_>> = related.iter().map(CallView::new).collect();
    Ok(
        Json(serde_json::json!({ "call": CallView::new(&call), "related": related }))
            .into_response(),
    )
}

fn forbidden_download() -> ApiError {
    ApiError::new(
        StatusCode::FORBIDDEN,
        "your role (listener) may play recordings but not download them",
    )
}

fn audio_file(call: &CallRecord) -> Result<String, ApiError> {
    call.file
        .clone()
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "this call has no audio file"))
}

/// `…/audio`: inline, for the page's audio element. A listener's request must come from a media element
/// (`Sec-Fetch-Dest: audio`/`video`, as browsers send it), not a navigation or a script.
async fn play(
    State(app): State<Arc<AppState>>,
    Extension(info): Extension<SessionInfo>,
    id: Result<UrlPath<String>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if !info.role.may_download() {
        let dest = headers.get("sec-fetch-dest").map(|v| v.as_bytes());
        if !matches!(dest, Some(b"audio" | b"video")) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "your role (listener) may play recordings in the player only",
            ));
        }
    }
    let call = get_call(&app, id).await?;
    let file = audio_file(&call)?;
    serve_recording(
        &app,
        file,
        call.format.as_deref(),
        &headers,
        Disposition::Inline,
    )
    .await
}

async fn download(
    State(app): State<Arc<AppState>>,
    Extension(info): Extension<SessionInfo>,
    id: Result<UrlPath<String>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if !info.role.may_download() {
        return Err(forbidden_download());
    }
    let call = get_call(&app, id).await?;
    let file = audio_file(&call)?;
    serve_recording(
        &app,
        file,
        call.format.as_deref(),
        &headers,
        Disposition::Attachment,
    )
    .await
}

async fn rtp(
    State(app): State<Arc<AppState>>,
    Extension(info): Extension<SessionInfo>,
    id: Result<UrlPath<String>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if !info.role.may_download() {
        return Err(forbidden_download());
    }
    let call = get_call(&app, id).await?;
    let file = call
        .streams
        .iter()
        .find_map(|s| s.rtp_file.clone())
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "this call kept no undecodable RTP"))?;
    serve_recording(&app, file, None, &headers, Disposition::Attachment).await
}

/// `…/peaks`: the waveform (`.dat` v2): the stored peaks file of a finished recording when it is up to
/// date, else computed from the WAV or Ogg Opus recording or its growing `.part`.
async fn peaks(
    State(app): State<Arc<AppState>>,
    id: Result<UrlPath<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let call = get_call(&app, id).await?;
    let file = audio_file(&call)?;
    let root = app.recordings_root.clone();
    let opus = match call.format.as_deref() {
        Some("wav") => Some(false),
        Some("opus") => Some(true),
        _ => crate::peaks::is_opus(Path::new(&file)),
    };
    let (bytes, part) =
        tokio::task::spawn_blocking(move || -> Result<(Vec<u8>, bool), ApiError> {
            let opened = open_recording(&root, Path::new(&file))?;
            if !opened.part {
                if let Some(stored) = stored_peaks(&root, Path::new(&file), &opened.file) {
                    return Ok((stored, false));
                }
            }
            let Some(opus) = opus else {
                return Err(ApiError::new(
                    StatusCode::NOT_FOUND,
                    "no waveform for this recording (only WAV and Ogg Opus recordings have one)",
                ));
            };
            let part = opened.part;
            if opus {
                crate::peaks::opus_peaks(opened.file)
            } else {
                crate::peaks::wav_peaks(opened.file, opened.size)
            }
            .map(|b| (b, part))
            .map_err(|e| {
                tracing::warn!(error = %e, "cannot compute peaks");
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "the audio file has no readable audio for a waveform",
                )
            })
        })
        .await
        .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error"))??;
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (
                header::HeaderName::from_static(RECORDING_STATUS_HEADER),
                if part { "recording" } else { "final" },
            ),
        ],
        Body::from(bytes),
    )
        .into_response())
}

/// The stored `<file>.peaks` if it is inside `root` and not older than the audio.
fn stored_peaks(root: &Path, file: &Path, audio: &std::fs::File) -> Option<Vec<u8>> {
    let sidecar = std::fs::canonicalize(crate::peaks::sidecar_path(file)).ok()?;
    if !sidecar.starts_with(root) {
        return None;
    }
    let peaks_time = std::fs::metadata(&sidecar).ok()?.modified().ok()?;
    let audio_time = audio.metadata().ok()?.modified().ok()?;
    if peaks_time < audio_time {
        return None;
    }
    std::fs::read(&sidecar).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_parameters() {
        let s = search_query(Some(
            "number=0044+20+8123+4567&party=alice&status=recording&since=2026-11-29&sort=duration&order=asc&offset=100&limit=20&call_id=",
        ))
        .unwrap();
        assert_eq!(s.number.as_deref(), Some("0044 20 8123 4567"));
        assert_eq!(s.party.as_deref(), Some("alice"));
        assert_eq!(s.status, Some(CallStatus::Recording));
        assert_eq!(s.sort, SortKey::Duration);
        assert!(!s.descending);
        assert_eq!((s.offset, s.limit), (100, 20));
        assert_eq!(s.call_id, None, "an empty field is not a filter");
        let d = search_query(None).unwrap();
        assert_eq!(
            (d.limit, d.descending, d.sort),
            (DEFAULT_PAGE, true, SortKey::Started)
        );
        let param = |raw: &str| search_query(Some(raw)).unwrap_err().parameter_name();
        assert_eq!(param("status=done"), Some("status"));
        assert_eq!(param("sort=id"), Some("sort"));
        assert_eq!(param("order=up"), Some("order"));
        assert_eq!(param("limit=501"), Some("limit"));
        assert_eq!(param("offset=-1"), Some("offset"));
        assert_eq!(param("number=alice"), Some("number"));
        assert!(search_query(Some("drop=1")).is_err());
    }

    #[test]
    fn origins() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("rec.example:8443"));
        let uri: Uri = "/ui/login".parse().unwrap();
        assert!(same_origin(&h, &uri));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://rec.example:8443"),
        );
        assert!(same_origin(&h, &uri));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(!same_origin(&h, &uri));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://rec.example:8443"),
        );
        assert!(!same_origin(&h, &uri));
        h.remove(header::ORIGIN);
        h.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(!same_origin(&h, &uri));
    }
}
