//! Content types and (nested) multipart bodies.

use crate::headers::{names_match, HeaderIter};
use crate::uri::Params;
use crate::{Header, Message, ParseError};
use std::ops::Range;

/// A media type such as `multipart/alternative;boundary="x"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaType<'a> {
    /// Type as written (`application`).
    pub type_: &'a str,
    /// Subtype as written (`sdp`).
    pub subtype: &'a str,
    /// Parameters (`boundary`, `charset`, ...).
    pub params: Params<'a>,
}

impl<'a> MediaType<'a> {
    /// Parses `type/subtype *(; param)`; `None` without a `/`.
    pub fn parse(s: &'a str) -> Option<MediaType<'a>> {
        let s = s.trim();
        let (ts, params) = match s.find(';') {
            Some(i) => (&s[..i], &s[i + 1..]),
            None => (s, ""),
        };
        let slash = ts.find('/')?;
        let type_ = ts[..slash].trim();
        let subtype = ts[slash + 1..].trim();
        if type_.is_empty() || subtype.is_empty() {
            return None;
        }
        Some(MediaType {
            type_,
            subtype,
            params: Params::new(params),
        })
    }

    /// Case-insensitive comparison with `type/subtype`.
    pub fn is(&self, type_: &str, subtype: &str) -> bool {
        self.type_.eq_ignore_ascii_case(type_) && self.subtype.eq_ignore_ascii_case(subtype)
    }

    /// `application/sdp`.
    pub fn is_sdp(&self) -> bool {
        self.is("application", "sdp")
    }

    /// Any `multipart/*`.
    pub fn is_multipart(&self) -> bool {
        self.type_.eq_ignore_ascii_case("multipart")
    }

    /// The `boundary` parameter, unquoted.
    pub fn boundary(&self) -> Option<&'a str> {
        self.params.get("boundary").filter(|b| !b.is_empty())
    }

    /// A parameter value (case-insensitive name), unquoted.
    pub fn param(&self, name: &str) -> Option<&'a str> {
        self.params.get(name)
    }
}

/// One leaf body part. Offsets are absolute in the message bytes.
///
/// `Debug` omits the body bytes (they may carry SRTP keys).
#[derive(Clone, PartialEq, Eq)]
pub struct BodyPart<'a> {
    /// Content type of the part (for a single-part message, the message's Content-Type).
    pub content_type: Option<MediaType<'a>>,
    /// Value of the part's Content-Disposition (the message's for a single-part message).
    pub content_disposition: Option<&'a str>,
    /// The part body.
    pub body: &'a [u8],
    /// Absolute offsets of `body` in the message bytes.
    pub body_range: Range<usize>,
    /// Absolute offsets of the part's header block (empty for a single-part message).
    pub headers_range: Range<usize>,
    /// Nesting depth: 0 for a single-part body, 1 for parts of a top-level multipart, ...
    pub depth: usize,
    headers_text: &'a str,
    /// The part's first Content-Length header (value range, absolute, and value), noted while splitting.
    content_length: Option<(Range<usize>, &'a str)>,
}

impl std::fmt::Debug for BodyPart<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BodyPart")
            .field("content_type", &self.content_type)
            .field("content_disposition", &self.content_disposition)
            .field("body_range", &self.body_range)
            .field("depth", &self.depth)
            .finish_non_exhaustive()
    }
}

impl<'a> BodyPart<'a> {
    pub(crate) fn whole(m: &Message<'a>) -> Self {
        let r = m.body_range();
        BodyPart {
            content_type: m.content_type(),
            content_disposition: m.header("content-disposition").map(|h| h.raw_value),
            body: m.body(),
            body_range: r.clone(),
            headers_range: r.start..r.start,
            depth: 0,
            headers_text: "",
            content_length: None,
        }
    }

    /// The part's own MIME headers (none for a single-part message). Ranges are absolute.
    pub fn headers(&self) -> impl Iterator<Item = Header<'a>> + 'a {
        let base = self.headers_range.start;
        HeaderIter::new(self.headers_text, 0, self.headers_text.len()).map(move |mut h| {
            h.name_range = h.name_range.start + base..h.name_range.end + base;
            h.value_range = h.value_range.start + base..h.value_range.end + base;
            h
        })
    }

    /// Whether the part is `application/sdp`.
    pub fn is_sdp(&self) -> bool {
        self.content_type.is_some_and(|t| t.is_sdp())
    }

    /// Whether the part is a PIDF-LO location (`application/pidf+xml`, E911 calls).
    pub fn is_pidf(&self) -> bool {
        self.content_type
            .is_some_and(|t| t.is("application", "pidf+xml"))
    }

    /// The part's own first Content-Length header: its absolute value range and value (`None` for a
    /// single-part message).
    pub(crate) fn content_length_header(&self) -> Option<(Range<usize>, &'a str)> {
        self.content_length.clone()
    }

    /// The first part header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<Header<'a>> {
        self.headers().find(|h| names_match(h.name, name))
    }
}

fn mp_err<T>(m: &str) -> Result<T, ParseError> {
    Err(ParseError::Multipart(m.to_string()))
}

/// How delimiters are searched for one boundary.
enum Delimiters<'b> {
    /// Look at `from` and after every `\n--` (found with one searcher shared by all messages): no per-message
    /// searcher to build.
    LineStarts(&'b [u8]),
    /// A boundary that overlaps itself at a shift of one or two bytes (`-----`, `abab`): the general search,
    /// whose results near the end of the range depend on overlapping matches.
    Overlapping(Box<memchr::memmem::Finder<'b>>),
}

impl<'b> Delimiters<'b> {
    fn new(boundary: &'b [u8]) -> Self {
        let period_1 = boundary.windows(2).all(|w| w[0] == w[1]);
        let period_2 = boundary.windows(3).all(|w| w[0] == w[2]);
        if period_1 || period_2 {
            Delimiters::Overlapping(Box::new(memchr::memmem::Finder::new(boundary)))
        } else {
            Delimiters::LineStarts(boundary)
        }
    }

    /// Finds `--boundary` at a line start within `b[from..end]`; returns the offset of the line
    /// break before it (or of the `--` when at `from` itself) and the offset just after the boundary.
    fn find(&self, b: &[u8], from: usize, end: usize) -> Option<(usize, usize)> {
        match self {
            Delimiters::Overlapping(finder) => find_delimiter(b, from, end, finder),
            Delimiters::LineStarts(boundary) => {
                let after = |dash: usize| dash + 2 + boundary.len();
                let is_delimiter = |dash: usize| {
                    after(dash) <= end
                        && &b[dash..dash + 2] == b"--"
                        && &b[dash + 2..after(dash)] == *boundary
                };
                if is_delimiter(from) {
                    return Some((from, after(from)));
                }
                static LINE_DASHES: std::sync::OnceLock<memchr::memmem::Finder<'static>> =
                    std::sync::OnceLock::new();
                let finder = LINE_DASHES.get_or_init(|| memchr::memmem::Finder::new(b"\n--"));
                let mut pos = from;
                while let Some(i) = finder.find(&b[pos..end]) {
                    let dash = pos + i + 1;
                    if is_delimiter(dash) {
                        let before = if dash >= from + 2 && b[dash - 2] == b'\r' {
                            dash - 2
                        } else {
                            dash - 1
                        };
                        return Some((before, after(dash)));
                    }
                    pos = dash;
                }
                None
            }
        }
    }
}

/// Finds `--boundary` at a line start within `b[from..end]`; returns the offset of the line
/// break before it (or of the `--` when at `from` itself) and the offset just after the boundary.
fn find_delimiter(
    b: &[u8],
    from: usize,
    end: usize,
    finder: &memchr::memmem::Finder<'_>,
) -> Option<(usize, usize)> {
    let boundary = finder.needle();
    let mut pos = from;
    while pos + 2 + boundary.len() <= end {
        let rel = finder.find(&b[pos..end])?;
        let at = pos + rel; // boundary text starts here; "--" precedes it
        if at >= from + 2 && &b[at - 2..at] == b"--" {
            let dash = at - 2;
            let line_start = dash == from || b[dash - 1] == b'\n';
            if line_start {
                let before = if dash == from {
                    dash
                } else if dash >= from + 2 && b[dash - 2] == b'\r' {
                    dash - 2
                } else {
                    dash - 1
                };
                return Some((before, at + boundary.len()));
            }
        }
        pos = at + 1;
    }
    None
}

const MAX_DEPTH: usize = 8;

/// Appends the leaf parts of the multipart body `bytes[range]` to `out`.
pub(crate) fn split_multipart<'a>(
    bytes: &'a [u8],
    range: Range<usize>,
    boundary: &str,
    depth: usize,
    out: &mut Vec<BodyPart<'a>>,
) -> Result<(), ParseError> {
    if depth >= MAX_DEPTH {
        return mp_err("nested too deeply");
    }
    let bd = Delimiters::new(boundary.as_bytes());
    let end = range.end;
    let Some((_, mut after)) = bd.find(bytes, range.start, end) else {
        return mp_err("boundary not found");
    };
    loop {
        // After a delimiter: "--" closes; else padding and a line break start the part.
        if bytes[after..end].starts_with(b"--") {
            return Ok(());
        }
        let mut p = after;
        while p < end && (bytes[p] == b' ' || bytes[p] == b'\t') {
            p += 1;
        }
        if p < end && bytes[p] == b'\r' {
            p += 1;
        }
        if p >= end || bytes[p] != b'\n' {
            return mp_err("boundary line not followed by a line break");
        }
        let part_start = p + 1;
        let Some((part_end, next_after)) = bd.find(bytes, part_start, end) else {
            return mp_err("part not closed by a boundary");
        };
        push_part(bytes, part_start..part_end, depth, out)?;
        after = next_after;
    }
}

fn push_part<'a>(
    bytes: &'a [u8],
    r: Range<usize>,
    depth: usize,
    out: &mut Vec<BodyPart<'a>>,
) -> Result<(), ParseError> {
    // Part headers end at the first empty line; a part may start directly with an empty line.
    let mut pos = r.start;
    let mut body_start = None;
    let mut headers_end = r.start;
    while pos <= r.end {
        let nl = memchr::memchr(b'\n', &bytes[pos..r.end]).map(|i| pos + i);
        let content_end = nl.unwrap_or(r.end);
        let line = &bytes[pos..content_end];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            headers_end = pos;
            body_start = Some(nl.map_or(r.end, |n| n + 1));
            break;
        }
        match nl {
            Some(n) => pos = n + 1,
            None => break,
        }
    }
    let Some(body_start) = body_start else {
        return mp_err("part headers not ended by an empty line");
    };
    let Ok(headers_text) = std::str::from_utf8(&bytes[r.start..headers_end]) else {
        return mp_err("part headers are not UTF-8");
    };
    let mut part = BodyPart {
        content_type: None,
        content_disposition: None,
        body: &bytes[body_start..r.end],
        body_range: body_start..r.end,
        headers_range: r.start..headers_end,
        depth: depth + 1,
        headers_text,
        content_length: None,
    };
    // One pass over the part headers for the first Content-Type, Content-Disposition and Content-Length.
    let mut content_type = None;
    let mut content_disposition = None;
    for h in HeaderIter::new(headers_text, 0, headers_text.len()) {
        if content_type.is_none() && names_match(h.name, "content-type") {
            content_type = Some(h.raw_value);
        } else if content_disposition.is_none() && names_match(h.name, "content-disposition") {
            content_disposition = Some(h.raw_value);
        } else if part.content_length.is_none() && names_match(h.name, "content-length") {
            let base = r.start;
            part.content_length = Some((
                h.value_range.start + base..h.value_range.end + base,
                h.raw_value,
            ));
        }
    }
    part.content_type = content_type.and_then(MediaType::parse);
    part.content_disposition = content_disposition;
    match part.content_type {
        Some(ct) if ct.is_multipart() => {
            let Some(b) = ct.boundary() else {
                return mp_err("nested multipart without boundary");
            };
            split_multipart(bytes, part.body_range, b, depth + 1, out)
        }
        _ => {
            out.push(part);
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{find_delimiter, Delimiters};
    use proptest::prelude::*;

    /// Bodies built from pieces that make delimiters, near-delimiters and line breaks likely.
    fn body() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            Just(b"\r\n".to_vec()),
            Just(b"\n".to_vec()),
            Just(b"--".to_vec()),
            Just(b"-".to_vec()),
            Just(b"b1".to_vec()),
            Just(b"--b1".to_vec()),
            Just(b"\r\n--b1".to_vec()),
            Just(b"--b1--".to_vec()),
            Just(b"x".to_vec()),
            Just(b"v=0".to_vec()),
        ];
        prop::collection::vec(piece, 0..24).prop_map(|v| v.concat())
    }

    fn boundary() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![
            Just(b"b1".to_vec()),
            Just(b"-".to_vec()),
            Just(b"--".to_vec()),
            Just(b"-b".to_vec()),
            Just(b"b".to_vec()),
            Just(b"1-b1".to_vec()),
            prop::collection::vec(prop::sample::select(b"-b1\n".to_vec()), 1..5),
        ]
    }

    proptest! {
        /// The searcher-free delimiter search finds exactly what the general boundary search finds.
        #[test]
        fn delimiter_search_matches_the_general_search(
            b in body(),
            bd in boundary(),
            from_pick in 0usize..64,
            end_pick in 0usize..64,
        ) {
            let end = b.len() - end_pick.min(b.len());
            let from = from_pick.min(end);
            let general = memchr::memmem::Finder::new(&bd);
            let expected = find_delimiter(&b, from, end, &general);
            prop_assert_eq!(Delimiters::new(&bd).find(&b, from, end), expected);
        }
    }

    #[test]
    fn delimiters_at_line_starts_only() {
        let b = b"--b1\r\nx--b1\r\n\r\n--b1--\r\n";
        let d = Delimiters::new(b"b1");
        assert_eq!(d.find(b, 0, b.len()), Some((0, 4)));
        // "x--b1" is not at a line start; the next delimiter's line break starts at 13
        assert_eq!(d.find(b, 4, b.len()), Some((13, 19)));
        assert_eq!(d.find(b, 4, 18), None);
    }
}
