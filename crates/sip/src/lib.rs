//! Zero-copy SIP message view over bytes, tolerant of real traffic.
//!
//! # Model
//! A [`Message`] borrows the bytes of exactly one SIP message. Parsing finds the start line, checks
//! every header line (it has a colon, a token name, the header block is UTF-8 and ends with an empty
//! line) and the Content-Length, and notes only where a few often-read headers start (Content-Type,
//! Content-Length, Call-ID, Priority, Content-Disposition): other headers are found by re-scanning the
//! header block on demand, so parsing allocates nothing. Header names compare case-insensitively and
//! compact forms (`i`, `f`, `t`, `v`, `m`, `l`, `c`, `k`, `s`, `e`, `o`, `r`, ...) match their full
//! names. Every view keeps byte offsets into the original message ([`Header::value_range`],
//! [`BodyPart::body_range`]) so callers can edit byte-exact: [`replace_bodies`] swaps body parts and
//! fixes only the digits of Content-Length.
//!
//! Bare-LF line endings are accepted everywhere a CRLF is expected. Parsing does not validate
//! semantics (mandatory headers, CSeq method matching, URI grammar of the Request-URI): typed getters
//! such as [`Message::from`] or [`Message::cseq`] return `None` when their header is absent or does
//! not parse.
//!
//! Also here: [`StreamFramer`] splits a TCP/TLS byte stream into messages by Content-Length and
//! resynchronises after broken messages; [`trace_log`] reads Lync/SfB Front End protocol trace logs.
//!
//! Errors never contain body bytes (bodies may carry SRTP keys).
//!
//! ```
//! use rec_sip::{replace_bodies, Message};
//! let raw = b"INVITE sip:bob@example.com SIP/2.0\r\n\
//! f: \"Alice\"<sip:alice@example.com>;tag=1;epid=e1\r\n\
//! i: abc\r\nCSeq: 1 INVITE\r\nc: application/sdp\r\nl: 5\r\n\r\nv=0\r\n";
//! let m = Message::parse(raw).unwrap();
//! assert_eq!(m.call_id(), Some("abc"));
//! assert_eq!(m.from().unwrap().epid(), Some("e1"));
//! let part = &m.bodies()[0];
//! let out = replace_bodies(raw, &[(part.body_range.clone(), b"v=0\r\ns=-\r\n")]).unwrap();
//! assert!(out.ends_with(b"l: 10\r\n\r\nv=0\r\ns=-\r\n"));
//! ```

mod framer;
mod headers;
mod mime;
mod replace;
pub mod trace_log;
mod uri;

use std::borrow::Cow;
use std::ops::Range;

pub use framer::{FrameError, StreamFramer};
pub use headers::{split_commas, Header, HeaderIter};
pub use mime::{BodyPart, MediaType};
pub use replace::{replace_bodies, replace_parts};
pub use uri::{NameAddr, Params, Uri};

use headers::{canonical_name, names_match};

/// Why a message (or a URI, name-addr, multipart body) could not be parsed.
///
/// Messages say which line (1 = start line) and what was wrong; they never quote body bytes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The input is empty (or only CR/LF).
    #[error("empty message")]
    Empty,
    /// No empty line ends the header block: the message is truncated.
    #[error("incomplete message: no empty line after the headers")]
    Incomplete,
    /// The start line is malformed.
    #[error("start line: {0}")]
    StartLine(String),
    /// The start line or a header line is not UTF-8.
    #[error("line {line}: not valid UTF-8")]
    NotUtf8 {
        /// 1-based line number (1 = start line).
        line: usize,
    },
    /// A header line has no colon.
    #[error("line {line}: header without colon")]
    HeaderWithoutColon {
        /// 1-based line number.
        line: usize,
    },
    /// A header name is empty or contains characters outside the SIP token set.
    #[error("line {line}: bad header name")]
    BadHeaderName {
        /// 1-based line number.
        line: usize,
    },
    /// A line starting with whitespace follows the start line directly.
    #[error("line {line}: continuation line without a header before it")]
    LeadingContinuation {
        /// 1-based line number.
        line: usize,
    },
    /// Content-Length is not a non-negative decimal number.
    #[error("line {line}: Content-Length '{value}' is not a non-negative number")]
    BadContentLength {
        /// 1-based line number.
        line: usize,
        /// The header value (at most 32 characters).
        value: String,
    },
    /// Several Content-Length headers disagree.
    #[error("Content-Length given twice with different values ({first} and {second})")]
    ConflictingContentLength {
        /// First value.
        first: usize,
        /// The differing later value.
        second: usize,
    },
    /// The body is shorter or longer than Content-Length says.
    #[error("Content-Length {declared} but body has {actual} bytes")]
    ContentLengthMismatch {
        /// Value of the Content-Length header.
        declared: usize,
        /// Bytes after the empty line.
        actual: usize,
    },
    /// A URI does not parse.
    #[error("URI: {0}")]
    Uri(String),
    /// A name-addr / addr-spec header value does not parse.
    #[error("name-addr: {0}")]
    NameAddr(String),
    /// A multipart body is malformed.
    #[error("multipart body: {0}")]
    Multipart(String),
    /// A range given to [`replace_bodies`] is not a body (part) range of the message.
    #[error("replacement range {start}..{end} is not a body part of the message")]
    BadReplacement {
        /// Range start.
        start: usize,
        /// Range end.
        end: usize,
    },
}

/// The first line of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartLine<'a> {
    /// `Method SP Request-URI SP SIP-Version`.
    Request {
        /// Method token as written (case-sensitive per RFC 3261).
        method: &'a str,
        /// Request-URI text (parse it with [`Uri::parse`]).
        uri: &'a str,
        /// Version, `SIP/2.0` in any case.
        version: &'a str,
    },
    /// `SIP-Version SP Status-Code SP Reason-Phrase`.
    Response {
        /// Version, `SIP/2.0` in any case.
        version: &'a str,
        /// Status code 100..=699.
        code: u16,
        /// Reason phrase, possibly empty.
        reason: &'a str,
    },
}

/// A borrowed, parsed view of one SIP message.
///
/// `Debug` shows the start line and sizes only: bodies may carry SRTP keys.
#[derive(Clone, Copy)]
pub struct Message<'a> {
    bytes: &'a [u8],
    start_offset: usize,
    /// Start line up to the header block end (exclusive of the empty line), as UTF-8.
    head: &'a str,
    start: StartLine<'a>,
    /// Offset of the first header line.
    headers_start: usize,
    /// Offset just past the empty line.
    body_start: usize,
    body_end: usize,
    content_length: Option<usize>,
    /// Offset of the first Content-Type header line, found while parsing (saves a header scan).
    content_type_at: Option<usize>,
    /// Offset of the Content-Length header line when there is exactly one (saves a header scan).
    single_content_length_at: Option<usize>,
    /// Where some often-read headers are, noted while parsing (saves header scans).
    index: HeaderIndex,
    mismatch: Option<(usize, usize)>,
}

/// Offsets of the first (and for Call-ID the last) header line of a few headers, noted while parsing.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct HeaderIndex {
    call_id: Option<(usize, usize)>,
    priority: Option<(usize, usize)>,
    content_disposition: Option<(usize, usize)>,
}

impl HeaderIndex {
    /// The `(first, last)` offsets slot for `canonical` (a lower- or mixed-case full name), when indexed.
    fn slot(&mut self, canonical: &str) -> Option<&mut Option<(usize, usize)>> {
        let slot = match canonical.len() {
            7 if canonical.eq_ignore_ascii_case("call-id") => &mut self.call_id,
            8 if canonical.eq_ignore_ascii_case("priority") => &mut self.priority,
            19 if canonical.eq_ignore_ascii_case("content-disposition") => {
                &mut self.content_disposition
            }
            _ => return None,
        };
        Some(slot)
    }

    fn note(&mut self, canonical: &str, offset: usize) {
        if let Some(slot) = self.slot(canonical) {
            match slot {
                Some((_, last)) => *last = offset,
                None => *slot = Some((offset, offset)),
            }
        }
    }

    /// `Some(offsets)` when `canonical` is indexed (`Some(None)`: no such header), `None` otherwise.
    fn get(mut self, canonical: &str) -> Option<Option<(usize, usize)>> {
        self.slot(canonical).map(|s| *s)
    }
}

impl std::fmt::Debug for Message<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Message")
            .field("start", &self.start)
            .field("len", &self.bytes.len())
            .field("body_range", &self.body_range())
            .field("content_length", &self.content_length)
            .finish_non_exhaustive()
    }
}

/// Result of scanning the head (start line + headers) of a message.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Head<'a> {
    pub(crate) start_offset: usize,
    pub(crate) head: &'a str,
    pub(crate) start: StartLine<'a>,
    pub(crate) headers_start: usize,
    pub(crate) body_start: usize,
    pub(crate) content_length: Option<usize>,
    pub(crate) content_type_at: Option<usize>,
    pub(crate) single_content_length_at: Option<usize>,
    pub(crate) index: HeaderIndex,
}

/// The SIP `token` characters (RFC 3261 25.1), as a table: header names are checked byte by byte.
const TOKEN: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        t[i] = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.' | b'!' | b'%' | b'*' | b'_' | b'+' | b'`' | b'\'' | b'~'
            );
        i += 1;
    }
    t
};

pub(crate) fn is_token_byte(b: u8) -> bool {
    TOKEN[usize::from(b)]
}

fn clip(s: &str) -> String {
    let mut end = s.len().min(32);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

fn is_sip_version(v: &str) -> bool {
    v.eq_ignore_ascii_case("SIP/2.0")
}

/// Parses a start line (without its line ending).
pub(crate) fn parse_start_line(line: &str) -> Result<StartLine<'_>, ParseError> {
    let err = |m: String| Err(ParseError::StartLine(m));
    if line.len() >= 4 && line.as_bytes()[..4].eq_ignore_ascii_case(b"SIP/") {
        let (version, rest) = match line.find(' ') {
            Some(i) => (&line[..i], &line[i + 1..]),
            None => (line, ""),
        };
        if !is_sip_version(version) {
            return err(format!("unknown SIP version '{}'", clip(version)));
        }
        let (code, reason) = match rest.find(' ') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, ""),
        };
        if code.is_empty() {
            return err("missing status code".into());
        }
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return err(format!("status code '{}' is not 3 digits", clip(code)));
        }
        let code: u16 = code.parse().unwrap_or(0);
        if !(100..=699).contains(&code) {
            return err(format!("status code {code} outside 100..=699"));
        }
        return Ok(StartLine::Response {
            version,
            code,
            reason,
        });
    }
    // Trailing whitespace after the version is tolerated (RFC 4475 3.1.2.x trws: may accept).
    let trimmed = line.trim_end_matches([' ', '\t']);
    if trimmed.contains("  ") {
        return err("empty field (several spaces between fields)".into());
    }
    let mut parts = trimmed.split(' ');
    let method = parts.next().unwrap_or("");
    let uri = parts.next();
    let version = parts.next();
    let extra = parts.next();
    let (Some(uri), Some(version), None) = (uri, version, extra) else {
        let n = trimmed.split(' ').count();
        return err(format!(
            "expected 'Method SP Request-URI SP SIP-Version', found {n} space-separated fields"
        ));
    };
    if method.is_empty() || uri.is_empty() || version.is_empty() {
        return err("empty field (several spaces between fields)".into());
    }
    if !method.bytes().all(is_token_byte) {
        return err(format!("method '{}' is not a token", clip(method)));
    }
    if uri.starts_with('<') {
        return err("Request-URI enclosed in '<>'".into());
    }
    if !uri.contains(':') {
        return err(format!("Request-URI '{}' has no scheme", clip(uri)));
    }
    if !is_sip_version(version) {
        return err(format!("unknown SIP version '{}'", clip(version)));
    }
    Ok(StartLine::Request {
        method,
        uri,
        version,
    })
}

/// Scans the head starting at `from`, skipping leading CR/LF. Does not look at the body.
/// With `strict_length` false, an unparsable Content-Length is ignored and the first of several
/// disagreeing values is kept.
pub(crate) fn parse_head(
    bytes: &[u8],
    from: usize,
    strict_length: bool,
) -> Result<Head<'_>, ParseError> {
    let mut pos = from;
    while pos < bytes.len() && (bytes[pos] == b'\r' || bytes[pos] == b'\n') {
        pos += 1;
    }
    if pos >= bytes.len() {
        return Err(ParseError::Empty);
    }
    let start_offset = pos;
    // Find the end of the header block: the first empty line. The lines on the way are noted (up to
    // NOTED of them) so that the header checks below need not search for the line ends again.
    const NOTED: usize = 64;
    let mut noted = [(0usize, 0usize); NOTED];
    let mut line_count = 0usize;
    let mut line_start = pos;
    let mut head_end = None;
    let mut first = true;
    while let Some(nl) = memchr::memchr(b'\n', &bytes[line_start..]) {
        let nl = line_start + nl;
        let content_end = if nl > line_start && bytes[nl - 1] == b'\r' {
            nl - 1
        } else {
            nl
        };
        if content_end == line_start && !first {
            head_end = Some((line_start, nl + 1));
            break;
        }
        if let Some(slot) = noted.get_mut(line_count) {
            *slot = (line_start, content_end);
        }
        line_count += 1;
        first = false;
        line_start = nl + 1;
    }
    let Some((head_end, body_start)) = head_end else {
        return Err(ParseError::Incomplete);
    };
    let head = match std::str::from_utf8(&bytes[..head_end]) {
        Ok(h) => h,
        Err(e) => {
            let bad = e.valid_up_to();
            let line = 1 + bytes[start_offset..bad.max(start_offset)]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            return Err(ParseError::NotUtf8 { line });
        }
    };
    let mut lines = if line_count <= NOTED {
        HeadLines::Noted(head, noted[..line_count].iter())
    } else {
        HeadLines::Scan(LineIter {
            text: head,
            pos: start_offset,
            end: head_end,
        })
    };
    let (_, start_text) = lines.next().ok_or(ParseError::Incomplete)?;
    let start = parse_start_line(start_text)?;
    let headers_start = match &lines {
        HeadLines::Noted(..) => noted
            .get(1)
            .filter(|_| line_count > 1)
            .map_or(head_end, |l| l.0),
        HeadLines::Scan(l) => l.pos,
    };
    let mut content_length: Option<usize> = None;
    let mut content_type_at: Option<usize> = None;
    let mut content_length_at: Option<usize> = None;
    let mut content_length_headers = 0usize;
    let mut index = HeaderIndex::default();
    let mut prev_is_header = false;
    for (idx, (off, line)) in lines.enumerate() {
        let line_no = idx + 2;
        if line.starts_with([' ', '\t']) {
            if !prev_is_header {
                return Err(ParseError::LeadingContinuation { line: line_no });
            }
            continue;
        }
        let Some(colon) = line.bytes().position(|b| b == b':') else {
            return Err(ParseError::HeaderWithoutColon { line: line_no });
        };
        let mut name_end = colon;
        while name_end > 0 && matches!(line.as_bytes()[name_end - 1], b' ' | b'\t') {
            name_end -= 1;
        }
        let name = &line[..name_end];
        if name.is_empty() || !name.bytes().all(is_token_byte) {
            return Err(ParseError::BadHeaderName { line: line_no });
        }
        prev_is_header = true;
        let canonical = canonical_name(name);
        index.note(canonical, off);
        // `canonical` is a full name: compare it directly (the length check settles most headers).
        if content_type_at.is_none()
            && canonical.len() == 12
            && canonical.eq_ignore_ascii_case("content-type")
        {
            content_type_at = Some(off);
        }
        if canonical.len() == 14 && canonical.eq_ignore_ascii_case("content-length") {
            content_length_headers += 1;
            content_length_at.get_or_insert(off);
            // The value may be folded onto following lines; take this header's full value.
            let value = headers::header_at(head, off, head_end).map(|h| h.value());
            let value = value.unwrap_or(Cow::Borrowed(""));
            let v = value.trim();
            let n = if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
                v.parse::<usize>().ok()
            } else {
                None
            };
            let Some(n) = n else {
                if !strict_length {
                    continue;
                }
                return Err(ParseError::BadContentLength {
                    line: line_no,
                    value: clip(v),
                });
            };
            match content_length {
                Some(_) if !strict_length => {}
                Some(first) if first != n => {
                    return Err(ParseError::ConflictingContentLength { first, second: n });
                }
                _ => content_length = Some(n),
            }
        }
    }
    Ok(Head {
        start_offset,
        head,
        start,
        headers_start,
        body_start,
        content_length,
        content_type_at,
        single_content_length_at: content_length_at.filter(|_| content_length_headers == 1),
        index,
    })
}

/// The lines of a message head: as noted while looking for its end, or found again for a very long head.
enum HeadLines<'a, 'n> {
    Noted(&'a str, std::slice::Iter<'n, (usize, usize)>),
    Scan(LineIter<'a>),
}

impl<'a> Iterator for HeadLines<'a, '_> {
    type Item = (usize, &'a str);
    fn next(&mut self) -> Option<Self::Item> {
        match self {
            // The noted offsets sit next to ASCII line breaks: char boundaries of the head.
            HeadLines::Noted(text, it) => it.next().map(|&(start, end)| (start, &text[start..end])),
            HeadLines::Scan(it) => it.next(),
        }
    }
}

/// Iterates the lines of `text[pos..end]`, yielding (offset, line without CR/LF).
pub(crate) struct LineIter<'a> {
    pub(crate) text: &'a str,
    pub(crate) pos: usize,
    pub(crate) end: usize,
}

impl<'a> Iterator for LineIter<'a> {
    type Item = (usize, &'a str);
    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.end {
            return None;
        }
        let start = self.pos;
        let rest = &self.text.as_bytes()[start..self.end];
        let (content_end, next) = match memchr::memchr(b'\n', rest) {
            Some(i) => (start + i, start + i + 1),
            None => (self.end, self.end),
        };
        let content_end = if content_end > start && self.text.as_bytes()[content_end - 1] == b'\r' {
            content_end - 1
        } else {
            content_end
        };
        self.pos = next;
        Some((start, &self.text[start..content_end]))
    }
}

impl<'a> Message<'a> {
    fn from_head(bytes: &'a [u8], h: Head<'a>, body_end: usize) -> Self {
        Message {
            bytes,
            start_offset: h.start_offset,
            head: h.head,
            start: h.start,
            headers_start: h.headers_start,
            body_start: h.body_start,
            body_end,
            content_length: h.content_length,
            content_type_at: h.content_type_at,
            single_content_length_at: h.single_content_length_at,
            index: h.index,
            mismatch: None,
        }
    }

    /// Parses exactly one complete message: the body is everything after the empty line and must
    /// have Content-Length bytes when that header is present. Leading CR/LF are skipped.
    pub fn parse(bytes: &'a [u8]) -> Result<Message<'a>, ParseError> {
        let h = parse_head(bytes, 0, true)?;
        let actual = bytes.len() - h.body_start;
        if let Some(declared) = h.content_length {
            if declared != actual {
                return Err(ParseError::ContentLengthMismatch { declared, actual });
            }
        }
        Ok(Self::from_head(bytes, h, bytes.len()))
    }

    /// Like [`Message::parse`] but the body is all bytes after the empty line whatever
    /// Content-Length says; a disagreement is kept in [`Message::content_length_mismatch`].
    /// An unparsable Content-Length (e.g. `-999`) is ignored and of several disagreeing values
    /// the first counts.
    pub fn parse_lenient(bytes: &'a [u8]) -> Result<Message<'a>, ParseError> {
        let h = parse_head(bytes, 0, false)?;
        let actual = bytes.len() - h.body_start;
        let mut m = Self::from_head(bytes, h, bytes.len());
        if let Some(declared) = h.content_length {
            if declared != actual {
                m.mismatch = Some((declared, actual));
            }
        }
        Ok(m)
    }

    /// Parses the first message of `bytes` (datagram semantics: the body is Content-Length bytes,
    /// or the rest when there is no Content-Length) and returns it with the number of bytes it
    /// used; trailing bytes are left alone (RFC 4475 dblreq). The message's [`Message::bytes`] is
    /// the used prefix.
    pub fn parse_first(bytes: &'a [u8]) -> Result<(Message<'a>, usize), ParseError> {
        let h = parse_head(bytes, 0, true)?;
        let actual = bytes.len() - h.body_start;
        let end = match h.content_length {
            Some(declared) if declared > actual => {
                return Err(ParseError::ContentLengthMismatch { declared, actual });
            }
            Some(declared) => h.body_start + declared,
            None => bytes.len(),
        };
        let prefix = &bytes[..end];
        Ok((Self::from_head(prefix, h, end), end))
    }

    /// The whole message as given to the parser.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The parsed start line.
    pub fn start_line(&self) -> StartLine<'a> {
        self.start
    }

    /// `true` for requests.
    pub fn is_request(&self) -> bool {
        matches!(self.start, StartLine::Request { .. })
    }

    /// The request method, or for responses the CSeq method.
    pub fn method(&self) -> Option<&'a str> {
        match self.start {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => self.cseq().map(|(_, m)| m),
        }
    }

    /// The status code of a response.
    pub fn status_code(&self) -> Option<u16> {
        match self.start {
            StartLine::Response { code, .. } => Some(code),
            StartLine::Request { .. } => None,
        }
    }

    /// All headers in order (folded values span several lines).
    pub fn headers(&self) -> HeaderIter<'a> {
        HeaderIter::new(self.head, self.headers_start, self.head.len())
    }

    /// The first header called `name` (case-insensitive; compact forms match full names).
    pub fn header(&self, name: &str) -> Option<Header<'a>> {
        let want = canonical_name(name);
        match self.index.get(want) {
            Some(at) => at.and_then(|(first, _)| self.header_line_at(first)),
            None => self.headers().find(|h| names_match(h.name, want)),
        }
    }

    /// The last header called `name` (case-insensitive; compact forms match full names).
    pub fn last_header(&self, name: &str) -> Option<Header<'a>> {
        let want = canonical_name(name);
        match self.index.get(want) {
            Some(at) => at.and_then(|(_, last)| self.header_line_at(last)),
            None => self.headers_named(want).last(),
        }
    }

    /// The header whose first line starts at `at` (an offset noted while parsing).
    fn header_line_at(&self, at: usize) -> Option<Header<'a>> {
        headers::header_at(self.head, at, self.head.len())
    }

    /// Every header called `name`, in order.
    pub fn headers_named<'n>(&self, name: &'n str) -> impl Iterator<Item = Header<'a>> + 'n
    where
        'a: 'n,
    {
        let want = canonical_name(name);
        // An indexed header: start at its first line (or nowhere when absent).
        let start = match self.index.get(want) {
            Some(Some((first, _))) => first,
            Some(None) => self.head.len(),
            None => self.headers_start,
        };
        HeaderIter::new(self.head, start, self.head.len())
            .filter(move |h| names_match(h.name, want))
    }

    /// Every comma-separated value over all lines of header `name` (commas inside quotes and `<>`
    /// do not split; empty elements are skipped; each element is trimmed). Folded values are
    /// returned with their folding.
    pub fn header_values<'n>(&self, name: &'n str) -> impl Iterator<Item = &'a str> + 'n
    where
        'a: 'n,
    {
        self.headers_named(name)
            .flat_map(|h| headers::split_commas(h.raw_value))
    }

    /// The Call-ID header value.
    pub fn call_id(&self) -> Option<&'a str> {
        self.header("call-id").map(|h| h.raw_value)
    }

    /// The From header as a name-addr (`None` if absent or unparsable).
    pub fn from(&self) -> Option<NameAddr<'a>> {
        self.header("from")
            .and_then(|h| NameAddr::parse(h.raw_value).ok())
    }

    /// The To header as a name-addr (`None` if absent or unparsable).
    pub fn to(&self) -> Option<NameAddr<'a>> {
        self.header("to")
            .and_then(|h| NameAddr::parse(h.raw_value).ok())
    }

    /// Every identity of every P-Asserted-Identity header (may hold `sip:` and `tel:` URIs);
    /// unparsable elements are skipped.
    pub fn p_asserted_identities(&self) -> impl Iterator<Item = NameAddr<'a>> + 'a {
        let this = *self;
        this.headers()
            .filter(|h| names_match(h.name, "p-asserted-identity"))
            .flat_map(|h| headers::split_commas(h.raw_value))
            .filter_map(|v| NameAddr::parse(v).ok())
    }

    /// The Request-URI text as written (`None` for responses); parse it with [`Uri::parse`].
    pub fn request_uri(&self) -> Option<&'a str> {
        match self.start {
            StartLine::Request { uri, .. } => Some(uri),
            StartLine::Response { .. } => None,
        }
    }

    /// Every Contact (`m`) value as a name-addr, over all Contact lines; `*` and unparsable
    /// elements are skipped.
    pub fn contacts(&self) -> impl Iterator<Item = NameAddr<'a>> + 'a {
        let this = *self;
        this.headers()
            .filter(|h| names_match(h.name, "contact"))
            .flat_map(|h| headers::split_commas(h.raw_value))
            .filter_map(|v| NameAddr::parse(v).ok())
    }

    /// CSeq number and method (`None` if absent, or the number does not fit in u32).
    pub fn cseq(&self) -> Option<(u32, &'a str)> {
        let h = self.header("cseq")?;
        let v = h.raw_value.trim();
        let mut it = v.split_ascii_whitespace();
        let n = it.next()?;
        if !n.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n: u32 = n.parse().ok()?;
        let m = it.next()?;
        if it.next().is_some() {
            return None;
        }
        Some((n, m))
    }

    /// The Content-Length value, if the header is present.
    pub fn content_length(&self) -> Option<usize> {
        self.content_length
    }

    /// For [`Message::parse_lenient`]: `(declared, actual)` when Content-Length disagreed with the body.
    pub fn content_length_mismatch(&self) -> Option<(usize, usize)> {
        self.mismatch
    }

    /// The Content-Type header as a media type.
    pub fn content_type(&self) -> Option<MediaType<'a>> {
        let at = self.content_type_at?;
        headers::header_at(self.head, at, self.head.len())
            .and_then(|h| MediaType::parse(h.raw_value))
    }

    /// The Content-Length header lines (usually one), from the offsets noted while parsing.
    pub(crate) fn content_length_headers(&self) -> impl Iterator<Item = Header<'a>> + '_ {
        let single = self
            .single_content_length_at
            .and_then(|at| headers::header_at(self.head, at, self.head.len()));
        let scan = single.is_none().then(|| {
            self.headers()
                .filter(|h| names_match(h.name, "content-length"))
        });
        single.into_iter().chain(scan.into_iter().flatten())
    }

    /// The message body (everything after the empty line).
    pub fn body(&self) -> &'a [u8] {
        &self.bytes[self.body_start..self.body_end]
    }

    /// The body's offsets into [`Message::bytes`].
    pub fn body_range(&self) -> Range<usize> {
        self.body_start..self.body_end
    }

    /// The leaf body parts: multipart bodies (any subtype, nested) are flattened; other bodies
    /// yield one part, the whole body. An empty body yields no part. A malformed multipart body
    /// yields the whole body as one part (see [`Message::try_bodies`] for the error).
    pub fn bodies(&self) -> Vec<BodyPart<'a>> {
        match self.try_bodies() {
            Ok(v) => v,
            Err(_) => vec![BodyPart::whole(self)],
        }
    }

    /// Like [`Message::bodies`] but reports a malformed multipart body.
    pub fn try_bodies(&self) -> Result<Vec<BodyPart<'a>>, ParseError> {
        if self.body_start == self.body_end {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        match self.content_type() {
            Some(ct) if ct.is_multipart() => {
                let b = ct
                    .boundary()
                    .ok_or_else(|| ParseError::Multipart("no boundary parameter".into()))?;
                mime::split_multipart(self.bytes, self.body_range(), b, 0, &mut out)?;
            }
            _ => out.push(BodyPart::whole(self)),
        }
        Ok(out)
    }

    /// Offset of the start line in [`Message::bytes`] (leading CR/LF are skipped).
    pub fn start_offset(&self) -> usize {
        self.start_offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(raw: &str) -> String {
        Message::parse(raw.as_bytes()).unwrap_err().to_string()
    }

    #[test]
    fn precise_errors() {
        assert_eq!(
            err("OPTIONS sip:a@b SIP/2.0\r\nVia: x\r\nno colon here\r\n\r\n"),
            "line 3: header without colon"
        );
        assert_eq!(
            err("OPTIONS sip:a@b SIP/2.0\r\n bad\r\n\r\n"),
            "line 2: continuation line without a header before it"
        );
        assert_eq!(
            err("OPTIONS sip:a@b SIP/2.0\r\nBad Name: x\r\n\r\n"),
            "line 2: bad header name"
        );
        assert_eq!(
            err("OPTIONS sip:a@b SIP/2.0\r\nl: 4\r\n\r\nab"),
            "Content-Length 4 but body has 2 bytes"
        );
        assert_eq!(
            err("OPTIONS sip:a@b SIP/2.0\r\nl: 4\r\n"),
            "incomplete message: no empty line after the headers"
        );
        assert_eq!(err("\r\n\r\n"), "empty message");
        assert_eq!(
            err("SIP/2.0 099 Odd\r\n\r\n"),
            "start line: status code 99 outside 100..=699"
        );
        assert_eq!(
            err("sip/3.0 200 OK\r\n\r\n"),
            "start line: unknown SIP version 'sip/3.0'"
        );
        assert_eq!(
            err("INVITE bob SIP/2.0\r\n\r\n"),
            "start line: Request-URI 'bob' has no scheme"
        );
        assert_eq!(
            err("IN\u{e9}VITE sip:a@b SIP/2.0\r\n\r\n"),
            "start line: method 'IN\u{e9}VITE' is not a token"
        );
        // Non-ASCII where "SIP/" would be: no panic on a char boundary.
        assert!(err("SI\u{e9} 200 OK\r\n\r\n").starts_with("start line:"));
        let mut bytes = b"OPTIONS sip:a@b SIP/2.0\r\nX: \xff\r\n\r\n".to_vec();
        assert_eq!(
            Message::parse(&bytes).unwrap_err(),
            ParseError::NotUtf8 { line: 2 }
        );
        // Non-UTF-8 in the body is fine.
        bytes = b"OPTIONS sip:a@b SIP/2.0\r\n\r\n\xff".to_vec();
        assert_eq!(Message::parse(&bytes).unwrap().body(), b"\xff");
    }

    #[test]
    fn pai_with_sip_and_tel() {
        let raw = "INVITE sip:a@b SIP/2.0\r\n\
P-Asserted-Identity: \"Alice, A.\" <sip:alice@contoso.example>, <tel:+14255550100;ext=12>\r\n\
P-Asserted-Identity: <sip:+14255550100@contoso.example;user=phone>\r\n\r\n";
        let m = Message::parse(raw.as_bytes()).unwrap();
        let ids: Vec<_> = m.p_asserted_identities().collect();
        assert_eq!(ids.len(), 3);
        assert_eq!(ids[0].display_name, Some("Alice, A."));
        assert!(ids[0].uri.is_sip());
        assert!(ids[1].uri.is_tel());
        assert_eq!(ids[1].uri.user, Some("+14255550100"));
        assert_eq!(ids[1].uri.params.get("ext"), Some("12"));
        assert_eq!(ids[2].uri.params.get("user"), Some("phone"));
    }

    #[test]
    fn heads_longer_and_shorter_than_the_noted_lines() {
        // Parsing notes the first 64 line offsets of the head and scans again beyond that: both must give
        // the same headers, in order, as a plain split of the head.
        for count in [0usize, 1, 62, 63, 64, 65, 200] {
            let mut raw = String::from("\r\nINVITE sip:a@b SIP/2.0\r\n");
            for i in 0..count {
                raw += &format!("X-H{i}: v{i}\r\n");
                if i % 7 == 3 {
                    raw += " folded\r\n";
                }
            }
            raw += "i: last\r\nPriority: emergency\r\nl: 2\r\n\r\nab";
            let m = Message::parse(raw.as_bytes()).unwrap();
            let names: Vec<_> = m.headers().map(|h| h.name).collect();
            let mut want: Vec<String> = (0..count).map(|i| format!("X-H{i}")).collect();
            want.extend(["i", "Priority", "l"].map(String::from));
            assert_eq!(names, want, "{count} headers");
            assert_eq!(m.call_id(), Some("last"));
            assert_eq!(m.last_header("call-id").unwrap().raw_value, "last");
            assert_eq!(m.header("priority").unwrap().raw_value, "emergency");
            assert_eq!(m.body(), b"ab");
            if count > 3 {
                assert_eq!(m.header("x-h3").unwrap().value(), "v3 folded");
            }
        }
    }

    #[test]
    fn indexed_headers_first_and_last() {
        let raw = "OPTIONS sip:a@b SIP/2.0\r\nCall-ID: one\r\nPriority: normal\r\ni: two\r\n\
Content-Disposition: session\r\npriority: emergency\r\n\r\n";
        let m = Message::parse(raw.as_bytes()).unwrap();
        assert_eq!(m.call_id(), Some("one"));
        assert_eq!(m.last_header("I").unwrap().raw_value, "two");
        let priorities: Vec<_> = m.headers_named("priority").map(|h| h.raw_value).collect();
        assert_eq!(priorities, ["normal", "emergency"]);
        assert_eq!(
            m.header("content-disposition").unwrap().raw_value,
            "session"
        );
        assert_eq!(m.last_header("via"), None);
        assert_eq!(m.headers_named("content-type").count(), 0);
    }

    #[test]
    fn bare_lf_and_leading_crlf() {
        let raw = b"\r\n\r\nSIP/2.0 180 Ringing\ni: x\nl: 2\n\nab";
        let m = Message::parse(raw).unwrap();
        assert_eq!(m.start_offset(), 4);
        assert_eq!(m.status_code(), Some(180));
        assert_eq!(m.call_id(), Some("x"));
        assert_eq!(m.body(), b"ab");
        assert_eq!(m.body_range(), raw.len() - 2..raw.len());
    }
}
