//! Tamper evidence and legal holds in the API: the verification state and legal hold of one recording
//! (added to `GET /api/recordings/{id}`), and the hold endpoints:
//!
//! - `GET /api/holds` — every hold, lifted ones included (who, when, why);
//! - `POST /api/holds?reason=...&call_id=...|number=...|since=...&until=...` — sets a hold (201);
//! - `DELETE /api/holds/{id}?reason=...` — lifts it (200).
//!
//! The parameters are in the query string so that the audit log line of the request carries the reason and
//! the scope; the hold table records the token's name, the time and the reason too.

use std::path::Path;
use std::sync::Arc;

use axum::extract::rejection::PathRejection;
use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Extension, Json, Router};
use rec_catalog::holds::HoldScope;
use rec_catalog::time::parse_time;
use rec_catalog::{CallRecord, Catalog, CatalogError};
use serde::Deserialize;

use crate::api::{now_us, parse_id, with_catalog, ApiError, AppState, TokenName, TokenRole};
use crate::view::CallView;

/// Longest hold reason accepted (bytes).
const MAX_REASON_LEN: usize = 1024;

/// The routes (protected: the caller adds the token layer).
pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/api/holds", get(list_holds).post(add_hold))
        .route("/api/holds/{id}", delete(lift_hold))
}

/// `CallView` of `call` plus `verification` (`{"state": "sealed"|"altered"|"unsealed"|"recording"|
/// "unknown", "findings": [...]}`) and `legal_hold` (the active hold covering it, or null).
pub(crate) async fn call_json(
    state: &Arc<AppState>,
    call: CallRecord,
) -> Result<serde_json::Value, ApiError> {
    let root = state.recordings_root.clone();
    let (call, verification, hold) = with_catalog(state, move |c| {
        let key = std::fs::read_to_string(
            root.join(rec_catalog::seal::MANIFEST_DIR)
                .join(rec_catalog::seal::PUBLIC_KEY_FILE),
        )
        .ok()
        .and_then(|t| rec_seal::verifying_key_from_pem(&t).ok());
        let verification = rec_catalog::seal::verify_call(&root, c, key.as_ref(), &call)?;
        let hold = c.hold_for(&call)?;
        Ok((call, verification, hold))
    })
    .await?;
    let mut v = serde_json::to_value(CallView::new(&call))
        .map_err(|_| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error"))?;
    if let Some(obj) = v.as_object_mut() {
        obj.insert(
            "verification".into(),
            serde_json::json!({ "state": verification.0, "findings": verification.1 }),
        );
        obj.insert(
            "legal_hold".into(),
            serde_json::to_value(hold).unwrap_or(serde_json::Value::Null),
        );
    }
    Ok(v)
}

/// Runs `f` on a writable catalog connection (holds are the API's only writes).
async fn with_writable<T: Send + 'static>(
    path: &Path,
    f: impl FnOnce(&mut Catalog) -> rec_catalog::Result<T> + Send + 'static,
) -> Result<T, ApiError> {
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        if !path.is_file() {
            return Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "catalog unavailable",
            ));
        }
        let mut c = Catalog::open(&path).map_err(|e| {
            tracing::warn!(error = %e, "cannot open the catalog for writing");
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "catalog unavailable")
        })?;
        f(&mut c).map_err(|e| match e {
            CatalogError::BadHold(m) => ApiError::new(StatusCode::BAD_REQUEST, m),
            CatalogError::NoSuchHold(id) => {
                ApiError::new(StatusCode::NOT_FOUND, format!("no active legal hold {id}"))
            }
            e => {
                tracing::warn!(error = %e, "catalog write failed");
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "catalog unavailable")
            }
        })
    })
    .await
    .unwrap_or_else(|_| {
        Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error",
        ))
    })
}

async fn list_holds(State(state): State<Arc<AppState>>) -> Result<Response, ApiError> {
    let holds = with_catalog(&state, |c| c.holds(false)).await?;
    Ok(Json(holds).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HoldParams {
    reason: Option<String>,
    call_id: Option<String>,
    number: Option<String>,
    since: Option<String>,
    until: Option<String>,
}

fn reason(r: Option<String>) -> Result<String, ApiError> {
    match r {
        Some(r) if !r.trim().is_empty() && r.len() <= MAX_REASON_LEN => Ok(r),
        _ => Err(ApiError::param(
            "reason",
            format!("reason is required (1 to {MAX_REASON_LEN} bytes): a hold is set and lifted for a stated reason"),
        )),
    }
}

fn hold_time(text: &str, name: &'static str, end: bool) -> Result<i64, ApiError> {
    let (us, date) = parse_time(text).map_err(|_| {
        ApiError::param(
            name,
            format!(
                "{name} must be an RFC 3339 time (2026-11-29T10:00:00Z) or a date (2026-11-29)"
            ),
        )
    })?;
    Ok(if end && date {
        us.saturating_add(86_400_000_000)
    } else {
        us
    })
}

/// Setting and lifting holds is for admin tokens: a listener may hear recordings, not decide their fate.
fn require_admin(role: TokenRole) -> Result<(), ApiError> {
    if role.0 == crate::auth::Role::Admin {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "this token's role (listener) may not set or lift legal holds",
        ))
    }
}

async fn add_hold(
    State(state): State<Arc<AppState>>,
    Extension(token): Extension<TokenName>,
    Extension(role): Extension<TokenRole>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    require_admin(role)?;
    let p: HoldParams = serde_urlencoded::from_str(raw.as_deref().unwrap_or("")).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("query string: {e} (parameters: reason, call_id, number, since, until)"),
        )
    })?;
    let reason = reason(p.reason)?;
    let scope = HoldScope {
        call_id: p.call_id.filter(|c| !c.is_empty()),
        number: p.number.filter(|n| !n.is_empty()),
        since_us: p
            .since
            .as_deref()
            .map(|t| hold_time(t, "since", false))
            .transpose()?,
        until_us: p
            .until
            .as_deref()
            .map(|t| hold_time(t, "until", true))
            .transpose()?,
    };
    let who = token.0.clone();
    let hold = with_writable(&state.catalog_path, move |c| {
        c.add_hold(&scope, &reason, &who, now_us())
    })
    .await?;
    tracing::info!(hold = hold.id, token = %token.0, "legal hold set");
    Ok((StatusCode::CREATED, Json(hold)).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LiftParams {
    reason: Option<String>,
}

async fn lift_hold(
    State(state): State<Arc<AppState>>,
    Extension(token): Extension<TokenName>,
    Extension(role): Extension<TokenRole>,
    id: Result<UrlPath<String>, PathRejection>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    require_admin(role)?;
    let id = match id {
        Ok(UrlPath(text)) => parse_id(&text)?,
        Err(_) => parse_id("")?,
    };
    let p: LiftParams = serde_urlencoded::from_str(raw.as_deref().unwrap_or("")).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("query string: {e} (parameter: reason)"),
        )
    })?;
    let reason = reason(p.reason)?;
    let who = token.0.clone();
    let hold = with_writable(&state.catalog_path, move |c| {
        c.lift_hold(id, &reason, &who, now_us())
    })
    .await?;
    tracing::info!(hold = hold.id, token = %token.0, "legal hold lifted");
    Ok(Json(hold).into_response())
}
