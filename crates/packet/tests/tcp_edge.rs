//! TCP reassembler edge cases on hand-made segments: sequence wrap-around, SYN / FIN / RST,
//! reuse of the addresses by a new connection, idle expiry, stream and buffer caps, and a
//! pseudo-random stress run (random cuts, order and duplication of a known byte stream must give
//! back exactly that stream).

use std::net::SocketAddr;

use rec_packet::link::{TcpFlags, TcpSegment};
use rec_packet::tcp::{CloseReason, StreamKey, TcpConfig, TcpEvent, TcpReassembler};

fn a() -> SocketAddr {
    "192.0.2.1:5061".parse().unwrap()
}
fn b() -> SocketAddr {
    "192.0.2.2:40000".parse().unwrap()
}

fn seg(seq: u32, flags: TcpFlags, payload: &[u8]) -> TcpSegment<'_> {
    TcpSegment {
        src: a(),
        dst: b(),
        seq,
        ack: 0,
        flags,
        payload,
    }
}

const DATA: TcpFlags = TcpFlags {
    syn: false,
    fin: false,
    rst: false,
    ack: true,
    psh: true,
};
const SYN: TcpFlags = TcpFlags {
    syn: true,
    fin: false,
    rst: false,
    ack: false,
    psh: false,
};
const FIN: TcpFlags = TcpFlags {
    syn: false,
    fin: true,
    rst: false,
    ack: true,
    psh: false,
};
const RST: TcpFlags = TcpFlags {
    syn: false,
    fin: false,
    rst: true,
    ack: false,
    psh: false,
};

#[derive(Default)]
struct Sink {
    data: Vec<u8>,
    gaps: Vec<u32>,
    closed: Vec<CloseReason>,
}

impl Sink {
    fn push(&mut self, r: &mut TcpReassembler, at: u64, s: &TcpSegment<'_>) {
        r.push(at, s, |ev| self.on(ev));
    }
    fn on(&mut self, ev: TcpEvent<'_>) {
        match ev {
            TcpEvent::Data { stream, bytes } => {
                assert_eq!(stream, StreamKey { src: a(), dst: b() });
                self.data.extend_from_slice(bytes)
            }
            TcpEvent::Gap { missing, .. } => self.gaps.push(missing),
            TcpEvent::Closed { reason, .. } => self.closed.push(reason),
        }
    }
}

#[test]
fn tcp_edge_sequence_wraparound_and_reordering() {
    let mut r = TcpReassembler::new(TcpConfig::default());
    let mut s = Sink::default();
    let isn = u32::MAX - 5; // data starts at isn + 1 = 2^32 - 5
    s.push(&mut r, 0, &seg(isn, SYN, b""));
    // Bytes "0123456789" at 2^32-5 .. 2^32+5, wrapping through zero; send the second half first.
    s.push(&mut r, 1, &seg(0, DATA, b"56789"));
    assert!(s.data.is_empty());
    s.push(&mut r, 2, &seg(isn.wrapping_add(1), DATA, b"01234"));
    assert_eq!(s.data, b"0123456789");
    // A retransmission overlapping old and new bytes: only the new ones come out.
    s.push(&mut r, 3, &seg(3, DATA, b"89ABC"));
    assert_eq!(s.data, b"0123456789ABC");
    let st = r.stats();
    assert_eq!(st.duplicate_bytes, 2);
    assert_eq!(st.out_of_order_segments, 1);
    assert_eq!(st.bytes_delivered, 13);
    assert_eq!(st.buffered_bytes, 0);
}

#[test]
fn tcp_edge_fin_rst_and_reuse() {
    let mut r = TcpReassembler::new(TcpConfig::default());
    let mut s = Sink::default();
    s.push(&mut r, 0, &seg(100, SYN, b""));
    // FIN carrying the last bytes arrives before the middle ones.
    s.push(&mut r, 1, &seg(105, FIN, b"world"));
    assert!(s.closed.is_empty());
    s.push(&mut r, 2, &seg(101, DATA, b"hell"));
    assert_eq!(s.data, b"hellworld"); // 101..105 "hell", 105..110 "world"
    assert_eq!(s.closed, [CloseReason::Fin]);
    // Retransmissions after the FIN are ignored.
    s.push(&mut r, 3, &seg(101, DATA, b"hell"));
    assert_eq!(s.data, b"hellworld");
    // The same SYN again (retransmitted) changes nothing; a SYN with a new ISN opens a new stream.
    s.push(&mut r, 4, &seg(100, SYN, b""));
    assert_eq!(s.closed.len(), 1);
    s.push(&mut r, 5, &seg(5000, SYN, b""));
    s.push(&mut r, 6, &seg(5001, DATA, b"again"));
    assert_eq!(s.data, b"hellworldagain");
    // RST closes it, with buffered data discarded.
    s.push(&mut r, 7, &seg(5100, DATA, b"ahead"));
    assert_eq!(r.stats().buffered_bytes, 5);
    s.push(&mut r, 8, &seg(5006, RST, b""));
    assert_eq!(s.closed, [CloseReason::Fin, CloseReason::Reset]);
    assert_eq!(r.stats().buffered_bytes, 0);
    assert_eq!(r.stats().streams_opened, 2);
    assert_eq!(r.stats().streams_closed, 2);
}

#[test]
fn tcp_edge_midstream_start_idle_expiry_and_stream_cap() {
    let cfg = TcpConfig {
        max_streams: 1,
        idle_timeout_micros: 1_000,
        ..TcpConfig::default()
    };
    let mut r = TcpReassembler::new(cfg);
    let mut s = Sink::default();
    // No SYN seen: the first data segment starts the stream; a pure ACK does not.
    s.push(&mut r, 0, &seg(7, DATA, b""));
    assert_eq!(r.stream_count(), 0);
    s.push(&mut r, 0, &seg(7, DATA, b"abc"));
    assert_eq!(s.data, b"abc");
    // A second stream is over the cap.
    let other = TcpSegment {
        src: b(),
        dst: a(),
        ..seg(1, DATA, b"x")
    };
    r.push(10, &other, |_| panic!("no event for a dropped stream"));
    assert_eq!(r.stats().dropped_streams_full, 1);
    assert_eq!(r.stream_count(), 1);
    // Not idle yet at exactly the timeout; idle after it.
    r.expire(1_000, |ev| s.on(ev));
    assert!(s.closed.is_empty());
    r.expire(1_001, |ev| s.on(ev));
    assert_eq!(s.closed, [CloseReason::Idle]);
    assert_eq!(r.stream_count(), 0);
}

#[test]
fn tcp_edge_buffer_caps_skip_holes() {
    let cfg = TcpConfig {
        max_buffered_per_stream: 10,
        ..TcpConfig::default()
    };
    let mut r = TcpReassembler::new(cfg);
    let mut s = Sink::default();
    s.push(&mut r, 0, &seg(0, SYN, b""));
    s.push(&mut r, 0, &seg(1, DATA, b"AAAA"));
    // Bytes 5..9 never arrive; 9.. come in 4-byte pieces: after 12 buffered bytes (> 10) the
    // stream skips the 4-byte hole and delivers what it holds.
    s.push(&mut r, 0, &seg(9, DATA, b"CCCC"));
    s.push(&mut r, 0, &seg(13, DATA, b"DDDD"));
    assert_eq!(s.data, b"AAAA");
    s.push(&mut r, 0, &seg(17, DATA, b"EEEE"));
    assert_eq!(s.gaps, [4]);
    assert_eq!(s.data, b"AAAACCCCDDDDEEEE");
    // The late hole bytes are now duplicates.
    s.push(&mut r, 0, &seg(5, DATA, b"BBBB"));
    assert_eq!(s.data, b"AAAACCCCDDDDEEEE");
    assert_eq!(r.stats().gap_bytes, 4);

    // Global cap: two streams of 8 buffered bytes each with a 12-byte total.
    let cfg = TcpConfig {
        max_buffered_total: 12,
        ..TcpConfig::default()
    };
    let mut r = TcpReassembler::new(cfg);
    let mut gaps = 0;
    for (src, dst) in [(a(), b()), (b(), a())] {
        for (seq, flags, p) in [(0, SYN, &b""[..]), (11, DATA, b"xxxx"), (15, DATA, b"yyyy")] {
            let sg = TcpSegment {
                src,
                dst,
                seq,
                ack: 0,
                flags,
                payload: p,
            };
            r.push(0, &sg, |ev| {
                gaps += usize::from(matches!(ev, TcpEvent::Gap { .. }))
            });
        }
    }
    assert_eq!(gaps, 1);
    assert!(r.stats().buffered_bytes <= 12);
}

/// xorshift64*: deterministic pseudo-random numbers for the stress test.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[test]
fn tcp_edge_random_cuts_orders_and_duplicates_give_the_stream_back() {
    let stream: Vec<u8> = (0..20_000u32).map(|i| (i * 7 + i / 251) as u8).collect();
    for round in 0..20u64 {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ round);
        let isn = rng.next() as u32;
        // Random pieces (possibly overlapping), each sent once or twice.
        let mut pieces = Vec::new();
        let mut at = 0;
        while at < stream.len() {
            let len = 1 + rng.below(1400);
            let start = at.saturating_sub(rng.below(3) * rng.below(200));
            let end = (at + len).min(stream.len());
            pieces.push((start, end));
            if rng.below(5) == 0 {
                pieces.push((start, end));
            }
            at = end;
        }
        // Local reordering: swap neighbours within a window of 8 (never ahead of the first piece).
        for _ in 0..pieces.len() {
            let i = 1 + rng.below(pieces.len() - 1);
            let j = (i + rng.below(8)).min(pieces.len() - 1);
            pieces.swap(i, j);
        }
        let mut r = TcpReassembler::new(TcpConfig::default());
        let mut s = Sink::default();
        s.push(&mut r, 0, &seg(isn, SYN, b""));
        for (st, en) in &pieces {
            let sq = isn.wrapping_add(1).wrapping_add(*st as u32);
            s.push(&mut r, 0, &seg(sq, DATA, &stream[*st..*en]));
        }
        assert!(s.gaps.is_empty(), "round {round}");
        assert!(
            s.data == stream,
            "round {round}: {} of {} bytes",
            s.data.len(),
            stream.len()
        );
        assert_eq!(r.stats().buffered_bytes, 0);
    }
}

#[test]
fn tcp_edge_closed_streams_make_room_for_new_ones() {
    let cfg = TcpConfig {
        max_streams: 1,
        ..TcpConfig::default()
    };
    let mut r = TcpReassembler::new(cfg);
    let mut s = Sink::default();
    s.push(&mut r, 0, &seg(1, DATA, b"bye"));
    s.push(&mut r, 0, &seg(4, FIN, b""));
    assert_eq!(s.closed, [CloseReason::Fin]);
    // The closed stream is forgotten for the new one.
    let mut got = Vec::new();
    let other = TcpSegment {
        src: b(),
        dst: a(),
        ..seg(1, DATA, b"new")
    };
    r.push(1, &other, |ev| {
        if let TcpEvent::Data { bytes, .. } = ev {
            got.extend_from_slice(bytes)
        }
    });
    assert_eq!(got, b"new");
    assert_eq!(r.stats().dropped_streams_full, 0);
    assert_eq!(r.stream_count(), 1);
}
