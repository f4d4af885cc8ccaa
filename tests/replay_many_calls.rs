//! Scenario: 20 concurrent Edge calls starting 150 ms apart, all carrying the same kind of traffic on
//! different addresses and keys. Each must end with its own complete report whose streams are exactly the
//! generator's for that call (same SSRCs, same packet counts: no packet of another call counted in, i.e.
//! no cross-talk) and its own recording holding the source signals on the right channels.

use std::collections::HashMap;

use rec_engine::CallStatus;
use rec_gen::GenConfig;
use recorder_tests::replay::*;

#[test]
fn twenty_concurrent_calls_are_kept_apart() {
    let mut cfg = GenConfig {
        calls: 20,
        stagger_us: 150_000,
        ..GenConfig::default()
    };
    cfg.call.duration_ms = 6_000;
    let run = replay(cfg, wav_engine());
    assert_eq!(
        run.reports.len(),
        20,
        "{:?}",
        run.reports
            .iter()
            .map(|r| &r.meta.call_id)
            .collect::<Vec<_>>()
    );
    assert_eq!(run.generated.len(), 20);
    assert_eq!(run.files.len(), 20, "one recording per call");
    let by_id: HashMap<&str, usize> = run
        .reports
        .iter()
        .enumerate()
        .map(|(i, r)| (r.meta.call_id.as_str(), i))
        .collect();
    assert_eq!(by_id.len(), 20, "distinct Call-IDs");
    let mut starts = Vec::new();
    for gen in &run.generated {
        let i = *by_id
            .get(gen.call_id.as_str())
            .unwrap_or_else(|| panic!("no report for {}", gen.call_id));
        let (report, handle) = (&run.reports[i], run.handles[i]);
        assert_eq!(
            report.status,
            CallStatus::Complete,
            "call {}: {:?}",
            gen.index,
            report.notes
        );
        assert_eq!(report.meta.from.uri, gen.from, "call {}", gen.index);
        assert_eq!(report.meta.to.uri, gen.to, "call {}", gen.index);
        assert_eq!(
            report.streams.len(),
            2,
            "call {}: {:?}",
            gen.index,
            report.streams
        );
        for dir in Direction::BOTH {
            let g = &gen.streams[dir.index()];
            let s = streams_of(report, side_of(dir));
            assert_eq!(s.len(), 1, "call {} {dir:?}", gen.index);
            assert_eq!(s[0].ssrc, g.ssrcs[0], "call {} {dir:?}", gen.index);
            assert_eq!(
                s[0].packets, g.stats.packets_captured,
                "call {} {dir:?}",
                gen.index
            );
            assert_eq!(
                s[0].duplicates, g.stats.packets_captured,
                "call {} {dir:?}: the Edge's second leg",
                gen.index
            );
            assert_eq!(
                (s[0].lost, s[0].decrypt_failures),
                (0, 0),
                "call {} {dir:?}",
                gen.index
            );
        }
        let (rate, chans) = parse_wav(&run.files[&handle]);
        assert_eq!((rate, chans.len()), (8000, 2));
        let secs = chans[0].len() as f64 / 8000.0;
        assert!(
            (5.9..6.5).contains(&secs),
            "call {}: recording {secs} s",
            gen.index
        );
        for dir in Direction::BOTH {
            // G.711: above 0.99 on the call's own recording; another call's audio mixed in would break it
            assert_source(&chans[side_of(dir).index()], 8000, dir, 1.0, 3.0, 0.99);
        }
        starts.push(report.meta.started_at_us);
    }
    // the reports carry each call's own INVITE time: 150 ms apart
    for (k, w) in starts.windows(2).enumerate() {
        assert_eq!(w[1] - w[0], 150_000, "calls {k} and {}", k + 1);
    }
}
