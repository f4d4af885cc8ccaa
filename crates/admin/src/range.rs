//! `Range: bytes=…` requests (RFC 9110 §14), single range only.

/// What to send for a `Range` header and a representation of `size` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeReply {
    /// The whole representation (200): no header, a syntactically invalid one, another unit, or several
    /// ranges (which a server may ignore).
    Full,
    /// Bytes `start..=end` (206 with `Content-Range: bytes start-end/size`).
    Partial {
        /// First byte.
        start: u64,
        /// Last byte (inclusive).
        end: u64,
    },
    /// No byte of the range exists (416 with `Content-Range: bytes */size`).
    Unsatisfiable,
}

fn number(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > 19 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Interprets a `Range` header value for a representation of `size` bytes.
pub fn parse_range(header: &str, size: u64) -> RangeReply {
    let Some((unit, set)) = header.trim().split_once('=') else {
        return RangeReply::Full;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return RangeReply::Full;
    }
    let set = set.trim();
    if set.contains(',') {
        return RangeReply::Full;
    }
    let Some((first, last)) = set.split_once('-') else {
        return RangeReply::Full;
    };
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        // suffix range: the last N bytes
        let Some(n) = number(last) else {
            return RangeReply::Full;
        };
        if n == 0 || size == 0 {
            return RangeReply::Unsatisfiable;
        }
        return RangeReply::Partial {
            start: size - n.min(size),
            end: size - 1,
        };
    }
    let Some(start) = number(first) else {
        return RangeReply::Full;
    };
    let end = if last.is_empty() {
        None
    } else {
        match number(last) {
            Some(e) if e >= start => Some(e),
            // last < first: an invalid range-spec, so the header is ignored
            _ => return RangeReply::Full,
        }
    };
    if start >= size {
        return RangeReply::Unsatisfiable;
    }
    RangeReply::Partial {
        start,
        end: end.map_or(size - 1, |e| e.min(size - 1)),
    }
}

#[cfg(test)]
mod tests {
    use super::RangeReply::*;
    use super::*;

    #[test]
    fn rfc9110_examples() {
        // RFC 9110 §14.1.2 examples, for a 10000-byte representation
        assert_eq!(
            parse_range("bytes=0-499", 10000),
            Partial { start: 0, end: 499 }
        );
        assert_eq!(
            parse_range("bytes=500-999", 10000),
            Partial {
                start: 500,
                end: 999
            }
        );
        assert_eq!(
            parse_range("bytes=-500", 10000),
            Partial {
                start: 9500,
                end: 9999
            }
        );
        assert_eq!(
            parse_range("bytes=9500-", 10000),
            Partial {
                start: 9500,
                end: 9999
            }
        );
        assert_eq!(parse_range("bytes=0-0,-1", 10000), Full);
    }

    #[test]
    fn edges() {
        assert_eq!(parse_range("bytes=0-", 10), Partial { start: 0, end: 9 });
        assert_eq!(parse_range("bytes=5-100", 10), Partial { start: 5, end: 9 });
        assert_eq!(parse_range("bytes=-100", 10), Partial { start: 0, end: 9 });
        assert_eq!(parse_range("BYTES = 2-3", 10), Partial { start: 2, end: 3 });
        assert_eq!(parse_range("bytes=10-", 10), Unsatisfiable);
        assert_eq!(parse_range("bytes=10-20", 10), Unsatisfiable);
        assert_eq!(parse_range("bytes=-0", 10), Unsatisfiable);
        assert_eq!(parse_range("bytes=0-", 0), Unsatisfiable);
        assert_eq!(parse_range("bytes=-5", 0), Unsatisfiable);
        assert_eq!(parse_range("bytes=5-4", 10), Full);
        assert_eq!(parse_range("bytes=a-4", 10), Full);
        assert_eq!(parse_range("bytes=+1-4", 10), Full);
        assert_eq!(parse_range("bytes=-", 10), Full);
        assert_eq!(parse_range("items=0-4", 10), Full);
        assert_eq!(parse_range("bytes 0-4", 10), Full);
        assert_eq!(parse_range("bytes=99999999999999999999-", 10), Full);
        assert_eq!(
            parse_range("bytes=0-18446744073709551615", 10),
            Full // 20 digits: refused rather than parsed
        );
        assert_eq!(
            parse_range("bytes=0-9999999999999999999", 10),
            Partial { start: 0, end: 9 }
        );
    }
}
