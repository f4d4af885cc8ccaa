//! Any bytes as a HEPv3 packet: no panic; the chunks tile the packet exactly; a decoded packet encodes back
//! (standard fields plus the undecoded chunks) to bytes that decode to the same fields and chunks, and
//! encoding that again gives identical bytes (the encoder's output is a fixed point).
#![no_main]
use std::net::IpAddr;

use libfuzzer_sys::fuzz_target;
use rec_packet::hep::{self, Chunk, HepError, HepPacket, FAMILY_IPV4, FAMILY_IPV6};

/// True when `inner` is a sub-slice of `outer` (same memory, not just equal bytes).
fn inside(inner: &[u8], outer: &[u8]) -> bool {
    let (o, i) = (outer.as_ptr() as usize, inner.as_ptr() as usize);
    i >= o && i + inner.len() <= o + outer.len()
}

fuzz_target!(|data: &[u8]| {
    let framed = hep::frame_len(data);
    let Ok((packet, used)) = HepPacket::decode(data) else {
        return;
    };
    assert!((6..=data.len()).contains(&used));
    assert_eq!(framed, Ok(Some(used)), "frame_len agrees with decode");
    let wire = &data[..used];
    let mut tiled = 6;
    for chunk in packet.chunks() {
        assert!(
            inside(chunk.data, wire),
            "chunk data lies inside the packet"
        );
        tiled += 6 + chunk.data.len();
    }
    assert_eq!(tiled, used, "the chunks tile the packet");
    for value in [
        packet.fields.payload,
        packet.fields.auth_key,
        packet.fields.node_name,
    ]
    .into_iter()
    .flatten()
    {
        assert!(inside(value, wire));
    }
    let _ = format!("{:?}", packet.fields);

    let unknown: Vec<Chunk<'_>> = packet.unknown_chunks().collect();
    let mut out = Vec::new();
    match hep::encode(&packet.fields, &unknown, &mut out) {
        Ok(()) => {}
        // a decoded packet may mix an IPv4 source with an IPv6 destination, or grow past 64 KiB by the
        // family chunk the encoder adds: refused, and nothing written
        Err(HepError::MixedFamilies | HepError::TooLarge(_)) => {
            assert!(out.is_empty(), "a refused encode leaves the output alone");
            return;
        }
        Err(e) => panic!("encode of a decoded packet failed: {e}"),
    }
    let (again, used_again) = HepPacket::decode(&out).expect("encoded packet decodes");
    assert_eq!(used_again, out.len());
    let mut want = packet.fields;
    if want.ip_family.is_none() {
        want.ip_family = packet
            .fields
            .src_ip
            .or(packet.fields.dst_ip)
            .map(|ip| match ip {
                IpAddr::V4(_) => FAMILY_IPV4,
                IpAddr::V6(_) => FAMILY_IPV6,
            });
    }
    assert_eq!(again.fields, want, "standard fields survive the round trip");
    assert_eq!(
        again.unknown_chunks().collect::<Vec<_>>(),
        unknown,
        "other chunks survive, in order"
    );
    let mut twice = Vec::new();
    hep::encode(&again.fields, &unknown, &mut twice).expect("re-encode");
    assert_eq!(twice, out, "encoding is a fixed point");
});
