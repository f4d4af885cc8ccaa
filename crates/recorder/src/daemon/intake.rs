//! Mirrored signaling into the daemon: what the mirror's sink does with each new message, and what "taken" means.
//!
//! A message is taken only when there is room for it among the `[mirror] queue` SIP messages the engine queue
//! may hold; it is then written to the signaling journal and queued for the engine thread, and only then does the
//! mirror acknowledge it. A message without room is not journaled and not queued: the mirror refuses it (NACK)
//! and the filter sends it again later. The sink runs on the mirror's connection tasks and never waits: the
//! journal write is one buffered write and flush (microseconds); the rewrite reply of the message was written
//! to the filter before the sink was called.
//!
//! The engine queue is shared with captured frame batches; the capture forwarder keeps at most [`FRAME_SLOTS`]
//! batches in it, so the `[mirror] queue` SIP slots are always free for signaling.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Mutex};
use std::time::{Duration, UNIX_EPOCH};

use rec_engine::SipMeta;

use super::journal::Journal;
use super::{now_us, DaemonStats, EngineMsg, SipIn};

/// Frame batches the capture forwarder may have in the engine queue at once (beyond the SIP slots).
pub(crate) const FRAME_SLOTS: usize = 64;

/// The capacity of the engine queue for `sip_slots` mirrored messages and the frame batches.
pub(crate) fn engine_queue_capacity(sip_slots: usize) -> usize {
    sip_slots.max(1) + FRAME_SLOTS
}

/// The mirror's way into the engine (see the module documentation).
pub(crate) struct SipIntake {
    to_engine: SyncSender<EngineMsg>,
    journal: Mutex<Journal>,
    capacity: usize,
    stats: Arc<DaemonStats>,
}

impl SipIntake {
    /// An intake of `capacity` (`[mirror] queue`) SIP messages into `to_engine`, journaling into `journal`.
    pub(crate) fn new(
        to_engine: SyncSender<EngineMsg>,
        journal: Journal,
        capacity: usize,
        stats: Arc<DaemonStats>,
    ) -> SipIntake {
        SipIntake {
            to_engine,
            journal: Mutex::new(journal),
            capacity: capacity.max(1),
            stats,
        }
    }

    /// Takes one mirrored message (journaled, queued for the engine): `true`; or, without room, `false` (nothing
    /// done, counted as refused).
    pub(crate) fn offer(&self, m: rec_mirror::MirroredSip) -> bool {
        let queued = &self.stats.sip_queued;
        if queued.fetch_add(1, Ordering::AcqRel) >= self.capacity {
            queued.fetch_sub(1, Ordering::AcqRel);
            self.stats.sip_refused.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        let at_us = m
            .received_at
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_micros() as i64)
            .unwrap_or_else(|_| now_us());
        // the message's own time (HEP/mirror timestamp) when it has one: the journal entry and HOMER carry it
        let sent_us = m.at_us.and_then(|t| i64::try_from(t).ok());
        {
            let mut journal = self.journal.lock().unwrap_or_else(|p| p.into_inner());
            let before = journal.errors;
            journal.write(
                at_us,
                sent_us.unwrap_or(at_us),
                m.src,
                m.dst,
                m.ip_proto,
                &m.bytes,
            );
            if journal.errors > before {
                // the journal is a copy for QA and replay; the engine still gets the message (a refusal would
                // stop recording until the journal's disk has room again)
                self.stats.journal_errors.fetch_add(1, Ordering::Relaxed);
            }
        }
        let msg = EngineMsg::Sip(SipIn {
            at_us,
            sent_us,
            ip_proto: m.ip_proto,
            meta: SipMeta {
                src: m.src,
                dst: m.dst,
                origin: match m.origin {
                    rec_mirror::Origin::Filter { .. } => rec_engine::SipOrigin::Mirror,
                    rec_mirror::Origin::HepUdp | rec_mirror::Origin::HepTcp => {
                        rec_engine::SipOrigin::Hep
                    }
                },
            },
            bytes: m.bytes,
        });
        // the engine queue has room for `capacity` SIP messages beyond the frame batches: this never fails
        // unless the engine thread has stopped
        self.stats.engine_queue.fetch_add(1, Ordering::Relaxed);
        if self.to_engine.try_send(msg).is_err() {
            self.stats.engine_queue.fetch_sub(1, Ordering::Relaxed);
            queued.fetch_sub(1, Ordering::AcqRel);
            self.stats.sip_refused.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        true
    }
}

/// The capture forwarder's gate: waits (the forwarder's thread only, never the capture thread) while
/// [`FRAME_SLOTS`] batches are already in the engine queue, so they never take the SIP slots.
pub(crate) fn wait_for_frame_slot(frames_queued: &AtomicUsize) {
    while frames_queued.load(Ordering::Acquire) >= FRAME_SLOTS {
        std::thread::sleep(Duration::from_micros(200));
    }
}
