//! `OfflineCapture`: BPF filters, link types reported by libpcap, and errors for bad input.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use rec_packet::capture::{CaptureError, OfflineCapture};
use rec_packet::link::LinkType;

const PCAPS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/testdata/pcaps/"
);

fn count(file: &str, filter: Option<&str>) -> usize {
    let mut cap = OfflineCapture::open(format!("{PCAPS}{file}")).unwrap();
    if let Some(f) = filter {
        cap.set_filter(f).unwrap();
    }
    let mut n = 0;
    while cap.next_frame().unwrap().is_some() {
        n += 1;
    }
    n
}

#[test]
fn capture_bpf_filters_select_like_tshark() {
    // tshark -r ndpi/sip.pcap -Y 'udp.port==5060 && !icmp' | wc -l  ->  102
    assert_eq!(count("ndpi/sip.pcap", Some("udp port 5060")), 102);
    // tshark -r ndpi/stun.pcap -Y 'ipv6 && udp && !icmpv6' | wc -l  ->  45
    assert_eq!(count("ndpi/stun.pcap", Some("ip6 and udp")), 45);
    // capinfos -c ndpi/stun.pcap -> 201
    assert_eq!(count("ndpi/stun.pcap", None), 201);
}

#[test]
fn capture_reports_link_types() {
    // capinfos -E: ether / linux-sll / ether (pcapng)
    for (file, link) in [
        ("sipp/g711a.pcap", LinkType::Ethernet),
        ("heplify/sip_sctp.pcap", LinkType::LinuxSll),
        ("ndpi/stun_zoom.pcapng", LinkType::Ethernet),
    ] {
        let cap = OfflineCapture::open(format!("{PCAPS}{file}")).unwrap();
        assert_eq!(cap.link_type(), link, "{file}");
    }
}

#[test]
fn capture_errors_name_the_input() {
    let e = OfflineCapture::open(format!("{PCAPS}does-not-exist.pcap")).unwrap_err();
    assert!(matches!(e, CaptureError::Open { .. }));
    assert!(e.to_string().contains("does-not-exist.pcap"), "{e}");
    // A text file is not a capture.
    let e = OfflineCapture::open(format!("{PCAPS}sipp/LICENSE.txt")).unwrap_err();
    assert!(matches!(e, CaptureError::Open { .. }), "{e}");
    let mut cap = OfflineCapture::open(format!("{PCAPS}sipp/g711a.pcap")).unwrap();
    let e = cap.set_filter("udp port and and").unwrap_err();
    assert!(matches!(e, CaptureError::Filter { .. }));
    assert!(e.to_string().contains("udp port and and"), "{e}");
}

#[test]
fn capture_live_loopback_sees_a_udp_datagram() {
    // Needs CAP_NET_RAW (root here); skipped with a note otherwise.
    use rec_packet::capture::{LiveCapture, LiveOptions};
    use rec_packet::link::{decode_frame, Transport};
    let mut cap = match LiveCapture::open("lo", LiveOptions::default()) {
        Ok(c) => c,
        Err(e) => {
            println!("note: live capture on lo unavailable ({e}); skipped");
            return;
        }
    };
    let rx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = rx.local_addr().unwrap().port();
    cap.set_filter(&format!("udp dst port {port}")).unwrap();
    let tx = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let msg = b"OPTIONS sip:probe SIP/2.0\r\n\r\n";
    tx.send_to(msg, ("127.0.0.1", port)).unwrap();
    let mut seen = false;
    for _ in 0..200 {
        let Some(f) = cap.next_frame().unwrap() else {
            // non-blocking: nothing waiting yet
            std::thread::sleep(std::time::Duration::from_millis(10));
            continue;
        };
        {
            let d = decode_frame(f.link, f.data).unwrap();
            let Transport::Udp(u) = d.transport else {
                panic!("filter let a non-UDP frame through")
            };
            assert_eq!(u.dst.port(), port);
            assert_eq!(u.src, tx.local_addr().unwrap());
            assert_eq!(u.payload, msg);
            seen = true;
            break;
        }
    }
    assert!(seen, "datagram not captured within 5 s");
    assert!(cap.stats().unwrap().received >= 1);
}
