//! Scenario: a direct call (one leg, so each frame is the only copy of its packet) on a bad network: 5 %
//! of the packets never captured, 5 % delayed by 30–50 ms (arriving after the next one or two), and every
//! packet jittered by 0–30 ms. The engine must count exactly what was captured and what is missing, and
//! the audio outside the lost frames must still be the source, in place.

use rec_engine::CallStatus;
use rec_gen::{FrameKind, GenConfig, Generator};
use recorder_tests::replay::*;

fn config() -> GenConfig {
    one_call(20, |c| {
        c.topology = Topology::Direct;
        c.impairments = Impairments {
            loss_pct: 5.0,
            reorder_pct: 5.0,
            jitter_ms: 30.0,
            ..Impairments::default()
        };
    })
}

/// Media frames of each direction captured after `at_us` (the generator's BYE), counted from the frames
/// themselves: the caller's packets come from its host candidate (UDP source in the IPv4 header).
fn media_after(cfg: GenConfig, at_us: u64, caller_host: &str) -> [u64; 2] {
    let mut n = [0u64; 2];
    for f in Generator::new(cfg).filter(|f| f.kind == FrameKind::Media && f.at_us > at_us) {
        let d = &f.data; // Ethernet (14) + IPv4 without options (20) + UDP
        let src = format!(
            "{}.{}.{}.{}:{}",
            d[26],
            d[27],
            d[28],
            d[29],
            u16::from_be_bytes([d[34], d[35]])
        );
        n[usize::from(src != caller_host)] += 1;
    }
    n
}

#[test]
fn loss_reorder_and_jitter_are_counted_and_do_not_disturb_the_audio() {
    let run = replay(config(), wav_engine());
    let report = run.only();
    let gen = &run.generated[0];
    // lost packets are reported, but the call is still complete: both directions recorded and ended by BYE
    assert_eq!(report.meta.end_reason.as_deref(), Some("BYE from caller"));
    assert_eq!(report.status, CallStatus::Complete, "{:?}", report.notes);
    assert_eq!(report.streams.len(), 2, "{:?}", report.streams);
    // Jitter and reordering push packets sent just before the BYE behind it in the capture (here one of
    // the caller's, 21 ms after the BYE): they belong to the call and must be counted too.
    let late = media_after(config(), gen.times.bye_us, &gen.caller_host);
    assert!(
        late.iter().sum::<u64>() > 0,
        "the capture has media after the BYE"
    );
    assert_eq!(
        report.meta.ended_at_us,
        Some(gen.times.bye_us as i64),
        "the call still ends at its BYE"
    );
    let (rate, chans) = run.only_wav();
    assert_eq!((rate, chans.len()), (8000, 2));
    for dir in Direction::BOTH {
        let g = &gen.streams[dir.index()].stats;
        assert!(
            g.packets_lost > 20 && g.packets_reordered > 20,
            "generator: impairments applied ({g:?})"
        );
        let s = streams_of(report, side_of(dir))[0];
        assert_eq!(
            s.packets, g.packets_captured,
            "{dir:?}: every captured packet counted once"
        );
        assert_eq!(
            s.lost,
            g.packets_sent - g.packets_captured,
            "{dir:?}: lost = sent − captured"
        );
        assert_eq!((s.duplicates, s.decrypt_failures), (0, 0), "{dir:?}");

        // Every 20 ms frame is compared with its source frame at the one lag that explains the most frames.
        // G.711 frames that arrived correlate above 0.99 by themselves; a lost frame is concealed (or
        // silent) and may correlate less. Threshold 0.9 per frame: at most the lost frames may fall below
        // it, i.e. every packet that arrived, reordered or jittered, is decoded in its place, and one lag
        // for the whole call means the audio never slipped.
        let ch = &chans[side_of(dir).index()];
        assert_source(ch, 8000, dir, 2.0, 4.0, 0.95);
        let src = source_signal(dir, 8000, ch.len() + 800);
        let frames = (ch.len() / 160).min(g.packets_sent as usize) - 1;
        let (lag, good) = frame_lag(ch, &src, 8000, 1, frames, 400, 0.9);
        let bad = (frames - 1 - good) as u64;
        eprintln!(
            "{dir:?}: lag {lag}, {bad} of {} frames below 0.9, {} lost, {} after the BYE",
            frames - 1,
            g.packets_lost,
            late[dir.index()]
        );
        assert!(
            bad <= g.packets_lost,
            "{dir:?}: {bad} bad frames for {} lost",
            g.packets_lost
        );
    }
}
