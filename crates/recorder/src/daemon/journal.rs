//! The signaling journal: every SIP message the daemon receives, as packets with their original addresses,
//! transport and time in pcapng files (link type RAW: IPv4/IPv6 + UDP or TCP + SIP), rotated at each UTC day
//! and by size. Wireshark and sngrep read them; `recorder replay --signaling FILE` feeds them back to the engine.
//!
//! - Time: the message's own time (the agent's HEP timestamp, the filter's mirror timestamp) when it has one,
//!   else the recorder's receive time.
//! - Transport: SIP that travelled over TCP or TLS (HEP/mirror IP protocol 6, Kamailio's 22 for TLS, 132 SCTP
//!   written as TCP too) is written as one TCP segment per message, sequence numbers continuing per address
//!   pair so Wireshark follows the stream; everything else as UDP.
//! - Protection: files are created with mode 0600 whatever the umask (SDP in them carries SRTP keys).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::encryption::{create_new_private, Output};

/// Address pairs whose next TCP sequence number is remembered (beyond this the table starts again).
const MAX_TCP_FLOWS: usize = 65_536;

const LINKTYPE_RAW: u16 = 101;

/// An open journal.
pub struct Journal {
    dir: PathBuf,
    max_bytes: u64,
    file: Option<(Output, u64, i64)>,
    /// Next TCP sequence number per (source, destination).
    tcp_seq: HashMap<(SocketAddr, SocketAddr), u32>,
    /// Problems writing (reported by the caller; the journal keeps trying with the next file).
    pub errors: u64,
    /// Encryption at rest: new files are sealed with the ring's current key (docs/encryption.md).
    keys: Option<Arc<rec_vault::Keyring>>,
}

impl Drop for Journal {
    fn drop(&mut self) {
        self.close();
    }
}

fn block(kind: u32, body: &[u8]) -> Vec<u8> {
    let pad = (4 - body.len() % 4) % 4;
    let total = (12 + body.len() + pad) as u32;
    let mut b = Vec::with_capacity(total as usize);
    b.extend_from_slice(&kind.to_le_bytes());
    b.extend_from_slice(&total.to_le_bytes());
    b.extend_from_slice(body);
    b.extend(std::iter::repeat_n(0u8, pad));
    b.extend_from_slice(&total.to_le_bytes());
    b
}

fn header_blocks() -> Vec<u8> {
    let mut shb = Vec::new();
    shb.extend_from_slice(&0x1A2B_3C4Du32.to_le_bytes());
    shb.extend_from_slice(&1u16.to_le_bytes());
    shb.extend_from_slice(&0u16.to_le_bytes());
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    let mut idb = Vec::new();
    idb.extend_from_slice(&LINKTYPE_RAW.to_le_bytes());
    idb.extend_from_slice(&0u16.to_le_bytes());
    idb.extend_from_slice(&262_144u32.to_le_bytes());
    let mut out = block(0x0A0D_0D0A, &shb);
    out.extend(block(1, &idb));
    out
}

fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for c in data.chunks(2) {
        sum += u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The transport a message is journaled with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Carrier {
    /// One UDP datagram.
    Udp,
    /// One TCP segment (ACK|PSH) with this sequence number.
    Tcp {
        /// Sequence number of the first byte.
        seq: u32,
    },
}

/// Whether the HEP/mirror IP protocol number means a stream transport (TCP, TLS as Kamailio writes it, SCTP).
pub fn is_stream(ip_proto: Option<u8>) -> bool {
    matches!(ip_proto, Some(6 | 22 | 132))
}

/// Sum of 16-bit big-endian words (one's complement arithmetic, not yet folded).
fn sum16(data: &[u8]) -> u32 {
    data.chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum()
}

fn fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The SIP message as an IP packet carrying it over `carrier` from `src` to `dst` (unknown addresses:
/// 0.0.0.0:5060), with valid IPv4, UDP and TCP checksums.
pub fn ip_packet(
    src: Option<SocketAddr>,
    dst: Option<SocketAddr>,
    carrier: Carrier,
    sip: &[u8],
) -> Vec<u8> {
    let unknown = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 5060);
    let (mut s, mut d) = (src.unwrap_or(unknown), dst.unwrap_or(unknown));
    if s.is_ipv4() != d.is_ipv4() {
        // mixed families cannot share a header: keep the ports, drop the addresses
        s = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), s.port());
        d = SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), d.port());
    }
    let sip = &sip[..sip.len().min(65_000)];
    let (proto, mut l4) = match carrier {
        Carrier::Udp => {
            let udp_len = (8 + sip.len()) as u16;
            let mut udp = Vec::with_capacity(udp_len as usize);
            udp.extend_from_slice(&s.port().to_be_bytes());
            udp.extend_from_slice(&d.port().to_be_bytes());
            udp.extend_from_slice(&udp_len.to_be_bytes());
            udp.extend_from_slice(&[0, 0]);
            udp.extend_from_slice(sip);
            (17u8, udp)
        }
        Carrier::Tcp { seq } => {
            let mut tcp = Vec::with_capacity(20 + sip.len());
            tcp.extend_from_slice(&s.port().to_be_bytes());
            tcp.extend_from_slice(&d.port().to_be_bytes());
            tcp.extend_from_slice(&seq.to_be_bytes());
            tcp.extend_from_slice(&1u32.to_be_bytes()); // ack: the other direction is not tracked
            tcp.push(5 << 4); // data offset: 20 bytes, no options
            tcp.push(0x18); // ACK | PSH
            tcp.extend_from_slice(&65_535u16.to_be_bytes()); // window
            tcp.extend_from_slice(&[0, 0, 0, 0]); // checksum, urgent pointer
            tcp.extend_from_slice(sip);
            (6u8, tcp)
        }
    };
    let l4_len = l4.len() as u16;
    // the transport checksum over the pseudo header (RFC 768 / RFC 793 / RFC 8200 8.1)
    let pseudo = match (s.ip(), d.ip()) {
        (IpAddr::V4(a), IpAddr::V4(b)) => sum16(&a.octets()) + sum16(&b.octets()),
        (IpAddr::V6(a), IpAddr::V6(b)) => sum16(&a.octets()) + sum16(&b.octets()),
        _ => 0,
    } + u32::from(proto)
        + u32::from(l4_len);
    let mut c = fold(pseudo + sum16(&l4));
    if proto == 17 && c == 0 {
        c = 0xffff;
    }
    let at = if proto == 17 { 6 } else { 16 };
    l4[at..at + 2].copy_from_slice(&c.to_be_bytes());
    let mut out = Vec::with_capacity(l4.len() + 40);
    match (s.ip(), d.ip()) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let mut ip = [0u8; 20];
            ip[0] = 0x45;
            ip[2..4].copy_from_slice(&(20 + l4_len).to_be_bytes());
            ip[6] = 0x40; // don't fragment
            ip[8] = 64;
            ip[9] = proto;
            ip[12..16].copy_from_slice(&a.octets());
            ip[16..20].copy_from_slice(&b.octets());
            let c = checksum(&ip);
            ip[10..12].copy_from_slice(&c.to_be_bytes());
            out.extend_from_slice(&ip);
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            out.extend_from_slice(&[0x60, 0, 0, 0]);
            out.extend_from_slice(&l4_len.to_be_bytes());
            out.push(proto);
            out.push(64);
            out.extend_from_slice(&a.octets());
            out.extend_from_slice(&b.octets());
        }
        _ => unreachable!("families made equal above"),
    }
    out.extend_from_slice(&l4);
    out
}

fn day_of(us: i64) -> i64 {
    us.div_euclid(86_400_000_000)
}

impl Journal {
    /// A journal writing into `dir` (created when needed), a new file past `max_bytes`.
    pub fn new(dir: &Path, max_bytes: u64) -> Journal {
        Journal {
            dir: dir.to_path_buf(),
            max_bytes: max_bytes.max(1 << 20),
            file: None,
            tcp_seq: HashMap::new(),
            errors: 0,
            keys: None,
        }
    }

    /// Encrypts every journal file started from now on with the ring's current key.
    pub fn set_encryption(&mut self, keys: Option<Arc<rec_vault::Keyring>>) {
        self.keys = keys;
    }

    /// Finishes the current file (an encrypted one gets its final chunk).
    fn close(&mut self) {
        if let Some((out, _, _)) = self.file.take() {
            if let Err(e) = out.finish() {
                self.errors += 1;
                tracing::error!("signaling journal close: {e}");
            }
        }
    }

    /// Appends one message received at `received_us` (the recorder's clock: it names and rotates the files, so
    /// agents with clocks apart cannot make the journal flip between days) and timed `at_us` in the file (its own
    /// time when it has one), carried over `ip_proto` (see [`is_stream`]; `None`: UDP).
    pub fn write(
        &mut self,
        received_us: i64,
        at_us: i64,
        src: Option<SocketAddr>,
        dst: Option<SocketAddr>,
        ip_proto: Option<u8>,
        sip: &[u8],
    ) {
        let rotate = match &self.file {
            None => true,
            Some((_, size, day)) => *size >= self.max_bytes || *day != day_of(received_us),
        };
        if rotate {
            self.close();
            let t = rec_catalog::time::Civil::from_unix_us(received_us);
            let name = format!(
                "signaling-{}-{:02}{:02}{:02}-{:06}.pcapng",
                t.date_string(),
                t.hour,
                t.minute,
                t.second,
                received_us.rem_euclid(1_000_000)
            );
            let path = self.dir.join(name);
            let opened = std::fs::create_dir_all(&self.dir)
                // 0600 whatever the umask: the SDP in the journal carries SRTP keys
                .and_then(|_| create_new_private(&path))
                .and_then(|f| {
                    let mut w = Output::new(f, self.keys.as_deref())?;
                    let h = header_blocks();
                    w.append(&h)?;
                    Ok((w, h.len() as u64))
                });
            match opened {
                Ok((w, n)) => self.file = Some((w, n, day_of(received_us))),
                Err(e) => {
                    self.errors += 1;
                    tracing::error!("signaling journal {}: {e}", path.display());
                    return;
                }
            }
        }
        let carrier = match (is_stream(ip_proto), src, dst) {
            (true, Some(s), Some(d)) => {
                if self.tcp_seq.len() >= MAX_TCP_FLOWS {
                    self.tcp_seq.clear();
                }
                let next = self.tcp_seq.entry((s, d)).or_insert(1);
                let seq = *next;
                *next = next.wrapping_add(sip.len().min(65_000) as u32);
                Carrier::Tcp { seq }
            }
            (true, _, _) => Carrier::Tcp { seq: 1 },
            (false, _, _) => Carrier::Udp,
        };
        let pkt = ip_packet(src, dst, carrier, sip);
        let ts = at_us.max(0) as u64;
        let mut epb = Vec::with_capacity(pkt.len() + 20);
        epb.extend_from_slice(&0u32.to_le_bytes());
        epb.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(ts as u32).to_le_bytes());
        epb.extend_from_slice(&(pkt.len() as u32).to_le_bytes());
        epb.extend_from_slice(&(pkt.len() as u32).to_le_bytes());
        epb.extend_from_slice(&pkt);
        let b = block(6, &epb);
        if let Some((w, size, _)) = self.file.as_mut() {
            if let Err(e) = w.append(&b) {
                self.errors += 1;
                tracing::error!("signaling journal write: {e}");
                self.file = None;
            } else {
                *size += b.len() as u64;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rec_packet::capture::OfflineCapture;
    use rec_packet::{decode_frame, Transport};

    /// What the journal writes, libpcap reads back: each message as UDP with its addresses and time.
    #[test]
    fn journal_files_read_back_through_libpcap() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::new(dir.path(), 1 << 20);
        let v4 = |s: &str| Some(s.parse::<SocketAddr>().unwrap());
        type Entry = (i64, Option<SocketAddr>, Option<SocketAddr>, Vec<u8>);
        let msgs: Vec<Entry> = vec![
            (
                1_764_000_000_000_001,
                v4("192.0.2.10:5061"),
                v4("10.0.0.2:5061"),
                b"INVITE sip:b@x SIP/2.0\r\nCall-ID: a\r\n\r\n".to_vec(),
            ),
            (
                1_764_000_000_500_000,
                v4("[2001:db8::1]:5061"),
                v4("[2001:db8::2]:5061"),
                b"SIP/2.0 200 OK\r\nCall-ID: a\r\n\r\n".to_vec(),
            ),
            (1_764_000_001_000_000, None, None, vec![b'x'; 3000]),
        ];
        for (t, s, d, m) in &msgs {
            j.write(*t, *t, *s, *d, None, m);
        }
        // a new UTC day starts a new file
        j.write(
            1_764_086_400_000_000,
            1_764_086_400_000_000,
            None,
            None,
            Some(17),
            b"OPTIONS sip:x SIP/2.0\r\n\r\n",
        );
        drop(j);
        let mut files: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        files.sort();
        assert_eq!(files.len(), 2, "{files:?}");
        let mut cap = OfflineCapture::open(&files[0]).unwrap();
        for (t, s, d, m) in &msgs {
            let f = cap.next_frame().unwrap().expect("a frame per message");
            assert_eq!(f.at_micros as i64, *t);
            let dec = decode_frame(f.link, f.data).unwrap();
            let Transport::Udp(u) = dec.transport else {
                panic!("UDP")
            };
            assert_eq!(u.payload, &m[..]);
            if let (Some(s), Some(d)) = (s, d) {
                assert_eq!((u.src, u.dst), (*s, *d));
            }
        }
        assert!(cap.next_frame().unwrap().is_none());
    }

    /// SIP that came over TCP/TLS is journaled as TCP segments whose sequence numbers continue per direction,
    /// timed by the message's own time; the file name follows the receive time.
    #[test]
    fn stream_transports_are_journaled_as_tcp_with_continuing_sequence_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let mut j = Journal::new(dir.path(), 1 << 20);
        let a: SocketAddr = "192.0.2.10:5061".parse().unwrap();
        let b: SocketAddr = "[2001:db8::2]:5061".parse().unwrap();
        let b4: SocketAddr = "10.0.0.2:5061".parse().unwrap();
        let m1 = b"INVITE sip:b@x SIP/2.0\r\nContent-Length: 0\r\n\r\n";
        let m2 = b"BYE sip:b@x SIP/2.0\r\nContent-Length: 0\r\n\r\n";
        let recv = 1_764_000_000_000_000;
        j.write(recv, 1_700_000_000_000_000, Some(a), Some(b4), Some(6), m1);
        j.write(
            recv + 1,
            1_700_000_001_000_000,
            Some(a),
            Some(b4),
            Some(22),
            m2,
        );
        j.write(
            recv + 2,
            1_700_000_002_000_000,
            Some(b),
            Some(b),
            Some(6),
            m2,
        );
        drop(j);
        let files: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        assert_eq!(files.len(), 1);
        assert!(
            files[0].to_string_lossy().contains("2025-11-24"),
            "{files:?}"
        );
        let mut cap = OfflineCapture::open(&files[0]).unwrap();
        let mut segs = Vec::new();
        while let Some(f) = cap.next_frame().unwrap() {
            let dec = decode_frame(f.link, f.data).unwrap();
            let Transport::Tcp(t) = dec.transport else {
                panic!("TCP")
            };
            assert!(t.flags.ack && t.flags.psh && !t.flags.syn);
            segs.push((f.at_micros, t.src, t.seq, t.payload.to_vec()));
        }
        assert_eq!(segs.len(), 3);
        assert_eq!(segs[0].0, 1_700_000_000_000_000);
        assert_eq!((segs[0].1, &segs[0].3[..]), (a, &m1[..]));
        assert_eq!(
            segs[1].2,
            segs[0].2 + m1.len() as u32,
            "the stream continues"
        );
        assert_eq!(segs[2].1, b);
    }

    /// Encrypted, every message is sealed as it is written (a crash loses none), the file is 0600, and the next
    /// start's `finish_journals` gives a crash-cut journal its final chunk.
    #[test]
    fn encrypted_journal_keeps_every_message_through_a_crash() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let kek = rec_vault::Kek::new("j1", [7; 32]).unwrap();
        let keys = Arc::new(rec_vault::Keyring::new(kek, vec![]).unwrap());
        let mut j = Journal::new(dir.path(), 1 << 20);
        j.set_encryption(Some(Arc::clone(&keys)));
        let msgs: Vec<Vec<u8>> = (0..3)
            .map(|i| format!("MESSAGE sip:{i}@x SIP/2.0\r\nCall-ID: c{i}\r\n\r\n").into_bytes())
            .collect();
        for (i, m) in msgs.iter().enumerate() {
            let t = 1_764_000_000_000_000 + i as i64;
            j.write(t, t, None, None, None, m);
        }
        std::mem::forget(j); // kill -9: no final chunk
        let files: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        assert_eq!(files.len(), 1);
        assert_eq!(
            std::fs::metadata(&files[0]).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let bytes = std::fs::read(&files[0]).unwrap();
        assert!(rec_vault::is_vault(&bytes));
        assert!(
            !bytes.windows(7).any(|w| w == b"Call-ID"),
            "no SIP in clear"
        );
        let scan = rec_vault::scan(&bytes, &keys).unwrap();
        assert!(!scan.finished);
        let frames = crate::replay::sealed_input::parse_pcapng(&scan.plain).unwrap();
        assert_eq!(frames.len(), 3);
        for ((_, _, f), m) in frames.iter().zip(&msgs) {
            assert!(f.ends_with(m));
        }
        crate::encryption::finish_journals(dir.path(), Some(&keys));
        let whole = rec_vault::decrypt(&std::fs::read(&files[0]).unwrap(), &keys).unwrap();
        assert_eq!(whole, scan.plain);
    }
}
