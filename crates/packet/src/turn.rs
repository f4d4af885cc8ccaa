//! TURN (RFC 5766 / RFC 8656) and MS-TURN unwrapping: from a relayed packet to the inner bytes and the
//! real peer address.
//!
//! Carriers handled by [`unwrap_turn`]:
//! - RFC 5766 ChannelData (`channel | length | data`, padded to 4 bytes on TCP) — the peer comes from a
//!   ChannelBind learnt by a [`TurnTracker`];
//! - RFC 5766 Send (0x0016) / Data (0x0017) indications: XOR-PEER-ADDRESS + DATA;
//! - MS-TURN Send request (0x0004: DESTINATION-ADDRESS 0x0011 + DATA 0x0013) and Data Indication
//!   (0x0115: REMOTE-ADDRESS 0x0012 + DATA); MS-TURN addresses are not XORed;
//! - the MS-TURN multiplexed form `0xFF10 | length | 8-byte session id | data` — the peer comes from a
//!   Set Active Destination learnt by a [`TurnTracker`].
//!
//! A message is MS-TURN when its first attribute is MAGIC-COOKIE 0x000F = 0x72C64BC6 (see
//! [`StunMessage::dialect`]); the same type numbers mean different things in the two dialects
//! (0x0004 is a Refresh request in RFC 5766 and a Send request in MS-TURN).
//!
//! Stream framing: [`split_turn_stream`] splits RFC 5766 TURN-over-TCP (back-to-back STUN messages and
//! padded ChannelData), [`split_ms_turn_tcp`] the MS-TURN TCP frames `type | 0 | length | payload`.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use thiserror::Error;

use crate::demux::{classify, PacketKind, StunDialect, StunError, StunMessage, STUN_HEADER_LEN};

/// RFC 5766 Send indication.
pub const SEND_INDICATION: u16 = 0x0016;
/// RFC 5766 Data indication.
pub const DATA_INDICATION: u16 = 0x0017;
/// RFC 5766 ChannelBind request.
pub const CHANNEL_BIND_REQUEST: u16 = 0x0009;
/// RFC 5766 ChannelBind success response.
pub const CHANNEL_BIND_RESPONSE: u16 = 0x0109;
/// RFC 5766 ChannelBind error response.
pub const CHANNEL_BIND_ERROR: u16 = 0x0119;
/// MS-TURN Send request.
pub const MS_SEND_REQUEST: u16 = 0x0004;
/// MS-TURN Data Indication.
pub const MS_DATA_INDICATION: u16 = 0x0115;
/// MS-TURN Set Active Destination request.
pub const MS_SET_ACTIVE_DEST_REQUEST: u16 = 0x0006;
/// MS-TURN Set Active Destination response.
pub const MS_SET_ACTIVE_DEST_RESPONSE: u16 = 0x0106;
/// MS-TURN Set Active Destination error response.
pub const MS_SET_ACTIVE_DEST_ERROR: u16 = 0x0116;

/// RFC 5766 CHANNEL-NUMBER attribute.
pub const ATTR_CHANNEL_NUMBER: u16 = 0x000C;
/// RFC 5766 XOR-PEER-ADDRESS attribute (MS-TURN REMOTE-ADDRESS has the same number, not XORed).
pub const ATTR_XOR_PEER_ADDRESS: u16 = 0x0012;
/// MS-TURN REMOTE-ADDRESS attribute (plain address).
pub const ATTR_MS_REMOTE_ADDRESS: u16 = 0x0012;
/// MS-TURN DESTINATION-ADDRESS attribute (plain address).
pub const ATTR_MS_DESTINATION_ADDRESS: u16 = 0x0011;
/// DATA attribute (both dialects).
pub const ATTR_DATA: u16 = 0x0013;
/// First byte pair of the MS-TURN multiplexed form.
pub const MS_MUX_CHANNEL: u16 = 0xFF10;

const MS_MUX_HEADER_LEN: usize = 12;

/// What was wrong with a TURN / MS-TURN packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum TurnError {
    /// The STUN layer is malformed.
    #[error("bad TURN message: {0}")]
    Stun(#[from] StunError),
    /// A ChannelData / multiplexed frame is shorter than its header or its length field.
    #[error("{what} truncated: need {need} bytes, have {have}")]
    Truncated {
        /// Which framing.
        what: &'static str,
        /// Bytes needed.
        need: usize,
        /// Bytes present.
        have: usize,
    },
    /// A data-carrying message lacks an attribute it needs.
    #[error("TURN message type {msg_type:#06x} lacks attribute {attr_type:#06x}")]
    MissingAttribute {
        /// The message type.
        msg_type: u16,
        /// The missing attribute.
        attr_type: u16,
    },
    /// An address attribute has a bad family or length.
    #[error("address attribute {attr_type:#06x} malformed (family {family}, {len} bytes)")]
    BadAddress {
        /// The attribute type.
        attr_type: u16,
        /// Its family byte (0 when too short to have one).
        family: u8,
        /// Its value length.
        len: usize,
    },
    /// A byte stream does not start with a TURN message (no way to resynchronise).
    #[error("TURN stream desynchronised: first byte {first:#04x} is neither STUN nor ChannelData")]
    BadStreamByte {
        /// The byte seen.
        first: u8,
    },
    /// An MS-TURN TCP frame has an unknown type or a non-zero reserved byte.
    #[error("MS-TURN TCP frame header {b0:#04x} {b1:#04x} is not 0x02/0x03 followed by 0x00")]
    BadMsTcpFrame {
        /// Type byte.
        b0: u8,
        /// Reserved byte.
        b1: u8,
    },
}

/// How the inner packet was carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encapsulation {
    /// RFC 5766 ChannelData on this channel number.
    ChannelData(u16),
    /// RFC 5766 Send indication (client → server).
    SendIndication,
    /// RFC 5766 Data indication (server → client).
    DataIndication,
    /// MS-TURN Send request (client → server).
    MsSendRequest,
    /// MS-TURN Data Indication (server → client).
    MsDataIndication,
    /// MS-TURN multiplexed form with this 8-byte session id.
    MsMultiplexed([u8; 8]),
}

/// Which way the packet went over the client–relay leg.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// The packet's source is the TURN client, its destination the TURN server.
    ClientToServer,
    /// The packet's source is the TURN server, its destination the client.
    ServerToClient,
    /// Not known (ChannelData / multiplexed data without a learnt binding).
    Unknown,
}

/// A TURN-unwrapped packet: the inner bytes (borrowed) and who the real peer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unwrapped<'a> {
    /// The relayed packet (SRTP, SRTCP, STUN, DTLS...), borrowed from the input.
    pub data: &'a [u8],
    /// The peer on the far side of the relay, when known.
    pub peer: Option<SocketAddr>,
    /// Which way the packet went between client and server.
    pub direction: Direction,
    /// The TURN client's address (source or destination), when the direction is known.
    pub client: Option<SocketAddr>,
    /// The TURN server's address (source or destination), when the direction is known.
    pub server: Option<SocketAddr>,
    /// How it was carried.
    pub encapsulation: Encapsulation,
}

/// Decodes a STUN address attribute value (`0 | family | port | address`), XORed when `xor_id` is
/// given (`xor_id` = the 16 header bytes 4..20: magic cookie and transaction id).
pub fn decode_address(
    attr_type: u16,
    value: &[u8],
    xor_id: Option<&[u8]>,
) -> Result<SocketAddr, TurnError> {
    let bad = |family| TurnError::BadAddress {
        attr_type,
        family,
        len: value.len(),
    };
    if value.len() < 4 {
        return Err(bad(0));
    }
    let family = value[1];
    let mut port = u16::from_be_bytes([value[2], value[3]]);
    let mask = |i: usize| xor_id.and_then(|x| x.get(i).copied()).unwrap_or(0);
    if xor_id.is_some() {
        port ^= u16::from_be_bytes([mask(0), mask(1)]);
    }
    let ip = match (family, value.len()) {
        (1, 8) => {
            let mut a = [0u8; 4];
            for (i, b) in a.iter_mut().enumerate() {
                *b = value[4 + i] ^ mask(i);
            }
            IpAddr::V4(Ipv4Addr::from(a))
        }
        (2, 20) => {
            let mut a = [0u8; 16];
            for (i, b) in a.iter_mut().enumerate() {
                *b = value[4 + i] ^ mask(i);
            }
            IpAddr::V6(Ipv6Addr::from(a))
        }
        _ => return Err(bad(family)),
    };
    Ok(SocketAddr::new(ip, port))
}

/// Zero-copy view of an RFC 5766 ChannelData message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelData<'a> {
    /// Channel number (0x4000–0x7FFF).
    pub channel: u16,
    /// Application data (length field bytes; padding excluded).
    pub data: &'a [u8],
}

impl<'a> ChannelData<'a> {
    /// Parses a ChannelData message; trailing bytes (TCP padding) are ignored.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, TurnError> {
        if bytes.len() < 4 {
            return Err(TurnError::Truncated {
                what: "ChannelData",
                need: 4,
                have: bytes.len(),
            });
        }
        let channel = u16::from_be_bytes([bytes[0], bytes[1]]);
        if !(0x4000..=0x7FFF).contains(&channel) {
            return Err(TurnError::BadStreamByte { first: bytes[0] });
        }
        let len = usize::from(u16::from_be_bytes([bytes[2], bytes[3]]));
        if bytes.len() < 4 + len {
            return Err(TurnError::Truncated {
                what: "ChannelData",
                need: 4 + len,
                have: bytes.len(),
            });
        }
        Ok(ChannelData {
            channel,
            data: &bytes[4..4 + len],
        })
    }
}

/// Zero-copy view of an MS-TURN multiplexed packet (`0xFF10 | length | session id | data`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MsMultiplexed<'a> {
    /// The 8-byte MTURN session id.
    pub session_id: [u8; 8],
    /// The wrapped data.
    pub data: &'a [u8],
}

impl<'a> MsMultiplexed<'a> {
    /// Parses a multiplexed packet; the length field counts the bytes after it (session id + data).
    pub fn parse(bytes: &'a [u8]) -> Result<Self, TurnError> {
        if bytes.len() < MS_MUX_HEADER_LEN {
            return Err(TurnError::Truncated {
                what: "MS-TURN multiplexed packet",
                need: MS_MUX_HEADER_LEN,
                have: bytes.len(),
            });
        }
        if u16::from_be_bytes([bytes[0], bytes[1]]) != MS_MUX_CHANNEL {
            return Err(TurnError::BadStreamByte { first: bytes[0] });
        }
        let len = usize::from(u16::from_be_bytes([bytes[2], bytes[3]]));
        if len < 8 {
            return Err(TurnError::Truncated {
                what: "MS-TURN multiplexed length field",
                need: 8,
                have: len,
            });
        }
        let need = 4 + len;
        if bytes.len() < need {
            return Err(TurnError::Truncated {
                what: "MS-TURN multiplexed packet",
                need,
                have: bytes.len(),
            });
        }
        let mut session_id = [0u8; 8];
        session_id.copy_from_slice(&bytes[4..12]);
        Ok(MsMultiplexed {
            session_id,
            data: &bytes[12..need],
        })
    }
}

/// Length of the first complete RFC 5766 TURN-over-TCP message in `buf` (STUN message, or ChannelData
/// with its padding to 4 bytes); `Ok(None)` when more bytes are needed.
pub fn split_turn_stream(buf: &[u8]) -> Result<Option<usize>, TurnError> {
    if buf.len() < 4 {
        return Ok(None);
    }
    let len = usize::from(u16::from_be_bytes([buf[2], buf[3]]));
    let total = match buf[0] >> 6 {
        0 => STUN_HEADER_LEN + len,
        1 => (4 + len + 3) & !3,
        _ => return Err(TurnError::BadStreamByte { first: buf[0] }),
    };
    Ok((buf.len() >= total).then_some(total))
}

/// Kind of an MS-TURN TCP frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MsTcpFrameKind {
    /// Type 0x02: a TURN control message.
    Control,
    /// Type 0x03: data (to or from the active destination).
    Data,
}

/// One MS-TURN TCP frame: `type (0x02 | 0x03) | 0x00 | u16 length | payload`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MsTcpFrame<'a> {
    /// Control or data.
    pub kind: MsTcpFrameKind,
    /// The payload (length field bytes).
    pub payload: &'a [u8],
    /// Bytes the frame occupies in the stream (4 + payload length).
    pub wire_len: usize,
}

/// The first complete MS-TURN TCP frame in `buf`; `Ok(None)` when more bytes are needed.
pub fn split_ms_turn_tcp(buf: &[u8]) -> Result<Option<MsTcpFrame<'_>>, TurnError> {
    if buf.len() < 2 {
        return Ok(None);
    }
    let kind = match (buf[0], buf[1]) {
        (0x02, 0x00) => MsTcpFrameKind::Control,
        (0x03, 0x00) => MsTcpFrameKind::Data,
        (b0, b1) => return Err(TurnError::BadMsTcpFrame { b0, b1 }),
    };
    if buf.len() < 4 {
        return Ok(None);
    }
    let len = usize::from(u16::from_be_bytes([buf[2], buf[3]]));
    if buf.len() < 4 + len {
        return Ok(None);
    }
    Ok(Some(MsTcpFrame {
        kind,
        payload: &buf[4..4 + len],
        wire_len: 4 + len,
    }))
}

fn known(
    direction: Direction,
    src: SocketAddr,
    dst: SocketAddr,
) -> (Option<SocketAddr>, Option<SocketAddr>) {
    match direction {
        Direction::ClientToServer => (Some(src), Some(dst)),
        Direction::ServerToClient => (Some(dst), Some(src)),
        Direction::Unknown => (None, None),
    }
}

/// Unwraps one TURN / MS-TURN packet sent from `src` to `dst`.
///
/// `Ok(None)`: not a data-carrying TURN packet (plain RTP/RTCP/DTLS, or a STUN/TURN control message such
/// as Allocate or a Binding request). `Err`: it looks like TURN but is malformed. The tracker, when
/// given, supplies peers for ChannelData (ChannelBind) and multiplexed data (Set Active Destination).
pub fn unwrap_turn<'a>(
    payload: &'a [u8],
    src: SocketAddr,
    dst: SocketAddr,
    tracker: Option<&TurnTracker>,
) -> Result<Option<Unwrapped<'a>>, TurnError> {
    match classify(payload) {
        PacketKind::TurnChannel => {
            let cd = ChannelData::parse(payload)?;
            let (peer, direction) = match tracker {
                Some(t) => t.channel_peer_either(src, dst, cd.channel),
                None => (None, Direction::Unknown),
            };
            let (client, server) = known(direction, src, dst);
            Ok(Some(Unwrapped {
                data: cd.data,
                peer,
                direction,
                client,
                server,
                encapsulation: Encapsulation::ChannelData(cd.channel),
            }))
        }
        PacketKind::MsTurnMux => {
            let m = MsMultiplexed::parse(payload)?;
            let (peer, direction) = match tracker {
                Some(t) => t.active_destination_either(src, dst),
                None => (None, Direction::Unknown),
            };
            let (client, server) = known(direction, src, dst);
            Ok(Some(Unwrapped {
                data: m.data,
                peer,
                direction,
                client,
                server,
                encapsulation: Encapsulation::MsMultiplexed(m.session_id),
            }))
        }
        PacketKind::Stun => {
            let msg = StunMessage::parse(payload)?;
            unwrap_stun(&msg, src, dst)
        }
        _ => Ok(None),
    }
}

fn unwrap_stun<'a>(
    msg: &StunMessage<'a>,
    src: SocketAddr,
    dst: SocketAddr,
) -> Result<Option<Unwrapped<'a>>, TurnError> {
    let msg_type = msg.msg_type();
    let (encapsulation, addr_attr, xor, direction) = match (msg.dialect(), msg_type) {
        (StunDialect::Rfc5389, SEND_INDICATION) => (
            Encapsulation::SendIndication,
            ATTR_XOR_PEER_ADDRESS,
            true,
            Direction::ClientToServer,
        ),
        (StunDialect::Rfc5389, DATA_INDICATION) => (
            Encapsulation::DataIndication,
            ATTR_XOR_PEER_ADDRESS,
            true,
            Direction::ServerToClient,
        ),
        (StunDialect::MsTurn | StunDialect::Classic, MS_SEND_REQUEST) => (
            Encapsulation::MsSendRequest,
            ATTR_MS_DESTINATION_ADDRESS,
            false,
            Direction::ClientToServer,
        ),
        (StunDialect::MsTurn | StunDialect::Classic, MS_DATA_INDICATION) => (
            Encapsulation::MsDataIndication,
            ATTR_MS_REMOTE_ADDRESS,
            false,
            Direction::ServerToClient,
        ),
        _ => return Ok(None),
    };
    let mut data = None;
    let mut addr = None;
    for attr in msg.attributes() {
        let attr = attr?;
        if attr.attr_type == ATTR_DATA && data.is_none() {
            data = Some(attr.value);
        } else if attr.attr_type == addr_attr && addr.is_none() {
            addr = Some(attr.value);
        }
    }
    let missing = |attr_type| TurnError::MissingAttribute {
        msg_type,
        attr_type,
    };
    let data = data.ok_or(missing(ATTR_DATA))?;
    let addr = addr.ok_or(missing(addr_attr))?;
    let peer = decode_address(addr_attr, addr, xor.then(|| msg.transaction_id_128()))?;
    let (client, server) = known(direction, src, dst);
    Ok(Some(Unwrapped {
        data,
        peer: Some(peer),
        direction,
        client,
        server,
        encapsulation,
    }))
}

/// What a [`TurnTracker`] learnt from one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Learned {
    /// A channel → peer binding (from a ChannelBind request).
    Channel {
        /// TURN client.
        client: SocketAddr,
        /// TURN server.
        server: SocketAddr,
        /// Channel number.
        channel: u16,
        /// Peer bound to it.
        peer: SocketAddr,
    },
    /// An MS-TURN active destination (from a Set Active Destination request).
    ActiveDestination {
        /// TURN client.
        client: SocketAddr,
        /// TURN server.
        server: SocketAddr,
        /// The destination peer.
        peer: SocketAddr,
    },
    /// A binding learnt from a request was withdrawn because the server refused it.
    Withdrawn,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct ChannelKey {
    client: SocketAddr,
    server: SocketAddr,
    channel: u16,
}

#[derive(Debug, Clone, Copy)]
enum Pending {
    Channel(ChannelKey),
    Active(SocketAddr, SocketAddr),
}

/// Sans-IO learner of TURN channel bindings and MS-TURN active destinations from the messages it is
/// shown, so ChannelData and multiplexed data can be given their real peer.
///
/// Bindings are taken from requests (a passive tap may miss the response) and withdrawn when an error
/// response to that request is seen. Memory is bounded: past `max_entries` bindings, new ones are
/// refused and counted in [`TurnTracker::refused`].
#[derive(Debug, Clone)]
pub struct TurnTracker {
    channels: HashMap<ChannelKey, SocketAddr>,
    active: HashMap<(SocketAddr, SocketAddr), SocketAddr>,
    pending: HashMap<[u8; 16], Pending>,
    max_entries: usize,
    refused: u64,
}

impl Default for TurnTracker {
    fn default() -> Self {
        Self::new(65_536)
    }
}

impl TurnTracker {
    /// A tracker holding at most `max_entries` channel bindings, active destinations and pending requests (each).
    pub fn new(max_entries: usize) -> Self {
        TurnTracker {
            channels: HashMap::new(),
            active: HashMap::new(),
            pending: HashMap::new(),
            max_entries,
            refused: 0,
        }
    }

    /// Number of channel bindings known.
    pub fn channel_count(&self) -> usize {
        self.channels.len()
    }

    /// Bindings refused because the tracker was full.
    pub fn refused(&self) -> u64 {
        self.refused
    }

    /// The peer bound to `channel` between this client and server.
    pub fn channel_peer(
        &self,
        client: SocketAddr,
        server: SocketAddr,
        channel: u16,
    ) -> Option<SocketAddr> {
        self.channels
            .get(&ChannelKey {
                client,
                server,
                channel,
            })
            .copied()
    }

    /// The MS-TURN active destination of this client on this server.
    pub fn active_destination(&self, client: SocketAddr, server: SocketAddr) -> Option<SocketAddr> {
        self.active.get(&(client, server)).copied()
    }

    fn channel_peer_either(
        &self,
        src: SocketAddr,
        dst: SocketAddr,
        channel: u16,
    ) -> (Option<SocketAddr>, Direction) {
        if let Some(p) = self.channel_peer(src, dst, channel) {
            (Some(p), Direction::ClientToServer)
        } else if let Some(p) = self.channel_peer(dst, src, channel) {
            (Some(p), Direction::ServerToClient)
        } else {
            (None, Direction::Unknown)
        }
    }

    fn active_destination_either(
        &self,
        src: SocketAddr,
        dst: SocketAddr,
    ) -> (Option<SocketAddr>, Direction) {
        if let Some(p) = self.active_destination(src, dst) {
            (Some(p), Direction::ClientToServer)
        } else if let Some(p) = self.active_destination(dst, src) {
            (Some(p), Direction::ServerToClient)
        } else {
            (None, Direction::Unknown)
        }
    }

    fn txid_key(msg: &StunMessage<'_>) -> [u8; 16] {
        let mut k = [0u8; 16];
        k.copy_from_slice(msg.transaction_id_128());
        k
    }

    /// Shows the tracker one UDP payload (or one framed TCP message) from `src` to `dst`; returns what it
    /// learnt, if anything. Malformed input is ignored.
    pub fn observe(&mut self, payload: &[u8], src: SocketAddr, dst: SocketAddr) -> Option<Learned> {
        if classify(payload) != PacketKind::Stun {
            return None;
        }
        let msg = StunMessage::parse(payload).ok()?;
        let dialect = msg.dialect();
        match (dialect, msg.msg_type()) {
            (StunDialect::Rfc5389, CHANNEL_BIND_REQUEST) => {
                let ch = msg.attribute(ATTR_CHANNEL_NUMBER)?;
                if ch.len() < 2 {
                    return None;
                }
                let channel = u16::from_be_bytes([ch[0], ch[1]]);
                let peer_attr = msg.attribute(ATTR_XOR_PEER_ADDRESS)?;
                let peer = decode_address(
                    ATTR_XOR_PEER_ADDRESS,
                    peer_attr,
                    Some(msg.transaction_id_128()),
                )
                .ok()?;
                let key = ChannelKey {
                    client: src,
                    server: dst,
                    channel,
                };
                if !self.channels.contains_key(&key) && self.channels.len() >= self.max_entries {
                    self.refused += 1;
                    return None;
                }
                self.channels.insert(key, peer);
                self.remember(Self::txid_key(&msg), Pending::Channel(key));
                Some(Learned::Channel {
                    client: src,
                    server: dst,
                    channel,
                    peer,
                })
            }
            (StunDialect::MsTurn | StunDialect::Classic, MS_SET_ACTIVE_DEST_REQUEST) => {
                let attr = msg.attribute(ATTR_MS_DESTINATION_ADDRESS)?;
                let peer = decode_address(ATTR_MS_DESTINATION_ADDRESS, attr, None).ok()?;
                let key = (src, dst);
                if !self.active.contains_key(&key) && self.active.len() >= self.max_entries {
                    self.refused += 1;
                    return None;
                }
                self.active.insert(key, peer);
                self.remember(Self::txid_key(&msg), Pending::Active(src, dst));
                Some(Learned::ActiveDestination {
                    client: src,
                    server: dst,
                    peer,
                })
            }
            (StunDialect::Rfc5389, CHANNEL_BIND_RESPONSE)
            | (StunDialect::MsTurn | StunDialect::Classic, MS_SET_ACTIVE_DEST_RESPONSE) => {
                self.pending.remove(&Self::txid_key(&msg));
                None
            }
            (StunDialect::Rfc5389, CHANNEL_BIND_ERROR)
            | (StunDialect::MsTurn | StunDialect::Classic, MS_SET_ACTIVE_DEST_ERROR) => {
                match self.pending.remove(&Self::txid_key(&msg))? {
                    Pending::Channel(key) => {
                        // Only withdraw if the response comes back on the same leg.
                        if key.client != dst || key.server != src {
                            return None;
                        }
                        self.channels.remove(&key);
                    }
                    Pending::Active(client, server) => {
                        if client != dst || server != src {
                            return None;
                        }
                        self.active.remove(&(client, server));
                    }
                }
                Some(Learned::Withdrawn)
            }
            _ => None,
        }
    }

    fn remember(&mut self, txid: [u8; 16], p: Pending) {
        if self.pending.len() >= self.max_entries {
            // Unanswered requests pile up on a lossy tap: forget them all rather than grow.
            self.pending.clear();
        }
        self.pending.insert(txid, p);
    }
}
