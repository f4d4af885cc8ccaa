//! The mirror: how Front End filters send SIP to the recorder and get rewrites back.
//!
//! - [`protocol`]: the frames (HEPv3 with the recorder's vendor chunks), pure encode/decode and a stream reader.
//! - [`server`]: the mTLS server ([`MirrorServer`]) answering rewrites at once and queueing every message for the
//!   engine, and the plain HEP UDP/TCP listeners ([`HepListeners`]) for capture agents.
//! - [`hep_refusals`]: plain HEP packets of any version into messages; refused ones counted by reason and logged
//!   with a rate limit.
//! - [`homer`]: the HEPv3 output of received SIP and per-call reports to a HOMER collector.
//! - [`limits`]: connection caps and deadlines of both listeners (accept to close).
//! - [`service`]: both on their own runtime for a thread-based daemon ([`MirrorService`]).
//! - [`client`]: the reference filter client ([`MirrorClient`]) behind `recorder mirror`.
//!
//! The wire format is described for filter implementers in `docs/mirror-protocol.md`.

pub mod client;
pub mod config;
pub mod hep_refusals;
pub mod homer;
pub mod limits;
pub mod protocol;
pub mod server;
pub mod service;
pub mod stats;
pub mod tls;

pub use client::{ClientEvent, ClientOptions, MirrorClient, OutMessage};
pub use config::MirrorConfig;
pub use server::{
    channel, channel_sink, HepListeners, MirrorServer, MirroredSip, Origin, RewriteSip,
    SharedRewriter, SipSink, TlsReload,
};
pub use service::MirrorService;
pub use stats::{MirrorStats, Refusal, StatsSnapshot, LATENCY_BUCKETS_US};

/// Why the mirror could not start or a client could not connect.
#[derive(Debug, thiserror::Error)]
pub enum MirrorError {
    /// A socket operation failed.
    #[error("{0}: {1}")]
    Io(String, #[source] std::io::Error),
    /// A certificate or key file could not be used.
    #[error("{0}")]
    Pem(String),
    /// TLS set-up or handshake failure.
    #[error("TLS: {0}")]
    Tls(#[source] rustls::Error),
    /// Inconsistent configuration.
    #[error("{0}")]
    Config(String),
    /// The peer closed the connection or sent bytes that are not mirror frames.
    #[error("mirror connection: {0}")]
    Protocol(String),
}

/// Wraps a [`rec_rewrite::Rewriter`] for [`MirrorServer::bind`].
pub fn shared_rewriter(rewriter: rec_rewrite::Rewriter) -> SharedRewriter {
    std::sync::Arc::new(std::sync::Mutex::new(Box::new(rewriter)))
}
