//! The engine thread's link to the store thread.
//!
//! Call events (started, updated, ended) always reach the store: when its queue is full the engine thread waits
//! for room (the capture thread never waits: its own queue drops and counts frames meanwhile), so every call has
//! its catalog row and the calls-active figures stay consistent. Audio chunks and RTP batches are offered
//! without waiting; when one cannot be queued the call's recording is cut there: that chunk and every later one
//! of the call are dropped and counted, so the file holds a valid prefix (each WAV chunk carries the header sizes
//! up to itself; Ogg pages are whole), and the call's catalog row ends `partial` with the reason.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{SyncSender, TrySendError};
use std::sync::Arc;

use rec_engine::{CallHandle, CallStatus, Engine, Output};

use super::DaemonStats;

/// The engine → store queue with the calls whose recording was cut (see the module documentation).
pub(crate) struct OutputLink {
    tx: SyncSender<Output>,
    stats: Arc<DaemonStats>,
    /// Calls whose audio was cut: chunks dropped so far.
    cut: HashMap<CallHandle, u64>,
}

impl OutputLink {
    /// A link over `tx`, counting into `stats`.
    pub(crate) fn new(tx: SyncSender<Output>, stats: Arc<DaemonStats>) -> OutputLink {
        OutputLink {
            tx,
            stats,
            cut: HashMap::new(),
        }
    }

    /// Hands every pending output of `engine` to the store.
    pub(crate) fn drain(&mut self, engine: &mut Engine) {
        while let Some(o) = engine.poll_output() {
            self.send(o);
        }
    }

    /// Hands one output to the store (see the module documentation).
    pub(crate) fn send(&mut self, o: Output) {
        match o {
            Output::Audio { call, .. } | Output::Rtp { call, .. } => {
                if let Some(n) = self.cut.get_mut(&call) {
                    *n += 1;
                    self.stats
                        .store_queue_dropped
                        .fetch_add(1, Ordering::Relaxed);
                    return;
                }
                match self.tx.try_send(o) {
                    Ok(()) => {
                        self.stats.store_queue.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(TrySendError::Full(_)) => {
                        self.cut.insert(call, 1);
                        self.stats
                            .store_queue_dropped
                            .fetch_add(1, Ordering::Relaxed);
                        self.stats.calls_truncated.fetch_add(1, Ordering::Relaxed);
                        tracing::warn!(
                            call,
                            "the store cannot keep up: this call's recording stops here (what was written is kept)"
                        );
                    }
                    Err(TrySendError::Disconnected(_)) => {}
                }
            }
            Output::CallEnded { call, mut report } => {
                if let Some(n) = self.cut.remove(&call) {
                    report.status = CallStatus::Partial;
                    let why = format!(
                        "{n} audio/RTP chunk(s) not written: the store could not keep up (writer queue full), the recording is incomplete"
                    );
                    report.meta.end_reason = Some(match report.meta.end_reason.take() {
                        Some(r) => format!("{r}; {why}"),
                        None => why.clone(),
                    });
                    report.notes.push(why);
                }
                self.wait_send(Output::CallEnded { call, report });
            }
            other => self.wait_send(other),
        }
    }

    /// Queues `o`, waiting for room: call events are never dropped.
    fn wait_send(&self, o: Output) {
        if self.tx.send(o).is_ok() {
            self.stats.store_queue.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rec_engine::{AudioChunk, AudioFormat, CallMeta, CallReport};

    fn audio(call: CallHandle, n: u8) -> Output {
        Output::Audio {
            call,
            chunk: AudioChunk {
                bytes: vec![n],
                header_patch: None,
                format: AudioFormat::Wav,
                sample_rate: 8000,
                channels: 2,
                last: false,
            },
        }
    }

    fn report() -> CallReport {
        CallReport {
            meta: CallMeta::default(),
            status: CallStatus::Complete,
            notes: Vec::new(),
            streams: Vec::new(),
            dtmf: Vec::new(),
            audio_ms: 0,
            sample_rate: 0,
            channels: 0,
        }
    }

    /// A full queue cuts the call's audio (a prefix is kept, nothing after the gap), marks it partial, and never
    /// loses a call event: the sender waits for room instead.
    #[test]
    fn a_full_store_queue_cuts_audio_but_never_call_events() {
        let (tx, rx) = std::sync::mpsc::sync_channel(2);
        let stats = Arc::new(DaemonStats::default());
        let mut link = OutputLink::new(tx, Arc::clone(&stats));
        link.send(audio(1, 1));
        link.send(audio(2, 1));
        link.send(audio(1, 2)); // full: call 1 is cut here
        assert!(matches!(rx.try_recv(), Ok(Output::Audio { call: 1, .. })));
        link.send(audio(1, 3)); // room again, but call 1 stays cut: no gap inside its file
        link.send(audio(2, 2));
        assert_eq!(stats.store_queue_dropped.load(Ordering::Relaxed), 2);
        assert_eq!(stats.calls_truncated.load(Ordering::Relaxed), 1);
        // the queue is full (2 chunks of call 2); the end of call 1 waits for room rather than being dropped
        let ender = std::thread::spawn(move || {
            link.send(Output::CallEnded {
                call: 1,
                report: Box::new(report()),
            });
            link
        });
        let mut got = Vec::new();
        while got.len() < 3 {
            got.push(rx.recv().unwrap());
        }
        let _link = ender.join().unwrap();
        assert!(matches!(got[0], Output::Audio { call: 2, .. }));
        assert!(matches!(got[1], Output::Audio { call: 2, .. }));
        let Output::CallEnded { call: 1, report } = &got[2] else {
            panic!("the call's end arrives")
        };
        assert_eq!(report.status, CallStatus::Partial);
        assert!(
            report
                .meta
                .end_reason
                .as_deref()
                .is_some_and(|r| r.contains("2 audio/RTP chunk(s) not written")),
            "{:?}",
            report.meta.end_reason
        );
    }
}
