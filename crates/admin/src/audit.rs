//! The audit log: one JSON object per line for every request, refused ones included, appended to a file.
//!
//! ```json
//! {"time":"2026-11-29T10:00:00.123456Z","token_name":"ops","remote_addr":"192.0.2.7:51234","method":"GET",
//!  "path":"/api/recordings/7/audio","query":null,"status":206,"bytes":65536}
//! ```
//!
//! Requests that never reached the router get a line too, with `event` saying what happened (`bad_request`,
//! `header_too_large`, `uri_too_long`, `header_timeout`, `tls_error`, `idle_timeout`, `write_timeout`,
//! `body_timeout`; see `docs/admin-api.md`) and `detail` the server's reason; ordinary requests have
//! `"event":"request"`. Lines never hold the `Authorization` header, a token, a cookie or a key.
//!
//! Each line is written with one `write` on a file opened in append mode (`O_APPEND`) and flushed (not
//! fsynced); the file is mode 0600 whatever the umask. Past `max_bytes`, and at the first line of a new UTC
//! day, the file is renamed `audit.log.1` (the older ones shifted to `.2` … `.<keep>`, the oldest deleted)
//! and a new one started. The
//! query string is kept (which number or Call-ID was searched for is part of "what"), with the values of
//! any parameter whose name suggests a secret (`token`, `access_token`, `key`, `password`, …) replaced by
//! `REDACTED`, in case a client put its token there.

use std::fs::File;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::Serialize;

/// Longest path or query text written (longer ones are cut, marked with `…`).
pub const MAX_FIELD_CHARS: usize = 2048;

/// One audit line.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRecord<'a> {
    /// When the response was produced, RFC 3339 UTC.
    pub time: String,
    /// Name of the token that authenticated the request; `None` (null) when there was none or it was invalid.
    pub token_name: Option<&'a str>,
    /// The client's address and port.
    pub remote_addr: String,
    /// HTTP method.
    pub method: &'a str,
    /// Request path (percent-encoded as received).
    pub path: String,
    /// Query string (secret-looking parameters redacted), `None` without one.
    pub query: Option<String>,
    /// HTTP status sent.
    pub status: u16,
    /// Bytes of the response body (its `Content-Length`; 0 when unknown).
    pub bytes: u64,
    /// `request` for a request answered by the router; otherwise what ended the connection before (or
    /// instead of) a routed answer.
    pub event: &'a str,
    /// The server's reason for such an event (never request bytes).
    pub detail: Option<&'a str>,
}

/// Rotation of the audit log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    /// A new file is started when a line would take the current one past this size.
    pub max_bytes: u64,
    /// Rotated files kept (`audit.log.1` … `audit.log.<keep>`), at least 1.
    pub keep: u32,
}

impl Default for Rotation {
    fn default() -> Self {
        Rotation {
            max_bytes: 64 * 1024 * 1024,
            keep: 10,
        }
    }
}

const DAY_US: i64 = 86_400_000_000;

#[derive(Debug)]
struct Current {
    file: File,
    size: u64,
    /// UTC day number of the file's lines.
    day: i64,
}

/// An append-only audit file shared by all connections.
#[derive(Debug)]
pub struct AuditLog {
    path: PathBuf,
    rotation: Rotation,
    current: Mutex<Current>,
}

/// Opens `path` for appending, creating it; mode 0600 whatever the umask (and tightened if it was wider).
fn open_append(path: &Path) -> std::io::Result<File> {
    let mut options = File::options();
    options.append(true).create(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(file)
}

fn rotated(path: &Path, n: u32) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

fn unix_us(t: std::time::SystemTime) -> i64 {
    t.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

fn cut(s: &str) -> String {
    if s.len() <= MAX_FIELD_CHARS {
        return s.to_owned();
    }
    let mut end = MAX_FIELD_CHARS;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// The query string with the values of secret-looking parameters replaced by `REDACTED`.
pub fn redact_query(query: &str) -> String {
    let secret = |name: &str| {
        let n = name.to_ascii_lowercase();
        [
            "token", "key", "secret", "password", "passwd", "auth", "bearer",
        ]
        .iter()
        .any(|s| n.contains(s))
    };
    query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if secret(name) => format!("{name}=REDACTED"),
            None if secret(pair) => "REDACTED".to_owned(),
            _ => pair.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

impl AuditLog {
    /// Opens (creating it, mode 0600 on Unix, and its parent directory if needed) `path` for appending, with
    /// the default [`Rotation`].
    pub fn open(path: &Path) -> std::io::Result<AuditLog> {
        AuditLog::open_rotating(path, Rotation::default())
    }

    /// [`AuditLog::open`] with the given rotation.
    pub fn open_rotating(path: &Path, rotation: Rotation) -> std::io::Result<AuditLog> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let file = open_append(path)?;
        let meta = file.metadata()?;
        let day = meta.modified().map_or(i64::MIN, unix_us).div_euclid(DAY_US);
        Ok(AuditLog {
            path: path.to_path_buf(),
            rotation: Rotation {
                max_bytes: rotation.max_bytes.max(1),
                keep: rotation.keep.max(1),
            },
            current: Mutex::new(Current {
                file,
                size: meta.len(),
                day,
            }),
        })
    }

    /// Renames the current file to `.1` (shifting the older ones) and starts a new one.
    fn rotate(&self, current: &mut Current, day: i64) -> std::io::Result<()> {
        for n in (1..self.rotation.keep).rev() {
            let from = rotated(&self.path, n);
            if from.exists() {
                std::fs::rename(&from, rotated(&self.path, n + 1))?;
            }
        }
        std::fs::rename(&self.path, rotated(&self.path, 1))?;
        current.file = open_append(&self.path)?;
        current.size = 0;
        current.day = day;
        Ok(())
    }

    /// Appends one serialized line, rotating first when it is due.
    fn append(&self, time_us: i64, record: &AuditRecord<'_>) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(record).map_err(std::io::Error::other)?;
        line.push(b'\n');
        let mut current = self
            .current
            .lock()
            .map_err(|_| std::io::Error::other("audit log lock poisoned"))?;
        let day = time_us.div_euclid(DAY_US);
        let len = line.len() as u64;
        if current.size > 0
            && (current.size.saturating_add(len) > self.rotation.max_bytes || day != current.day)
        {
            self.rotate(&mut current, day)?;
        }
        current.day = day;
        current.file.write_all(&line)?;
        current.size += len;
        current.file.flush()
    }

    /// Appends one line for a connection event that produced no routed answer (`event` as in the module
    /// documentation; `status` the HTTP status sent, 0 when none was).
    pub fn write_event(
        &self,
        time_us: i64,
        remote_addr: Option<SocketAddr>,
        event: &str,
        status: u16,
        detail: &str,
    ) -> std::io::Result<()> {
        let record = AuditRecord {
            time: rec_catalog::time::format_rfc3339(time_us),
            token_name: None,
            remote_addr: remote_addr.map_or_else(|| "-".to_owned(), |a| a.to_string()),
            method: "-",
            path: "-".to_owned(),
            query: None,
            status,
            bytes: 0,
            event,
            detail: Some(detail),
        };
        self.append(time_us, &record)
    }

    /// Appends one line for a request.
    #[allow(clippy::too_many_arguments)]
    pub fn write(
        &self,
        time_us: i64,
        token_name: Option<&str>,
        remote_addr: Option<SocketAddr>,
        method: &str,
        path: &str,
        query: Option<&str>,
        status: u16,
        bytes: u64,
    ) -> std::io::Result<()> {
        let record = AuditRecord {
            time: rec_catalog::time::format_rfc3339(time_us),
            token_name,
            remote_addr: remote_addr.map_or_else(|| "-".to_owned(), |a| a.to_string()),
            method,
            path: cut(path),
            query: query.map(|q| cut(&redact_query(q))),
            status,
            bytes,
            event: "request",
            detail: None,
        };
        self.append(time_us, &record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction() {
        assert_eq!(
            redact_query("number=%2B44&access_token=abc&token&call_id=x"),
            "number=%2B44&access_token=REDACTED&REDACTED&call_id=x"
        );
        assert_eq!(redact_query("API_KEY=1"), "API_KEY=REDACTED");
        assert_eq!(redact_query("since=2026-11-29"), "since=2026-11-29");
    }

    #[test]
    fn rotation_by_size_and_day_keeps_n_files_all_0600_append_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        // a wide file left by someone else is tightened
        std::fs::write(&path, b"").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        }
        let log = AuditLog::open_rotating(
            &path,
            Rotation {
                max_bytes: 600,
                keep: 3,
            },
        )
        .unwrap();
        #[cfg(target_os = "linux")]
        {
            // O_APPEND on the open descriptor: every write lands at the end, whoever else writes
            use std::os::fd::AsRawFd;
            let fd = log.current.lock().unwrap().file.as_raw_fd();
            let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{fd}")).unwrap();
            let flags = info
                .lines()
                .find_map(|l| l.strip_prefix("flags:"))
                .map(|f| u32::from_str_radix(f.trim(), 8).unwrap())
                .unwrap();
            assert_ne!(flags & 0o2000, 0, "O_APPEND");
        }
        let t = 1_795_946_400_000_000; // 2026-11-29T10:00:00Z
        for i in 0..20 {
            log.write_event(
                t + i,
                None,
                "bad_request",
                400,
                "invalid HTTP method parsed",
            )
            .unwrap();
        }
        // the next day starts a new file even though the current one is small
        let before_day = std::fs::read_to_string(&path).unwrap();
        log.write_event(t + DAY_US, None, "tls_error", 0, "x")
            .unwrap();
        let today = std::fs::read_to_string(&path).unwrap();
        assert_eq!(today.lines().count(), 1);
        assert!(today.contains("2026-11-30"), "{today}");
        assert_eq!(
            std::fs::read_to_string(rotated(&path, 1)).unwrap(),
            before_day
        );
        for n in 1..=3 {
            let f = rotated(&path, n);
            let text = std::fs::read_to_string(&f).unwrap();
            assert!(text.len() <= 600, "{} is {} bytes", f.display(), text.len());
            for l in text.lines() {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                assert_eq!(
                    v["event"],
                    if l.contains("tls_error") {
                        "tls_error"
                    } else {
                        "bad_request"
                    }
                );
            }
        }
        assert!(!rotated(&path, 4).exists(), "only 3 rotated files are kept");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            for f in [path.clone(), rotated(&path, 1), rotated(&path, 3)] {
                let mode = std::fs::metadata(&f).unwrap().permissions().mode();
                assert_eq!(mode & 0o777, 0o600, "{}", f.display());
            }
        }
    }

    #[test]
    fn lines_are_json_and_append() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/audit.log");
        let log = AuditLog::open(&path).unwrap();
        let addr: SocketAddr = "192.0.2.7:51234".parse().unwrap();
        log.write(
            1_795_946_400_000_000,
            Some("ops"),
            Some(addr),
            "GET",
            "/api/recordings",
            Some("number=1&token=zz"),
            200,
            12,
        )
        .unwrap();
        drop(log);
        let log = AuditLog::open(&path).unwrap();
        // reopened: the file's day is its modification day (today), so a line of today does not rotate it
        log.write(
            unix_us(std::time::SystemTime::now()),
            None,
            None,
            "GET",
            &"x".repeat(5000),
            None,
            401,
            0,
        )
        .unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["time"], "2026-11-29T10:00:00Z");
        assert_eq!(lines[0]["token_name"], "ops");
        assert_eq!(lines[0]["remote_addr"], "192.0.2.7:51234");
        assert_eq!(lines[0]["query"], "number=1&token=REDACTED");
        assert_eq!(lines[0]["status"], 200);
        assert_eq!(lines[0]["bytes"], 12);
        assert!(lines[1]["token_name"].is_null());
        assert!(lines[1]["path"].as_str().unwrap().len() < 2100);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
