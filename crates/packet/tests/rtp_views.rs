//! RTP / RTCP views against tshark's dissection of real captures and RFC 3550 layouts.
#![allow(clippy::disallowed_methods, clippy::disallowed_types)]

use rec_packet::capture::OfflineCapture;
use rec_packet::demux::{classify, PacketKind};
use rec_packet::link::{decode_frame, Transport};
use rec_packet::rtp::{header_len, RtcpCompound, RtcpType, RtpError, RtpPacket};

const NDPI: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/testdata/pcaps/ndpi/"
);

/// UDP payloads by 1-based frame number.
fn udp_payloads(file: &str) -> Vec<(usize, Vec<u8>)> {
    let mut cap = OfflineCapture::open(format!("{NDPI}{file}")).unwrap();
    let mut out = Vec::new();
    let mut no = 0;
    while let Some(f) = cap.next_frame().unwrap() {
        no += 1;
        if let Ok(d) = decode_frame(f.link, f.data) {
            if let Transport::Udp(u) = d.transport {
                out.push((no, u.payload.to_vec()));
            }
        }
    }
    out
}

/// Every RTP packet tshark finds in rtp.pcapng:
/// (frame, PT, seq, timestamp, SSRC, marker, padding, extension, CC, ext profile, ext length words,
///  padding count, payload length).
/// tshark -r rtp.pcapng -o rtp.heuristic_rtp:TRUE -Y rtp -T fields -e frame.number -e rtp.p_type
///   -e rtp.seq -e rtp.timestamp -e rtp.ssrc -e rtp.marker -e rtp.padding -e rtp.ext -e rtp.cc
///   -e rtp.ext.profile -e rtp.ext.len -e rtp.padding.count -e rtp.payload   (payload length = hex/2)
#[allow(clippy::type_complexity)]
const RTP_PCAPNG: &[(
    usize,
    u8,
    u16,
    u32,
    u32,
    bool,
    bool,
    bool,
    u8,
    u16,
    u16,
    usize,
    usize,
)] = &[
    (
        1, 34, 272, 649350, 0x00001646, false, false, false, 0, 0, 0, 0, 1432,
    ),
    (
        2, 34, 273, 649350, 0x00001646, true, false, false, 0, 0, 0, 0, 884,
    ),
    (
        3, 34, 274, 655020, 0x00001646, false, false, false, 0, 0, 0, 0, 1432,
    ),
    (
        4, 34, 275, 655020, 0x00001646, true, false, false, 0, 0, 0, 0, 1000,
    ),
    (
        5, 34, 276, 661140, 0x00001646, false, false, false, 0, 0, 0, 0, 1432,
    ),
    (
        6, 34, 277, 661140, 0x00001646, false, false, false, 0, 0, 0, 0, 1432,
    ),
    (
        7, 34, 278, 661140, 0x00001646, true, true, false, 0, 0, 0, 1, 111,
    ),
    (
        8, 34, 279, 667440, 0x00001646, false, false, false, 0, 0, 0, 0, 1432,
    ),
    (
        9, 34, 280, 667440, 0x00001646, false, false, false, 0, 0, 0, 0, 1432,
    ),
    (
        10, 34, 281, 667440, 0x00001646, false, false, false, 0, 0, 0, 0, 1432,
    ),
    (
        11, 34, 282, 667440, 0x00001646, true, false, false, 0, 0, 0, 0, 12,
    ),
    (
        12, 34, 283, 672660, 0x00001646, false, false, false, 0, 0, 0, 0, 1432,
    ),
    (
        13, 34, 284, 672660, 0x00001646, true, false, false, 0, 0, 0, 0, 1300,
    ),
    (
        14, 34, 285, 679680, 0x00001646, false, false, false, 0, 0, 0, 0, 1432,
    ),
    (
        15, 34, 286, 679680, 0x00001646, false, false, false, 0, 0, 0, 0, 1432,
    ),
    (
        55, 120, 18614, 3514776949, 0x001a7e73, false, false, true, 0, 0xbede, 1, 0, 140,
    ),
    (
        57, 120, 18615, 3514777909, 0x001a7e73, false, false, true, 0, 0xbede, 1, 0, 145,
    ),
    (
        58, 101, 44814, 662489067, 0x001a759f, false, false, true, 0, 0xbede, 2, 0, 1079,
    ),
    (
        59, 101, 44815, 662489067, 0x001a759f, false, false, true, 0, 0xbede, 2, 0, 1079,
    ),
    (
        60, 101, 44816, 662489067, 0x001a759f, false, false, true, 0, 0xbede, 2, 0, 1079,
    ),
    (
        61, 120, 52486, 3991575845, 0x001a757d, false, false, true, 0, 0xbede, 2, 0, 87,
    ),
    (
        62, 101, 44817, 662489067, 0x001a759f, true, false, true, 0, 0xbede, 2, 0, 1080,
    ),
    (
        63, 120, 18616, 3514778869, 0x001a7e73, false, false, true, 0, 0xbede, 1, 0, 140,
    ),
    (
        64, 120, 52487, 3991576805, 0x001a757d, false, false, true, 0, 0xbede, 2, 0, 88,
    ),
    (
        66, 120, 18617, 3514779829, 0x001a7e73, false, false, true, 0, 0xbede, 1, 0, 137,
    ),
    (
        67, 120, 52488, 3991577765, 0x001a757d, false, false, true, 0, 0xbede, 2, 0, 93,
    ),
    (
        68, 101, 44818, 662491947, 0x001a759f, false, false, true, 0, 0xbede, 2, 0, 1061,
    ),
    (
        69, 120, 18618, 3514780789, 0x001a7e73, false, false, true, 0, 0xbede, 1, 0, 23,
    ),
    (
        70, 101, 44819, 662491947, 0x001a759f, false, false, true, 0, 0xbede, 2, 0, 1061,
    ),
    (
        71, 101, 44820, 662491947, 0x001a759f, false, false, true, 0, 0xbede, 2, 0, 1061,
    ),
    (
        72, 120, 52489, 3991578725, 0x001a757d, false, false, true, 0, 0xbede, 2, 0, 90,
    ),
    (
        73, 101, 44821, 662491947, 0x001a759f, false, false, true, 0, 0xbede, 2, 0, 1061,
    ),
    (
        74, 101, 44822, 662491947, 0x001a759f, false, false, true, 0, 0xbede, 2, 0, 1061,
    ),
    (
        75, 101, 44823, 662491947, 0x001a759f, false, false, true, 0, 0xbede, 2, 0, 1061,
    ),
    (
        76, 120, 52490, 3991579685, 0x001a757d, false, false, true, 0, 0xbede, 2, 0, 82,
    ),
    (
        77, 101, 44824, 662491947, 0x001a759f, false, false, true, 0, 0xbede, 2, 0, 1062,
    ),
    (
        78, 120, 18619, 3514781749, 0x001a7e73, false, false, true, 0, 0xbede, 1, 0, 23,
    ),
    (
        80, 101, 44825, 662491947, 0x001a759f, true, false, true, 0, 0xbede, 2, 0, 1062,
    ),
    (
        81, 120, 52491, 3991580645, 0x001a757d, false, false, true, 0, 0xbede, 2, 0, 86,
    ),
    (
        82, 120, 18620, 3514782709, 0x001a7e73, false, false, true, 0, 0xbede, 1, 0, 23,
    ),
    (
        84, 111, 52690, 508637695, 0xb80974d8, false, false, false, 1, 0, 0, 0, 8,
    ),
    (
        85, 111, 52691, 508638655, 0xb80974d8, false, false, false, 1, 0, 0, 0, 7,
    ),
    (
        86, 111, 52692, 508639615, 0xb80974d8, false, false, false, 1, 0, 0, 0, 7,
    ),
    (
        87, 111, 52693, 508640575, 0xb80974d8, false, false, false, 1, 0, 0, 0, 8,
    ),
    (
        88, 111, 52694, 508641535, 0xb80974d8, false, false, false, 1, 0, 0, 0, 8,
    ),
    (
        89, 111, 52695, 508642495, 0xb80974d8, false, false, false, 1, 0, 0, 0, 7,
    ),
    (
        90, 111, 52696, 508643455, 0xb80974d8, false, false, false, 1, 0, 0, 0, 7,
    ),
    (
        91, 111, 52697, 508644415, 0xb80974d8, false, false, false, 1, 0, 0, 0, 8,
    ),
    (
        92, 111, 52698, 508645375, 0xb80974d8, false, false, false, 1, 0, 0, 0, 8,
    ),
    (
        93, 111, 52699, 508646335, 0xb80974d8, false, false, false, 1, 0, 0, 0, 1,
    ),
    (
        94, 111, 52700, 508647295, 0xb80974d8, false, false, false, 1, 0, 0, 0, 1,
    ),
    (
        95, 111, 52701, 508648255, 0xb80974d8, false, false, false, 1, 0, 0, 0, 1,
    ),
    (
        96, 111, 52702, 508649215, 0xb80974d8, false, false, false, 1, 0, 0, 0, 1,
    ),
    (
        97, 111, 52703, 508650175, 0xb80974d8, false, false, false, 1, 0, 0, 0, 1,
    ),
    (
        98, 111, 52704, 508651135, 0xb80974d8, false, false, false, 1, 0, 0, 0, 1,
    ),
    (
        99, 111, 52705, 508652095, 0xb80974d8, false, false, false, 1, 0, 0, 0, 1,
    ),
    (
        100, 111, 52706, 508653055, 0xb80974d8, false, false, false, 1, 0, 0, 0, 1,
    ),
    (
        101, 111, 52707, 508654015, 0xb80974d8, false, false, false, 1, 0, 0, 0, 35,
    ),
    (
        102, 111, 52708, 508654975, 0xb80974d8, false, false, false, 1, 0, 0, 0, 44,
    ),
    (
        103, 111, 52709, 508655935, 0xb80974d8, false, false, false, 1, 0, 0, 0, 36,
    ),
    (
        104, 111, 52710, 508656895, 0xb80974d8, false, false, false, 1, 0, 0, 0, 36,
    ),
    (
        105, 111, 52711, 508657855, 0xb80974d8, false, false, false, 1, 0, 0, 0, 26,
    ),
    (
        106, 111, 52712, 508658815, 0xb80974d8, false, false, false, 1, 0, 0, 0, 22,
    ),
    (
        107, 111, 52713, 508659775, 0xb80974d8, false, false, false, 1, 0, 0, 0, 8,
    ),
    (
        108, 111, 52714, 508660735, 0xb80974d8, false, false, false, 1, 0, 0, 0, 8,
    ),
    (
        109, 111, 52715, 508661695, 0xb80974d8, false, false, false, 1, 0, 0, 0, 7,
    ),
    (
        110, 111, 52716, 508662655, 0xb80974d8, false, false, false, 1, 0, 0, 0, 7,
    ),
    (
        111, 111, 52717, 508663615, 0xb80974d8, false, false, false, 1, 0, 0, 0, 8,
    ),
    (
        112, 111, 52718, 508664575, 0xb80974d8, false, false, false, 1, 0, 0, 0, 8,
    ),
];

#[test]
fn rtp_pcapng_fields_match_tshark() {
    let pkts = udp_payloads("rtp.pcapng");
    for &(no, pt, seq, ts, ssrc, m, p, x, cc, prof, ext_words, pad, plen) in RTP_PCAPNG {
        let (_, b) = pkts.iter().find(|(n, _)| *n == no).unwrap();
        assert_eq!(classify(b), PacketKind::Rtp, "frame {no}");
        let r = RtpPacket::parse(b).unwrap();
        assert_eq!(
            (
                r.payload_type(),
                r.sequence(),
                r.timestamp(),
                r.ssrc(),
                r.marker()
            ),
            (pt, seq, ts, ssrc, m),
            "frame {no}"
        );
        assert_eq!(
            (r.padding(), r.has_extension(), r.csrc_count()),
            (p, x, cc),
            "frame {no}"
        );
        assert_eq!(r.version(), 2);
        assert_eq!(r.csrcs().len(), usize::from(cc));
        match r.extension() {
            Some(e) => {
                assert!(x);
                assert_eq!(
                    (e.profile, e.data.len()),
                    (prof, 4 * usize::from(ext_words)),
                    "frame {no}"
                );
            }
            None => assert!(!x),
        }
        assert_eq!(
            (r.padding_len(), r.payload().len()),
            (pad, plen),
            "frame {no}"
        );
        assert_eq!(header_len(b).unwrap() + plen + pad, b.len(), "frame {no}");
    }
}

#[test]
fn rtcp_compound_matches_tshark() {
    // tshark -r rtcp_multiple_pkts_in_the_same_datagram.pcap -o rtcp.heuristic_rtcp:TRUE -T fields
    //   -e frame.number -e rtcp.pt -e rtcp.senderssrc -e rtcp.ssrc.identifier -e rtcp.length
    //   -e rtcp.rc -e rtcp.sc -e rtcp.sender.packetcount -e rtcp.timestamp.rtp
    // 1  200,202  0x5d931534  0x00000000,0x5d931534  12,14  1 1  200  32000
    // 2  201,202  0x01932db4  0x00000000,0x01932db4   7,14  1 1
    // 3  200,202  0x5d931534  0x01932db4,0x5d931534  12,14  1 1  401  64160
    // 4  201,202  0x01932db4  0x5d931534,0x01932db4   7,14  1 1
    // 5  200,202  0x5d931534  0x01932db4,0x5d931534  12,14  1 1  602  96320
    let sr = (0x5d93_1534, 12);
    let rr = (0x0193_2db4, 7);
    let expected = [
        (sr, Some((200, 32000))),
        (rr, None),
        (sr, Some((401, 64160))),
        (rr, None),
        (sr, Some((602, 96320))),
    ];
    let pkts = udp_payloads("rtcp_multiple_pkts_in_the_same_datagram.pcap");
    assert_eq!(pkts.len(), expected.len());
    for ((no, b), ((ssrc, len0), info)) in pkts.iter().zip(expected) {
        assert_eq!(classify(b), PacketKind::Rtcp, "frame {no}");
        let parts: Vec<_> = RtcpCompound::new(b).map(|p| p.unwrap()).collect();
        assert_eq!(parts.len(), 2, "frame {no}");
        let first_type = if info.is_some() {
            RtcpType::SenderReport
        } else {
            RtcpType::ReceiverReport
        };
        assert_eq!(parts[0].packet_type(), first_type);
        assert_eq!(
            (parts[0].ssrc(), parts[0].length_words(), parts[0].count()),
            (Some(ssrc), len0, 1)
        );
        assert_eq!(
            parts[0]
                .sender_info()
                .map(|s| (s.packet_count, s.rtp_timestamp)),
            info
        );
        assert_eq!(parts[1].packet_type(), RtcpType::SourceDescription);
        assert_eq!(
            (parts[1].ssrc(), parts[1].length_words(), parts[1].count()),
            (Some(ssrc), 14, 1)
        );
        let total: usize = parts.iter().map(|p| p.as_bytes().len()).sum();
        assert_eq!(total, b.len());
    }
}

/// Builds an RTP packet by the RFC 3550 §5.1 layout.
fn build_rtp(csrcs: &[u32], ext: Option<(u16, &[u8])>, payload: &[u8], pad: u8) -> Vec<u8> {
    let mut b = vec![
        0x80 | (u8::from(pad > 0) << 5) | (u8::from(ext.is_some()) << 4) | csrcs.len() as u8,
        0x80 | 96,
    ];
    b.extend_from_slice(&0x1234u16.to_be_bytes());
    b.extend_from_slice(&0xAABB_CCDDu32.to_be_bytes());
    b.extend_from_slice(&0x0102_0304u32.to_be_bytes());
    for c in csrcs {
        b.extend_from_slice(&c.to_be_bytes());
    }
    if let Some((profile, data)) = ext {
        b.extend_from_slice(&profile.to_be_bytes());
        b.extend_from_slice(&((data.len() / 4) as u16).to_be_bytes());
        b.extend_from_slice(data);
    }
    b.extend_from_slice(payload);
    if pad > 0 {
        b.extend(std::iter::repeat_n(0u8, usize::from(pad) - 1));
        b.push(pad);
    }
    b
}

#[test]
fn rtp_synthetic_csrc_extension_padding() {
    let ext = [0x10u8, 0xAA, 0, 0, 0x22, 0x01, 0x02, 0];
    let b = build_rtp(&[11, 22], Some((0xBEDE, &ext)), b"hello", 3);
    let r = RtpPacket::parse(&b).unwrap();
    assert_eq!(r.csrcs().collect::<Vec<_>>(), vec![11, 22]);
    let e = r.extension().unwrap();
    assert_eq!((e.profile, e.data), (0xBEDE, &ext[..]));
    assert_eq!(r.header_len(), 12 + 8 + 4 + 8);
    assert_eq!(r.payload(), b"hello");
    assert_eq!(
        (
            r.marker(),
            r.payload_type(),
            r.sequence(),
            r.timestamp(),
            r.ssrc()
        ),
        (true, 96, 0x1234, 0xAABB_CCDD, 0x0102_0304)
    );
    // Padding count larger than what follows the header, or zero: errors (header_len still works).
    let mut bad = b.clone();
    *bad.last_mut().unwrap() = 50;
    assert_eq!(
        RtpPacket::parse(&bad),
        Err(RtpError::BadPadding {
            count: 50,
            avail: 8
        })
    );
    assert_eq!(header_len(&bad), Ok(32));
    *bad.last_mut().unwrap() = 0;
    assert!(RtpPacket::parse(&bad).is_err());
    // Version 1 / too short / extension running past the end.
    let mut v1 = b.clone();
    v1[0] = (v1[0] & 0x3F) | 0x40;
    assert_eq!(header_len(&v1), Err(RtpError::BadVersion(1)));
    assert!(matches!(
        header_len(&b[..11]),
        Err(RtpError::Truncated {
            need: 12,
            have: 11,
            ..
        })
    ));
    assert!(matches!(
        header_len(&b[..30]),
        Err(RtpError::Truncated { need: 32, .. })
    ));
}

#[test]
fn rtp_rtcp_truncated_at_every_offset_never_panic() {
    let mut inputs: Vec<Vec<u8>> = udp_payloads("rtcp_multiple_pkts_in_the_same_datagram.pcap")
        .into_iter()
        .map(|(_, b)| b)
        .collect();
    inputs.extend(
        udp_payloads("rtp.pcapng")
            .into_iter()
            .take(20)
            .map(|(_, b)| b),
    );
    inputs.push(build_rtp(
        &[1, 2, 3],
        Some((0x1000, &[1, 2, 3, 4])),
        b"x",
        2,
    ));
    for b in &inputs {
        for cut in 0..b.len() {
            let s = &b[..cut];
            let _ = header_len(s);
            if let Ok(r) = RtpPacket::parse(s) {
                let _ = (r.payload(), r.extension(), r.csrcs().count());
            }
            for p in RtcpCompound::new(s).flatten() {
                let _ = (p.ssrc(), p.sender_info(), p.body());
            }
            let _ = classify(s);
        }
    }
    // A compound whose second packet is cut: first Ok, then one error, then the end.
    let b = &inputs[0];
    let items: Vec<_> = RtcpCompound::new(&b[..b.len() - 1]).collect();
    assert!(items[0].is_ok());
    assert!(matches!(items[1], Err(RtpError::Truncated { .. })));
    assert_eq!(items.len(), 2);
}
