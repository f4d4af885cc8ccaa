//! Metadata written inside a recording, so a file that leaves the catalog still says which call it holds:
//! a RIFF `LIST`/`INFO` chunk in WAV, Vorbis comments in the `OpusTags` header of Ogg Opus.

/// What a recording file says about its call. Values come from the network (Call-ID, display names): the
/// writers drop NUL and control characters and cap each value, so a hostile header cannot break the file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordingTags {
    /// SIP Call-ID.
    pub call_id: String,
    /// The caller (display name and URI, as one line).
    pub from: String,
    /// The callee.
    pub to: String,
    /// Call start, RFC 3339 UTC.
    pub started: String,
    /// Call end, RFC 3339 UTC (known to WAV, whose tags are written last; Ogg's come first).
    pub ended: Option<String>,
}

/// Unix microseconds as RFC 3339 UTC with whole seconds (`2026-11-29T10:00:00Z`), the form the catalog and
/// `recorder query` print (days to civil date: H. Hinnant's algorithm).
pub fn rfc3339_seconds(unix_us: i64) -> String {
    let secs = unix_us.div_euclid(1_000_000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Longest value written for one tag (bytes of UTF-8, cut at a character boundary).
pub const MAX_TAG_LEN: usize = 1024;

/// Software name written in the files.
pub(crate) const SOFTWARE: &str = concat!("recorder ", env!("CARGO_PKG_VERSION"));

/// `value` without control characters, at most [`MAX_TAG_LEN`] bytes.
pub(crate) fn clean(value: &str) -> String {
    let mut out = String::with_capacity(value.len().min(MAX_TAG_LEN));
    for c in value.chars().filter(|c| !c.is_control()) {
        if out.len() + c.len_utf8() > MAX_TAG_LEN {
            break;
        }
        out.push(c);
    }
    out
}

/// Longest `LIST`/`INFO` chunk [`RecordingTags::riff_info`] writes (five capped values and their headers).
pub const MAX_RIFF_INFO_LEN: usize = 12 + 5 * (8 + 2 * MAX_TAG_LEN + 160);

/// The length of the `LIST`/`INFO` chunk that ends `tail` (the last bytes of a WAV file), if one does: how a
/// reader that cannot trust the data size (an append-only file whose header was never patched) finds where
/// the samples end.
pub fn trailing_riff_info_len(tail: &[u8]) -> Option<usize> {
    (0..tail.len().saturating_sub(11)).find_map(|i| {
        let c = &tail[i..];
        let size = u32::from_le_bytes(c[4..8].try_into().ok()?) as usize;
        (&c[..4] == b"LIST" && &c[8..12] == b"INFO" && size.checked_add(8) == Some(c.len()))
            .then_some(c.len())
    })
}

impl RecordingTags {
    /// The Vorbis comments (`KEY=value`, RFC 7845 §5.2) of these tags.
    pub fn vorbis_comments(&self) -> Vec<String> {
        let mut c = vec![
            format!("TITLE=Call {}", clean(&self.call_id)),
            format!("CALL_ID={}", clean(&self.call_id)),
            format!("FROM={}", clean(&self.from)),
            format!("TO={}", clean(&self.to)),
            format!("DATE={}", clean(&self.started)),
            format!("STARTED={}", clean(&self.started)),
        ];
        if let Some(e) = &self.ended {
            c.push(format!("ENDED={}", clean(e)));
        }
        c.push(format!("ENCODER={SOFTWARE}"));
        c
    }

    /// The RIFF `LIST` chunk (type `INFO`) of these tags: INAM title, IART caller, ICMT every field as
    /// `key=value` lines, ICRD start, ISFT software. Each sub-chunk is NUL-terminated and padded to even length.
    pub fn riff_info(&self) -> Vec<u8> {
        let mut comment = format!(
            "call_id={}\nfrom={}\nto={}\nstarted={}",
            clean(&self.call_id),
            clean(&self.from),
            clean(&self.to),
            clean(&self.started)
        );
        if let Some(e) = &self.ended {
            comment.push_str(&format!("\nended={}", clean(e)));
        }
        let fields: [(&[u8; 4], String); 5] = [
            (b"INAM", format!("Call {}", clean(&self.call_id))),
            (b"IART", clean(&self.from)),
            (b"ICMT", comment),
            (b"ICRD", clean(&self.started)),
            (b"ISFT", SOFTWARE.to_owned()),
        ];
        let mut body = b"INFO".to_vec();
        for (id, value) in fields {
            let len = value.len() + 1;
            body.extend_from_slice(id);
            body.extend_from_slice(&(len as u32).to_le_bytes());
            body.extend_from_slice(value.as_bytes());
            body.push(0);
            if len % 2 == 1 {
                body.push(0);
            }
        }
        let mut chunk = Vec::with_capacity(8 + body.len());
        chunk.extend_from_slice(b"LIST");
        chunk.extend_from_slice(&(body.len() as u32).to_le_bytes());
        chunk.extend_from_slice(&body);
        chunk
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trailing_info_chunk_is_found_at_the_end_only() {
        let t = RecordingTags {
            call_id: "c@h".into(),
            ..RecordingTags::default()
        };
        let list = t.riff_info();
        assert!(list.len() <= MAX_RIFF_INFO_LEN);
        let mut file = vec![0u8; 1000];
        file.extend_from_slice(&list);
        assert_eq!(trailing_riff_info_len(&file), Some(list.len()));
        file.extend_from_slice(&[0, 0]);
        assert_eq!(trailing_riff_info_len(&file), None, "not at the end");
        assert_eq!(trailing_riff_info_len(&[0u8; 100]), None);
    }

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(rfc3339_seconds(0), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339_seconds(1_795_946_400_000_000),
            "2026-11-29T10:00:00Z"
        );
        assert_eq!(rfc3339_seconds(951_782_400_999_999), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339_seconds(-1_000_000), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn hostile_values_are_cleaned_and_capped() {
        let t = RecordingTags {
            call_id: "a\0b\r\nc".into(),
            from: "é".repeat(2000),
            ..RecordingTags::default()
        };
        assert_eq!(clean(&t.call_id), "abc");
        let from = clean(&t.from);
        assert!(from.len() <= MAX_TAG_LEN && from.chars().all(|c| c == 'é'));
        let info = t.riff_info();
        assert_eq!(&info[..4], b"LIST");
        let size = u32::from_le_bytes(info[4..8].try_into().unwrap()) as usize;
        assert_eq!(size + 8, info.len());
        assert_eq!(info.len() % 2, 0);
        // sub-chunks walk to the end exactly
        let mut at = 12;
        while at < info.len() {
            let n = u32::from_le_bytes(info[at + 4..at + 8].try_into().unwrap()) as usize;
            assert_eq!(info[at + 8 + n - 1], 0, "NUL-terminated");
            at += 8 + n + n % 2;
        }
        assert_eq!(at, info.len());
    }
}
