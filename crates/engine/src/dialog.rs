//! Calls from SIP: creation on INVITE, media expectations from every SDP, answer, transfer, end.

use rec_sip::{Message, StartLine};

use crate::call::{absorb_headers, meta_from_invite, party_of, read_sdp, Call, SdpMedia};
use crate::flows::FlowRef;
use crate::report::{CallReport, CallStatus, Side};
use crate::{media, CallHandle, Engine, Output, SipMeta};

impl Engine {
    pub(crate) fn on_sip(&mut self, at_us: i64, _meta: SipMeta, bytes: &[u8]) {
        let msg = match Message::parse_lenient(bytes) {
            Ok(m) => m,
            Err(_) => {
                self.stats.sip_errors += 1;
                return;
            }
        };
        let Some(call_id) = msg.call_id() else {
            self.stats.sip_errors += 1;
            return;
        };
        self.stats.sip_messages += 1;
        let cseq_method = msg.cseq().map(|(_, m)| m.to_ascii_uppercase());
        // `Message::method` names the CSeq method for responses: only requests have a request method
        let request_method = if msg.is_request() { msg.method() } else { None };
        let is_invite = request_method.is_some_and(|m| m.eq_ignore_ascii_case("INVITE"));
        let handle = match self.by_call_id.get(call_id) {
            Some(&h) => h,
            None if is_invite => match self.new_call(at_us, &msg) {
                Some(h) => h,
                None => return,
            },
            None => return,
        };
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        call.last_activity_us = at_us;
        absorb_headers(&mut call.meta, &msg);
        if !call.recorded {
            // only the end matters for calls the policy leaves alone
            if is_end(&msg, request_method, cseq_method.as_deref(), call.answered) {
                self.forget_call(handle);
            } else if msg.status_code().is_some_and(|c| (200..300).contains(&c))
                && cseq_method.as_deref() == Some("INVITE")
            {
                call.answered = true;
            }
            return;
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
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
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
                    return;
                }
                "CANCEL" if call.closing.is_some() => return,
                "CANCEL" => {
                    self.end_call(handle, at_us, "CANCEL from caller", false);
                    return;
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
                    return;
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
    }

    fn new_call(&mut self, at_us: i64, msg: &Message<'_>) -> Option<CallHandle> {
        if self.calls.len() >= self.cfg.max_calls {
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
        Some(handle)
    }

    /// Adds what an SDP from `side` declares to the call and the flow table.
    fn apply_sdp(&mut self, handle: CallHandle, side: Side, sdp: SdpMedia) {
        let Some(call) = self.calls.get_mut(&handle) else {
            return;
        };
        call.sdp_count += 1;
        let batch = call.sdp_count;
        for sec in sdp.sections {
            let flow = FlowRef {
                call: handle,
                media: sec.index as u16,
                side,
            };
            for a in &sec.addrs {
                self.flows.add_addr(*a, flow);
                if !call.addrs.contains(a) {
                    call.addrs.push(*a);
                }
            }
            if let Some((first, last)) = sec.ssrc_range {
                let added = self.flows.add_ssrc_range(first, last, flow);
                for s in added {
                    if !call.ssrcs.contains(&s) {
                        call.ssrcs.push(s);
                    }
                }
            }
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
