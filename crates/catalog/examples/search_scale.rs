//! The web UI's search at scale: fills a catalog with synthetic calls (default 100,000; first argument to
//! change) and times each kind of search page (median of 20 runs, total count included), printing a
//! Markdown table for BENCHMARKS.md.
//!
//! `cargo run --release -p rec-catalog --example search_scale [CALLS]`

use std::time::{Duration, Instant};

use rec_catalog::search::{Search, SortKey};
use rec_catalog::{CallRecord, CallStatus, Catalog, Party};

const T0: i64 = 1_795_946_400_000_000; // 2026-11-29T10:00:00Z

fn synthetic(i: i64) -> CallRecord {
    // a mix of number and name URIs; one call in 500 still recording
    let from = if i % 2 == 0 {
        format!(
            "sip:+4420{:08}@contoso.example;user=phone",
            i * 7919 % 100_000_000
        )
    } else {
        format!("sip:user{}@contoso.example", i % 5000)
    };
    let to = format!("tel:+1415{:07}", i * 104_729 % 10_000_000);
    let started = T0 + i * 30_000_000;
    let status = match i % 500 {
        0 => CallStatus::Recording,
        1..=20 => CallStatus::Partial,
        _ => CallStatus::Complete,
    };
    CallRecord {
        call_id: format!("{i:016x}@fe{}.contoso.example", i % 8),
        conversation_id: Some(format!("conv-{}", i / 3)),
        from: Party::from_uri(Some(format!("User {}", i % 5000)), &from, None),
        to: Party::from_uri(None, &to, None),
        started_at_us: started,
        answered_at_us: Some(started + 2_000_000),
        ended_at_us: (status != CallStatus::Recording)
            .then_some(started + (i % 3600 + 5) * 1_000_000),
        status,
        file: Some(format!("/var/rec/{i}.wav")),
        format: Some("wav".into()),
        channels: 2,
        sample_rate: 8000,
        ..CallRecord::default()
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let n: i64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    let dir = std::env::temp_dir().join(format!("search_scale_{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("catalog.sqlite");
    let started = Instant::now();
    {
        let mut c = Catalog::open(&path).unwrap();
        for i in 0..n {
            c.insert_call(&mut synthetic(i)).unwrap();
        }
    }
    let fill = started.elapsed();
    let size = std::fs::metadata(&path).unwrap().len();
    let c = Catalog::open_read_only(&path).unwrap();
    let page = |s: Search| Search { limit: 50, ..s };
    let cases: Vec<(&str, Search)> = vec![
        (
            "newest first, no filter (page 1)",
            page(Search {
                descending: true,
                ..Search::default()
            }),
        ),
        (
            "newest first, page 1000 (offset 49,950)",
            page(Search {
                descending: true,
                offset: 49_950,
                ..Search::default()
            }),
        ),
        (
            "number, international (`+44 20 …`, exact)",
            page(Search {
                number: Some(format!("+4420{:08}", 2 * 7919)),
                ..Search::default()
            }),
        ),
        (
            "number, national (`020 …`, suffix)",
            page(Search {
                number: Some(format!("020{:08}", 4 * 7919)),
                ..Search::default()
            }),
        ),
        (
            "party text (`user123`, substring)",
            page(Search {
                party: Some("user123".into()),
                ..Search::default()
            }),
        ),
        (
            "status = recording",
            page(Search {
                status: Some(CallStatus::Recording),
                descending: true,
                ..Search::default()
            }),
        ),
        (
            "time range (one day), newest first",
            page(Search {
                since_us: Some(T0 + 86_400_000_000),
                until_us: Some(T0 + 2 * 86_400_000_000),
                descending: true,
                ..Search::default()
            }),
        ),
        (
            "sorted by duration, longest first",
            page(Search {
                sort: SortKey::Duration,
                descending: true,
                ..Search::default()
            }),
        ),
        (
            "sorted by From URI",
            page(Search {
                sort: SortKey::From,
                ..Search::default()
            }),
        ),
        (
            "Ms-Conversation-ID (related calls)",
            page(Search {
                conversation_id: Some("conv-1234".into()),
                ..Search::default()
            }),
        ),
    ];
    println!(
        "catalog: {n} calls, {:.1} MB, filled in {:.1} s",
        size as f64 / 1e6,
        fill.as_secs_f64()
    );
    println!();
    println!("| search (50 per page) | matches | median |");
    println!("|---|---:|---:|");
    for (name, s) in cases {
        let mut times = Vec::new();
        let mut total = 0;
        for _ in 0..20 {
            let t = Instant::now();
            let p = c.search(&s).unwrap();
            times.push(t.elapsed());
            total = p.total;
        }
        println!(
            "| {name} | {total} | {:.2} ms |",
            median(times).as_secs_f64() * 1e3
        );
    }
    drop(c);
    let _ = std::fs::remove_dir_all(&dir);
}
