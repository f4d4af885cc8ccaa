//! Any bytes cut into captured frames (the first byte of each picks the link type and the time step), through
//! the path replay and live capture take: link layer → IP (with a small bounded defragmenter) → UDP, or TCP
//! into a small bounded reassembler. pcap/pcapng files themselves are read by libpcap (the project has no
//! block parser of its own), so this is the project's code behind it.
//!
//! No panic; every decoded payload lies inside its frame (or the reassembled datagram); the defragmenter and
//! the reassembler never hold more than their caps (datagrams, bytes, streams, buffered bytes); every byte
//! the reassembler delivers is counted, and expiry at the end closes every stream.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rec_packet::defrag::{DefragConfig, Defragmenter};
use rec_packet::tcp::{TcpConfig, TcpEvent, TcpReassembler};
use rec_packet::{decode_frame, decode_transport, LinkType, Transport};

const LINKS: [LinkType; 8] = [
    LinkType::Ethernet,
    LinkType::Raw,
    LinkType::LinuxSll,
    LinkType::LinuxSll2,
    LinkType::Null,
    LinkType::Loop,
    LinkType::Ipv4,
    LinkType::Ipv6,
];

const DEFRAG: DefragConfig = DefragConfig {
    timeout_micros: 2_000_000,
    max_bytes: 6_000,
    max_datagrams: 3,
};

const TCP: TcpConfig = TcpConfig {
    max_streams: 3,
    max_buffered_per_stream: 2_000,
    max_buffered_total: 3_000,
    idle_timeout_micros: 5_000_000,
};

fn inside(inner: &[u8], outer: &[u8]) -> bool {
    let (o, i) = (outer.as_ptr() as usize, inner.as_ptr() as usize);
    i >= o && i + inner.len() <= o + outer.len()
}

#[derive(Default)]
struct Seen {
    delivered: u64,
}

impl Seen {
    fn event(&mut self, e: TcpEvent<'_>) {
        if let TcpEvent::Data { bytes, .. } = e {
            assert!(!bytes.is_empty(), "no empty data events");
            self.delivered += bytes.len() as u64;
        }
    }
}

fn transport(t: &Transport<'_>, within: &[u8], at: u64, tcp: &mut TcpReassembler, seen: &mut Seen) {
    match t {
        Transport::Udp(u) => assert!(inside(u.payload, within), "UDP payload inside"),
        Transport::Tcp(s) => {
            assert!(inside(s.payload, within), "TCP payload inside");
            tcp.push(at, s, |e| seen.event(e));
            let st = tcp.stats();
            assert!(
                tcp.stream_count() <= TCP.max_streams,
                "TCP streams over the cap"
            );
            assert!(
                st.buffered_bytes <= TCP.max_buffered_total,
                "TCP buffer over the cap"
            );
            assert_eq!(
                st.bytes_delivered, seen.delivered,
                "delivered bytes are counted"
            );
        }
        Transport::Fragment(f) => assert!(inside(f.payload, within), "fragment inside"),
        Transport::Other(b) => assert!(inside(b, within)),
    }
}

fuzz_target!(|data: &[u8]| {
    let mut defrag = Defragmenter::new(DEFRAG);
    let mut tcp = TcpReassembler::new(TCP);
    let mut seen = Seen::default();
    let mut at = 1_000_000u64;
    let mut rest = data;
    while rest.len() >= 3 {
        let pick = rest[0];
        let len = usize::from(u16::from_be_bytes([rest[1], rest[2]])).min(rest.len() - 3);
        let frame = &rest[3..3 + len];
        rest = &rest[3 + len..];
        at += u64::from(pick >> 3) * 250_000;
        let Ok(decoded) = decode_frame(LINKS[usize::from(pick & 7)], frame) else {
            continue;
        };
        if let Transport::Fragment(f) = decoded.transport {
            let whole = defrag.push(at, &f).map(|r| (r.key, r.payload.to_vec()));
            assert!(
                defrag.pending_datagrams() <= DEFRAG.max_datagrams,
                "defrag datagrams over the cap"
            );
            assert!(
                defrag.pending_bytes() <= DEFRAG.max_bytes,
                "defrag bytes over the cap"
            );
            if let Some((key, payload)) = whole {
                assert_eq!(key, f.key);
                assert!(payload.len() <= 65_535);
                if let Ok(t) = decode_transport(key.src, key.dst, key.protocol, &payload) {
                    transport(&t, &payload, at, &mut tcp, &mut seen);
                }
            }
        } else {
            transport(&decoded.transport, frame, at, &mut tcp, &mut seen);
        }
        tcp.expire(at, |e| seen.event(e));
    }
    defrag.expire(u64::MAX);
    assert_eq!(
        (defrag.pending_datagrams(), defrag.pending_bytes()),
        (0, 0),
        "expiry frees everything"
    );
    tcp.expire(u64::MAX, |e| seen.event(e));
    assert_eq!(tcp.stream_count(), 0, "expiry closes every stream");
    assert_eq!(tcp.stats().buffered_bytes, 0);
});
