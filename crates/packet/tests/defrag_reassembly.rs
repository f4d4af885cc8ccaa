//! IP defragmentation: real SIP/UDP datagrams from shared/testdata are cut into IPv4 and IPv6
//! fragments (headers laid out by hand from RFC 791 / RFC 8200), delivered in order, reversed,
//! interleaved, duplicated and overlapping, then reassembled and compared with the original and
//! with etherparse's `IpDefragPool` (differential). Timeout, memory cap and malformed fragments
//! are checked through the counters.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::net::{IpAddr, Ipv6Addr};

use etherparse::defrag::IpDefragPool;
use etherparse::SlicedPacket;
use rec_packet::capture::OfflineCapture;
use rec_packet::defrag::{DefragConfig, DefragStats, Defragmenter};
use rec_packet::link::{
    decode_frame, decode_transport, Fragment, FragmentKey, LinkType, Transport,
};

struct Datagram {
    src: [u8; 4],
    dst: [u8; 4],
    /// UDP header + data, as captured.
    ip_payload: Vec<u8>,
}

/// IPv4/UDP packets of ndpi/sip.pcap (Ethernet, no VLAN, no IP options) with total length >= 520.
fn datagrams() -> Vec<Datagram> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/testdata/pcaps/ndpi/sip.pcap"
    );
    let mut cap = OfflineCapture::open(path).unwrap();
    let mut out = Vec::new();
    while let Some(f) = cap.next_frame().unwrap() {
        let ip = &f.data[14..];
        if ip[0] != 0x45 || ip[9] != 17 {
            continue;
        }
        let total = usize::from(u16::from_be_bytes([ip[2], ip[3]]));
        if total < 20 + 500 {
            continue;
        }
        out.push(Datagram {
            src: ip[12..16].try_into().unwrap(),
            dst: ip[16..20].try_into().unwrap(),
            ip_payload: ip[20..total].to_vec(),
        });
    }
    out
}

/// One IPv4 fragment packet (RFC 791): offset in bytes (multiple of 8), MF flag.
fn v4_fragment(d: &Datagram, id: u16, offset: usize, end: usize, more: bool) -> Vec<u8> {
    let data = &d.ip_payload[offset..end];
    let total = 20 + data.len();
    let fo = (offset / 8) as u16 | if more { 0x2000 } else { 0 };
    let mut v = vec![0x45, 0, (total >> 8) as u8, total as u8];
    v.extend_from_slice(&id.to_be_bytes());
    v.extend_from_slice(&fo.to_be_bytes());
    v.extend_from_slice(&[64, 17, 0, 0]);
    v.extend_from_slice(&d.src);
    v.extend_from_slice(&d.dst);
    v.extend_from_slice(data);
    v
}

/// One IPv6 fragment packet (RFC 8200 §4.5): fixed header, fragment header, data.
fn v6_fragment(d: &Datagram, id: u32, offset: usize, end: usize, more: bool) -> Vec<u8> {
    let data = &d.ip_payload[offset..end];
    let plen = 8 + data.len();
    let mut v = vec![0x60, 0, 0, 0, (plen >> 8) as u8, plen as u8, 44, 64];
    v.extend_from_slice(&Ipv6Addr::from(u128::from(u32::from_be_bytes(d.src))).octets());
    v.extend_from_slice(&Ipv6Addr::from(u128::from(u32::from_be_bytes(d.dst))).octets());
    let word = ((offset / 8) as u16) << 3 | u16::from(more);
    v.extend_from_slice(&[17, 0]);
    v.extend_from_slice(&word.to_be_bytes());
    v.extend_from_slice(&id.to_be_bytes());
    v.extend_from_slice(data);
    v
}

/// Cuts a datagram into `step`-byte fragments (+ one overlapping fragment when `overlap`).
fn cut(d: &Datagram, step: usize, overlap: bool) -> Vec<(usize, usize, bool)> {
    let n = d.ip_payload.len();
    let mut v: Vec<(usize, usize, bool)> = (0..n)
        .step_by(step)
        .map(|o| (o, (o + step).min(n), o + step < n))
        .collect();
    if overlap && v.len() > 2 {
        // A fragment straddling the first two boundaries (same bytes, as a retransmission would be).
        v.push((step / 2 / 8 * 8, (step / 2 / 8 * 8 + step).min(n), true));
    }
    v
}

/// Feeds raw IP packets to our defragmenter and to etherparse's pool; returns what each completed.
fn run(
    packets: &[Vec<u8>],
    cfg: DefragConfig,
    times: impl Fn(usize) -> u64,
) -> (Vec<Vec<u8>>, Vec<Vec<u8>>, DefragStats) {
    let mut ours = Defragmenter::new(cfg);
    let mut pool = IpDefragPool::<(), ()>::new();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for (i, p) in packets.iter().enumerate() {
        let d = decode_frame(LinkType::Raw, p).unwrap();
        let Transport::Fragment(fr) = d.transport else {
            panic!("not a fragment")
        };
        if let Some(r) = ours.push(times(i), &fr) {
            // The reassembled payload decodes as the original UDP datagram.
            let t = decode_transport(r.key.src, r.key.dst, r.key.protocol, r.payload).unwrap();
            assert!(matches!(t, Transport::Udp(_)));
            a.push(r.payload.to_vec());
        }
        let s = SlicedPacket::from_ip(p).unwrap();
        if let Some(done) = pool.process_sliced_packet(&s, (), ()).unwrap() {
            b.push(done.payload.clone());
            pool.return_buf(done);
        }
    }
    (a, b, ours.stats())
}

#[test]
fn defrag_orders_duplicates_overlaps_match_original_and_etherparse() {
    let ds = datagrams();
    // tshark -r ndpi/sip.pcap -Y 'ip.len >= 520 && udp && !icmp' | wc -l  ->  27
    assert_eq!(ds.len(), 27);
    for v6 in [false, true] {
        for (step, overlap, order) in [
            (512, false, "in order"),
            (64, false, "reversed"),
            (128, true, "interleaved"),
            (200 / 8 * 8, true, "duplicated"),
        ] {
            let mut lists: Vec<Vec<Vec<u8>>> = ds
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    cut(d, step, overlap)
                        .into_iter()
                        .map(|(o, e, m)| {
                            if v6 {
                                v6_fragment(d, 0x10000 + i as u32, o, e, m)
                            } else {
                                v4_fragment(d, i as u16, o, e, m)
                            }
                        })
                        .collect()
                })
                .collect();
            let packets: Vec<Vec<u8>> = match order {
                "reversed" => lists.iter_mut().flat_map(|l| l.drain(..).rev()).collect(),
                "interleaved" => {
                    let mut out = Vec::new();
                    let longest = lists.iter().map(Vec::len).max().unwrap();
                    for k in 0..longest {
                        for l in &lists {
                            if let Some(p) = l.get(l.len().wrapping_sub(1 + k)) {
                                out.push(p.clone());
                            }
                        }
                    }
                    out
                }
                "duplicated" => lists
                    .iter()
                    .flat_map(|l| l.iter().flat_map(|p| [p.clone(), p.clone()]))
                    .collect(),
                _ => lists.concat(),
            };
            let (ours, theirs, stats) = run(&packets, DefragConfig::default(), |_| 1_000);
            let label = format!("v6={v6} {order}");
            let want: Vec<Vec<u8>> = ds.iter().map(|d| d.ip_payload.clone()).collect();
            let mut o = ours.clone();
            let mut w = want.clone();
            o.sort();
            w.sort();
            // (In "duplicated", a copy of the last fragment arriving after completion starts a
            // new datagram that never completes: still exactly one result per original.)
            assert!(o == w, "{label}: {:?} vs original {:?}", o.len(), w.len());
            let mut t = theirs.clone();
            t.sort();
            t.dedup();
            // The originals hold identical retransmitted datagrams: compare distinct payloads.
            o.dedup();
            let lens = |v: &[Vec<u8>]| v.iter().map(Vec::len).collect::<Vec<_>>();
            assert!(
                o == t,
                "{label}: differs from etherparse: ours {:?}, etherparse {:?}",
                lens(&o),
                lens(&t)
            );
            assert_eq!(stats.malformed, 0, "{label}");
            assert_eq!(stats.fragments, packets.len() as u64, "{label}");
        }
    }
}

#[test]
fn defrag_timeout_drops_and_counts() {
    let ds = datagrams();
    let d = &ds[0];
    let frags: Vec<Vec<u8>> = cut(d, 256, false)
        .into_iter()
        .map(|(o, e, m)| v4_fragment(d, 7, o, e, m))
        .collect();
    let cfg = DefragConfig {
        timeout_micros: 1_000_000,
        ..DefragConfig::default()
    };
    // First fragment at t=0, the others 2 s later: the first is expired before they arrive.
    let (ours, _, stats) = run(&frags, cfg, |i| if i == 0 { 0 } else { 2_000_000 });
    assert!(ours.is_empty());
    assert_eq!(stats.timed_out, 1);
    assert_eq!(stats.reassembled, 0);
    // The same fragments within the timeout complete.
    let (ours, _, stats) = run(&frags, cfg, |i| i as u64 * 100_000);
    assert_eq!(ours, vec![d.ip_payload.clone()]);
    assert_eq!(stats.timed_out, 0);
    // expire() alone also drops stale datagrams.
    let mut df = Defragmenter::new(cfg);
    let p = &frags[0];
    let Transport::Fragment(fr) = decode_frame(LinkType::Raw, p).unwrap().transport else {
        panic!()
    };
    assert!(df.push(5, &fr).is_none());
    assert_eq!(df.pending_datagrams(), 1);
    df.expire(1_000_005);
    assert_eq!(
        df.pending_datagrams(),
        1,
        "exactly the timeout is not yet expired"
    );
    df.expire(1_000_006);
    assert_eq!(df.pending_datagrams(), 0);
    assert_eq!(df.pending_bytes(), 0);
    assert_eq!(df.stats().timed_out, 1);
}

#[test]
fn defrag_memory_and_datagram_caps() {
    let ds = datagrams();
    // First fragments of every datagram, never the rest: buffered bytes must stay under the cap.
    let firsts: Vec<Vec<u8>> = ds
        .iter()
        .enumerate()
        .map(|(i, d)| v4_fragment(d, i as u16, 256, 512, true))
        .collect();
    let cfg = DefragConfig {
        max_bytes: 2048,
        ..DefragConfig::default()
    };
    let mut df = Defragmenter::new(cfg);
    for p in &firsts {
        let Transport::Fragment(fr) = decode_frame(LinkType::Raw, p).unwrap().transport else {
            panic!()
        };
        assert!(df.push(0, &fr).is_none());
        assert!(df.pending_bytes() <= 2048, "{}", df.pending_bytes());
    }
    // Each holds 512 bytes (offsets 0..512): 4 fit, 23 are dropped.
    assert_eq!(df.pending_datagrams(), 4);
    assert_eq!(df.stats().dropped_over_cap, 23);

    // In-order fragments of every datagram except the last one: the buffers grow fragment by
    // fragment and the accounting must never pass the cap.
    let mut df = Defragmenter::new(DefragConfig {
        max_bytes: 2048,
        ..DefragConfig::default()
    });
    for (i, d) in ds.iter().enumerate() {
        for (o, e, m) in cut(d, 64, false).into_iter().filter(|f| f.2) {
            let p = v4_fragment(d, 1000 + i as u16, o, e, m);
            let Transport::Fragment(fr) = decode_frame(LinkType::Raw, &p).unwrap().transport else {
                panic!()
            };
            assert!(df.push(0, &fr).is_none());
            assert!(df.pending_bytes() <= 2048, "{}", df.pending_bytes());
        }
    }
    assert!(df.stats().dropped_over_cap > 0);

    let cfg = DefragConfig {
        max_datagrams: 3,
        ..DefragConfig::default()
    };
    let mut df = Defragmenter::new(cfg);
    for p in &firsts {
        let Transport::Fragment(fr) = decode_frame(LinkType::Raw, p).unwrap().transport else {
            panic!()
        };
        df.push(0, &fr);
    }
    assert_eq!(df.pending_datagrams(), 3);
    assert_eq!(df.stats().dropped_over_cap, 24);
}

#[test]
fn defrag_malformed_fragments_are_counted() {
    let ds = datagrams();
    let d = &ds[0];
    let mut df = Defragmenter::new(DefragConfig::default());
    let mut push = |p: Vec<u8>| {
        let Transport::Fragment(fr) = decode_frame(LinkType::Raw, &p).unwrap().transport else {
            panic!()
        };
        df.push(0, &fr).map(|r| r.payload.to_vec())
    };
    // Non-final fragment whose length is not a multiple of 8.
    assert!(push(v4_fragment(d, 1, 0, 100, true)).is_none());
    // Last fragment ending at 400, then another "last" fragment ending at 480.
    assert!(push(v4_fragment(d, 2, 256, 400, false)).is_none());
    assert!(push(v4_fragment(d, 2, 400, 480, false)).is_none());
    // Fragment beyond the known end.
    assert!(push(v4_fragment(d, 2, 392, 456, true)).is_none());
    // Completing datagram 2 still works with the right pieces.
    let done = push(v4_fragment(d, 2, 0, 256, true)).unwrap();
    assert_eq!(done, d.ip_payload[..400]);
    // Offset 8191 * 8 + data beyond 65535 bytes.
    let mut p = v4_fragment(d, 3, 0, 16, false);
    p[6] = 0x1f;
    p[7] = 0xff;
    assert!(push(p).is_none());
    let s = df.stats();
    assert_eq!(s.malformed, 4);
    assert_eq!(s.reassembled, 1);
    assert_eq!(df.pending_datagrams(), 0);
}

#[test]
fn defrag_random_fragments_stay_within_caps() {
    // xorshift64: arbitrary ids, offsets, lengths and flags; nothing may panic, the byte cap
    // holds at every step, and every fragment is accounted for.
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let cfg = DefragConfig {
        timeout_micros: 50_000,
        max_bytes: 64 << 10,
        max_datagrams: 32,
    };
    let mut df = Defragmenter::new(cfg);
    let data = vec![0x5au8; 2000];
    let mut completed = 0u64;
    for i in 0..20_000u64 {
        let r = next();
        let key = FragmentKey {
            src: IpAddr::from([10, 0, 0, (r & 3) as u8]),
            dst: IpAddr::from([10, 0, 1, 1]),
            protocol: 17,
            id: ((r >> 8) % 40) as u32,
        };
        let fr = Fragment {
            key,
            offset: ((r >> 16) % 9000) as u32 * 8,
            more: (r >> 40) % 3 != 0,
            payload: &data[..((r >> 24) % 2000) as usize],
        };
        if df.push(i * 100, &fr).is_some() {
            completed += 1;
        }
        assert!(df.pending_bytes() <= 64 << 10);
        assert!(df.pending_datagrams() <= 32);
    }
    let s = df.stats();
    assert_eq!(s.fragments, 20_000);
    assert_eq!(s.reassembled, completed);
    assert!(s.malformed > 0 && s.timed_out > 0, "{s:?}");
}
