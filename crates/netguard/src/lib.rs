//! Resource bounds shared by the recorder's network listeners (the mTLS mirror, the plain HEP listener and
//! the admin API), so that a hostile network cannot take the slots, memory or file descriptors that the
//! legitimate clients need:
//!
//! - [`caps`]: connection caps, total and per source address, evicting the oldest unauthenticated connection
//!   first ([`ConnCaps`]);
//! - [`deadline`]: idle and write-stall deadlines on a stream ([`GuardedStream`]);
//! - [`fds`]: the file-descriptor limit and accept back-off.
//!
//! The limits, their defaults and what happens when one is reached: `docs/hardening.md` ("Limits").

#![forbid(unsafe_code)]

pub mod caps;
pub mod deadline;
pub mod fds;

pub use caps::{Admission, CapsSnapshot, ConnCaps, Refusal};
pub use deadline::{Deadlines, Expired, Expiry, GuardedStream};
pub use fds::{accept_backoff, is_fd_exhaustion, nofile_limit, raise_nofile_limit};
