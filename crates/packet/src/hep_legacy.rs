//! HEPv1 and HEPv2, the fixed-header predecessors of HEPv3 that Kamailio's `siptrace` sends by default
//! (`hep_version` 1) and some older agents send as version 2.
//!
//! Layout (as Kamailio's `siptrace`/`sipcapture` and OpenSIPS write and read it):
//!
//! ```text
//! 0      1      2      3      4      6      8
//! | ver  | hlen | fam  | prot | sport| dport|   8-byte header, ports big-endian
//! | src IPv4 (4) | dst IPv4 (4) |             IPv4: hlen = 16
//! | src IPv6 (16) | dst IPv6 (16) |           IPv6: hlen = 40
//! | tv_sec (4, LE) | tv_usec (4, LE) | capture id (2, LE) | pad (2) |   version 2 only (C struct, 12 bytes)
//! | payload (the SIP message) ...
//! ```
//!
//! The header length byte covers the 8-byte header and the addresses but not the version 2 time header.
//! Kamailio writes the time header's fields little-endian (`to_le`) and the whole C struct, padding
//! included. A datagram is one packet: there is no total length, so the payload runs to the end.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// Address families accepted as IPv6: Linux 10, and the BSDs' 24, 28 and 30 (agents send their own
/// `AF_INET6`).
const FAMILIES_IPV6: [u8; 4] = [10, 24, 28, 30];
/// `AF_INET`.
const FAMILY_IPV4: u8 = 2;
/// Size of the version 2 time header as the C struct is laid out (u32, u32, u16, 2 bytes padding).
pub const TIME_HEADER_LEN: usize = 12;

/// Why bytes are not a HEPv1/HEPv2 packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LegacyError {
    /// The version byte is not 1 or 2.
    #[error("not HEPv1/HEPv2 (version byte {0})")]
    BadVersion(u8),
    /// The family byte is neither IPv4 nor IPv6.
    #[error("HEPv1/v2 address family {0} unknown")]
    BadFamily(u8),
    /// The header length byte does not match the family.
    #[error("HEPv1/v2 header length {len} does not match family {family}")]
    BadHeaderLength {
        /// Announced header length.
        len: u8,
        /// Address family.
        family: u8,
    },
    /// Fewer bytes than the headers need.
    #[error("HEPv1/v2 packet truncated: need {need} bytes, have {have}")]
    Truncated {
        /// Bytes needed.
        need: usize,
        /// Bytes available.
        have: usize,
    },
}

/// A decoded HEPv1/HEPv2 packet, borrowing its payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegacyHep<'a> {
    /// 1 or 2.
    pub version: u8,
    /// IP protocol of the captured message (17 UDP, 6 TCP, 22 "IDP" meaning TLS for Kamailio, 132 SCTP).
    pub ip_proto: u8,
    /// Source address and port.
    pub src: SocketAddr,
    /// Destination address and port.
    pub dst: SocketAddr,
    /// Capture time, microseconds since the epoch (version 2 only).
    pub at_us: Option<u64>,
    /// Capture agent id (version 2 only).
    pub capture_id: Option<u16>,
    /// The captured message.
    pub payload: &'a [u8],
}

/// Whether `buf` starts like a HEPv1/HEPv2 packet (version, family and header length agree): a cheap test
/// for a datagram's first bytes, which rules out STUN, RTP and HEPv3.
pub fn looks_like(buf: &[u8]) -> bool {
    match buf {
        [1 | 2, len, family, ..] => expected_header_len(*family) == Some(*len),
        _ => false,
    }
}

fn expected_header_len(family: u8) -> Option<u8> {
    if family == FAMILY_IPV4 {
        Some(16)
    } else if FAMILIES_IPV6.contains(&family) {
        Some(40)
    } else {
        None
    }
}

fn le32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

impl<'a> LegacyHep<'a> {
    /// Decodes the HEPv1/HEPv2 datagram `buf` (the payload is the rest of the datagram).
    pub fn decode(buf: &'a [u8]) -> Result<LegacyHep<'a>, LegacyError> {
        let need = |n: usize| {
            if buf.len() < n {
                Err(LegacyError::Truncated {
                    need: n,
                    have: buf.len(),
                })
            } else {
                Ok(())
            }
        };
        need(8)?;
        let version = buf[0];
        if !(1..=2).contains(&version) {
            return Err(LegacyError::BadVersion(version));
        }
        let family = buf[2];
        let hlen = expected_header_len(family).ok_or(LegacyError::BadFamily(family))?;
        if buf[1] != hlen {
            return Err(LegacyError::BadHeaderLength {
                len: buf[1],
                family,
            });
        }
        let ip_proto = buf[3];
        let sport = u16::from_be_bytes([buf[4], buf[5]]);
        let dport = u16::from_be_bytes([buf[6], buf[7]]);
        let hlen = usize::from(hlen);
        need(hlen)?;
        let (src, dst) = if hlen == 16 {
            let s: [u8; 4] = buf[8..12].try_into().unwrap_or_default();
            let d: [u8; 4] = buf[12..16].try_into().unwrap_or_default();
            (IpAddr::V4(Ipv4Addr::from(s)), IpAddr::V4(Ipv4Addr::from(d)))
        } else {
            let s: [u8; 16] = buf[8..24].try_into().unwrap_or_default();
            let d: [u8; 16] = buf[24..40].try_into().unwrap_or_default();
            (IpAddr::V6(Ipv6Addr::from(s)), IpAddr::V6(Ipv6Addr::from(d)))
        };
        let (at_us, capture_id, payload_at) = if version == 2 {
            need(hlen + TIME_HEADER_LEN)?;
            let t = &buf[hlen..hlen + TIME_HEADER_LEN];
            let sec = u64::from(le32(&t[0..4]));
            let usec = u64::from(le32(&t[4..8]));
            let id = u16::from_le_bytes([t[8], t[9]]);
            (
                Some(sec * 1_000_000 + usec.min(999_999)),
                Some(id),
                hlen + TIME_HEADER_LEN,
            )
        } else {
            (None, None, hlen)
        };
        Ok(LegacyHep {
            version,
            ip_proto,
            src: SocketAddr::new(src, sport),
            dst: SocketAddr::new(dst, dport),
            at_us,
            capture_id,
            payload: &buf[payload_at..],
        })
    }

    /// Appends this packet in the wire layout to `out` (for tests and load generators: the recorder only
    /// receives HEPv1/v2). `at_us` and `capture_id` are written for version 2 (zero when `None`). Source and
    /// destination must share a family; an IPv4/IPv6 mix writes the destination as unspecified of the
    /// source's family.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let v6 = self.src.is_ipv6();
        out.push(self.version);
        out.push(if v6 { 40 } else { 16 });
        out.push(if v6 { 10 } else { FAMILY_IPV4 });
        out.push(self.ip_proto);
        out.extend_from_slice(&self.src.port().to_be_bytes());
        out.extend_from_slice(&self.dst.port().to_be_bytes());
        for ip in [self.src.ip(), self.dst.ip()] {
            match (ip, v6) {
                (IpAddr::V4(a), false) => out.extend_from_slice(&a.octets()),
                (IpAddr::V6(a), true) => out.extend_from_slice(&a.octets()),
                (_, false) => out.extend_from_slice(&[0; 4]),
                (_, true) => out.extend_from_slice(&[0; 16]),
            }
        }
        if self.version == 2 {
            let at = self.at_us.unwrap_or(0);
            out.extend_from_slice(&((at / 1_000_000) as u32).to_le_bytes());
            out.extend_from_slice(&((at % 1_000_000) as u32).to_le_bytes());
            out.extend_from_slice(&self.capture_id.unwrap_or(0).to_le_bytes());
            out.extend_from_slice(&[0, 0]);
        }
        out.extend_from_slice(self.payload);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A HEPv1 packet laid out byte by byte as Kamailio's siptrace writes it (not by our encoder).
    #[test]
    fn decodes_a_hand_laid_hepv1_packet() {
        let mut b = vec![
            1, 16, 2, 17, 0x13, 0xc4, 0x13, 0xc5, 192, 0, 2, 1, 198, 51, 100, 7,
        ];
        b.extend_from_slice(b"OPTIONS sip:x SIP/2.0\r\n\r\n");
        assert!(looks_like(&b));
        let p = LegacyHep::decode(&b).unwrap();
        assert_eq!(p.version, 1);
        assert_eq!(p.ip_proto, 17);
        assert_eq!(p.src, "192.0.2.1:5060".parse().unwrap());
        assert_eq!(p.dst, "198.51.100.7:5061".parse().unwrap());
        assert_eq!(p.at_us, None);
        assert_eq!(p.payload, b"OPTIONS sip:x SIP/2.0\r\n\r\n");
    }

    #[test]
    fn decodes_a_hand_laid_hepv2_ipv6_packet_with_little_endian_time() {
        let mut b = vec![2, 40, 10, 6, 0x13, 0xc4, 0x13, 0xc4];
        let a: Ipv6Addr = "2001:db8::1".parse().unwrap();
        let c: Ipv6Addr = "2001:db8::2".parse().unwrap();
        b.extend_from_slice(&a.octets());
        b.extend_from_slice(&c.octets());
        b.extend_from_slice(&1_764_000_000u32.to_le_bytes());
        b.extend_from_slice(&123_456u32.to_le_bytes());
        b.extend_from_slice(&[7, 0, 0, 0]);
        b.extend_from_slice(b"SIP/2.0 200 OK\r\n\r\n");
        let p = LegacyHep::decode(&b).unwrap();
        assert_eq!(p.version, 2);
        assert_eq!(p.ip_proto, 6);
        assert_eq!(p.src.ip(), IpAddr::V6(a));
        assert_eq!(p.at_us, Some(1_764_000_000_123_456));
        assert_eq!(p.capture_id, Some(7));
        assert_eq!(p.payload, b"SIP/2.0 200 OK\r\n\r\n");
        let mut again = Vec::new();
        p.encode(&mut again);
        assert_eq!(again, b);
    }

    #[test]
    fn refuses_what_is_not_legacy_hep() {
        assert_eq!(
            LegacyHep::decode(b"HEP3\0\x10abcdefghij"),
            Err(LegacyError::BadVersion(b'H'))
        );
        // a STUN binding success response starts 0x01 0x01
        let stun = [1u8, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42, 0, 0, 0, 0];
        assert!(!looks_like(&stun));
        assert!(matches!(
            LegacyHep::decode(&stun),
            Err(LegacyError::BadFamily(0))
        ));
        assert!(matches!(
            LegacyHep::decode(&[2, 16, 2, 17, 0, 1, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8, 0]),
            Err(LegacyError::Truncated { need: 28, .. })
        ));
        assert!(matches!(
            LegacyHep::decode(&[1, 40, 2, 17, 0, 1, 0, 2]),
            Err(LegacyError::BadHeaderLength { len: 40, family: 2 })
        ));
        for n in 0..20 {
            let _ =
                LegacyHep::decode(&[1, 16, 2, 17, 0, 1, 0, 2, 1, 2, 3, 4, 5, 6, 7, 8][..n.min(16)]);
        }
    }
}
