//! Zero-copy RTP (RFC 3550 §5.1, RFC 8285 extensions) and RTCP (RFC 3550 §6) views.
//!
//! [`header_len`] is all that in-place SRTP decryption needs; [`RtpPacket`] gives the fields and the
//! payload (padding removed when P is set); [`RtcpCompound`] walks the packets of a compound RTCP
//! datagram (SR, RR, SDES, BYE, APP and others) with the sender SSRC of each.

use thiserror::Error;

/// Fixed RTP header length.
pub const RTP_FIXED_HEADER_LEN: usize = 12;

/// What was wrong with an RTP or RTCP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum RtpError {
    /// Shorter than the header it announces.
    #[error("{what} truncated: need {need} bytes, have {have}")]
    Truncated {
        /// Which part.
        what: &'static str,
        /// Bytes needed.
        need: usize,
        /// Bytes present.
        have: usize,
    },
    /// Version field is not 2.
    #[error("RTP/RTCP version {0} (expected 2)")]
    BadVersion(u8),
    /// The P bit is set but the last byte's padding count is 0 or exceeds the payload.
    #[error("bad RTP/RTCP padding count {count} for {avail} bytes after the header")]
    BadPadding {
        /// Padding count in the last byte.
        count: u8,
        /// Bytes available after the header.
        avail: usize,
    },
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// Length of the RTP header (fixed part, CSRCs and extension), checking version 2 and that the header fits.
///
/// Does not look at padding, so it suits SRTP packets whose padding is encrypted.
pub fn header_len(packet: &[u8]) -> Result<usize, RtpError> {
    if packet.len() < RTP_FIXED_HEADER_LEN {
        return Err(RtpError::Truncated {
            what: "RTP header",
            need: RTP_FIXED_HEADER_LEN,
            have: packet.len(),
        });
    }
    let v = packet[0] >> 6;
    if v != 2 {
        return Err(RtpError::BadVersion(v));
    }
    let mut len = RTP_FIXED_HEADER_LEN + 4 * usize::from(packet[0] & 0x0F);
    if packet[0] & 0x10 != 0 {
        if packet.len() < len + 4 {
            return Err(RtpError::Truncated {
                what: "RTP extension header",
                need: len + 4,
                have: packet.len(),
            });
        }
        len += 4 + 4 * usize::from(be16(packet, len + 2));
    }
    if packet.len() < len {
        return Err(RtpError::Truncated {
            what: "RTP header",
            need: len,
            have: packet.len(),
        });
    }
    Ok(len)
}

/// The RTP header extension: profile-defined 16 bits and the extension bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpExtension<'a> {
    /// The 16-bit profile field (0xBEDE for RFC 8285 one-byte headers, 0x100x for two-byte headers).
    pub profile: u16,
    /// The extension data (a multiple of 4 bytes).
    pub data: &'a [u8],
}

/// Zero-copy view of one (plain) RTP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    bytes: &'a [u8],
    header_len: usize,
    payload_end: usize,
}

impl<'a> RtpPacket<'a> {
    /// Parses an RTP packet: header as in [`header_len`], and a valid padding count when P is set.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, RtpError> {
        let header_len = header_len(bytes)?;
        let mut payload_end = bytes.len();
        if bytes[0] & 0x20 != 0 {
            let avail = bytes.len() - header_len;
            let count = bytes[bytes.len() - 1];
            if count == 0 || usize::from(count) > avail {
                return Err(RtpError::BadPadding { count, avail });
            }
            payload_end -= usize::from(count);
        }
        Ok(RtpPacket {
            bytes,
            header_len,
            payload_end,
        })
    }

    /// Version field (always 2 after parsing).
    pub fn version(&self) -> u8 {
        self.bytes[0] >> 6
    }

    /// P bit: the packet ends with padding.
    pub fn padding(&self) -> bool {
        self.bytes[0] & 0x20 != 0
    }

    /// X bit: a header extension follows the CSRCs.
    pub fn has_extension(&self) -> bool {
        self.bytes[0] & 0x10 != 0
    }

    /// Number of CSRCs.
    pub fn csrc_count(&self) -> u8 {
        self.bytes[0] & 0x0F
    }

    /// Marker bit.
    pub fn marker(&self) -> bool {
        self.bytes[1] & 0x80 != 0
    }

    /// Payload type (7 bits).
    pub fn payload_type(&self) -> u8 {
        self.bytes[1] & 0x7F
    }

    /// Sequence number.
    pub fn sequence(&self) -> u16 {
        be16(self.bytes, 2)
    }

    /// RTP timestamp.
    pub fn timestamp(&self) -> u32 {
        be32(self.bytes, 4)
    }

    /// Synchronisation source.
    pub fn ssrc(&self) -> u32 {
        be32(self.bytes, 8)
    }

    /// The contributing sources, in order.
    pub fn csrcs(&self) -> impl ExactSizeIterator<Item = u32> + 'a {
        let n = usize::from(self.csrc_count());
        self.bytes[RTP_FIXED_HEADER_LEN..RTP_FIXED_HEADER_LEN + 4 * n]
            .chunks_exact(4)
            .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
    }

    /// The header extension, when X is set.
    pub fn extension(&self) -> Option<RtpExtension<'a>> {
        if !self.has_extension() {
            return None;
        }
        let at = RTP_FIXED_HEADER_LEN + 4 * usize::from(self.csrc_count());
        Some(RtpExtension {
            profile: be16(self.bytes, at),
            data: &self.bytes[at + 4..self.header_len],
        })
    }

    /// Header length (fixed part, CSRCs, extension).
    pub fn header_len(&self) -> usize {
        self.header_len
    }

    /// The payload, padding removed.
    pub fn payload(&self) -> &'a [u8] {
        &self.bytes[self.header_len..self.payload_end]
    }

    /// Number of padding bytes (0 when P is clear).
    pub fn padding_len(&self) -> usize {
        self.bytes.len() - self.payload_end
    }

    /// The whole packet.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }
}

/// RTCP packet types of RFC 3550 (others are reported by number).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RtcpType {
    /// 200 Sender Report.
    SenderReport,
    /// 201 Receiver Report.
    ReceiverReport,
    /// 202 Source Description.
    SourceDescription,
    /// 203 Goodbye.
    Bye,
    /// 204 Application-defined.
    App,
    /// Any other type (205 RTPFB, 206 PSFB, 207 XR, ...).
    Other(u8),
}

impl From<u8> for RtcpType {
    fn from(pt: u8) -> Self {
        match pt {
            200 => RtcpType::SenderReport,
            201 => RtcpType::ReceiverReport,
            202 => RtcpType::SourceDescription,
            203 => RtcpType::Bye,
            204 => RtcpType::App,
            other => RtcpType::Other(other),
        }
    }
}

/// Sender information block of an SR.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderInfo {
    /// 64-bit NTP timestamp.
    pub ntp_timestamp: u64,
    /// RTP timestamp matching the NTP time.
    pub rtp_timestamp: u32,
    /// Packets sent.
    pub packet_count: u32,
    /// Payload octets sent.
    pub octet_count: u32,
}

/// Zero-copy view of one RTCP packet inside a compound datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtcpPacket<'a> {
    bytes: &'a [u8],
}

impl<'a> RtcpPacket<'a> {
    /// Parses the RTCP packet at the start of `bytes` (its length field decides how much it takes).
    pub fn parse(bytes: &'a [u8]) -> Result<Self, RtpError> {
        if bytes.len() < 4 {
            return Err(RtpError::Truncated {
                what: "RTCP header",
                need: 4,
                have: bytes.len(),
            });
        }
        let v = bytes[0] >> 6;
        if v != 2 {
            return Err(RtpError::BadVersion(v));
        }
        let len = 4 * (usize::from(be16(bytes, 2)) + 1);
        if bytes.len() < len {
            return Err(RtpError::Truncated {
                what: "RTCP packet",
                need: len,
                have: bytes.len(),
            });
        }
        let bytes = &bytes[..len];
        if bytes[0] & 0x20 != 0 {
            let count = bytes[len - 1];
            let avail = len - 4;
            if count == 0 || usize::from(count) > avail {
                return Err(RtpError::BadPadding { count, avail });
            }
        }
        Ok(RtcpPacket { bytes })
    }

    /// P bit.
    pub fn padding(&self) -> bool {
        self.bytes[0] & 0x20 != 0
    }

    /// The 5-bit count field (report count, source count, or APP/feedback subtype).
    pub fn count(&self) -> u8 {
        self.bytes[0] & 0x1F
    }

    /// Packet type number (200 SR, 201 RR, ...).
    pub fn packet_type_number(&self) -> u8 {
        self.bytes[1]
    }

    /// Packet type.
    pub fn packet_type(&self) -> RtcpType {
        RtcpType::from(self.bytes[1])
    }

    /// Length field (32-bit words minus one).
    pub fn length_words(&self) -> u16 {
        be16(self.bytes, 2)
    }

    /// SSRC of the sender (SR/RR/APP/feedback) or of the first chunk (SDES/BYE); `None` if the packet
    /// has no room for one (or is an SDES/BYE with count 0).
    pub fn ssrc(&self) -> Option<u32> {
        let no_source = matches!(
            self.packet_type(),
            RtcpType::SourceDescription | RtcpType::Bye
        ) && self.count() == 0;
        (self.bytes.len() >= 8 && !no_source).then(|| be32(self.bytes, 4))
    }

    /// The sender information of an SR.
    pub fn sender_info(&self) -> Option<SenderInfo> {
        (self.packet_type() == RtcpType::SenderReport && self.bytes.len() >= 28).then(|| {
            SenderInfo {
                ntp_timestamp: (u64::from(be32(self.bytes, 8)) << 32)
                    | u64::from(be32(self.bytes, 12)),
                rtp_timestamp: be32(self.bytes, 16),
                packet_count: be32(self.bytes, 20),
                octet_count: be32(self.bytes, 24),
            }
        })
    }

    /// Bytes after the 4-byte header, padding removed.
    pub fn body(&self) -> &'a [u8] {
        let pad = if self.padding() {
            usize::from(self.bytes[self.bytes.len() - 1])
        } else {
            0
        };
        &self.bytes[4..self.bytes.len() - pad]
    }

    /// The whole packet.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }
}

/// Iterator over the packets of a compound RTCP datagram; yields an error then stops at a malformed one.
#[derive(Debug, Clone)]
pub struct RtcpCompound<'a> {
    rest: &'a [u8],
    done: bool,
}

impl<'a> RtcpCompound<'a> {
    /// Starts walking a compound datagram (plain RTCP, or SRTCP with its trailer removed).
    pub fn new(datagram: &'a [u8]) -> Self {
        RtcpCompound {
            rest: datagram,
            done: false,
        }
    }
}

impl<'a> Iterator for RtcpCompound<'a> {
    type Item = Result<RtcpPacket<'a>, RtpError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.rest.is_empty() {
            return None;
        }
        match RtcpPacket::parse(self.rest) {
            Ok(p) => {
                self.rest = &self.rest[p.bytes.len()..];
                Some(Ok(p))
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }
}

impl std::iter::FusedIterator for RtcpCompound<'_> {}
