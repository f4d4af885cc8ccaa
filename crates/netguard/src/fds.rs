//! File descriptors: raising the soft limit at start, and telling an accept error caused by running out of
//! them (which must make the accept loop back off instead of spinning).

use std::io;
use std::time::Duration;

use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};

/// How long an accept loop pauses after an error: longer when out of descriptors (nothing will get better
/// until connections close), short otherwise.
pub fn accept_backoff(e: &io::Error) -> Duration {
    if is_fd_exhaustion(e) {
        Duration::from_millis(250)
    } else {
        Duration::from_millis(20)
    }
}

/// `EMFILE` / `ENFILE` (process or system out of file descriptors), or out of socket memory.
pub fn is_fd_exhaustion(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(code) if code == rustix::io::Errno::MFILE.raw_os_error()
            || code == rustix::io::Errno::NFILE.raw_os_error()
            || code == rustix::io::Errno::NOBUFS.raw_os_error()
            || code == rustix::io::Errno::NOMEM.raw_os_error()
    )
}

/// The soft and hard `RLIMIT_NOFILE` (`None`: unlimited).
pub fn nofile_limit() -> (Option<u64>, Option<u64>) {
    let l = getrlimit(Resource::Nofile);
    (l.current, l.maximum)
}

/// Raises the soft `RLIMIT_NOFILE` to the hard limit (the daemon calls it once at start, so the connection
/// caps stay well below what the process may open); returns the soft limit now in force.
pub fn raise_nofile_limit() -> io::Result<Option<u64>> {
    let l = getrlimit(Resource::Nofile);
    if l.current == l.maximum {
        return Ok(l.current);
    }
    setrlimit(
        Resource::Nofile,
        Rlimit {
            current: l.maximum,
            maximum: l.maximum,
        },
    )?;
    Ok(getrlimit(Resource::Nofile).current)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exhaustion_errors_are_told_apart() {
        let emfile = io::Error::from_raw_os_error(rustix::io::Errno::MFILE.raw_os_error());
        assert!(is_fd_exhaustion(&emfile));
        assert!(accept_backoff(&emfile) > Duration::from_millis(100));
        let reset = io::Error::from(io::ErrorKind::ConnectionReset);
        assert!(!is_fd_exhaustion(&reset));
    }

    #[test]
    fn raising_reaches_the_hard_limit() {
        let soft = raise_nofile_limit().unwrap();
        let (now, hard) = nofile_limit();
        assert_eq!(soft, now);
        assert_eq!(now, hard);
    }
}
