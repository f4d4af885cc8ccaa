//! One decoder for whatever a HEP capture agent sends: HEPv3 (payload plain or compressed), HEPv2 and HEPv1.
//! Each refusal has a [`Refusal`] reason, so the shells can count them (a silently dropped packet is a call
//! that is never recorded and nobody knows why).
//!
//! Compressed payloads (HEPv3 chunk 0x0010) are accepted as zlib (RFC 1950, what captagent's `compress2`
//! writes), gzip (RFC 1952) or raw deflate (RFC 1951), told apart by their first bytes; the result is capped at
//! [`MAX_DECOMPRESSED`] bytes.

use std::borrow::Cow;
use std::io::Read;
use std::net::SocketAddr;

use crate::hep::{HepError, HepPacket, PROTO_SIP};
use crate::hep_legacy::{LegacyError, LegacyHep};

/// Largest decompressed payload accepted (a SIP message is far smaller; a "zip bomb" is refused).
pub const MAX_DECOMPRESSED: usize = 256 << 10;

/// Why a HEP packet was refused. [`Refusal::as_str`] is the metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Refusal {
    /// Not HEP at all (neither "HEP3" nor a HEPv1/v2 header).
    NotHep,
    /// A HEPv1/v2-like header with an unknown version, family or header length.
    BadVersion,
    /// Fewer bytes than the headers or the announced length.
    Truncated,
    /// A HEPv3 chunk with a bad length or size.
    BadChunk,
    /// Not SIP: another protocol type, no payload, or a payload that is not a SIP message.
    NotSip,
    /// The source address is not in the allowed list (counted by the shell; never returned by [`decode`]).
    SourceNotAllowed,
    /// A compressed payload that does not decompress (or decompresses past [`MAX_DECOMPRESSED`]).
    DecompressFailed,
}

impl Refusal {
    /// Every reason, in label order.
    pub const ALL: [Refusal; 7] = [
        Refusal::NotHep,
        Refusal::BadVersion,
        Refusal::Truncated,
        Refusal::BadChunk,
        Refusal::NotSip,
        Refusal::SourceNotAllowed,
        Refusal::DecompressFailed,
    ];

    /// The reason as a metric label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::NotHep => "not_hep",
            Refusal::BadVersion => "bad_version",
            Refusal::Truncated => "truncated",
            Refusal::BadChunk => "bad_chunk",
            Refusal::NotSip => "not_sip",
            Refusal::SourceNotAllowed => "source_not_allowed",
            Refusal::DecompressFailed => "decompress_failed",
        }
    }

    /// Position in [`Refusal::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// A SIP message out of a HEP packet of any version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HepSip<'a> {
    /// HEP version (1, 2 or 3).
    pub version: u8,
    /// SIP source address and port, when the packet carries them.
    pub src: Option<SocketAddr>,
    /// SIP destination address and port.
    pub dst: Option<SocketAddr>,
    /// IP protocol of the SIP transport (17 UDP, 6 TCP; Kamailio writes 22 for TLS).
    pub ip_proto: Option<u8>,
    /// The agent's capture time, microseconds since the epoch (HEPv3 timestamp chunks, HEPv2 time header).
    pub at_us: Option<u64>,
    /// Capture agent id.
    pub capture_id: Option<u32>,
    /// The SIP message (decompressed when it came compressed).
    pub payload: Cow<'a, [u8]>,
}

/// Whether a payload starts like a SIP message (a status line or a request line ending in `SIP/2.0`).
pub fn looks_like_sip(payload: &[u8]) -> bool {
    if payload.starts_with(b"SIP/2.0 ") {
        return true;
    }
    if !payload.first().is_some_and(u8::is_ascii_uppercase) {
        return false;
    }
    let head = &payload[..payload.len().min(1024)];
    let Some(nl) = head.iter().position(|&b| b == b'\n') else {
        return false;
    };
    let line = head[..nl].strip_suffix(b"\r").unwrap_or(&head[..nl]);
    line.ends_with(b" SIP/2.0") && line.contains(&b' ')
}

/// Decompresses a compressed HEP payload (zlib, gzip or raw deflate), at most [`MAX_DECOMPRESSED`] bytes.
pub fn decompress(data: &[u8]) -> Option<Vec<u8>> {
    fn read_all(mut r: impl Read) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        let n = r
            .by_ref()
            .take(MAX_DECOMPRESSED as u64 + 1)
            .read_to_end(&mut out)
            .ok()?;
        (n <= MAX_DECOMPRESSED).then_some(out)
    }
    match data {
        [0x1f, 0x8b, ..] => read_all(flate2::read::GzDecoder::new(data)),
        [cmf, flg, ..] if cmf & 0x0f == 8 && (u16::from(*cmf) << 8 | u16::from(*flg)) % 31 == 0 => {
            read_all(flate2::read::ZlibDecoder::new(data))
        }
        _ => read_all(flate2::read::DeflateDecoder::new(data)),
    }
}

fn v3_refusal(e: &HepError) -> Refusal {
    match e {
        HepError::Truncated { .. } => Refusal::Truncated,
        HepError::BadMagic => Refusal::NotHep,
        HepError::BadLength(_) => Refusal::Truncated,
        HepError::BadChunkLength { .. } | HepError::BadChunkSize { .. } => Refusal::BadChunk,
        HepError::TooLarge(_) | HepError::MixedFamilies => Refusal::BadChunk,
    }
}

/// Decodes one HEP packet (a whole datagram, or one HEPv3 frame of a stream) carrying SIP.
pub fn decode(raw: &[u8]) -> Result<HepSip<'_>, Refusal> {
    if raw.starts_with(b"HEP3") {
        return decode_v3(raw);
    }
    match raw.first() {
        Some(1 | 2) => decode_legacy(raw),
        Some(_) if raw.len() >= 3 && raw.starts_with(b"HEP") => Err(Refusal::BadVersion),
        _ => Err(Refusal::NotHep),
    }
}

fn decode_legacy(raw: &[u8]) -> Result<HepSip<'_>, Refusal> {
    let p = LegacyHep::decode(raw).map_err(|e| match e {
        LegacyError::Truncated { .. } => Refusal::Truncated,
        LegacyError::BadVersion(_)
        | LegacyError::BadFamily(_)
        | LegacyError::BadHeaderLength { .. } => Refusal::BadVersion,
    })?;
    if !looks_like_sip(p.payload) {
        return Err(Refusal::NotSip);
    }
    Ok(HepSip {
        version: p.version,
        src: Some(p.src),
        dst: Some(p.dst),
        ip_proto: Some(p.ip_proto),
        at_us: p.at_us,
        capture_id: p.capture_id.map(u32::from),
        payload: Cow::Borrowed(p.payload),
    })
}

fn decode_v3(raw: &[u8]) -> Result<HepSip<'_>, Refusal> {
    let (p, _) = HepPacket::decode(raw).map_err(|e| v3_refusal(&e))?;
    let f = p.fields;
    if f.proto_type.is_some_and(|t| t != PROTO_SIP) {
        return Err(Refusal::NotSip);
    }
    let payload = match (f.payload, f.compressed_payload) {
        (Some(p), _) => Cow::Borrowed(p),
        (None, Some(z)) => Cow::Owned(decompress(z).ok_or(Refusal::DecompressFailed)?),
        (None, None) => return Err(Refusal::NotSip),
    };
    if !looks_like_sip(&payload) {
        return Err(Refusal::NotSip);
    }
    Ok(HepSip {
        version: 3,
        src: f.src(),
        dst: f.dst(),
        ip_proto: f.ip_proto,
        at_us: f.timestamp_micros(),
        capture_id: f.capture_id,
        payload,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hep::{encode, HepFields};
    use std::io::Write;

    const SIP: &[u8] =
        b"INVITE sip:bob@example.com SIP/2.0\r\nCall-ID: z1\r\nContent-Length: 0\r\n\r\n";

    fn v3_compressed(z: &[u8]) -> Vec<u8> {
        let f = HepFields {
            ip_proto: Some(17),
            src_ip: Some("192.0.2.1".parse().unwrap()),
            dst_ip: Some("192.0.2.2".parse().unwrap()),
            src_port: Some(5060),
            dst_port: Some(5060),
            ts_sec: Some(1_764_000_000),
            ts_usec: Some(5),
            proto_type: Some(PROTO_SIP),
            compressed_payload: Some(z),
            ..HepFields::default()
        };
        let mut out = Vec::new();
        encode(&f, &[], &mut out).unwrap();
        out
    }

    #[test]
    fn compressed_v3_payloads_in_zlib_gzip_and_deflate_decode() {
        let mut zl = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        zl.write_all(SIP).unwrap();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(SIP).unwrap();
        let mut df = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::fast());
        df.write_all(SIP).unwrap();
        for z in [
            zl.finish().unwrap(),
            gz.finish().unwrap(),
            df.finish().unwrap(),
        ] {
            let raw = v3_compressed(&z);
            let m = decode(&raw).unwrap();
            assert_eq!(&m.payload[..], SIP);
            assert_eq!(m.at_us, Some(1_764_000_000_000_005));
            assert_eq!(m.version, 3);
        }
        assert_eq!(
            decode(&v3_compressed(b"\x78\x9cnot zlib at all")),
            Err(Refusal::DecompressFailed)
        );
    }

    #[test]
    fn a_zip_bomb_is_refused() {
        let mut zl = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
        let mut big = SIP.to_vec();
        big.resize(MAX_DECOMPRESSED + 10, b'a');
        zl.write_all(&big).unwrap();
        assert_eq!(
            decode(&v3_compressed(&zl.finish().unwrap())),
            Err(Refusal::DecompressFailed)
        );
    }

    #[test]
    fn every_refusal_reason_is_reachable_from_bytes() {
        assert_eq!(decode(b"GET / HTTP/1.1\r\n"), Err(Refusal::NotHep));
        assert_eq!(decode(b""), Err(Refusal::NotHep));
        assert_eq!(decode(b"HEP4\0\x06"), Err(Refusal::BadVersion));
        assert_eq!(
            decode(&[1, 17, 2, 17, 0, 0, 0, 0]),
            Err(Refusal::BadVersion)
        );
        assert_eq!(decode(&[1, 16, 2, 17, 0, 0]), Err(Refusal::Truncated));
        assert_eq!(decode(b"HEP3\0\x20\0\0"), Err(Refusal::Truncated));
        assert_eq!(
            decode(b"HEP3\0\x0a\0\0\0\x01\0\x02"),
            Err(Refusal::BadChunk)
        );
        let mut v1 = vec![1, 16, 2, 17, 0x13, 0xc4, 0x13, 0xc4, 1, 2, 3, 4, 5, 6, 7, 8];
        v1.extend_from_slice(b"\x80\x00rtp");
        assert_eq!(decode(&v1), Err(Refusal::NotSip));
        v1.truncate(16);
        v1.extend_from_slice(SIP);
        let m = decode(&v1).unwrap();
        assert_eq!((m.version, &m.payload[..]), (1, SIP));
        assert_eq!(m.src, Some("1.2.3.4:5060".parse().unwrap()));
    }
}
