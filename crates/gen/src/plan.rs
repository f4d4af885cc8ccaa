//! The static description of one generated call: parties, addresses, candidates, keys, SSRCs, ids.

use std::net::{Ipv4Addr, SocketAddrV4};

use base64::Engine as _;

use crate::codec::Codec;
use crate::rng::Rng;

/// Front End pool address (SIP over TLS port 5061; written in clear text on port 5061).
pub const FRONT_END: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 5061);
/// Edge server internal interface (MS-TURN, UDP 3478).
pub const EDGE_INTERNAL: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(10, 0, 1, 5), 3478);
/// First Edge A/V public address (relay ports 50000–59999); calls beyond 1250 use the next addresses.
pub const EDGE_PUBLIC: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 20);
/// Where HEPv3 copies of the signaling are sent (the recorder).
pub const HEP_COLLECTOR: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 100), 9060);
/// Source of the HEPv3 copies (the Front End's capture agent).
pub const HEP_AGENT: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 47060);
/// First relay port of the Edge.
pub const RELAY_PORT_BASE: u16 = 50000;
/// Relay ports reserved per call (draft-6 RTP/RTCP, ICE-19 RTP/RTCP/TCP for the caller, RTP/RTCP/TCP for the callee).
pub const RELAY_PORTS_PER_CALL: u16 = 8;
const CALLS_PER_EDGE_ADDRESS: u32 = 1250;

/// How the media travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Topology {
    /// Internal caller through the Edge (MS-TURN Send/Data on the internal side, raw SRTP between the
    /// relay and the remote callee on the external side): every packet appears twice.
    Edge,
    /// As `Edge` but standard TURN: a ChannelBind, then ChannelData 0x4000 on the internal side.
    ChannelData,
    /// Two internal Lync clients, plain SRTP between their host candidates.
    Direct,
    /// A non-Lync SIP call: single `application/sdp`, `a=crypto` without MKI, no ICE, direct SRTP.
    Plain,
}

impl Topology {
    /// Parses `edge`, `channeldata`, `direct`, `plain`.
    pub fn from_name(name: &str) -> Option<Topology> {
        match name.to_ascii_lowercase().as_str() {
            "edge" | "ms-turn" => Some(Topology::Edge),
            "channeldata" | "channel-data" | "turn" => Some(Topology::ChannelData),
            "direct" => Some(Topology::Direct),
            "plain" => Some(Topology::Plain),
            _ => None,
        }
    }

    /// Whether the media crosses the Edge relay.
    pub fn relayed(self) -> bool {
        matches!(self, Topology::Edge | Topology::ChannelData)
    }
}

/// One party of a call.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Party {
    /// Display name.
    pub display: String,
    /// SIP URI (`sip:alice.0@contoso.example`).
    pub uri: String,
    /// Dialog tag.
    pub tag: String,
    /// Lync endpoint id (`;epid=`).
    pub epid: String,
    /// GRUU opaque id of the Contact.
    pub gruu: String,
    /// The signaling socket (the caller's connection to the Front End; the callee's is not on the wire).
    pub sip: SocketAddrV4,
    /// Host candidate (RTP; RTCP = port + 1).
    pub host: SocketAddrV4,
    /// Server-reflexive candidate (remote callee behind NAT), if any.
    pub srflx: Option<SocketAddrV4>,
    /// UDP relay candidate on the Edge (RTP; RTCP is `relay_rtcp`), if any.
    pub relay: Option<SocketAddrV4>,
    /// UDP relay candidate for RTCP.
    pub relay_rtcp: Option<SocketAddrV4>,
    /// TCP relay candidate (both components).
    pub relay_tcp: Option<SocketAddrV4>,
    /// Relay allocation of the draft-6 part (RTP; RTCP = port + 1), offerer only.
    pub draft6_relay: Option<SocketAddrV4>,
    /// Local socket of the TURN allocation (the `raddr`/`rport` of the relay candidate): the internal
    /// side of the Edge sees the MS-TURN traffic between it and [`EDGE_INTERNAL`].
    pub turn_base: Option<SocketAddrV4>,
    /// Where this party's media is seen on the wire by the other side: relay for the caller on an
    /// Edge call, srflx for the remote callee, host otherwise.
    pub media: SocketAddrV4,
    /// ICE username fragment.
    pub ice_ufrag: String,
    /// ICE password.
    pub ice_pwd: String,
}

/// A 30-byte SDES master key + salt for AES_CM_128_HMAC_SHA1_80.
#[derive(Clone, PartialEq, Eq)]
pub struct SdesKey(pub [u8; 30]);

impl std::fmt::Debug for SdesKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SdesKey(<redacted>)")
    }
}

impl SdesKey {
    /// Base64 of key || salt (40 characters, no padding needed).
    pub fn base64(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(self.0)
    }

    /// `inline:<base64>|2^31|1:1` (Lync: lifetime 2^31, MKI 1 of 1 byte) or, without MKI, `inline:<base64>`.
    pub fn inline(&self, mki: bool) -> String {
        if mki {
            format!("inline:{}|2^31|1:1", self.base64())
        } else {
            format!("inline:{}", self.base64())
        }
    }

    /// The key parameters for rec-srtp.
    pub fn key_params(&self, mki: bool) -> rec_srtp::KeyParams {
        rec_srtp::KeyParams::parse_sdes("AES_CM_128_HMAC_SHA1_80", &self.inline(mki))
            .expect("generated SDES key parses")
    }
}

/// Everything fixed about one call before it is generated.
#[derive(Debug, Clone)]
pub struct CallPlan {
    /// Index of the call in the capture (0-based).
    pub index: u32,
    /// SIP Call-ID.
    pub call_id: String,
    /// `Ms-Conversation-ID`.
    pub conversation_id: String,
    /// The caller (internal Lync client).
    pub caller: Party,
    /// The callee (remote client, or internal for `direct`/`plain`).
    pub callee: Party,
    /// Codec of the media.
    pub codec: Codec,
    /// Media topology.
    pub topology: Topology,
    /// Keys per key epoch (0 = initial, 1 = after a re-key), per direction (caller's first).
    pub keys: Vec<[SdesKey; 2]>,
    /// SSRCs per SSRC epoch (0 = initial, 1 = after an SSRC change), per direction.
    pub ssrcs: Vec<[u32; 2]>,
    /// Initial RTP sequence numbers per SSRC epoch, per direction.
    pub first_seqs: Vec<[u16; 2]>,
    /// Initial RTP timestamps per SSRC epoch, per direction.
    pub first_timestamps: Vec<[u32; 2]>,
    /// Whether the SRTP packets carry the 1-byte MKI (Lync) or not (`plain`).
    pub mki: bool,
}

fn offset(base: Ipv4Addr, n: u32) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(base).wrapping_add(n))
}

/// The caller's address for call `i`: 10.0.0.10–10.0.0.209, then 10.16.0.0/12.
pub fn caller_ip(i: u32) -> Ipv4Addr {
    if i < 200 {
        offset(Ipv4Addr::new(10, 0, 0, 10), i)
    } else {
        offset(Ipv4Addr::new(10, 16, 0, 10), i - 200)
    }
}

/// The remote callee's public (NAT) address for call `i`: 203.0.113.50–249, then 100.64.0.0/10.
pub fn remote_callee_ip(i: u32) -> Ipv4Addr {
    if i < 200 {
        offset(Ipv4Addr::new(203, 0, 113, 50), i)
    } else {
        offset(Ipv4Addr::new(100, 64, 0, 10), i - 200)
    }
}

/// The internal callee's address for call `i` (`direct`/`plain`): 10.0.2.10–209, then 10.32.0.0/12.
pub fn internal_callee_ip(i: u32) -> Ipv4Addr {
    if i < 200 {
        offset(Ipv4Addr::new(10, 0, 2, 10), i)
    } else {
        offset(Ipv4Addr::new(10, 32, 0, 10), i - 200)
    }
}

fn sock(ip: Ipv4Addr, port: u16) -> SocketAddrV4 {
    SocketAddrV4::new(ip, port)
}

/// Options that shape a call plan.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PlanOptions {
    pub codec: Codec,
    pub topology: Topology,
    pub rekey: bool,
    pub ssrc_change: bool,
    pub mid_call_roc: bool,
    pub seq_wrap_after_slots: Option<u32>,
}

impl CallPlan {
    pub(crate) fn new(index: u32, seed: u64, o: PlanOptions) -> CallPlan {
        let mut rng = Rng::derive(seed, 0x1000_0000 + u64::from(index));
        let i = index;
        let edge_pub = offset(EDGE_PUBLIC, i / CALLS_PER_EDGE_ADDRESS);
        let rbase = RELAY_PORT_BASE + RELAY_PORTS_PER_CALL * (i % CALLS_PER_EDGE_ADDRESS) as u16;
        let a_ip = caller_ip(i);
        let relayed = o.topology.relayed();
        let caller_host = sock(a_ip, 20062);
        let caller_relay = sock(edge_pub, rbase + 2);
        let caller = Party {
            display: format!("Alice {i}"),
            uri: format!("sip:alice.{i}@contoso.example"),
            tag: rng.hex(10),
            epid: rng.hex(10),
            gruu: rng.b64chars(22),
            sip: sock(a_ip, 51234),
            host: caller_host,
            srflx: None,
            relay: relayed.then_some(caller_relay),
            relay_rtcp: relayed.then_some(sock(edge_pub, rbase + 3)),
            relay_tcp: relayed.then_some(sock(edge_pub, rbase + 4)),
            draft6_relay: relayed.then_some(sock(edge_pub, rbase)),
            turn_base: relayed.then_some(sock(a_ip, 20066)),
            media: if relayed { caller_relay } else { caller_host },
            ice_ufrag: rng.b64chars(4),
            ice_pwd: rng.b64chars(24),
        };
        let callee = if relayed {
            let pub_ip = remote_callee_ip(i);
            let private = Ipv4Addr::new(192, 168, 1, 100);
            let srflx = sock(pub_ip, 60010);
            Party {
                display: format!("Bob {i}"),
                uri: format!("sip:bob.{i}@contoso.example"),
                tag: rng.hex(10),
                epid: rng.hex(10),
                gruu: rng.b64chars(22),
                sip: sock(pub_ip, 60443),
                host: sock(private, 50010),
                srflx: Some(srflx),
                relay: Some(sock(edge_pub, rbase + 5)),
                relay_rtcp: Some(sock(edge_pub, rbase + 6)),
                relay_tcp: Some(sock(edge_pub, rbase + 7)),
                draft6_relay: None,
                turn_base: None,
                media: srflx,
                ice_ufrag: rng.b64chars(4),
                ice_pwd: rng.b64chars(24),
            }
        } else {
            let ip = internal_callee_ip(i);
            let host = sock(ip, 30040);
            Party {
                display: format!("Bob {i}"),
                uri: format!("sip:bob.{i}@contoso.example"),
                tag: rng.hex(10),
                epid: rng.hex(10),
                gruu: rng.b64chars(22),
                sip: sock(ip, 51300),
                host,
                srflx: None,
                relay: None,
                relay_rtcp: None,
                relay_tcp: None,
                draft6_relay: None,
                turn_base: None,
                media: host,
                ice_ufrag: rng.b64chars(4),
                ice_pwd: rng.b64chars(24),
            }
        };
        let mut key = || {
            let mut k = [0u8; 30];
            rng.fill(&mut k);
            SdesKey(k)
        };
        let mut keys = vec![[key(), key()]];
        if o.rekey {
            keys.push([key(), key()]);
        }
        let epochs = if o.ssrc_change { 2 } else { 1 };
        let mut ssrcs = Vec::new();
        let mut first_seqs = Vec::new();
        let mut first_timestamps = Vec::new();
        for e in 0..epochs {
            ssrcs.push([rng.next_u32(), rng.next_u32()]);
            let mut seq = || {
                if e == 0 && o.mid_call_roc {
                    (65536 - 100) as u16
                } else if let (0, Some(n)) = (e, o.seq_wrap_after_slots) {
                    (65536 - n) as u16
                } else {
                    (rng.next_u32() & 0x7fff) as u16
                }
            };
            first_seqs.push([seq(), seq()]);
            first_timestamps.push([rng.next_u32(), rng.next_u32()]);
        }
        CallPlan {
            index,
            call_id: rng.hex(32),
            conversation_id: rng.b64chars(28),
            caller,
            callee,
            codec: o.codec,
            topology: o.topology,
            keys,
            ssrcs,
            first_seqs,
            first_timestamps,
            mki: o.topology != Topology::Plain,
        }
    }
}
