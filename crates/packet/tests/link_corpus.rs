//! `decode_frame` and `OfflineCapture` against the real captures of shared/testdata: per-file
//! counts of IPv4/IPv6/UDP/TCP/VLAN frames checked with tshark, addresses of a few frames, and no
//! panic on any frame truncated at many offsets.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use std::net::{IpAddr, SocketAddr};

use rec_packet::capture::OfflineCapture;
use rec_packet::link::{decode_frame, DecodeError, IpVersion, LinkType, Transport};

const PCAPS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/testdata/pcaps/"
);

#[derive(Debug, Default, PartialEq, Eq)]
struct Counts {
    frames: usize,
    v4: usize,
    v6: usize,
    udp: usize,
    tcp: usize,
    vlan: usize,
}

fn frames(file: &str) -> (LinkType, Vec<(u64, Vec<u8>)>) {
    let mut cap = OfflineCapture::open(format!("{PCAPS}{file}")).expect("open capture");
    let link = cap.link_type();
    let mut out = Vec::new();
    while let Some(f) = cap.next_frame().expect("read frame") {
        assert_eq!(f.link, link);
        out.push((f.at_micros, f.data.to_vec()));
    }
    (link, out)
}

fn counts(file: &str) -> Counts {
    let (link, frames) = frames(file);
    let mut c = Counts {
        frames: frames.len(),
        ..Counts::default()
    };
    for (_, f) in &frames {
        match decode_frame(link, f) {
            Ok(d) => {
                match d.ip.version {
                    IpVersion::V4 => c.v4 += 1,
                    IpVersion::V6 => c.v6 += 1,
                }
                if !d.vlans.ids().is_empty() {
                    c.vlan += 1;
                }
                match d.transport {
                    Transport::Udp(_) => c.udp += 1,
                    Transport::Tcp(_) => c.tcp += 1,
                    _ => {}
                }
            }
            Err(DecodeError::NotIp { .. }) => {}
            Err(e) => panic!("{file}: unexpected error {e}"),
        }
    }
    c
}

/// Expected values come from tshark 4.0.17, per file F:
///   frames: `capinfos -c F`
///   v4:     `tshark -r F -Y ip | wc -l`
///   v6:     `tshark -r F -Y 'ipv6 && !ip' | wc -l`
///   udp:    `tshark -r F -Y 'udp && !icmp && !icmpv6' | wc -l`
///   tcp:    `tshark -r F -Y 'tcp && !icmp && !icmpv6' | wc -l`
///   vlan:   `tshark -r F -Y vlan | wc -l`
/// (none of these files holds IP fragments: `-Y 'ip.flags.mf==1 || ip.frag_offset>0 || ipv6.fragment'` is empty).
#[rustfmt::skip]
const EXPECTED: &[(&str, [usize; 6])] = &[
    //                                          frames   v4    v6   udp   tcp  vlan
    ("heplify/FAX-Call-t38-CA-TDM-SIP-FB-1.pcap", [7217, 7217,   0, 7217,    0,  0]),
    ("heplify/sip_ipv4_tcp.pcap",                 [  84,   84,   0,   68,   16,  0]),
    ("heplify/sip_ipv4_tcp_fragmented.pcap",      [1542, 1542,   0,    0, 1542,  0]),
    ("heplify/sip_ipv4_tcp_retrans.pcap",         [ 196,  194,   0,    4,  181,  0]),
    ("heplify/sip_ipv6_udp.pcap",                 [   6,    0,   6,    6,    0,  0]),
    ("heplify/sip_sctp.pcap",                     [   5,    5,   0,    0,    0,  0]),
    ("heplify/sip_tcp_websocket.pcap",            [  61,   61,   0,   28,   33,  0]),
    ("ndpi/rtcp_multiple_pkts_in_the_same_datagram.pcap", [5, 5, 0,    5,    0,  0]),
    ("ndpi/rtp.pcapng",                           [ 112,  112,   0,   75,   37, 30]),
    ("ndpi/sip.pcap",                             [ 112,  112,   0,  112,    0,  0]),
    ("ndpi/sip_hello.pcapng",                     [  30,   30,   0,   30,    0,  0]),
    ("ndpi/skype-conference-call.pcap",           [ 200,  200,   0,  200,    0,  0]),
    ("ndpi/stun.pcap",                            [ 201,  156,  45,  165,   35, 15]),
    ("ndpi/stun_classic.pcap",                    [  22,   22,   0,   22,    0,  0]),
    ("ndpi/stun_dtls_rtp.pcapng",                 [ 102,  102,   0,   39,   63,  0]),
    ("ndpi/stun_google_meet.pcapng",              [ 362,  214, 148,  362,    0,  0]),
    ("ndpi/stun_msteams_unidir.pcapng",           [  12,   12,   0,   12,    0,  0]),
    ("ndpi/stun_signal.pcapng",                   [ 460,  460,   0,  407,    0,  0]),
    ("ndpi/stun_tcp_multiple_msgs_same_pkt.pcap", [   5,    5,   0,    0,    5,  0]),
    ("ndpi/stun_wa_call.pcapng",                  [ 591,  591,   0,  590,    0,  0]),
    ("ndpi/stun_zoom.pcapng",                     [  70,   70,   0,   70,    0,  0]),
    ("ndpi/teams.pcap",                           [1540, 1498,   0,  179, 1317,  0]),
    ("sipp/dtmf_2833_1.pcap",                     [  10,   10,   0,   10,    0,  0]),
    ("sipp/g711a.pcap",                           [ 236,  236,   0,  236,    0,  0]),
];

#[test]
fn link_corpus_counts_match_tshark() {
    let mut failures = Vec::new();
    for (file, [frames, v4, v6, udp, tcp, vlan]) in EXPECTED {
        let want = Counts {
            frames: *frames,
            v4: *v4,
            v6: *v6,
            udp: *udp,
            tcp: *tcp,
            vlan: *vlan,
        };
        let got = counts(file);
        if got != want {
            failures.push(format!("{file}: got {got:?}, tshark says {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn link_corpus_ipv6_udp_addresses() {
    // tshark -r heplify/sip_ipv6_udp.pcap -c 2 -T fields -e ipv6.src -e udp.srcport -e ipv6.dst -e udp.dstport -e udp.length
    //   fe80::21a:a0ff:fe07:32e0 5060 fec0::216:d3ff:fe0d:22c 5060 718
    //   fec0::216:d3ff:fe0d:22c 5060 fe80::21a:a0ff:fe07:32e0 5060 456
    let a: IpAddr = "fe80::21a:a0ff:fe07:32e0".parse().unwrap();
    let b: IpAddr = "fec0::216:d3ff:fe0d:22c".parse().unwrap();
    let (link, frames) = frames("heplify/sip_ipv6_udp.pcap");
    assert_eq!(link, LinkType::Ethernet);
    let want = [(a, b, 718 - 8), (b, a, 456 - 8)];
    for ((_, f), (src, dst, len)) in frames.iter().zip(want) {
        let d = decode_frame(link, f).unwrap();
        assert_eq!(d.ip.version, IpVersion::V6);
        assert_eq!(d.ip.protocol, 17);
        let Transport::Udp(u) = d.transport else {
            panic!("not UDP")
        };
        assert_eq!(u.src, SocketAddr::new(src, 5060));
        assert_eq!(u.dst, SocketAddr::new(dst, 5060));
        assert_eq!(u.payload.len(), len);
        assert!(u.payload.starts_with(b"INVITE ") || u.payload.starts_with(b"SIP/2.0 "));
    }
}

#[test]
fn link_corpus_sll_tcp_fields() {
    // tshark -r heplify/sip_ipv4_tcp_retrans.pcap -c 3 -T fields -e frame.protocols -e ip.src -e tcp.srcport
    //        -e ip.dst -e tcp.dstport -e tcp.seq_raw -e tcp.len
    //   sll:ethertype:ip:tcp:tls 192.168.1.3 443 192.168.1.252 52790 2858523285 31
    //   sll:ethertype:ip:tcp     192.168.1.3 443 192.168.1.252 52790 2858523316 0
    //   sll:ethertype:ip:tcp     192.168.1.252 52790 192.168.1.3 443 2857478728 0
    let (link, frames) = frames("heplify/sip_ipv4_tcp_retrans.pcap");
    assert_eq!(link, LinkType::LinuxSll);
    let s: SocketAddr = "192.168.1.3:443".parse().unwrap();
    let c: SocketAddr = "192.168.1.252:52790".parse().unwrap();
    let want = [
        (s, c, 2858523285u32, 31usize),
        (s, c, 2858523316, 0),
        (c, s, 2857478728, 0),
    ];
    for ((_, f), (src, dst, seq, len)) in frames.iter().zip(want) {
        let Transport::Tcp(t) = decode_frame(link, f).unwrap().transport else {
            panic!("not TCP")
        };
        assert_eq!((t.src, t.dst, t.seq, t.payload.len()), (src, dst, seq, len));
    }
}

#[test]
fn link_corpus_vlan_ids() {
    // tshark -r ndpi/rtp.pcapng -Y vlan -T fields -e vlan.id | sort | uniq -c  ->  30 x 1508
    // tshark -r ndpi/stun.pcap  -Y vlan -T fields -e vlan.id | sort | uniq -c  ->  15 x 1611
    for (file, id, n) in [
        ("ndpi/rtp.pcapng", 1508u16, 30usize),
        ("ndpi/stun.pcap", 1611, 15),
    ] {
        let (link, frames) = frames(file);
        let tagged: Vec<u16> = frames
            .iter()
            .filter_map(|(_, f)| decode_frame(link, f).ok())
            .filter(|d| !d.vlans.ids().is_empty())
            .map(|d| {
                assert_eq!(d.vlans.ids().len(), 1);
                d.vlans.ids()[0]
            })
            .collect();
        assert_eq!(tagged.len(), n, "{file}");
        assert!(tagged.iter().all(|v| *v == id), "{file}: {tagged:?}");
    }
}

#[test]
fn link_corpus_truncated_frames_never_panic() {
    let mut errors = 0usize;
    for (file, _) in EXPECTED {
        let (link, frames) = frames(file);
        for (_, f) in &frames {
            let mut cuts: Vec<usize> =
                vec![0, 1, 3, 4, 5, 13, 14, 15, 16, 17, 18, 19, 20, 21, 23, 24];
            cuts.extend([
                33, 34, 35, 37, 38, 41, 42, 45, 53, 54, 55, 58, 61, 62, 66, 74, 75, 80,
            ]);
            cuts.extend([
                f.len() / 2,
                f.len().saturating_sub(1),
                f.len().saturating_sub(7),
            ]);
            for cut in cuts.into_iter().filter(|c| *c < f.len()) {
                if decode_frame(link, &f[..cut]).is_err() {
                    errors += 1;
                }
            }
            // Corrupt each of the first 64 bytes too.
            let mut g = f.clone();
            for i in 0..g.len().min(64) {
                let old = g[i];
                g[i] = old ^ 0xff;
                let _ = decode_frame(link, &g);
                g[i] = old;
            }
        }
    }
    // Cutting a frame inside its headers must give errors, not silent success.
    assert!(errors > 10_000, "only {errors} truncated frames rejected");
}

#[test]
fn link_capture_timestamps_are_microseconds() {
    // tshark -r sipp/g711a.pcap -c 2 -T fields -e frame.time_epoch
    //   1027664343.268118000
    //   1027664343.298086000
    let (_, frames) = frames("sipp/g711a.pcap");
    assert_eq!(frames[0].0, 1_027_664_343_268_118);
    assert_eq!(frames[1].0, 1_027_664_343_298_086);
}
