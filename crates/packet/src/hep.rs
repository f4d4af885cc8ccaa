//! HEPv3 (Homer Encapsulation Protocol, a.k.a. EEP) encode and decode.
//!
//! A packet is `"HEP3"`, a 16-bit total length (header included), then chunks, each a 16-bit
//! vendor id, a 16-bit type and a 16-bit length (chunk header included), all big-endian. Vendor 0
//! holds the standard chunks decoded into [`HepFields`]; every other chunk (other vendors, unknown
//! types, such as the recorder's mirror-protocol chunks) is kept as a raw [`Chunk`] reachable with
//! [`HepPacket::unknown_chunks`]. Decoding borrows from the input; encoding appends to a
//! caller-supplied `Vec`.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// `proto_type` value of SIP.
pub const PROTO_SIP: u8 = 1;
/// `ip_family` value of IPv4 (`AF_INET`).
pub const FAMILY_IPV4: u8 = 2;
/// `ip_family` value of IPv6 (`AF_INET6` as on Linux).
pub const FAMILY_IPV6: u8 = 10;

/// Standard (vendor 0) chunk types.
pub mod chunk_type {
    /// IP protocol family (u8).
    pub const IP_FAMILY: u16 = 0x01;
    /// IP protocol id (u8; 6 TCP, 17 UDP).
    pub const IP_PROTO: u16 = 0x02;
    /// IPv4 source address.
    pub const IPV4_SRC: u16 = 0x03;
    /// IPv4 destination address.
    pub const IPV4_DST: u16 = 0x04;
    /// IPv6 source address.
    pub const IPV6_SRC: u16 = 0x05;
    /// IPv6 destination address.
    pub const IPV6_DST: u16 = 0x06;
    /// Source port (u16).
    pub const SRC_PORT: u16 = 0x07;
    /// Destination port (u16).
    pub const DST_PORT: u16 = 0x08;
    /// Timestamp, seconds since the epoch (u32).
    pub const TS_SEC: u16 = 0x09;
    /// Timestamp, microseconds part (u32).
    pub const TS_USEC: u16 = 0x0a;
    /// Captured protocol type (u8; 1 SIP).
    pub const PROTO_TYPE: u16 = 0x0b;
    /// Capture agent id (u32).
    pub const CAPTURE_ID: u16 = 0x0c;
    /// Keep-alive timer (u16, seconds).
    pub const KEEP_ALIVE: u16 = 0x0d;
    /// Authentication key (octets).
    pub const AUTH_KEY: u16 = 0x0e;
    /// Captured packet payload (octets).
    pub const PAYLOAD: u16 = 0x0f;
    /// Captured compressed payload (octets, gzip).
    pub const COMPRESSED_PAYLOAD: u16 = 0x10;
    /// Internal correlation id (octets).
    pub const CORRELATION_ID: u16 = 0x11;
    /// VLAN id (u16).
    pub const VLAN: u16 = 0x12;
    /// Node name / group id (octets).
    pub const NODE_NAME: u16 = 0x13;
}

/// Why bytes are not a HEPv3 packet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HepError {
    /// Fewer bytes than the header or the announced length.
    #[error("HEP packet truncated: need {need} bytes, have {have}")]
    Truncated {
        /// Bytes needed.
        need: usize,
        /// Bytes available.
        have: usize,
    },
    /// The first four bytes are not "HEP3".
    #[error("not a HEPv3 packet (bad magic)")]
    BadMagic,
    /// The total length is smaller than the 6-byte header.
    #[error("HEP total length {0} smaller than the header")]
    BadLength(u16),
    /// A chunk's length is below 6 or runs past the packet.
    #[error(
        "HEP chunk (vendor {vendor}, type 0x{kind:04x}) at offset {offset} has bad length {len}"
    )]
    BadChunkLength {
        /// Vendor id.
        vendor: u16,
        /// Chunk type.
        kind: u16,
        /// Offset of the chunk in the packet.
        offset: usize,
        /// Its announced length.
        len: u16,
    },
    /// A standard fixed-size chunk has the wrong size.
    #[error("HEP chunk type 0x{kind:04x} has {len} data bytes, expected {expected}")]
    BadChunkSize {
        /// Chunk type.
        kind: u16,
        /// Data bytes found.
        len: usize,
        /// Data bytes expected.
        expected: usize,
    },
    /// Encoding: the packet would exceed 65535 bytes.
    #[error("HEP packet too large to encode: {0} bytes")]
    TooLarge(usize),
    /// Encoding: source and destination addresses are of different families.
    #[error("HEP source and destination addresses differ in IP version")]
    MixedFamilies,
}

/// One chunk as found on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk<'a> {
    /// Vendor id (0 = standard).
    pub vendor: u16,
    /// Chunk type.
    pub kind: u16,
    /// Chunk data (without the 6-byte chunk header).
    pub data: &'a [u8],
}

/// The standard chunks of a HEPv3 packet; absent chunks are `None`. Used for decoding and encoding.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct HepFields<'a> {
    /// IP family (2 IPv4, 10 IPv6). On encode, derived from `src_ip` when `None`.
    pub ip_family: Option<u8>,
    /// IP protocol (17 UDP, 6 TCP).
    pub ip_proto: Option<u8>,
    /// Source address (chunk 3 or 5).
    pub src_ip: Option<IpAddr>,
    /// Destination address (chunk 4 or 6).
    pub dst_ip: Option<IpAddr>,
    /// Source port.
    pub src_port: Option<u16>,
    /// Destination port.
    pub dst_port: Option<u16>,
    /// Timestamp seconds.
    pub ts_sec: Option<u32>,
    /// Timestamp microseconds.
    pub ts_usec: Option<u32>,
    /// Captured protocol type (1 SIP).
    pub proto_type: Option<u8>,
    /// Capture agent id.
    pub capture_id: Option<u32>,
    /// Keep-alive timer.
    pub keep_alive: Option<u16>,
    /// Authentication key (redacted in Debug output).
    pub auth_key: Option<&'a [u8]>,
    /// Captured payload.
    pub payload: Option<&'a [u8]>,
    /// Captured compressed payload.
    pub compressed_payload: Option<&'a [u8]>,
    /// Correlation id.
    pub correlation_id: Option<&'a [u8]>,
    /// VLAN id.
    pub vlan: Option<u16>,
    /// Node name / group id.
    pub node_name: Option<&'a [u8]>,
}

impl fmt::Debug for HepFields<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HepFields")
            .field("ip_family", &self.ip_family)
            .field("ip_proto", &self.ip_proto)
            .field("src_ip", &self.src_ip)
            .field("dst_ip", &self.dst_ip)
            .field("src_port", &self.src_port)
            .field("dst_port", &self.dst_port)
            .field("ts_sec", &self.ts_sec)
            .field("ts_usec", &self.ts_usec)
            .field("proto_type", &self.proto_type)
            .field("capture_id", &self.capture_id)
            .field("keep_alive", &self.keep_alive)
            .field("auth_key", &self.auth_key.map(|_| "<redacted>"))
            .field("payload_len", &self.payload.map(<[u8]>::len))
            .field(
                "compressed_payload_len",
                &self.compressed_payload.map(<[u8]>::len),
            )
            .field(
                "correlation_id",
                &self.correlation_id.map(String::from_utf8_lossy),
            )
            .field("vlan", &self.vlan)
            .field("node_name", &self.node_name.map(String::from_utf8_lossy))
            .finish()
    }
}

impl HepFields<'_> {
    /// Source address and port, when both chunks are present.
    pub fn src(&self) -> Option<SocketAddr> {
        Some(SocketAddr::new(self.src_ip?, self.src_port?))
    }

    /// Destination address and port, when both chunks are present.
    pub fn dst(&self) -> Option<SocketAddr> {
        Some(SocketAddr::new(self.dst_ip?, self.dst_port?))
    }

    /// Capture time in microseconds since the epoch, when the seconds chunk is present.
    pub fn timestamp_micros(&self) -> Option<u64> {
        Some(u64::from(self.ts_sec?) * 1_000_000 + u64::from(self.ts_usec.unwrap_or(0)))
    }
}

/// A decoded HEPv3 packet borrowing from its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HepPacket<'a> {
    /// The standard chunks.
    pub fields: HepFields<'a>,
    chunks: &'a [u8],
}

/// Iterator over the chunks of a decoded packet (already validated).
#[derive(Debug, Clone)]
pub struct ChunkIter<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for ChunkIter<'a> {
    type Item = Chunk<'a>;

    fn next(&mut self) -> Option<Chunk<'a>> {
        let (chunk, len) = read_chunk(self.rest, 0).ok()??;
        self.rest = &self.rest[len..];
        Some(chunk)
    }
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// Reads the chunk at the start of `rest`: `Ok(None)` when `rest` is empty.
fn read_chunk(rest: &[u8], offset: usize) -> Result<Option<(Chunk<'_>, usize)>, HepError> {
    if rest.is_empty() {
        return Ok(None);
    }
    if rest.len() < 6 {
        return Err(HepError::BadChunkLength {
            vendor: 0,
            kind: 0,
            offset,
            len: rest.len() as u16,
        });
    }
    let vendor = be16(rest, 0);
    let kind = be16(rest, 2);
    let len = be16(rest, 4);
    if len < 6 || usize::from(len) > rest.len() {
        return Err(HepError::BadChunkLength {
            vendor,
            kind,
            offset,
            len,
        });
    }
    Ok(Some((
        Chunk {
            vendor,
            kind,
            data: &rest[6..usize::from(len)],
        },
        usize::from(len),
    )))
}

/// Length of the HEPv3 packet at the start of a byte stream (for HEP over TCP/TLS):
/// `Ok(None)` if fewer than 6 bytes are buffered yet.
pub fn frame_len(buf: &[u8]) -> Result<Option<usize>, HepError> {
    if buf.len() < 6 {
        return Ok(None);
    }
    if &buf[..4] != b"HEP3" {
        return Err(HepError::BadMagic);
    }
    let len = be16(buf, 4);
    if len < 6 {
        return Err(HepError::BadLength(len));
    }
    Ok(Some(usize::from(len)))
}

fn fixed<const N: usize>(c: &Chunk<'_>) -> Result<[u8; N], HepError> {
    c.data.try_into().map_err(|_| HepError::BadChunkSize {
        kind: c.kind,
        len: c.data.len(),
        expected: N,
    })
}

impl<'a> HepPacket<'a> {
    /// Decodes the HEPv3 packet at the start of `buf`; returns it and the number of bytes it used
    /// (bytes after it, e.g. the next packet on a stream, are left alone).
    pub fn decode(buf: &'a [u8]) -> Result<(HepPacket<'a>, usize), HepError> {
        if buf.len() >= 4 && &buf[..4] != b"HEP3" {
            return Err(HepError::BadMagic);
        }
        let total = frame_len(buf)?.ok_or(HepError::Truncated {
            need: 6,
            have: buf.len(),
        })?;
        if buf.len() < total {
            return Err(HepError::Truncated {
                need: total,
                have: buf.len(),
            });
        }
        let chunks = &buf[6..total];
        let mut f = HepFields::default();
        let mut at = 0;
        while let Some((c, len)) = read_chunk(&chunks[at..], 6 + at)? {
            at += len;
            if c.vendor != 0 {
                continue;
            }
            use chunk_type::*;
            match c.kind {
                IP_FAMILY => f.ip_family = Some(fixed::<1>(&c)?[0]),
                IP_PROTO => f.ip_proto = Some(fixed::<1>(&c)?[0]),
                IPV4_SRC => f.src_ip = Some(IpAddr::V4(Ipv4Addr::from(fixed::<4>(&c)?))),
                IPV4_DST => f.dst_ip = Some(IpAddr::V4(Ipv4Addr::from(fixed::<4>(&c)?))),
                IPV6_SRC => f.src_ip = Some(IpAddr::V6(Ipv6Addr::from(fixed::<16>(&c)?))),
                IPV6_DST => f.dst_ip = Some(IpAddr::V6(Ipv6Addr::from(fixed::<16>(&c)?))),
                SRC_PORT => f.src_port = Some(u16::from_be_bytes(fixed(&c)?)),
                DST_PORT => f.dst_port = Some(u16::from_be_bytes(fixed(&c)?)),
                TS_SEC => f.ts_sec = Some(u32::from_be_bytes(fixed(&c)?)),
                TS_USEC => f.ts_usec = Some(u32::from_be_bytes(fixed(&c)?)),
                PROTO_TYPE => f.proto_type = Some(fixed::<1>(&c)?[0]),
                CAPTURE_ID => f.capture_id = Some(u32::from_be_bytes(fixed(&c)?)),
                KEEP_ALIVE => f.keep_alive = Some(u16::from_be_bytes(fixed(&c)?)),
                AUTH_KEY => f.auth_key = Some(c.data),
                PAYLOAD => f.payload = Some(c.data),
                COMPRESSED_PAYLOAD => f.compressed_payload = Some(c.data),
                CORRELATION_ID => f.correlation_id = Some(c.data),
                VLAN => f.vlan = Some(u16::from_be_bytes(fixed(&c)?)),
                NODE_NAME => f.node_name = Some(c.data),
                _ => {}
            }
        }
        Ok((HepPacket { fields: f, chunks }, total))
    }

    /// Every chunk in wire order, standard ones included.
    pub fn chunks(&self) -> ChunkIter<'a> {
        ChunkIter { rest: self.chunks }
    }

    /// The chunks not decoded into [`HepFields`]: other vendors and unknown vendor-0 types.
    pub fn unknown_chunks(&self) -> impl Iterator<Item = Chunk<'a>> {
        self.chunks().filter(|c| {
            c.vendor != 0 || !(chunk_type::IP_FAMILY..=chunk_type::NODE_NAME).contains(&c.kind)
        })
    }
}

fn put_chunk(out: &mut Vec<u8>, vendor: u16, kind: u16, data: &[u8]) -> Result<(), HepError> {
    let len = data.len() + 6;
    let len16 = u16::try_from(len).map_err(|_| HepError::TooLarge(len))?;
    out.extend_from_slice(&vendor.to_be_bytes());
    out.extend_from_slice(&kind.to_be_bytes());
    out.extend_from_slice(&len16.to_be_bytes());
    out.extend_from_slice(data);
    Ok(())
}

/// Appends one HEPv3 packet with the given standard fields, then `extra` chunks (vendor chunks),
/// to `out`: standard chunks in type order, then `extra`, then the (compressed) payload. On error `out` is
/// left as it was.
pub fn encode(
    fields: &HepFields<'_>,
    extra: &[Chunk<'_>],
    out: &mut Vec<u8>,
) -> Result<(), HepError> {
    let start = out.len();
    let r = encode_inner(fields, extra, out, start);
    if r.is_err() {
        out.truncate(start);
    }
    r
}

fn encode_inner(
    f: &HepFields<'_>,
    extra: &[Chunk<'_>],
    out: &mut Vec<u8>,
    start: usize,
) -> Result<(), HepError> {
    use chunk_type::*;
    out.extend_from_slice(b"HEP3\0\0");
    let family = match (f.src_ip, f.dst_ip) {
        (Some(IpAddr::V4(_)), Some(IpAddr::V6(_))) | (Some(IpAddr::V6(_)), Some(IpAddr::V4(_))) => {
            return Err(HepError::MixedFamilies)
        }
        (Some(IpAddr::V4(_)), _) | (_, Some(IpAddr::V4(_))) => Some(FAMILY_IPV4),
        (Some(IpAddr::V6(_)), _) | (_, Some(IpAddr::V6(_))) => Some(FAMILY_IPV6),
        (None, None) => None,
    };
    if let Some(v) = f.ip_family.or(family) {
        put_chunk(out, 0, IP_FAMILY, &[v])?;
    }
    if let Some(v) = f.ip_proto {
        put_chunk(out, 0, IP_PROTO, &[v])?;
    }
    for (ip, k4, k6) in [
        (f.src_ip, IPV4_SRC, IPV6_SRC),
        (f.dst_ip, IPV4_DST, IPV6_DST),
    ] {
        match ip {
            Some(IpAddr::V4(a)) => put_chunk(out, 0, k4, &a.octets())?,
            Some(IpAddr::V6(a)) => put_chunk(out, 0, k6, &a.octets())?,
            None => {}
        }
    }
    if let Some(v) = f.src_port {
        put_chunk(out, 0, SRC_PORT, &v.to_be_bytes())?;
    }
    if let Some(v) = f.dst_port {
        put_chunk(out, 0, DST_PORT, &v.to_be_bytes())?;
    }
    if let Some(v) = f.ts_sec {
        put_chunk(out, 0, TS_SEC, &v.to_be_bytes())?;
    }
    if let Some(v) = f.ts_usec {
        put_chunk(out, 0, TS_USEC, &v.to_be_bytes())?;
    }
    if let Some(v) = f.proto_type {
        put_chunk(out, 0, PROTO_TYPE, &[v])?;
    }
    if let Some(v) = f.capture_id {
        put_chunk(out, 0, CAPTURE_ID, &v.to_be_bytes())?;
    }
    if let Some(v) = f.keep_alive {
        put_chunk(out, 0, KEEP_ALIVE, &v.to_be_bytes())?;
    }
    if let Some(v) = f.auth_key {
        put_chunk(out, 0, AUTH_KEY, v)?;
    }
    if let Some(v) = f.correlation_id {
        put_chunk(out, 0, CORRELATION_ID, v)?;
    }
    if let Some(v) = f.vlan {
        put_chunk(out, 0, VLAN, &v.to_be_bytes())?;
    }
    if let Some(v) = f.node_name {
        put_chunk(out, 0, NODE_NAME, v)?;
    }
    for c in extra {
        put_chunk(out, c.vendor, c.kind, c.data)?;
    }
    if let Some(v) = f.compressed_payload {
        put_chunk(out, 0, COMPRESSED_PAYLOAD, v)?;
    }
    if let Some(v) = f.payload {
        put_chunk(out, 0, PAYLOAD, v)?;
    }
    let total = out.len() - start;
    let total16 = u16::try_from(total).map_err(|_| HepError::TooLarge(total))?;
    out[start + 4..start + 6].copy_from_slice(&total16.to_be_bytes());
    Ok(())
}
