//! SDP for the Lync / Skype for Business call recorder.
//!
//! * [`Sdp`]: a lenient line model that reproduces its input byte for byte (line endings,
//!   trailing spaces, unknown lines and attributes), with the byte range of every line.
//! * Typed, zero-copy views parsed on demand: [`Session`], [`MediaSection`] (`m=`, `c=`,
//!   `a=rtcp`, `a=rtpmap`/`a=fmtp`, `a=x-ssrc-range`, ICE credentials, direction, ...),
//!   [`Candidate`] in both ICE formats Lync sends (ICE-19 / RFC 5245 and the old draft-6 of
//!   the fallback part), [`Crypto`] (RFC 4568 `a=crypto` and Lync's `a=cryptoscale`).
//! * [`force_relay`]: the pure relay-forcing rewrite that makes every recorded call's media
//!   cross the Edge server, returned as byte-range [`Edit`]s so everything else stays identical.
//!
//! The crate does no I/O; parsing allocates only the line vector.

mod candidate;
mod crypto;
mod error;
mod line;
mod relay;
mod view;

pub use candidate::{Candidate, CandidateKind, CandidateType, RemoteCandidates};
pub use crypto::{Crypto, KeyParam, Lifetime, Mki};
pub use error::SdpError;
pub use line::{Line, LineEnding, Sdp};
pub use relay::{
    force_relay, force_relay_append, CandidateChange, ConnectionChange, DefaultMove, Edit,
    RelayApplied, RelayPolicy, RelayRewrite, SectionReport, SkipReason,
};
pub use view::{
    Attribute, Connection, Direction, Fmtp, MediaKind, MediaLine, MediaSection, Origin, Rtcp,
    Rtpmap, Session, SsrcRange,
};
