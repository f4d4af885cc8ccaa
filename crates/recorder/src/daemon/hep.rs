//! The daemon's HEP glue: refused plain HEP packets into the metrics, and the HOMER output (received SIP and a
//! per-call report, see `rec_mirror::homer`).

use rec_admin::{HepRefusal, Metrics};
use rec_engine::CallReport;
use rec_mirror::{Refusal, StatsSnapshot};

/// The label of a refusal reason.
fn label(r: Refusal) -> HepRefusal {
    match r {
        Refusal::NotHep => HepRefusal::NotHep,
        Refusal::BadVersion => HepRefusal::BadVersion,
        Refusal::Truncated => HepRefusal::Truncated,
        Refusal::BadChunk => HepRefusal::BadChunk,
        Refusal::NotSip => HepRefusal::NotSip,
        Refusal::SourceNotAllowed => HepRefusal::SourceNotAllowed,
        Refusal::DecompressFailed => HepRefusal::DecompressFailed,
    }
}

/// `recorder_hep_refused_total{reason}` from the mirror's counters.
pub(super) fn publish_refusals(metrics: &Metrics, snap: &StatsSnapshot) {
    for r in Refusal::ALL {
        metrics
            .hep_refused
            .set_total(label(r), snap.hep_refusals[r.index()]);
    }
}

/// The JSON call report sent to HOMER at the end of a call: what the engine measured per stream.
pub(crate) fn report_json(report: &CallReport) -> Vec<u8> {
    let streams: Vec<serde_json::Value> = report
        .streams
        .iter()
        .map(|s| {
            serde_json::json!({
                "direction": s.direction,
                "ssrc": format!("0x{:08x}", s.ssrc),
                "codec": s.codec,
                "packets": s.packets,
                "lost": s.lost,
                "duplicates": s.duplicates,
                "decrypt_failures": s.decrypt_failures,
                "first_at_us": s.first_at_us,
                "last_at_us": s.last_at_us,
                "transport": s.transport,
            })
        })
        .collect();
    let m = &report.meta;
    let v = serde_json::json!({
        "type": "recorder_call_report",
        "call_id": m.call_id,
        "status": report.status,
        "started_at_us": m.started_at_us,
        "answered_at_us": m.answered_at_us,
        "ended_at_us": m.ended_at_us,
        "end_reason": m.end_reason,
        "audio_ms": report.audio_ms,
        "streams": streams,
    });
    serde_json::to_vec(&v).unwrap_or_default()
}
