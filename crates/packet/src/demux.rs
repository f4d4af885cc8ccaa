//! RFC 7983 demultiplexing of one UDP payload (STUN / ZRTP / DTLS / TURN channel / RTP / RTCP),
//! plus a zero-copy STUN (RFC 5389 / RFC 3489 / MS-TURN) message view.
//!
//! The first byte decides (RFC 7983 §7): 0–3 STUN, 16–19 ZRTP, 20–63 DTLS, 64–79 TURN ChannelData,
//! 128–191 RTP or RTCP. RTP and RTCP are told apart by the second byte (RFC 5761 §4: packet types
//! 192–223 are RTCP). The MS-TURN multiplexed form starts with 0xFF10 and is reported separately.

use thiserror::Error;

/// The RFC 5389 magic cookie in bytes 4..8 of a STUN header.
pub const STUN_MAGIC_COOKIE: u32 = 0x2112_A442;
/// Value of the MS-TURN MAGIC-COOKIE attribute (0x000F), the first attribute of every MS-TURN message.
pub const MS_TURN_MAGIC_COOKIE: u32 = 0x72C6_4BC6;
/// Type of the MS-TURN MAGIC-COOKIE attribute.
pub const ATTR_MS_MAGIC_COOKIE: u16 = 0x000F;
/// Length of a STUN / TURN message header.
pub const STUN_HEADER_LEN: usize = 20;

/// What a UDP payload is, by its first bytes (RFC 7983).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PacketKind {
    /// STUN, TURN or MS-TURN message (first byte 0–3).
    Stun,
    /// ZRTP (first byte 16–19).
    Zrtp,
    /// DTLS record (first byte 20–63).
    Dtls,
    /// TURN ChannelData (first byte 64–79).
    TurnChannel,
    /// RTP (first byte 128–191, second byte's low 7 bits not an RTCP type).
    Rtp,
    /// RTCP (first byte 128–191, second byte 192–223).
    Rtcp,
    /// MS-TURN multiplexed data (`0xFF10 | len | session id | data`).
    MsTurnMux,
    /// None of the above (or too short to tell).
    Unknown,
}

/// Classifies a UDP payload by RFC 7983 first-byte ranges (RTP vs RTCP by RFC 5761).
///
/// Looks at two bytes at most; never fails: too short or unmatched input is [`PacketKind::Unknown`].
pub fn classify(payload: &[u8]) -> PacketKind {
    let Some(&b0) = payload.first() else {
        return PacketKind::Unknown;
    };
    match b0 {
        0..=3 => PacketKind::Stun,
        16..=19 => PacketKind::Zrtp,
        20..=63 => PacketKind::Dtls,
        64..=79 => PacketKind::TurnChannel,
        128..=191 => match payload.get(1) {
            Some(192..=223) => PacketKind::Rtcp,
            Some(_) => PacketKind::Rtp,
            None => PacketKind::Unknown,
        },
        0xFF if payload.get(1) == Some(&0x10) => PacketKind::MsTurnMux,
        _ => PacketKind::Unknown,
    }
}

/// What was wrong with a STUN message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum StunError {
    /// Fewer bytes than the 20-byte header, or than the header's length field announces.
    #[error("STUN message truncated: need {need} bytes, have {have}")]
    Truncated {
        /// Bytes needed.
        need: usize,
        /// Bytes present.
        have: usize,
    },
    /// The two most significant bits of the message type are not zero.
    #[error("not a STUN message: first byte {first:#04x} has its top two bits set")]
    NotStun {
        /// The first byte seen.
        first: u8,
    },
    /// An attribute's length runs past the end of the message.
    #[error("STUN attribute {attr_type:#06x} at offset {offset} claims {len} bytes, message body has {avail}")]
    AttributeOverrun {
        /// Type of the offending attribute.
        attr_type: u16,
        /// Offset of the attribute header inside the message.
        offset: usize,
        /// Announced value length.
        len: usize,
        /// Bytes left after the attribute header.
        avail: usize,
    },
    /// A few bytes after the last attribute that cannot hold an attribute header.
    #[error(
        "STUN message has {len} stray bytes at offset {offset}, too few for an attribute header"
    )]
    TrailingBytes {
        /// Offset of the stray bytes.
        offset: usize,
        /// How many.
        len: usize,
    },
}

/// Flavour of a STUN-like message, told by cookies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StunDialect {
    /// RFC 5389/8489 STUN and RFC 5766/8656 TURN: header cookie 0x2112A442, no MS MAGIC-COOKIE attribute.
    Rfc5389,
    /// MS-TURN: the first attribute is MAGIC-COOKIE 0x000F = 0x72C64BC6 (header cookie may be anything).
    MsTurn,
    /// RFC 3489 classic STUN (no cookie anywhere).
    Classic,
}

/// Zero-copy view of one STUN / TURN / MS-TURN message.
///
/// Built by [`StunMessage::parse`], which checks the header and that the body is present;
/// attributes are checked lazily by [`StunMessage::attributes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StunMessage<'a> {
    bytes: &'a [u8],
}

/// One STUN attribute: type and value (without padding).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StunAttribute<'a> {
    /// Attribute type.
    pub attr_type: u16,
    /// Attribute value, padding excluded.
    pub value: &'a [u8],
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

impl<'a> StunMessage<'a> {
    /// Parses the message at the start of `bytes` (which may hold more after it: see [`Self::wire_len`]).
    pub fn parse(bytes: &'a [u8]) -> Result<Self, StunError> {
        if bytes.len() < STUN_HEADER_LEN {
            return Err(StunError::Truncated {
                need: STUN_HEADER_LEN,
                have: bytes.len(),
            });
        }
        if bytes[0] & 0xC0 != 0 {
            return Err(StunError::NotStun { first: bytes[0] });
        }
        let total = STUN_HEADER_LEN + usize::from(be16(bytes, 2));
        if bytes.len() < total {
            return Err(StunError::Truncated {
                need: total,
                have: bytes.len(),
            });
        }
        Ok(StunMessage {
            bytes: &bytes[..total],
        })
    }

    /// The message type (method and class bits together), e.g. 0x0001 Binding request, 0x0016 Send indication.
    pub fn msg_type(&self) -> u16 {
        be16(self.bytes, 0)
    }

    /// The length field: bytes of attributes after the 20-byte header.
    pub fn length(&self) -> u16 {
        be16(self.bytes, 2)
    }

    /// Bytes this message occupies (header plus body), to step to the next message in a stream.
    pub fn wire_len(&self) -> usize {
        self.bytes.len()
    }

    /// The whole message bytes.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Bytes 4..8 of the header (0x2112A442 for RFC 5389).
    pub fn header_cookie(&self) -> u32 {
        be32(self.bytes, 4)
    }

    /// RFC 5389 96-bit transaction id (header bytes 8..20).
    pub fn transaction_id(&self) -> &'a [u8] {
        &self.bytes[8..20]
    }

    /// RFC 3489 / MS-TURN 128-bit transaction id (header bytes 4..20).
    pub fn transaction_id_128(&self) -> &'a [u8] {
        &self.bytes[4..20]
    }

    /// The attribute bytes after the header.
    pub fn body(&self) -> &'a [u8] {
        &self.bytes[STUN_HEADER_LEN..]
    }

    /// Which flavour this message is: MS-TURN if its first attribute is MAGIC-COOKIE 0x72C64BC6.
    pub fn dialect(&self) -> StunDialect {
        let body = self.body();
        if body.len() >= 8
            && be16(body, 0) == ATTR_MS_MAGIC_COOKIE
            && be16(body, 2) == 4
            && be32(body, 4) == MS_TURN_MAGIC_COOKIE
        {
            StunDialect::MsTurn
        } else if self.header_cookie() == STUN_MAGIC_COOKIE {
            StunDialect::Rfc5389
        } else {
            StunDialect::Classic
        }
    }

    /// Iterates attributes in order; yields an error (then stops) at a malformed attribute.
    pub fn attributes(&self) -> StunAttributes<'a> {
        StunAttributes {
            body: self.body(),
            pos: 0,
            done: false,
        }
    }

    /// The value of the first attribute of type `attr_type` found before any malformed attribute.
    pub fn attribute(&self, attr_type: u16) -> Option<&'a [u8]> {
        self.attributes()
            .map_while(Result::ok)
            .find(|a| a.attr_type == attr_type)
            .map(|a| a.value)
    }
}

/// Iterator over the attributes of a [`StunMessage`].
#[derive(Debug, Clone)]
pub struct StunAttributes<'a> {
    body: &'a [u8],
    pos: usize,
    done: bool,
}

impl<'a> Iterator for StunAttributes<'a> {
    type Item = Result<StunAttribute<'a>, StunError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.pos >= self.body.len() {
            return None;
        }
        let rest = &self.body[self.pos..];
        let offset = STUN_HEADER_LEN + self.pos;
        if rest.len() < 4 {
            self.done = true;
            return Some(Err(StunError::TrailingBytes {
                offset,
                len: rest.len(),
            }));
        }
        let attr_type = be16(rest, 0);
        let len = usize::from(be16(rest, 2));
        let avail = rest.len() - 4;
        if len > avail {
            self.done = true;
            return Some(Err(StunError::AttributeOverrun {
                attr_type,
                offset,
                len,
                avail,
            }));
        }
        let value = &rest[4..4 + len];
        // Values are padded to 4 bytes; tolerate a last attribute whose padding was left out
        // (RFC 3489-era senders).
        let padded = (len + 3) & !3;
        self.pos += 4 + padded.min(avail);
        Some(Ok(StunAttribute { attr_type, value }))
    }
}

impl std::iter::FusedIterator for StunAttributes<'_> {}
