//! One call: its metadata from signaling, what its SDP says each side sends (addresses, payload types, keys,
//! SSRCs) and the state of its streams and recording.

use std::net::{IpAddr, SocketAddr};

use rec_audio::Timeline;
use rec_rewrite::Number;
use rec_sdp::{MediaKind, Sdp};
use rec_sip::{Message, NameAddr};
use rec_srtp::KeyParams;

use crate::keys::{fnv1a, KeySet};
use crate::recording::Recording;
use crate::report::{CallMeta, DtmfRecord, Party, Side, StreamReport};

/// A payload type a side declared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PtInfo {
    pub pt: u8,
    pub name: String,
    pub clock: u32,
    pub channels: u16,
}

/// Static payload types of RFC 3551 that SDP may use without `a=rtpmap`.
pub(crate) fn static_pt(pt: u8) -> Option<PtInfo> {
    let (name, clock) = match pt {
        0 => ("PCMU", 8000),
        3 => ("GSM", 8000),
        4 => ("G723", 8000),
        8 => ("PCMA", 8000),
        9 => ("G722", 8000),
        13 => ("CN", 8000),
        18 => ("G729", 8000),
        _ => return None,
    };
    Some(PtInfo {
        pt,
        name: name.into(),
        clock,
        channels: 1,
    })
}

/// The audio pipeline of one side of one media section: timeline (owning the decoder) feeding a mixer stream.
pub(crate) struct SideAudio {
    pub timeline: Timeline,
    pub mixer_id: usize,
    pub audio_pt: u8,
}

/// What one side's SDP says about the media it sends in one media section.
#[derive(Default)]
pub(crate) struct SideMedia {
    pub keys: KeySet,
    pub pts: Vec<PtInfo>,
    pub ssrc_range: Option<(u32, u32)>,
    /// The side declared RTP/AVP without any crypto line: its media is plain RTP.
    pub plain: bool,
    pub audio: Option<SideAudio>,
    /// Why this side's audio cannot be decoded (set once).
    pub undecodable: Option<String>,
}

impl std::fmt::Debug for SideMedia {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SideMedia")
            .field("keys", &self.keys)
            .field("pts", &self.pts)
            .field("plain", &self.plain)
            .finish_non_exhaustive()
    }
}

/// One audio media section (m-line index) of the call.
#[derive(Debug, Default)]
pub(crate) struct MediaSlot {
    pub sides: [SideMedia; 2],
}

/// Per-stream (side, SSRC) counters and sequence tracking.
#[derive(Debug)]
pub(crate) struct StreamState {
    pub media: usize,
    pub side: Side,
    pub report: StreamReport,
    max_ext: i64,
    min_ext: i64,
    last_seq: u16,
    /// Bit i set: extended sequence `max_ext - i` was received.
    seen: u64,
    started: bool,
    transports: u8,
}

/// How a packet reached the capture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Carriage {
    Raw = 1,
    MsTurn = 2,
    ChannelData = 4,
    TurnIndication = 8,
}

impl StreamState {
    pub fn new(media: usize, side: Side, ssrc: u32, at_us: i64) -> Self {
        StreamState {
            media,
            side,
            report: StreamReport {
                direction: Some(side),
                ssrc,
                codec: "?".into(),
                decodable: false,
                first_at_us: at_us,
                last_at_us: at_us,
                ..StreamReport::default()
            },
            max_ext: 0,
            min_ext: 0,
            last_seq: 0,
            seen: 0,
            started: false,
            transports: 0,
        }
    }

    /// Counts a packet with sequence number `seq`; `false` when it is a copy of one already counted.
    pub fn count(&mut self, seq: u16, at_us: i64, carriage: Carriage) -> bool {
        self.transports |= carriage as u8;
        self.report.last_at_us = self.report.last_at_us.max(at_us);
        if !self.started {
            self.started = true;
            self.max_ext = i64::from(seq);
            self.min_ext = self.max_ext;
            self.last_seq = seq;
            self.seen = 1;
            self.report.packets = 1;
            return true;
        }
        let ext = self.max_ext + i64::from(seq.wrapping_sub(self.last_seq) as i16);
        if ext > self.max_ext {
            let shift = ext - self.max_ext;
            self.seen = if shift >= 64 { 0 } else { self.seen << shift };
            self.seen |= 1;
            self.max_ext = ext;
            self.last_seq = seq;
        } else {
            let back = self.max_ext - ext;
            if back < 64 {
                if self.seen & (1 << back) != 0 {
                    self.report.duplicates += 1;
                    return false;
                }
                self.seen |= 1 << back;
            } else if back > 3000 {
                // far behind: a restarted sender; treat as new sequence base
                self.max_ext = ext;
                self.last_seq = seq;
                self.seen = 1;
            }
            self.min_ext = self.min_ext.min(ext);
        }
        self.report.packets += 1;
        true
    }

    /// Whether `seq` was already counted (an authenticated copy): later copies need no decryption.
    pub fn already_seen(&self, seq: u16) -> bool {
        if !self.started {
            return false;
        }
        let ext = self.max_ext + i64::from(seq.wrapping_sub(self.last_seq) as i16);
        let back = self.max_ext - ext;
        (0..64).contains(&back) && self.seen & (1 << back) != 0
    }

    /// Final counters: loss from the sequence span.
    pub fn finish(&mut self) -> StreamReport {
        let span = (self.max_ext - self.min_ext + 1).max(0) as u64;
        self.report.lost = span.saturating_sub(self.report.packets);
        let names: Vec<&str> = [
            (Carriage::Raw, "raw"),
            (Carriage::MsTurn, "ms-turn"),
            (Carriage::ChannelData, "channeldata"),
            (Carriage::TurnIndication, "turn-indication"),
        ]
        .iter()
        .filter(|(c, _)| self.transports & (*c as u8) != 0)
        .map(|(_, n)| *n)
        .collect();
        self.report.transport = names.join(",");
        self.report.clone()
    }
}

/// One tracked call.
#[derive(Debug)]
pub(crate) struct Call {
    pub handle: u64,
    pub meta: CallMeta,
    pub recorded: bool,
    pub caller_tag: Option<String>,
    pub answered: bool,
    pub final_failure: Option<u16>,
    pub media: Vec<MediaSlot>,
    pub streams: Vec<StreamState>,
    pub recording: Recording,
    pub last_activity_us: i64,
    /// Capture time of the newest media packet of the call.
    pub last_media_us: i64,
    pub first_media_us: Option<i64>,
    pub dtmf: Vec<DtmfRecord>,
    /// Addresses and SSRCs this call registered in the flow table (removed at its end).
    pub addrs: Vec<SocketAddr>,
    pub ssrcs: Vec<u32>,
    pub notes: Vec<String>,
    /// Made from RTP alone (`--key` or unmatched plain RTP): one file per stream, no signaling.
    pub standalone: bool,
    /// Set by a BYE: its capture time and the end reason. The call stays open [`crate::BYE_LINGER_US`]
    /// longer for media captured after the BYE, then ends with this time and reason.
    pub closing: Option<(i64, String)>,
    /// SDPs applied so far (numbers the key batches).
    pub sdp_count: u32,
    /// A response to the initial INVITE was seen (eviction class 1).
    pub responded: bool,
    /// Trust rank of the source whose INVITE created the call: only messages from sources ranked at least
    /// as high change it (see `trust.rs`).
    pub trust: u8,
    /// Place in the eviction order (see `evict.rs`).
    pub evict_key: Option<crate::evict::EvictKey>,
}

impl Call {
    pub fn new(handle: u64, meta: CallMeta, recorded: bool, format: crate::AudioFormat) -> Self {
        let mut recording = Recording::new(format);
        recording.set_tags(crate::recording::recording_tags(&meta));
        Call {
            handle,
            last_activity_us: meta.started_at_us,
            last_media_us: meta.started_at_us,
            meta,
            recorded,
            caller_tag: None,
            answered: false,
            final_failure: None,
            media: Vec::new(),
            streams: Vec::new(),
            recording,
            first_media_us: None,
            dtmf: Vec::new(),
            addrs: Vec::new(),
            ssrcs: Vec::new(),
            notes: Vec::new(),
            standalone: false,
            closing: None,
            sdp_count: 0,
            responded: false,
            trust: 0,
            evict_key: None,
        }
    }

    /// Which side sent `msg`: requests come from the party whose tag is in From; responses from the other one.
    pub fn sender_of(&self, msg: &Message<'_>) -> Side {
        let from_tag = msg.from().and_then(|f| f.tag().map(str::to_owned));
        let from_is_caller = match (&self.caller_tag, from_tag) {
            (Some(c), Some(t)) => *c == t,
            _ => true,
        };
        match (msg.is_request(), from_is_caller) {
            (true, true) | (false, false) => Side::Caller,
            _ => Side::Callee,
        }
    }

    pub fn slot(&mut self, index: usize) -> &mut MediaSlot {
        while self.media.len() <= index {
            self.media.push(MediaSlot::default());
        }
        &mut self.media[index]
    }

    pub fn stream_index(&mut self, media: usize, side: Side, ssrc: u32, at_us: i64) -> usize {
        if let Some(i) = self
            .streams
            .iter()
            .position(|s| s.media == media && s.side == side && s.report.ssrc == ssrc)
        {
            return i;
        }
        self.streams
            .push(StreamState::new(media, side, ssrc, at_us));
        self.streams.len() - 1
    }
}

/// Addresses, payload types, SSRCs and keys one SDP declares for its sender, per audio media section.
#[derive(Debug, Default)]
pub(crate) struct SdpMedia {
    pub sections: Vec<SdpSection>,
}

/// One audio section of an SDP, as far as the engine cares.
#[derive(Debug, Default)]
pub(crate) struct SdpSection {
    pub index: usize,
    pub addrs: Vec<SocketAddr>,
    pub pts: Vec<PtInfo>,
    pub ssrc_range: Option<(u32, u32)>,
    pub keys: Vec<(u64, KeyParams)>,
    pub has_crypto: bool,
    pub bad_keys: usize,
}

fn push_addr(addrs: &mut Vec<SocketAddr>, ip: &str, port: u16) {
    if port == 0 || port == 9 {
        return;
    }
    if let Ok(ip) = ip.trim().parse::<IpAddr>() {
        if ip.is_unspecified() {
            return;
        }
        let a = SocketAddr::new(ip, port);
        if !addrs.contains(&a) {
            addrs.push(a);
        }
    }
}

/// Reads the audio sections of one SDP body. Sections of other kinds (video, data) are skipped.
pub(crate) fn read_sdp(body: &[u8], out: &mut SdpMedia) {
    let Ok(sdp) = Sdp::parse(body) else {
        return;
    };
    let session_c = sdp
        .session()
        .connection()
        .and_then(Result::ok)
        .map(|c| c.address);
    for m in sdp.media() {
        if m.kind() != MediaKind::Audio {
            continue;
        }
        let index = m.index();
        let sec = match out.sections.iter_mut().position(|s| s.index == index) {
            Some(i) => &mut out.sections[i],
            None => {
                out.sections.push(SdpSection {
                    index,
                    ..SdpSection::default()
                });
                out.sections.last_mut().expect("just pushed")
            }
        };
        let c = m
            .connection()
            .and_then(Result::ok)
            .map(|c| c.address)
            .or(session_c);
        if let Some(c) = c {
            push_addr(&mut sec.addrs, c, m.port());
            if let Some(Ok(rtcp)) = m.rtcp() {
                push_addr(&mut sec.addrs, rtcp.address.unwrap_or(c), rtcp.port);
            }
        }
        for cand in m.candidates().flatten() {
            if cand.is_udp() || cand.is_tcp() {
                push_addr(&mut sec.addrs, cand.address, cand.port);
            }
        }
        for pt in m.media_line().format_list() {
            if let Some(info) = pt.parse::<u8>().ok().and_then(static_pt) {
                if !sec.pts.iter().any(|p| p.pt == info.pt) {
                    sec.pts.push(info);
                }
            }
        }
        for map in m.rtpmaps().flatten() {
            let info = PtInfo {
                pt: map.pt,
                name: map.encoding.to_owned(),
                clock: map.clock_rate,
                channels: map.channels.unwrap_or(1),
            };
            match sec.pts.iter_mut().find(|p| p.pt == map.pt) {
                Some(p) => *p = info,
                None => sec.pts.push(info),
            }
        }
        if let Some(Ok(r)) = m.ssrc_range() {
            sec.ssrc_range = Some((r.first, r.last));
        }
        for crypto in m.cryptos().flatten() {
            sec.has_crypto = true;
            match KeyParams::parse_sdes(crypto.suite, crypto.key_params) {
                Ok(params) => {
                    let mut fp_text =
                        Vec::with_capacity(crypto.suite.len() + crypto.key_params.len());
                    fp_text.extend_from_slice(crypto.suite.as_bytes());
                    fp_text.extend_from_slice(crypto.key_params.as_bytes());
                    sec.keys.push((fnv1a(&fp_text), params));
                }
                Err(_) => sec.bad_keys += 1,
            }
        }
    }
}

fn unquote(s: &str) -> String {
    let s = s.trim();
    s.strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .unwrap_or(s)
        .replace("\\\"", "\"")
}

/// A party from a From/To/Refer-To name-addr.
pub(crate) fn party_of(na: &NameAddr<'_>, country_code: Option<&str>) -> Party {
    let uri = na.uri.as_str().to_owned();
    let number = na
        .uri
        .user
        .filter(|u| u.bytes().any(|b| b.is_ascii_digit()))
        .and_then(|_| Number::parse(&uri, country_code))
        .or_else(|| {
            na.uri
                .is_tel()
                .then(|| Number::parse(&uri, country_code))
                .flatten()
        })
        .map(|n| n.to_e164_string());
    Party {
        display: na.display_name.map(unquote).filter(|d| !d.is_empty()),
        uri,
        number,
    }
}

/// Fills the metadata that any message of the call may carry (user agents, diagnostics, conversation id, ...).
pub(crate) fn absorb_headers(meta: &mut CallMeta, msg: &Message<'_>) {
    for name in ["user-agent", "server"] {
        if let Some(h) = msg.header(name) {
            let v = h.value().trim().to_owned();
            if !v.is_empty() && !meta.user_agents.contains(&v) && meta.user_agents.len() < 8 {
                meta.user_agents.push(v);
            }
        }
    }
    for name in ["ms-diagnostics", "ms-diagnostics-public"] {
        if let Some(h) = msg.header(name) {
            meta.diagnostics = Some(h.value().trim().to_owned());
        }
    }
    if meta.conversation_id.is_none() {
        if let Some(h) = msg.header("ms-conversation-id") {
            meta.conversation_id = Some(h.value().trim().to_owned());
        }
    }
    if let Some(h) = msg.header("ms-sensitivity") {
        meta.sensitivity = Some(h.value().trim().to_owned());
    }
    if let Some(h) = msg.header("ms-target-class") {
        meta.target_class = Some(h.value().trim().to_owned());
    }
    if let Some(h) = msg.header("priority") {
        if h.value().trim().eq_ignore_ascii_case("emergency") {
            meta.emergency = true;
        }
    }
    for part in msg.bodies() {
        if part.is_pidf() {
            meta.emergency = true;
            if meta.location.is_none() {
                meta.location = Some(String::from_utf8_lossy(part.body).into_owned());
            }
        }
    }
}

/// Metadata of a new call from its (first seen) INVITE.
pub(crate) fn meta_from_invite(
    msg: &Message<'_>,
    at_us: i64,
    country_code: Option<&str>,
) -> CallMeta {
    let mut meta = CallMeta {
        call_id: msg.call_id().unwrap_or("").to_owned(),
        started_at_us: at_us,
        ..CallMeta::default()
    };
    if let Some(f) = msg.from() {
        meta.from = party_of(&f, country_code);
    }
    if let Some(t) = msg.to() {
        meta.to = party_of(&t, country_code);
    }
    for pai in msg.p_asserted_identities() {
        meta.asserted_identity.push(pai.uri.as_str().to_owned());
    }
    if let Some(p) = msg.header("privacy") {
        let v = p.value();
        meta.privacy = v.split([';', ',']).any(|t| {
            matches!(
                t.trim().to_ascii_lowercase().as_str(),
                "id" | "header" | "user"
            )
        });
    }
    absorb_headers(&mut meta, msg);
    meta
}
