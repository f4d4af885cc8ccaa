//! systemd integration of `recorder run`: readiness, watchdog and stopping notifications over the
//! `sd_notify` datagram protocol (`$NOTIFY_SOCKET`), so the unit can be `Type=notify` with `WatchdogSec=`.
//!
//! Nothing happens when the service is not started by systemd (no `NOTIFY_SOCKET`). The watchdog is petted
//! by the main loop only while the engine thread keeps ticking, so a wedged engine gets the service restarted.

use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

/// The notification socket and the watchdog period systemd asked for.
#[derive(Debug)]
pub struct Notifier {
    socket: UnixDatagram,
    target: std::os::unix::net::SocketAddr,
    watchdog: Option<Duration>,
    last_pet: Instant,
}

impl Notifier {
    /// From the environment systemd sets (`NOTIFY_SOCKET`, `WATCHDOG_USEC`, `WATCHDOG_PID`); `None` when the
    /// process was not started as a notify service or the socket cannot be used (then it is logged once).
    pub fn from_env() -> Option<Notifier> {
        let path = std::env::var_os("NOTIFY_SOCKET")?;
        let target = match socket_addr(&path) {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(
                    "NOTIFY_SOCKET {path:?} cannot be used ({e}): no systemd notifications"
                );
                return None;
            }
        };
        let socket = match UnixDatagram::unbound() {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!("systemd notification socket: {e}: no systemd notifications");
                return None;
            }
        };
        let for_us = std::env::var("WATCHDOG_PID")
            .ok()
            .and_then(|p| p.trim().parse::<u32>().ok())
            .is_none_or(|pid| pid == std::process::id());
        let watchdog = std::env::var("WATCHDOG_USEC")
            .ok()
            .and_then(|u| u.trim().parse::<u64>().ok())
            .filter(|&u| u > 0 && for_us)
            .map(Duration::from_micros);
        Some(Notifier {
            socket,
            target,
            watchdog,
            last_pet: Instant::now(),
        })
    }

    /// The watchdog period, when systemd enabled one.
    pub fn watchdog(&self) -> Option<Duration> {
        self.watchdog
    }

    /// Sends one notification (`READY=1`, `STOPPING=1`, `STATUS=...`); a failure is logged, never fatal.
    pub fn notify(&self, state: &str) {
        if let Err(e) = self.socket.send_to_addr(state.as_bytes(), &self.target) {
            tracing::warn!("systemd notification {state:?} not sent: {e}");
        }
    }

    /// Pets the watchdog when half its period has passed and `healthy` says the service still works.
    pub fn pet_watchdog(&mut self, healthy: bool) {
        let Some(period) = self.watchdog else { return };
        if healthy && self.last_pet.elapsed() >= period / 2 {
            self.last_pet = Instant::now();
            self.notify("WATCHDOG=1");
        }
    }
}

/// `NOTIFY_SOCKET` is a path, or an abstract socket name when it starts with `@`.
fn socket_addr(path: &std::ffi::OsStr) -> std::io::Result<std::os::unix::net::SocketAddr> {
    use std::os::unix::ffi::OsStrExt;
    let bytes = path.as_bytes();
    match bytes.first() {
        Some(b'@') => {
            use std::os::linux::net::SocketAddrExt;
            std::os::unix::net::SocketAddr::from_abstract_name(&bytes[1..])
        }
        Some(b'/') => std::os::unix::net::SocketAddr::from_pathname(path),
        _ => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "neither an absolute path nor an abstract name",
        )),
    }
}
