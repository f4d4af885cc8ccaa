//! Any bytes into the recording engine, as a stream of inputs: the first byte of each chunk picks SIP, an
//! Ethernet frame, a raw-IP frame or a timer; the engine keeps a seeded call (the Lync example INVITE and
//! answer) so that frames reach the media path. No panic, no hang; every output can be polled; the end of
//! input ends every call with a report.
#![no_main]
use libfuzzer_sys::fuzz_target;
use rec_engine::{Engine, EngineConfig, Input, Output, SipMeta};
use rec_packet::LinkType;

const INVITE: &[u8] = include_bytes!("../../samples/lync2013_invite_multipart.sip");

fuzz_target!(|data: &[u8]| {
    let mut engine = Engine::new(EngineConfig {
        record_unmatched_rtp: true,
        ..EngineConfig::default()
    })
    .unwrap();
    let mut at = 1_764_000_000_000_000i64;
    engine.handle_input(Input::Sip {
        at_us: at,
        meta: SipMeta::default(),
        bytes: INVITE,
    });
    let mut rest = data;
    while rest.len() >= 3 {
        let kind = rest[0];
        let len = usize::from(u16::from_be_bytes([rest[1], rest[2]])).min(rest.len() - 3);
        let chunk = &rest[3..3 + len];
        rest = &rest[3 + len..];
        at += i64::from(kind & 0x3f) * 7_919;
        match kind >> 6 {
            0 => engine.handle_input(Input::Sip {
                at_us: at,
                meta: SipMeta::default(),
                bytes: chunk,
            }),
            1 => engine.handle_input(Input::Packet {
                at_us: at,
                link: LinkType::Ethernet,
                frame: chunk,
            }),
            2 => engine.handle_input(Input::Packet {
                at_us: at,
                link: LinkType::Raw,
                frame: chunk,
            }),
            _ => engine.handle_input(Input::Timeout {
                at_us: at + 61_000_000,
            }),
        }
        while let Some(o) = engine.poll_output() {
            let _ = format!("{o:?}");
        }
    }
    engine.finish(at);
    let mut ended = 0;
    while let Some(o) = engine.poll_output() {
        if matches!(o, Output::CallEnded { .. }) {
            ended += 1;
        }
    }
    assert_eq!(
        engine.active_calls(),
        0,
        "finish ends every call ({ended} reports)"
    );
});
