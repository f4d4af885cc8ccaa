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
            if let Some(h) = p.header("content-length") {
                if h.raw_value.bytes().all(|b| b.is_ascii_digit()) {
                    edits.push((
                        h.value_range.clone(),
                        Cow::Owned(new.len().to_string().into_bytes()),
                    ));
                }
            }
        }
        edits.push((r.clone(), Cow::Borrowed(*new)));
    }
    if m.content_length().is_some() {
        let new_len = (body.len() as isize + delta) as usize;
        let digits: Cow<'_, [u8]> = Cow::Owned(new_len.to_string().into_bytes());
        for h in m.content_length_headers() {
            edits.push((h.value_range.clone(), digits.clone()));
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
