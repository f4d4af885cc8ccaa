#![allow(missing_docs)]
//! Cost of sealing and opening: one store flush of a stereo 8 kHz WAV call (500 ms = 16,000 bytes, one
//! chunk) and a full 64 KiB chunk.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rec_vault::{FileRandom, Kek, Keyring, StreamWriter, FILE_RANDOM_LEN};

fn bench(c: &mut Criterion) {
    let kek = Kek::new("b", [9; 32]).unwrap();
    let random = FileRandom::from_bytes(&[3; FILE_RANDOM_LEN]);
    let mut g = c.benchmark_group("vault");
    for size in [16_000usize, 65_536] {
        let plain = vec![0x5au8; size];
        g.throughput(Throughput::Bytes(size as u64));
        g.bench_with_input(BenchmarkId::new("seal_flush", size), &plain, |b, p| {
            let mut w = StreamWriter::new(&kek, &random, 65_536).unwrap();
            let mut out = Vec::with_capacity(size + 256);
            b.iter(|| {
                out.clear();
                w.write_flushed(p, &mut out).unwrap();
                std::hint::black_box(&out);
            })
        });
        // one sealed file of a single chunk, opened again and again
        let mut w = StreamWriter::new(&kek, &random, 65_536).unwrap();
        let mut file = Vec::new();
        w.write_flushed(&plain, &mut file).unwrap();
        w.finish(&mut file).unwrap();
        let keys = Keyring::new(kek.clone(), vec![]).unwrap();
        let d = rec_vault::Decryptor::open(&file, &keys).unwrap();
        let start = d.header_len();
        let record = file[start..start + 4 + size + 16].to_vec();
        g.bench_with_input(BenchmarkId::new("open_chunk", size), &record, |b, r| {
            let mut buf = r.clone();
            b.iter(|| {
                buf.copy_from_slice(r);
                std::hint::black_box(d.open_chunk(0, start as u64, &mut buf).unwrap().0.len());
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
