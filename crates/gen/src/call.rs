//! One call as a stream of captured frames in capture-time order.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::SocketAddrV4;
use std::sync::Arc;

use rec_srtp::SrtpContext;

use crate::codec::{Codec, FrameEncoder, SignalTables, DTMF_PT, PTIME_MS};
use crate::plan::{
    CallPlan, PlanOptions, Topology, EDGE_INTERNAL, FRONT_END, HEP_AGENT, HEP_COLLECTOR,
};
use crate::rng::Rng;
use crate::signal::Direction;
use crate::sip::{self, Body, MediaDirection, SdpParams};
use crate::turn;
use crate::wire::{self, tcp_flags};

/// How the SIP signaling appears in the capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignalingMode {
    /// Plain SIP over UDP between the caller and the Front End port 5061 (IPv4-fragmented when large).
    InlineUdp,
    /// Plain SIP over one TCP connection between the caller and the Front End port 5061.
    InlineTcp,
    /// HEPv3 over UDP from the Front End's agent to port 9060 (the original addresses inside).
    Hep,
    /// No signaling frames (for `--key` replays).
    None,
}

/// A burst of RFC 4733 DTMF digits sent by the caller.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DtmfBurst {
    /// Digits `0-9*#A-D`; one every 300 ms (120 ms event, then audio).
    pub digits: String,
    /// Start, in ms after the answer (200 OK).
    pub at_ms: u64,
}

/// Network and endpoint impairments. Times are in ms after the answer (the 200 OK of the INVITE).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Impairments {
    /// Percentage of RTP packets missing from the capture (both legs).
    pub loss_pct: f64,
    /// Percentage of RTP packets delayed by 30–50 ms (so they arrive after the next one or two).
    pub reorder_pct: f64,
    /// Percentage of RTP packets captured twice (the copy 1–3 ms later).
    pub duplicate_pct: f64,
    /// Uniform random delay 0..jitter_ms added to every RTP packet's capture time.
    pub jitter_ms: f64,
    /// Sender clock error in ppm (caller, callee): positive = the sender's RTP clock runs fast, so
    /// its 20 ms packets come more often than every 20 ms of capture time.
    pub drift_ppm: [f64; 2],
    /// The capture misses the first 100 packets of each direction: the first captured packet has
    /// sequence number 0 and ROC 1 (the signaling is kept).
    pub mid_call_roc: bool,
    /// The 16-bit sequence numbers wrap inside the capture (5 s into the media, or half-way).
    pub seq_wrap: bool,
    /// Re-key: a re-INVITE at this time offers a new key, its 200 OK answers with a new key, and both
    /// directions switch to the new keys at that 200 OK.
    pub rekey_at_ms: Option<u64>,
    /// Hold: re-INVITE `a=inactive` at `.0`, no media until the resume re-INVITE at `.1` is answered.
    pub hold_ms: Option<(u64, u64)>,
    /// Both directions switch to a new SSRC (new sequence and timestamp bases) at this time.
    pub ssrc_change_at_ms: Option<u64>,
    /// DTMF bursts (caller → callee).
    pub dtmf: Vec<DtmfBurst>,
}

/// Options of every call of a capture.
#[derive(Debug, Clone, PartialEq)]
pub struct CallOptions {
    /// Codec.
    pub codec: Codec,
    /// Media topology.
    pub topology: Topology,
    /// How the signaling is captured.
    pub signaling: SignalingMode,
    /// Media duration (answer → BYE), in ms.
    pub duration_ms: u64,
    /// A 183 Session Progress with the answer SDP before the 200 OK.
    pub early_media: bool,
    /// A re-INVITE with `a=remote-candidates` 1.5 s after the answer (Lync, after ICE); not for `plain`.
    pub remote_candidates_reinvite: bool,
    /// SRTCP sender reports (SR + SDES CNAME) every 5 s per direction on the RTCP component
    /// (port + 1 addresses, its own TURN allocation on the Edge), first 2.5 s into the media.
    pub rtcp: bool,
    /// ICE connectivity checks (STUN Binding request + response each way, with MESSAGE-INTEGRITY
    /// from the SDP's `a=ice-pwd` and FINGERPRINT) on the media path just before the media, inside
    /// TURN on the Edge's internal side. Not for `plain` calls.
    pub ice_checks: bool,
    /// Impairments.
    pub impairments: Impairments,
}

impl Default for CallOptions {
    fn default() -> Self {
        CallOptions {
            codec: Codec::Pcma,
            topology: Topology::Edge,
            signaling: SignalingMode::InlineTcp,
            duration_ms: 20_000,
            early_media: true,
            remote_candidates_reinvite: true,
            rtcp: false,
            ice_checks: false,
            impairments: Impairments::default(),
        }
    }
}

/// What a frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// SIP (inline or HEP-encapsulated).
    Signaling,
    /// RTP/SRTP, raw or inside TURN.
    Media,
    /// TURN control (ChannelBind) and ICE connectivity checks.
    Control,
    /// SRTCP, raw or inside TURN (with [`CallOptions::rtcp`]).
    Rtcp,
}

/// One captured Ethernet frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// Capture time, µs since the Unix epoch.
    pub at_us: u64,
    /// What it carries.
    pub kind: FrameKind,
    /// The Ethernet frame.
    pub data: Vec<u8>,
}

/// Counters of one direction's RTP stream.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct StreamStats {
    /// RTP packets the sender produced (audio + DTMF), captured or not.
    pub packets_sent: u64,
    /// Distinct RTP packets in the capture (duplicates and the second Edge leg not counted).
    pub packets_captured: u64,
    /// Packets removed by `loss`.
    pub packets_lost: u64,
    /// Packets captured twice by `duplicate`.
    pub packets_duplicated: u64,
    /// Packets delayed by `reorder`.
    pub packets_reordered: u64,
    /// Packets sent before the capture started (`mid_call_roc`).
    pub packets_before_capture: u64,
    /// RFC 4733 packets among the sent ones.
    pub dtmf_packets: u64,
    /// RTP frames of this stream in the capture (legs and duplicates counted).
    pub frames: u64,
    /// SRTCP packets sent (each captured once per leg; not impaired).
    pub rtcp_packets: u64,
    /// SRTCP frames in the capture.
    pub rtcp_frames: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ReReason {
    RemoteCandidates,
    Rekey,
    Hold,
    Resume,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sig {
    TcpHandshake(u8),
    Invite,
    Trying,
    Progress,
    Ok,
    Ack(u32),
    ReInvite(u32, ReReason),
    ReOk(u32, ReReason),
    Bye(u32),
    ByeOk(u32),
    ChannelBind,
    ChannelBindOk,
    /// ICE check `n` (0: caller's request, 1: callee's response, 2: callee's request, 3: caller's response).
    Ice(u8),
}

#[derive(Debug)]
struct Pending {
    at: u64,
    serial: u64,
    kind: FrameKind,
    data: Vec<u8>,
}

impl PartialEq for Pending {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.serial) == (o.at, o.serial)
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Pending {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.at, self.serial).cmp(&(o.at, o.serial))
    }
}

struct Stream {
    dir: Direction,
    slot: u64,
    n_slots: u64,
    media_start: u64,
    slot_us: f64,
    enc: FrameEncoder,
    ext_seq: Vec<u64>,
    ctxs: Vec<SrtpContext>,
    rng: Rng,
    /// DTMF: (first slot, event code) of each digit.
    dtmf: Vec<(u64, u8)>,
    need_marker: bool,
    last_epoch: usize,
    stats: StreamStats,
}

impl Stream {
    fn next_time(&self) -> u64 {
        if self.slot >= self.n_slots {
            u64::MAX
        } else {
            self.time_of(self.slot)
        }
    }

    fn time_of(&self, k: u64) -> u64 {
        self.media_start + (k as f64 * self.slot_us).round() as u64
    }
}

/// Times of one call, µs since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct CallTimes {
    /// Call start (the TCP handshake or the INVITE).
    pub start_us: u64,
    /// The INVITE.
    pub invite_us: u64,
    /// The 200 OK to the INVITE.
    pub answer_us: u64,
    /// First media slot.
    pub media_start_us: u64,
    /// The BYE.
    pub bye_us: u64,
    /// The 200 OK to the BYE (the call's last frame apart from delayed media).
    pub end_us: u64,
}

/// Generates the frames of one call in capture-time order.
pub struct CallGen {
    plan: CallPlan,
    opts: CallOptions,
    times: CallTimes,
    sig: Vec<(u64, Sig)>,
    sig_next: usize,
    streams: [Stream; 2],
    pending: BinaryHeap<Reverse<Pending>>,
    serial: u64,
    ip_id: u16,
    tcp_seq: [u32; 2],
    rng: Rng,
    hold_window: Option<(u64, u64)>,
    rekey_switch: Option<u64>,
    ssrc_switch: Option<u64>,
    draft6_users: [String; 4],
    boundary: String,
    content_ids: [String; 2],
    branches: Vec<String>,
    signaling_frames: u64,
    sip_messages: u64,
    control_frames: u64,
}

impl std::fmt::Debug for CallGen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallGen")
            .field("call_id", &self.plan.call_id)
            .field("times", &self.times)
            .finish()
    }
}

fn dtmf_code(c: char) -> Option<u8> {
    match c {
        '0'..='9' => Some(c as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        'A'..='D' => Some(c as u8 - b'A' + 12),
        'a'..='d' => Some(c as u8 - b'a' + 12),
        _ => None,
    }
}

/// Slots between two RTCP sender reports of a direction (5 s).
const RTCP_EVERY_SLOTS: u64 = 250;

fn port_plus(a: SocketAddrV4, n: u16) -> SocketAddrV4 {
    SocketAddrV4::new(*a.ip(), a.port().wrapping_add(n))
}

/// Slots per DTMF digit: 5 event packets, 3 end packets (the end is sent three times).
const DTMF_EVENT_SLOTS: u64 = 8;
/// Slots from one digit to the next (300 ms).
const DTMF_DIGIT_PERIOD: u64 = 15;

impl CallGen {
    /// A call with index `index` starting at `start_us`.
    pub(crate) fn new(
        index: u32,
        seed: u64,
        start_us: u64,
        opts: &CallOptions,
        tables: Arc<SignalTables>,
    ) -> CallGen {
        let imp = &opts.impairments;
        let n_slots = opts.duration_ms / u64::from(PTIME_MS);
        let wrap_after = imp.seq_wrap.then(|| n_slots.clamp(2, 500) as u32 / 2);
        let plan = CallPlan::new(
            index,
            seed,
            PlanOptions {
                codec: opts.codec,
                topology: opts.topology,
                rekey: imp.rekey_at_ms.is_some(),
                ssrc_change: imp.ssrc_change_at_ms.is_some(),
                mid_call_roc: imp.mid_call_roc,
                seq_wrap_after_slots: wrap_after,
            },
        );
        let mut rng = Rng::derive(seed, 0x2000_0000 + u64::from(index));
        let tcp = opts.signaling == SignalingMode::InlineTcp;
        let invite = start_us + if tcp { 5_000 } else { 0 };
        let answer = invite + 2_000_000;
        // Half a millisecond off the signaling grid (whole ms), so a re-INVITE or its 200 never
        // shares its capture time with a media packet.
        let media_start = answer + 40_500;
        let slot_us = |d: usize| 20_000.0 / (1.0 + imp.drift_ppm[d] * 1e-6);
        let media_end = media_start + (n_slots as f64 * slot_us(0).max(slot_us(1))).ceil() as u64;
        let bye = media_end + 20_000;
        let times = CallTimes {
            start_us,
            invite_us: invite,
            answer_us: answer,
            media_start_us: media_start,
            bye_us: bye,
            end_us: bye + 50_000,
        };
        let ms = |m: u64| answer + m * 1000;
        let mut sig: Vec<(u64, Sig)> = Vec::new();
        if tcp {
            for i in 0..3u8 {
                sig.push((start_us + u64::from(i) * 1000, Sig::TcpHandshake(i)));
            }
        }
        sig.push((invite, Sig::Invite));
        sig.push((invite + 30_000, Sig::Trying));
        if opts.early_media {
            sig.push((invite + 800_000, Sig::Progress));
        }
        sig.push((answer, Sig::Ok));
        sig.push((answer + 20_000, Sig::Ack(1)));
        if opts.topology == Topology::ChannelData {
            sig.push((media_start - 30_000, Sig::ChannelBind));
            sig.push((media_start - 29_200, Sig::ChannelBindOk));
        }
        if opts.ice_checks && opts.topology != Topology::Plain {
            for n in 0..4u8 {
                sig.push((media_start - 20_000 + u64::from(n) * 2_000, Sig::Ice(n)));
            }
        }
        let mut re: Vec<(u64, ReReason)> = Vec::new();
        if opts.remote_candidates_reinvite
            && opts.topology != Topology::Plain
            && opts.duration_ms > 3000
        {
            re.push((ms(1500), ReReason::RemoteCandidates));
        }
        if let Some(t) = imp.rekey_at_ms {
            re.push((ms(t), ReReason::Rekey));
        }
        if let Some((a, b)) = imp.hold_ms {
            re.push((ms(a), ReReason::Hold));
            re.push((ms(b.max(a + 100)), ReReason::Resume));
        }
        re.sort_by_key(|r| r.0);
        let mut cseq = 2;
        for (t, why) in &re {
            sig.push((*t, Sig::ReInvite(cseq, *why)));
            sig.push((*t + 40_000, Sig::ReOk(cseq, *why)));
            sig.push((*t + 60_000, Sig::Ack(cseq)));
            cseq += 1;
        }
        sig.push((bye, Sig::Bye(cseq)));
        sig.push((bye + 50_000, Sig::ByeOk(cseq)));
        sig.sort_by_key(|s| s.0);
        let hold_window = imp
            .hold_ms
            .map(|(a, b)| (ms(a), ms(b.max(a + 100)) + 40_000));
        let rekey_switch = imp.rekey_at_ms.map(|t| ms(t) + 40_000);
        let ssrc_switch = imp.ssrc_change_at_ms.map(ms);

        let streams = Direction::BOTH.map(|dir| {
            let d = dir.index();
            let srng = Rng::derive(seed, 0x3000_0000 + u64::from(index) * 2 + d as u64);
            let ctxs = plan
                .keys
                .iter()
                .map(|k| SrtpContext::new(k[d].key_params(plan.mki)))
                .collect();
            let ext_seq = plan.first_seqs.iter().map(|s| u64::from(s[d])).collect();
            let mut dtmf = Vec::new();
            if dir == Direction::CallerToCallee {
                for b in &imp.dtmf {
                    let first = (b.at_ms * 1000).saturating_sub(40_500).div_ceil(20_000);
                    for (j, code) in b.digits.chars().filter_map(dtmf_code).enumerate() {
                        dtmf.push((first + j as u64 * DTMF_DIGIT_PERIOD, code));
                    }
                }
            }
            Stream {
                dir,
                slot: 0,
                n_slots,
                media_start,
                slot_us: slot_us(d),
                enc: FrameEncoder::new(opts.codec, tables.clone(), dir, srng.clone()),
                ext_seq,
                ctxs,
                rng: Rng::derive(seed, 0x4000_0000 + u64::from(index) * 2 + d as u64),
                dtmf,
                need_marker: true,
                last_epoch: 0,
                stats: StreamStats::default(),
            }
        });
        let draft6_users = [
            rng.b64chars(43),
            rng.b64chars(22),
            rng.b64chars(43),
            rng.b64chars(22),
        ];
        let boundary = format!(
            "----=_NextPart_000_{}_{}.{}",
            rng.hex(4).to_uppercase(),
            rng.hex(8).to_uppercase(),
            rng.hex(8).to_uppercase()
        );
        let content_ids = [rng.hex(32), rng.hex(32)];
        let tcp_seq = [rng.next_u32(), rng.next_u32()];
        let ip_id = rng.next_u32() as u16;
        CallGen {
            plan,
            opts: opts.clone(),
            times,
            sig,
            sig_next: 0,
            streams,
            pending: BinaryHeap::new(),
            serial: 0,
            ip_id,
            tcp_seq,
            rng,
            hold_window,
            rekey_switch,
            ssrc_switch,
            draft6_users,
            boundary,
            content_ids,
            branches: Vec::new(),
            signaling_frames: 0,
            sip_messages: 0,
            control_frames: 0,
        }
    }

    /// The call's plan.
    pub fn plan(&self) -> &CallPlan {
        &self.plan
    }

    /// The call's times.
    pub fn times(&self) -> CallTimes {
        self.times
    }

    /// Per-direction counters so far (final once the call is exhausted).
    pub fn stats(&self) -> [&StreamStats; 2] {
        [&self.streams[0].stats, &self.streams[1].stats]
    }

    /// Signaling frames and SIP messages emitted so far.
    pub fn signaling_counts(&self) -> (u64, u64) {
        (self.signaling_frames, self.sip_messages)
    }

    /// TURN control and ICE check frames emitted so far.
    pub fn control_frames(&self) -> u64 {
        self.control_frames
    }

    /// Digits sent, in order.
    pub fn digits(&self) -> String {
        self.opts
            .impairments
            .dtmf
            .iter()
            .flat_map(|b| b.digits.chars().filter(|c| dtmf_code(*c).is_some()))
            .collect()
    }

    fn push(&mut self, at: u64, kind: FrameKind, data: Vec<u8>) {
        self.serial += 1;
        self.pending.push(Reverse(Pending {
            at,
            serial: self.serial,
            kind,
            data,
        }));
    }

    fn next_ip_id(&mut self) -> u16 {
        self.ip_id = self.ip_id.wrapping_add(1);
        self.ip_id
    }

    /// Capture time of the next frame, or `None` when the call is over.
    pub fn peek_time(&mut self) -> Option<u64> {
        self.fill();
        self.pending.peek().map(|p| p.0.at)
    }

    /// The next frame in capture-time order.
    pub fn next_frame(&mut self) -> Option<Frame> {
        self.fill();
        self.pending.pop().map(|Reverse(p)| Frame {
            at_us: p.at,
            kind: p.kind,
            data: p.data,
        })
    }

    fn fill(&mut self) {
        loop {
            let sig_t = self.sig.get(self.sig_next).map_or(u64::MAX, |s| s.0);
            let s0 = self.streams[0].next_time();
            let s1 = self.streams[1].next_time();
            let horizon = sig_t.min(s0).min(s1);
            if horizon == u64::MAX {
                return;
            }
            if let Some(top) = self.pending.peek() {
                if top.0.at <= horizon {
                    return;
                }
            }
            if sig_t == horizon {
                let (t, s) = self.sig[self.sig_next];
                self.sig_next += 1;
                self.emit_sig(t, s);
            } else if s0 == horizon {
                self.emit_slot(0);
            } else {
                self.emit_slot(1);
            }
        }
    }

    fn key_epoch_at(&self, t: u64) -> usize {
        usize::from(self.rekey_switch.is_some_and(|r| t >= r))
    }

    fn ssrc_epoch_at(&self, t: u64) -> usize {
        usize::from(self.ssrc_switch.is_some_and(|s| t >= s))
    }

    fn branch(&mut self, cseq: u32) -> String {
        while self.branches.len() <= cseq as usize {
            let b = self.rng.hex(16).to_uppercase();
            self.branches.push(b);
        }
        self.branches[cseq as usize].clone()
    }

    fn sdp_offer(&self, t: u64, version: u32, why: Option<ReReason>, key_epoch: usize) -> Body {
        let p = &self.plan;
        let codec = p.codec;
        let key = &p.keys[key_epoch][0];
        let ssrc = p.ssrcs[self.ssrc_epoch_at(t)][0];
        let inactive = why == Some(ReReason::Hold);
        let dir = if inactive {
            MediaDirection::Inactive
        } else {
            MediaDirection::SendRecv
        };
        if p.topology == Topology::Plain {
            return Body::Sdp(sip::sdp_plain(&p.caller, codec, key, version, dir));
        }
        let remote = why.map(|_| {
            let m = p.callee.media;
            (m, SocketAddrV4::new(*m.ip(), m.port() + 1))
        });
        let params = SdpParams {
            version,
            key,
            offer: true,
            ssrc,
            remote,
            direction: dir,
        };
        let ice19 = sip::sdp_ice19(&p.caller, codec, &params, false);
        if why.is_some() {
            return Body::Sdp(ice19);
        }
        Body::Alternative {
            boundary: self.boundary.clone(),
            draft6: sip::sdp_draft6(&p.caller, codec, key, &self.draft6_users),
            ice19,
            ids: self.content_ids.clone(),
        }
    }

    fn sdp_answer(&self, t: u64, version: u32, why: Option<ReReason>, key_epoch: usize) -> Body {
        let p = &self.plan;
        let key = &p.keys[key_epoch][1];
        let ssrc = p.ssrcs[self.ssrc_epoch_at(t)][1];
        let dir = if why == Some(ReReason::Hold) {
            MediaDirection::Inactive
        } else {
            MediaDirection::SendRecv
        };
        if p.topology == Topology::Plain {
            return Body::Sdp(sip::sdp_plain(&p.callee, p.codec, key, version, dir));
        }
        let params = SdpParams {
            version,
            key,
            offer: false,
            ssrc,
            remote: None,
            direction: dir,
        };
        Body::Sdp(sip::sdp_ice19(
            &p.callee,
            p.codec,
            &params,
            p.topology.relayed(),
        ))
    }

    fn emit_sig(&mut self, t: u64, s: Sig) {
        let tcp = self.opts.signaling == SignalingMode::InlineTcp;
        let caller = self.plan.caller.sip;
        let (msg, from_caller) = match s {
            Sig::TcpHandshake(i) => {
                if self.opts.signaling != SignalingMode::InlineTcp {
                    return;
                }
                let [cs, fs] = self.tcp_seq;
                let id = self.next_ip_id();
                let f = match i {
                    0 => wire::tcp_frame(
                        caller,
                        FRONT_END,
                        cs.wrapping_sub(1),
                        0,
                        tcp_flags::SYN,
                        &[],
                        id,
                    ),
                    1 => wire::tcp_frame(
                        FRONT_END,
                        caller,
                        fs.wrapping_sub(1),
                        cs,
                        tcp_flags::SYN | tcp_flags::ACK,
                        &[],
                        id,
                    ),
                    _ => wire::tcp_frame(caller, FRONT_END, cs, fs, tcp_flags::ACK, &[], id),
                };
                self.signaling_frames += 1;
                self.push(t, FrameKind::Signaling, f);
                return;
            }
            Sig::ChannelBind | Sig::ChannelBindOk => {
                let base = self.plan.caller.turn_base.unwrap_or(self.plan.caller.host);
                let peer = self.plan.callee.media;
                let ok = s == Sig::ChannelBindOk;
                let components = if self.opts.rtcp { 2u16 } else { 1 };
                for c in 0..components {
                    // Request and response share the transaction id.
                    let mut txid = [0u8; 12];
                    Rng::derive(u64::from(self.plan.index), 0x5000 + u64::from(c)).fill(&mut txid);
                    let mut payload = Vec::new();
                    turn::channel_bind(&mut payload, ok, &txid, 0x4000 + c, port_plus(peer, c));
                    let local = port_plus(base, c);
                    let (src, dst) = if ok {
                        (EDGE_INTERNAL, local)
                    } else {
                        (local, EDGE_INTERNAL)
                    };
                    let id = self.next_ip_id();
                    let mut frames = Vec::new();
                    wire::udp_frames(src, dst, &payload, id, |f| frames.push(f));
                    for f in frames {
                        self.control_frames += 1;
                        self.push(t, FrameKind::Control, f);
                    }
                }
                return;
            }
            Sig::Ice(n) => {
                let p = &self.plan;
                let caller_checks = n < 2;
                let response = n % 2 == 1;
                let (requester, responder) = if caller_checks {
                    (&p.caller, &p.callee)
                } else {
                    (&p.callee, &p.caller)
                };
                let username = format!("{}:{}", responder.ice_ufrag, requester.ice_ufrag);
                let mut txid = [0u8; 12];
                Rng::derive(u64::from(p.index), 0x6000 + u64::from(n / 2)).fill(&mut txid);
                let mut msg = Vec::with_capacity(120);
                turn::ice_check(
                    &mut msg,
                    &turn::IceCheck {
                        response,
                        txid: &txid,
                        username: &username,
                        controlling: caller_checks,
                        mapped: requester.media,
                        password: &responder.ice_pwd,
                    },
                );
                // Requests travel from the checking agent, responses back to it.
                let dir = if caller_checks != response {
                    Direction::CallerToCallee
                } else {
                    Direction::CalleeToCaller
                };
                self.emit_legs(dir, t, &msg, 0, FrameKind::Control);
                return;
            }
            Sig::Invite => {
                let b = self.branch(1);
                let body = self.sdp_offer(t, 1, None, 0);
                (sip::invite(&self.plan, tcp, 1, &b, &body, true), true)
            }
            Sig::Trying => {
                let b = self.branch(1);
                (
                    sip::response(&self.plan, tcp, 100, "Trying", 1, "INVITE", &b, &Body::None),
                    false,
                )
            }
            Sig::Progress => {
                let b = self.branch(1);
                let body = self.sdp_answer(t, 0, None, 0);
                (
                    sip::response(
                        &self.plan,
                        tcp,
                        183,
                        "Session Progress",
                        1,
                        "INVITE",
                        &b,
                        &body,
                    ),
                    false,
                )
            }
            Sig::Ok => {
                let b = self.branch(1);
                let body = self.sdp_answer(t, 0, None, 0);
                (
                    sip::response(&self.plan, tcp, 200, "OK", 1, "INVITE", &b, &body),
                    false,
                )
            }
            Sig::Ack(c) => {
                let b = self.branch(c).to_lowercase();
                (sip::in_dialog(&self.plan, tcp, "ACK", c, &b), true)
            }
            Sig::ReInvite(c, why) => {
                let b = self.branch(c);
                let ke = if why == ReReason::Rekey {
                    1
                } else {
                    self.key_epoch_at(t)
                };
                let body = self.sdp_offer(t, c, Some(why), ke);
                (sip::invite(&self.plan, tcp, c, &b, &body, false), true)
            }
            Sig::ReOk(c, why) => {
                let b = self.branch(c);
                let ke = if why == ReReason::Rekey {
                    1
                } else {
                    self.key_epoch_at(t)
                };
                let body = self.sdp_answer(t, c - 1, Some(why), ke);
                (
                    sip::response(&self.plan, tcp, 200, "OK", c, "INVITE", &b, &body),
                    false,
                )
            }
            Sig::Bye(c) => {
                let b = self.branch(c);
                (sip::in_dialog(&self.plan, tcp, "BYE", c, &b), true)
            }
            Sig::ByeOk(c) => {
                let b = self.branch(c);
                (
                    sip::response(&self.plan, tcp, 200, "OK", c, "BYE", &b, &Body::None),
                    false,
                )
            }
        };
        let (src, dst) = if from_caller {
            (caller, FRONT_END)
        } else {
            (FRONT_END, caller)
        };
        self.sip_messages += 1;
        match self.opts.signaling {
            SignalingMode::None => {}
            SignalingMode::InlineUdp => {
                let id = self.next_ip_id();
                let mut frames = Vec::new();
                wire::udp_frames(src, dst, &msg, id, |f| frames.push(f));
                for (i, f) in frames.into_iter().enumerate() {
                    self.signaling_frames += 1;
                    self.push(t + i as u64, FrameKind::Signaling, f);
                }
            }
            SignalingMode::InlineTcp => {
                let d = usize::from(!from_caller);
                for (i, seg) in msg.chunks(wire::MSS).enumerate() {
                    let seq = self.tcp_seq[d];
                    let ack = self.tcp_seq[1 - d];
                    let id = self.next_ip_id();
                    let f = wire::tcp_frame(
                        src,
                        dst,
                        seq,
                        ack,
                        tcp_flags::PSH | tcp_flags::ACK,
                        seg,
                        id,
                    );
                    self.tcp_seq[d] = seq.wrapping_add(seg.len() as u32);
                    self.signaling_frames += 1;
                    self.push(t + i as u64, FrameKind::Signaling, f);
                }
            }
            SignalingMode::Hep => {
                let fields = rec_packet::hep::HepFields {
                    ip_proto: Some(6),
                    src_ip: Some((*src.ip()).into()),
                    dst_ip: Some((*dst.ip()).into()),
                    src_port: Some(src.port()),
                    dst_port: Some(dst.port()),
                    ts_sec: Some((t / 1_000_000) as u32),
                    ts_usec: Some((t % 1_000_000) as u32),
                    proto_type: Some(rec_packet::hep::PROTO_SIP),
                    capture_id: Some(2001),
                    payload: Some(&msg),
                    ..Default::default()
                };
                let mut hep = Vec::with_capacity(msg.len() + 100);
                if rec_packet::hep::encode(&fields, &[], &mut hep).is_err() {
                    return;
                }
                let id = self.next_ip_id();
                let mut frames = Vec::new();
                wire::udp_frames(HEP_AGENT, HEP_COLLECTOR, &hep, id, |f| frames.push(f));
                for (i, f) in frames.into_iter().enumerate() {
                    self.signaling_frames += 1;
                    self.push(t + i as u64, FrameKind::Signaling, f);
                }
            }
        }
    }

    fn emit_slot(&mut self, d: usize) {
        let t = self.streams[d].next_time();
        let k = self.streams[d].slot;
        self.streams[d].slot += 1;
        if self.hold_window.is_some_and(|(a, b)| t >= a && t < b) {
            self.streams[d].need_marker = true;
            return;
        }
        let se = self.ssrc_epoch_at(t);
        let ke = self.key_epoch_at(t);
        let codec = self.plan.codec;
        let tpp = codec.ts_per_packet();
        let ssrc = self.plan.ssrcs[se][d];
        let ts0 = self.plan.first_timestamps[se][d];
        let mki = self.plan.mki;
        let imp = &self.opts.impairments;
        let (loss, reorder, dup, jitter) = (
            imp.loss_pct,
            imp.reorder_pct,
            imp.duplicate_pct,
            imp.jitter_ms,
        );
        let mid_call_roc = imp.mid_call_roc;
        let st = &mut self.streams[d];
        if st.last_epoch != se {
            st.last_epoch = se;
            st.need_marker = true;
        }
        // Payload: DTMF event or audio.
        let dtmf = st
            .dtmf
            .iter()
            .find(|(s, _)| k >= *s && k < *s + DTMF_EVENT_SLOTS)
            .copied();
        let mut pkt = Vec::with_capacity(12 + 200 + 11);
        let (pt, ts, marker) = match dtmf {
            Some((s, _)) => (
                DTMF_PT,
                ts0.wrapping_add((s as u32).wrapping_mul(tpp)),
                k == s,
            ),
            None => (
                codec.payload_type(),
                ts0.wrapping_add((k as u32).wrapping_mul(tpp)),
                st.need_marker,
            ),
        };
        st.need_marker = false;
        let ext = st.ext_seq[se];
        st.ext_seq[se] += 1;
        let seq = ext as u16;
        let roc = (ext >> 16) as u32;
        pkt.push(0x80);
        pkt.push(pt | if marker { 0x80 } else { 0 });
        pkt.extend_from_slice(&seq.to_be_bytes());
        pkt.extend_from_slice(&ts.to_be_bytes());
        pkt.extend_from_slice(&ssrc.to_be_bytes());
        match dtmf {
            Some((s, code)) => {
                let j = k - s;
                let end = j >= 5;
                let dur = (j.min(5) + 1) as u32 * tpp;
                pkt.push(code);
                pkt.push(if end { 0x80 | 10 } else { 10 });
                pkt.extend_from_slice(&(dur.min(0xffff) as u16).to_be_bytes());
                st.stats.dtmf_packets += 1;
            }
            None => st.enc.encode(k, &mut pkt),
        }
        st.stats.packets_sent += 1;
        let before_capture = mid_call_roc && se == 0 && roc == 0;
        if self.opts.rtcp && !before_capture && k % RTCP_EVERY_SLOTS == RTCP_EVERY_SLOTS / 2 {
            self.emit_rtcp(d, t, se, ke, ts);
        }
        let st = &mut self.streams[d];
        if before_capture {
            st.stats.packets_before_capture += 1;
            return;
        }
        if st.rng.chance(loss) {
            st.stats.packets_lost += 1;
            return;
        }
        let _ = mki;
        if st.ctxs[ke].encrypt_rtp_with_roc(&mut pkt, roc).is_err() {
            return;
        }
        let mut delay = 0u64;
        if jitter > 0.0 {
            delay += (st.rng.next_f64() * jitter * 1000.0) as u64;
        }
        if st.rng.chance(reorder) {
            delay += 30_000 + st.rng.below(20_000);
            st.stats.packets_reordered += 1;
        }
        let dup_at = st.rng.chance(dup).then(|| 1_000 + st.rng.below(2_000));
        st.stats.packets_captured += 1;
        let dir = st.dir;
        self.emit_legs(dir, t + delay, &pkt, 0, FrameKind::Media);
        if let Some(extra) = dup_at {
            self.streams[d].stats.packets_duplicated += 1;
            self.emit_legs(dir, t + delay + extra, &pkt, 0, FrameKind::Media);
        }
    }

    /// A compound SRTCP packet (SR + SDES CNAME) of direction `d`, sent just after the RTP packet
    /// of capture time `t` and RTP timestamp `ts`.
    fn emit_rtcp(&mut self, d: usize, t: u64, se: usize, ke: usize, ts: u32) {
        let ssrc = self.plan.ssrcs[se][d];
        let per_packet = self.plan.codec.samples_per_packet() as u32;
        let st = &mut self.streams[d];
        let sent = st.stats.packets_sent as u32;
        let mut pkt = Vec::with_capacity(80);
        // SR: V=2, RC=0, PT=200, length 6 words.
        pkt.extend_from_slice(&[0x80, 200, 0, 6]);
        pkt.extend_from_slice(&ssrc.to_be_bytes());
        let ntp_secs = (t / 1_000_000 + 2_208_988_800) as u32;
        let ntp_frac = (((t % 1_000_000) << 32) / 1_000_000) as u32;
        pkt.extend_from_slice(&ntp_secs.to_be_bytes());
        pkt.extend_from_slice(&ntp_frac.to_be_bytes());
        pkt.extend_from_slice(&ts.to_be_bytes());
        pkt.extend_from_slice(&sent.to_be_bytes());
        pkt.extend_from_slice(&sent.wrapping_mul(per_packet).to_be_bytes());
        // SDES, one chunk: CNAME, END, padded to a word.
        let cname = format!("{ssrc:08x}@contoso.example");
        let start = pkt.len();
        pkt.extend_from_slice(&[0x81, 202, 0, 0]);
        pkt.extend_from_slice(&ssrc.to_be_bytes());
        pkt.push(1);
        pkt.push(cname.len() as u8);
        pkt.extend_from_slice(cname.as_bytes());
        pkt.push(0);
        while (pkt.len() - start) % 4 != 0 {
            pkt.push(0);
        }
        let words = ((pkt.len() - start) / 4 - 1) as u16;
        pkt[start + 2..start + 4].copy_from_slice(&words.to_be_bytes());
        if st.ctxs[ke].encrypt_rtcp(&mut pkt).is_err() {
            return;
        }
        st.stats.rtcp_packets += 1;
        let dir = st.dir;
        self.emit_legs(dir, t + 50, &pkt, 1, FrameKind::Rtcp);
    }

    /// Emits `srtp` on the wire for `dir` on `component` (0 RTP, 1 RTCP: every port + 1, the
    /// RTCP relay allocation, ChannelData channel 0x4001).
    fn emit_legs(&mut self, dir: Direction, at: u64, srtp: &[u8], component: u16, kind: FrameKind) {
        let p = &self.plan;
        let c = component;
        let caller_to_callee = dir == Direction::CallerToCallee;
        let d = dir.index();
        let mut out: Vec<(u64, SocketAddrV4, SocketAddrV4, Vec<u8>)> = Vec::with_capacity(2);
        match p.topology {
            Topology::Direct | Topology::Plain => {
                let (a, b) = (port_plus(p.caller.host, c), port_plus(p.callee.host, c));
                let (s, r) = if caller_to_callee { (a, b) } else { (b, a) };
                out.push((at, s, r, srtp.to_vec()));
            }
            Topology::Edge | Topology::ChannelData => {
                let base = port_plus(p.caller.turn_base.unwrap_or(p.caller.host), c);
                let relay = if c == 0 {
                    p.caller.media
                } else {
                    p.caller.relay_rtcp.unwrap_or(p.caller.media)
                };
                let peer = port_plus(p.callee.media, c);
                let leg_gap = 150 + self.rng.below(250);
                let mut inner = Vec::with_capacity(srtp.len() + 48);
                if p.topology == Topology::Edge {
                    // As in a Teams capture (testdata teams.pcap): the client's Send requests carry a
                    // 128-bit transaction id starting with the RFC 5389 cookie, the Edge's Data
                    // Indications a random one.
                    let mut txid = [0u8; 16];
                    self.rng.fill(&mut txid);
                    if caller_to_callee {
                        txid[..4].copy_from_slice(&turn::STUN_MAGIC_COOKIE.to_be_bytes());
                    }
                    let t = if caller_to_callee {
                        turn::MS_SEND_REQUEST
                    } else {
                        turn::MS_DATA_INDICATION
                    };
                    turn::ms_turn_data(&mut inner, t, &txid, peer, srtp);
                } else {
                    turn::channel_data(&mut inner, 0x4000 + c, srtp);
                }
                if caller_to_callee {
                    out.push((at, base, EDGE_INTERNAL, inner));
                    out.push((at + leg_gap, relay, peer, srtp.to_vec()));
                } else {
                    out.push((at, peer, relay, srtp.to_vec()));
                    out.push((at + leg_gap, EDGE_INTERNAL, base, inner));
                }
            }
        }
        for (t, s, r, payload) in out {
            let id = self.next_ip_id();
            let mut frames = Vec::with_capacity(1);
            wire::udp_frames(s, r, &payload, id, |f| frames.push(f));
            for f in frames {
                match kind {
                    FrameKind::Media => self.streams[d].stats.frames += 1,
                    FrameKind::Rtcp => self.streams[d].stats.rtcp_frames += 1,
                    _ => self.control_frames += 1,
                }
                self.push(t, kind, f);
            }
        }
    }
}
