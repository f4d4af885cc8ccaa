//! The connection lifecycle limits of the mirror server and the plain HEP TCP listener (`[mirror]`
//! `max_connections`, `max_connections_per_source`, `handshake_timeout_ms`, `idle_timeout_s`,
//! `write_timeout_ms`): admission at accept, the TLS handshake under its timeout and eviction, and the
//! counters of why connections were closed. The per-message path (`server::serve`) only sees a
//! [`GuardedStream`] and never buffers more than one read's worth of replies: a filter that stops reading its
//! replies stops being read, and is closed after `write_timeout_ms`.

use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;

use rec_netguard::{Admission, ConnCaps, Deadlines, Expired, Expiry, GuardedStream, Refusal};
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use crate::{MirrorConfig, MirrorStats};

/// A mirror-side connection: TCP under the deadlines.
pub type GuardedTcp = GuardedStream<TcpStream>;

/// The limits of one listener.
#[derive(Debug, Clone)]
pub(crate) struct Limits {
    caps: Arc<ConnCaps>,
    deadlines: Deadlines,
    handshake_timeout: Duration,
}

fn nonzero(d: Duration) -> Option<Duration> {
    (!d.is_zero()).then_some(d)
}

impl Limits {
    /// The limits `config` asks for (one set per listener).
    pub(crate) fn new(config: &MirrorConfig) -> Limits {
        Limits {
            caps: ConnCaps::new(config.max_connections, config.max_connections_per_source),
            deadlines: Deadlines {
                idle: nonzero(Duration::from_secs(config.idle_timeout_s)),
                write_stall: nonzero(Duration::from_millis(config.write_timeout_ms)),
            },
            handshake_timeout: Duration::from_millis(config.handshake_timeout_ms.max(1)),
        }
    }

    /// Admits an accepted connection, or counts and drops (closes) it.
    pub(crate) fn admit(
        &self,
        tcp: TcpStream,
        peer: SocketAddr,
        stats: &MirrorStats,
    ) -> Option<(GuardedTcp, Admission)> {
        match self.caps.admit(peer.ip()) {
            Ok(a) => {
                let _ = tcp.set_nodelay(true);
                Some((GuardedStream::new(tcp, self.deadlines), a))
            }
            Err(why) => {
                stats.refused_limit.fetch_add(1, Relaxed);
                match why {
                    Refusal::PerSource => tracing::debug!(%peer, "mirror: {why}; closing"),
                    Refusal::Total => tracing::warn!(%peer, "mirror: {why}; closing"),
                }
                None
            }
        }
    }

    /// The TLS handshake within `handshake_timeout_ms`, given up if a newer connection evicts this one; the
    /// admission is marked authenticated on success.
    pub(crate) async fn handshake(
        &self,
        acceptor: &TlsAcceptor,
        tcp: GuardedTcp,
        admission: &mut Admission,
        peer: SocketAddr,
        stats: &MirrorStats,
    ) -> Option<TlsStream<GuardedTcp>> {
        let outcome = tokio::select! {
            r = tokio::time::timeout(self.handshake_timeout, acceptor.accept(tcp)) => r,
            () = admission.evicted() => {
                tracing::debug!(%peer, "mirror handshake dropped for a newer connection (connection limit)");
                stats.evicted.fetch_add(1, Relaxed);
                stats.refused_handshakes.fetch_add(1, Relaxed);
                return None;
            }
        };
        match outcome {
            Ok(Ok(tls)) if admission.authenticated() => Some(tls),
            Ok(Ok(_)) => {
                stats.evicted.fetch_add(1, Relaxed);
                stats.refused_handshakes.fetch_add(1, Relaxed);
                None
            }
            Ok(Err(e)) => {
                tracing::warn!(%peer, "mirror handshake refused: {e}");
                stats.refused_handshakes.fetch_add(1, Relaxed);
                None
            }
            Err(_) => {
                tracing::warn!(%peer, "mirror handshake timed out");
                stats.refused_handshakes.fetch_add(1, Relaxed);
                None
            }
        }
    }

    /// Counts why a connection under these deadlines ended, if a deadline ended it.
    pub(crate) fn count_expiry(expiry: &Expiry, peer: SocketAddr, stats: &MirrorStats) {
        match expiry.get() {
            Some(Expired::Idle) => {
                tracing::info!(%peer, "mirror connection idle for too long; closed");
                stats.closed_idle.fetch_add(1, Relaxed);
            }
            Some(Expired::WriteStalled) => {
                tracing::warn!(%peer, "mirror peer does not read its replies; closed");
                stats.closed_write_stalled.fetch_add(1, Relaxed);
            }
            None => {}
        }
    }
}
