//! Header lines: iteration, folding, compact names, comma splitting.

use std::borrow::Cow;
use std::ops::Range;

/// One header (possibly folded over several lines) as written in the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header<'a> {
    /// Name as written (original case, maybe compact form).
    pub name: &'a str,
    /// Value as written: leading/trailing whitespace trimmed, folding (CRLF + whitespace) kept.
    pub raw_value: &'a str,
    /// Offsets of `name` in the message (or part) bytes.
    pub name_range: Range<usize>,
    /// Offsets of `raw_value` in the message (or part) bytes.
    pub value_range: Range<usize>,
}

impl<'a> Header<'a> {
    /// The value with every fold (`[WSP] CRLF WSP...`) replaced by one space; borrowed when unfolded.
    pub fn value(&self) -> Cow<'a, str> {
        unfold(self.raw_value)
    }

    /// Whether this header is `name` (case-insensitive, compact forms match full names).
    pub fn is(&self, name: &str) -> bool {
        names_match(self.name, canonical_name(name))
    }
}

/// Replaces line folding with a single space.
pub(crate) fn unfold(raw: &str) -> Cow<'_, str> {
    if !raw.contains('\n') {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    for (i, line) in raw.split('\n').enumerate() {
        let line = line.trim_end_matches('\r');
        if i == 0 {
            out.push_str(line.trim_end_matches([' ', '\t']));
        } else {
            out.push(' ');
            out.push_str(line.trim_matches(|c| c == ' ' || c == '\t'));
        }
    }
    Cow::Owned(out)
}

/// Compact header forms (RFC 3261 7.3.3 and later RFCs) mapped to lower-case full names.
pub(crate) fn canonical_name(name: &str) -> &str {
    if name.len() != 1 {
        return name;
    }
    match name.as_bytes()[0].to_ascii_lowercase() {
        b'a' => "accept-contact",
        b'b' => "referred-by",
        b'c' => "content-type",
        b'd' => "request-disposition",
        b'e' => "content-encoding",
        b'f' => "from",
        b'i' => "call-id",
        b'j' => "reject-contact",
        b'k' => "supported",
        b'l' => "content-length",
        b'm' => "contact",
        b'n' => "identity-info",
        b'o' => "event",
        b'r' => "refer-to",
        b's' => "subject",
        b't' => "to",
        b'u' => "allow-events",
        b'v' => "via",
        b'x' => "session-expires",
        b'y' => "identity",
        _ => name,
    }
}

/// `written` (maybe compact) names the header `want` (already canonical or any case).
pub(crate) fn names_match(written: &str, want: &str) -> bool {
    canonical_name(written).eq_ignore_ascii_case(canonical_name(want))
}

/// Iterator over the headers of a header block.
#[derive(Debug, Clone)]
pub struct HeaderIter<'a> {
    text: &'a str,
    pos: usize,
    end: usize,
}

impl<'a> HeaderIter<'a> {
    /// Headers of `text[pos..end]` (offsets reported relative to `text`).
    pub(crate) fn new(text: &'a str, pos: usize, end: usize) -> Self {
        HeaderIter { text, pos, end }
    }
}

/// End of the line at `pos` (index of '\n' or `end`) and the start of the next line.
fn line_bounds(b: &[u8], pos: usize, end: usize) -> (usize, usize) {
    match memchr::memchr(b'\n', &b[pos..end]) {
        Some(i) => (pos + i, pos + i + 1),
        None => (end, end),
    }
}

/// Parses the header starting at line `pos` (not a continuation line); returns it and the
/// offset of the next header line.
fn header_from(text: &str, pos: usize, end: usize) -> (Option<Header<'_>>, usize) {
    let b = text.as_bytes();
    let (mut nl, mut next) = line_bounds(b, pos, end);
    // Extend over continuation lines.
    while next < end && (b[next] == b' ' || b[next] == b'\t') {
        let (n2, x2) = line_bounds(b, next, end);
        nl = n2;
        next = x2;
    }
    let line = &text[pos..nl];
    let lb = line.as_bytes();
    // Byte loops: names are short and values too, so a SIMD search costs more to set up than it saves.
    let Some(colon) = lb.iter().position(|&b| b == b':') else {
        return (None, next);
    };
    let is_space = |b: u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let mut name_end = colon;
    while name_end > 0 && matches!(lb[name_end - 1], b' ' | b'\t') {
        name_end -= 1;
    }
    let name = &line[..name_end];
    let mut vstart_rel = colon + 1;
    while vstart_rel < lb.len() && is_space(lb[vstart_rel]) {
        vstart_rel += 1;
    }
    let mut vend_rel = lb.len();
    while vend_rel > vstart_rel && is_space(lb[vend_rel - 1]) {
        vend_rel -= 1;
    }
    let value = &line[vstart_rel..vend_rel];
    let vstart = pos + vstart_rel;
    (
        Some(Header {
            name,
            raw_value: value,
            name_range: pos..pos + name.len(),
            value_range: vstart..vstart + value.len(),
        }),
        next,
    )
}

/// The header whose first line starts at `pos`.
pub(crate) fn header_at(text: &str, pos: usize, end: usize) -> Option<Header<'_>> {
    header_from(text, pos, end).0
}

impl<'a> Iterator for HeaderIter<'a> {
    type Item = Header<'a>;
    fn next(&mut self) -> Option<Header<'a>> {
        while self.pos < self.end {
            let b = self.text.as_bytes();
            if b[self.pos] == b' ' || b[self.pos] == b'\t' {
                // Stray continuation (only possible in unvalidated part headers): skip the line.
                self.pos = line_bounds(b, self.pos, self.end).1;
                continue;
            }
            let (h, next) = header_from(self.text, self.pos, self.end);
            self.pos = next;
            if let Some(h) = h {
                if !h.name.is_empty() {
                    return Some(h);
                }
            }
        }
        None
    }
}

/// Splits a header value at commas outside quotes and `<>`, trimming, skipping empty elements
/// (e.g. a `P-Asserted-Identity` holding a SIP and a tel URI).
pub fn split_commas(v: &str) -> impl Iterator<Item = &str> {
    split_outside_quotes(v, b',', true)
}

/// Finds `key=value` in a `;`-separated parameter list (quotes respected), for MIME/URI params.
pub(crate) fn split_params(v: &str) -> impl Iterator<Item = &str> {
    split_outside_quotes(v, b';', false)
}

/// Splits `v` at `sep` outside double quotes (with backslash escapes) and, when `angles`, outside `<>`;
/// items are trimmed and empty ones skipped.
fn split_outside_quotes(v: &str, sep: u8, angles: bool) -> impl Iterator<Item = &str> {
    let b = v.as_bytes();
    let mut pos = 0;
    std::iter::from_fn(move || loop {
        if pos > b.len() {
            return None;
        }
        let start = pos;
        let mut i = pos;
        let mut quoted = false;
        let mut angle = false;
        while i < b.len() {
            match b[i] {
                b'\\' if quoted => i += 1,
                b'"' if !angle => quoted = !quoted,
                b'<' if angles && !quoted => angle = true,
                b'>' if angles && !quoted => angle = false,
                c if c == sep && !quoted && !angle => break,
                _ => {}
            }
            i += 1;
        }
        let i = i.min(b.len());
        pos = i + 1;
        let item = v[start..i].trim_matches(|c: char| c.is_ascii_whitespace());
        if !item.is_empty() {
            return Some(item);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfold_collapses_folding() {
        assert_eq!(unfold("a,\r\n   b"), "a, b");
        assert_eq!(unfold("a \r\n\tb"), "a b");
        assert!(matches!(unfold("plain"), Cow::Borrowed("plain")));
    }

    #[test]
    fn commas_respect_quotes_and_angles() {
        let v: Vec<_> = split_commas(r#""a,b" <sip:x;p=1,2>, <tel:+1>;;, ,"#).collect();
        assert_eq!(v, vec![r#""a,b" <sip:x;p=1,2>"#, "<tel:+1>;;"]);
    }

    #[test]
    fn compact_names() {
        assert!(names_match("i", "Call-ID"));
        assert!(names_match("L", "content-length"));
        assert!(names_match("CONTENT-LENGTH", "l"));
        assert!(!names_match("x-i", "call-id"));
    }
}
