//! Engine counters of the hostile-network bounds (call-table evictions, trust-order refusals) as metrics.

use rec_admin::{EvictClass, Metrics, SignalingRefusal};
use rec_engine::EngineStats;

/// Publishes `s` into the `recorder_calls_evicted_total` and `recorder_signaling_refused_total` families.
pub(crate) fn publish(metrics: &Metrics, s: &EngineStats) {
    let ev = &metrics.calls_evicted;
    ev.set_total(EvictClass::Unanswered, s.evicted_unanswered);
    ev.set_total(EvictClass::Provisional, s.evicted_provisional);
    ev.set_total(EvictClass::HalfEstablished, s.evicted_half_established);
    ev.set_total(EvictClass::Refused, s.calls_refused);
    let re = &metrics.signaling_refused;
    re.set_total(SignalingRefusal::Untrusted, s.sip_untrusted);
    re.set_total(SignalingRefusal::SourceNotTrusted, s.sip_origin_refused);
    re.set_total(SignalingRefusal::ForeignDialog, s.sip_foreign_dialog);
    re.set_total(SignalingRefusal::FlowTakeover, s.flow_takeovers_refused);
}
