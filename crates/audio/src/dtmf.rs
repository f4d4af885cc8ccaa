//! RFC 4733 telephone-event payloads turned into DTMF events with capture times.

/// One completed telephone event (a key press).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DtmfEvent {
    /// Event code (0–9 digits, 10 `*`, 11 `#`, 12–15 A–D, others per RFC 4733 §7).
    pub event: u8,
    /// Capture time (µs, caller's clock) at which the event started (its RTP timestamp mapped to capture time).
    pub start_us: i64,
    /// Duration in µs (from the last duration field seen for the event).
    pub duration_us: u32,
    /// Volume in -dBm0 (0–63).
    pub volume: u8,
}

impl DtmfEvent {
    /// The DTMF character of the event (`0-9 * # A-D`), `None` for non-DTMF events (tones, flash).
    pub fn digit(&self) -> Option<char> {
        match self.event {
            0..=9 => Some(char::from(b'0' + self.event)),
            10 => Some('*'),
            11 => Some('#'),
            12..=15 => Some(char::from(b'A' + self.event - 12)),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Current {
    ext_ts: i64,
    start_us: i64,
    event: u8,
    volume: u8,
    duration: u16,
    reported: bool,
}

/// Follows the telephone-event packets of one stream and reports each event once, even though the end packet is
/// retransmitted (RFC 4733 §2.5.1.4) and interim packets repeat the start timestamp.
#[derive(Debug, Clone, Default)]
pub struct DtmfTracker {
    current: Option<Current>,
    clock_rate: u32,
}

impl DtmfTracker {
    /// A tracker for telephone-events on an RTP clock of `clock_rate` Hz (8000 usually).
    pub fn new(clock_rate: u32) -> Self {
        Self {
            current: None,
            clock_rate: clock_rate.max(1),
        }
    }

    fn event_of(&self, c: &Current) -> DtmfEvent {
        DtmfEvent {
            event: c.event,
            start_us: c.start_us,
            duration_us: (u64::from(c.duration) * 1_000_000 / u64::from(self.clock_rate)) as u32,
            volume: c.volume,
        }
    }

    /// Feeds one telephone-event payload whose (extended) RTP timestamp is `ext_ts` and whose timestamp maps to
    /// capture time `start_us`. Returns the event when this packet completes one (end bit, first time seen) or
    /// starts a new one while the previous never saw its end (then the previous is returned).
    /// Payloads shorter than 4 bytes are ignored (returns `None`).
    pub fn push(&mut self, ext_ts: i64, start_us: i64, payload: &[u8]) -> Option<DtmfEvent> {
        let &[event, flags, d0, d1, ..] = payload else {
            return None;
        };
        let end = flags & 0x80 != 0;
        let volume = flags & 0x3f;
        let duration = u16::from_be_bytes([d0, d1]);
        let mut out = None;
        match &mut self.current {
            Some(c) if c.ext_ts == ext_ts && c.event == event => {
                if c.reported {
                    return None;
                }
                c.duration = c.duration.max(duration);
                c.volume = volume;
                if end {
                    c.reported = true;
                    let c = *c;
                    return Some(self.event_of(&c));
                }
                return None;
            }
            Some(c) if !c.reported => {
                let c = *c;
                out = Some(self.event_of(&c));
            }
            _ => {}
        }
        let c = Current {
            ext_ts,
            start_us,
            event,
            volume,
            duration,
            reported: end,
        };
        self.current = Some(c);
        if end {
            // An event seen only through its end packet: report it now (the earlier unfinished one, if any, is
            // reported first and this one on the next call would be lost — report the newer instead when both).
            if out.is_none() {
                return Some(self.event_of(&c));
            }
            self.current = Some(Current {
                reported: false,
                ..c
            });
        }
        out
    }

    /// Reports the event in progress, if its end was never seen (call end, stream timeout).
    pub fn flush(&mut self) -> Option<DtmfEvent> {
        match &mut self.current {
            Some(c) if !c.reported => {
                c.reported = true;
                let c = *c;
                Some(self.event_of(&c))
            }
            _ => None,
        }
    }
}
