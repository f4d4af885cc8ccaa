//! Frames on the wire: Ethernet II / IPv4 (with fragmentation) / UDP or TCP, with correct lengths
//! and checksums, and the classic pcap file format (LINKTYPE_ETHERNET, microsecond timestamps).

use std::io::{self, Write};
use std::net::{Ipv4Addr, SocketAddrV4};

/// Largest IPv4 packet emitted before fragmenting (Ethernet MTU).
pub const MTU: usize = 1500;
/// TCP maximum segment size used for SIP over TCP.
pub const MSS: usize = 1460;

/// TCP flags.
pub mod tcp_flags {
    /// FIN.
    pub const FIN: u8 = 0x01;
    /// SYN.
    pub const SYN: u8 = 0x02;
    /// PSH.
    pub const PSH: u8 = 0x08;
    /// ACK.
    pub const ACK: u8 = 0x10;
}

/// The locally administered MAC address used for an IPv4 host: `02:00:a.b.c.d`.
pub fn mac_for(ip: Ipv4Addr) -> [u8; 6] {
    let o = ip.octets();
    [0x02, 0x00, o[0], o[1], o[2], o[3]]
}

fn checksum_add(mut sum: u32, bytes: &[u8]) -> u32 {
    let mut chunks = bytes.chunks_exact(2);
    for c in &mut chunks {
        sum += u32::from(u16::from_be_bytes([c[0], c[1]]));
    }
    if let [last] = chunks.remainder() {
        sum += u32::from(*last) << 8;
    }
    sum
}

fn checksum_fold(mut sum: u32) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The Internet checksum (RFC 1071) of `bytes`.
pub fn internet_checksum(bytes: &[u8]) -> u16 {
    checksum_fold(checksum_add(0, bytes))
}

fn pseudo_sum(src: Ipv4Addr, dst: Ipv4Addr, proto: u8, len: usize) -> u32 {
    let mut sum = checksum_add(0, &src.octets());
    sum = checksum_add(sum, &dst.octets());
    sum + u32::from(proto) + len as u32
}

fn ethernet(out: &mut Vec<u8>, src: Ipv4Addr, dst: Ipv4Addr) {
    out.extend_from_slice(&mac_for(dst));
    out.extend_from_slice(&mac_for(src));
    out.extend_from_slice(&[0x08, 0x00]);
}

#[allow(clippy::too_many_arguments)]
fn ipv4_header(
    out: &mut Vec<u8>,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    proto: u8,
    payload_len: usize,
    id: u16,
    more_fragments: bool,
    frag_offset_bytes: usize,
) {
    let start = out.len();
    let total = (20 + payload_len) as u16;
    let frag = ((frag_offset_bytes / 8) as u16) | if more_fragments { 0x2000 } else { 0 };
    let dont_fragment = if proto == 6 { 0x4000 } else { 0 };
    out.extend_from_slice(&[0x45, 0x00]);
    out.extend_from_slice(&total.to_be_bytes());
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&(frag | dont_fragment).to_be_bytes());
    out.extend_from_slice(&[64, proto, 0, 0]);
    out.extend_from_slice(&src.octets());
    out.extend_from_slice(&dst.octets());
    let c = internet_checksum(&out[start..start + 20]);
    out[start + 10..start + 12].copy_from_slice(&c.to_be_bytes());
}

/// The Ethernet frames of one UDP datagram: one frame, or IPv4 fragments when the datagram does not
/// fit the MTU. Calls `emit` once per frame, in order.
pub fn udp_frames(
    src: SocketAddrV4,
    dst: SocketAddrV4,
    payload: &[u8],
    ip_id: u16,
    mut emit: impl FnMut(Vec<u8>),
) {
    let udp_len = 8 + payload.len();
    let mut udp = Vec::with_capacity(udp_len);
    udp.extend_from_slice(&src.port().to_be_bytes());
    udp.extend_from_slice(&dst.port().to_be_bytes());
    udp.extend_from_slice(&(udp_len as u16).to_be_bytes());
    udp.extend_from_slice(&[0, 0]);
    udp.extend_from_slice(payload);
    let sum = checksum_add(pseudo_sum(*src.ip(), *dst.ip(), 17, udp_len), &udp);
    let mut c = checksum_fold(sum);
    if c == 0 {
        c = 0xffff;
    }
    udp[6..8].copy_from_slice(&c.to_be_bytes());
    if 20 + udp_len <= MTU {
        let mut f = Vec::with_capacity(14 + 20 + udp_len);
        ethernet(&mut f, *src.ip(), *dst.ip());
        ipv4_header(&mut f, *src.ip(), *dst.ip(), 17, udp_len, ip_id, false, 0);
        f.extend_from_slice(&udp);
        emit(f);
        return;
    }
    let max = (MTU - 20) / 8 * 8;
    let mut off = 0;
    while off < udp.len() {
        let end = (off + max).min(udp.len());
        let more = end < udp.len();
        let mut f = Vec::with_capacity(14 + 20 + end - off);
        ethernet(&mut f, *src.ip(), *dst.ip());
        ipv4_header(
            &mut f,
            *src.ip(),
            *dst.ip(),
            17,
            end - off,
            ip_id,
            more,
            off,
        );
        f.extend_from_slice(&udp[off..end]);
        emit(f);
        off = end;
    }
}

/// One Ethernet frame carrying a TCP segment (no options; window 64240).
pub fn tcp_frame(
    src: SocketAddrV4,
    dst: SocketAddrV4,
    seq: u32,
    ack: u32,
    flags: u8,
    payload: &[u8],
    ip_id: u16,
) -> Vec<u8> {
    let tcp_len = 20 + payload.len();
    let mut f = Vec::with_capacity(14 + 20 + tcp_len);
    ethernet(&mut f, *src.ip(), *dst.ip());
    ipv4_header(&mut f, *src.ip(), *dst.ip(), 6, tcp_len, ip_id, false, 0);
    let t = f.len();
    f.extend_from_slice(&src.port().to_be_bytes());
    f.extend_from_slice(&dst.port().to_be_bytes());
    f.extend_from_slice(&seq.to_be_bytes());
    f.extend_from_slice(&ack.to_be_bytes());
    f.extend_from_slice(&[0x50, flags]);
    f.extend_from_slice(&64240u16.to_be_bytes());
    f.extend_from_slice(&[0, 0, 0, 0]);
    f.extend_from_slice(payload);
    let c = checksum_fold(checksum_add(
        pseudo_sum(*src.ip(), *dst.ip(), 6, tcp_len),
        &f[t..],
    ));
    f[t + 16..t + 18].copy_from_slice(&c.to_be_bytes());
    f
}

/// The 24-byte classic pcap global header (magic `a1b2c3d4`, v2.4, LINKTYPE_ETHERNET).
pub fn pcap_global_header(snaplen: u32) -> [u8; 24] {
    let mut h = [0u8; 24];
    h[0..4].copy_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    h[4..6].copy_from_slice(&2u16.to_le_bytes());
    h[6..8].copy_from_slice(&4u16.to_le_bytes());
    h[16..20].copy_from_slice(&snaplen.to_le_bytes());
    h[20..24].copy_from_slice(&1u32.to_le_bytes());
    h
}

/// The 16-byte pcap record header of a frame of `len` bytes captured at `ts_us` (µs since the epoch).
pub fn pcap_record_header(ts_us: u64, len: usize) -> [u8; 16] {
    let mut h = [0u8; 16];
    h[0..4].copy_from_slice(&((ts_us / 1_000_000) as u32).to_le_bytes());
    h[4..8].copy_from_slice(&((ts_us % 1_000_000) as u32).to_le_bytes());
    h[8..12].copy_from_slice(&(len as u32).to_le_bytes());
    h[12..16].copy_from_slice(&(len as u32).to_le_bytes());
    h
}

/// Writes a classic pcap stream to any [`Write`] (the caller opens the file and buffers it).
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    inner: W,
    frames: u64,
    bytes: u64,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the global header (snaplen 262144) and returns the writer.
    pub fn new(mut inner: W) -> io::Result<PcapWriter<W>> {
        inner.write_all(&pcap_global_header(262_144))?;
        Ok(PcapWriter {
            inner,
            frames: 0,
            bytes: 24,
        })
    }

    /// Appends one frame captured at `ts_us` (µs since the Unix epoch).
    pub fn write_frame(&mut self, ts_us: u64, frame: &[u8]) -> io::Result<()> {
        self.inner
            .write_all(&pcap_record_header(ts_us, frame.len()))?;
        self.inner.write_all(frame)?;
        self.frames += 1;
        self.bytes += 16 + frame.len() as u64;
        Ok(())
    }

    /// Frames written so far.
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Bytes written so far (headers included).
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Flushes and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.inner.flush()?;
        Ok(self.inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internet_checksum_matches_rfc1071_example() {
        // RFC 1071 §3: the bytes 00 01 f2 03 f4 f5 f6 f7 sum to ddf2 (one's complement 220d).
        assert_eq!(
            internet_checksum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
            !0xddf2
        );
    }

    #[test]
    fn ipv4_header_checksums_to_zero_and_fragments_cover_the_datagram() {
        let src = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 10), 5061);
        let dst = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 5061);
        let payload = vec![0xAB; 4000];
        let mut frames = Vec::new();
        udp_frames(src, dst, &payload, 7, |f| frames.push(f));
        assert_eq!(frames.len(), 3);
        let mut total = 0;
        for f in &frames {
            assert!(f.len() <= 14 + MTU);
            assert_eq!(internet_checksum(&f[14..34]), 0);
            total += f.len() - 34;
        }
        assert_eq!(total, 8 + payload.len());
    }
}
