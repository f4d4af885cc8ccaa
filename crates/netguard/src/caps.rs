//! Connection caps: at most `max_total` connections at once and at most `max_per_source` from one source
//! address. A connection is *pending* until its owner calls [`Admission::authenticated`] (for the mirror: the
//! TLS handshake with a valid client certificate finished; for the admin API: the TLS handshake finished).
//! When the total cap is reached, a new connection evicts the oldest pending one instead of being refused, so
//! a flood of silent connections can delay a legitimate client by one handshake at most, never lock it out;
//! only when every slot holds an authenticated connection is a new one refused.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

/// Why a connection was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Every slot holds an authenticated connection.
    Total,
    /// The source address already has `max_per_source` connections.
    PerSource,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Refusal::Total => "connection limit reached",
            Refusal::PerSource => "per-source connection limit reached",
        })
    }
}

/// One pending connection's eviction signal.
#[derive(Debug, Default)]
struct Eviction {
    done: AtomicBool,
    notify: Notify,
}

#[derive(Debug, Default)]
struct Inner {
    total: usize,
    per_source: HashMap<IpAddr, usize>,
    /// Pending connections, oldest first.
    pending: VecDeque<(u64, Arc<Eviction>)>,
    next_id: u64,
    authenticated: usize,
}

impl Inner {
    fn release(&mut self, ip: IpAddr) {
        self.total = self.total.saturating_sub(1);
        if let Some(n) = self.per_source.get_mut(&ip) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.per_source.remove(&ip);
            }
        }
    }
}

/// The caps of one listener, shared by its accept loop and connection tasks.
#[derive(Debug)]
pub struct ConnCaps {
    max_total: usize,
    max_per_source: usize,
    inner: Mutex<Inner>,
}

/// What the caps hold at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CapsSnapshot {
    /// Connections held (pending and authenticated).
    pub open: usize,
    /// Of those, pending (not yet authenticated).
    pub pending: usize,
    /// Distinct source addresses holding connections.
    pub sources: usize,
}

impl ConnCaps {
    /// Caps of `max_total` connections and `max_per_source` per source address (each at least 1).
    pub fn new(max_total: usize, max_per_source: usize) -> Arc<ConnCaps> {
        Arc::new(ConnCaps {
            max_total: max_total.max(1),
            max_per_source: max_per_source.max(1),
            inner: Mutex::new(Inner::default()),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Admits a new connection from `source` (IPv4-mapped IPv6 counts as IPv4), evicting the oldest pending
    /// connection when the total cap is reached; the slot is freed when the [`Admission`] is dropped.
    pub fn admit(self: &Arc<Self>, source: IpAddr) -> Result<Admission, Refusal> {
        let ip = source.to_canonical();
        let mut inner = self.lock();
        if inner.per_source.get(&ip).copied().unwrap_or(0) >= self.max_per_source {
            return Err(Refusal::PerSource);
        }
        if inner.total >= self.max_total {
            let Some((_, victim)) = inner.pending.pop_front() else {
                return Err(Refusal::Total);
            };
            // its slot is freed now; its task sees the signal and closes the socket
            victim.done.store(true, Ordering::Release);
            victim.notify.notify_one();
            inner.total = inner.total.saturating_sub(1);
            // the victim's source count is released by its own drop (it knows its address)
        }
        inner.total += 1;
        *inner.per_source.entry(ip).or_insert(0) += 1;
        let id = inner.next_id;
        inner.next_id += 1;
        let eviction = Arc::new(Eviction::default());
        inner.pending.push_back((id, eviction.clone()));
        Ok(Admission {
            caps: self.clone(),
            ip,
            id,
            eviction,
            pending: true,
        })
    }

    /// Current counts.
    pub fn snapshot(&self) -> CapsSnapshot {
        let inner = self.lock();
        CapsSnapshot {
            open: inner.total,
            pending: inner.pending.len(),
            sources: inner.per_source.len(),
        }
    }
}

/// A held connection slot (freed on drop).
#[derive(Debug)]
pub struct Admission {
    caps: Arc<ConnCaps>,
    ip: IpAddr,
    id: u64,
    eviction: Arc<Eviction>,
    pending: bool,
}

impl Admission {
    /// The connection is authenticated: it can no longer be evicted. `false` when it already was (its
    /// owner must then close it).
    pub fn authenticated(&mut self) -> bool {
        if !self.pending {
            return true;
        }
        let mut inner = self.caps.lock();
        if self.is_evicted() {
            return false;
        }
        self.pending = false;
        if let Some(i) = inner.pending.iter().position(|(id, _)| *id == self.id) {
            inner.pending.remove(i);
        }
        inner.authenticated += 1;
        true
    }

    /// Whether a newer connection has taken this pending connection's slot.
    pub fn is_evicted(&self) -> bool {
        self.eviction.done.load(Ordering::Acquire)
    }

    /// Completes when a newer connection takes this pending connection's slot (never once authenticated).
    pub async fn evicted(&self) {
        if !self.pending {
            return std::future::pending().await;
        }
        if self.is_evicted() {
            return;
        }
        self.eviction.notify.notified().await;
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        let mut inner = self.caps.lock();
        if self.pending {
            if self.eviction.done.load(Ordering::Acquire) {
                // the total was released at eviction; the source count is ours to release
                if let Some(n) = inner.per_source.get_mut(&self.ip) {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        inner.per_source.remove(&self.ip);
                    }
                }
                return;
            }
            if let Some(i) = inner.pending.iter().position(|(id, _)| *id == self.id) {
                inner.pending.remove(i);
            }
        } else {
            inner.authenticated = inner.authenticated.saturating_sub(1);
        }
        inner.release(self.ip);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([127, 0, 0, last])
    }

    #[test]
    fn per_source_cap_and_release() {
        let caps = ConnCaps::new(10, 2);
        let a = caps.admit(ip(1)).unwrap();
        let _b = caps.admit(ip(1)).unwrap();
        assert_eq!(caps.admit(ip(1)).unwrap_err(), Refusal::PerSource);
        // the IPv4-mapped IPv6 form is the same source
        let mapped: IpAddr = "::ffff:127.0.0.1".parse().unwrap();
        assert_eq!(caps.admit(mapped).unwrap_err(), Refusal::PerSource);
        let _c = caps.admit(ip(2)).unwrap();
        drop(a);
        let _d = caps.admit(ip(1)).unwrap();
        assert_eq!(
            caps.snapshot(),
            CapsSnapshot {
                open: 3,
                pending: 3,
                sources: 2
            }
        );
    }

    #[test]
    fn full_cap_evicts_the_oldest_pending_and_refuses_when_all_authenticated() {
        let caps = ConnCaps::new(3, 3);
        let old = caps.admit(ip(1)).unwrap();
        let mut auth1 = caps.admit(ip(2)).unwrap();
        auth1.authenticated();
        let younger = caps.admit(ip(3)).unwrap();
        // full: the oldest pending (not the authenticated one) makes room
        let newest = caps.admit(ip(4)).unwrap();
        assert!(old.is_evicted());
        assert!(!younger.is_evicted() && !newest.is_evicted());
        assert_eq!(caps.snapshot().open, 3);
        let mut old = old;
        assert!(
            !old.authenticated(),
            "an evicted connection cannot authenticate"
        );
        drop(old); // the evicted one's drop releases only its source
        assert_eq!(caps.snapshot().open, 3);
        assert_eq!(caps.snapshot().sources, 3);
        let mut y = younger;
        assert!(y.authenticated());
        let mut n = newest;
        assert!(n.authenticated());
        assert_eq!(caps.admit(ip(5)).unwrap_err(), Refusal::Total);
        drop(y);
        assert!(caps.admit(ip(5)).is_ok());
        drop(n);
        drop(auth1);
        assert_eq!(caps.snapshot(), CapsSnapshot::default());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn eviction_wakes_the_waiting_task() {
        let caps = ConnCaps::new(1, 1);
        let first = caps.admit(ip(1)).unwrap();
        let waiter = tokio::spawn(async move {
            first.evicted().await;
            first.is_evicted()
        });
        tokio::task::yield_now().await;
        let _second = caps.admit(ip(2)).unwrap();
        assert!(waiter.await.unwrap());
    }
}
