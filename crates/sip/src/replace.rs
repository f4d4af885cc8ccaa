//! Byte-exact replacement of body parts with Content-Length fix-up.

use crate::{BodyPart, Message, ParseError};
use std::borrow::Cow;
use std::ops::Range;

/// Replaces body (part) ranges of `message` and returns the new message.
///
/// Each range must be exactly the `body_range` of a part from [`Message::bodies`] (or the whole
/// body), and ranges must not overlap. The result differs from the input only in the replaced bytes
/// and in the digits of the message's Content-Length header(s) (and of a Content-Length header inside
/// a replaced part); names, spacing, compact forms, boundaries, preamble and epilogue are kept.
/// A message without Content-Length keeps none.
pub fn replace_bodies(
    message: &[u8],
    replacements: &[(Range<usize>, &[u8])],
) -> Result<Vec<u8>, ParseError> {
    let m = Message::parse_lenient(message)?;
    let parts = m.bodies();
    replace_parts(&m, &parts, replacements)
}

/// [`replace_bodies`] for a message already parsed, with its [`Message::bodies`]: the same result
/// without parsing the message and its parts a second time (the rewriter's hot path).
pub fn replace_parts(
    m: &Message<'_>,
    parts: &[BodyPart<'_>],
    replacements: &[(Range<usize>, &[u8])],
) -> Result<Vec<u8>, ParseError> {
    let message = m.bytes();
    let body = m.body_range();
    // Digits of the new Content-Length, written here rather than into a new String.
    let mut length_digits = [0u8; 20];
    // (range to overwrite, new bytes): replacements are borrowed, only Content-Length digits are owned.
    let mut edits: Vec<(Range<usize>, Cow<'_, [u8]>)> =
        Vec::with_capacity(replacements.len() * 2 + 2);
    let mut delta: isize = 0;
    for (r, new) in replacements {
        let bad = || ParseError::BadReplacement {
            start: r.start,
            end: r.end,
        };
        let part = parts.iter().find(|p| p.body_range == *r);
        let is_whole = *r == body;
        if part.is_none() && !is_whole {
            return Err(bad());
        }
        delta += new.len() as isize - r.len() as isize;
        if let Some(p) = part.filter(|p| p.depth > 0) {
            if let Some((value_range, value)) = p.content_length_header() {
                if value.bytes().all(|b| b.is_ascii_digit()) {
                    edits.push((value_range, Cow::Owned(new.len().to_string().into_bytes())));
                }
            }
        }
        edits.push((r.clone(), Cow::Borrowed(*new)));
    }
    if m.content_length().is_some() {
        let new_len = (body.len() as isize + delta) as usize;
        let digits = decimal(new_len, &mut length_digits);
        for h in m.content_length_headers() {
            edits.push((h.value_range.clone(), Cow::Borrowed(digits)));
        }
    }
    edits.sort_by_key(|(r, _)| (r.start, r.end));
    for w in edits.windows(2) {
        if w[1].0.start < w[0].0.end {
            return Err(ParseError::BadReplacement {
                start: w[1].0.start,
                end: w[1].0.end,
            });
        }
    }
    let grow: usize = edits.iter().map(|(_, n)| n.len()).sum();
    let mut out = Vec::with_capacity(message.len() + grow);
    let mut pos = 0;
    for (r, new) in &edits {
        out.extend_from_slice(&message[pos..r.start]);
        out.extend_from_slice(new);
        pos = r.end;
    }
    out.extend_from_slice(&message[pos..]);
    Ok(out)
}

/// `n` in decimal, as `n.to_string()` spells it, written into the end of `buf`.
fn decimal(mut n: usize, buf: &mut [u8; 20]) -> &[u8] {
    let mut start = buf.len();
    loop {
        start -= 1;
        buf[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    &buf[start..]
}

#[cfg(test)]
mod tests {
    #[test]
    fn decimal_spells_like_to_string() {
        let mut buf = [0u8; 20];
        for n in [0, 7, 10, 4206, 99_999, usize::MAX] {
            assert_eq!(super::decimal(n, &mut buf), n.to_string().as_bytes());
        }
    }
}
