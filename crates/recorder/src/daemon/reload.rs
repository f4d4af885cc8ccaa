//! SIGHUP: the configuration file is read again and what can change while calls run is replaced — the
//! recording policy and rewrite settings (the mirror's rewriter and the engine's policy for new calls), the
//! admin API's tokens and certificate, the mirror's certificate, key, client CA and allowed subjects. Open
//! calls, connections and files are untouched. Sections that need a restart (listen addresses, capture
//! interface, recordings directory, journal) are compared and a warning names each one that changed.
//!
//! All or nothing: a file that does not parse, a policy rule or certificate that does not load leaves the
//! running configuration in place, and the log says why.

use std::path::PathBuf;
use std::sync::mpsc::SyncSender;
use std::sync::Arc;

use rec_admin::{AdminReload, Metrics};
use rec_mirror::{SharedRewriter, TlsReload};

use super::{EngineMsg, TimedRewriter};
use crate::config::Config;

/// What a reload can reach.
pub(super) struct Reloader {
    /// The file given with --config (`None`: the embedded defaults, which never change).
    pub path: Option<PathBuf>,
    /// The configuration in force.
    pub running: Config,
    pub rewriter: Option<SharedRewriter>,
    pub mirror_tls: Option<TlsReload>,
    pub admin: Option<AdminReload>,
    pub to_engine: SyncSender<EngineMsg>,
    pub metrics: Arc<Metrics>,
}

impl Reloader {
    /// Reads the configuration again and applies it; logs what changed, what needs a restart, or why nothing
    /// was applied.
    pub fn reload(&mut self) {
        match self.try_reload() {
            Ok(applied) => tracing::info!(
                applied = %applied.join(", "),
                "configuration reloaded (SIGHUP); open calls go on"
            ),
            Err(e) => tracing::error!(
                "configuration reload (SIGHUP) refused, the running configuration stays: {e}"
            ),
        }
    }

    fn try_reload(&mut self) -> Result<Vec<&'static str>, String> {
        let fresh = Config::load(self.path.as_deref())?;
        // build everything first, so a failure changes nothing
        let rewriter = match &self.rewriter {
            Some(_) => Some(
                rec_rewrite::Rewriter::new(fresh.rewrite.clone(), &fresh.policy)
                    .map_err(|e| format!("configuration [policy]: {e}"))?,
            ),
            None => None,
        };
        rec_rewrite::Policy::new(&fresh.policy)
            .map_err(|e| format!("configuration [policy]: {e}"))?;
        let admin_cfg = match &self.admin {
            Some(_) => Some(
                fresh
                    .admin
                    .to_config(std::path::Path::new(&fresh.recording.out))
                    .map_err(|e| format!("configuration [admin]: {e}"))?,
            ),
            None => None,
        };
        let mut applied = Vec::new();
        if let (Some(tls), true) = (&self.mirror_tls, fresh.mirror.enabled) {
            tls.reload(&fresh.mirror)
                .map_err(|e| format!("mirror certificates: {e}"))?;
            applied.push("mirror certificates");
        }
        if let (Some(admin), Some(cfg)) = (&self.admin, &admin_cfg) {
            admin.reload(cfg).map_err(|e| format!("admin API: {e}"))?;
            applied.push("admin certificate and tokens");
        }
        if let (Some(shared), Some(inner)) = (&self.rewriter, rewriter) {
            *shared.lock().unwrap_or_else(|e| e.into_inner()) = Box::new(TimedRewriter {
                inner,
                metrics: Arc::clone(&self.metrics),
            });
            applied.push("rewrite settings and policy");
        }
        // the engine takes it between two inputs; a full queue waits (SIGHUP is rare, the capture never waits)
        if self
            .to_engine
            .send(EngineMsg::Policy(Box::new(fresh.policy.clone())))
            .is_ok()
        {
            applied.push("recording policy for new calls");
        }
        for section in needs_restart(&self.running, &fresh) {
            tracing::warn!(
                "configuration reload: {section} changed; it takes effect at the next start"
            );
        }
        self.running = fresh;
        Ok(applied)
    }
}

/// The settings that a running service cannot change, by name, where `fresh` differs from `running`.
fn needs_restart(running: &Config, fresh: &Config) -> Vec<&'static str> {
    let mut out = Vec::new();
    if running.recording != fresh.recording {
        out.push("[recording]");
    }
    if running.capture != fresh.capture {
        out.push("[capture]");
    }
    if running.journal != fresh.journal {
        out.push("[journal]");
    }
    if running.admin.enabled != fresh.admin.enabled
        || running.admin.listen != fresh.admin.listen
        || running.admin.audit_log != fresh.admin.audit_log
        || running.admin.metrics_public != fresh.admin.metrics_public
    {
        out.push("[admin] enabled/listen/audit_log/metrics_public");
    }
    let mut m_run = running.mirror.clone();
    let mut m_new = fresh.mirror.clone();
    for m in [&mut m_run, &mut m_new] {
        m.cert = PathBuf::new();
        m.key = PathBuf::new();
        m.client_ca = PathBuf::new();
        m.allowed_subjects.clear();
    }
    if m_run != m_new {
        out.push("[mirror] listeners");
    }
    out
}
