//! Splitting a TCP/TLS byte stream into SIP messages.

use crate::{parse_head, parse_start_line, ParseError};

/// Why a message on a stream was dropped. The stream itself continues.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The message has no Content-Length, which stream transports require (RFC 3261 18.3).
    #[error("message at stream offset {offset}: no Content-Length on a stream transport")]
    MissingContentLength {
        /// Stream offset of the message's first byte.
        offset: u64,
    },
    /// The bytes after the declared body do not start a SIP message: Content-Length lies.
    #[error("message at stream offset {offset}: Content-Length {declared} does not end the message (next bytes are not a start line)")]
    LyingContentLength {
        /// Stream offset of the message's first byte.
        offset: u64,
        /// The declared Content-Length.
        declared: usize,
    },
    /// The message is larger than the configured maximum.
    #[error("message at stream offset {offset}: larger than the {limit}-byte limit")]
    Oversize {
        /// Stream offset of the message's first byte.
        offset: u64,
        /// The configured maximum message size.
        limit: usize,
    },
    /// The message head does not parse.
    #[error("message at stream offset {offset}: {error}")]
    Malformed {
        /// Stream offset of the message's first byte.
        offset: u64,
        /// What was wrong.
        error: ParseError,
    },
}

/// Frames SIP messages on a stream by Content-Length (sans-IO: [`StreamFramer::push`] bytes in,
/// [`StreamFramer::next_frame`] messages out).
///
/// Keep-alive CR/LF between messages is skipped and counted. A message whose body does not end
/// with a line break is held until the bytes after it arrive (to check its Content-Length). A broken message (no
/// Content-Length, bad head, oversize, or a Content-Length after which no start line follows) gives
/// one error; the framer then drops bytes up to the next line that parses as a SIP start line and
/// continues. The buffer holds at most about `max_message` bytes plus one read.
/// `Debug` shows counters only (buffered bytes may carry SRTP keys).
pub struct StreamFramer {
    buf: Vec<u8>,
    /// Bytes at the front of `buf` already handed out, dropped on the next call.
    consumed: usize,
    /// Stream offset of `buf[0]`.
    offset: u64,
    max_message: usize,
    /// Dropping lines until a start line is found.
    resync: bool,
    /// Body bytes of an oversize message still to drop (not buffered).
    skip: usize,
    keep_alives: u64,
    /// Bytes (from `consumed`) already searched for the end of the head without success.
    scanned: usize,
    /// Parsed head of the message at `consumed` waiting for its body: (body_start, content length).
    pending: Option<(usize, usize)>,
}

impl std::fmt::Debug for StreamFramer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamFramer")
            .field("buffered", &self.buffered())
            .field("offset", &self.offset)
            .field("max_message", &self.max_message)
            .field("resync", &self.resync)
            .field("keep_alives", &self.keep_alives)
            .finish_non_exhaustive()
    }
}

impl Default for StreamFramer {
    fn default() -> Self {
        Self::new(64 * 1024)
    }
}

/// A line "looks like" a SIP start line when it parses as one.
fn is_start_line(line: &[u8]) -> bool {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    match std::str::from_utf8(line) {
        Ok(s) => parse_start_line(s).is_ok(),
        Err(_) => false,
    }
}

/// What the bytes right after a body say about the declared Content-Length.
#[derive(Debug, PartialEq, Eq)]
enum Next {
    /// A keep-alive or a complete start line follows.
    Plausible,
    /// The next line cannot start a message.
    Implausible,
    /// Not enough bytes to tell.
    Unknown,
}

fn next_kind(b: &[u8], limit: usize) -> Next {
    let Some(&first) = b.first() else {
        return Next::Unknown;
    };
    if first == b'\r' || first == b'\n' {
        return Next::Plausible;
    }
    if let Some(nl) = memchr::memchr(b'\n', b) {
        return if is_start_line(&b[..nl]) {
            Next::Plausible
        } else {
            Next::Implausible
        };
    }
    // Partial line: the first token must be a method or "SIP/x.y".
    let tok_end = memchr::memchr(b' ', b).unwrap_or(b.len());
    let tok_ok = b[..tok_end]
        .iter()
        .all(|&c| crate::is_token_byte(c) || c == b'/');
    if !tok_ok || b.len() > limit {
        Next::Implausible
    } else {
        Next::Unknown
    }
}

impl StreamFramer {
    /// A framer dropping messages larger than `max_message` bytes (head + body).
    pub fn new(max_message: usize) -> Self {
        StreamFramer {
            buf: Vec::new(),
            consumed: 0,
            offset: 0,
            max_message: max_message.max(64),
            resync: false,
            skip: 0,
            keep_alives: 0,
            scanned: 0,
            pending: None,
        }
    }

    /// Number of keep-alive CRLF / CRLFCRLF runs skipped so far.
    pub fn keep_alives(&self) -> u64 {
        self.keep_alives
    }

    /// Bytes buffered and not yet handed out.
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.consumed
    }

    fn compact(&mut self) {
        if self.consumed > 0 {
            self.buf.drain(..self.consumed);
            self.offset += self.consumed as u64;
            self.consumed = 0;
        }
    }

    /// Appends bytes read from the stream.
    pub fn push(&mut self, data: &[u8]) {
        self.compact();
        let mut data = data;
        if self.skip > 0 {
            let n = self.skip.min(data.len());
            self.skip -= n;
            self.offset += n as u64;
            data = &data[n..];
        }
        self.buf.extend_from_slice(data);
    }

    /// Drops the line at the front (the start line of a broken message) and starts resyncing.
    fn drop_line_and_resync(&mut self) {
        let rest = &self.buf[self.consumed..];
        let n = memchr::memchr(b'\n', rest).map_or(rest.len(), |i| i + 1);
        self.drop_front(n);
        self.resync = true;
    }

    fn drop_front(&mut self, n: usize) {
        self.consumed += n;
        self.scanned = 0;
        self.pending = None;
    }

    /// Drops whole lines until one parses as a start line; `false` if more data is needed.
    fn do_resync(&mut self) -> bool {
        loop {
            let rest = &self.buf[self.consumed..];
            let Some(nl) = memchr::memchr(b'\n', rest) else {
                if rest.len() > self.max_message {
                    let n = rest.len();
                    self.drop_front(n);
                }
                return false;
            };
            if is_start_line(&rest[..nl]) {
                self.resync = false;
                return true;
            }
            self.drop_front(nl + 1);
        }
    }

    /// The next complete message (borrowed from the framer's buffer until the next call), an
    /// error for a dropped message, or `None` when more data is needed.
    pub fn next_frame(&mut self) -> Option<Result<&[u8], FrameError>> {
        if self.skip > 0 {
            return None;
        }
        if self.resync && !self.do_resync() {
            return None;
        }
        // Keep-alives.
        let rest = &self.buf[self.consumed..];
        let ws = rest
            .iter()
            .take_while(|&&b| b == b'\r' || b == b'\n')
            .count();
        if ws > 0 {
            self.keep_alives += 1;
            self.drop_front(ws);
        }
        let start = self.consumed;
        let msg_offset = self.offset + start as u64;
        let rest = &self.buf[start..];
        if rest.is_empty() {
            return None;
        }
        if let Some((body_start, cl)) = self.pending {
            return self.finish(start, msg_offset, body_start, cl);
        }
        // Only parse once an empty line has arrived (avoids rescanning on every small read).
        let from = self.scanned.saturating_sub(3);
        let blank = memchr::memmem::find(&rest[from..], b"\n\r\n").is_some()
            || memchr::memmem::find(&rest[from..], b"\n\n").is_some();
        let parsed = if blank {
            parse_head(rest, 0, true)
        } else {
            Err(ParseError::Incomplete)
        };
        let head = match parsed {
            Ok(h) => h,
            Err(ParseError::Incomplete) | Err(ParseError::Empty) => {
                if rest.len() > self.max_message {
                    self.drop_line_and_resync();
                    return Some(Err(FrameError::Oversize {
                        offset: msg_offset,
                        limit: self.max_message,
                    }));
                }
                // A start line can be judged as soon as it is complete.
                if let Some(nl) = memchr::memchr(b'\n', rest) {
                    if let Err(error) = std::str::from_utf8(&rest[..nl])
                        .map_err(|_| ParseError::NotUtf8 { line: 1 })
                        .and_then(|l| parse_start_line(l.trim_end_matches('\r')))
                    {
                        self.drop_front(nl + 1);
                        self.resync = true;
                        return Some(Err(FrameError::Malformed {
                            offset: msg_offset,
                            error,
                        }));
                    }
                }
                self.scanned = rest.len();
                return None;
            }
            Err(error) => {
                self.drop_line_and_resync();
                return Some(Err(FrameError::Malformed {
                    offset: msg_offset,
                    error,
                }));
            }
        };
        let Some(cl) = head.content_length else {
            self.drop_front(head.body_start);
            self.resync = true;
            return Some(Err(FrameError::MissingContentLength { offset: msg_offset }));
        };
        self.finish(start, msg_offset, head.body_start, cl)
    }

    fn finish(
        &mut self,
        start: usize,
        msg_offset: u64,
        body_start: usize,
        cl: usize,
    ) -> Option<Result<&[u8], FrameError>> {
        let rest = &self.buf[start..];
        let total = body_start.saturating_add(cl);
        if total > self.max_message {
            let have = rest.len();
            if have >= total {
                self.drop_front(total);
            } else {
                self.skip = total - have;
                let n = have;
                self.drop_front(n);
            }
            return Some(Err(FrameError::Oversize {
                offset: msg_offset,
                limit: self.max_message,
            }));
        }
        if rest.len() < total {
            self.pending = Some((body_start, cl));
            return None;
        }
        // A body that does not end with a line break is held until the next bytes show
        // whether Content-Length was right (text bodies end with CRLF; a lie rarely does).
        let ends_cleanly = cl == 0 || rest[total - 1] == b'\n';
        match next_kind(&rest[total..], self.max_message) {
            Next::Plausible => {}
            Next::Unknown if ends_cleanly => {}
            Next::Unknown => {
                self.pending = Some((body_start, cl));
                return None;
            }
            Next::Implausible => {
                self.drop_front(body_start);
                self.resync = true;
                return Some(Err(FrameError::LyingContentLength {
                    offset: msg_offset,
                    declared: cl,
                }));
            }
        }
        self.drop_front(total);
        Some(Ok(&self.buf[start..start + total]))
    }
}
