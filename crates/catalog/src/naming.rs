//! Recording file names: one directory per UTC day, one file per call named from its start time and its
//! Call-ID (pure: no clock, no file system access).
//!
//! Call-IDs come from the network and are attacker-controlled, so the name keeps only `[A-Za-z0-9.-]` of
//! the Call-ID (every other byte, `_` included, becomes `_`), caps that part at [`MAX_ID_CHARS`]
//! characters, and always appends 16 hex digits of SHA-1 over the raw Call-ID: two Call-IDs that sanitise
//! alike still get different names, and no name can contain a path separator, be `.`/`..`, or be empty.
//! The sink should still create files with `create_new` (two calls with the same Call-ID in the same second
//! — a re-used Call-ID — get the same name; it can then add a counter with [`with_counter`]).

use std::path::{Path, PathBuf};

use sha1::{Digest, Sha1};

use crate::time::Civil;

/// At most this many characters of the sanitised Call-ID appear in a file name.
pub const MAX_ID_CHARS: usize = 48;

/// The suffix of a recording that is still being written.
pub const PART_SUFFIX: &str = ".part";

/// `YYYY-MM-DD` (UTC) of a start time: the day directory name.
pub fn day_dir_name(started_at_us: i64) -> String {
    Civil::from_unix_us(started_at_us).date_string()
}

/// The Call-ID part of a file name: the sanitised Call-ID, `_`, and 16 hex digits of a stable hash of the
/// raw Call-ID.
pub fn sanitise_call_id(call_id: &str) -> String {
    let mut out = String::with_capacity(MAX_ID_CHARS + 17);
    for c in call_id.chars().take(MAX_ID_CHARS) {
        out.push(if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
            c
        } else {
            '_'
        });
    }
    if out.is_empty() {
        out.push_str("call");
    }
    let digest = Sha1::digest(call_id.as_bytes());
    out.push('_');
    for byte in &digest[..8] {
        out.push_str(&format!("{byte:02x}"));
    }
    out
}

/// `HHMMSS_<sanitised Call-ID>_<hash>.<ext>` (UTC); `ext` is sanitised like a Call-ID but without a hash
/// (`wav`, `opus`, `pcap`).
pub fn file_name(started_at_us: i64, call_id: &str, ext: &str) -> String {
    let c = Civil::from_unix_us(started_at_us);
    let ext: String = ext
        .chars()
        .take(16)
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let ext = if ext.is_empty() {
        "bin".to_owned()
    } else {
        ext
    };
    format!(
        "{:02}{:02}{:02}_{}.{ext}",
        c.hour,
        c.minute,
        c.second,
        sanitise_call_id(call_id)
    )
}

/// `<root>/YYYY-MM-DD/HHMMSS_<sanitised Call-ID>_<hash>.<ext>`: where the recording of a call that started
/// at `started_at_us` (unix µs) goes. The result is always two components below `root`.
pub fn recording_path(root: &Path, started_at_us: i64, call_id: &str, ext: &str) -> PathBuf {
    root.join(day_dir_name(started_at_us))
        .join(file_name(started_at_us, call_id, ext))
}

/// `path` with [`PART_SUFFIX`] appended (`a.wav` → `a.wav.part`): the name while the file is written; the
/// sink renames it to `path` when the recording is complete.
pub fn part_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(PART_SUFFIX);
    PathBuf::from(s)
}

/// `path` with `-<n>` before its extension (`a.wav`, 2 → `a-2.wav`), for a name already taken.
pub fn with_counter(path: &Path, n: u32) -> PathBuf {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match path.extension() {
        Some(ext) => format!("{stem}-{n}.{}", ext.to_string_lossy()),
        None => format!("{stem}-{n}"),
    };
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::path::Component;

    const T: i64 = 1_795_946_400_000_000; // 2026-11-29T10:00:00Z

    #[test]
    fn layout() {
        let p = recording_path(Path::new("/rec"), T + 5_123_456, "abc123@host", "wav");
        let name = p.file_name().unwrap().to_str().unwrap();
        assert!(p.starts_with("/rec/2026-11-29"), "{p:?}");
        assert!(name.starts_with("100005_abc123_host_"), "{name}");
        assert!(name.ends_with(".wav"));
        assert_eq!(name.len(), "100005_abc123_host_".len() + 16 + 4);
        assert_eq!(
            part_path(&p).to_str().unwrap(),
            format!("{}.part", p.to_str().unwrap())
        );
        assert_eq!(
            with_counter(Path::new("/r/d/a.wav"), 2),
            Path::new("/r/d/a-2.wav")
        );
    }

    #[test]
    fn hostile_call_ids_stay_inside() {
        for id in [
            "",
            ".",
            "..",
            "../../etc/passwd",
            "/abs",
            "a\\b",
            "\0",
            "é/..",
            "C:\\x",
            "a\nb",
        ] {
            let p = recording_path(Path::new("root"), T, id, "../wav");
            let rel = p.strip_prefix("root").unwrap();
            let comps: Vec<_> = rel.components().collect();
            assert_eq!(comps.len(), 2, "{id:?} -> {p:?}");
            assert!(
                comps.iter().all(|c| matches!(c, Component::Normal(_))),
                "{id:?} -> {p:?}"
            );
        }
    }

    #[test]
    fn hash_is_stable() {
        // SHA-1("abc") = a9993e364706816aba3e25717850c26c9cd0d89d (FIPS 180-2 test vector)
        assert_eq!(sanitise_call_id("abc"), "abc_a9993e364706816a");
        assert_eq!(sanitise_call_id(""), "call_da39a3ee5e6b4b0d");
    }

    proptest! {
        #[test]
        fn never_escapes_root(id in any::<String>(), ext in any::<String>(), t in any::<i64>()) {
            let t = t / 4; // keep years in i64 range after day arithmetic
            let p = recording_path(Path::new("root"), t, &id, &ext);
            let rel = p.strip_prefix("root").unwrap();
            let comps: Vec<_> = rel.components().collect();
            prop_assert_eq!(comps.len(), 2);
            for c in comps {
                let Component::Normal(s) = c else { panic!("{p:?}") };
                let s = s.to_str().unwrap();
                prop_assert!(s != "." && s != ".." && !s.is_empty());
                prop_assert!(s.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)));
            }
        }

        #[test]
        fn distinct_call_ids_distinct_names(a in ".{0,80}", b in ".{0,80}") {
            prop_assume!(a != b);
            prop_assert_ne!(file_name(T, &a, "wav"), file_name(T, &b, "wav"));
        }

        #[test]
        fn alike_after_sanitising_still_distinct(prefix in "[a-z]{0,60}", x in "[^A-Za-z0-9.-]", y in "[^A-Za-z0-9.-]") {
            prop_assume!(x != y);
            let a = format!("{prefix}{x}");
            let b = format!("{prefix}{y}");
            prop_assert_ne!(file_name(T, &a, "wav"), file_name(T, &b, "wav"));
        }
    }
}
