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

    /// The first part header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<Header<'a>> {
        self.headers().find(|h| names_match(h.name, name))
    }
}

fn mp_err<T>(m: &str) -> Result<T, ParseError> {
    Err(ParseError::Multipart(m.to_string()))
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
    let bd = memchr::memmem::Finder::new(boundary.as_bytes());
    let end = range.end;
    let Some((_, mut after)) = find_delimiter(bytes, range.start, end, &bd) else {
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
        let Some((part_end, next_after)) = find_delimiter(bytes, part_start, end, &bd) else {
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
    };
    part.content_type = part
        .header("content-type")
        .and_then(|h| MediaType::parse(h.raw_value));
    part.content_disposition = part.header("content-disposition").map(|h| h.raw_value);
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
