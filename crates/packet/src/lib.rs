//! Frames to payloads: link layers, IP with bounded defragmentation, UDP, TCP reassembly for signaling,
//! TURN / MS-TURN unwrapping, RFC 7983 demultiplexing, RTP/RTCP views and HEPv3.
//!
//! Pure: frames and their capture times are inputs; nothing here reads a clock, a file or a socket
//! (the `capture` module is the one thin shell around libpcap, kept separate).

#[cfg(feature = "capture")]
pub mod capture;
pub mod defrag;
pub mod hep;
pub mod hep_input;
pub mod hep_legacy;
pub mod link;
pub mod tcp;

pub mod demux;
pub mod rtp;
pub mod turn;

pub use link::{decode_frame, decode_transport, DecodeError, Decoded, LinkType, Transport};
pub use turn::{unwrap_turn, TurnTracker, Unwrapped};
