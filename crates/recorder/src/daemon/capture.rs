//! The capture thread: frames from a live interface, batched into reusable buffers and handed to the engine
//! thread without ever waiting for it (a full queue drops the batch and counts it).

use std::ops::Range;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rec_packet::capture::{LiveCapture, LiveOptions};
use rec_packet::LinkType;

/// Frames of one batch laid out in one buffer: no allocation per frame once buffers are recycled.
#[derive(Debug, Default)]
pub struct FrameBatch {
    /// `(capture time µs, byte range in data)` per frame.
    pub frames: Vec<(i64, Range<usize>)>,
    /// Frame bytes back to back.
    pub data: Vec<u8>,
    /// Link type of every frame of the batch.
    pub link: Option<LinkType>,
}

impl FrameBatch {
    fn clear(&mut self) {
        self.frames.clear();
        self.data.clear();
    }
}

/// Counters of the capture thread.
#[derive(Debug, Default)]
pub struct CaptureStats {
    /// Frames read from the interface.
    pub frames: AtomicU64,
    /// Frames dropped because the engine's queue was full.
    pub queue_dropped: AtomicU64,
    /// Kernel: frames dropped because the buffer was full.
    pub kernel_dropped: AtomicU64,
    /// Kernel: frames dropped by the interface.
    pub if_dropped: AtomicU64,
}

/// Most frames per batch, and the longest a frame waits in a batch before it is handed over.
const BATCH_FRAMES: usize = 512;
const BATCH_WAIT: Duration = Duration::from_millis(5);

/// Opens `interface` with `filter`; fails early (before the thread starts) on a bad interface or filter.
pub fn open(
    interface: &str,
    filter: &str,
    buffer_mb: u32,
    snaplen: u32,
) -> Result<LiveCapture, String> {
    let opts = LiveOptions {
        snaplen: snaplen.min(262_144) as i32,
        buffer_bytes: buffer_mb.saturating_mul(1 << 20).min(i32::MAX as u32) as i32,
        timeout_ms: 50,
        ..LiveOptions::default()
    };
    let mut cap = LiveCapture::open(interface, opts).map_err(|e| {
        let text = e.to_string();
        let lower = text.to_ascii_lowercase();
        if lower.contains("permission") || lower.contains("not permitted") {
            format!(
                "capture on {interface}: {text}: capturing needs root or the CAP_NET_RAW capability \
                 (`setcap cap_net_raw+ep $(command -v recorder)`, or AmbientCapabilities=CAP_NET_RAW in the \
                 systemd unit, as docs/recorder.service does)"
            )
        } else {
            format!("capture on {interface}: {text}")
        }
    })?;
    if !filter.trim().is_empty() {
        cap.set_filter(filter)
            .map_err(|e| format!("capture filter {filter:?}: {e}"))?;
    }
    Ok(cap)
}

/// Runs until `stop` is set: reads frames, hands batches to `to_engine`, takes empty batches back from
/// `recycled`.
pub fn run(
    mut cap: LiveCapture,
    to_engine: SyncSender<FrameBatch>,
    recycled: Receiver<FrameBatch>,
    stop: Arc<AtomicBool>,
    stats: Arc<CaptureStats>,
) {
    let link = cap.link_type();
    let mut batch = FrameBatch::default();
    let mut first_at = Instant::now();
    let mut last_stats = Instant::now();
    // on stop, what the kernel already holds is still read (until a read times out, at most 2 s more)
    let mut stopping_since: Option<Instant> = None;
    loop {
        if stopping_since.is_none() && stop.load(Ordering::Relaxed) {
            stopping_since = Some(Instant::now());
        }
        if stopping_since.is_some_and(|t| t.elapsed() > Duration::from_secs(2)) {
            break;
        }
        let mut idle = false;
        match cap.next_frame() {
            Ok(None) if stopping_since.is_some() => break,
            // nothing waiting (the capture is non-blocking): hand over what is batched, or wait a little before
            // asking again, which keeps an idle capture cheap; a busy one never gets here
            Ok(None) => {
                idle = true;
                if batch.frames.is_empty() {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            Ok(Some(f)) => {
                if batch.frames.is_empty() {
                    first_at = Instant::now();
                }
                let start = batch.data.len();
                batch.data.extend_from_slice(f.data);
                batch.frames.push((
                    i64::try_from(f.at_micros).unwrap_or(i64::MAX),
                    start..batch.data.len(),
                ));
                stats.frames.fetch_add(1, Ordering::Relaxed);
            }
            Err(e) => {
                tracing::error!("capture read failed: {e}; capture stops");
                break;
            }
        }
        if !batch.frames.is_empty()
            && (idle || batch.frames.len() >= BATCH_FRAMES || first_at.elapsed() >= BATCH_WAIT)
        {
            batch.link = Some(link);
            let next = recycled.try_recv().unwrap_or_default();
            let full = std::mem::replace(&mut batch, next);
            let n = full.frames.len() as u64;
            match to_engine.try_send(full) {
                Ok(()) => {}
                Err(TrySendError::Full(mut b)) => {
                    stats.queue_dropped.fetch_add(n, Ordering::Relaxed);
                    b.clear();
                    batch = b;
                }
                Err(TrySendError::Disconnected(_)) => break,
            }
            batch.clear();
        }
        if last_stats.elapsed() >= Duration::from_secs(1) {
            last_stats = Instant::now();
            if let Ok(s) = cap.stats() {
                stats
                    .kernel_dropped
                    .store(u64::from(s.dropped), Ordering::Relaxed);
                stats
                    .if_dropped
                    .store(u64::from(s.if_dropped), Ordering::Relaxed);
            }
        }
    }
    if !batch.frames.is_empty() {
        batch.link = Some(link);
        let _ = to_engine.try_send(batch);
    }
}
