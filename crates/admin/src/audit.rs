//! The audit log: one JSON object per line for every request, refused ones included, appended to a file.
//!
//! ```json
//! {"time":"2026-11-29T10:00:00.123456Z","token_name":"ops","remote_addr":"192.0.2.7:51234","method":"GET",
//!  "path":"/api/recordings/7/audio","query":null,"status":206,"bytes":65536}
//! ```
//!
//! Each line is written with one `write` on a file opened in append mode and flushed (not fsynced). The
//! query string is kept (which number or Call-ID was searched for is part of "what"), with the values of
//! any parameter whose name suggests a secret (`token`, `access_token`, `key`, `password`, …) replaced by
//! `REDACTED`, in case a client put its token there.

use std::fs::File;
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
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
}

/// An append-only audit file shared by all connections.
#[derive(Debug)]
pub struct AuditLog {
    file: Mutex<File>,
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
    /// Opens (creating it, mode 0600 on Unix, and its parent directory if needed) `path` for appending.
    pub fn open(path: &Path) -> std::io::Result<AuditLog> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)?;
        }
        let mut options = File::options();
        options.append(true).create(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        Ok(AuditLog {
            file: Mutex::new(options.open(path)?),
        })
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
        };
        let mut line = serde_json::to_vec(&record).map_err(std::io::Error::other)?;
        line.push(b'\n');
        let mut file = self
            .file
            .lock()
            .map_err(|_| std::io::Error::other("audit log lock poisoned"))?;
        file.write_all(&line)?;
        file.flush()
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
        log.write(0, None, None, "GET", &"x".repeat(5000), None, 401, 0)
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
