//! Line model: the SDP split into lines with exact byte ranges, so that any
//! rewrite can touch single tokens and leave every other byte alone.

use core::fmt;
use core::ops::Range;

use crate::error::SdpError;
use crate::view::{MediaSection, Session};

/// How a line ended in the input, kept so the SDP reproduces byte for byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LineEnding {
    /// `\r\n` (what RFC 8866 and Lync use).
    CrLf,
    /// A bare `\n`.
    Lf,
    /// No line ending: the last line of the input.
    None,
}

impl LineEnding {
    /// The bytes of this line ending.
    pub fn as_str(self) -> &'static str {
        match self {
            LineEnding::CrLf => "\r\n",
            LineEnding::Lf => "\n",
            LineEnding::None => "",
        }
    }

    /// Length of the line ending in bytes.
    pub fn len(self) -> usize {
        self.as_str().len()
    }

    /// True for [`LineEnding::None`].
    pub fn is_empty(self) -> bool {
        self == LineEnding::None
    }
}

/// One line of an SDP, borrowed from the input.
#[derive(Clone, PartialEq, Eq)]
pub struct Line<'a> {
    /// 0-based index of the line in [`Sdp::lines`].
    pub index: usize,
    /// The type character before `=` (`v`, `o`, `m`, `a`, ...); `None` when the line is
    /// not of the form `x=...` (blank lines, garbage kept verbatim).
    pub kind: Option<char>,
    /// Text after `x=` (or the whole line when `kind` is `None`).
    pub value: &'a str,
    /// Byte range of the whole line without its line ending, relative to the SDP's first byte.
    pub range: Range<usize>,
    /// The line ending as found.
    pub ending: LineEnding,
}

impl<'a> Line<'a> {
    /// Byte offset of `value` in the SDP.
    pub fn value_start(&self) -> usize {
        if self.kind.is_some() {
            self.range.start + 2
        } else {
            self.range.start
        }
    }

    /// Byte range of the line including its line ending.
    pub fn full_range(&self) -> Range<usize> {
        self.range.start..self.range.end + self.ending.len()
    }

    /// For `a=` lines: the attribute name (text before the first `:`).
    pub fn attr_name(&self) -> Option<&'a str> {
        if self.kind != Some('a') {
            return None;
        }
        Some(match colon(self.value) {
            Some(i) => &self.value[..i],
            None => self.value,
        })
    }

    /// For `a=name:value` lines: the attribute value and its byte offset in the SDP.
    pub fn attr_value(&self) -> Option<(&'a str, usize)> {
        if self.kind != Some('a') {
            return None;
        }
        let i = colon(self.value)?;
        Some((&self.value[i + 1..], self.value_start() + i + 1))
    }

    /// True when the line may hold key material (crypto attributes); Debug output redacts it.
    fn is_sensitive(&self) -> bool {
        matches!(
            self.attr_name(),
            Some(n) if n.eq_ignore_ascii_case("crypto")
                || n.eq_ignore_ascii_case("cryptoscale")
                || n.eq_ignore_ascii_case("key")
        ) || self.kind == Some('k')
            || self.value.contains("inline:")
    }
}

impl fmt::Debug for Line<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value: &dyn fmt::Debug = if self.is_sensitive() {
            &"<redacted: key material>"
        } else {
            &self.value
        };
        f.debug_struct("Line")
            .field("index", &self.index)
            .field("kind", &self.kind)
            .field("value", value)
            .field("range", &self.range)
            .field("ending", &self.ending)
            .finish()
    }
}

/// A parsed SDP: its lines, the session section and the media sections.
///
/// Parsing allocates one vector of lines; every value borrows from the input.
/// `Debug` shows the lines (crypto lines redacted), never the raw input bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Sdp<'a> {
    input: &'a [u8],
    lines: Vec<Line<'a>>,
    /// Index of each `m=` line, with the line parsed once (parsing validates it anyway).
    media: Vec<(usize, crate::view::MediaLine<'a>)>,
}

impl fmt::Debug for Sdp<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sdp")
            .field("len", &self.input.len())
            .field("lines", &self.lines)
            .field(
                "media_starts",
                &self.media.iter().map(|(i, _)| *i).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl<'a> Sdp<'a> {
    /// Parses an SDP body. Lenient: unknown line types, unknown attributes, blank lines and
    /// mixed line endings are kept; it fails only when the SDP is meaningless (empty, not UTF-8,
    /// not starting with `v=`, or an `m=` line without media/port/proto).
    pub fn parse(input: &'a [u8]) -> Result<Sdp<'a>, SdpError> {
        if input.is_empty() {
            return Err(SdpError::Empty);
        }
        // One UTF-8 check of the whole input (the common case); per line only to name the bad line.
        let whole = core::str::from_utf8(input).ok();
        let mut lines = Vec::with_capacity(input.len() / 24 + 1);
        let mut media = Vec::new();
        let mut pos = 0usize;
        while pos < input.len() {
            let index = lines.len();
            let (end, ending, next) = match memchr::memchr(b'\n', &input[pos..]) {
                Some(i) => {
                    let nl = pos + i;
                    if nl > pos && input[nl - 1] == b'\r' {
                        (nl - 1, LineEnding::CrLf, nl + 1)
                    } else {
                        (nl, LineEnding::Lf, nl + 1)
                    }
                }
                None => (input.len(), LineEnding::None, input.len()),
            };
            // `pos` and `end` sit next to ASCII line breaks, so they are char boundaries of `whole`.
            let text = match whole {
                Some(whole) => &whole[pos..end],
                None => core::str::from_utf8(&input[pos..end])
                    .map_err(|_| SdpError::NotUtf8 { line: index + 1 })?,
            };
            let tb = text.as_bytes();
            let (kind, value) = if tb.len() >= 2 && tb[0].is_ascii_alphabetic() && tb[1] == b'=' {
                (Some(tb[0] as char), &text[2..])
            } else {
                (None, text)
            };
            if index == 0 && kind != Some('v') {
                return Err(SdpError::MissingVersion { line: 1 });
            }
            if kind == Some('m') {
                media.push((index, crate::view::MediaLine::parse(value, pos + 2, index)?));
            }
            lines.push(Line {
                index,
                kind,
                value,
                range: pos..end,
                ending,
            });
            pos = next;
        }
        Ok(Sdp {
            input,
            lines,
            media,
        })
    }

    /// The bytes this SDP was parsed from.
    pub fn input(&self) -> &'a [u8] {
        self.input
    }

    /// All lines in order.
    pub fn lines(&self) -> &[Line<'a>] {
        &self.lines
    }

    /// Re-serialises the line model; always equal to the input.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.input.len());
        for l in &self.lines {
            if let Some(k) = l.kind {
                out.push(k as u8);
                out.push(b'=');
            }
            out.extend_from_slice(l.value.as_bytes());
            out.extend_from_slice(l.ending.as_str().as_bytes());
        }
        out
    }

    /// Lines of the session section (before the first `m=`).
    pub fn session_lines(&self) -> &[Line<'a>] {
        &self.lines[..self.media_start(0)]
    }

    /// Index of the `m=` line of section `i`, or the line count past the last section.
    fn media_start(&self, i: usize) -> usize {
        self.media
            .get(i)
            .map_or(self.lines.len(), |(start, _)| *start)
    }

    /// Typed view of the session section.
    pub fn session(&self) -> Session<'_, 'a> {
        Session::new(self.session_lines())
    }

    /// Number of media sections.
    pub fn media_count(&self) -> usize {
        self.media.len()
    }

    /// Lines of media section `i` (starting with its `m=` line).
    pub fn media_lines(&self, i: usize) -> Option<&[Line<'a>]> {
        let (start, _) = self.media.get(i)?;
        Some(&self.lines[*start..self.media_start(i + 1)])
    }

    /// Typed view of media section `i` (0-based).
    pub fn media_section(&self, i: usize) -> Option<MediaSection<'_, 'a>> {
        let lines = self.media_lines(i)?;
        Some(MediaSection::new(
            i,
            lines,
            self.session_lines(),
            &self.media[i].1,
        ))
    }

    /// Typed views of all media sections in order.
    pub fn media(&self) -> impl ExactSizeIterator<Item = MediaSection<'_, 'a>> + '_ {
        let session = self.session_lines();
        self.media.iter().enumerate().map(move |(i, (start, ml))| {
            MediaSection::new(i, &self.lines[*start..self.media_start(i + 1)], session, ml)
        })
    }
}

/// Position of the first `:` in an attribute line: a plain byte loop, as attribute names are short and the
/// colon comes early (a SIMD search costs more to set up than it saves here).
pub(crate) fn colon(value: &str) -> Option<usize> {
    value.bytes().position(|b| b == b':')
}
