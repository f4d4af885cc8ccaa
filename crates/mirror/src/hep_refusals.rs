//! Plain HEP input: turning a packet into a [`MirroredSip`], and accounting for every packet that is refused —
//! counted by reason in [`MirrorStats::hep_refusals`] and logged at most once per reason every
//! [`LOG_INTERVAL`] (with the number suppressed since), so a misconfigured agent is visible instead of silent.

use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

use rec_packet::hep_input::{self, Refusal};

use crate::server::{MirroredSip, Origin};
use crate::MirrorStats;

/// Shortest time between two log lines of the same refusal reason.
pub const LOG_INTERVAL: Duration = Duration::from_secs(10);

/// The SIP message of a plain HEP packet of any version (v1, v2, v3 with a plain or compressed payload).
pub fn message(
    raw: &[u8],
    peer: SocketAddr,
    origin: Origin,
    received_at: SystemTime,
) -> Result<MirroredSip, Refusal> {
    let m = hep_input::decode(raw)?;
    Ok(MirroredSip {
        origin,
        peer,
        id: None,
        received_at,
        at_us: m.at_us,
        src: m.src,
        dst: m.dst,
        ip_proto: m.ip_proto,
        bytes: m.payload.into_owned(),
        rewritten: false,
    })
}

/// Per reason: when it was last logged and how many refusals were not logged since.
#[derive(Debug, Default)]
struct Slot {
    last: Option<Instant>,
    suppressed: u64,
}

/// Counts and logs refused plain HEP packets (shared by the UDP and TCP listeners).
#[derive(Debug, Default)]
pub struct RefusalLog {
    slots: Mutex<[Slot; Refusal::ALL.len()]>,
}

impl RefusalLog {
    /// Counts one refused packet from `peer` and logs it unless this reason was logged less than
    /// [`LOG_INTERVAL`] ago.
    pub fn refuse(&self, stats: &MirrorStats, reason: Refusal, peer: SocketAddr, what: &str) {
        stats.hep_refusals[reason.index()].fetch_add(1, Relaxed);
        if reason == Refusal::SourceNotAllowed {
            stats.hep_refused.fetch_add(1, Relaxed);
        } else {
            stats.hep_bad.fetch_add(1, Relaxed);
        }
        let now = Instant::now();
        let suppressed = {
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            let slot = &mut slots[reason.index()];
            if slot
                .last
                .is_some_and(|t| now.duration_since(t) < LOG_INTERVAL)
            {
                slot.suppressed += 1;
                return;
            }
            slot.last = Some(now);
            std::mem::take(&mut slot.suppressed)
        };
        tracing::warn!(
            %peer,
            reason = reason.as_str(),
            suppressed_since_last = suppressed,
            "plain HEP {what} refused ({}); counted in recorder_hep_refused_total",
            explain(reason)
        );
    }
}

/// What a reason means for the operator, and what to check.
fn explain(reason: Refusal) -> &'static str {
    match reason {
        Refusal::NotHep => "not a HEP packet",
        Refusal::BadVersion => "unknown HEP version or header",
        Refusal::Truncated => "shorter than its headers say",
        Refusal::BadChunk => "a HEPv3 chunk has a bad length",
        Refusal::NotSip => "no SIP message in it (another protocol type or payload)",
        Refusal::SourceNotAllowed => "source address not in [mirror] hep_sources",
        Refusal::DecompressFailed => "the compressed payload does not decompress",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_is_counted_by_reason_even_when_the_log_is_suppressed() {
        let stats = MirrorStats::default();
        let log = RefusalLog::default();
        let peer: SocketAddr = "192.0.2.9:40000".parse().unwrap();
        for _ in 0..5 {
            log.refuse(&stats, Refusal::NotHep, peer, "datagram");
        }
        log.refuse(&stats, Refusal::SourceNotAllowed, peer, "datagram");
        let s = stats.snapshot();
        assert_eq!(s.hep_refusals[Refusal::NotHep.index()], 5);
        assert_eq!(s.hep_refusals[Refusal::SourceNotAllowed.index()], 1);
        assert_eq!((s.hep_bad, s.hep_refused), (5, 1));
        let slots = log.slots.lock().unwrap();
        assert_eq!(slots[Refusal::NotHep.index()].suppressed, 4);
    }
}
