//! `recorder export`: a decrypted copy of one call's recording, for an authorised user (whoever can read
//! the key named in the configuration). Every export, and every refused one, is written to the admin audit
//! log with the operating-system user, the call and the output file (never a key).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use rec_admin::sealed::{is_sealed, SealedFile};
use rec_catalog::{CallRecord, Catalog, Query};

use crate::config::Config;
use crate::encryption::create_new_private;

/// Exit code for a missing call, file or key, a failed decryption or bad arguments.
const UNUSABLE: u8 = 2;

/// Plaintext bytes decrypted per step.
const PIECE: u64 = 1 << 20;

/// The options of `recorder export`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The call's SIP Call-ID (the latest recording with it, unless --id is given).
    #[arg(long, value_name = "ID")]
    pub call_id: String,
    /// The catalog row id, when a Call-ID has several recordings.
    #[arg(long, value_name = "N")]
    pub id: Option<i64>,
    /// Where to write the decrypted copy (created, mode 0600; never overwritten).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Configuration file ([recording] out, [encryption] keys, [admin] audit_log); default: embedded.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// Runs the subcommand.
pub fn run(args: Args) -> ExitCode {
    match export(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("recorder export: {message}");
            ExitCode::from(UNUSABLE)
        }
    }
}

fn user() -> String {
    std::env::var("SUDO_USER")
        .or_else(|_| std::env::var("USER"))
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".to_owned())
}

fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as i64)
}

fn export(args: &Args) -> Result<(), String> {
    let cfg = Config::load(args.config.as_deref())?;
    let root = PathBuf::from(&cfg.recording.out);
    let audit_path = if cfg.admin.audit_log.trim().is_empty() {
        root.join("audit.log")
    } else {
        PathBuf::from(&cfg.admin.audit_log)
    };
    let (result, id, bytes) = copy(args, &cfg, &root);
    let audit = rec_admin::audit::AuditLog::open(&audit_path)
        .and_then(|log| {
            log.write(
                now_us(),
                Some(&format!("cli:{}", user())),
                None,
                "EXPORT",
                &format!(
                    "/api/recordings/{}/audio",
                    id.map_or("-".to_owned(), |i| i.to_string())
                ),
                Some(&format!(
                    "call_id={}&out={}",
                    args.call_id,
                    args.out.display()
                )),
                if result.is_ok() { 200 } else { 500 },
                bytes,
            )
        })
        .map_err(|e| format!("audit log {}: {e}", audit_path.display()));
    result?;
    audit?;
    eprintln!(
        "recorder export: call {} (row {}) written to {} ({bytes} bytes)",
        args.call_id,
        id.unwrap_or_default(),
        args.out.display()
    );
    Ok(())
}

fn find(args: &Args, root: &std::path::Path) -> Result<CallRecord, String> {
    let path = root.join("catalog.sqlite");
    if !path.is_file() {
        return Err(format!(
            "no catalog at {} ([recording] out)",
            path.display()
        ));
    }
    let catalog = Catalog::open_read_only(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let calls = catalog
        .query(&Query {
            call_id: Some(args.call_id.clone()),
            ..Query::default()
        })
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let call = match args.id {
        Some(id) => calls.into_iter().find(|c| c.id == Some(id)),
        None => calls.into_iter().last(),
    };
    call.ok_or_else(|| format!("no recording of call {:?} in the catalog", args.call_id))
}

/// Writes the copy; returns the outcome, the row id and the bytes written.
fn copy(
    args: &Args,
    cfg: &Config,
    root: &std::path::Path,
) -> (Result<(), String>, Option<i64>, u64) {
    let call = match find(args, root) {
        Ok(c) => c,
        Err(e) => return (Err(e), None, 0),
    };
    let id = call.id;
    let r = (|| -> Result<u64, String> {
        let file = call
            .file
            .as_deref()
            .ok_or_else(|| format!("call {:?} has no audio file", args.call_id))?;
        let mut path = PathBuf::from(file);
        let final_name = path.exists();
        if !final_name {
            let part = rec_catalog::naming::part_path(&path);
            if part.exists() {
                path = part;
            } else {
                return Err(format!("the recording's file {file} is missing (deleted?)"));
            }
        }
        let src = std::fs::File::open(&path)
            .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
        let sealed = is_sealed(&src).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let keys = cfg.encryption.keyring()?;
        let mut out = create_new_private(&args.out)
            .map_err(|e| format!("cannot create {}: {e}", args.out.display()))?;
        let written = if sealed {
            let s = SealedFile::open(src, keys.as_deref())
                .and_then(|s| {
                    if final_name {
                        s.require_finished()?;
                    }
                    Ok(s)
                })
                .map_err(|e| format!("{}: {e}", path.display()));
            let s = match s {
                Ok(s) => s,
                Err(e) => {
                    drop(out);
                    let _ = std::fs::remove_file(&args.out);
                    return Err(e);
                }
            };
            let mut at = 0;
            while at < s.len() {
                let piece = s
                    .read_range(at, PIECE)
                    .map_err(|e| format!("{}: {e}", path.display()));
                let piece = match piece {
                    Ok(p) => p,
                    Err(e) => {
                        drop(out);
                        let _ = std::fs::remove_file(&args.out);
                        return Err(e);
                    }
                };
                out.write_all(&piece)
                    .map_err(|e| format!("writing {}: {e}", args.out.display()))?;
                at += piece.len() as u64;
            }
            if !s.finished() {
                eprintln!(
                    "recorder export: warning: {} has no final chunk (still being recorded, or cut short); {at} bytes exported",
                    path.display()
                );
            }
            at
        } else {
            let mut src = src;
            std::io::copy(&mut src, &mut out)
                .map_err(|e| format!("copying {}: {e}", path.display()))?
        };
        out.sync_all()
            .map_err(|e| format!("writing {}: {e}", args.out.display()))?;
        Ok(written)
    })();
    match r {
        Ok(n) => (Ok(()), id, n),
        Err(e) => (Err(e), id, 0),
    }
}
