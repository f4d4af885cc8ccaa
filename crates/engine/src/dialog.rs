//! Calls from SIP: creation on INVITE, media expectations from every SDP, answer, transfer, end.

use rec_sip::{Message, StartLine};

use crate::call::{absorb_headers, meta_from_invite, party_of, read_sdp, Call, SdpMedia};
use crate::flows::{may_take, Claim, FlowRef};
use crate::report::{CallReport, CallStatus, Side};
use crate::{evict, media, CallHandle, Engine, Output, SipMeta};

impl Engine {
    pub(crate) fn on_sip(&mut self, at_us: i64, meta: SipMeta, bytes: &[u8]) {
        if let Some(handle) = self.handle_sip(at_us, meta, bytes) {
            self.reindex(handle);
        }
    }

    /// Puts a call at its current place in the eviction order.
    pub(crate) fn reindex(&mut self, handle: CallHandle) {
        if let Some(call) = self.calls.get_mut(&handle) {
            let key = (evict::class_of(call), call.trust, handle);
            call.evict_key = Some(self.evict.place(call.evict_key, key));
        }
    }

    /// Handles one message; returns the call it concerned (if it still exists).
    fn handle_sip(&mut self, at_us: i64, meta: SipMeta, bytes: &[u8]) -> Option<CallHandle> {
        let Some(rank) = self.trust.rank(meta.origin) else {
            self.stats.sip_origin_refused += 1;
            return None;
        };
        let msg = match Message::parse_lenient(bytes) {
            Ok(m) => m,
            Err(_) => {
                self.stats.sip_errors += 1;
                return None;
            }
        };
        let Some(call_id) = msg.call_id() else {
            self.stats.sip_errors += 1;
            return None;
        };
        self.stats.sip_messages += 1;
        let cseq_method = msg.cseq().map(|(_, m)| m.to_ascii_uppercase());
        // `Message::method` names the CSeq method for responses: only requests have a request method
        let request_method = if msg.is_request() { msg.method() } else { None };
        let is_invite = request_method.is_some_and(|m| m.eq_ignore_ascii_case("INVITE"));
        let handle = match self.by_call_id.get(call_id) {
            Some(&h) => h,
            None if is_invite => self.new_call(at_us, &msg, rank)?,
            None => return None,
        };
        if !self.trusted_for(handle, rank, &msg, is_invite) {
            return Some(handle);
        }
        let call = self.calls.get_mut(&handle)?;
        call.last_activity_us = at_us;
        absorb_headers(&mut call.meta, &msg);
        if !call.recorded {
            // only the end matters for calls the policy leaves alone
            if is_end(&msg, request_method, cseq_method.as_deref(), call.answered) {
                self.forget_call(handle);
                return None;
            } else if msg.status_code().is_some_and(|c| (200..300).contains(&c))
                && cseq_method.as_deref() == Some("INVITE")
            {
                call.answered = true;
            }
            return Some(handle);
        }
        let sender = call.sender_of(&msg);
        let has_sdp = msg.bodies().iter().any(|p| p.is_sdp());
        if has_sdp {
            let mut sdp = SdpMedia::default();
            for part in msg.bodies().iter().filter(|p| p.is_sdp()) {
                read_sdp(part.body, &mut sdp);
            }
            self.apply_sdp(handle, sender, sdp);
        }
        let call = self.calls.get_mut(&handle)?;
        let mut updated = false;
        if let Some(method) = request_method {
            let method = method.to_ascii_uppercase();
            match method.as_str() {
                "BYE" => {
                    // media sent before the BYE is often captured after it (network delay, reordering,
                    // the SPAN port's other paths): the call ends BYE_LINGER_US later (Engine::sweep),
                    // with the BYE's time and reason
                    if call.closing.is_none() {
                        call.closing = Some((at_us, format!("BYE from {}", sender.as_str())));
                    }
                    return Some(handle);
                }
                "CANCEL" if call.closing.is_some() => return Some(handle),
                "CANCEL" => {
                    self.end_call(handle, at_us, "CANCEL from caller", false);
                    return None;
                }
                "REFER" => {
                    if let Some(h) = msg.header("refer-to") {
                        call.meta
                            .transfers
                            .push(format!("REFER to {}", h.value().trim()));
                    }
                    if let Some(h) = msg.header("referred-by") {
                        call.meta
                            .transfers
                            .push(format!("referred by {}", h.value().trim()));
                    }
                    updated = true;
                }
                "INVITE" => {
                    // re-INVITE: a trunk without REFER changes the party with a new P-Asserted-Identity / From
                    if let Some(pai) = msg.p_asserted_identities().next() {
                        let uri = pai.uri.as_str().to_owned();
                        if !call.meta.asserted_identity.contains(&uri) {
                            let p = party_of(&pai, self.country_code.as_deref());
                            call.meta.transfers.push(format!(
                                "re-INVITE from {} names {}",
                                sender.as_str(),
                                uri
                            ));
                            call.meta.asserted_identity.push(uri);
                            match sender {
                                Side::Caller => call.meta.from = p,
                                Side::Callee => call.meta.to = p,
                            }
                            updated = true;
                        }
                    }
                    if let Some(h) = msg.header("referred-by") {
                        call.meta
                            .transfers
                            .push(format!("referred by {}", h.value().trim()));
                        updated = true;
                    }
                }
                _ => {}
            }
        } else if let Some(code) = msg.status_code() {
            if cseq_method.as_deref() == Some("INVITE") {
                call.responded = true;
                if (200..300).contains(&code) {
                    if !call.answered {
                        call.answered = true;
                        call.meta.answered_at_us = Some(at_us);
                        updated = true;
                    }
                    if call.caller_tag.is_some() {
                        // the callee's identity from the answer (forks: first answer wins)
                        if let Some(to) = msg.to() {
                            let p = party_of(&to, self.country_code.as_deref());
                            if call.meta.to.display.is_none() && p.display.is_some() {
                                call.meta.to.display = p.display;
                                updated = true;
                            }
                        }
                    }
                } else if code >= 300 && !call.answered {
                    call.final_failure = Some(code);
                    let reason = match msg.start_line() {
                        StartLine::Response { reason, .. } if !reason.trim().is_empty() => {
                            format!("{code} {}", reason.trim())
                        }
                        _ => code.to_string(),
                    };
                    self.end_call(handle, at_us, &reason, false);
                    return None;
                }
            }
        }
        if updated {
            call.recording
                .set_tags(crate::recording::recording_tags(&call.meta));
            let meta = Box::new(call.meta.clone());
            self.outputs
                .push_back(Output::CallUpdated { call: handle, meta });
        }
        Some(handle)
    }

    /// Whether a message from a source of `rank` may change call `handle` (see `trust.rs`): less trusted
    /// sources and other dialogs are refused (and counted). A more trusted source's initial INVITE takes the
    /// call over from the less trusted source that created it, dropping the media that source declared.
    fn trusted_for(
        &mut self,
        handle: CallHandle,
        rank: u8,
        msg: &Message<'_>,
        is_invite: bool,
    ) -> bool {
        let Some(call) = self.calls.get_mut(&handle) else {
            return false;
        };
        if rank < call.trust {
            self.stats.sip_untrusted += 1;
            return false;
        }
        let from_tag = msg.from().and_then(|f| f.tag().map(str::to_owned));
        let to_tag = msg.to().and_then(|t| t.tag().map(str::to_owned));
        if rank > call.trust {
            call.trust = rank;
            if is_invite && to_tag.is_none() {
                // the trusted copy of the initial INVITE: what a less trusted source declared goes
                call.caller_tag = from_tag.clone();
                self.flows.remove_call(handle, &call.addrs, &call.ssrcs);
                call.addrs.clear();
                call.ssrcs.clear();
                for slot in &mut call.media {
                    for side in &mut slot.sides {
                        side.keys = Default::default();
                        side.pts.clear();
                        side.ssrc_range = None;
                        side.plain = false;
                    }
                }
                call.notes.push(
                    "signaling from a less trusted source was replaced by the same call's INVITE from a more trusted one"
                        .into(),
                );
            }
        }
        if let Some(ct) = call.caller_tag.as_deref() {
            if from_tag.as_deref() != Some(ct) && to_tag.as_deref() != Some(ct) {
                self.stats.sip_foreign_dialog += 1;
                return false;
            }
        }
        true
    }

    fn new_call(&mut self, at_us: i64, msg: &Message<'_>, rank: u8) -> Option<CallHandle> {
        if self.calls.len() >= self.cfg.max_calls && !self.make_room(at_us, rank) {
            self.stats.calls_refused += 1;
            return None;
        }
        let meta = meta_from_invite(msg, at_us, self.country_code.as_deref());
        let mut uris: Vec<String> = vec![meta.from.uri.clone(), meta.to.uri.clone()];
        uris.extend(meta.asserted_identity.iter().cloned());
        if let Some(r) = msg.request_uri() {
            uris.push(r.to_owned());
        }
        let decision = self.policy.decide(uris.iter().map(String::as_str));
        let handle = self.next_handle;
        self.next_handle += 1;
        let mut call = Call::new(handle, meta, decision.record, self.cfg.format);
        call.meta.policy_reason = decision.reason;
        call.caller_tag = msg.from().and_then(|f| f.tag().map(str::to_owned));
        call.trust = rank;
        if call.recorded {
            self.stats.calls_started += 1;
            self.outputs.push_back(Output::CallStarted {
                call: handle,
                meta: Box::new(call.meta.clone()),
            });
        } else {
            self.stats.calls_not_recorded += 1;
        }
        self.by_call_id.insert(call.meta.call_id.clone(), handle);
        self.calls.insert(handle, call);
        self.reindex(handle);
        Some(handle)
    }

    /// The call table is full: pushes out the call that got least far, if a new call from a source of
    /// `rank` may push it out (see `evict.rs`).
    fn make_room(&mut self, at_us: i64, rank: u8) -> bool {
        let Some((class, _, victim)) = self.evict.victim(rank) else {
            return false;
        };
        match class {
            0 => self.stats.evicted_unanswered += 1,
            1 => self.stats.evicted_provisional += 1,
            _ => self.stats.evicted_half_established += 1,
        }
        let recorded = self.calls.get(&victim).is_some_and(|c| c.recorded);
        if recorded {
            self.end_call(
                victim,
                at_us,
                "pushed out of the full call table by a new call (max_calls)",
                true,
            );
        } else {
            self.forget_call(victim);
        }
        true
    }

    /// Adds what an SDP from `side` declares to the call and the flow table. Addresses and SSRCs another call
    /// owns are taken only where [`may_take`] allows it; each call holds at most
    /// `max_flow_entries_per_call` of them.
    fn apply_sdp(&mut self, handle: CallHandle, side: Side, sdp: SdpMedia) {
        let top = self.trust.highest();
        let cap = self.cfg.max_flow_entries_per_call;
        let Some(rank) = self.calls.get(&handle).map(|c| c.trust) else {
            return;
        };
        for sec in &sdp.sections {
            let flow = FlowRef {
                call: handle,
                media: sec.index as u16,
                side,
                rank,
            };
            let calls = &self.calls;
            let allowed = |owner: &FlowRef| {
                let has_media = calls
                    .get(&owner.call)
                    .is_some_and(|c| c.first_media_us.is_some());
                may_take(owner, &flow, has_media, top)
            };
            let held = calls
                .get(&handle)
                .map_or(0, |c| c.addrs.len() + c.ssrcs.len());
            let mut new_addrs = Vec::new();
            let mut refused = 0u64;
            let mut over = 0u64;
            for a in &sec.addrs {
                let own = calls.get(&handle).is_some_and(|c| c.addrs.contains(a));
                if !own && held + new_addrs.len() >= cap {
                    over += 1;
                    continue;
                }
                match self.flows.add_addr(*a, flow, allowed) {
                    Claim::Taken if !own => new_addrs.push(*a),
                    Claim::Taken => {}
                    Claim::Refused => refused += 1,
                }
            }
            let mut new_ssrcs = Vec::new();
            if let Some((first, last)) = sec.ssrc_range {
                let room = cap.saturating_sub(held + new_addrs.len());
                if (last.saturating_sub(first) as usize) < room {
                    let (added, r) = self.flows.add_ssrc_range(first, last, flow, allowed);
                    refused += r;
                    new_ssrcs = added;
                } else {
                    over += 1;
                }
            }
            self.stats.flow_takeovers_refused += refused;
            self.stats.flow_entries_over_cap += over;
            let Some(call) = self.calls.get_mut(&handle) else {
                return;
            };
            call.addrs.extend(new_addrs);
            for s in new_ssrcs {
                if !call.ssrcs.contains(&s) {
                    call.ssrcs.push(s);
                }
            }
            if refused > 0 && call.notes.len() < 32 {
                call.notes.push(format!(
                    "{refused} media address(es) or SSRC(s) in an SDP from the {} belong to another call and were not taken over",
                    side.as_str()
                ));
            }
        }
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        call.sdp_count += 1;
        let batch = call.sdp_count;
        for sec in sdp.sections {
            if sec.bad_keys > 0 {
                call.notes.push(format!(
                    "{} crypto line(s) from the {} could not be used (unsupported suite or malformed key parameters)",
                    sec.bad_keys,
                    side.as_str()
                ));
            }
            let slot = call.slot(sec.index);
            let sm = &mut slot.sides[side.index()];
            for p in sec.pts {
                match sm.pts.iter_mut().find(|x| x.pt == p.pt) {
                    Some(x) => *x = p,
                    None => sm.pts.push(p),
                }
            }
            if sec.ssrc_range.is_some() {
                sm.ssrc_range = sec.ssrc_range;
            }
            if !sec.has_crypto && sm.keys.is_empty() {
                sm.plain = true;
            }
            for (fp, params) in sec.keys {
                sm.plain = false;
                sm.keys.add(fp, batch, params);
            }
        }
    }

    /// Ends a call: flushes its audio, emits its report, forgets its flows.
    pub(crate) fn end_call(
        &mut self,
        handle: CallHandle,
        at_us: i64,
        reason: &str,
        abnormal: bool,
    ) {
        let Some(mut call) = self.calls.remove(&handle) else {
            return;
        };
        self.evict.remove(call.evict_key);
        if self.by_call_id.get(&call.meta.call_id) == Some(&handle) {
            self.by_call_id.remove(&call.meta.call_id);
        }
        self.flows.remove_call(handle, &call.addrs, &call.ssrcs);
        if !call.recorded {
            return;
        }
        self.stats.calls_ended += 1;
        call.meta.ended_at_us = Some(at_us);
        call.meta.end_reason = Some(reason.to_owned());
        media::finish_call(&mut call, &self.cfg, &mut self.outputs);
        let report = build_report(&mut call, abnormal);
        self.outputs.push_back(Output::CallEnded {
            call: handle,
            report: Box::new(report),
        });
    }

    fn forget_call(&mut self, handle: CallHandle) {
        if let Some(call) = self.calls.remove(&handle) {
            self.evict.remove(call.evict_key);
            if self.by_call_id.get(&call.meta.call_id) == Some(&handle) {
                self.by_call_id.remove(&call.meta.call_id);
            }
            self.flows.remove_call(handle, &call.addrs, &call.ssrcs);
        }
    }
}

fn is_end(
    msg: &Message<'_>,
    request_method: Option<&str>,
    cseq_method: Option<&str>,
    answered: bool,
) -> bool {
    match request_method {
        Some(m) => m.eq_ignore_ascii_case("BYE") || m.eq_ignore_ascii_case("CANCEL"),
        None => {
            !answered
                && cseq_method == Some("INVITE")
                && msg.status_code().is_some_and(|c| c >= 300)
        }
    }
}

/// The status and notes of an ended call.
fn build_report(call: &mut Call, abnormal: bool) -> CallReport {
    let streams: Vec<_> = call.streams.iter_mut().map(|s| s.finish()).collect();
    let mut notes = std::mem::take(&mut call.notes);
    let decoded_sides: Vec<Side> = streams
        .iter()
        .filter(|s| s.decodable && s.packets > 0)
        .filter_map(|s| s.direction)
        .collect();
    let packets: u64 = streams.iter().map(|s| s.packets).sum();
    let failures: u64 = streams.iter().map(|s| s.decrypt_failures).sum();
    let any_undecodable = streams.iter().any(|s| !s.decodable && s.packets > 0);
    let (sample_rate, channels) = call.recording.format_info().unwrap_or((0, 0));
    let audio_ms = call.recording.mixer.as_ref().map_or(0, |m| {
        (m.emitted_frames().max(0) as u64) * 1000 / u64::from(sample_rate.max(1))
    });
    if let Some(f) = call.recording.failure() {
        notes.push(f.to_owned());
    }
    let status = if packets == 0 && failures == 0 {
        let cancelled = call
            .meta
            .end_reason
            .as_deref()
            .is_some_and(|r| r.starts_with("CANCEL"));
        if call.final_failure.is_some() || cancelled {
            CallStatus::Failed
        } else {
            notes.push("no media packet of the call was seen".into());
            CallStatus::NoMedia
        }
    } else if packets == 0 {
        notes.push(format!(
            "{failures} media packets did not authenticate with any key from signaling"
        ));
        CallStatus::DecryptFailure
    } else if decoded_sides.is_empty() {
        notes.push("no stream had a decodable codec; decrypted RTP kept".into());
        CallStatus::Undecodable
    } else {
        // a stream recorded on its own has no signaling to end it: the end of its packets is its end
        let abnormal = abnormal && !call.standalone;
        let mut partial = abnormal;
        if abnormal {
            notes.push(format!(
                "ended by {}",
                call.meta.end_reason.as_deref().unwrap_or("timeout")
            ));
        }
        if failures > 0 {
            partial = true;
            notes.push(format!("{failures} packets failed to decrypt"));
        }
        if !call.standalone {
            for side in [Side::Caller, Side::Callee] {
                if !decoded_sides.contains(&side) {
                    partial = true;
                    notes.push(format!("no audio from the {}", side.as_str()));
                }
            }
        }
        if any_undecodable {
            notes.push("a stream had an undecodable codec; decrypted RTP kept".into());
        }
        if partial {
            CallStatus::Partial
        } else {
            CallStatus::Complete
        }
    };
    CallReport {
        meta: call.meta.clone(),
        status,
        notes,
        streams,
        dtmf: std::mem::take(&mut call.dtmf),
        audio_ms,
        sample_rate,
        channels,
    }
}
