//! Finding SIP in captured traffic: plain SIP over UDP (by content, on any port), HEP (v1, v2, v3) over UDP, and SIP over
//! TCP (reassembled, then framed by Content-Length).

use std::collections::HashMap;
use std::net::SocketAddr;

use rec_packet::link::TcpSegment;
use rec_packet::tcp::{StreamKey, TcpConfig, TcpEvent, TcpReassembler};
use rec_sip::StreamFramer;

use crate::config::SipTcpLimits;

/// A SIP message found in the traffic, with the time and addresses it should be attributed to.
#[derive(Debug)]
pub(crate) struct FoundSip {
    pub at_us: i64,
    pub src: Option<SocketAddr>,
    pub dst: Option<SocketAddr>,
    pub bytes: Vec<u8>,
}

/// Whether a datagram or stream start looks like a SIP message: a response line, or a request line ending in
/// `SIP/2.0`. Cheap: looks at the first line only.
pub(crate) fn looks_like_sip(payload: &[u8]) -> bool {
    if payload.starts_with(b"SIP/2.0 ") {
        return true;
    }
    if !payload.first().is_some_and(u8::is_ascii_uppercase) {
        return false;
    }
    let head = &payload[..payload.len().min(1024)];
    let Some(nl) = head.iter().position(|&b| b == b'\n') else {
        return false;
    };
    let line = head[..nl].strip_suffix(b"\r").unwrap_or(&head[..nl]);
    line.ends_with(b" SIP/2.0") && line.contains(&b' ')
}

/// The SIP message of a HEP packet captured at `capture_us`: HEPv3 (protocol type 1, payload plain or
/// compressed), HEPv2 or HEPv1 (Kamailio siptrace's default).
///
/// The message is timed by its capture, not by the HEP timestamp: the agent's clock may differ from the
/// capture clock that times the media, and mixing the two would make calls look idle (or busy) for as long as
/// the clocks disagree.
pub(crate) fn sip_from_hep(payload: &[u8], capture_us: i64) -> Option<FoundSip> {
    let m = rec_packet::hep_input::decode(payload).ok()?;
    Some(FoundSip {
        at_us: capture_us,
        src: m.src,
        dst: m.dst,
        bytes: m.payload.into_owned(),
    })
}

/// Follows TCP connections that carry SIP and frames their messages.
#[derive(Debug)]
pub(crate) struct TcpSip {
    reassembler: TcpReassembler,
    framers: HashMap<StreamKey, StreamFramer>,
    limits: SipTcpLimits,
    /// Bytes of incomplete messages held by all framers (kept up to date on every push).
    framed: usize,
    /// Messages dropped by the framer (bad or lying Content-Length).
    pub frame_errors: u64,
    /// Connections refused or cut at a bound (streams, framer bytes).
    pub dropped: u64,
}

impl TcpSip {
    pub fn new(limits: &SipTcpLimits) -> Self {
        TcpSip {
            reassembler: TcpReassembler::new(TcpConfig {
                max_streams: limits.max_streams,
                max_buffered_per_stream: limits.max_out_of_order_per_stream,
                max_buffered_total: limits.max_out_of_order_total,
                idle_timeout_micros: u64::try_from(limits.idle_timeout_us).unwrap_or(0),
            }),
            framers: HashMap::new(),
            limits: *limits,
            framed: 0,
            frame_errors: 0,
            dropped: 0,
        }
    }

    /// Takes one TCP segment; SIP messages completed by it are appended to `found`.
    pub fn push(&mut self, at_us: i64, seg: &TcpSegment<'_>, found: &mut Vec<FoundSip>) {
        let key = StreamKey {
            src: seg.src,
            dst: seg.dst,
        };
        let known = self.framers.contains_key(&key);
        if !known {
            if seg.payload.is_empty() || !looks_like_sip(seg.payload) {
                return;
            }
            if self.framers.len() >= self.limits.max_streams {
                self.dropped += 1;
                return;
            }
            self.framers
                .insert(key, StreamFramer::new(self.limits.max_message));
        }
        let framers = &mut self.framers;
        let max_message = self.limits.max_message;
        let budget = self.limits.max_framed_total;
        let framed = &mut self.framed;
        let dropped = &mut self.dropped;
        let mut errors = 0;
        let at = u64::try_from(at_us).unwrap_or(0);
        let mut closed = Vec::new();
        self.reassembler.push(at, seg, |ev| match ev {
            TcpEvent::Data { stream, bytes } => {
                if let Some(framer) = framers.get_mut(&stream) {
                    let before = framer.buffered();
                    if *framed - before + bytes.len() > budget {
                        // the framers hold too much: this connection loses its incomplete message and
                        // resynchronises on the next start line
                        *framed -= before;
                        *framer = StreamFramer::new(max_message);
                        *dropped += 1;
                        return;
                    }
                    framer.push(bytes);
                    while let Some(frame) = framer.next_frame() {
                        match frame {
                            Ok(msg) => found.push(FoundSip {
                                at_us,
                                src: Some(stream.src),
                                dst: Some(stream.dst),
                                bytes: msg.to_vec(),
                            }),
                            Err(_) => errors += 1,
                        }
                    }
                    *framed = *framed - before + framer.buffered();
                }
            }
            TcpEvent::Gap { stream, .. } => {
                // the framer resynchronises on the next start line
                if let Some(framer) = framers.get_mut(&stream) {
                    *framed -= framer.buffered();
                    *framer = StreamFramer::new(max_message);
                }
            }
            TcpEvent::Closed { stream, .. } => closed.push(stream),
        });
        for k in closed {
            self.forget(&k);
        }
        self.frame_errors += errors;
    }

    /// Forgets connections idle past the reassembler's timeout.
    pub fn expire(&mut self, now_us: i64) {
        let mut closed = Vec::new();
        self.reassembler
            .expire(u64::try_from(now_us).unwrap_or(0), |ev| {
                if let TcpEvent::Closed { stream, .. } = ev {
                    closed.push(stream);
                }
            });
        for k in closed {
            self.forget(&k);
        }
    }

    fn forget(&mut self, key: &StreamKey) {
        if let Some(f) = self.framers.remove(key) {
            self.framed -= f.buffered();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sip_detection_by_first_line() {
        assert!(looks_like_sip(
            b"INVITE sip:bob@example.com SIP/2.0\r\nVia: x\r\n"
        ));
        assert!(looks_like_sip(b"SIP/2.0 200 OK\r\n"));
        assert!(looks_like_sip(b"BYE sip:x SIP/2.0\n"));
        assert!(!looks_like_sip(b"GET / HTTP/1.1\r\n"));
        assert!(!looks_like_sip(b"\x80\x08\x00\x01"));
        assert!(!looks_like_sip(b"INVITE sip:bob@example.com SIP/2.0"));
        assert!(!looks_like_sip(b""));
    }
}
