//! Shared test helpers: generate a capture, then take it apart with the repository's independent
//! parsers (rec-packet for frames, IP defragmentation, TURN and HEP; rec-sip; rec-sdp; rec-srtp;
//! rec-audio) — never with the generator's own code.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use rec_gen::{CallReport, Direction, Frame, FrameKind, GenConfig, Generator, EDGE_INTERNAL};
use rec_packet::defrag::{DefragConfig, Defragmenter};
use rec_packet::link::decode_transport;
use rec_packet::{decode_frame, LinkType, Transport, TurnTracker};

/// Frames and reports of a generated capture.
pub fn generate(cfg: GenConfig) -> (Vec<Frame>, Vec<CallReport>) {
    let mut g = Generator::new(cfg);
    let frames: Vec<Frame> = g.by_ref().collect();
    (frames, g.into_reports())
}

/// A SIP message found in the capture.
#[derive(Debug, Clone)]
pub struct SipMsg {
    pub at: u64,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub bytes: Vec<u8>,
    /// Carried in HEP: the HEP packet's own timestamp (µs).
    pub hep_ts: Option<u64>,
}

impl SipMsg {
    pub fn parse(&self) -> rec_sip::Message<'_> {
        rec_sip::Message::parse(&self.bytes).expect("generated SIP parses")
    }
}

/// A UDP datagram after defragmentation.
#[derive(Debug, Clone)]
pub struct Datagram {
    pub at: u64,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub payload: Vec<u8>,
}

/// A TCP segment's payload: time, source, destination, bytes.
pub type Segment = (u64, SocketAddr, SocketAddr, Vec<u8>);

/// Every UDP datagram (reassembled) and every TCP segment payload per connection direction.
pub fn transport(frames: &[Frame]) -> (Vec<Datagram>, Vec<Segment>) {
    let mut defrag = Defragmenter::new(DefragConfig::default());
    let mut udp = Vec::new();
    let mut tcp = Vec::new();
    for f in frames {
        let d = decode_frame(LinkType::Ethernet, &f.data).expect("frame decodes");
        match d.transport {
            Transport::Udp(u) => udp.push(Datagram {
                at: f.at_us,
                src: u.src,
                dst: u.dst,
                payload: u.payload.to_vec(),
            }),
            Transport::Tcp(t) => {
                if !t.payload.is_empty() {
                    tcp.push((f.at_us, t.src, t.dst, t.payload.to_vec()));
                }
            }
            Transport::Fragment(fr) => {
                if let Some(r) = defrag.push(f.at_us, &fr) {
                    let (src, dst, proto) = (r.key.src, r.key.dst, r.key.protocol);
                    let payload = r.payload.to_vec();
                    match decode_transport(src, dst, proto, &payload).expect("reassembled") {
                        Transport::Udp(u) => udp.push(Datagram {
                            at: f.at_us,
                            src: u.src,
                            dst: u.dst,
                            payload: u.payload.to_vec(),
                        }),
                        other => panic!("unexpected reassembled transport {other:?}"),
                    }
                }
            }
            Transport::Other(_) => panic!("unexpected protocol"),
        }
    }
    (udp, tcp)
}

/// The SIP messages of the capture (inline UDP/TCP on port 5061, or HEP on 9060), in capture order.
pub fn sip_messages(frames: &[Frame]) -> Vec<SipMsg> {
    let sig: Vec<Frame> = frames
        .iter()
        .filter(|f| f.kind == FrameKind::Signaling)
        .cloned()
        .collect();
    let (udp, tcp) = transport(&sig);
    let mut out = Vec::new();
    for d in udp {
        if d.dst.port() == 9060 {
            let (hep, used) = rec_packet::hep::HepPacket::decode(&d.payload).expect("HEP decodes");
            assert_eq!(used, d.payload.len());
            let f = hep.fields;
            out.push(SipMsg {
                at: d.at,
                src: f.src().expect("HEP src"),
                dst: f.dst().expect("HEP dst"),
                bytes: f.payload.expect("HEP payload").to_vec(),
                hep_ts: f.timestamp_micros(),
            });
        } else {
            assert!(d.src.port() == 5061 || d.dst.port() == 5061);
            out.push(SipMsg {
                at: d.at,
                src: d.src,
                dst: d.dst,
                bytes: d.payload,
                hep_ts: None,
            });
        }
    }
    let mut framers: HashMap<(SocketAddr, SocketAddr), rec_sip::StreamFramer> = HashMap::new();
    for (at, src, dst, payload) in tcp {
        let fr = framers
            .entry((src, dst))
            .or_insert_with(|| rec_sip::StreamFramer::new(1 << 20));
        fr.push(&payload);
        while let Some(m) = fr.next_frame() {
            let m = m.expect("framed SIP message");
            out.push(SipMsg {
                at,
                src,
                dst,
                bytes: m.to_vec(),
                hep_ts: None,
            });
        }
    }
    out.sort_by_key(|m| m.at);
    out
}

/// Which part of the path a media packet was seen on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Leg {
    /// Client ↔ Edge internal interface, inside TURN.
    Internal,
    /// Edge relay ↔ remote peer, raw.
    External,
    /// Client ↔ client, raw.
    Direct,
}

/// One SRTP packet found in the capture.
#[derive(Debug, Clone)]
pub struct MediaPkt {
    pub at: u64,
    pub leg: Leg,
    pub dir: Direction,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    /// The TURN peer address (internal leg).
    pub peer: Option<SocketAddr>,
    pub srtp: Vec<u8>,
}

fn ip_of(s: &str) -> SocketAddr {
    s.parse().expect("socket address in the report")
}

/// The media packets of one call (identified by its report), in capture order.
pub fn media_packets(frames: &[Frame], call: &CallReport) -> Vec<MediaPkt> {
    let media: Vec<Frame> = frames
        .iter()
        .filter(|f| f.kind != FrameKind::Signaling)
        .cloned()
        .collect();
    let (udp, _) = transport(&media);
    let edge = SocketAddr::from(EDGE_INTERNAL);
    let caller_media = ip_of(&call.caller_media);
    let callee_media = ip_of(&call.callee_media);
    let caller_turn = call.caller_turn.as_deref().map(ip_of);
    let mut tracker = TurnTracker::default();
    let mut out = Vec::new();
    for d in udp {
        if d.src == edge || d.dst == edge {
            let client = if d.src == edge { d.dst } else { d.src };
            if Some(client) != caller_turn {
                continue;
            }
            tracker.observe(&d.payload, d.src, d.dst);
            let Some(u) = rec_packet::unwrap_turn(&d.payload, d.src, d.dst, Some(&tracker))
                .expect("TURN parses")
            else {
                continue; // control message
            };
            if !is_rtp(u.data) {
                continue; // ICE check inside TURN
            }
            let dir = if d.dst == edge {
                Direction::CallerToCallee
            } else {
                Direction::CalleeToCaller
            };
            out.push(MediaPkt {
                at: d.at,
                leg: Leg::Internal,
                dir,
                src: d.src,
                dst: d.dst,
                peer: u.peer,
                srtp: u.data.to_vec(),
            });
        } else if (d.src == caller_media && d.dst == callee_media
            || d.src == callee_media && d.dst == caller_media)
            && is_rtp(&d.payload)
        {
            let dir = if d.src == caller_media {
                Direction::CallerToCallee
            } else {
                Direction::CalleeToCaller
            };
            let leg = if caller_turn.is_some() {
                Leg::External
            } else {
                Leg::Direct
            };
            out.push(MediaPkt {
                at: d.at,
                leg,
                dir,
                src: d.src,
                dst: d.dst,
                peer: None,
                srtp: d.payload,
            });
        }
    }
    out
}

fn is_rtp(payload: &[u8]) -> bool {
    rec_packet::demux::classify(payload) == rec_packet::demux::PacketKind::Rtp
}

/// A decrypted RTP packet.
#[derive(Debug, Clone)]
pub struct Plain {
    pub at: u64,
    pub index: u64,
    pub seq: u16,
    pub ts: u32,
    pub ssrc: u32,
    pub pt: u8,
    pub marker: bool,
    pub payload: Vec<u8>,
}

/// Decrypts the packets of one leg and direction with the given SDES key parameters (in order of
/// use; later ones are re-keys). Returns the decrypted packets and the number of failures.
pub fn decrypt(
    pkts: &[MediaPkt],
    leg: Leg,
    dir: Direction,
    keys: &[String],
    initial_roc: u32,
) -> (Vec<Plain>, usize) {
    let mut ctx: Option<rec_srtp::SrtpContext> = None;
    for k in keys {
        let p = rec_srtp::KeyParams::parse_sdes("AES_CM_128_HMAC_SHA1_80", k).expect("key parses");
        match &mut ctx {
            None => {
                ctx = Some(rec_srtp::SrtpContext::with_config(
                    p,
                    rec_srtp::Config {
                        initial_roc,
                        ..Default::default()
                    },
                ))
            }
            Some(c) => c.add_key(p),
        }
    }
    let mut ctx = ctx.expect("at least one key");
    let mut out = Vec::new();
    let mut failures = 0;
    for p in pkts.iter().filter(|p| p.leg == leg && p.dir == dir) {
        let mut buf = p.srtp.clone();
        match ctx.decrypt_rtp(&mut buf) {
            Ok(d) => out.push(Plain {
                at: p.at,
                index: d.index,
                seq: d.seq,
                ts: d.timestamp,
                ssrc: d.ssrc,
                pt: d.payload_type,
                marker: d.marker,
                payload: buf[d.payload_range].to_vec(),
            }),
            Err(_) => failures += 1,
        }
    }
    (out, failures)
}

/// Key parameters (`inline:…`) of the `a=crypto:<tag>` line of an SDP body.
pub fn sdp_crypto(sdp: &[u8], tag: u32) -> String {
    let s = rec_sdp::Sdp::parse(sdp).expect("SDP parses");
    let m = s.media_section(0).expect("audio section");
    let c = m
        .cryptos()
        .map(|c| c.expect("crypto parses"))
        .find(|c| c.tag == tag && !c.scale)
        .expect("crypto tag present");
    c.key_params.to_string()
}

/// The source address of a datagram as an IP.
pub fn ip(s: &SocketAddr) -> IpAddr {
    s.ip()
}
