//! Round trips and every tamper case of the encrypted file format, each with its precise error.

use proptest::prelude::*;
use rec_vault::*;

fn kek(id: &str, byte: u8) -> Kek {
    Kek::new(id, [byte; 32]).unwrap()
}

fn random(seed: u8) -> FileRandom {
    let mut b = [0u8; FILE_RANDOM_LEN];
    for (i, x) in b.iter_mut().enumerate() {
        *x = seed.wrapping_mul(31).wrapping_add(i as u8);
    }
    FileRandom::from_bytes(&b)
}

fn ring() -> Keyring {
    Keyring::new(kek("k2", 2), vec![kek("k1", 1)]).unwrap()
}

/// Encrypts `plain` written in `pieces` pieces with a flush after each, chunk size `chunk`.
fn encrypt(plain: &[u8], pieces: usize, chunk: u32, k: &Kek) -> Vec<u8> {
    let mut w = StreamWriter::new(k, &random(7), chunk).unwrap();
    let mut out = Vec::new();
    let step = plain.len().div_ceil(pieces.max(1)).max(1);
    for p in plain.chunks(step) {
        w.write(p, &mut out).unwrap();
        w.flush(&mut out).unwrap();
    }
    w.finish(&mut out).unwrap();
    out
}

fn source(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + i / 251) as u8).collect()
}

/// Offsets of every chunk record.
fn records(file: &[u8]) -> Vec<(usize, usize)> {
    let mut at = header_info(file).unwrap().len;
    let mut v = Vec::new();
    while at < file.len() {
        let f = Frame::parse([file[at], file[at + 1], file[at + 2], file[at + 3]]);
        let len = f.record_len() as usize;
        v.push((at, len));
        at += len;
    }
    v
}

#[test]
fn round_trip_and_old_keys_still_read() {
    let plain = source(300_000);
    let old = encrypt(&plain, 7, 64 * 1024, &kek("k1", 1));
    let new = encrypt(&plain, 1, 64 * 1024, &kek("k2", 2));
    assert_eq!(decrypt(&old, &ring()).unwrap(), plain);
    assert_eq!(decrypt(&new, &ring()).unwrap(), plain);
    assert_eq!(header_info(&old).unwrap().key_id, "k1");
    assert!(is_vault(&old));
    // the plaintext does not appear in the file
    assert!(!old.windows(64).any(|w| w == &plain[1000..1064]));
}

#[test]
fn empty_stream_round_trips() {
    let f = encrypt(b"", 1, 16, &kek("k2", 2));
    assert_eq!(decrypt(&f, &ring()).unwrap(), b"");
}

#[test]
fn wrong_key_and_unknown_id() {
    let f = encrypt(&source(1000), 1, 256, &kek("k2", 2));
    let wrong = Keyring::new(kek("k2", 9), vec![]).unwrap();
    assert_eq!(decrypt(&f, &wrong), Err(VaultError::Unwrap("k2".into())));
    let other = Keyring::new(kek("k3", 2), vec![]).unwrap();
    let e = decrypt(&f, &other).unwrap_err();
    assert_eq!(e, VaultError::UnknownKeyId("k2".into()));
    assert!(e.to_string().contains("old_keys"), "{e}");
    assert_eq!(decrypt(b"RIFF....WAVE", &ring()), Err(VaultError::NotVault));
}

#[test]
fn flipped_bits_are_found_where_they_are() {
    let f = encrypt(&source(5000), 5, 512, &kek("k2", 2));
    let recs = records(&f);
    let hl = header_info(&f).unwrap().len;
    // in the nonce prefix, the wrap nonce or the wrapped key of the header (a flipped key id is an unknown id)
    for at in [20, hl - 1, hl - 20] {
        let mut g = f.clone();
        g[at] ^= 1;
        assert_eq!(
            decrypt(&g, &ring()),
            Err(VaultError::Unwrap("k2".into())),
            "byte {at}"
        );
    }
    // in a chunk's ciphertext, tag, or final flag
    let (at, len) = recs[3];
    for off in [5, len - 1] {
        let mut g = f.clone();
        g[at + off] ^= 0x10;
        assert_eq!(
            decrypt(&g, &ring()),
            Err(VaultError::ChunkAuth {
                index: 3,
                offset: at as u64
            })
        );
    }
    let mut g = f.clone();
    g[at] ^= 0x80; // mark chunk 3 final
    assert_eq!(
        decrypt(&g, &ring()),
        Err(VaultError::ChunkAuth {
            index: 3,
            offset: at as u64
        })
    );
}

#[test]
fn swapped_and_removed_chunks_are_named() {
    let f = encrypt(&source(5000), 10, 512, &kek("k2", 2));
    let recs = records(&f);
    assert!(recs.len() > 5);
    let piece = |i: usize| &f[recs[i].0..recs[i].0 + recs[i].1];
    let hl = header_info(&f).unwrap().len;
    // swap chunks 1 and 2
    let mut g = f[..hl].to_vec();
    for i in [0, 2, 1] {
        g.extend_from_slice(piece(i));
    }
    for i in 3..recs.len() {
        g.extend_from_slice(piece(i));
    }
    let e = decrypt(&g, &ring()).unwrap_err();
    assert_eq!(
        e,
        VaultError::ChunkMisplaced {
            index: 1,
            offset: recs[1].0 as u64,
            actual: 2
        }
    );
    assert!(e.to_string().contains("removed or reordered"), "{e}");
    // drop chunk 2
    let mut g = f[..recs[2].0].to_vec();
    g.extend_from_slice(&f[recs[3].0..]);
    assert!(matches!(
        decrypt(&g, &ring()),
        Err(VaultError::ChunkMisplaced {
            index: 2,
            actual: 3,
            ..
        })
    ));
    // a chunk from another file with the same key: altered
    let other = encrypt(&source(5000), 10, 512, &kek("k2", 2));
    let _ = other;
    let mut w = StreamWriter::new(&kek("k2", 2), &random(8), 512).unwrap();
    let mut o = Vec::new();
    w.write(&source(5000), &mut o).unwrap();
    w.finish(&mut o).unwrap();
    let orecs = records(&o);
    let mut g = f[..recs[1].0].to_vec();
    g.extend_from_slice(&o[orecs[1].0..orecs[1].0 + orecs[1].1]);
    g.extend_from_slice(&f[recs[2].0..]);
    assert!(matches!(
        decrypt(&g, &ring()),
        Err(VaultError::ChunkAuth { index: 1, .. })
    ));
}

#[test]
fn truncation_is_detected_and_recoverable() {
    let plain = source(5000);
    let f = encrypt(&plain, 10, 512, &kek("k2", 2));
    let recs = records(&f);
    // cut inside chunk 4
    let cut = recs[4].0 + 10;
    let s = scan(&f[..cut], &ring()).unwrap();
    assert_eq!(s.chunks, 4);
    assert_eq!(s.valid_len, recs[4].0 as u64);
    assert_eq!(
        s.stop,
        Some(VaultError::ChunkTruncated {
            index: 4,
            offset: recs[4].0 as u64,
            have: 10,
            need: recs[4].1 as u64
        })
    );
    assert_eq!(s.plain, plain[..s.plain.len()]);
    // cut at a chunk boundary: no final chunk
    let s = scan(&f[..recs[4].0], &ring()).unwrap();
    assert!(matches!(
        s.stop,
        Some(VaultError::MissingFinal { chunks: 4, .. })
    ));
    // the final chunk removed
    let last = recs[recs.len() - 1].0;
    assert!(matches!(
        decrypt(&f[..last], &ring()),
        Err(VaultError::MissingFinal { .. })
    ));
    // recovery: keep the valid prefix, append the final marker
    let d = Decryptor::open(&f, &ring()).unwrap();
    let mut rec = f[..s.valid_len as usize].to_vec();
    rec.extend(d.final_marker(s.chunks));
    assert_eq!(decrypt(&rec, &ring()).unwrap(), s.plain);
    // appended bytes after the final chunk
    let mut g = f.clone();
    g.extend_from_slice(b"xx");
    assert_eq!(decrypt(&g, &ring()), Err(VaultError::TrailingData(2)));
    // header cut short
    assert!(matches!(
        decrypt(&f[..20], &ring()),
        Err(VaultError::HeaderTruncated { have: 20, .. })
    ));
}

#[test]
fn chunks_decrypt_independently() {
    let plain = source(10_000);
    let f = encrypt(&plain, 3, 1000, &kek("k2", 2));
    let d = Decryptor::open(&f, &ring()).unwrap();
    let recs = records(&f);
    let mut plain_at = 0;
    let mut starts = Vec::new();
    for (i, &(at, len)) in recs.iter().enumerate() {
        let mut r = f[at..at + len].to_vec();
        let (p, _) = d.open_chunk(i as u32, at as u64, &mut r).unwrap();
        starts.push((plain_at, p.to_vec()));
        plain_at += p.len();
    }
    // in reverse order, each chunk alone
    for (start, p) in starts.iter().rev() {
        assert_eq!(&plain[*start..*start + p.len()], &p[..]);
    }
}

#[test]
fn keys_parse_from_hex_base64_raw_and_errors_hide_them() {
    let hex = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff\n";
    let a = Kek::parse("a", hex.as_bytes()).unwrap();
    let b64 = "ABEiM0RVZneImaq7zN3u/wARIjNEVWZ3iJmqu8zd7v8=";
    let b = Kek::parse("a", b64.as_bytes()).unwrap();
    let raw: Vec<u8> = (0..32u8)
        .map(|i| {
            [
                0x00u8, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc,
                0xdd, 0xee, 0xff,
            ][usize::from(i % 16)]
        })
        .collect();
    let c = Kek::parse("a", &raw).unwrap();
    let plain = source(100);
    let f = encrypt(&plain, 1, 64, &a);
    for k in [b, c] {
        assert_eq!(
            decrypt(&f, &Keyring::new(k, vec![]).unwrap()).unwrap(),
            plain
        );
    }
    let e = Kek::parse("a", b"secretsecretsecret").unwrap_err();
    assert!(!e.to_string().contains("secret"), "{e}");
    assert!(!format!("{a:?}").contains("00112233"), "{a:?}");
    assert!(Kek::parse("", hex.as_bytes()).is_err());
    assert!(Keyring::new(kek("x", 1), vec![kek("x", 2)]).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn any_writes_round_trip(
        pieces in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..700), 0..12),
        flushes in proptest::collection::vec(any::<bool>(), 12),
        chunk in 1u32..600,
    ) {
        let k = kek("p", 5);
        let mut w = StreamWriter::new(&k, &random(3), chunk).unwrap();
        let mut out = Vec::new();
        let mut all = Vec::new();
        for (i, (p, fl)) in pieces.iter().zip(&flushes).enumerate() {
            if i % 3 == 2 {
                w.write_flushed(p, &mut out).unwrap();
            } else {
                w.write(p, &mut out).unwrap();
                if *fl { w.flush(&mut out).unwrap(); }
            }
            all.extend_from_slice(p);
        }
        w.finish(&mut out).unwrap();
        let keys = Keyring::new(k, vec![]).unwrap();
        prop_assert_eq!(decrypt(&out, &keys).unwrap(), all);
    }

    #[test]
    fn any_flipped_bit_or_cut_is_detected(
        len in 1usize..3000,
        pos in any::<prop::sample::Index>(),
        bit in 0u8..8,
        cut in any::<bool>(),
    ) {
        let k = kek("p", 5);
        let f = encrypt(&source(len), 4, 256, &k);
        let keys = Keyring::new(k, vec![]).unwrap();
        let at = pos.index(f.len());
        let g = if cut { f[..at].to_vec() } else { let mut g = f.clone(); g[at] ^= 1 << bit; g };
        prop_assert!(decrypt(&g, &keys).is_err());
        // whatever scan still returns is a prefix of the source
        if let Ok(s) = scan(&g, &keys) {
            prop_assert_eq!(&s.plain[..], &source(len)[..s.plain.len()]);
        }
    }
}
