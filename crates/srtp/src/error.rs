//! Error type of the crate. Messages name the packet (SSRC, sequence number, index) or the
//! parameter that was wrong, never key material.

/// Result alias used throughout the crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Everything that can go wrong while parsing keys or protecting/unprotecting packets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The crypto-suite name is not one of the supported SDES suites.
    #[error("unsupported SRTP crypto suite {0:?}")]
    UnknownSuite(String),
    /// The SDES key parameters are malformed (the reason never contains key bytes).
    #[error("bad SDES key parameters: {0}")]
    BadKeyParams(&'static str),
    /// The decoded master key + salt has the wrong length for the suite.
    #[error("SDES key has {got} bytes after base64 decoding, suite needs {want}")]
    BadKeyLength {
        /// Decoded length.
        got: usize,
        /// Length the suite requires (key + salt).
        want: usize,
    },
    /// The packet is shorter than its header plus MKI and tag.
    #[error("packet of {len} bytes is too short (needs at least {min})")]
    TooShort {
        /// Packet length.
        len: usize,
        /// Minimum length for this packet's header and the suite's trailer.
        min: usize,
    },
    /// The packet is not RTP/RTCP version 2.
    #[error("packet has RTP version {0}, expected 2")]
    BadVersion(u8),
    /// The MKI carried by the packet matches no known master key.
    #[error("packet MKI matches no known master key (SSRC {ssrc:#010x})")]
    UnknownMki {
        /// SSRC of the packet.
        ssrc: u32,
    },
    /// No key / ROC candidate authenticated the SRTP packet.
    #[error("SRTP authentication failed (SSRC {ssrc:#010x}, seq {seq})")]
    AuthFailed {
        /// SSRC of the packet.
        ssrc: u32,
        /// RTP sequence number of the packet.
        seq: u16,
    },
    /// No key authenticated the SRTCP packet.
    #[error("SRTCP authentication failed (SSRC {ssrc:#010x}, index {index})")]
    RtcpAuthFailed {
        /// Sender SSRC of the compound packet.
        ssrc: u32,
        /// SRTCP index from the trailer.
        index: u32,
    },
    /// Replay protection is on and this packet index was already accepted.
    #[error("replayed packet (SSRC {ssrc:#010x}, index {index})")]
    Replayed {
        /// SSRC of the packet.
        ssrc: u32,
        /// Packet index (48-bit SRTP index or 31-bit SRTCP index).
        index: u64,
    },
    /// Replay protection is on and the packet is older than the replay window.
    #[error("packet too old for the replay window (SSRC {ssrc:#010x}, index {index})")]
    TooOld {
        /// SSRC of the packet.
        ssrc: u32,
        /// Packet index.
        index: u64,
    },
    /// The SRTCP index space (2^31 packets) is exhausted for this SSRC when encrypting.
    #[error("SRTCP index exhausted for SSRC {0:#010x}")]
    IndexExhausted(u32),
}
