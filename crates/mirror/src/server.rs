//! The mTLS mirror server and the plain HEPv3 listeners.
//!
//! Each TLS connection runs on its own task: it reads frames, answers the messages that want a reply at once (the
//! rewrite runs on the connection task, about 10 µs; the replies of a batch are written before anything else is
//! done with it), then offers every new message to the engine's bounded queue without waiting: a message the sink
//! took is acknowledged (ACK), one it could not take (queue full) is refused (NACK) and counted, and the filter
//! sends it again later. Nothing is acknowledged and then dropped. Plain HEP cannot be refused: a HEP message the
//! sink cannot take is lost and counted as dropped.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::panic::AssertUnwindSafe;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex, TryLockError};
use std::time::{Duration, Instant, SystemTime};

use rec_rewrite::{Account, RewriteError, Rewriter, Unchanged};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use crate::limits::{GuardedTcp, Limits};
use crate::protocol::{self, FrameReader, Reply, UnchangedReason, Verdict};
use crate::{tls, MirrorConfig, MirrorError, MirrorStats, Refusal};

/// Where a mirrored message came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A filter on the mTLS mirror: its certificate subject.
    Filter {
        /// Subject of the client certificate (as in [`MirrorConfig::allowed_subjects`]).
        subject: Arc<str>,
    },
    /// A plain HEPv3 agent over UDP.
    HepUdp,
    /// A plain HEPv3 agent over TCP.
    HepTcp,
}

/// One mirrored SIP message for the engine. `Debug` omits the bytes (SDP may carry SRTP keys).
#[derive(Clone)]
pub struct MirroredSip {
    /// Who sent it.
    pub origin: Origin,
    /// Address of the sending filter or agent.
    pub peer: SocketAddr,
    /// The filter's message id (plain HEP: `None`).
    pub id: Option<u64>,
    /// When the recorder received it.
    pub received_at: SystemTime,
    /// When the filter saw it (HEP timestamp), microseconds since the epoch.
    pub at_us: Option<u64>,
    /// SIP source address and port (HEP chunks).
    pub src: Option<SocketAddr>,
    /// SIP destination address and port (HEP chunks).
    pub dst: Option<SocketAddr>,
    /// IP protocol of the SIP transport (6 TCP, 17 UDP).
    pub ip_proto: Option<u8>,
    /// The SIP message as the filter saw it (before any rewrite).
    pub bytes: Vec<u8>,
    /// A rewritten version was sent back to the filter (the relay is being forced for this message).
    pub rewritten: bool,
}

impl std::fmt::Debug for MirroredSip {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MirroredSip")
            .field("origin", &self.origin)
            .field("peer", &self.peer)
            .field("id", &self.id)
            .field("at_us", &self.at_us)
            .field("src", &self.src)
            .field("dst", &self.dst)
            .field("len", &self.bytes.len())
            .field("rewritten", &self.rewritten)
            .finish_non_exhaustive()
    }
}

/// Where new mirrored messages go: returns `true` once the message is taken for good (the daemon journals it and
/// queues it for its engine), `false` when it could not be taken now (the engine's queue is full): a filter's
/// message is then refused (NACK) so that the filter sends it again, a plain HEP message is dropped and counted.
/// Called on the connection tasks: it must never block.
pub type SipSink = Arc<dyn Fn(MirroredSip) -> bool + Send + Sync>;

/// A sink into a bounded tokio channel (`try_send`).
pub fn channel_sink(tx: mpsc::Sender<MirroredSip>) -> SipSink {
    Arc::new(move |m| tx.try_send(m).is_ok())
}

/// What answers "reply wanted" messages. [`Rewriter`] is the real one; tests plug in failing ones.
pub trait RewriteSip: Send {
    /// Rewrites one SIP message (see [`Rewriter::rewrite`]).
    fn rewrite_sip(&mut self, bytes: &[u8]) -> Result<Account, RewriteError>;
}

impl RewriteSip for Rewriter {
    fn rewrite_sip(&mut self, bytes: &[u8]) -> Result<Account, RewriteError> {
        self.rewrite(bytes)
    }
}

/// The rewriter shared by every connection (one lock, held about 10 µs per message); replace the boxed value to
/// apply a new configuration.
pub type SharedRewriter = Arc<Mutex<Box<dyn RewriteSip>>>;

/// Ids seen per client subject, bounded.
#[derive(Debug, Default)]
struct SeenIds {
    set: HashSet<u64>,
    order: VecDeque<u64>,
}

impl SeenIds {
    /// Records `id`; `true` when it was already there.
    fn check_insert(&mut self, id: u64, cap: usize) -> bool {
        if !self.set.insert(id) {
            return true;
        }
        self.order.push_back(id);
        while self.order.len() > cap.max(1) {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
        false
    }
}

struct Shared {
    stats: Arc<MirrorStats>,
    /// `None` on the plain HEP listeners (they never reply).
    rewriter: Option<SharedRewriter>,
    sink: SipSink,
    seen: Mutex<HashMap<Arc<str>, SeenIds>>,
    remembered_ids: usize,
    /// Refused plain HEP packets: counted by reason, logged with a rate limit.
    refusals: crate::hep_refusals::RefusalLog,
}

impl Shared {
    /// Hands a plain HEP message to the engine without waiting (lost and counted when it cannot be taken).
    fn forward(&self, m: MirroredSip) {
        if !(self.sink)(m) {
            self.stats.dropped.fetch_add(1, Relaxed);
        }
    }

    /// Hands a filter's message to the engine: `Some(true)` taken (acknowledge it), `Some(false)` refused (NACK
    /// it), `None` a duplicate of a message taken before (acknowledge it again, do not forward it).
    fn offer(&self, subject: &Arc<str>, m: MirroredSip) -> Option<bool> {
        let Some(id) = m.id else {
            if !(self.sink)(m) {
                self.stats.dropped.fetch_add(1, Relaxed);
            }
            return Some(true);
        };
        if self.remember(subject, id) {
            self.stats.duplicates.fetch_add(1, Relaxed);
            return None;
        }
        if (self.sink)(m) {
            return Some(true);
        }
        self.forget(subject, id);
        self.stats.refused.fetch_add(1, Relaxed);
        Some(false)
    }

    /// Records `id` as taken; `true` when it already was.
    fn remember(&self, subject: &Arc<str>, id: u64) -> bool {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        seen.entry(subject.clone())
            .or_default()
            .check_insert(id, self.remembered_ids)
    }

    /// Forgets `id` (it was refused: its resend is new).
    fn forget(&self, subject: &Arc<str>, id: u64) {
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = seen.get_mut(subject) {
            s.set.remove(&id);
        }
    }

    /// Produces the reply for `payload` before `deadline` (fail open otherwise); returns the rewritten bytes or
    /// the reason for "unchanged".
    fn answer(&self, payload: &[u8], within_ms: u32) -> Result<Vec<u8>, UnchangedReason> {
        let start = Instant::now();
        let deadline = Duration::from_millis(u64::from(within_ms));
        // Waiting for the lock (another connection's rewrite) is allowed half the deadline at most: a stuck
        // rewriter elsewhere makes this connection fail open instead of waiting with it.
        let give_up = start + deadline / 2;
        let Some(rewriter) = &self.rewriter else {
            return Err(UnchangedReason::FailOpen);
        };
        let mut guard = loop {
            match rewriter.try_lock() {
                Ok(g) => break g,
                Err(TryLockError::Poisoned(p)) => {
                    rewriter.clear_poison();
                    break p.into_inner();
                }
                Err(TryLockError::WouldBlock) => {
                    if Instant::now() >= give_up {
                        return Err(UnchangedReason::FailOpen);
                    }
                    std::thread::yield_now();
                }
            }
        };
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| guard.rewrite_sip(payload)));
        drop(guard);
        let verdict = match result {
            Err(_) => {
                tracing::error!("the rewriter panicked; answering unchanged (fail open)");
                Err(UnchangedReason::FailOpen)
            }
            Ok(Err(RewriteError::NotSip(_))) => Err(UnchangedReason::NotSip),
            Ok(Ok(account)) => match account.output {
                Some(bytes) => Ok(bytes),
                None => Err(match account.unchanged {
                    Some(Unchanged::NoSdp) => UnchangedReason::NoSdp,
                    Some(Unchanged::NotRecorded) => UnchangedReason::NotRecorded,
                    Some(Unchanged::Emergency(_)) => UnchangedReason::Emergency,
                    Some(Unchanged::NothingApplied) | None => UnchangedReason::NothingApplied,
                }),
            },
        };
        if start.elapsed() > deadline {
            // the filter has already forwarded the original: say so rather than a late rewrite
            return Err(UnchangedReason::FailOpen);
        }
        verdict
    }
}

/// Makes a queue for the engine with the configured capacity: its sink (for [`MirrorServer::bind`] and
/// [`HepListeners::bind`]) and its receiver.
pub fn channel(config: &MirrorConfig) -> (SipSink, mpsc::Receiver<MirroredSip>) {
    let (tx, rx) = mpsc::channel(config.queue.max(1));
    (channel_sink(tx), rx)
}

/// The TLS configuration new mirror connections are accepted with; replaced by [`TlsReload::reload`]
/// (SIGHUP) while open connections keep the one they started with.
#[derive(Clone)]
pub struct TlsReload(Arc<std::sync::RwLock<Arc<rustls::ServerConfig>>>);

impl std::fmt::Debug for TlsReload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TlsReload")
    }
}

impl TlsReload {
    /// Loads `cert`, `key`, `client_ca` and `allowed_subjects` of `config` again; on success new connections
    /// use them, on error (named file, never its content) the running configuration stays.
    pub fn reload(&self, config: &MirrorConfig) -> Result<(), MirrorError> {
        let fresh = load_server_config(config)?;
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = fresh;
        Ok(())
    }

    fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(self.0.read().unwrap_or_else(|e| e.into_inner()).clone())
    }
}

/// The server TLS configuration of `[mirror]`: certificate chain, key, client CA and allowed subjects.
fn load_server_config(config: &MirrorConfig) -> Result<Arc<rustls::ServerConfig>, MirrorError> {
    for (name, path) in [
        ("cert", &config.cert),
        ("key", &config.key),
        ("client_ca", &config.client_ca),
    ] {
        if path.as_os_str().is_empty() {
            return Err(MirrorError::Config(format!(
                "[mirror] {name} is required when the mirror server is enabled"
            )));
        }
    }
    let certs = tls::load_certs(&config.cert)?;
    let key = tls::load_key(&config.key)?;
    let ca = tls::load_certs(&config.client_ca)?;
    tls::server_config(certs, key, &ca, &config.allowed_subjects)
}

/// The mTLS mirror server, bound and ready to [`MirrorServer::run`].
pub struct MirrorServer {
    listener: TcpListener,
    tls: TlsReload,
    limits: Limits,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for MirrorServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MirrorServer")
            .field("local_addr", &self.listener.local_addr().ok())
            .finish_non_exhaustive()
    }
}

impl MirrorServer {
    /// Loads the certificates and key of `config`, binds `config.listen` (must be called inside a tokio
    /// runtime). Every new message goes to `sink`; the counters go to `stats`.
    pub async fn bind(
        config: &MirrorConfig,
        rewriter: SharedRewriter,
        sink: SipSink,
        stats: Arc<MirrorStats>,
    ) -> Result<MirrorServer, MirrorError> {
        let tls = load_server_config(config)?;
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|e| MirrorError::Io(format!("mirror listen {}", config.listen), e))?;
        Ok(MirrorServer {
            listener,
            tls: TlsReload(Arc::new(std::sync::RwLock::new(tls))),
            limits: Limits::new(config),
            shared: Arc::new(Shared {
                stats,
                rewriter: Some(rewriter),
                sink,
                seen: Mutex::new(HashMap::new()),
                remembered_ids: config.remembered_ids,
                refusals: Default::default(),
            }),
        })
    }

    /// The handle that replaces the TLS configuration of new connections.
    pub fn tls_reload(&self) -> TlsReload {
        self.tls.clone()
    }

    /// The bound address (useful with port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    /// Accepts and serves connections until the future is dropped (which closes every connection).
    pub async fn run(self) {
        let mut tasks = JoinSet::new();
        loop {
            tokio::select! {
                accepted = self.listener.accept() => {
                    let (tcp, peer) = match accepted {
                        Ok(a) => a,
                        Err(e) => {
                            // out of file descriptors: back off (the caps keep this rare) instead of spinning
                            tracing::warn!("mirror accept: {e}");
                            tokio::time::sleep(rec_netguard::accept_backoff(&e)).await;
                            continue;
                        }
                    };
                    let Some((tcp, mut admission)) = self.limits.admit(tcp, peer, &self.shared.stats) else {
                        continue;
                    };
                    let acceptor = self.tls.acceptor();
                    let shared = self.shared.clone();
                    let limits = self.limits.clone();
                    tasks.spawn(async move {
                        let expiry = tcp.expiry();
                        let Some(tls) = limits
                            .handshake(&acceptor, tcp, &mut admission, peer, &shared.stats)
                            .await
                        else {
                            return;
                        };
                        let subject: Arc<str> = tls
                            .get_ref()
                            .1
                            .peer_certificates()
                            .and_then(|c| c.first())
                            .and_then(|c| tls::subject_of(c))
                            .map_or_else(|| Arc::from("?"), |(s, _)| Arc::from(s));
                        shared.stats.connections.fetch_add(1, Relaxed);
                        tracing::info!(%peer, %subject, "mirror filter connected");
                        serve(tls, peer, subject, &shared).await;
                        Limits::count_expiry(&expiry, peer, &shared.stats);
                        drop(admission);
                    });
                }
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            }
        }
    }
}

/// Serves one authenticated filter connection until it closes or sends garbage.
async fn serve(
    mut stream: tokio_rustls::server::TlsStream<GuardedTcp>,
    peer: SocketAddr,
    subject: Arc<str>,
    shared: &Shared,
) {
    let mut reader = FrameReader::new();
    let mut out = Vec::with_capacity(8192);
    let mut acks: Vec<u64> = Vec::new();
    let mut nacks: Vec<u64> = Vec::new();
    let mut batch: Vec<MirroredSip> = Vec::new();
    let origin = Origin::Filter {
        subject: subject.clone(),
    };
    loop {
        let n = match stream.read(reader.buffer()).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        reader.filled(n);
        let mut bad = false;
        loop {
            let frame = match reader.next_frame() {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(%peer, %subject, "closing mirror connection: {e}");
                    shared.stats.bad_streams.fetch_add(1, Relaxed);
                    bad = true;
                    break;
                }
            };
            let Some(m) = frame.message else {
                continue; // keep-alive, or something only a recorder sends
            };
            let received_at = SystemTime::now();
            let t0 = Instant::now();
            shared.stats.frames.fetch_add(1, Relaxed);
            let mut rewritten = false;
            if let (Some(id), Some(within)) = (m.id, m.reply_within_ms) {
                rewritten = answer_into(shared, id, m.payload, within, &mut out);
                shared.stats.observe_latency(t0.elapsed());
            }
            batch.push(MirroredSip {
                origin: origin.clone(),
                peer,
                id: m.id,
                received_at,
                at_us: m.at_us,
                src: m.src,
                dst: m.dst,
                ip_proto: m.ip_proto,
                bytes: m.payload.to_vec(),
                rewritten,
            });
        }
        // the replies go out first: they never wait for the engine's queue
        if !out.is_empty() {
            if stream.write_all(&out).await.is_err() || stream.flush().await.is_err() {
                break; // what was not offered is not acknowledged: the filter sends it again
            }
            out.clear();
        }
        for m in batch.drain(..) {
            let id = m.id;
            match (shared.offer(&subject, m), id) {
                (Some(true) | None, Some(id)) => acks.push(id),
                (Some(false), Some(id)) => nacks.push(id),
                (_, None) => {}
            }
        }
        let _ = protocol::encode_ack(&acks, &mut out);
        let _ = protocol::encode_nack(&nacks, &mut out);
        acks.clear();
        nacks.clear();
        if !out.is_empty() {
            if stream.write_all(&out).await.is_err() || stream.flush().await.is_err() {
                break;
            }
            out.clear();
        }
        if bad {
            break;
        }
    }
    let _ = stream.shutdown().await;
    tracing::info!(%peer, %subject, "mirror filter disconnected");
}

/// Appends the reply to message `id` (rewritten, or unchanged with its reason) to `out`, counting it; `true`
/// when the reply carries a rewritten message. The reply acknowledges nothing: the acknowledgement follows once
/// the message has been taken.
fn answer_into(shared: &Shared, id: u64, payload: &[u8], within: u32, out: &mut Vec<u8>) -> bool {
    let answer = shared.answer(payload, within);
    let verdict = match &answer {
        Ok(bytes) => Verdict::Rewritten(bytes),
        Err(reason) => Verdict::Unchanged(*reason),
    };
    let mut rewritten = false;
    if protocol::encode_reply(&Reply { id, verdict }, &[], out).is_err() {
        // the rewritten message does not fit in a HEP frame: forward the original
        let _ = protocol::encode_reply(
            &Reply {
                id,
                verdict: Verdict::Unchanged(UnchangedReason::FailOpen),
            },
            &[],
            out,
        );
        shared.stats.fail_open.fetch_add(1, Relaxed);
        shared.stats.unchanged.fetch_add(1, Relaxed);
    } else {
        match answer {
            Ok(_) => {
                rewritten = true;
                shared.stats.rewritten.fetch_add(1, Relaxed);
            }
            Err(reason) => {
                if reason == UnchangedReason::FailOpen {
                    shared.stats.fail_open.fetch_add(1, Relaxed);
                }
                shared.stats.unchanged.fetch_add(1, Relaxed);
            }
        }
    }
    shared.stats.replies.fetch_add(1, Relaxed);
    rewritten
}

fn source_allowed(sources: &[IpAddr], ip: IpAddr) -> bool {
    let ip = ip.to_canonical();
    sources.iter().any(|s| s.to_canonical() == ip)
}

/// The plain HEPv3 listeners (UDP and TCP on the same port): mirror only, no replies, from listed sources only.
pub struct HepListeners {
    udp: UdpSocket,
    tcp: TcpListener,
    sources: Arc<[IpAddr]>,
    limits: Limits,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for HepListeners {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HepListeners")
            .field("udp", &self.udp.local_addr().ok())
            .field("tcp", &self.tcp.local_addr().ok())
            .finish_non_exhaustive()
    }
}

impl HepListeners {
    /// Binds `config.hep_listen` for UDP and TCP (with port 0 the TCP port is chosen first and reused for UDP).
    pub async fn bind(
        config: &MirrorConfig,
        sink: SipSink,
        stats: Arc<MirrorStats>,
    ) -> Result<HepListeners, MirrorError> {
        let tcp = TcpListener::bind(config.hep_listen)
            .await
            .map_err(|e| MirrorError::Io(format!("HEP listen tcp {}", config.hep_listen), e))?;
        let addr = tcp
            .local_addr()
            .map_err(|e| MirrorError::Io("HEP".into(), e))?;
        let udp = UdpSocket::bind(addr)
            .await
            .map_err(|e| MirrorError::Io(format!("HEP listen udp {addr}"), e))?;
        Ok(HepListeners {
            udp,
            tcp,
            sources: config.hep_sources.clone().into(),
            limits: Limits::new(config),
            shared: Arc::new(Shared {
                stats,
                rewriter: None,
                sink,
                seen: Mutex::new(HashMap::new()),
                remembered_ids: 1,
                refusals: Default::default(),
            }),
        })
    }

    /// The UDP and TCP addresses.
    pub fn local_addrs(&self) -> (SocketAddr, SocketAddr) {
        let none = SocketAddr::from(([0, 0, 0, 0], 0));
        (
            self.udp.local_addr().unwrap_or(none),
            self.tcp.local_addr().unwrap_or(none),
        )
    }

    /// Receives until the future is dropped.
    pub async fn run(self) {
        let mut tasks = JoinSet::new();
        let mut buf = vec![0u8; 65_536];
        loop {
            tokio::select! {
                r = self.udp.recv_from(&mut buf) => {
                    let Ok((n, peer)) = r else { continue };
                    if !source_allowed(&self.sources, peer.ip()) {
                        self.shared.refusals.refuse(&self.shared.stats, Refusal::SourceNotAllowed, peer, "datagram");
                        continue;
                    }
                    hep_packet(&buf[..n], peer, Origin::HepUdp, &self.shared);
                }
                accepted = self.tcp.accept() => {
                    let (tcp, peer) = match accepted {
                        Ok(a) => a,
                        Err(e) => {
                            tracing::warn!("HEP accept: {e}");
                            tokio::time::sleep(rec_netguard::accept_backoff(&e)).await;
                            continue;
                        }
                    };
                    if !source_allowed(&self.sources, peer.ip()) {
                        self.shared.refusals.refuse(&self.shared.stats, Refusal::SourceNotAllowed, peer, "connection");
                        continue;
                    }
                    let Some((tcp, mut admission)) = self.limits.admit(tcp, peer, &self.shared.stats) else {
                        continue;
                    };
                    // no handshake on plain HEP: a listed source is as authenticated as it gets
                    admission.authenticated();
                    let shared = self.shared.clone();
                    tasks.spawn(async move {
                        let expiry = tcp.expiry();
                        hep_stream(tcp, peer, &shared).await;
                        Limits::count_expiry(&expiry, peer, &shared.stats);
                        drop(admission);
                    });
                }
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            }
        }
    }
}

/// Handles one plain HEP packet (any version): forwarded, or refused and counted by reason.
fn hep_packet(raw: &[u8], peer: SocketAddr, origin: Origin, shared: &Shared) {
    let what = if origin == Origin::HepUdp {
        "datagram"
    } else {
        "frame"
    };
    match crate::hep_refusals::message(raw, peer, origin, SystemTime::now()) {
        Ok(m) => {
            shared.stats.frames.fetch_add(1, Relaxed);
            shared.forward(m);
        }
        Err(reason) => shared.refusals.refuse(&shared.stats, reason, peer, what),
    }
}

async fn hep_stream(mut tcp: impl AsyncRead + Unpin, peer: SocketAddr, shared: &Shared) {
    let mut reader = FrameReader::new();
    loop {
        let n = match tcp.read(reader.buffer()).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        reader.filled(n);
        loop {
            match reader.next_raw() {
                Ok(Some(raw)) => hep_packet(raw, peer, Origin::HepTcp, shared),
                Ok(None) => break,
                Err(e) => {
                    // HEP over TCP must be HEPv3 (v1/v2 have no total length to frame a stream by)
                    let reason = match e {
                        protocol::FrameError::Hep(rec_packet::hep::HepError::BadMagic) => {
                            Refusal::NotHep
                        }
                        _ => Refusal::Truncated,
                    };
                    tracing::debug!(%peer, "closing plain HEP connection: {e}");
                    shared
                        .refusals
                        .refuse(&shared.stats, reason, peer, "stream");
                    shared.stats.bad_streams.fetch_add(1, Relaxed);
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembered_ids_are_bounded_oldest_forgotten_first() {
        let mut seen = SeenIds::default();
        for id in 1..=4 {
            assert!(!seen.check_insert(id, 3));
        }
        assert_eq!(seen.set.len(), 3);
        assert!(seen.check_insert(4, 3));
        assert!(seen.check_insert(2, 3));
        // 1 was forgotten: it counts as new again (and pushes 2 out)
        assert!(!seen.check_insert(1, 3));
        assert!(!seen.check_insert(2, 3));
    }
}
