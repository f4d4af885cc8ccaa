//! The relay-forcing rewriter for whole SIP messages, and the recording policy behind it.
//!
//! A recorded call's media must cross the Edge (TURN relay) where the recorder captures it. For every SDP body
//! of a SIP message (each `multipart` part on its own) the rewriter asks [`rec_sdp::force_relay`] to move the
//! port of every non-relay candidate to an invalid one, when all of these hold (see `../shared/domain/LYNC.md`):
//! the call is to be recorded ([`Policy`]), the message is not an emergency call (unless configured), the stream
//! is to be recorded (audio, or video when configured) and its section offers relay candidates.
//! Everything but the changed ports, moved defaults and `Content-Length` stays byte-identical.
//!
//! Pure: bytes in, bytes and an [`Account`] out.

pub mod config;
pub mod number;
pub mod policy;
mod rewrite;

pub use config::{RewriteConfig, UNDECODABLE_CODECS};
pub use number::Number;
pub use policy::{Decision, DefaultAction, Policy, PolicyConfig, RuleError};
pub use rewrite::{Account, PartAccount, RewriteError, Rewriter, Unchanged};
