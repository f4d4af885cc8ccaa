//! RFC 4733 telephone-events through the timeline: one event per key press with capture start time and duration.

mod timeline_support;

use rec_audio::{DtmfTracker, MixerConfig, TimelineConfig};
use timeline_support::*;

/// RFC 4733 §2.3 payload: event, E|R|volume, duration (16 bit, timestamp units).
fn te(event: u8, end: bool, volume: u8, duration: u16) -> Vec<u8> {
    let d = duration.to_be_bytes();
    vec![event, (u8::from(end) << 7) | volume, d[0], d[1]]
}

#[test]
fn dtmf_events_from_stream_with_retransmitted_ends() {
    let src = Voice::new(3).samples(6 * 8000);
    let audio = packetize(&src, 1, 1000, 7, 30_000);
    // key '5' pressed at 2.0 s for 100 ms (5 packets of 20 ms, end sent 3 times),
    // key '#' at 4.0 s for 160 ms; audio frames during the events are not sent (sender replaces them)
    let mut pkts: Vec<Pkt> = Vec::new();
    let mut seq = 1u16;
    let mut i = 0;
    while i < audio.len() {
        let key = match i {
            100 => Some((5u8, 5usize)),
            200 => Some((11u8, 8usize)),
            _ => None,
        };
        if let Some((event, frames)) = key {
            let ts = audio[i].ts;
            for f in 0..frames + 2 {
                let k = f.min(frames - 1);
                let end = f >= frames - 1;
                pkts.push(Pkt {
                    capture_us: 30_000 + (i + f) as i64 * 20_000,
                    seq,
                    ts,
                    marker: f == 0,
                    pt: 101,
                    ssrc: 7,
                    payload: te(event, end, 10, (160 * (k + 1)) as u16),
                });
                seq = seq.wrapping_add(1);
            }
            i += frames;
            continue;
        }
        let mut p = audio[i].clone();
        p.seq = seq;
        seq = seq.wrapping_add(1);
        pkts.push(p);
        i += 1;
    }
    let mut cfg = TimelineConfig::new(0);
    cfg.dtmf_pt = Some(101);
    let (_, tls, mut mixer) = run(vec![(pkts, 0, cfg)], MixerConfig::new(8000, 1));
    let events: Vec<_> = mixer.take_events().collect();
    assert_eq!(events.len(), 2, "{events:?}");
    let (_, a) = events[0];
    assert_eq!(
        (a.digit(), a.duration_us, a.volume),
        (Some('5'), 100_000, 10)
    );
    assert_eq!(a.start_us, 30_000 + 2_000_000); // capture time of the event's timestamp
    let (_, b) = events[1];
    assert_eq!(
        (b.digit(), b.duration_us, b.start_us),
        (Some('#'), 160_000, 30_000 + 4_000_000)
    );
    assert_eq!(tls[0].stats().lost, 0);
}

#[test]
fn dtmf_tracker_reports_unfinished_event_on_next_or_flush() {
    let mut t = DtmfTracker::new(8000);
    // '1' whose end packets were all lost, then '2' with end
    assert_eq!(t.push(0, 0, &te(1, false, 7, 160)), None);
    assert_eq!(t.push(0, 0, &te(1, false, 7, 480)), None);
    let ev = t
        .push(8000, 1_000_000, &te(2, false, 7, 160))
        .expect("previous reported");
    assert_eq!(
        (ev.digit(), ev.duration_us, ev.start_us),
        (Some('1'), 60_000, 0)
    );
    let ev = t.push(8000, 1_000_000, &te(2, true, 7, 800)).expect("end");
    assert_eq!((ev.digit(), ev.duration_us), (Some('2'), 100_000));
    assert_eq!(
        t.push(8000, 1_000_000, &te(2, true, 7, 800)),
        None,
        "retransmitted end counted once"
    );
    assert_eq!(t.flush(), None);
    assert_eq!(t.push(16_000, 2_000_000, &te(12, false, 3, 80)), None);
    assert_eq!(t.flush().and_then(|e| e.digit()), Some('A'));
    assert_eq!(t.push(0, 0, &[1, 2]), None, "short payload ignored");
}
