//! The media path: frame → UDP payload → (TURN unwrap) → flow lookup → in-place SRTP decrypt → per-stream
//! counters → timeline → mixer → encoder. No allocation per packet in steady state: the packet is copied into
//! one scratch buffer, decrypted there and decoded from there.

use std::collections::VecDeque;
use std::net::SocketAddr;

use rec_audio::{decoder_for, parse_red, RtpIn, Timeline, TimelineConfig};
use rec_packet::demux::{classify, PacketKind};
use rec_packet::rtp::RtpPacket;
use rec_packet::turn::{unwrap_turn, Encapsulation};
use rec_packet::{decode_frame, decode_transport, LinkType, Transport};

use crate::call::{static_pt, Call, Carriage, PtInfo, SideAudio};
use crate::config::EngineConfig;
use crate::flows::FlowRef;
use crate::keys::{fnv1a, DecryptFailure};
use crate::recording::MIXER_PLAYOUT_US;
use crate::report::{CallMeta, DtmfRecord, Side};
use crate::signaling::{looks_like_sip, sip_from_hep};
use crate::{Engine, Output, SipMeta, SipOrigin};

/// RTP header fields of the packet in the scratch buffer, after decryption.
#[derive(Debug, Clone)]
struct Plain {
    ssrc: u32,
    seq: u16,
    ts: u32,
    pt: u8,
    marker: bool,
    payload: std::ops::Range<usize>,
    packet_len: usize,
}

fn plain_rtp(buf: &[u8]) -> Option<Plain> {
    let p = RtpPacket::parse(buf).ok()?;
    let start = p.header_len();
    let end = buf.len().checked_sub(p.padding_len())?;
    Some(Plain {
        ssrc: p.ssrc(),
        seq: p.sequence(),
        ts: p.timestamp(),
        pt: p.payload_type(),
        marker: p.marker(),
        payload: start..end.max(start),
        packet_len: buf.len(),
    })
}

impl Engine {
    pub(crate) fn on_frame(&mut self, at_us: i64, link: LinkType, frame: &[u8]) {
        self.stats.frames += 1;
        let decoded = match decode_frame(link, frame) {
            Ok(d) => d,
            Err(_) => {
                self.stats.malformed_frames += 1;
                return;
            }
        };
        match decoded.transport {
            Transport::Udp(u) => self.on_udp(at_us, u.src, u.dst, u.payload),
            Transport::Tcp(seg) => {
                let mut found = std::mem::take(&mut self.found_sip);
                self.tcp_sip.push(at_us, &seg, &mut found);
                for f in found.drain(..) {
                    let meta = SipMeta {
                        src: f.src,
                        dst: f.dst,
                        origin: SipOrigin::Capture,
                    };
                    self.on_sip(f.at_us, meta, &f.bytes);
                }
                self.found_sip = found;
            }
            Transport::Fragment(frag) => {
                let at = u64::try_from(at_us).unwrap_or(0);
                let Some(whole) = self.defrag.push(at, &frag) else {
                    return;
                };
                let key = whole.key;
                let payload = whole.payload.to_vec();
                match decode_transport(key.src, key.dst, key.protocol, &payload) {
                    Ok(Transport::Udp(u)) => self.on_udp(at_us, u.src, u.dst, u.payload),
                    Ok(_) => self.stats.ignored += 1,
                    Err(_) => self.stats.malformed_frames += 1,
                }
            }
            Transport::Other(_) => self.stats.ignored += 1,
        }
    }

    /// A HEP datagram found in the capture: its SIP message, or counted as ignored.
    fn on_hep(&mut self, at_us: i64, payload: &[u8]) {
        match sip_from_hep(payload, at_us) {
            Some(f) => {
                let meta = SipMeta {
                    src: f.src,
                    dst: f.dst,
                    origin: SipOrigin::Hep,
                };
                self.on_sip(f.at_us, meta, &f.bytes);
            }
            None => self.stats.ignored += 1,
        }
    }

    fn on_udp(&mut self, at_us: i64, src: SocketAddr, dst: SocketAddr, payload: &[u8]) {
        match payload.first() {
            Some(b'H') if payload.starts_with(b"HEP3") => {
                self.on_hep(at_us, payload);
                return;
            }
            Some(1 | 2) if rec_packet::hep_legacy::looks_like(payload) => {
                // HEPv1/v2 (Kamailio siptrace's default); a STUN or other datagram that only looks like it is
                // counted as ignored, as before
                self.on_hep(at_us, payload);
                return;
            }
            Some(b'A'..=b'Z') => {
                if looks_like_sip(payload) {
                    let meta = SipMeta {
                        src: Some(src),
                        dst: Some(dst),
                        origin: SipOrigin::Capture,
                    };
                    self.on_sip(at_us, meta, payload);
                } else {
                    self.stats.ignored += 1;
                }
                return;
            }
            _ => {}
        }
        match classify(payload) {
            PacketKind::Rtp | PacketKind::Rtcp => {
                self.on_media(at_us, src, dst, payload, Carriage::Raw)
            }
            PacketKind::Stun | PacketKind::TurnChannel | PacketKind::MsTurnMux => {
                self.turn.observe(payload, src, dst);
                match unwrap_turn(payload, src, dst, Some(&self.turn)) {
                    Ok(Some(u)) => {
                        let carriage = match u.encapsulation {
                            Encapsulation::ChannelData(_) => Carriage::ChannelData,
                            Encapsulation::SendIndication | Encapsulation::DataIndication => {
                                Carriage::TurnIndication
                            }
                            _ => Carriage::MsTurn,
                        };
                        // the real peer stands in for the relay: client→peer or peer→client
                        let (s, d) = match (u.direction, u.peer, u.client) {
                            (rec_packet::turn::Direction::ClientToServer, Some(p), Some(c)) => {
                                (c, p)
                            }
                            (rec_packet::turn::Direction::ServerToClient, Some(p), Some(c)) => {
                                (p, c)
                            }
                            _ => (src, dst),
                        };
                        match classify(u.data) {
                            PacketKind::Rtp | PacketKind::Rtcp => {
                                self.on_media(at_us, s, d, u.data, carriage)
                            }
                            _ => self.stats.ignored += 1,
                        }
                    }
                    Ok(None) => self.stats.ignored += 1,
                    Err(_) => self.stats.turn_errors += 1,
                }
            }
            _ => self.stats.ignored += 1,
        }
    }

    fn on_media(
        &mut self,
        at_us: i64,
        src: SocketAddr,
        dst: SocketAddr,
        data: &[u8],
        carriage: Carriage,
    ) {
        let is_rtcp = classify(data) == PacketKind::Rtcp;
        let ssrc_at = if is_rtcp { 4 } else { 8 };
        let ssrc = data
            .get(ssrc_at..ssrc_at + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
        let flow = self
            .flows
            .lookup(src, dst)
            .or_else(|| ssrc.and_then(|s| self.flows.lookup_ssrc(s)));
        let Some(flow) = flow else {
            if !is_rtcp {
                self.on_unmatched(at_us, data, carriage);
            } else {
                self.stats.media_unmatched += 1;
            }
            return;
        };
        self.record_media(flow, Arrival { at_us, carriage }, data, is_rtcp);
    }

    /// A media packet of a known flow: the call's activity is noted and RTP is decrypted, counted and decoded.
    fn record_media(&mut self, flow: FlowRef, arrival: Arrival, data: &[u8], is_rtcp: bool) {
        self.stats.media_matched += 1;
        let Some(call) = self.calls.get_mut(&flow.call) else {
            return;
        };
        if !call.recorded {
            return;
        }
        call.last_activity_us = arrival.at_us;
        call.last_media_us = call.last_media_us.max(arrival.at_us);
        if is_rtcp {
            return;
        }
        self.scratch.clear();
        self.scratch.extend_from_slice(data);
        let first_media = call.first_media_us.is_none();
        process_rtp(
            call,
            flow,
            arrival,
            &mut self.scratch,
            &self.cfg,
            &mut self.outputs,
            &mut self.stats.decrypt_failures,
        );
        if first_media {
            // the call now carries media: it moves up the eviction order
            self.reindex(flow.call);
        }
    }

    /// RTP that matches no call: recorded on its own when keys were given by hand (`--key`) or plain RTP
    /// recording is asked for; otherwise counted and dropped.
    fn on_unmatched(&mut self, at_us: i64, data: &[u8], carriage: Carriage) {
        if self.cfg.manual_keys.is_empty() && !self.cfg.record_unmatched_rtp {
            self.stats.media_unmatched += 1;
            return;
        }
        let Some(hdr) = plain_rtp(data) else {
            self.stats.media_unmatched += 1;
            return;
        };
        if self.calls.len() >= self.cfg.max_calls {
            self.stats.calls_refused += 1;
            self.stats.media_unmatched += 1;
            return;
        }
        // which hand-given key (if any) authenticates this stream?
        let mut key = None;
        let ordered = self
            .cfg
            .manual_keys
            .iter()
            .filter(|k| k.ssrc == Some(hdr.ssrc))
            .chain(self.cfg.manual_keys.iter().filter(|k| k.ssrc.is_none()));
        for (i, k) in ordered.enumerate() {
            let mut ctx = rec_srtp::SrtpContext::new(k.params.clone());
            self.scratch.clear();
            self.scratch.extend_from_slice(data);
            if ctx.decrypt_rtp(&mut self.scratch).is_ok() {
                key = Some((i, k.params.clone()));
                break;
            }
        }
        if key.is_none() && !self.cfg.record_unmatched_rtp {
            self.stats.media_unmatched += 1;
            return;
        }
        let handle = self.next_handle;
        self.next_handle += 1;
        let call_id = format!("rtp-ssrc-{:08x}-{}", hdr.ssrc, handle);
        let meta = CallMeta {
            call_id: call_id.clone(),
            started_at_us: at_us,
            policy_reason: if key.is_some() {
                "stream decrypted with a key given by hand".into()
            } else {
                "plain RTP stream without signaling".into()
            },
            ..CallMeta::default()
        };
        let mut call = Call::new(handle, meta, true, self.cfg.format);
        call.standalone = true;
        {
            let slot = call.slot(0);
            let sm = &mut slot.sides[0];
            match key {
                Some((_, params)) => sm.keys.add(fnv1a(call_id.as_bytes()), 0, params),
                None => sm.plain = true,
            }
            for pt in [0u8, 8, 9, 13] {
                if let Some(info) = static_pt(pt) {
                    sm.pts.push(info);
                }
            }
        }
        // made from media alone: the lowest rank, so any call's SDP naming the stream takes it
        let flow = FlowRef {
            call: handle,
            media: 0,
            side: Side::Caller,
            rank: 0,
        };
        self.flows.add_ssrc(hdr.ssrc, flow);
        call.ssrcs.push(hdr.ssrc);
        self.stats.calls_started += 1;
        self.outputs.push_back(Output::CallStarted {
            call: handle,
            meta: Box::new(call.meta.clone()),
        });
        self.by_call_id.insert(call_id, handle);
        self.calls.insert(handle, call);
        self.record_media(flow, Arrival { at_us, carriage }, data, false);
        self.reindex(handle);
    }
}

/// When and how a packet reached the capture.
#[derive(Debug, Clone, Copy)]
struct Arrival {
    at_us: i64,
    carriage: Carriage,
}

/// Decrypts (in `buf`), counts and decodes one RTP packet of `call`.
fn process_rtp(
    call: &mut Call,
    flow: FlowRef,
    arrival: Arrival,
    buf: &mut [u8],
    cfg: &EngineConfig,
    outputs: &mut VecDeque<Output>,
    decrypt_failures: &mut u64,
) {
    let Arrival { at_us, carriage } = arrival;
    let media = usize::from(flow.media);
    let standalone = call.standalone;
    let origin = *call.first_media_us.get_or_insert(at_us);
    let serial = fnv1a(call.meta.call_id.as_bytes()) as u32;
    // a copy of a packet already authenticated and counted (the second leg of a relay, a duplicate) is
    // counted again without being decrypted; only authenticated packets ever mark a sequence number seen
    if buf.len() >= 12 {
        let ssrc = u32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]);
        let seq = u16::from_be_bytes([buf[2], buf[3]]);
        if let Some(s) = call
            .streams
            .iter_mut()
            .find(|s| s.media == media && s.report.ssrc == ssrc)
        {
            if s.already_seen(seq) {
                s.count(seq, at_us, carriage);
                return;
            }
        }
    }
    // decrypt with the sending side's keys; if the address guess was wrong, the other side's keys tell
    let mut side = flow.side;
    let hdr = {
        let slot = call.slot(media);
        let both_plain = slot.sides.iter().all(|s| s.keys.is_empty());
        let mine = &mut slot.sides[side.index()];
        if mine.plain || both_plain {
            plain_rtp(buf)
        } else {
            match mine.keys.decrypt_rtp(buf) {
                Ok(d) => Some(d),
                Err(e) => {
                    let other = &mut slot.sides[side.other().index()];
                    match other.keys.decrypt_rtp(buf) {
                        Ok(d) => {
                            side = side.other();
                            Some(d)
                        }
                        Err(_) if e == DecryptFailure::NoKey => None,
                        Err(_) => None,
                    }
                }
            }
            .map(|d| Plain {
                ssrc: d.ssrc,
                seq: d.seq,
                ts: d.timestamp,
                pt: d.payload_type,
                marker: d.marker,
                payload: d.payload_range,
                packet_len: d.packet_len,
            })
        }
    };
    let Some(hdr) = hdr else {
        // did not authenticate: count it on the stream the header names
        if let Ok(p) = RtpPacket::parse(buf) {
            let i = call.stream_index(media, side, p.ssrc(), at_us);
            call.streams[i].report.decrypt_failures += 1;
            *decrypt_failures += 1;
            call.streams[i].report.last_at_us = at_us;
        }
        return;
    };
    let si = call.stream_index(media, side, hdr.ssrc, at_us);
    if !call.streams[si].count(hdr.seq, at_us, carriage) {
        return;
    }
    let (slot_sides, recording, streams) = {
        let Call {
            media: slots,
            recording,
            streams,
            ..
        } = call;
        (&mut slots[media].sides, recording, streams)
    };
    // the payload type's description: the sender's SDP first, then the receiver's (no copy per packet)
    let own = side.index();
    let lookup = |pt: u8| {
        [own, 1 - own].into_iter().find_map(|s| {
            slot_sides[s]
                .pts
                .iter()
                .position(|p| p.pt == pt)
                .map(|i| (s, i))
        })
    };
    let found = lookup(hdr.pt);
    let name_of = |at: Option<(usize, usize)>| at.map(|(s, i)| slot_sides[s].pts[i].name.as_str());
    let name = name_of(found).unwrap_or("");
    // comfort noise (static PT 13 even when the SDP does not list it) and telephone events are not codecs
    let is_aux = name.eq_ignore_ascii_case("telephone-event")
        || name.eq_ignore_ascii_case("CN")
        || (found.is_none() && hdr.pt == 13);
    // the codec that carries audio: RED's primary block names it
    let codec_pt = if name.eq_ignore_ascii_case("RED") {
        parse_red(&buf[hdr.payload.clone()])
            .ok()
            .map(|r| r.primary.pt)
    } else if is_aux {
        None
    } else {
        Some(hdr.pt)
    };
    let codec_at = codec_pt.and_then(lookup);
    let cinfo: Option<PtInfo> = match codec_pt {
        Some(cpt) => {
            let needs_new = slot_sides[own]
                .audio
                .as_ref()
                .is_none_or(|a| a.audio_pt != cpt);
            (needs_new || streams[si].report.codec == "?").then(|| {
                codec_at
                    .map(|(s, i)| slot_sides[s].pts[i].clone())
                    .unwrap_or(PtInfo {
                        pt: cpt,
                        name: format!("PT{cpt}"),
                        clock: 8000,
                        channels: 1,
                    })
            })
        }
        None => None,
    };
    let sm = &mut slot_sides[own];
    let stream = &mut streams[si];
    let mut decodable_now = false;
    if let Some(cpt) = codec_pt {
        let needs_new = sm.audio.as_ref().is_none_or(|a| a.audio_pt != cpt);
        if let Some(cinfo) = &cinfo {
            if needs_new && sm.undecodable.as_deref() != Some(cinfo.name.as_str()) {
                match decoder_for(&cinfo.name, cinfo.clock, cinfo.channels) {
                    Some(dec) => {
                        let rate = dec.sample_rate();
                        let mut tcfg = TimelineConfig::new(cpt);
                        tcfg.window = 16;
                        for p in &sm.pts {
                            if p.name.eq_ignore_ascii_case("CN") && p.clock == cinfo.clock {
                                tcfg.cn_pt = Some(p.pt);
                            } else if p.name.eq_ignore_ascii_case("RED") {
                                tcfg.red_pt = Some(p.pt);
                            } else if p.name.eq_ignore_ascii_case("telephone-event") {
                                tcfg.dtmf_pt = Some(p.pt);
                            }
                        }
                        if let Some(mixer) = recording.mixer(cfg, standalone, rate, origin, serial)
                        {
                            let mixer_id = match &sm.audio {
                                Some(a) => a.mixer_id,
                                None => mixer.add_stream(side.index() as u16, rate),
                            };
                            sm.audio = Some(SideAudio {
                                timeline: Timeline::new(tcfg, dec),
                                mixer_id,
                                audio_pt: cpt,
                            });
                        }
                    }
                    None => sm.undecodable = Some(cinfo.name.clone()),
                }
            }
        }
        decodable_now = sm.audio.as_ref().is_some_and(|a| a.audio_pt == cpt);
        // the stream is named by its first decodable codec (or its first codec when none decodes)
        if let Some(cinfo) = &cinfo {
            if stream.report.codec == "?" || (decodable_now && !stream.report.decodable) {
                stream.report.codec = cinfo.name.clone();
            }
        }
        stream.report.decodable |= decodable_now;
    }
    if let (Some(audio), Some(mixer)) = (sm.audio.as_mut(), recording.mixer.as_mut()) {
        if decodable_now || is_aux {
            let pkt = RtpIn {
                capture_us: at_us,
                seq: hdr.seq,
                ts: hdr.ts,
                marker: hdr.marker,
                pt: hdr.pt,
                ssrc: hdr.ssrc,
                payload: &buf[hdr.payload.clone()],
            };
            audio.timeline.push(&pkt, &mut mixer.input(audio.mixer_id));
        }
    }
    if !decodable_now && !is_aux {
        recording.keep_rtp(at_us, side.index() as u8, &buf[..hdr.packet_len]);
    }
    collect_dtmf(call);
    flush(call, cfg, at_us, at_us, false, outputs);
}

/// Moves telephone events from the mixer into the call's DTMF list.
fn collect_dtmf(call: &mut Call) {
    let Some(mixer) = call.recording.mixer.as_mut() else {
        return;
    };
    let mut side_of = [None; 4];
    for slot in &call.media {
        for (i, s) in slot.sides.iter().enumerate() {
            if let Some(a) = &s.audio {
                if a.mixer_id < side_of.len() {
                    side_of[a.mixer_id] = Some(if i == 0 { Side::Caller } else { Side::Callee });
                }
            }
        }
    }
    for (id, ev) in mixer.take_events() {
        call.dtmf.push(DtmfRecord {
            at_us: ev.start_us,
            digit: ev.digit().unwrap_or('?'),
            duration_ms: ev.duration_us / 1000,
            side: side_of.get(id).copied().flatten().unwrap_or(Side::Caller),
        });
    }
}

/// Hands out encoded audio (and kept RTP) when the flush interval has passed, or always with `force`.
fn flush(
    call: &mut Call,
    cfg: &EngineConfig,
    mix_until_us: i64,
    now_us: i64,
    force: bool,
    outputs: &mut VecDeque<Output>,
) {
    if let Some(chunk) = call
        .recording
        .drain(mix_until_us, now_us, cfg.flush_interval_us, force)
    {
        outputs.push_back(Output::Audio {
            call: call.handle,
            chunk,
        });
        if !call.recording.rtp.is_empty() {
            outputs.push_back(Output::Rtp {
                call: call.handle,
                batch: std::mem::take(&mut call.recording.rtp),
            });
        }
    } else if call.recording.rtp.packets.len() >= 512 || (force && !call.recording.rtp.is_empty()) {
        outputs.push_back(Output::Rtp {
            call: call.handle,
            batch: std::mem::take(&mut call.recording.rtp),
        });
    }
}

/// Timer work for a running call: waiting packets are released, finished audio handed out.
pub(crate) fn advance_call(
    call: &mut Call,
    cfg: &EngineConfig,
    now_us: i64,
    outputs: &mut VecDeque<Output>,
) {
    if !call.recorded {
        return;
    }
    // audio is final up to the newest packet: a quiet call (hold, end without BYE) gets no trailing silence
    // now; a gap is filled with silence when media resumes
    let media_now = now_us.min(call.last_media_us + MIXER_PLAYOUT_US);
    if let Some(mixer) = call.recording.mixer.as_mut() {
        for slot in &mut call.media {
            for s in &mut slot.sides {
                if let Some(a) = s.audio.as_mut() {
                    a.timeline.advance(now_us, &mut mixer.input(a.mixer_id));
                }
            }
        }
    }
    collect_dtmf(call);
    flush(call, cfg, media_now, now_us, false, outputs);
}

/// Call end: everything waiting is decoded, mixed, encoded and handed out with the end of the file.
pub(crate) fn finish_call(call: &mut Call, cfg: &EngineConfig, outputs: &mut VecDeque<Output>) {
    let _ = cfg;
    if let Some(mixer) = call.recording.mixer.as_mut() {
        for slot in &mut call.media {
            for s in &mut slot.sides {
                if let Some(a) = s.audio.as_mut() {
                    a.timeline.finish(&mut mixer.input(a.mixer_id));
                }
            }
        }
    }
    collect_dtmf(call);
    // the end time is known now: WAV writes its tags after the samples
    call.recording
        .set_tags(crate::recording::recording_tags(&call.meta));
    if let Some(chunk) = call.recording.finish() {
        outputs.push_back(Output::Audio {
            call: call.handle,
            chunk,
        });
    }
    if !call.recording.rtp.is_empty() {
        outputs.push_back(Output::Rtp {
            call: call.handle,
            batch: std::mem::take(&mut call.recording.rtp),
        });
    }
}
