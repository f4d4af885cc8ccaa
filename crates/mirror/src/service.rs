//! The mirror as a service for a thread-based daemon: its own tokio runtime (two worker threads), the mTLS
//! server and the plain HEP listeners as configured, stopped by [`MirrorService::shutdown`] or on drop.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use crate::{
    HepListeners, MirrorConfig, MirrorError, MirrorServer, MirrorStats, SharedRewriter, SipSink,
    TlsReload,
};

/// The running mirror (what `[mirror]` enables).
pub struct MirrorService {
    runtime: Option<tokio::runtime::Runtime>,
    /// Address of the mTLS server, when enabled.
    pub tls_addr: Option<SocketAddr>,
    /// UDP and TCP addresses of the plain HEP listeners, when enabled.
    pub hep_addrs: Option<(SocketAddr, SocketAddr)>,
    /// Replaces the mTLS server's certificates for new connections (SIGHUP), when enabled.
    pub tls_reload: Option<TlsReload>,
}

impl std::fmt::Debug for MirrorService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MirrorService")
            .field("tls_addr", &self.tls_addr)
            .field("hep_addrs", &self.hep_addrs)
            .finish_non_exhaustive()
    }
}

impl MirrorService {
    /// Starts what `config` enables (nothing when neither `enabled` nor `hep_enabled`); errors (bad
    /// certificates, address in use) come back before anything runs. Call it from a plain thread, not from
    /// inside a tokio runtime.
    pub fn start(
        config: &MirrorConfig,
        rewriter: SharedRewriter,
        sink: SipSink,
        stats: Arc<MirrorStats>,
    ) -> Result<MirrorService, MirrorError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("mirror")
            .enable_all()
            .build()
            .map_err(|e| MirrorError::Io("mirror runtime".into(), e))?;
        let (tls_addr, hep_addrs, tls_reload) = runtime.block_on(async {
            let mut tls_addr = None;
            let mut tls_reload = None;
            let mut hep_addrs = None;
            let mut server = None;
            let mut hep = None;
            if config.enabled {
                let s = MirrorServer::bind(config, rewriter, sink.clone(), stats.clone()).await?;
                tls_addr = Some(s.local_addr());
                tls_reload = Some(s.tls_reload());
                server = Some(s);
            }
            if config.hep_enabled {
                let h = HepListeners::bind(config, sink, stats).await?;
                hep_addrs = Some(h.local_addrs());
                hep = Some(h);
            }
            if let Some(s) = server {
                tokio::spawn(s.run());
            }
            if let Some(h) = hep {
                tokio::spawn(h.run());
            }
            Ok::<_, MirrorError>((tls_addr, hep_addrs, tls_reload))
        })?;
        if let Some(a) = tls_addr {
            tracing::info!(listen = %a, "mirror server listening");
        }
        if let Some((u, t)) = hep_addrs {
            tracing::info!(udp = %u, tcp = %t, "plain HEP listeners listening");
        }
        Ok(MirrorService {
            runtime: Some(runtime),
            tls_addr,
            hep_addrs,
            tls_reload,
        })
    }

    /// Closes the listeners and every connection (waits up to one second for the tasks to end).
    pub fn shutdown(mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_timeout(Duration::from_secs(1));
        }
    }
}

impl Drop for MirrorService {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}
