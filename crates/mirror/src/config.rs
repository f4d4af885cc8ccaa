//! `[mirror]` of recorder.toml: the TLS mirror server and the plain HEP listeners.

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use serde::Deserialize;

/// `[mirror]` of recorder.toml (the bundled file documents each option).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MirrorConfig {
    /// Run the mTLS mirror server.
    pub enabled: bool,
    /// Address and port the mirror server listens on.
    pub listen: SocketAddr,
    /// The server's certificate chain (PEM, leaf first); required when enabled.
    pub cert: PathBuf,
    /// The server's private key (PEM: PKCS#8, PKCS#1 or SEC1); required when enabled.
    pub key: PathBuf,
    /// The CA certificate(s) (PEM) that client (filter) certificates must chain to; required when enabled.
    pub client_ca: PathBuf,
    /// When not empty, only client certificates whose subject common name, or whole subject
    /// (`CN=fe01, O=Contoso` in certificate order), is listed are accepted.
    pub allowed_subjects: Vec<String>,
    /// Mirrored messages that may wait for the engine; beyond, filter messages are refused (NACK, resent by the
    /// filter) and plain HEP messages dropped (counted); replies never wait.
    pub queue: usize,
    /// Message ids remembered per client certificate subject, to ignore duplicates after a resend.
    pub remembered_ids: usize,
    /// A TLS handshake not finished within this time is dropped, milliseconds.
    pub handshake_timeout_ms: u64,
    /// Connections held at once by the mirror server (and, separately, by the plain HEP TCP listener),
    /// handshaking ones included; when full, the oldest connection still in its handshake is dropped for a new
    /// one, and a new one is refused only when every slot holds an authenticated filter.
    pub max_connections: usize,
    /// Connections held at once from one source address (beyond: closed right after accept).
    pub max_connections_per_source: usize,
    /// An authenticated connection (or a plain HEP TCP one) on which nothing moves for this long is closed,
    /// seconds (0: never).
    pub idle_timeout_s: u64,
    /// A reply write that makes no progress for this long (the filter does not read) closes the connection,
    /// milliseconds (0: never).
    pub write_timeout_ms: u64,
    /// Run the plain HEPv3 listeners (UDP and TCP, mirror only, no replies).
    pub hep_enabled: bool,
    /// Address and port of the plain HEPv3 listeners (the same port for UDP and TCP).
    pub hep_listen: SocketAddr,
    /// Source addresses accepted by the plain HEP listeners (HEP has no authentication); empty: none.
    pub hep_sources: Vec<IpAddr>,
}

impl Default for MirrorConfig {
    fn default() -> Self {
        MirrorConfig {
            enabled: false,
            listen: SocketAddr::from(([0, 0, 0, 0], 5070)),
            cert: PathBuf::new(),
            key: PathBuf::new(),
            client_ca: PathBuf::new(),
            allowed_subjects: Vec::new(),
            queue: 8192,
            remembered_ids: 65_536,
            handshake_timeout_ms: 5_000,
            max_connections: 1024,
            max_connections_per_source: 64,
            idle_timeout_s: 900,
            write_timeout_ms: 10_000,
            hep_enabled: false,
            hep_listen: SocketAddr::from(([0, 0, 0, 0], 9060)),
            hep_sources: Vec::new(),
        }
    }
}
