//! The routes, their validation, and the middleware (audit, auth).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{ConnectInfo, Path as UrlPath, RawQuery, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use rec_catalog::naming::part_path;
use rec_catalog::time::parse_time;
use rec_catalog::{CallRecord, Catalog, Query};
use serde::Deserialize;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use crate::audit::AuditLog;
use crate::auth::Tokens;
use crate::metrics::Metrics;
use crate::range::{parse_range, RangeReply};
use crate::view::CallView;

/// Longest Call-ID accepted in a search (bytes).
pub const MAX_CALL_ID_LEN: usize = 512;
/// Longest number text accepted in a search (bytes).
pub const MAX_NUMBER_LEN: usize = 64;
/// Results per list request when `limit` is not given.
pub const DEFAULT_LIMIT: u32 = 1000;
/// Largest `limit` accepted.
pub const MAX_LIMIT: u32 = 10_000;
/// Open catalog connections kept for reuse.
const POOL_SIZE: usize = 4;
/// Read size when streaming audio.
const CHUNK: usize = 64 * 1024;

/// Response header saying whether the audio served is final or still being written.
pub const RECORDING_STATUS_HEADER: &str = "x-recording-status";

/// Shared state of the routes.
pub(crate) struct AppState {
    pub catalog_path: PathBuf,
    /// Canonical recordings root (symlinks resolved): audio files must be inside it.
    pub recordings_root: PathBuf,
    pub pool: Mutex<Vec<Catalog>>,
    /// Replaced as a whole on reload (SIGHUP).
    pub tokens: std::sync::RwLock<Tokens>,
    pub audit: AuditLog,
    pub metrics: Arc<Metrics>,
    pub metrics_public: bool,
    /// Keys of encrypted recordings.
    pub keys: Option<Arc<rec_vault::Keyring>>,
    /// Body size and time limits (the `read_body` layer).
    pub limits: Arc<crate::limits::AdminLimits>,
    /// The web UI's sessions.
    pub sessions: crate::ui::session::Sessions,
}

/// The token name of an authenticated request (request and response extension).
#[derive(Clone, Debug)]
pub(crate) struct TokenName(pub String);

/// The role of an authenticated request's token (request extension).
#[derive(Clone, Copy, Debug)]
pub(crate) struct TokenRole(pub crate::auth::Role);

/// An error answer: `{"error": "...", "parameter": "..."}`.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    message: String,
    parameter: Option<&'static str>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            parameter: None,
        }
    }

    pub(crate) fn param(parameter: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status: StatusCode::BAD_REQUEST,
            message: message.into(),
            parameter: Some(parameter),
        }
    }

    /// The parameter an error is about (tests).
    #[cfg(test)]
    pub(crate) fn parameter_name(&self) -> Option<&'static str> {
        self.parameter
    }

    pub(crate) fn unavailable(what: &str) -> ApiError {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("{what} unavailable"),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = match self.parameter {
            Some(p) => serde_json::json!({ "error": self.message, "parameter": p }),
            None => serde_json::json!({ "error": self.message }),
        };
        (self.status, Json(body)).into_response()
    }
}

pub(crate) fn router(state: Arc<AppState>) -> Router {
    let mut protected = Router::new()
        .route("/api/recordings", get(list))
        .route("/api/recordings/{id}", get(one))
        .route("/api/recordings/{id}/audio", get(audio))
        .merge(crate::integrity::routes());
    let mut public = Router::new().route("/healthz", get(healthz));
    if state.metrics_public {
        public = public.route("/metrics", get(metrics));
    } else {
        protected = protected.route("/metrics", get(metrics));
    }
    let protected =
        protected.route_layer(middleware::from_fn_with_state(state.clone(), require_token));
    protected
        .merge(public)
        .merge(crate::ui::router(state.clone()))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.limits.clone(),
            crate::limits::read_body,
        ))
        .layer(middleware::from_fn_with_state(state.clone(), audit))
        .with_state(state)
}

pub(crate) fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

/// Outermost layer: every request gets an audit line (and an access log event with the status finally sent)
/// once its response is ready. If the audit line cannot be written (disk full), access to recordings becomes a
/// 503 (no access to a recording goes unaudited), while `/healthz` and `/metrics` still answer — monitoring must
/// work best when the disk is full — and the failure is counted (`recorder_audit_errors_total`).
async fn audit(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let remote = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0);
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().map(str::to_owned);
    let mut response = next.run(req).await;
    let token = response.extensions().get::<TokenName>().cloned();
    let bytes = response
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
        .or_else(|| axum::body::HttpBody::size_hint(response.body()).exact())
        .unwrap_or(0);
    let written = state.audit.write(
        now_us(),
        token.as_ref().map(|t| t.0.as_str()),
        remote,
        &method,
        &path,
        query.as_deref(),
        response.status().as_u16(),
        bytes,
    );
    if let Err(e) = written {
        state.metrics.audit_errors.inc();
        state
            .metrics
            .dropped
            .inc(crate::metrics::LossReason::AuditWrite);
        if is_monitoring(&path) {
            tracing::warn!(error = %e, %path, "audit log write failed; answering all the same (monitoring)");
        } else {
            tracing::error!(error = %e, "audit log write failed; refusing the response");
            response = ApiError::unavailable("audit log").into_response();
        }
    }
    let status = response.status();
    tracing::info!(
        target: "rec_admin::access",
        remote = %remote.map_or_else(|| "-".to_owned(), |a| a.to_string()),
        token = %token.as_ref().map_or("-", |t| t.0.as_str()),
        %method,
        %path,
        status = status.as_u16(),
        bytes,
        "request"
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The health check and the metrics: they answer even when the audit log cannot be written.
fn is_monitoring(path: &str) -> bool {
    path == "/healthz" || path == "/metrics"
}

/// Protected routes: `Authorization: Bearer <token>` must be a configured token.
async fn require_token(
    State(state): State<Arc<AppState>>,
    mut req: Request,
    next: Next,
) -> Response {
    let found = req.headers().get(header::AUTHORIZATION).and_then(|v| {
        state
            .tokens
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .check_header_with_role(v.as_bytes())
            .map(|(n, r)| (n.to_owned(), r))
    });
    let Some((name, role)) = found else {
        let mut r = ApiError::new(StatusCode::UNAUTHORIZED, "a valid bearer token is required")
            .into_response();
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"recorder\""),
        );
        return r;
    };
    req.extensions_mut().insert(TokenName(name.clone()));
    req.extensions_mut().insert(TokenRole(role));
    let mut response = next.run(req).await;
    response.extensions_mut().insert(TokenName(name));
    response
}

async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no such endpoint")
}

async fn healthz() -> &'static str {
    "ok\n"
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    (
        [(header::CONTENT_TYPE, Metrics::CONTENT_TYPE)],
        state.metrics.render(),
    )
        .into_response()
}

/// Runs `f` with a catalog connection from the pool (opening one read-only if none is free) on the
/// blocking thread pool.
pub(crate) async fn with_catalog<T: Send + 'static>(
    state: &Arc<AppState>,
    f: impl FnOnce(&Catalog) -> rec_catalog::Result<T> + Send + 'static,
) -> Result<T, ApiError> {
    let state = state.clone();
    let joined = tokio::task::spawn_blocking(move || {
        let pooled = state.pool.lock().ok().and_then(|mut p| p.pop());
        let catalog = match pooled {
            Some(c) => c,
            None => {
                if !state.catalog_path.is_file() {
                    return Err(ApiError::unavailable("catalog"));
                }
                Catalog::open_read_only(&state.catalog_path).map_err(|e| {
                    tracing::warn!(catalog = %state.catalog_path.display(), error = %e, "cannot open the catalog");
                    ApiError::unavailable("catalog")
                })?
            }
        };
        let out = f(&catalog).map_err(|e| {
            tracing::warn!(error = %e, "catalog query failed");
            ApiError::unavailable("catalog")
        });
        if out.is_ok() {
            if let Ok(mut pool) = state.pool.lock() {
                if pool.len() < POOL_SIZE {
                    pool.push(catalog);
                }
            }
        }
        out
    })
    .await;
    joined.unwrap_or_else(|_| {
        Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error",
        ))
    })
}

/// Query parameters of `GET /api/recordings`, as given.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    call_id: Option<String>,
    number: Option<String>,
    since: Option<String>,
    until: Option<String>,
    limit: Option<String>,
}

/// Validates the list parameters into a catalog query.
fn list_query(raw: Option<&str>) -> Result<Query, ApiError> {
    let params: ListParams = serde_urlencoded::from_str(raw.unwrap_or("")).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("query string: {e} (parameters: call_id, number, since, until, limit)"),
        )
    })?;
    let mut q = Query::default();
    if let Some(id) = params.call_id {
        if id.is_empty() || id.len() > MAX_CALL_ID_LEN {
            return Err(ApiError::param(
                "call_id",
                format!("call_id must be 1 to {MAX_CALL_ID_LEN} bytes"),
            ));
        }
        q.call_id = Some(id);
    }
    if let Some(n) = params.number {
        if n.len() > MAX_NUMBER_LEN || rec_rewrite::Number::parse(&n, None).is_none() {
            return Err(ApiError::param(
                "number",
                "number must be a phone number in a common notation (+44 20 8123 4567, 0044…, tel:…, sip:…;user=phone)",
            ));
        }
        q.number = Some(n);
    }
    if let Some(t) = params.since {
        q.since_us = Some(
            parse_time(&t)
                .map_err(|_| ApiError::param("since", "since must be an RFC 3339 time (2026-11-29T10:00:00Z) or a date (2026-11-29)"))?
                .0,
        );
    }
    if let Some(t) = params.until {
        // a bare date as the upper bound includes that whole day
        let (us, date) = parse_time(&t).map_err(|_| {
            ApiError::param(
                "until",
                "until must be an RFC 3339 time (2026-11-29T10:00:00Z) or a date (2026-11-29)",
            )
        })?;
        q.until_us = Some(if date {
            us.saturating_add(86_400_000_000)
        } else {
            us
        });
    }
    let limit = match params.limit {
        None => DEFAULT_LIMIT,
        Some(l) => match l.parse::<u32>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => n,
            _ => {
                return Err(ApiError::param(
                    "limit",
                    format!("limit must be an integer from 1 to {MAX_LIMIT}"),
                ))
            }
        },
    };
    q.limit = Some(limit);
    Ok(q)
}

async fn list(
    State(state): State<Arc<AppState>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let query = list_query(raw.as_deref())?;
    let calls = with_catalog(&state, move |c| c.query(&query)).await?;
    let views: Vec<CallView<'_>> = calls.iter().map(CallView::new).collect();
    Ok(Json(views).into_response())
}

/// A catalog row id from the path: decimal digits only, positive.
pub(crate) fn parse_id(text: &str) -> Result<i64, ApiError> {
    if text.is_empty() || text.len() > 18 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::param(
            "id",
            "id must be a positive integer (the catalog row id)",
        ));
    }
    match text.parse::<i64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(ApiError::param(
            "id",
            "id must be a positive integer (the catalog row id)",
        )),
    }
}

pub(crate) async fn get_call(
    state: &Arc<AppState>,
    id: Result<UrlPath<String>, PathRejection>,
) -> Result<CallRecord, ApiError> {
    // a segment that does not even decode (invalid UTF-8 after percent-decoding) is a bad id too
    let id = match id {
        Ok(UrlPath(text)) => parse_id(&text)?,
        Err(_) => parse_id("")?,
    };
    with_catalog(state, move |c| c.get(id))
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "no such recording"))
}

async fn one(
    State(state): State<Arc<AppState>>,
    id: Result<UrlPath<String>, PathRejection>,
) -> Result<Response, ApiError> {
    let call = get_call(&state, id).await?;
    // the view plus its verification state and legal hold (crate::integrity)
    let view = crate::integrity::call_json(&state, call).await?;
    Ok(Json(view).into_response())
}

/// The audio file opened for serving.
pub(crate) struct Opened {
    pub file: std::fs::File,
    pub size: u64,
    /// The `.part` file was opened (the call is being recorded, or was interrupted).
    pub part: bool,
    pub name: String,
}

/// Opens the recording `file` names (or its `.part`), refusing anything outside `root` or not a regular file.
pub(crate) fn open_recording(root: &Path, file: &Path) -> Result<Opened, ApiError> {
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "the recording's audio file is missing",
        )
    };
    // the final name first; then the .part; then the final name again (renamed in between)
    let mut found = None;
    for (candidate, part) in [
        (file.to_path_buf(), false),
        (part_path(file), true),
        (file.to_path_buf(), false),
    ] {
        match std::fs::canonicalize(&candidate) {
            Ok(c) => {
                found = Some((c, part));
                break;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                tracing::warn!(file = %candidate.display(), error = %e, "cannot resolve recording");
                return Err(not_found());
            }
        }
    }
    let (canonical, part) = found.ok_or_else(not_found)?;
    if !canonical.starts_with(root) {
        tracing::warn!(file = %canonical.display(), root = %root.display(), "recording outside the recordings root refused");
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "the recording's file is outside the recordings directory",
        ));
    }
    let file = std::fs::File::open(&canonical).map_err(|e| {
        tracing::warn!(file = %canonical.display(), error = %e, "cannot open recording");
        not_found()
    })?;
    let meta = file.metadata().map_err(|_| not_found())?;
    if !meta.is_file() {
        return Err(not_found());
    }
    let name = file_name_for(&canonical, part);
    Ok(Opened {
        file,
        size: meta.len(),
        part,
        name,
    })
}

/// The download name: the final file name (without `.part`), restricted to safe characters.
fn file_name_for(path: &Path, part: bool) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = if part {
        name.strip_suffix(rec_catalog::naming::PART_SUFFIX)
            .unwrap_or(&name)
            .to_owned()
    } else {
        name
    };
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if safe.is_empty() {
        "recording".to_owned()
    } else {
        safe
    }
}

fn content_type(format: Option<&str>, name: &str) -> &'static str {
    let ext = name.rsplit_once('.').map(|(_, e)| e);
    match (format, ext) {
        (Some("wav"), _) | (None, Some("wav")) => "audio/wav",
        (Some("opus"), _) | (None, Some("opus" | "ogg")) => "audio/ogg",
        _ => "application/octet-stream",
    }
}

async fn audio(
    State(state): State<Arc<AppState>>,
    axum::Extension(TokenRole(role)): axum::Extension<TokenRole>,
    id: Result<UrlPath<String>, PathRejection>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if !role.may_download() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "this token's role (listener) may not download recordings",
        ));
    }
    let call = get_call(&state, id).await?;
    let Some(file) = call.file.clone() else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "this call has no audio file",
        ));
    };
    serve_recording(
        &state,
        file,
        call.format.as_deref(),
        &headers,
        Disposition::Attachment,
    )
    .await
}

/// How a served file is to be presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Disposition {
    /// `Content-Disposition: inline` (playback in the page).
    Inline,
    /// `Content-Disposition: attachment` (a download).
    Attachment,
}

/// Serves a recording file (or its `.part`) inside the recordings root, honouring `Range`.
pub(crate) async fn serve_recording(
    state: &Arc<AppState>,
    file: String,
    format: Option<&str>,
    headers: &HeaderMap,
    disposition: Disposition,
) -> Result<Response, ApiError> {
    let root = state.recordings_root.clone();
    let keys = state.keys.clone();
    let (opened, sealed) = tokio::task::spawn_blocking(move || {
        let mut opened = open_recording(&root, Path::new(&file))?;
        let sealed = crate::sealed_api::open(&opened.file, opened.part, keys.as_deref())?;
        if let Some(s) = &sealed {
            opened.size = s.len();
        }
        Ok::<_, ApiError>((opened, sealed))
    })
    .await
    .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error"))??;
    let size = opened.size;
    // If-Range cannot be validated (no validators are sent), so a conditional range gets the whole file
    let range = match headers.get(header::RANGE) {
        Some(v) if !headers.contains_key(header::IF_RANGE) => match v.to_str() {
            Ok(s) => parse_range(s, size),
            Err(_) => RangeReply::Full,
        },
        _ => RangeReply::Full,
    };
    let mut builder = Response::builder()
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CONTENT_TYPE, content_type(format, &opened.name))
        .header(
            header::CONTENT_DISPOSITION,
            format!(
                "{}; filename=\"{}\"",
                match disposition {
                    Disposition::Inline => "inline",
                    Disposition::Attachment => "attachment",
                },
                opened.name
            ),
        )
        .header(
            RECORDING_STATUS_HEADER,
            if opened.part { "recording" } else { "final" },
        );
    let (status, start, len) = match range {
        RangeReply::Full => (StatusCode::OK, 0, size),
        RangeReply::Partial { start, end } => {
            builder = builder.header(header::CONTENT_RANGE, format!("bytes {start}-{end}/{size}"));
            (StatusCode::PARTIAL_CONTENT, start, end - start + 1)
        }
        RangeReply::Unsatisfiable => {
            let r = builder
                .status(StatusCode::RANGE_NOT_SATISFIABLE)
                .header(header::CONTENT_RANGE, format!("bytes */{size}"))
                .header(header::CONTENT_LENGTH, 0)
                .body(Body::empty());
            return r
                .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error"));
        }
    };
    if let Some(sealed) = sealed {
        let body = crate::sealed_api::stream(sealed, start, len);
        return builder
            .status(status)
            .header(header::CONTENT_LENGTH, len)
            .body(body)
            .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error"));
    }
    let mut file = tokio::fs::File::from_std(opened.file);
    if start > 0 {
        file.seek(std::io::SeekFrom::Start(start))
            .await
            .map_err(|_| {
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "cannot read the audio file",
                )
            })?;
    }
    // at most `len` bytes: a .part file may grow while it is sent, the answer stays what was announced
    let stream = tokio_util::io::ReaderStream::with_capacity(file.take(len), CHUNK);
    builder
        .status(status)
        .header(header::CONTENT_LENGTH, len)
        .body(Body::from_stream(stream))
        .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert_eq!(parse_id("7").unwrap(), 7);
        for bad in [
            "",
            "0",
            "-1",
            "+1",
            "1e3",
            "..",
            "../1",
            "1/..",
            "99999999999999999999",
            " 1",
        ] {
            let e = parse_id(bad).unwrap_err();
            assert_eq!(e.parameter, Some("id"), "{bad:?}");
        }
    }

    #[test]
    fn list_parameters() {
        let q = list_query(Some("call_id=a%40b&number=%2B44%2020%208123%204567&since=2026-11-29&until=2026-11-29&limit=5")).unwrap();
        assert_eq!(q.call_id.as_deref(), Some("a@b"));
        assert_eq!(q.number.as_deref(), Some("+44 20 8123 4567"));
        assert_eq!(q.since_us, Some(1_795_910_400_000_000));
        assert_eq!(q.until_us, Some(1_795_910_400_000_000 + 86_400_000_000));
        assert_eq!(q.limit, Some(5));
        assert_eq!(list_query(None).unwrap().limit, Some(DEFAULT_LIMIT));
        let param = |raw: &str| list_query(Some(raw)).unwrap_err().parameter;
        assert_eq!(param("number=alice"), Some("number"));
        assert_eq!(param("since=yesterday"), Some("since"));
        assert_eq!(param("until=2026-13-01"), Some("until"));
        assert_eq!(param("limit=0"), Some("limit"));
        assert_eq!(param("limit=10001"), Some("limit"));
        assert_eq!(param("call_id="), Some("call_id"));
        assert_eq!(
            param(&format!("call_id={}", "a".repeat(513))),
            Some("call_id")
        );
        let e = list_query(Some("callid=x")).unwrap_err();
        assert!(e.message.contains("callid"), "{}", e.message);
        assert!(list_query(Some("limit=1&limit=2")).is_err());
    }

    #[test]
    fn names_and_types() {
        assert_eq!(
            file_name_for(Path::new("/r/d/100000_a_0123.wav.part"), true),
            "100000_a_0123.wav"
        );
        assert_eq!(file_name_for(Path::new("/r/d/a\"b.wav"), false), "a_b.wav");
        assert_eq!(content_type(Some("wav"), "x"), "audio/wav");
        assert_eq!(content_type(Some("opus"), "x"), "audio/ogg");
        assert_eq!(content_type(None, "x.opus"), "audio/ogg");
        assert_eq!(content_type(None, "x.pcap"), "application/octet-stream");
    }
}
