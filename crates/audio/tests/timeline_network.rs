//! Timeline + mixer under network impairments. Reference = the source after the test-local μ-law round trip, so
//! a loss-free path must reproduce it sample-exactly at the capture-time position (delay × 8 kHz).

mod timeline_support;

use rec_audio::{MixerConfig, TimelineConfig};
use timeline_support::*;

const SECS: usize = 10;

fn source() -> (Vec<i16>, Vec<i16>) {
    let src = Voice::new(1).samples(SECS * 8000);
    let reference = ulaw_roundtrip(&src);
    (src, reference)
}

fn mono() -> MixerConfig {
    MixerConfig::new(8000, 1)
}

/// Asserts `got[k + lag] == want[k]` for every k in `range`.
fn assert_exact(want: &[i16], got: &[i16], lag: usize, range: std::ops::Range<usize>) {
    for k in range {
        assert_eq!(
            got.get(k + lag).copied(),
            Some(want[k]),
            "sample {k} (output {})",
            k + lag
        );
    }
}

#[test]
fn timeline_clean_path_is_sample_exact_at_capture_time() {
    let (_, reference) = source();
    let pkts = packetize(&Voice::new(1).samples(SECS * 8000), 1000, 5555, 7, 30_000);
    let (sink, tls, _) = run(vec![(pkts, 0, TimelineConfig::new(0))], mono());
    let out = sink.channel(0);
    assert_exact(&reference, &out, 240, 0..reference.len());
    assert_eq!(out.len(), reference.len() + 240);
    let st = tls[0].stats();
    assert_eq!(
        (st.packets, st.lost, st.duplicates, st.late),
        (500, 0, 0, 0)
    );
    assert!(sink.finished);
}

#[test]
fn timeline_reorder_within_window() {
    let (src, reference) = source();
    let mut pkts = packetize(&src, 65_500, 0xFFFF_F000, 7, 30_000); // seq and ts wrap inside the call
                                                                    // every 5th packet overtaken by the next two (arrives 45 ms late)
    for (i, p) in pkts.iter_mut().enumerate() {
        if i % 5 == 2 {
            p.capture_us += 45_000;
        }
    }
    let (sink, tls, _) = run(vec![(pkts, 0, TimelineConfig::new(0))], mono());
    assert_exact(&reference, &sink.channel(0), 240, 0..reference.len());
    let st = tls[0].stats();
    assert_eq!((st.packets, st.lost, st.late), (500, 0, 0));
}

#[test]
fn timeline_random_loss_5_percent_counted_and_concealed() {
    let (src, reference) = source();
    let mut rng = Rng(42);
    let mut pkts = packetize(&src, 1, 0, 7, 30_000);
    let mut lost = vec![false; pkts.len()];
    let mut kept = Vec::new();
    for (i, p) in pkts.drain(..).enumerate() {
        // never the first/last packet: a loss there is not observable as a gap
        if i > 0 && i < 499 && rng.unit() < 0.05 {
            lost[i] = true;
        } else {
            kept.push(p);
        }
    }
    let n_lost = lost.iter().filter(|&&l| l).count() as u64;
    assert!(n_lost > 10);
    let (sink, tls, _) = run(vec![(kept, 0, TimelineConfig::new(0))], mono());
    let out = sink.channel(0);
    // expected: reference with the lost frames replaced by the test decoder's concealment (silence)
    let mut want = reference.clone();
    for (i, _) in lost.iter().enumerate().filter(|(_, &l)| l) {
        want[i * 160..(i + 1) * 160].fill(0);
    }
    assert_exact(&want, &out, 240, 0..want.len());
    let st = tls[0].stats();
    assert_eq!(st.lost, n_lost);
    assert_eq!(st.concealed_samples, n_lost * 160);
    // and against the source itself: 5 % missing frames still correlate strongly
    let (lag, c) = best_lag(&src, &out, 400);
    assert_eq!(lag, 240);
    assert!(c > 0.9, "correlation {c}");
}

#[test]
fn timeline_jitter_40ms_no_loss_and_aligned() {
    let (src, reference) = source();
    let mut rng = Rng(7);
    let mut pkts = packetize(&src, 1, 0, 7, 0);
    for p in &mut pkts {
        p.capture_us += 50_000 + ((rng.unit() - 0.5) * 80_000.0) as i64; // 50 ms ± 40 ms
    }
    let min_delay = pkts
        .iter()
        .enumerate()
        .map(|(i, p)| p.capture_us - i as i64 * 20_000)
        .min()
        .unwrap_or(0);
    let (sink, tls, _) = run(vec![(pkts, 0, TimelineConfig::new(0))], mono());
    let st = tls[0].stats();
    assert_eq!((st.lost, st.late, st.packets), (0, 0, 500));
    let out = sink.channel(0);
    // after a few seconds the mapping has found the minimum delay; the mixer keeps a stream contiguous while it is
    // within 5 ms (a quarter of its 20 ms re-anchor threshold) of the capture mapping: lag = minimum delay + ≤ 5 ms
    let tail = &reference[5 * 8000..];
    let (lag, c) = best_lag(tail, &out[5 * 8000..], 1200);
    let expected = min_delay * 8 / 1000;
    assert!(
        (lag - expected).abs() <= 40,
        "lag {lag} expected {expected} ± 40"
    );
    assert!(c > 0.999, "correlation {c}");
    assert!(snr_db(tail, &out[5 * 8000..], lag) > 50.0);
}

#[test]
fn timeline_duplicates_dropped() {
    let (src, reference) = source();
    let pkts = packetize(&src, 1, 0, 7, 30_000);
    let mut with_dups = Vec::new();
    let mut n = 0;
    for (i, p) in pkts.into_iter().enumerate() {
        if i % 7 == 3 {
            let mut d = p.clone();
            d.capture_us += 5_000 + (i as i64 % 3) * 20_000; // right after, or after the next packet
            with_dups.push(d);
            n += 1;
        }
        with_dups.push(p);
    }
    let (sink, tls, _) = run(vec![(with_dups, 0, TimelineConfig::new(0))], mono());
    assert_exact(&reference, &sink.channel(0), 240, 0..reference.len());
    let st = tls[0].stats();
    assert_eq!((st.duplicates, st.packets, st.lost), (n, 500, 0));
}

#[test]
fn timeline_marker_timestamp_jump_is_silence_not_loss() {
    let (src, reference) = source();
    let mut pkts = packetize(&src, 1, 0, 7, 30_000);
    // silence suppression: frames 100..150 not sent, sequence stays continuous, marker on the talk spurt
    pkts.drain(100..150);
    for (i, p) in pkts.iter_mut().enumerate().skip(100) {
        p.seq = 1 + i as u16;
        p.marker = i == 100;
    }
    let (sink, tls, _) = run(vec![(pkts, 0, TimelineConfig::new(0))], mono());
    let mut want = reference.clone();
    want[100 * 160..150 * 160].fill(0);
    assert_exact(&want, &sink.channel(0), 240, 0..want.len());
    let st = tls[0].stats();
    assert_eq!(
        (st.lost, st.silence_samples, st.concealed_samples),
        (0, 50 * 160, 0)
    );
}

#[test]
fn timeline_ssrc_change_continues_at_capture_time() {
    let (src, reference) = source();
    let mut pkts = packetize(&src, 1, 0, 7, 30_000);
    // from packet 250 on, a new SSRC with unrelated sequence and timestamp bases
    for (i, p) in pkts.iter_mut().enumerate().skip(250) {
        p.ssrc = 99;
        p.seq = 40_000u16.wrapping_add(i as u16);
        p.ts = 3_000_000_000u32.wrapping_add(i as u32 * 160);
    }
    let (sink, tls, _) = run(vec![(pkts, 0, TimelineConfig::new(0))], mono());
    assert_exact(&reference, &sink.channel(0), 240, 0..reference.len());
    let st = tls[0].stats();
    assert_eq!((st.resyncs, st.lost, st.packets), (1, 0, 500));
}

#[test]
fn timeline_hold_then_resume_with_new_timestamp_base() {
    // 40 s call: hold (no packets) from 10 s to 30 s; after the hold the sender restarts its timestamps
    let src = Voice::new(2).samples(40 * 8000);
    let reference = ulaw_roundtrip(&src);
    let mut pkts = packetize(&src, 1, 0, 7, 30_000);
    pkts.drain(500..1500);
    for (i, p) in pkts.iter_mut().enumerate().skip(500) {
        p.seq = 1 + i as u16;
        p.ts = 777_777u32.wrapping_add((i as u32 - 500) * 160);
    }
    let (sink, tls, mixer) = run(vec![(pkts, 0, TimelineConfig::new(0))], mono());
    let out = sink.channel(0);
    let mut want = reference.clone();
    want[500 * 160..1500 * 160].fill(0);
    assert_exact(&want, &out, 240, 0..want.len());
    assert_eq!(
        out.len(),
        want.len() + 240,
        "silence of the right length, no shift after"
    );
    assert_eq!(tls[0].stats().lost, 0);
    assert_eq!(mixer.stream_stats(0).reanchors, 1);
}

#[test]
fn timeline_comfort_noise_fills_gap_at_level() {
    let (src, reference) = source();
    let mut pkts = packetize(&src, 1, 0, 7, 30_000);
    // frame 100 is a CN packet (RFC 3389, level 40 -dBov), frames 101..150 not sent, sequence continuous
    pkts[100].pt = 13;
    pkts[100].payload = vec![40];
    pkts.drain(101..150);
    for (i, p) in pkts.iter_mut().enumerate().skip(101) {
        p.seq = 1 + i as u16;
    }
    let (sink, tls, _) = run(vec![(pkts, 0, TimelineConfig::new(0))], mono());
    let out = sink.channel(0);
    let mut want = reference.clone();
    want[100 * 160..150 * 160].fill(0);
    for k in (0..100 * 160).chain(150 * 160..want.len()) {
        assert_eq!(out[k + 240], want[k], "sample {k}");
    }
    let noise = &out[240 + 100 * 160..240 + 150 * 160];
    let rms =
        (noise.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / noise.len() as f64).sqrt();
    let expected = 32767.0 * 10f64.powf(-40.0 / 20.0); // -40 dBov
    assert!(
        (rms / expected - 1.0).abs() < 0.2,
        "noise rms {rms}, expected {expected}"
    );
    assert_eq!(tls[0].stats().silence_samples, 50 * 160);
    assert_eq!(tls[0].stats().lost, 0);
}

#[test]
fn timeline_garbage_never_panics() {
    let mut rng = Rng(3);
    let mut pkts = Vec::new();
    for i in 0..3000 {
        let len = (rng.next_u64() % 300) as usize;
        pkts.push(Pkt {
            capture_us: i * 1000 + (rng.next_u64() % 1_000_000) as i64,
            seq: rng.next_u64() as u16,
            ts: rng.next_u64() as u32,
            marker: rng.next_u64() & 1 == 1,
            pt: [0u8, 13, 96, 97, 101, 8][(rng.next_u64() % 6) as usize],
            ssrc: (rng.next_u64() % 3) as u32,
            payload: (0..len).map(|_| rng.next_u64() as u8).collect(),
        });
    }
    let mut cfg = TimelineConfig::new(0);
    cfg.red_pt = Some(96);
    cfg.dtmf_pt = Some(101);
    cfg.cn_pt = Some(97);
    let (sink, tls, _) = run(vec![(pkts, 0, cfg)], mono());
    assert!(tls[0].stats().packets > 0);
    assert!(sink.finished);
}

/// PCMU decoder whose concealment is recognisable (constant 1234), to see the timeline use `Decoder::conceal`.
struct MarkedConceal(TestPcmu);

impl rec_audio::Decoder for MarkedConceal {
    fn name(&self) -> &'static str {
        "PCMU"
    }
    fn sample_rate(&self) -> u32 {
        8000
    }
    fn rtp_clock_rate(&self) -> u32 {
        8000
    }
    fn decode(&mut self, p: &[u8], out: &mut [i16]) -> Result<usize, rec_audio::DecodeError> {
        self.0.decode(p, out)
    }
    fn conceal(&mut self, samples: usize, out: &mut [i16]) -> usize {
        let n = samples.min(out.len());
        out[..n].fill(1234);
        n
    }
}

#[derive(Default)]
struct Collect(Vec<(i64, Vec<i16>)>);

impl rec_audio::TimelineOutput for Collect {
    fn pcm(&mut self, start_us: i64, _rate: u32, samples: &[i16]) {
        self.0.push((start_us, samples.to_vec()));
    }
}

#[test]
fn timeline_loss_uses_decoder_concealment_at_the_lost_time() {
    let src = Voice::new(6).samples(8000);
    let mut pkts = packetize(&src, 10, 0, 7, 30_000);
    pkts.remove(20); // frame 20 lost
    let mut tl =
        rec_audio::Timeline::new(TimelineConfig::new(0), Box::new(MarkedConceal(TestPcmu)));
    let mut out = Collect::default();
    for p in &pkts {
        tl.push(&p.rtp(), &mut out);
    }
    tl.finish(&mut out);
    let concealed: Vec<_> = out
        .0
        .iter()
        .filter(|(_, s)| s.iter().all(|&x| x == 1234))
        .collect();
    assert_eq!(concealed.len(), 1);
    assert_eq!(
        concealed[0].0,
        30_000 + 20 * 20_000,
        "placed at the lost frame's capture time"
    );
    assert_eq!(concealed[0].1.len(), 160);
    // every chunk starts where the previous ended: one contiguous second
    let total: usize = out.0.iter().map(|(_, s)| s.len()).sum();
    assert_eq!(total, 8000);
    for w in out.0.windows(2) {
        assert_eq!(w[1].0 - w[0].0, w[0].1.len() as i64 * 125);
    }
    assert_eq!((tl.stats().lost, tl.stats().concealed_samples), (1, 160));
}

/// Regression: a burst loss longer than the reorder window with nothing waiting (found replaying a real capture,
/// where the timeline spun forever). The stream must continue after the gap, the gap counted as loss, and the
/// audio after the gap land at its capture time.
#[test]
fn timeline_burst_loss_longer_than_window_continues() {
    let (src, reference) = source();
    let pkts = packetize(&src, 100, 0, 7, 30_000);
    // drop packets 50..150 (2 s, far more than the 32-packet window)
    let kept: Vec<_> = pkts
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !(50..150).contains(i))
        .map(|(_, p)| p)
        .collect();
    let (sink, tls, _) = run(vec![(kept, 0, TimelineConfig::new(0))], mono());
    let st = tls[0].stats();
    assert_eq!((st.packets, st.lost), (400, 100));
    let out = sink.channel(0);
    // before and after the gap the audio is exact at its capture-time position
    assert_exact(&reference, &out, 240, 0..50 * 160);
    assert_exact(&reference, &out, 240, 150 * 160..reference.len());
}
