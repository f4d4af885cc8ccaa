//! Tamper evidence and retention in the binary: the `[integrity]` settings, the node's signing key
//! (loaded, or generated at first start), `recorder verify`, `recorder retention`, `recorder hold` and the
//! daemon's periodic retention sweep. The work is done by `rec_catalog::{seal, retention, holds}`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use rec_catalog::retention::Retention;
use rec_catalog::seal::{Sealer, MANIFEST_DIR, PUBLIC_KEY_FILE};
use rec_catalog::Catalog;
use serde::Deserialize;

use crate::config::Config;

/// `[integrity]` of recorder.toml.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct IntegrityConfig {
    /// Ed25519 key file (PKCS#8 PEM or raw 32-byte seed); empty: `<out>/signing-key.pem`, generated.
    pub signing_key_file: String,
    /// Node name in manifests; empty: the host name.
    pub node_id: String,
}

/// The wall clock, unix µs (the pure crates take it as input; this shell reads it).
pub fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

fn key_path(cfg: &Config, root: &Path) -> PathBuf {
    if cfg.integrity.signing_key_file.is_empty() {
        root.join("signing-key.pem")
    } else {
        PathBuf::from(&cfg.integrity.signing_key_file)
    }
}

fn node_id(cfg: &Config) -> String {
    if !cfg.integrity.node_id.is_empty() {
        return cfg.integrity.node_id.clone();
    }
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "node".into())
}

/// The node's sealer: the configured key, or `<out>/signing-key.pem` (created with mode 0600 from the
/// kernel's random source when it does not exist). Errors name the file, never key material.
pub fn sealer(cfg: &Config, root: &Path) -> Result<Sealer, String> {
    let path = key_path(cfg, root);
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e)
            if e.kind() == std::io::ErrorKind::NotFound
                && cfg.integrity.signing_key_file.is_empty() =>
        {
            generate_key(&path)?
        }
        Err(e) => return Err(format!("[integrity] signing key {}: {e}", path.display())),
    };
    let key = rec_seal::parse_signing_key(&bytes)
        .map_err(|e| format!("[integrity] signing key {}: {e}", path.display()))?;
    Ok(Sealer {
        key,
        node_id: node_id(cfg),
    })
}

fn generate_key(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::{Read, Write};
    use std::os::unix::fs::OpenOptionsExt;
    let mut seed = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut seed))
        .map_err(|e| format!("cannot read /dev/urandom for a signing key: {e}"))?;
    let pem = rec_seal::signing_key_pem(&rec_seal::SigningKey::from_bytes(&seed));
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let mut f = std::fs::File::options()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("cannot create signing key {}: {e}", path.display()))?;
    f.write_all(pem.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| format!("cannot write signing key {}: {e}", path.display()))?;
    tracing::warn!(key = %path.display(), "generated a new manifest signing key; give its public key to your auditor");
    Ok(pem.into_bytes())
}

/// Arguments of `recorder verify`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The catalog; the recordings directory is its directory. Default: from the configuration.
    #[arg(long, value_name = "PATH")]
    catalog: Option<PathBuf>,
    /// Configuration file (the signing key's public half is the reference).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The node's public key (SubjectPublicKeyInfo PEM); overrides the configured key.
    #[arg(long, value_name = "PEM")]
    public_key: Option<PathBuf>,
    /// Check only this call's recordings (the chain is always checked whole).
    #[arg(long, value_name = "ID", conflicts_with = "all")]
    call_id: Option<String>,
    /// Check everything (the default).
    #[arg(long)]
    all: bool,
}

fn catalog_and_root(catalog: Option<PathBuf>, cfg: &Config) -> (PathBuf, PathBuf) {
    let catalog =
        catalog.unwrap_or_else(|| PathBuf::from(&cfg.recording.out).join("catalog.sqlite"));
    let root = catalog
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    (catalog, root)
}

/// The reference public key: `--public-key`, else the configured (or default) signing key's, else the
/// one the chain directory holds (with a warning: it is only as trustworthy as the disk).
fn public_key(
    args: &VerifyArgs,
    cfg: &Config,
    root: &Path,
) -> Result<rec_seal::VerifyingKey, String> {
    if let Some(p) = &args.public_key {
        let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
        return rec_seal::verifying_key_from_pem(&text)
            .map_err(|e| format!("{}: {e}", p.display()));
    }
    let kp = key_path(cfg, root);
    if let Ok(bytes) = std::fs::read(&kp) {
        return rec_seal::parse_signing_key(&bytes)
            .map(|k| k.verifying_key())
            .map_err(|e| format!("{}: {e}", kp.display()));
    }
    let p = root.join(MANIFEST_DIR).join(PUBLIC_KEY_FILE);
    let text = std::fs::read_to_string(&p)
        .map_err(|e| format!("no public key: give --public-key ({}: {e})", p.display()))?;
    eprintln!(
        "warning: using the public key stored beside the recordings ({}); pin the key with --public-key",
        p.display()
    );
    rec_seal::verifying_key_from_pem(&text).map_err(|e| format!("{}: {e}", p.display()))
}

/// `recorder verify`: exit 0 when intact, 1 with one line per finding, 2 when it cannot check.
pub fn verify_cmd(args: VerifyArgs) -> ExitCode {
    let run = || -> Result<bool, String> {
        let cfg = Config::load(args.config.as_deref())?;
        let (catalog_path, root) = catalog_and_root(args.catalog.clone(), &cfg);
        let key = public_key(&args, &cfg, &root)?;
        let catalog = Catalog::open_read_only(&catalog_path)
            .map_err(|e| format!("catalog {}: {e}", catalog_path.display()))?;
        let started = std::time::Instant::now();
        let report = rec_catalog::seal::verify(&root, &catalog, &key, args.call_id.as_deref())
            .map_err(|e| e.to_string())?;
        for f in &report.findings {
            println!("{f}");
        }
        let head = report.head.as_ref().map_or_else(
            || "empty".to_owned(),
            |(s, h)| format!("entry {s} sha256 {h}"),
        );
        eprintln!(
            "{}: {} chain entries, {} recordings checked, {} deleted by a sealed deletion, {} bytes hashed in {:.2} s; key {}; chain head {head}",
            if report.findings.is_empty() { "intact" } else { "NOT INTACT" },
            report.entries,
            report.recordings,
            report.deleted,
            report.bytes_hashed,
            started.elapsed().as_secs_f64(),
            rec_seal::key_id(&key),
        );
        if args.call_id.is_some() && report.recordings + report.deleted == 0 {
            return Err("no sealed recording of this call".into());
        }
        Ok(report.findings.is_empty())
    };
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("recorder verify: {e}");
            ExitCode::from(2)
        }
    }
}

/// Arguments of `recorder retention`.
#[derive(Debug, clap::Args)]
pub struct RetentionArgs {
    /// Configuration file ([retention], [integrity], [recording] out).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// The catalog (default: `<out>/catalog.sqlite`).
    #[arg(long, value_name = "PATH")]
    catalog: Option<PathBuf>,
    /// Delete the expired recordings that no legal hold covers now.
    #[arg(long)]
    sweep: bool,
    /// Only print what a sweep would delete.
    #[arg(long)]
    dry_run: bool,
    /// Take this time (RFC 3339 or a date) as now (for audits of what a future sweep will do).
    #[arg(long, value_name = "TIME")]
    now: Option<String>,
}

/// `recorder retention --sweep [--dry-run]`: exit 0, or 1 when some deletion failed, 2 on bad input.
pub fn retention_cmd(args: RetentionArgs) -> ExitCode {
    let run = || -> Result<bool, String> {
        if !args.sweep {
            return Err("nothing to do: give --sweep (with --dry-run to only list)".into());
        }
        let cfg = Config::load(args.config.as_deref())?;
        let (catalog_path, root) = catalog_and_root(args.catalog.clone(), &cfg);
        let retention = Retention::new(&cfg.retention, &cfg.policy.country_code)?;
        let now = match &args.now {
            Some(t) => {
                rec_catalog::time::parse_time(t)
                    .map_err(|e| format!("--now {t:?}: {e}"))?
                    .0
            }
            None => now_us(),
        };
        let sealer = sealer(&cfg, &root)?;
        let mut catalog = Catalog::open(&catalog_path)
            .map_err(|e| format!("catalog {}: {e}", catalog_path.display()))?;
        let r = catalog
            .sweep_retention(&root, &sealer, &retention, now, args.dry_run)
            .map_err(|e| e.to_string())?;
        let verb = if args.dry_run {
            "would delete"
        } else {
            "deleted"
        };
        for (id, call_id, reason) in &r.deleted {
            println!("{verb} catalog row {id} call {call_id:?}: {reason}");
        }
        for (id, call_id, hold) in &r.held {
            println!("kept catalog row {id} call {call_id:?}: expired but under legal hold {hold}");
        }
        for e in &r.errors {
            eprintln!("error: {e}");
        }
        eprintln!(
            "{} {verb}, {} held, {} errors",
            r.deleted.len(),
            r.held.len(),
            r.errors.len()
        );
        Ok(r.errors.is_empty())
    };
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("recorder retention: {e}");
            ExitCode::from(2)
        }
    }
}

/// The daemon's retention sweeper: a thread with its own catalog connection sweeping every
/// `[retention] sweep_interval_s` until `stop` is set. Nothing is started when nothing expires.
pub fn spawn_sweeper(
    cfg: &Config,
    root: &Path,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> Result<Option<std::thread::JoinHandle<()>>, String> {
    let retention = Retention::new(&cfg.retention, &cfg.policy.country_code)?;
    if cfg.retention.default_days == 0 && cfg.retention.rule.iter().all(|r| r.keep_days == 0) {
        return Ok(None);
    }
    let sealer = sealer(cfg, root)?;
    let root = root.to_path_buf();
    let interval = std::time::Duration::from_secs(cfg.retention.sweep_interval_s.max(1));
    let h = std::thread::Builder::new()
        .name("retention".into())
        .spawn(move || {
            let mut next = std::time::Instant::now();
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                if std::time::Instant::now() >= next {
                    next += interval;
                    let r = Catalog::open(root.join("catalog.sqlite")).and_then(|mut c| {
                        c.sweep_retention(&root, &sealer, &retention, now_us(), false)
                    });
                    match r {
                        Ok(r) => {
                            if !r.deleted.is_empty() || !r.held.is_empty() {
                                tracing::info!(
                                    deleted = r.deleted.len(),
                                    held = r.held.len(),
                                    "retention sweep"
                                );
                            }
                            for e in r.errors {
                                tracing::error!("retention: {e}");
                            }
                        }
                        Err(e) => tracing::error!("retention sweep: {e}"),
                    }
                }
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
        })
        .map_err(|e| format!("cannot start the retention thread: {e}"))?;
    Ok(Some(h))
}
