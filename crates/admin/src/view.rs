//! The JSON shape of a call, shared with `recorder query --json`: every catalog field of
//! [`CallRecord`] (flattened) plus the contract's derived fields `started_at`, `answered_at`, `ended_at`
//! (RFC 3339 UTC) and `duration_s`.

use rec_catalog::time::format_rfc3339;
use rec_catalog::CallRecord;
use serde::Serialize;

/// One call as the API (and `recorder query --json`) renders it.
#[derive(Debug, Serialize)]
pub struct CallView<'a> {
    /// Every catalog field.
    #[serde(flatten)]
    pub call: &'a CallRecord,
    /// Call start, RFC 3339 UTC.
    pub started_at: String,
    /// When the call was answered, RFC 3339 UTC.
    pub answered_at: Option<String>,
    /// Call end, RFC 3339 UTC.
    pub ended_at: Option<String>,
    /// Seconds from start to end, when the call has ended.
    pub duration_s: Option<f64>,
}

impl<'a> CallView<'a> {
    /// The view of `call`.
    pub fn new(call: &'a CallRecord) -> CallView<'a> {
        CallView {
            call,
            started_at: format_rfc3339(call.started_at_us),
            answered_at: call.answered_at_us.map(format_rfc3339),
            ended_at: call.ended_at_us.map(format_rfc3339),
            duration_s: call
                .ended_at_us
                .map(|end| end.saturating_sub(call.started_at_us) as f64 / 1e6),
        }
    }
}
