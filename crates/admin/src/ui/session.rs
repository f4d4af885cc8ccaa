//! Web UI sessions: a server-side table keyed by a random 256-bit id (the cookie value), each with the token
//! name and role it was opened with and its own CSRF token; an idle and an absolute expiry. Times are
//! passed in (`Instant`), so expiry is tested without waiting.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::auth::Role;

/// The session cookie's name.
pub const COOKIE_NAME: &str = "rec_session";
/// Sessions kept at once; opening one more drops the expired ones, then the least recently used.
pub const MAX_SESSIONS: usize = 10_000;

/// How long sessions last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    /// A session unused this long ends.
    pub idle: Duration,
    /// A session ends this long after sign-in, however busy.
    pub absolute: Duration,
}

impl Default for SessionLimits {
    /// 30 minutes idle, 12 hours at most.
    fn default() -> Self {
        SessionLimits {
            idle: Duration::from_secs(30 * 60),
            absolute: Duration::from_secs(12 * 3600),
        }
    }
}

/// What a valid session cookie stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// The configured name of the token signed in with (written to the audit log).
    pub name: String,
    /// Its role.
    pub role: Role,
    /// The token state-changing requests must carry in `X-CSRF-Token`.
    pub csrf: String,
}

#[derive(Debug)]
struct Entry {
    info: SessionInfo,
    created: Instant,
    last_seen: Instant,
}

/// The open sessions.
#[derive(Debug)]
pub struct Sessions {
    limits: SessionLimits,
    map: Mutex<HashMap<String, Entry>>,
}

/// 32 random bytes as 64 hex digits (`None` if the system's random source fails).
fn random_hex() -> Option<String> {
    let mut bytes = [0u8; 32];
    rustls::crypto::ring::default_provider()
        .secure_random
        .fill(&mut bytes)
        .ok()?;
    Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

impl Sessions {
    /// An empty table with these limits.
    pub fn new(limits: SessionLimits) -> Sessions {
        Sessions {
            limits,
            map: Mutex::new(HashMap::new()),
        }
    }

    /// The limits.
    pub fn limits(&self) -> SessionLimits {
        self.limits
    }

    fn expired(&self, e: &Entry, now: Instant) -> bool {
        now.saturating_duration_since(e.last_seen) >= self.limits.idle
            || now.saturating_duration_since(e.created) >= self.limits.absolute
    }

    /// Opens a session for a token; returns its id (the cookie value) and info. `None` if no random id
    /// could be made.
    pub fn open(&self, name: &str, role: Role, now: Instant) -> Option<(String, SessionInfo)> {
        let id = random_hex()?;
        let info = SessionInfo {
            name: name.to_owned(),
            role,
            csrf: random_hex()?,
        };
        let mut map = self.map.lock().ok()?;
        if map.len() >= MAX_SESSIONS {
            map.retain(|_, e| !self.expired(e, now));
            if map.len() >= MAX_SESSIONS {
                let oldest = map
                    .iter()
                    .min_by_key(|(_, e)| e.last_seen)
                    .map(|(k, _)| k.clone());
                if let Some(k) = oldest {
                    map.remove(&k);
                }
            }
        }
        map.insert(
            id.clone(),
            Entry {
                info: info.clone(),
                created: now,
                last_seen: now,
            },
        );
        Some((id, info))
    }

    /// The session `id` names, if it is open and not expired (an expired one is removed); using it
    /// resets its idle time.
    pub fn get(&self, id: &str, now: Instant) -> Option<SessionInfo> {
        let mut map = self.map.lock().ok()?;
        let entry = map.get_mut(id)?;
        if self.expired(entry, now) {
            map.remove(id);
            return None;
        }
        entry.last_seen = now;
        Some(entry.info.clone())
    }

    /// Ends the session `id` (sign-out). Returns whether it was open.
    pub fn close(&self, id: &str) -> bool {
        self.map
            .lock()
            .map(|mut m| m.remove(id).is_some())
            .unwrap_or(false)
    }

    /// Open sessions (expired ones not yet removed included).
    pub fn len(&self) -> usize {
        self.map.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// No session open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The value of the session cookie in a `Cookie` header, if any.
pub fn cookie_value(header: &str) -> Option<&str> {
    header.split(';').find_map(|pair| {
        let (name, value) = pair.trim().split_once('=')?;
        (name.trim() == COOKIE_NAME).then(|| value.trim())
    })
}

/// The `Set-Cookie` value opening a session.
pub fn set_cookie(id: &str, limits: SessionLimits) -> String {
    format!(
        "{COOKIE_NAME}={id}; Secure; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        limits.absolute.as_secs()
    )
}

/// The `Set-Cookie` value removing the session cookie.
pub fn clear_cookie() -> String {
    format!("{COOKIE_NAME}=; Secure; HttpOnly; SameSite=Strict; Path=/; Max-Age=0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_get_expire_close() {
        let s = Sessions::new(SessionLimits {
            idle: Duration::from_secs(60),
            absolute: Duration::from_secs(300),
        });
        let t0 = Instant::now();
        let (id, info) = s.open("ops", Role::Listener, t0).unwrap();
        assert_eq!(id.len(), 64);
        assert_eq!(info.csrf.len(), 64);
        assert_ne!(id, info.csrf);
        let (id2, _) = s.open("ops", Role::Admin, t0).unwrap();
        assert_ne!(id, id2, "ids are random");
        assert_eq!(s.get(&id, t0 + Duration::from_secs(59)), Some(info.clone()));
        // idle time restarts on use
        assert!(s.get(&id, t0 + Duration::from_secs(118)).is_some());
        // idle expiry
        assert!(s.get(&id2, t0 + Duration::from_secs(61)).is_none());
        assert!(s.get(&id2, t0).is_none(), "an expired session is gone");
        // absolute expiry, however busy
        for k in 1..=5 {
            let t = t0 + Duration::from_secs(50 * k);
            assert!(s.get(&id, t).is_some(), "{k}");
        }
        assert!(s.get(&id, t0 + Duration::from_secs(300)).is_none());
        let (id3, _) = s.open("a", Role::Admin, t0).unwrap();
        assert!(s.close(&id3));
        assert!(!s.close(&id3));
        assert!(s.get(&id3, t0).is_none());
        assert!(s.get("", t0).is_none());
    }

    #[test]
    fn cookies() {
        assert_eq!(cookie_value("a=b; rec_session=abc ;c=d"), Some("abc"));
        assert_eq!(cookie_value("rec_sessionx=abc"), None);
        assert_eq!(cookie_value(""), None);
        let c = set_cookie("abc", SessionLimits::default());
        for part in [
            "Secure",
            "HttpOnly",
            "SameSite=Strict",
            "Path=/",
            "Max-Age=43200",
        ] {
            assert!(c.contains(part), "{c}");
        }
        assert!(clear_cookie().contains("Max-Age=0"));
    }
}
