//! Mixer: clock drift between directions over a long call, conference of three streams, saturation, resampling.

mod timeline_support;

use rec_audio::{Mixer, MixerConfig, TimelineConfig};
use timeline_support::*;

/// Packets of `voice` sampled by a sender whose clock runs at 8000·(1+ppm·1e-6) Hz, captured 20 ms after sending
/// (capture clock = real time).
fn drifting_sender(voice: &Voice, secs: usize, ppm: f64, ssrc: u32) -> Vec<Pkt> {
    let fs = 8000.0 * (1.0 + ppm * 1e-6);
    let n = secs * 8000;
    let pcm: Vec<i16> = (0..n).map(|k| voice.at(k as f64 / fs) as i16).collect();
    let mut pkts = packetize(&pcm, 1, 0, ssrc, 0);
    for (i, p) in pkts.iter_mut().enumerate() {
        p.capture_us = ((i * 160) as f64 / fs * 1e6) as i64 + 20_000;
    }
    pkts
}

#[test]
fn mixer_clock_drift_100ppm_10min_no_growing_offset() {
    let voice = Voice::new(5);
    let secs = 600;
    let a = drifting_sender(&voice, secs, 100.0, 1);
    let b = drifting_sender(&voice, secs, -100.0, 2);
    let (sink, _, mixer) = run(
        vec![
            (a, 0, TimelineConfig::new(0)),
            (b, 1, TimelineConfig::new(0)),
        ],
        MixerConfig::new(8000, 2),
    );
    let (c0, c1) = (sink.channel(0), sink.channel(1));
    // Without re-anchoring the channels would drift apart by 200 ppm × 600 s = 120 ms (960 samples).
    // short windows (0.25 s): the two senders' clocks scale time by 200 ppm against each other, which would
    // smear a longer window
    let window = |ch: &[i16], at_s: usize| ch[at_s * 8000..at_s * 8000 + 2000].to_vec();
    let (lag_start, c_start) = best_lag(&window(&c0, 5), &window(&c1, 5), 400);
    let end = secs - 10;
    let (lag_end, c_end) = best_lag(&window(&c0, end), &window(&c1, end), 400);
    // same source on both channels: offset between channels at start and end within 25 ms (200 samples)
    assert!(
        lag_start.abs() <= 200 && c_start > 0.9,
        "start lag {lag_start} corr {c_start}"
    );
    assert!(
        lag_end.abs() <= 200 && c_end > 0.9,
        "end lag {lag_end} corr {c_end}"
    );
    assert!(
        (lag_end - lag_start).abs() <= 80,
        "offset grew from {lag_start} to {lag_end} samples"
    );
    // the correction mechanism was exercised on both streams (60 ms of drift each = ~480 one-sample slips)
    let (s0, s1) = (mixer.stream_stats(0), mixer.stream_stats(1));
    assert!(s0.slips >= 200 && s1.slips >= 200, "{s0:?} {s1:?}");
    // total length follows the capture clock (600 s), not either sender's clock
    let len_s = c0.len() as f64 / 8000.0;
    assert!((len_s - 600.0).abs() < 0.1, "{len_s} s");
}

#[test]
fn mixer_conference_three_streams_per_channel_assignment() {
    let v: Vec<Vec<i16>> = (0..3)
        .map(|i| Voice::new(20 + i).samples(5 * 8000))
        .collect();
    let streams = (0..3)
        .map(|i| {
            let ch = if i == 2 { 1 } else { 0 };
            (
                packetize(
                    &v[i],
                    100 * i as u16,
                    1000 * i as u32,
                    10 + i as u32,
                    30_000,
                ),
                ch,
                TimelineConfig::new(0),
            )
        })
        .collect();
    let (sink, _, _) = run(streams, MixerConfig::new(8000, 2));
    let r: Vec<Vec<i16>> = v.iter().map(|x| ulaw_roundtrip(x)).collect();
    let sum01: Vec<i16> = r[0]
        .iter()
        .zip(&r[1])
        .map(|(a, b)| a.saturating_add(*b))
        .collect();
    let (c0, c1) = (sink.channel(0), sink.channel(1));
    // exact: channel 0 = stream 0 + stream 1, channel 1 = stream 2, all at capture time (30 ms = 240 samples)
    assert!(snr_db(&sum01, &c0, 240) > 80.0);
    assert!(snr_db(&r[2], &c1, 240) > 80.0);
    assert!(
        corr_at(&r[2], &c0, 240).abs() < 0.1,
        "stream 2 must not leak into channel 0"
    );
    // mono: all three summed
    let streams = (0..3)
        .map(|i| {
            (
                packetize(&v[i], 0, 0, 10 + i as u32, 30_000),
                0,
                TimelineConfig::new(0),
            )
        })
        .collect();
    let (sink, _, _) = run(streams, MixerConfig::new(8000, 1));
    let sum: Vec<i16> = sum01
        .iter()
        .zip(&r[2])
        .map(|(a, b)| a.saturating_add(*b))
        .collect();
    assert!(snr_db(&sum, &sink.channel(0), 240) > 80.0);
}

#[test]
fn mixer_sums_with_saturation() {
    let mut m = Mixer::new(MixerConfig::new(8000, 1));
    m.set_origin(0);
    let a = m.add_stream(0, 8000);
    let b = m.add_stream(0, 8000);
    m.push(a, 0, 8000, &[30_000, -30_000, 100]);
    m.push(b, 0, 8000, &[30_000, -30_000, -50]);
    let mut sink = CollectSink::new(8000, 1);
    m.finish(&mut sink, &mut Vec::new());
    assert_eq!(sink.pcm, vec![32767, -32768, 50]);
}

#[test]
fn mixer_playout_delay_bounds_latency_and_hold_emits_silence() {
    let mut m = Mixer::new(MixerConfig::new(8000, 2));
    m.set_origin(0);
    let a = m.add_stream(0, 8000);
    let _b = m.add_stream(1, 8000); // never sends (e.g. callee on hold from the start)
    let mut sink = CollectSink::new(8000, 2);
    let mut out = Vec::new();
    m.push(a, 0, 8000, &[1000; 8000]); // 1 s
    m.drain_into(&mut sink, &mut out);
    // stream b blocks nothing beyond the 300 ms playout delay: 0.7 s are final
    assert_eq!(sink.pcm.len(), 2 * 5600);
    m.advance(3_300_000); // Timeout input: 3.3 s, nothing received
    m.drain_into(&mut sink, &mut out);
    assert_eq!(sink.pcm.len(), 2 * 24_000);
    assert!(sink.channel(0)[..8000].iter().all(|&s| s == 1000));
    assert!(sink.channel(0)[8000..].iter().all(|&s| s == 0));
    assert!(sink.channel(1).iter().all(|&s| s == 0));
}

/// Streams `input` (at `rate_in`) through a mixer at `rate_out` in 20 ms pushes.
fn mix_one(input: &[i16], rate_in: u32, rate_out: u32) -> Vec<i16> {
    let mut m = Mixer::new(MixerConfig::new(rate_out, 1));
    m.set_origin(0);
    let a = m.add_stream(0, rate_in);
    let chunk = rate_in as usize / 50;
    for (i, c) in input.chunks(chunk).enumerate() {
        m.push(a, i as i64 * 20_000, rate_in, c);
    }
    let mut sink = CollectSink::new(rate_out, 1);
    m.finish(&mut sink, &mut Vec::new());
    sink.pcm
}

/// `voice` sampled directly at `rate` (the ideal resampler output).
fn voice_at(voice: &Voice, rate: u32, n: usize) -> Vec<i16> {
    (0..n)
        .map(|k| voice.at(k as f64 / f64::from(rate)) as i16)
        .collect()
}

#[test]
fn mixer_resamples_8k_voice_to_16k_and_48k() {
    // speech-like signal with tones up to 3.2 kHz, band-limited at 8 kHz; compare with the same signal computed
    // at the output rate (analytic reference). Filter latency = Resampler::latency() input samples (32 = 4 ms).
    let voice = Voice::new(4);
    let input = voice_at(&voice, 8000, 16_000);
    for rate in [16_000u32, 48_000] {
        let got = mix_one(&input, 8000, rate);
        let n = rate as usize * 2;
        assert!(
            (got.len() as i64 - n as i64).abs() <= 2,
            "{rate}: {} samples",
            got.len()
        );
        let want = voice_at(&voice, rate, n);
        let latency = rec_audio::Resampler::new(8000, rate).latency() as i64;
        assert_eq!(latency, 32, "64-tap filter going up");
        let delay = latency * i64::from(rate) / 8000; // 4 ms
        let (lag, _) = best_lag(&want[n / 10..n * 9 / 10], &got[n / 10..], delay + 4);
        let snr = snr_db(&want[n / 10..n * 9 / 10], &got[n / 10..], lag);
        assert_eq!(lag, delay, "{rate}");
        assert!(snr > 30.0, "{rate}: snr {snr} dB");
    }
}

#[test]
fn mixer_resamples_16k_to_8k_filters_above_nyquist() {
    // 1 kHz (kept) + 6 kHz (must be removed, else it aliases to 2 kHz) at 16 kHz in, 8 kHz out
    let n = 32_000;
    let tone = |f: f64, rate: f64, k: usize| (std::f64::consts::TAU * f * k as f64 / rate).sin();
    let input: Vec<i16> = (0..n)
        .map(|k| (6000.0 * tone(1000.0, 16_000.0, k) + 6000.0 * tone(6000.0, 16_000.0, k)) as i16)
        .collect();
    let got = mix_one(&input, 16_000, 8000);
    let want: Vec<i16> = (0..16_000)
        .map(|k| (6000.0 * tone(1000.0, 8000.0, k)) as i16)
        .collect();
    let (lag, _) = best_lag(&want[1000..15_000], &got[1000..], 12);
    let snr = snr_db(&want[1000..15_000], &got[1000..], lag);
    assert!(snr > 25.0, "snr {snr} dB (lag {lag})");
}
