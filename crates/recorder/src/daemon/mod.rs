//! `recorder run`: the compliance service. Thin shells around the engine:
//!
//! * capture thread — live frames from the SPAN interface, batched, never waiting on anything;
//! * engine thread — the same sans-IO engine as `recorder replay`, fed with frame batches and SIP messages,
//!   timers every 100 ms of wall-clock time;
//! * store thread — audio files (`*.part` while recording, extended every `flush_interval_ms`), decrypted RTP,
//!   catalog rows; a write failure (disk full) stops recording new calls loudly while capture and signaling go on;
//! * signaling — SIP found in the capture, and the mirror (TLS) when configured; every mirrored message is
//!   journaled and queued (`[mirror] queue` slots) before the mirror acknowledges it, or refused (see intake.rs);
//! * engine → store — call start, update and end always reach the store (the engine thread waits for room, never
//!   the capture thread); audio the store cannot keep up with is dropped, counted, and the call marked partial
//!   (see outputs.rs).
//!
//! On SIGTERM/SIGINT every open call is finalised. At start, `*.part` files left by a crash are made playable and
//! their catalog rows marked `interrupted`.

mod capture;
mod hep;
mod intake;
pub mod journal;
mod outputs;
mod reload;
mod systemd;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rec_admin::{DropReason, LossReason, Metrics, MirrorEvent, Queue};
use rec_engine::{AudioFormat, Engine, EngineConfig, Input, Output, SipMeta};

use crate::config::Config;
use crate::store::{recover, Store};
use capture::{CaptureStats, FrameBatch};
use intake::SipIntake;
use journal::Journal;
use outputs::OutputLink;

/// Arguments of `recorder run`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Configuration file (defaults: the embedded recorder.toml).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// A SIP message for the engine thread.
#[derive(Debug)]
pub struct SipIn {
    /// Receive time, unix µs (the engine's clock: calls are timed by it, like the captured media).
    pub at_us: i64,
    /// The message's own time (the agent's HEP timestamp or the filter's mirror timestamp), unix µs: what the
    /// journal and HOMER record.
    pub sent_us: Option<i64>,
    /// IP protocol of the SIP transport (6 TCP, 17 UDP), when the sender said.
    pub ip_proto: Option<u8>,
    /// Addresses.
    pub meta: SipMeta,
    /// The message.
    pub bytes: Vec<u8>,
}

/// What the engine thread receives.
enum EngineMsg {
    Frames(FrameBatch),
    Sip(SipIn),
    /// A reloaded recording policy (SIGHUP), for the calls that start from now on.
    Policy(Box<rec_rewrite::PolicyConfig>),
}

/// Daemon-wide counters (exported as metrics by the admin API when it is configured).
#[derive(Debug, Default)]
pub struct DaemonStats {
    /// Calls ended.
    pub calls_ended: AtomicU64,
    /// Calls being recorded now.
    pub calls_active: AtomicU64,
    /// Audio bytes written.
    pub bytes_written: AtomicU64,
    /// Store (disk) errors.
    pub store_errors: AtomicU64,
    /// Audio chunks and RTP batches dropped because the store queue was full (their calls are marked partial).
    pub store_queue_dropped: AtomicU64,
    /// Calls whose recording was cut because the store queue was full.
    pub calls_truncated: AtomicU64,
    /// Mirrored SIP messages refused (not taken, the filter resends them) because `[mirror] queue` were waiting.
    pub sip_refused: AtomicU64,
    /// Mirrored SIP messages waiting for the engine thread (at most `[mirror] queue`).
    pub sip_queued: AtomicUsize,
    /// Captured frame batches waiting for the engine thread.
    pub frames_queued: AtomicUsize,
    /// Mirrored SIP messages the journal could not write (they still went to the engine).
    pub journal_errors: AtomicU64,
    /// Items waiting for the engine thread.
    pub engine_queue: AtomicI64,
    /// Items waiting for the store thread.
    pub store_queue: AtomicI64,
    /// Wall-clock time (unix µs) of the engine thread's last timer tick: the watchdog's proof of life.
    pub engine_tick_us: AtomicI64,
}

/// The engine thread ticks every 100 ms; one that has not ticked for this long is wedged.
const ENGINE_STALL_US: i64 = 10_000_000;

/// The relay-forcing rewriter as the mirror uses it, timing each rewrite into the metrics.
struct TimedRewriter {
    inner: rec_rewrite::Rewriter,
    metrics: Arc<Metrics>,
}

impl rec_mirror::RewriteSip for TimedRewriter {
    fn rewrite_sip(
        &mut self,
        bytes: &[u8],
    ) -> Result<rec_rewrite::Account, rec_rewrite::RewriteError> {
        let t = Instant::now();
        let r = self.inner.rewrite(bytes);
        self.metrics.rewrite_latency.observe_duration(t.elapsed());
        r
    }
}

fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

/// The engine settings of `[recording]` and `[policy]`; `format` overrides `[recording] format` (which is only
/// checked when it is used).
pub(crate) fn engine_config(
    cfg: &Config,
    format: Option<AudioFormat>,
) -> Result<EngineConfig, String> {
    let format = match format {
        Some(f) => f,
        None => match cfg.recording.format.to_ascii_lowercase().as_str() {
            "wav" => AudioFormat::Wav,
            "opus" => AudioFormat::Opus,
            other => {
                return Err(format!(
                    "configuration: [recording] format = {other:?} is not \"wav\" or \"opus\""
                ))
            }
        },
    };
    let trust = engine_trust(&cfg.engine.trust)?;
    Ok(EngineConfig {
        format,
        trust,
        max_calls: cfg.engine.max_calls.max(1),
        mono: cfg.recording.mono,
        sample_rate: (cfg.recording.sample_rate != 0).then_some(cfg.recording.sample_rate),
        policy: cfg.policy.clone(),
        media_timeout_us: cfg.recording.media_timeout_s.saturating_mul(1_000_000) as i64,
        setup_timeout_us: cfg.recording.setup_timeout_s.saturating_mul(1_000_000) as i64,
        flush_interval_us: cfg.recording.flush_interval_ms.saturating_mul(1000) as i64,
        ..EngineConfig::default()
    })
}

/// `[engine] trust` as origins; `journal` is not a configurable source.
fn engine_trust(names: &[String]) -> Result<Vec<rec_engine::SipOrigin>, String> {
    names
        .iter()
        .map(|n| match rec_engine::SipOrigin::from_name(n) {
            Some(o) if o != rec_engine::SipOrigin::Journal => Ok(o),
            _ => Err(format!(
                "configuration: [engine] trust lists {n:?}, not one of \"mirror\", \"hep\", \"capture\""
            )),
        })
        .collect()
}

/// Runs `recorder run`.
pub fn run(args: Args) -> ExitCode {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        // colours only for a person at a terminal: journald and log files get plain text
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
    match run_inner(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // once, on stderr (the log goes there too): a fatal error is not repeated by the log
            eprintln!("recorder run: {e}");
            ExitCode::from(2)
        }
    }
}

fn run_inner(args: Args) -> Result<(), String> {
    let cfg = Config::load(args.config.as_deref())?;
    let running_cfg = cfg.clone();
    let ecfg = engine_config(&cfg, None)?;
    let ext = ecfg.format.extension();
    let root = PathBuf::from(&cfg.recording.out);
    std::fs::create_dir_all(&root).map_err(|e| format!("cannot create {}: {e}", root.display()))?;

    // encryption at rest: every configured key reads, the current one writes (docs/encryption.md)
    let keys = cfg.encryption.keyring()?;
    let write_keys = cfg.encryption.writing_keys()?;
    if let Some(k) = &write_keys {
        tracing::info!(
            key_id = k.current().map_or("", |c| c.id()),
            "encryption at rest on"
        );
    }

    // 1. what a crash left behind
    let rec = recover(&root, keys.as_deref());
    if !rec.files.is_empty() || rec.calls > 0 {
        tracing::warn!(
            files = rec.files.len(),
            calls = rec.calls,
            "recovered after an unclean stop: partial recordings made playable, catalog rows marked interrupted"
        );
    }
    for e in &rec.errors {
        tracing::error!("recovery: {e}");
    }

    // 2. the pieces, all checked before anything runs
    let engine = Engine::new(ecfg).map_err(|e| format!("configuration [policy]: {e}"))?;
    let mut store = Store::open(&root, ext)?;
    store.set_encryption(write_keys.clone());
    store.set_sealer(crate::integrity::sealer(&cfg, &root)?); // seals the interrupted calls recovered above
    let cap = if cfg.capture.interface.trim().is_empty() {
        None
    } else {
        Some(capture::open(
            &cfg.capture.interface,
            &cfg.capture.filter,
            cfg.capture.buffer_mb,
            cfg.capture.snaplen,
        )?)
    };
    let journal_dir = if cfg.journal.dir.trim().is_empty() {
        root.join("journal")
    } else {
        PathBuf::from(&cfg.journal.dir)
    };
    crate::encryption::finish_journals(&journal_dir, keys.as_deref());
    let mut journal = Journal::new(&journal_dir, cfg.journal.max_mb.saturating_mul(1 << 20));
    journal.set_encryption(write_keys.clone());
    let homer = rec_mirror::homer::HomerSender::open(&cfg.homer)?.map(Arc::new);
    if let Some(h) = &homer {
        tracing::info!(collector = %h.collector(), "sending SIP and call reports to HOMER");
    }

    let stop = Arc::new(AtomicBool::new(false));
    for sig in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(sig, Arc::clone(&stop))
            .map_err(|e| format!("signal handler: {e}"))?;
    }
    // SIGHUP reloads the configuration (it must never end the service mid-call)
    let reload_asked = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(signal_hook::consts::SIGHUP, Arc::clone(&reload_asked))
        .map_err(|e| format!("signal handler: {e}"))?;
    let stats = Arc::new(DaemonStats::default());
    let cap_stats = Arc::new(CaptureStats::default());
    let metrics = Arc::new(Metrics::new());

    // `[mirror] queue` slots for signaling plus the frame batches' own (see intake.rs)
    let (to_engine, engine_rx) =
        sync_channel::<EngineMsg>(intake::engine_queue_capacity(cfg.mirror.queue));
    let (frames_tx, frames_rx) = sync_channel::<FrameBatch>(64);
    let (recycle_tx, recycle_rx) = sync_channel::<FrameBatch>(64);
    let (to_store, store_rx) = sync_channel::<Output>(4096);

    // capture → engine: batches pass through a forwarding thread so the capture thread only ever try_sends
    let capture_thread = cap.map(|cap| {
        let stop = Arc::clone(&stop);
        let s = Arc::clone(&cap_stats);
        std::thread::Builder::new()
            .name("capture".into())
            .spawn(move || capture::run(cap, frames_tx, recycle_rx, stop, s))
            .expect("spawn capture thread")
    });
    let forward = {
        let to_engine = to_engine.clone();
        let stats = Arc::clone(&stats);
        std::thread::Builder::new()
            .name("capture-forward".into())
            .spawn(move || {
                while let Ok(b) = frames_rx.recv() {
                    intake::wait_for_frame_slot(&stats.frames_queued);
                    stats.engine_queue.fetch_add(1, Ordering::Relaxed);
                    stats.frames_queued.fetch_add(1, Ordering::AcqRel);
                    if to_engine.send(EngineMsg::Frames(b)).is_err() {
                        break;
                    }
                }
            })
            .expect("spawn forward thread")
    };
    let store_thread = {
        let stats = Arc::clone(&stats);
        let metrics = Arc::clone(&metrics);
        let homer = homer.clone();
        std::thread::Builder::new()
            .name("store".into())
            .spawn(move || store_loop(store, store_rx, stats, metrics, homer))
            .expect("spawn store thread")
    };
    let engine_thread = {
        let stop = Arc::clone(&stop);
        let stats = Arc::clone(&stats);
        let metrics = Arc::clone(&metrics);
        std::thread::Builder::new()
            .name("engine".into())
            .spawn(move || {
                let links = EngineLinks {
                    rx: engine_rx,
                    recycle: recycle_tx,
                    to_store: OutputLink::new(to_store, Arc::clone(&stats)),
                    stop,
                    stats,
                    metrics,
                    homer,
                };
                engine_loop(engine, links)
            })
            .expect("spawn engine thread")
    };
    tracing::info!(
        out = %root.display(),
        interface = %cfg.capture.interface,
        "recorder running"
    );
    // network listeners hold at most their configured connections: give them the whole descriptor budget
    raise_fd_limit(&cfg);
    // signaling from the Front End filters (mTLS mirror, with rewrite replies) and HEP agents
    let mirror_stats = Arc::new(rec_mirror::MirrorStats::default());
    let mut shared_rewriter = None;
    let mirror = if cfg.mirror.enabled || cfg.mirror.hep_enabled {
        let rewriter = rec_rewrite::Rewriter::new(cfg.rewrite.clone(), &cfg.policy)
            .map_err(|e| format!("configuration [policy]: {e}"))?;
        let intake = SipIntake::new(
            to_engine.clone(),
            journal,
            cfg.mirror.queue,
            Arc::clone(&stats),
        );
        let sink: rec_mirror::SipSink = Arc::new(move |m| intake.offer(m));
        let timed: Box<dyn rec_mirror::RewriteSip> = Box::new(TimedRewriter {
            inner: rewriter,
            metrics: Arc::clone(&metrics),
        });
        let shared: rec_mirror::SharedRewriter = Arc::new(std::sync::Mutex::new(timed));
        shared_rewriter = Some(Arc::clone(&shared));
        let service =
            rec_mirror::MirrorService::start(&cfg.mirror, shared, sink, Arc::clone(&mirror_stats))
                .map_err(|e| format!("mirror: {e}"))?;
        if let Some(a) = service.tls_addr {
            tracing::info!(listen = %a, "mirror (mTLS) listening");
        }
        if let Some((u, t)) = service.hep_addrs {
            tracing::info!(udp = %u, tcp = %t, "HEP listening");
        }
        Some(service)
    } else {
        None
    };
    // the admin API (HTTPS) with the metrics
    let mut admin_reload = None;
    let (admin_stop, admin_thread) = if cfg.admin.enabled {
        let mut acfg = cfg
            .admin
            .to_config(std::path::Path::new(&cfg.recording.out))
            .map_err(|e| format!("configuration [admin]: {e}"))?;
        acfg.decryption_keys = rec_admin::sealed::DecryptionKeys(keys.clone());
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("admin")
            .enable_all()
            .build()
            .map_err(|e| format!("admin runtime: {e}"))?;
        let server = rt
            .block_on(rec_admin::AdminServer::bind(acfg, Arc::clone(&metrics)))
            .map_err(|e| format!("admin API: {e}"))?;
        tracing::info!(listen = %server.local_addr(), "admin API listening");
        admin_reload = Some(server.reload_handle());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let t = std::thread::Builder::new()
            .name("admin-main".into())
            .spawn(move || {
                if let Err(e) = rt.block_on(server.run(async {
                    let _ = rx.await;
                })) {
                    tracing::error!("admin API: {e}");
                }
            })
            .expect("spawn admin thread");
        (Some(tx), Some(t))
    } else {
        (None, None)
    };
    let mut reloader = reload::Reloader {
        path: args.config.clone(),
        running: running_cfg,
        rewriter: shared_rewriter,
        mirror_tls: mirror.as_ref().and_then(|m| m.tls_reload.clone()),
        admin: admin_reload,
        to_engine: to_engine.clone(),
        metrics: Arc::clone(&metrics),
    };
    let sip_sender = to_engine;
    let mut last_report = Instant::now();
    stats.engine_tick_us.store(now_us(), Ordering::Relaxed);
    let mut notifier = systemd::Notifier::from_env();
    if let Some(n) = &notifier {
        n.notify("READY=1\nSTATUS=recording");
        if let Some(p) = n.watchdog() {
            tracing::info!(period_ms = p.as_millis() as u64, "systemd watchdog enabled");
        }
    }
    let retention_thread = crate::integrity::spawn_sweeper(&cfg, &root, Arc::clone(&stop))?;
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(100));
        if reload_asked.swap(false, Ordering::Relaxed) {
            if let Some(n) = &notifier {
                n.notify("RELOADING=1");
            }
            reloader.reload();
            if let Some(n) = &notifier {
                n.notify("READY=1");
            }
        }
        if let Some(n) = &mut notifier {
            let since_tick = now_us() - stats.engine_tick_us.load(Ordering::Relaxed);
            n.pet_watchdog(since_tick < ENGINE_STALL_US);
        }
        publish_capture(&metrics, &cap_stats, &stats, &mirror_stats);
        if last_report.elapsed() >= Duration::from_secs(60) {
            last_report = Instant::now();
            log_counters("status", &cap_stats, &stats);
        }
    }
    tracing::info!("stopping: finalising open calls");
    if let Some(n) = &notifier {
        n.notify("STOPPING=1\nSTATUS=finalising open calls");
    }
    if let Some(m) = mirror {
        m.shutdown();
    }
    if let Some(tx) = admin_stop {
        let _ = tx.send(());
    }
    if let Some(t) = capture_thread {
        let _ = t.join();
    }
    drop(sip_sender);
    drop(reloader);
    let _ = forward.join();
    let _ = engine_thread.join();
    let _ = store_thread.join();
    if let Some(t) = retention_thread {
        let _ = t.join();
    }
    if let Some(t) = admin_thread {
        let _ = t.join();
    }
    log_counters("stopped", &cap_stats, &stats);
    Ok(())
}

/// The capture and call counters in one log line (every minute, and at the stop).
fn log_counters(what: &str, cap: &CaptureStats, stats: &DaemonStats) {
    tracing::info!(
        frames = cap.frames.load(Ordering::Relaxed),
        queue_dropped = cap.queue_dropped.load(Ordering::Relaxed),
        kernel_dropped = cap.kernel_dropped.load(Ordering::Relaxed),
        if_dropped = cap.if_dropped.load(Ordering::Relaxed),
        sip_refused = stats.sip_refused.load(Ordering::Relaxed),
        store_queue_dropped = stats.store_queue_dropped.load(Ordering::Relaxed),
        calls_truncated = stats.calls_truncated.load(Ordering::Relaxed),
        calls_active = stats.calls_active.load(Ordering::Relaxed),
        calls_ended = stats.calls_ended.load(Ordering::Relaxed),
        "{what}"
    );
}

/// The engine thread's connections to the other threads.
struct EngineLinks {
    rx: Receiver<EngineMsg>,
    recycle: SyncSender<FrameBatch>,
    to_store: OutputLink,
    stop: Arc<AtomicBool>,
    stats: Arc<DaemonStats>,
    metrics: Arc<Metrics>,
    /// The HOMER output, when `[homer] collector` is set.
    homer: Option<Arc<rec_mirror::homer::HomerSender>>,
}

fn engine_loop(mut engine: Engine, links: EngineLinks) {
    let EngineLinks {
        rx,
        recycle,
        mut to_store,
        stop,
        stats,
        metrics,
        homer,
    } = links;
    let mut next_tick = Instant::now() + Duration::from_millis(100);
    // one message: frames (each handed to the engine, the emptied batch recycled) or a SIP message (journaled)
    let handle = |engine: &mut Engine, to_store: &mut OutputLink, msg: EngineMsg| {
        stats.engine_queue.fetch_sub(1, Ordering::Relaxed);
        match msg {
            EngineMsg::Frames(mut b) => {
                stats.frames_queued.fetch_sub(1, Ordering::AcqRel);
                if let Some(link) = b.link {
                    for (at, r) in &b.frames {
                        engine.handle_input(Input::Packet {
                            at_us: *at,
                            link,
                            frame: &b.data[r.clone()],
                        });
                        to_store.drain(engine);
                    }
                }
                b.frames.clear();
                b.data.clear();
                let _ = recycle.try_send(b);
            }
            EngineMsg::Policy(p) => {
                if let Err(e) = engine.set_policy(&p) {
                    tracing::error!("reloaded [policy] refused by the engine: {e}");
                }
            }
            EngineMsg::Sip(m) => {
                // journaled by the mirror's intake before it was acknowledged
                stats.sip_queued.fetch_sub(1, Ordering::AcqRel);
                if let Some(h) = &homer {
                    h.send_sip(&rec_mirror::homer::SipToSend {
                        at_us: m.sent_us.unwrap_or(m.at_us),
                        src: m.meta.src,
                        dst: m.meta.dst,
                        ip_proto: m.ip_proto,
                        bytes: &m.bytes,
                    });
                }
                engine.handle_input(Input::Sip {
                    at_us: m.at_us,
                    meta: m.meta,
                    bytes: &m.bytes,
                });
                to_store.drain(engine);
            }
        }
    };
    loop {
        let wait = next_tick.saturating_duration_since(Instant::now());
        match rx.recv_timeout(wait) {
            Ok(msg) => handle(&mut engine, &mut to_store, msg),
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
        if Instant::now() >= next_tick {
            next_tick += Duration::from_millis(100);
            let now = now_us();
            stats.engine_tick_us.store(now, Ordering::Relaxed);
            engine.handle_input(Input::Timeout { at_us: now });
            to_store.drain(&mut engine);
            publish_engine(&metrics, &engine);
            if stop.load(Ordering::Relaxed) {
                // the capture has stopped: what is queued is handled, then every call ends
                while let Ok(msg) = rx.try_recv() {
                    handle(&mut engine, &mut to_store, msg);
                }
                break;
            }
        }
    }
    engine.finish(now_us());
    to_store.drain(&mut engine);
}

fn store_loop(
    mut store: Store,
    rx: Receiver<Output>,
    stats: Arc<DaemonStats>,
    metrics: Arc<Metrics>,
    homer: Option<Arc<rec_mirror::homer::HomerSender>>,
) {
    while let Ok(o) = rx.recv() {
        stats.store_queue.fetch_sub(1, Ordering::Relaxed);
        match o {
            Output::CallStarted { call, meta } => {
                stats.calls_active.fetch_add(1, Ordering::Relaxed);
                metrics.calls_total.inc();
                metrics.calls_active.inc();
                tracing::info!(call_id = %meta.call_id, "call started");
                store.started(call, &meta);
            }
            Output::CallUpdated { call, meta } => store.updated(call, &meta),
            Output::Audio { call, chunk } => {
                stats
                    .bytes_written
                    .fetch_add(chunk.bytes.len() as u64, Ordering::Relaxed);
                metrics.bytes_written.inc_by(chunk.bytes.len() as u64);
                store.audio(call, &chunk);
            }
            Output::Rtp { call, batch } => store.rtp(call, &batch),
            Output::CallEnded { call, report } => {
                // saturating: a gauge never wraps below zero
                let _ =
                    stats
                        .calls_active
                        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                            Some(n.saturating_sub(1))
                        });
                stats.calls_ended.fetch_add(1, Ordering::Relaxed);
                metrics.calls_active.dec();
                if let Some(h) = &homer {
                    let at = report.meta.ended_at_us.unwrap_or_else(now_us);
                    h.send_report(at, &report.meta.call_id, &hep::report_json(&report));
                }
                let (file, storage_failed) = store.ended(call, &report);
                let status = if storage_failed {
                    rec_catalog::CallStatus::Partial
                } else {
                    crate::store::catalog_status(report.status)
                };
                metrics.calls_ended.inc(status);
                tracing::info!(
                    call_id = %report.meta.call_id,
                    status = if storage_failed { "partial (storage failed)" } else { report.status.as_str() },
                    file = file.as_deref().unwrap_or("-"),
                    notes = %report.notes.join("; "),
                    "call ended"
                );
            }
        }
        for e in store.errors.drain(..) {
            tracing::error!("storage: {e}");
            stats.store_errors.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Capture, queue and mirror counters into the metrics (every 100 ms).
fn publish_capture(
    metrics: &Metrics,
    cap: &CaptureStats,
    stats: &DaemonStats,
    mirror: &rec_mirror::MirrorStats,
) {
    metrics
        .packets_captured
        .set_total(cap.frames.load(Ordering::Relaxed));
    metrics.packets_dropped.set_total(
        DropReason::KernelBuffer,
        cap.kernel_dropped.load(Ordering::Relaxed),
    );
    metrics.packets_dropped.set_total(
        DropReason::Interface,
        cap.if_dropped.load(Ordering::Relaxed),
    );
    metrics.packets_dropped.set_total(
        DropReason::QueueFull,
        cap.queue_dropped.load(Ordering::Relaxed),
    );
    for (reason, n) in [
        (
            LossReason::WriterQueueFull,
            stats.store_queue_dropped.load(Ordering::Relaxed),
        ),
        (
            LossReason::JournalWrite,
            stats.journal_errors.load(Ordering::Relaxed),
        ),
        (
            LossReason::StorageWrite,
            stats.store_errors.load(Ordering::Relaxed),
        ),
    ] {
        metrics.dropped.set_total(reason, n);
    }
    let snap = mirror.snapshot();
    metrics.sip_messages.set_total(snap.frames);
    for (event, n) in [
        (MirrorEvent::Frames, snap.frames),
        (MirrorEvent::Replies, snap.replies),
        (MirrorEvent::Rewritten, snap.rewritten),
        (MirrorEvent::Unchanged, snap.unchanged),
        (MirrorEvent::FailOpen, snap.fail_open),
        (MirrorEvent::Duplicates, snap.duplicates),
        (MirrorEvent::Dropped, snap.dropped),
        (MirrorEvent::Refused, snap.refused),
        (MirrorEvent::RefusedHandshakes, snap.refused_handshakes),
        (MirrorEvent::HepRefused, snap.hep_refused),
    ] {
        metrics.mirror_events.set_total(event, n);
    }
    hep::publish_refusals(metrics, &snap);
    metrics
        .dropped
        .set_total(LossReason::HepQueueFull, snap.dropped);
    metrics.queue_depth.set(
        Queue::Capture,
        stats.frames_queued.load(Ordering::Relaxed) as i64,
    );
    metrics.queue_depth.set(
        Queue::Signaling,
        stats.sip_queued.load(Ordering::Relaxed) as i64,
    );
    metrics.queue_depth.set(
        Queue::Writer,
        stats.store_queue.load(Ordering::Relaxed).max(0),
    );
}

/// Engine counters into the metrics (every engine tick).
fn publish_engine(metrics: &Metrics, engine: &Engine) {
    let s = engine.stats();
    metrics.packets_matched.set_total(s.media_matched);
    metrics.decrypt_failures.set_total(s.decrypt_failures);
    metrics
        .packets_dropped
        .set_total(DropReason::Malformed, s.malformed_frames);
    metrics
        .packets_dropped
        .set_total(DropReason::Unmatched, s.media_unmatched);
    metrics
        .packets_dropped
        .set_total(DropReason::Ignored, s.ignored);
    metrics
        .packets_dropped
        .set_total(DropReason::TurnError, s.turn_errors);
    crate::hostile_metrics::publish(metrics, &s);
}

/// Raises the soft file-descriptor limit to the hard one, and warns when the configured connection caps
/// (mirror, HEP, admin) leave too few descriptors for recordings, the catalog and the journal.
fn raise_fd_limit(cfg: &crate::config::Config) {
    let soft = match rec_netguard::raise_nofile_limit() {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("cannot raise the file-descriptor limit: {e}");
            rec_netguard::nofile_limit().0
        }
    };
    let caps = cfg.mirror.max_connections * 2 + cfg.admin.max_connections;
    if let Some(limit) = soft {
        tracing::info!(limit, connection_caps = caps, "file-descriptor limit");
        if (caps as u64).saturating_add(1024) > limit {
            tracing::warn!(
                limit,
                connection_caps = caps,
                "the connection caps ([mirror] max_connections twice, [admin] max_connections) leave fewer than \
                 1024 file descriptors for recordings: lower them or raise the limit (LimitNOFILE=)"
            );
        }
    }
}
