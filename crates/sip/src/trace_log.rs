//! Reader for Lync / Skype for Business Front End protocol trace logs (OCSLogger / CLS text).
//!
//! A record looks like
//! ```text
//! TL_INFO(TF_PROTOCOL) [3]7F70.886C::02/15/2017-11:02:54.101.000281a0 (SIPStack,...)[3480436050] $$begin_record
//! Trace-Correlation-Id: 3480436050
//! Direction: incoming;source="internal edge";destination="local"
//! Peer: edge01.contoso.example:5061
//! Message-Type: request
//! Start-Line: INVITE sip:... SIP/2.0
//! From: ...            (SIP headers, any case)
//! Message-Body: v=0    (body text up to the end marker; "–" means no body)
//! $$end_record
//! ```
//! [`Reader`] yields one [`Record`] per `$$begin_record`/`$$end_record` pair. The SIP message is
//! rebuilt with CRLF line endings and its Content-Length set to the real body length, so
//! [`crate::Message::parse`] accepts it. The timestamp is taken as UTC to the millisecond.

use crate::headers::names_match;
use std::ops::Range;

const BEGIN: &[u8] = b"$$begin_record";
const END: &[u8] = b"$$end_record";

/// Why a trace-log record could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TraceError {
    /// `$$begin_record` without a matching `$$end_record`.
    #[error("record at offset {offset}: no $$end_record")]
    Unterminated {
        /// Offset of the record's first line.
        offset: usize,
    },
    /// The record header line has no parsable `MM/DD/YYYY-HH:MM:SS.mmm` timestamp.
    #[error(
        "record at offset {offset}: no timestamp MM/DD/YYYY-HH:MM:SS.mmm in the record header"
    )]
    BadTime {
        /// Offset of the record's first line.
        offset: usize,
    },
    /// No `Start-Line:` field.
    #[error("record at offset {offset}: no Start-Line field")]
    NoStartLine {
        /// Offset of the record's first line.
        offset: usize,
    },
    /// The record text is not UTF-8.
    #[error("record at offset {offset}: not UTF-8")]
    NotUtf8 {
        /// Offset of the record's first line.
        offset: usize,
    },
}

/// Direction of a traced message as seen by the Front End.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Received by the Front End.
    Incoming,
    /// Sent by the Front End.
    Outgoing,
    /// Missing or unknown.
    Unknown,
}

/// A record timestamp (as written; taken as UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceTime {
    /// Year (e.g. 2017).
    pub year: i32,
    /// Month 1..=12.
    pub month: u32,
    /// Day 1..=31.
    pub day: u32,
    /// Hour 0..=23.
    pub hour: u32,
    /// Minute 0..=59.
    pub minute: u32,
    /// Second 0..=60.
    pub second: u32,
    /// Millisecond 0..=999.
    pub millis: u32,
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
fn days_from_civil(y: i32, m: u32, d: u32) -> i64 {
    let y = i64::from(y) - i64::from(m <= 2);
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl TraceTime {
    /// Microseconds since the Unix epoch, taking the time as UTC.
    pub fn unix_micros(&self) -> i64 {
        let days = days_from_civil(self.year, self.month, self.day);
        let secs = days * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second);
        secs * 1_000_000 + i64::from(self.millis) * 1000
    }

    /// Parses `MM/DD/YYYY-HH:MM:SS.mmm` at the start of `s`.
    pub fn parse(s: &str) -> Option<TraceTime> {
        let b = s.as_bytes();
        if b.len() < 23 || !b[..23].is_ascii() {
            return None;
        }
        let num = |r: Range<usize>| -> Option<u32> {
            let t = &s[r];
            if t.bytes().all(|c| c.is_ascii_digit()) {
                t.parse().ok()
            } else {
                None
            }
        };
        if b[2] != b'/' || b[5] != b'/' || b[10] != b'-' || b[13] != b':' || b[16] != b':' {
            return None;
        }
        if b[19] != b'.' {
            return None;
        }
        let t = TraceTime {
            month: num(0..2)?,
            day: num(3..5)?,
            year: num(6..10)? as i32,
            hour: num(11..13)?,
            minute: num(14..16)?,
            second: num(17..19)?,
            millis: num(20..23)?,
        };
        let ok = (1..=12).contains(&t.month)
            && (1..=31).contains(&t.day)
            && t.hour < 24
            && t.minute < 60
            && t.second <= 60;
        ok.then_some(t)
    }
}

/// One traced SIP message. `Debug` omits the message bytes (SDP may carry SRTP keys).
#[derive(Clone, PartialEq, Eq)]
pub struct Record<'a> {
    /// Timestamp of the record header.
    pub time: TraceTime,
    /// Direction field (first word).
    pub direction: Direction,
    /// Full `Direction:` field text.
    pub direction_text: Option<&'a str>,
    /// `Peer:` field (`host:port`).
    pub peer: Option<&'a str>,
    /// `Trace-Correlation-Id:` field.
    pub correlation_id: Option<&'a str>,
    /// The rebuilt SIP message (CRLF line endings, Content-Length = body length).
    pub message: Vec<u8>,
    /// Offsets of the record (first line to the end of `$$end_record` line) in the log text.
    pub record_range: Range<usize>,
}

impl std::fmt::Debug for Record<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Record")
            .field("time", &self.time)
            .field("direction", &self.direction)
            .field("peer", &self.peer)
            .field("correlation_id", &self.correlation_id)
            .field("message_len", &self.message.len())
            .field("record_range", &self.record_range)
            .finish_non_exhaustive()
    }
}

/// Iterator over the records of a trace log.
#[derive(Clone)]
pub struct Reader<'a> {
    text: &'a [u8],
    pos: usize,
}

impl std::fmt::Debug for Reader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("len", &self.text.len())
            .field("pos", &self.pos)
            .finish()
    }
}

impl<'a> Reader<'a> {
    /// Reads records from the whole log text.
    pub fn new(text: &'a [u8]) -> Self {
        Reader { text, pos: 0 }
    }
}

fn line_start(text: &[u8], at: usize) -> usize {
    memchr::memrchr(b'\n', &text[..at]).map_or(0, |i| i + 1)
}

fn push_line(out: &mut Vec<u8>, line: &str) {
    out.extend_from_slice(line.as_bytes());
    out.extend_from_slice(b"\r\n");
}

fn parse_record(text: &[u8], rec: Range<usize>, body_end: usize) -> Result<Record<'_>, TraceError> {
    let offset = rec.start;
    let Ok(s) = std::str::from_utf8(&text[rec.start..body_end]) else {
        return Err(TraceError::NotUtf8 { offset });
    };
    let (first, rest) = s.split_once('\n').unwrap_or((s, ""));
    let time = first
        .find("::")
        .and_then(|i| TraceTime::parse(&first[i + 2..]))
        .ok_or(TraceError::BadTime { offset })?;
    let mut direction_text = None;
    let mut peer = None;
    let mut correlation_id = None;
    let mut message = Vec::with_capacity(rest.len() + 64);
    let mut in_sip = false;
    let mut body: Option<&str> = None;
    let mut rest_iter = rest;
    while !rest_iter.is_empty() {
        let (line, next) = rest_iter.split_once('\n').unwrap_or((rest_iter, ""));
        let line_trim = line.strip_suffix('\r').unwrap_or(line);
        if in_sip {
            if let Some(b) = line_trim.strip_prefix("Message-Body:") {
                // Body: the rest of this line (after one space) and every following line.
                let start = line.len() - b.len();
                let b_full = &rest_iter[start..];
                body = Some(b_full.strip_prefix(' ').unwrap_or(b_full));
                break;
            }
            push_line(&mut message, line_trim);
        } else if let Some((k, v)) = line_trim.split_once(':') {
            let v = v.trim();
            match k.trim() {
                k if k.eq_ignore_ascii_case("Start-Line") => {
                    push_line(&mut message, v);
                    in_sip = true;
                }
                k if k.eq_ignore_ascii_case("Direction") => direction_text = Some(v),
                k if k.eq_ignore_ascii_case("Peer") => peer = Some(v),
                k if k.eq_ignore_ascii_case("Trace-Correlation-Id") => correlation_id = Some(v),
                _ => {}
            }
        }
        rest_iter = next;
    }
    if !in_sip {
        return Err(TraceError::NoStartLine { offset });
    }
    let body = body.unwrap_or("");
    // "–" (or "-") alone stands for "no body".
    let body = if matches!(body.trim(), "\u{2013}" | "-" | "") {
        ""
    } else {
        body
    };
    let mut body_bytes = Vec::with_capacity(body.len() + body.len() / 16);
    let mut prev = 0u8;
    for &c in body.as_bytes() {
        if c == b'\n' && prev != b'\r' {
            body_bytes.push(b'\r');
        }
        body_bytes.push(c);
        prev = c;
    }
    fix_content_length(&mut message, body_bytes.len());
    message.extend_from_slice(b"\r\n");
    message.extend_from_slice(&body_bytes);
    let direction = match direction_text
        .and_then(|d| d.split(';').next())
        .map(str::trim)
    {
        Some(d) if d.eq_ignore_ascii_case("incoming") => Direction::Incoming,
        Some(d) if d.eq_ignore_ascii_case("outgoing") => Direction::Outgoing,
        _ => Direction::Unknown,
    };
    Ok(Record {
        time,
        direction,
        direction_text,
        peer,
        correlation_id,
        message,
        record_range: rec,
    })
}

/// Rewrites the value of every Content-Length header line in `head` (CRLF lines) to `len`.
fn fix_content_length(head: &mut Vec<u8>, len: usize) {
    let mut out = Vec::with_capacity(head.len() + 8);
    for line in head.split_inclusive(|&b| b == b'\n') {
        let colon = line.iter().position(|&b| b == b':');
        let is_cl = colon
            .and_then(|c| std::str::from_utf8(&line[..c]).ok())
            .is_some_and(|n| names_match(n.trim(), "content-length"));
        match colon {
            Some(c) if is_cl => {
                out.extend_from_slice(&line[..=c]);
                out.extend_from_slice(b" ");
                out.extend_from_slice(len.to_string().as_bytes());
                out.extend_from_slice(b"\r\n");
            }
            _ => out.extend_from_slice(line),
        }
    }
    *head = out;
}

impl<'a> Iterator for Reader<'a> {
    type Item = Result<Record<'a>, TraceError>;
    fn next(&mut self) -> Option<Self::Item> {
        let text = self.text;
        let rel = memchr::memmem::find(&text[self.pos..], BEGIN)?;
        let begin = self.pos + rel;
        let rec_start = line_start(text, begin);
        let Some(end_rel) = memchr::memmem::find(&text[begin..], END) else {
            self.pos = text.len();
            return Some(Err(TraceError::Unterminated { offset: rec_start }));
        };
        let end = begin + end_rel;
        // If another record begins before this one ends, this one is unterminated.
        if let Some(nb) = memchr::memmem::find(&text[begin + BEGIN.len()..end], BEGIN) {
            self.pos = line_start(text, begin + BEGIN.len() + nb);
            return Some(Err(TraceError::Unterminated { offset: rec_start }));
        }
        let body_end = line_start(text, end);
        let rec_end = match memchr::memchr(b'\n', &text[end..]) {
            Some(i) => end + i + 1,
            None => text.len(),
        };
        self.pos = rec_end;
        Some(parse_record(text, rec_start..rec_end, body_end))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_days_known_dates() {
        // 2000-03-01 is day 11017 (`date -u -d 2000-03-01 +%s` = 951868800 = 11017 * 86400).
        assert_eq!(days_from_civil(2000, 3, 1), 11017);
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        // `date -u -d 1969-12-31 +%s` = -86400.
        assert_eq!(days_from_civil(1969, 12, 31), -1);
    }
}
