//! The mirror protocol's frames (pure: bytes in, bytes out; no clock, no IO).
//!
//! Every frame, in both directions, is one HEPv3 packet ([`rec_packet::hep`]); frames follow each other on the
//! TLS stream without any other framing. Standard (vendor 0) chunks carry what any HEP agent sends: addresses,
//! ports, timestamp, protocol type 1 (SIP) and the message. The recorder's own chunks use vendor id
//! [`VENDOR`] and the types of [`vendor_type`]; `docs/mirror-protocol.md` is the full description.
//!
//! - Filter → recorder: a [`Message`] (message id, optionally "reply wanted within N ms", the SIP bytes).
//! - Recorder → filter: a [`Reply`] (the id answered, and either the rewritten message or "unchanged" with a
//!   reason) and acknowledgements ([`Ack`]) of the ids received.
//!
//! Decoding never panics on any input; [`FrameReader`] cuts frames out of a byte stream read in arbitrary
//! pieces.

use std::net::SocketAddr;

use rec_packet::hep::{self, Chunk, HepError, HepFields, HepPacket};

/// Vendor id of the recorder's chunks: `0x4C52` ("LR", Lync Recorder). Not a registered HEP vendor id; HEP
/// collectors that do not know it skip these chunks.
pub const VENDOR: u16 = 0x4C52;

/// Types of the vendor [`VENDOR`] chunks.
pub mod vendor_type {
    /// `u64`, big-endian: id of the message this frame carries (filter → recorder). Unique per client
    /// certificate subject, never reused, never 0.
    pub const MESSAGE_ID: u16 = 0x0001;
    /// `u32`, big-endian: the filter holds this message and wants a reply within this many milliseconds.
    pub const REPLY_WITHIN_MS: u16 = 0x0002;
    /// `u64`, big-endian: the id of the message this reply answers (recorder → filter).
    pub const REPLY_TO: u16 = 0x0003;
    /// `u8`: the message must be forwarded unchanged, for the reason given (see [`super::UnchangedReason`]).
    pub const UNCHANGED: u16 = 0x0004;
    /// `n × u64`, big-endian, `n ≥ 1`: ids of messages the recorder has received (and will not lose).
    pub const ACK: u16 = 0x0005;
    /// `n × u64`, big-endian, `n ≥ 1`: ids of messages the recorder could not take now (its engine queue is
    /// full): the filter keeps them and sends them again later (without a reply request).
    pub const NACK: u16 = 0x0006;
}

/// The largest message id count in one ACK chunk (the chunk stays far below the 64 KiB HEP limit).
pub const MAX_ACK_IDS: usize = 1024;

/// Why the recorder answered "unchanged" (the `u8` of the UNCHANGED chunk).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnchangedReason {
    /// 1: the message carries no SDP.
    NoSdp,
    /// 2: the call is not recorded by the policy.
    NotRecorded,
    /// 3: an emergency call, never rewritten.
    Emergency,
    /// 4: SDP examined, nothing needed a change.
    NothingApplied,
    /// 5: the payload is not one complete SIP message.
    NotSip,
    /// 6: fail open: the rewrite could not be produced in time (rewriter busy, failed or too slow).
    FailOpen,
    /// Any other value (from a newer recorder): forward unchanged all the same.
    Other(u8),
}

impl UnchangedReason {
    /// The wire value.
    pub fn code(self) -> u8 {
        match self {
            UnchangedReason::NoSdp => 1,
            UnchangedReason::NotRecorded => 2,
            UnchangedReason::Emergency => 3,
            UnchangedReason::NothingApplied => 4,
            UnchangedReason::NotSip => 5,
            UnchangedReason::FailOpen => 6,
            UnchangedReason::Other(c) => c,
        }
    }

    /// From the wire value.
    pub fn from_code(code: u8) -> UnchangedReason {
        match code {
            1 => UnchangedReason::NoSdp,
            2 => UnchangedReason::NotRecorded,
            3 => UnchangedReason::Emergency,
            4 => UnchangedReason::NothingApplied,
            5 => UnchangedReason::NotSip,
            6 => UnchangedReason::FailOpen,
            c => UnchangedReason::Other(c),
        }
    }
}

impl std::fmt::Display for UnchangedReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UnchangedReason::NoSdp => f.write_str("no SDP"),
            UnchangedReason::NotRecorded => f.write_str("not recorded by the policy"),
            UnchangedReason::Emergency => f.write_str("emergency call"),
            UnchangedReason::NothingApplied => f.write_str("nothing to change"),
            UnchangedReason::NotSip => f.write_str("not a complete SIP message"),
            UnchangedReason::FailOpen => f.write_str("fail open (rewrite not available in time)"),
            UnchangedReason::Other(c) => write!(f, "reason {c}"),
        }
    }
}

/// A mirrored SIP message (filter → recorder), borrowing its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Message<'a> {
    /// The message id (MESSAGE_ID chunk); `None` for plain HEP from capture agents.
    pub id: Option<u64>,
    /// "Reply wanted within N ms" (REPLY_WITHIN_MS chunk).
    pub reply_within_ms: Option<u32>,
    /// Source address and port of the SIP message, as the filter saw it.
    pub src: Option<SocketAddr>,
    /// Destination address and port.
    pub dst: Option<SocketAddr>,
    /// IP protocol of the SIP transport (6 TCP/TLS, 17 UDP).
    pub ip_proto: Option<u8>,
    /// When the filter saw the message, microseconds since the Unix epoch.
    pub at_us: Option<u64>,
    /// The SIP message.
    pub payload: &'a [u8],
}

/// A reply (recorder → filter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reply<'a> {
    /// The id of the answered message.
    pub id: u64,
    /// What to forward.
    pub verdict: Verdict<'a>,
}

/// The content of a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict<'a> {
    /// Forward these bytes instead of the original message.
    Rewritten(&'a [u8]),
    /// Forward the original message.
    Unchanged(UnchangedReason),
}

/// Ids acknowledged by the recorder, as found in an ACK chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ack<'a> {
    raw: &'a [u8],
}

impl<'a> Ack<'a> {
    /// The acknowledged ids, in wire order.
    pub fn ids(&self) -> impl Iterator<Item = u64> + 'a {
        self.raw
            .chunks_exact(8)
            .map(|c| u64::from_be_bytes(c.try_into().unwrap_or([0; 8])))
    }

    /// Number of ids.
    pub fn len(&self) -> usize {
        self.raw.len() / 8
    }

    /// True when no id is carried.
    pub fn is_empty(&self) -> bool {
        self.raw.is_empty()
    }
}

/// One decoded frame. A recorder → filter frame may carry both a reply and acknowledgements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Frame<'a> {
    /// The SIP message carried (filter → recorder), when the frame has a payload and no REPLY_TO chunk.
    pub message: Option<Message<'a>>,
    /// The reply carried (recorder → filter), when the frame has a REPLY_TO chunk.
    pub reply: Option<Reply<'a>>,
    /// Acknowledged ids, when the frame has an ACK chunk.
    pub ack: Option<Ack<'a>>,
    /// Refused ids (to be sent again later), when the frame has a NACK chunk.
    pub nack: Option<Ack<'a>>,
}

/// Why a frame is not a valid mirror frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Not a HEPv3 packet.
    #[error(transparent)]
    Hep(#[from] HepError),
    /// A vendor chunk of the recorder has the wrong size.
    #[error("mirror chunk type 0x{kind:04x} has {len} data bytes")]
    BadVendorChunk {
        /// Chunk type.
        kind: u16,
        /// Data bytes found.
        len: usize,
    },
    /// A reply has neither a payload (rewritten message) nor an UNCHANGED chunk.
    #[error("reply to {0} has neither a rewritten message nor an unchanged reason")]
    EmptyReply(u64),
    /// Message id 0 is reserved.
    #[error("message id 0 is reserved")]
    ZeroId,
    /// Encoding: the timestamp's seconds do not fit HEP's 32-bit seconds chunk (after 2106-02-07).
    #[error("timestamp {0} µs is beyond HEP's 32-bit seconds; message not encoded")]
    TimestampOutOfRange(u64),
}

fn vendor_u64(c: &Chunk<'_>) -> Result<u64, FrameError> {
    let b: [u8; 8] = c.data.try_into().map_err(|_| FrameError::BadVendorChunk {
        kind: c.kind,
        len: c.data.len(),
    })?;
    Ok(u64::from_be_bytes(b))
}

/// Decodes the frame at the start of `buf`; returns it and the bytes it used.
pub fn decode(buf: &[u8]) -> Result<(Frame<'_>, usize), FrameError> {
    let (packet, used) = HepPacket::decode(buf)?;
    Ok((frame_of(&packet)?, used))
}

/// Interprets a decoded HEP packet as a mirror frame. A plain HEP packet from a capture agent is a frame whose
/// [`Message::id`] is `None`; a packet with neither payload nor recorder chunks (a keep-alive) is a frame with
/// nothing in it.
pub fn frame_of<'a>(packet: &HepPacket<'a>) -> Result<Frame<'a>, FrameError> {
    let mut id = None;
    let mut within = None;
    let mut reply_to = None;
    let mut unchanged = None;
    let mut ack = None;
    let mut nack = None;
    for c in packet.unknown_chunks().filter(|c| c.vendor == VENDOR) {
        let bad = || FrameError::BadVendorChunk {
            kind: c.kind,
            len: c.data.len(),
        };
        match c.kind {
            vendor_type::MESSAGE_ID => id = Some(vendor_u64(&c)?),
            vendor_type::REPLY_WITHIN_MS => {
                within = Some(u32::from_be_bytes(c.data.try_into().map_err(|_| bad())?))
            }
            vendor_type::REPLY_TO => reply_to = Some(vendor_u64(&c)?),
            vendor_type::UNCHANGED => {
                let [code]: [u8; 1] = c.data.try_into().map_err(|_| bad())?;
                unchanged = Some(UnchangedReason::from_code(code));
            }
            vendor_type::ACK => {
                if c.data.is_empty() || c.data.len() % 8 != 0 {
                    return Err(bad());
                }
                ack = Some(Ack { raw: c.data });
            }
            vendor_type::NACK => {
                if c.data.is_empty() || c.data.len() % 8 != 0 {
                    return Err(bad());
                }
                nack = Some(Ack { raw: c.data });
            }
            _ => {} // unknown types of our vendor: from a newer peer, skipped
        }
    }
    if id == Some(0) || reply_to == Some(0) {
        return Err(FrameError::ZeroId);
    }
    let f = &packet.fields;
    let reply = match reply_to {
        None => None,
        Some(id) => Some(Reply {
            id,
            verdict: match (unchanged, f.payload) {
                (Some(reason), _) => Verdict::Unchanged(reason),
                (None, Some(p)) => Verdict::Rewritten(p),
                (None, None) => return Err(FrameError::EmptyReply(id)),
            },
        }),
    };
    let message = match (reply_to, f.payload) {
        (None, Some(payload)) => Some(Message {
            id,
            reply_within_ms: within,
            src: f.src(),
            dst: f.dst(),
            ip_proto: f.ip_proto,
            at_us: f.timestamp_micros(),
            payload,
        }),
        _ => None,
    };
    Ok(Frame {
        message,
        reply,
        ack,
        nack,
    })
}

/// Appends a message frame (filter → recorder) to `out`. Refuses id 0 and a timestamp whose seconds do not fit
/// HEP's 32-bit chunk (a decoded frame can carry one: microseconds ≥ 10⁶ next to the largest seconds), leaving
/// `out` as it was.
pub fn encode_message(msg: &Message<'_>, out: &mut Vec<u8>) -> Result<(), FrameError> {
    if msg.id == Some(0) {
        return Err(FrameError::ZeroId);
    }
    let ts_sec = msg
        .at_us
        .map(|t| u32::try_from(t / 1_000_000).map_err(|_| FrameError::TimestampOutOfRange(t)))
        .transpose()?;
    let (src_ip, src_port) = split(msg.src);
    let (dst_ip, dst_port) = split(msg.dst);
    let fields = HepFields {
        ip_proto: msg.ip_proto,
        src_ip,
        dst_ip,
        src_port,
        dst_port,
        ts_sec,
        ts_usec: msg.at_us.map(|t| (t % 1_000_000) as u32),
        proto_type: Some(hep::PROTO_SIP),
        payload: Some(msg.payload),
        ..HepFields::default()
    };
    let id = msg.id.map(u64::to_be_bytes);
    let within = msg.reply_within_ms.map(u32::to_be_bytes);
    let mut extra: [Option<Chunk<'_>>; 2] = [None, None];
    if let Some(id) = &id {
        extra[0] = Some(Chunk {
            vendor: VENDOR,
            kind: vendor_type::MESSAGE_ID,
            data: id,
        });
    }
    if let Some(w) = &within {
        extra[1] = Some(Chunk {
            vendor: VENDOR,
            kind: vendor_type::REPLY_WITHIN_MS,
            data: w,
        });
    }
    let extra: Vec<Chunk<'_>> = extra.into_iter().flatten().collect();
    hep::encode(&fields, &extra, out)?;
    Ok(())
}

fn split(a: Option<SocketAddr>) -> (Option<std::net::IpAddr>, Option<u16>) {
    (a.map(|a| a.ip()), a.map(|a| a.port()))
}

/// Appends a reply frame (recorder → filter) to `out`; `ack` ids (may be empty) ride along in an ACK chunk.
pub fn encode_reply(reply: &Reply<'_>, ack: &[u64], out: &mut Vec<u8>) -> Result<(), FrameError> {
    if reply.id == 0 {
        return Err(FrameError::ZeroId);
    }
    let id = reply.id.to_be_bytes();
    let ack_bytes = ack_bytes(ack);
    let (payload, code) = match reply.verdict {
        Verdict::Rewritten(bytes) => (Some(bytes), None),
        Verdict::Unchanged(reason) => (None, Some([reason.code()])),
    };
    let mut extra = vec![Chunk {
        vendor: VENDOR,
        kind: vendor_type::REPLY_TO,
        data: &id,
    }];
    if let Some(code) = &code {
        extra.push(Chunk {
            vendor: VENDOR,
            kind: vendor_type::UNCHANGED,
            data: code,
        });
    }
    if !ack_bytes.is_empty() {
        extra.push(Chunk {
            vendor: VENDOR,
            kind: vendor_type::ACK,
            data: &ack_bytes,
        });
    }
    let fields = HepFields {
        proto_type: payload.map(|_| hep::PROTO_SIP),
        payload,
        ..HepFields::default()
    };
    hep::encode(&fields, &extra, out)?;
    Ok(())
}

fn ack_bytes(ids: &[u64]) -> Vec<u8> {
    ids.iter().flat_map(|i| i.to_be_bytes()).collect()
}

/// Appends acknowledgement frames for `ids` to `out` (one frame per [`MAX_ACK_IDS`] ids; nothing when empty).
pub fn encode_ack(ids: &[u64], out: &mut Vec<u8>) -> Result<(), FrameError> {
    encode_ids(vendor_type::ACK, ids, out)
}

/// Appends refusal frames (NACK: "not taken, send it again later") for `ids` to `out` (one frame per
/// [`MAX_ACK_IDS`] ids; nothing when empty).
pub fn encode_nack(ids: &[u64], out: &mut Vec<u8>) -> Result<(), FrameError> {
    encode_ids(vendor_type::NACK, ids, out)
}

fn encode_ids(kind: u16, ids: &[u64], out: &mut Vec<u8>) -> Result<(), FrameError> {
    for part in ids.chunks(MAX_ACK_IDS) {
        let bytes = ack_bytes(part);
        hep::encode(
            &HepFields::default(),
            &[Chunk {
                vendor: VENDOR,
                kind,
                data: &bytes,
            }],
            out,
        )?;
    }
    Ok(())
}

/// Cuts frames out of a byte stream read in arbitrary pieces (sans-IO).
///
/// [`FrameReader::buffer`] gives room to read into, [`FrameReader::filled`] commits what was read, and
/// [`FrameReader::next_frame`] hands out complete frames. A stream that is not HEPv3 gives an error, after which
/// the connection must be closed (there is no resynchronisation inside a TLS stream).
#[derive(Debug)]
pub struct FrameReader {
    buf: Vec<u8>,
    start: usize,
    end: usize,
    failed: bool,
}

impl Default for FrameReader {
    fn default() -> Self {
        FrameReader::new()
    }
}

/// The largest frame (HEP's 16-bit length).
pub const MAX_FRAME: usize = 65_535;

impl FrameReader {
    /// An empty reader with room for the largest frame.
    pub fn new() -> FrameReader {
        FrameReader {
            buf: vec![0; 2 * MAX_FRAME],
            start: 0,
            end: 0,
            failed: false,
        }
    }

    /// Free space to read into (never empty unless the reader has failed).
    pub fn buffer(&mut self) -> &mut [u8] {
        if self.start > 0 && (self.start == self.end || self.buf.len() - self.end < MAX_FRAME) {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        &mut self.buf[self.end..]
    }

    /// Commits `n` bytes written into [`FrameReader::buffer`].
    pub fn filled(&mut self, n: usize) {
        self.end = (self.end + n).min(self.buf.len());
    }

    /// Bytes buffered and not handed out yet.
    pub fn buffered(&self) -> usize {
        self.end - self.start
    }

    /// The next complete frame's raw bytes (one HEPv3 packet), `Ok(None)` when more bytes are needed, or the
    /// error that ends the stream.
    pub fn next_raw(&mut self) -> Result<Option<&[u8]>, FrameError> {
        Ok(self.next_range()?.map(|r| &self.buf[r]))
    }

    fn next_range(&mut self) -> Result<Option<std::ops::Range<usize>>, FrameError> {
        if self.failed {
            return Err(FrameError::Hep(HepError::BadMagic));
        }
        let avail = &self.buf[self.start..self.end];
        let len = match hep::frame_len(avail) {
            Ok(Some(len)) => len,
            Ok(None) => {
                // fewer than 6 bytes: still check the magic of what is there
                if !b"HEP3".starts_with(&avail[..avail.len().min(4)]) {
                    self.failed = true;
                    return Err(FrameError::Hep(HepError::BadMagic));
                }
                return Ok(None);
            }
            Err(e) => {
                self.failed = true;
                return Err(e.into());
            }
        };
        if avail.len() < len {
            return Ok(None);
        }
        let at = self.start;
        self.start += len;
        Ok(Some(at..at + len))
    }

    /// The next complete frame decoded (see [`FrameReader::next_raw`]); a frame that is HEPv3 but not a valid
    /// mirror frame is an error too.
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>, FrameError> {
        let Some(range) = self.next_range()? else {
            return Ok(None);
        };
        let (buf, failed) = (&self.buf, &mut self.failed);
        match decode(&buf[range]) {
            Ok((f, _)) => Ok(Some(f)),
            Err(e) => {
                *failed = true;
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIP: &[u8] = b"OPTIONS sip:a@b SIP/2.0\r\nContent-Length: 0\r\n\r\n";

    fn msg() -> Message<'static> {
        Message {
            id: Some(42),
            reply_within_ms: Some(250),
            src: Some("192.0.2.10:5061".parse().unwrap()),
            dst: Some("198.51.100.1:5061".parse().unwrap()),
            ip_proto: Some(6),
            at_us: Some(1_700_000_000_123_456),
            payload: SIP,
        }
    }

    #[test]
    fn message_round_trips_and_is_plain_hep() {
        let mut out = Vec::new();
        encode_message(&msg(), &mut out).unwrap();
        let (frame, used) = decode(&out).unwrap();
        assert_eq!(used, out.len());
        assert_eq!(frame.message, Some(msg()));
        assert_eq!(frame.reply, None);
        assert_eq!(frame.ack, None);
        // a HEP collector that knows nothing of the vendor chunks sees a normal SIP capture
        let (p, _) = HepPacket::decode(&out).unwrap();
        assert_eq!(p.fields.proto_type, Some(1));
        assert_eq!(p.fields.payload, Some(SIP));
        assert_eq!(p.fields.src(), msg().src);
        assert_eq!(p.fields.timestamp_micros(), Some(1_700_000_000_123_456));
        let vendor: Vec<_> = p
            .unknown_chunks()
            .map(|c| (c.vendor, c.kind, c.data))
            .collect();
        assert_eq!(
            vendor,
            vec![
                (VENDOR, 1, &42u64.to_be_bytes()[..]),
                (VENDOR, 2, &250u32.to_be_bytes()[..])
            ]
        );
    }

    #[test]
    fn exact_wire_bytes_of_a_reply() {
        let mut out = Vec::new();
        encode_reply(
            &Reply {
                id: 7,
                verdict: Verdict::Unchanged(UnchangedReason::NoSdp),
            },
            &[7],
            &mut out,
        )
        .unwrap();
        #[rustfmt::skip]
        let want: Vec<u8> = [
            &b"HEP3"[..], &[0, 41],
            &[0x4c, 0x52, 0, 3, 0, 14], &7u64.to_be_bytes(),
            &[0x4c, 0x52, 0, 4, 0, 7, 1],
            &[0x4c, 0x52, 0, 5, 0, 14], &7u64.to_be_bytes(),
        ].concat();
        assert_eq!(out, want);
    }

    #[test]
    fn replies_and_acks_round_trip() {
        let mut out = Vec::new();
        let rewritten = b"INVITE sip:x SIP/2.0\r\nContent-Length: 0\r\n\r\n";
        encode_reply(
            &Reply {
                id: 9,
                verdict: Verdict::Rewritten(rewritten),
            },
            &[9, 3],
            &mut out,
        )
        .unwrap();
        encode_reply(
            &Reply {
                id: 10,
                verdict: Verdict::Unchanged(UnchangedReason::FailOpen),
            },
            &[],
            &mut out,
        )
        .unwrap();
        let ids: Vec<u64> = (1..=MAX_ACK_IDS as u64 + 5).collect();
        encode_ack(&ids, &mut out).unwrap();
        let mut r = FrameReader::new();
        let b = r.buffer();
        b[..out.len()].copy_from_slice(&out);
        r.filled(out.len());
        let f = r.next_frame().unwrap().unwrap();
        assert_eq!(f.message, None);
        assert_eq!(
            f.reply,
            Some(Reply {
                id: 9,
                verdict: Verdict::Rewritten(rewritten)
            })
        );
        assert_eq!(f.ack.unwrap().ids().collect::<Vec<_>>(), vec![9, 3]);
        let f = r.next_frame().unwrap().unwrap();
        assert_eq!(
            f.reply.unwrap().verdict,
            Verdict::Unchanged(UnchangedReason::FailOpen)
        );
        assert_eq!(f.ack, None);
        let mut acked = Vec::new();
        while let Some(f) = r.next_frame().unwrap() {
            assert_eq!((f.message, f.reply), (None, None));
            acked.extend(f.ack.unwrap().ids());
        }
        assert_eq!(acked, ids);
        assert_eq!(r.buffered(), 0);
    }

    #[test]
    fn nacks_round_trip_and_are_not_acks() {
        let mut out = Vec::new();
        let ids: Vec<u64> = (1..=MAX_ACK_IDS as u64 + 1).collect();
        encode_nack(&ids, &mut out).unwrap();
        let mut r = FrameReader::new();
        r.buffer()[..out.len()].copy_from_slice(&out);
        r.filled(out.len());
        let mut refused = Vec::new();
        while let Some(f) = r.next_frame().unwrap() {
            assert_eq!((f.message, f.reply, f.ack), (None, None, None));
            refused.extend(f.nack.unwrap().ids());
        }
        assert_eq!(refused, ids);
        // a NACK chunk of 5 bytes is a protocol error
        let mut bad = Vec::new();
        hep::encode(
            &HepFields::default(),
            &[Chunk {
                vendor: VENDOR,
                kind: vendor_type::NACK,
                data: &[0; 5],
            }],
            &mut bad,
        )
        .unwrap();
        assert!(decode(&bad).is_err());
    }

    #[test]
    fn bad_vendor_chunks_are_errors() {
        let mut out = Vec::new();
        hep::encode(
            &HepFields {
                payload: Some(SIP),
                ..HepFields::default()
            },
            &[Chunk {
                vendor: VENDOR,
                kind: vendor_type::MESSAGE_ID,
                data: &[1, 2, 3],
            }],
            &mut out,
        )
        .unwrap();
        assert!(matches!(
            decode(&out),
            Err(FrameError::BadVendorChunk { kind: 1, len: 3 })
        ));
        assert_eq!(
            encode_message(
                &Message {
                    id: Some(0),
                    ..msg()
                },
                &mut out
            ),
            Err(FrameError::ZeroId)
        );
    }

    #[test]
    fn byte_by_byte_reads_give_the_same_frames() {
        let mut wire = Vec::new();
        for id in 1..=5u64 {
            encode_message(
                &Message {
                    id: Some(id),
                    ..msg()
                },
                &mut wire,
            )
            .unwrap();
        }
        let mut r = FrameReader::new();
        let mut ids = Vec::new();
        for b in &wire {
            r.buffer()[0] = *b;
            r.filled(1);
            while let Some(f) = r.next_frame().unwrap() {
                ids.push(f.message.unwrap().id.unwrap());
            }
        }
        assert_eq!(ids, vec![1, 2, 3, 4, 5]);
    }

    #[test]
    fn garbage_is_refused_at_once() {
        let mut r = FrameReader::new();
        r.buffer()[..3].copy_from_slice(b"GET");
        r.filled(3);
        assert!(r.next_frame().is_err());
        assert!(r.next_frame().is_err());
    }
}
