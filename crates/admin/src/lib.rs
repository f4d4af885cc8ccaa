//! The recorder's admin HTTP API over TLS: search recordings, read one call's metadata, download its audio
//! (with `Range`), Prometheus metrics and a health check; bearer tokens configured as SHA-256 hashes; every
//! request written to an audit log. An IO shell crate (tokio, axum/hyper, rustls with the *ring* provider).
//!
//! Endpoints, parameters and examples: `docs/admin-api.md`; metric names: `docs/metrics.md`.
//!
//! The daemon builds an [`AdminConfig`] (from the `[admin]` section of recorder.toml via
//! [`AdminSettings::to_config`]), shares one [`Metrics`] between its parts and this server, and runs
//! [`serve`] on its tokio runtime until its shutdown future completes:
//!
//! ```no_run
//! # async fn daemon(cfg: rec_admin::AdminConfig) -> Result<(), rec_admin::AdminError> {
//! let metrics = std::sync::Arc::new(rec_admin::Metrics::new());
//! metrics.calls_active.set(0);
//! let shutdown = std::future::pending::<()>(); // the daemon's shutdown signal
//! rec_admin::serve(cfg, metrics.clone(), shutdown).await
//! # }
//! ```
//!
//! Routes: `GET /api/recordings`, `GET /api/recordings/{id}`, `GET /api/recordings/{id}/audio` and (unless
//! [`AdminConfig::metrics_public`]) `GET /metrics` need `Authorization: Bearer <token>`; `GET /healthz`
//! does not. Tokens, keys and certificates never appear in logs or errors; the audit log and the access
//! log (tracing target `rec_admin::access`, level info) carry the token's configured *name*.

#![forbid(unsafe_code)]

pub mod audit;
pub mod auth;
pub mod limits;
pub mod metrics;
pub mod peaks;
pub mod range;
pub mod sealed;
pub mod ui;
pub mod view;

mod api;
mod integrity;
mod sealed_api;
mod tls;

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use serde::Deserialize;
use tokio::net::TcpListener;
use tower::ServiceExt;

pub use api::{DEFAULT_LIMIT, MAX_CALL_ID_LEN, MAX_LIMIT, MAX_NUMBER_LEN, RECORDING_STATUS_HEADER};
pub use audit::Rotation;
pub use auth::{token_sha256_hex, Role, TokenEntry};
pub use limits::AdminLimits;
pub use metrics::{
    DropReason, EvictClass, HepRefusal, LossReason, Metrics, MirrorEvent, Queue, SignalingRefusal,
};
pub use ui::session::SessionLimits;

/// On shutdown, open connections get this long to finish their responses.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

/// What the admin server needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminConfig {
    /// Address and port to listen on (TLS).
    pub listen: SocketAddr,
    /// PEM file with the server certificate chain (leaf first).
    pub cert: PathBuf,
    /// PEM file with the server's private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// The accepted bearer tokens, by name and SHA-256.
    pub tokens: Vec<TokenEntry>,
    /// The audit log file (JSON lines, appended; created with mode 0600).
    pub audit_log: PathBuf,
    /// The catalog file (opened read-only per request pool; may not exist yet: requests then get 503).
    pub catalog: PathBuf,
    /// The directory recordings are in: audio outside it (after resolving symlinks) is never served.
    pub recordings_root: PathBuf,
    /// `GET /metrics` without a token (for a Prometheus that cannot send one). Default: a token is needed.
    pub metrics_public: bool,
    /// Keys of encrypted recordings (docs/encryption.md): audio is decrypted chunk by chunk when served.
    pub decryption_keys: sealed::DecryptionKeys,
    /// Connection caps, timeouts and size limits ([`AdminLimits::default`] as in recorder.toml).
    pub limits: AdminLimits,
    /// Rotation of the audit log.
    pub audit_rotation: Rotation,
    /// How long web UI sessions last.
    pub sessions: SessionLimits,
}

/// The `[admin]` section of recorder.toml (every key optional; see [`AdminSettings::default`]).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminSettings {
    /// Run the admin API (`false` by default: it needs a certificate and tokens).
    pub enabled: bool,
    /// `HOST:PORT` to listen on.
    pub listen: SocketAddr,
    /// Certificate chain PEM file.
    pub cert: String,
    /// Private key PEM file.
    pub key: String,
    /// Accepted tokens: `[{ name = "ops", sha256 = "<64 hex>" }]`.
    pub tokens: Vec<TokenEntry>,
    /// Audit log file; empty: `<recordings>/audit.log`.
    pub audit_log: String,
    /// Serve `/metrics` without a token.
    pub metrics_public: bool,
    /// Connections held at once (see docs/hardening.md, "Limits").
    pub max_connections: usize,
    /// Connections held at once from one source address.
    pub max_connections_per_source: usize,
    /// Longest TLS handshake, milliseconds.
    pub handshake_timeout_ms: u64,
    /// Longest time to receive a request head (HTTP/1), milliseconds.
    pub header_timeout_ms: u64,
    /// A connection on which nothing moves for this long is closed, seconds.
    pub idle_timeout_s: u64,
    /// A download the client stops reading for this long is closed, seconds.
    pub write_timeout_s: u64,
    /// Largest request body, KiB.
    pub max_body_kb: usize,
    /// Longest time to receive a request body, milliseconds.
    pub body_timeout_ms: u64,
    /// A new audit log file is started past this size (MiB) and at every UTC day.
    pub audit_max_mb: u64,
    /// Rotated audit log files kept (`audit.log.1` … `audit.log.N`).
    pub audit_keep: u32,
    /// A web UI session unused this many minutes ends.
    pub session_idle_minutes: u64,
    /// A web UI session ends this many hours after sign-in.
    pub session_max_hours: u64,
}

impl Default for AdminSettings {
    fn default() -> Self {
        AdminSettings {
            enabled: false,
            listen: SocketAddr::from(([127, 0, 0, 1], 8443)),
            cert: String::new(),
            key: String::new(),
            tokens: Vec::new(),
            audit_log: String::new(),
            metrics_public: false,
            max_connections: 256,
            max_connections_per_source: 32,
            handshake_timeout_ms: 10_000,
            header_timeout_ms: 10_000,
            idle_timeout_s: 120,
            write_timeout_s: 30,
            max_body_kb: 64,
            body_timeout_ms: 10_000,
            audit_max_mb: 64,
            audit_keep: 10,
            session_idle_minutes: 30,
            session_max_hours: 12,
        }
    }
}

impl AdminSettings {
    /// The server configuration for recordings (and `catalog.sqlite`) under `recordings_out` (the
    /// `[recording] out` directory). Errors name the missing or bad key.
    pub fn to_config(&self, recordings_out: &Path) -> Result<AdminConfig, String> {
        if self.cert.is_empty() || self.key.is_empty() {
            return Err(
                "[admin] cert and key must name the PEM files of the API's TLS certificate".into(),
            );
        }
        auth::Tokens::new(&self.tokens).map_err(|e| format!("[admin] tokens: {e}"))?;
        if self.session_idle_minutes == 0 || self.session_max_hours == 0 {
            return Err(
                "[admin] session_idle_minutes and session_max_hours must be at least 1".into(),
            );
        }
        Ok(AdminConfig {
            listen: self.listen,
            cert: PathBuf::from(&self.cert),
            key: PathBuf::from(&self.key),
            tokens: self.tokens.clone(),
            audit_log: if self.audit_log.is_empty() {
                recordings_out.join("audit.log")
            } else {
                PathBuf::from(&self.audit_log)
            },
            catalog: recordings_out.join("catalog.sqlite"),
            recordings_root: recordings_out.to_path_buf(),
            metrics_public: self.metrics_public,
            decryption_keys: sealed::DecryptionKeys::default(),
            limits: AdminLimits {
                max_connections: self.max_connections.max(1),
                max_connections_per_source: self.max_connections_per_source.max(1),
                handshake_timeout: Duration::from_millis(self.handshake_timeout_ms.max(1)),
                header_timeout: Duration::from_millis(self.header_timeout_ms.max(1)),
                idle_timeout: Duration::from_secs(self.idle_timeout_s.max(1)),
                write_timeout: Duration::from_secs(self.write_timeout_s.max(1)),
                max_body_bytes: self.max_body_kb.saturating_mul(1024),
                body_timeout: Duration::from_millis(self.body_timeout_ms.max(1)),
            },
            audit_rotation: Rotation {
                max_bytes: self.audit_max_mb.max(1).saturating_mul(1024 * 1024),
                keep: self.audit_keep.max(1),
            },
            sessions: SessionLimits {
                idle: Duration::from_secs(self.session_idle_minutes.saturating_mul(60)),
                absolute: Duration::from_secs(self.session_max_hours.saturating_mul(3600)),
            },
        })
    }
}

/// Why the admin server could not start.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// A configuration value is unusable.
    #[error("admin API configuration: {0}")]
    Config(String),
    /// The certificate or key file could not be read or used (the message never holds key material).
    #[error("admin API TLS: {0}")]
    Tls(String),
    /// The audit log could not be opened.
    #[error("admin API audit log {path}: {source}")]
    Audit {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The listening socket could not be bound.
    #[error("admin API cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The error.
        source: std::io::Error,
    },
}

/// A bound admin server, not yet serving (so the caller can learn the port before [`run`](Self::run)).
pub struct AdminServer {
    listener: TcpListener,
    acceptor: Arc<std::sync::RwLock<tokio_rustls::TlsAcceptor>>,
    app: axum::Router,
    local_addr: SocketAddr,
    state: Arc<api::AppState>,
}

/// Replaces the admin API's certificate and tokens while it runs (SIGHUP): new connections get the new
/// certificate, every request after the reload is checked against the new tokens.
#[derive(Clone)]
pub struct AdminReload {
    acceptor: Arc<std::sync::RwLock<tokio_rustls::TlsAcceptor>>,
    state: Arc<api::AppState>,
}

impl std::fmt::Debug for AdminReload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminReload")
    }
}

impl AdminReload {
    /// Loads `cert`, `key` and `tokens` of `cfg`; all or nothing: on an error (which names the file or the
    /// token, never a key or hash) the running certificate and tokens stay.
    pub fn reload(&self, cfg: &AdminConfig) -> Result<(), AdminError> {
        let tokens = auth::Tokens::new(&cfg.tokens).map_err(AdminError::Config)?;
        let acceptor = tls::acceptor(&cfg.cert, &cfg.key).map_err(AdminError::Tls)?;
        *self.acceptor.write().unwrap_or_else(|e| e.into_inner()) = acceptor;
        *self.state.tokens.write().unwrap_or_else(|e| e.into_inner()) = tokens;
        Ok(())
    }
}

impl std::fmt::Debug for AdminServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminServer")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

impl AdminServer {
    /// Checks the configuration, loads the certificate and key, opens the audit log and binds the socket.
    pub async fn bind(cfg: AdminConfig, metrics: Arc<Metrics>) -> Result<AdminServer, AdminError> {
        let tokens = auth::Tokens::new(&cfg.tokens).map_err(AdminError::Config)?;
        if tokens.is_empty() {
            tracing::warn!(
                "admin API has no tokens configured: every protected request will be refused"
            );
        }
        let acceptor = tls::acceptor(&cfg.cert, &cfg.key).map_err(AdminError::Tls)?;
        let audit = audit::AuditLog::open_rotating(&cfg.audit_log, cfg.audit_rotation).map_err(
            |source| AdminError::Audit {
                path: cfg.audit_log.clone(),
                source,
            },
        )?;
        let recordings_root = std::fs::create_dir_all(&cfg.recordings_root)
            .and_then(|()| std::fs::canonicalize(&cfg.recordings_root))
            .map_err(|e| {
                AdminError::Config(format!(
                    "recordings directory {}: {e}",
                    cfg.recordings_root.display()
                ))
            })?;
        let state = Arc::new(api::AppState {
            catalog_path: cfg.catalog.clone(),
            recordings_root,
            pool: Mutex::new(Vec::new()),
            tokens: std::sync::RwLock::new(tokens),
            audit,
            metrics,
            metrics_public: cfg.metrics_public,
            keys: cfg.decryption_keys.0.clone(),
            limits: Arc::new(cfg.limits),
            sessions: ui::session::Sessions::new(cfg.sessions),
        });
        let listener = TcpListener::bind(cfg.listen)
            .await
            .map_err(|source| AdminError::Bind {
                addr: cfg.listen,
                source,
            })?;
        let local_addr = listener.local_addr().map_err(|source| AdminError::Bind {
            addr: cfg.listen,
            source,
        })?;
        Ok(AdminServer {
            listener,
            acceptor: Arc::new(std::sync::RwLock::new(acceptor)),
            app: api::router(state.clone()),
            local_addr,
            state,
        })
    }

    /// The handle that replaces certificate and tokens while the server runs.
    pub fn reload_handle(&self) -> AdminReload {
        AdminReload {
            acceptor: self.acceptor.clone(),
            state: self.state.clone(),
        }
    }

    /// The address the server listens on (the real port when `listen` asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves until `shutdown` completes, then stops accepting and gives open connections
    /// [`SHUTDOWN_GRACE`] to finish.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send) -> Result<(), AdminError> {
        let AdminServer {
            listener,
            acceptor,
            app,
            local_addr,
            state,
        } = self;
        tracing::info!(addr = %local_addr, "admin API listening (TLS)");
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        let lim = *state.limits;
        let caps = rec_netguard::ConnCaps::new(lim.max_connections, lim.max_connections_per_source);
        let deadlines = rec_netguard::Deadlines {
            idle: Some(lim.idle_timeout),
            write_stall: Some(lim.write_timeout),
        };
        let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(lim.header_timeout)
            .max_buf_size(limits::MAX_HEAD_BYTES);
        builder
            .http2()
            .timer(TokioTimer::new())
            .max_header_list_size(u32::try_from(limits::MAX_HEAD_BYTES).unwrap_or(u32::MAX))
            .max_concurrent_streams(limits::MAX_H2_STREAMS);
        let mut shutdown = std::pin::pin!(shutdown);
        loop {
            let (tcp, remote) = tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // out of file descriptors and the like: wait rather than spin
                        tracing::warn!(error = %e, "admin API accept failed");
                        tokio::time::sleep(rec_netguard::accept_backoff(&e)).await;
                        continue;
                    }
                },
            };
            let mut admission = match caps.admit(remote.ip()) {
                Ok(a) => a,
                Err(why) => {
                    tracing::warn!(%remote, "admin API: {why}; closing");
                    continue;
                }
            };
            let acceptor = acceptor.read().unwrap_or_else(|e| e.into_inner()).clone();
            let app = app.clone();
            let builder = builder.clone();
            let watcher = graceful.watcher();
            let state = state.clone();
            tokio::spawn(async move {
                let tcp = rec_netguard::GuardedStream::new(tcp, deadlines);
                let expiry = tcp.expiry();
                let handshake = tokio::select! {
                    r = tokio::time::timeout(lim.handshake_timeout, acceptor.accept(tcp)) => r,
                    () = admission.evicted() => {
                        tracing::debug!(%remote, "admin API handshake dropped for a newer connection");
                        return;
                    }
                };
                let tls = match handshake {
                    Ok(Ok(tls)) if admission.authenticated() => tls,
                    Ok(Ok(_)) => return,
                    Ok(Err(e)) => {
                        tracing::debug!(%remote, error = %e, "admin API TLS handshake failed");
                        return;
                    }
                    Err(_) => {
                        tracing::debug!(%remote, "admin API TLS handshake timed out");
                        return;
                    }
                };
                let service = hyper::service::service_fn(
                    move |mut req: hyper::Request<hyper::body::Incoming>| {
                        req.extensions_mut().insert(ConnectInfo(remote));
                        app.clone().oneshot(req)
                    },
                );
                let conn = builder.serve_connection(TokioIo::new(tls), service);
                let ended = watcher.watch(conn).await;
                let outcome = match &ended {
                    Err(e) => limits::connection_outcome(e.as_ref(), expiry.get()),
                    Ok(()) => expiry.get().and_then(|x| {
                        limits::connection_outcome(&std::io::Error::other("ended"), Some(x))
                    }),
                };
                if let Some((event, status, detail)) = outcome {
                    tracing::info!(
                        target: "rec_admin::access",
                        %remote, event, status, detail = %detail, "connection ended before a routed answer"
                    );
                    if let Err(e) =
                        state
                            .audit
                            .write_event(api::now_us(), Some(remote), event, status, &detail)
                    {
                        tracing::error!(error = %e, "audit log write failed");
                    }
                } else if let Err(e) = &ended {
                    tracing::debug!(%remote, error = %e, "admin API connection ended with an error");
                }
                drop(admission);
            });
        }
        drop(listener);
        if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("admin API: connections still open after the shutdown grace period");
        }
        tracing::info!("admin API stopped");
        Ok(())
    }
}

/// Binds and serves the admin API until `shutdown` completes (see [`AdminServer`] to learn the bound port
/// first).
pub async fn serve(
    cfg: AdminConfig,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), AdminError> {
    AdminServer::bind(cfg, metrics).await?.run(shutdown).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_from_toml() {
        let hash = token_sha256_hex("t");
        let text = format!(
            "enabled = true\nlisten = \"0.0.0.0:9443\"\ncert = \"/etc/r/c.pem\"\nkey = \"/etc/r/k.pem\"\n\
             tokens = [{{ name = \"ops\", sha256 = \"{hash}\" }}]\n"
        );
        let s: AdminSettings = toml::from_str(&text).unwrap();
        assert!(s.enabled && !s.metrics_public);
        let cfg = s.to_config(Path::new("/var/rec")).unwrap();
        assert_eq!(cfg.listen, "0.0.0.0:9443".parse().unwrap());
        assert_eq!(cfg.cert, Path::new("/etc/r/c.pem"));
        assert_eq!(cfg.catalog, Path::new("/var/rec/catalog.sqlite"));
        assert_eq!(cfg.audit_log, Path::new("/var/rec/audit.log"));
        assert_eq!(cfg.recordings_root, Path::new("/var/rec"));
        assert_eq!(cfg.tokens[0].name, "ops");
        // [[admin.tokens]] tables work as well
        let s: AdminSettings = toml::from_str(&format!(
            "audit_log = \"/log/a.log\"\n[[tokens]]\nname = \"a\"\nsha256 = \"{hash}\"\n"
        ))
        .unwrap();
        assert_eq!(s.tokens.len(), 1);
        assert_eq!(AdminSettings::default().listen.port(), 8443);
        // errors name the key, never a hash
        let e = AdminSettings::default()
            .to_config(Path::new("r"))
            .unwrap_err();
        assert!(e.contains("cert"), "{e}");
        let bad = AdminSettings {
            cert: "c".into(),
            key: "k".into(),
            tokens: vec![TokenEntry {
                name: "ops".into(),
                sha256_hex: "abc".into(),
                role: Role::Admin,
            }],
            ..AdminSettings::default()
        };
        let e = bad.to_config(Path::new("r")).unwrap_err();
        assert!(e.contains("ops") && !e.contains("abc"), "{e}");
        assert!(toml::from_str::<AdminSettings>("token = []").is_err());
        assert!(
            toml::from_str::<AdminSettings>("tokens = [{ name = \"a\", hash = \"x\" }]").is_err()
        );
        let debug = format!(
            "{:?}",
            AdminSettings {
                tokens: s.tokens,
                ..AdminSettings::default()
            }
        );
        assert!(!debug.contains(&hash), "{debug}");
    }
}
