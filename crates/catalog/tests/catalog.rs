//! The catalog on real SQLite files: round trips, searches, migrations, crash recovery, hostile strings.

use rec_catalog::{
    CallRecord, CallStatus, Catalog, CatalogError, DtmfRecord, Party, Query, StreamRecord,
    SCHEMA_VERSION,
};

const T0: i64 = 1_795_946_400_000_000; // 2026-11-29T10:00:00Z
const MIN: i64 = 60_000_000;

fn call(call_id: &str, from: &str, to: &str, started_at_us: i64) -> CallRecord {
    CallRecord {
        call_id: call_id.to_owned(),
        from: Party::from_uri(Some("Alice".into()), from, Some("44")),
        to: Party::from_uri(None, to, Some("44")),
        started_at_us,
        ..CallRecord::default()
    }
}

fn full_call() -> CallRecord {
    CallRecord {
        id: None,
        call_id: "a84b4c76e66710@pc33.atlanta.example".into(),
        conversation_id: Some("AdWJR0JhB2CMo3b6QNaI+4QnWpWrxQ==".into()),
        from: Party::from_uri(
            Some("Alice".into()),
            "sip:+442081234567@contoso.example;user=phone",
            None,
        ),
        to: Party::from_uri(Some("Bob".into()), "sip:bob@contoso.example", None),
        asserted_identity: vec![
            "<sip:alice@contoso.example>".into(),
            "<tel:+442081234567>".into(),
        ],
        privacy: true,
        user_agents: vec!["UCCAPI/16.0.4849.1000 OC/16.0.4849.1000 (Skype for Business)".into()],
        started_at_us: T0,
        answered_at_us: None,
        ended_at_us: None,
        end_reason: None,
        status: CallStatus::Recording,
        file: Some("recordings/2026-11-29/100000_a84b.wav.part".into()),
        format: Some("wav".into()),
        channels: 2,
        sample_rate: 16_000,
        diagnostics: Some("51004;reason=\"Action initiated by user\"".into()),
        emergency: false,
        location: None,
        sensitivity: Some("private".into()),
        target_class: Some("compliance".into()),
        dtmf: vec![],
        streams: vec![StreamRecord {
            direction: "caller".into(),
            ssrc: 0xDEAD_BEEF,
            codec: "SILK".into(),
            packets: 10,
            lost: 0,
            duplicates: 0,
            decrypt_failures: 0,
            rtp_file: None,
        }],
    }
}

fn temp_catalog() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.sqlite");
    (dir, path)
}

#[test]
fn insert_update_get_round_trip_across_reopen() {
    let (_dir, path) = temp_catalog();
    let mut cat = Catalog::open(&path).unwrap();
    assert_eq!(cat.schema_version().unwrap(), SCHEMA_VERSION);
    let mut c = full_call();
    let id = cat.insert_call(&mut c).unwrap();
    assert_eq!(c.id, Some(id));
    assert_eq!(cat.get(id).unwrap().as_ref(), Some(&c));
    assert_eq!(c.from.number.as_deref(), Some("+442081234567"));
    assert_eq!(c.to.number, None);

    // call ends: every field and the streams change
    c.answered_at_us = Some(T0 + 2_000_000);
    c.ended_at_us = Some(T0 + 95_500_000);
    c.end_reason = Some("bye".into());
    c.status = CallStatus::Partial;
    c.file = Some("recordings/2026-11-29/100000_a84b.wav".into());
    c.dtmf = vec![DtmfRecord {
        at_us: T0 + 5_000_000,
        digit: '#',
        duration_ms: 120,
    }];
    c.streams[0].packets = u64::from(u32::MAX) + 7;
    c.streams[0].lost = 3;
    c.streams.push(StreamRecord {
        direction: "callee".into(),
        ssrc: 7,
        codec: "G722".into(),
        packets: 4000,
        lost: 1,
        duplicates: 2,
        decrypt_failures: 5,
        rtp_file: Some("x.pcap".into()),
    });
    cat.update_call(&c).unwrap();
    drop(cat);

    let cat = Catalog::open_read_only(&path).unwrap();
    assert_eq!(cat.get(id).unwrap(), Some(c.clone()));
    assert_eq!(cat.get(id + 1).unwrap(), None);
    // shrinking the stream list removes rows
    let mut cat = Catalog::open(&path).unwrap();
    c.streams.truncate(1);
    cat.update_call(&c).unwrap();
    assert_eq!(cat.get(id).unwrap().unwrap().streams.len(), 1);
}

#[test]
fn update_needs_an_existing_row() {
    let mut cat = Catalog::open_in_memory().unwrap();
    let mut c = full_call();
    assert!(matches!(
        cat.update_call(&c),
        Err(CatalogError::NoSuchCall(None))
    ));
    c.id = Some(42);
    assert!(matches!(
        cat.update_call(&c),
        Err(CatalogError::NoSuchCall(Some(42)))
    ));
}

#[test]
fn number_matches_in_any_notation() {
    let (_dir, path) = temp_catalog();
    let mut cat = Catalog::open(&path).unwrap();
    let mut a = call(
        "a",
        "sip:+442081234567@gw;user=phone",
        "sip:bob@contoso.example",
        T0,
    );
    let mut b = call(
        "b",
        "sip:carol@contoso.example",
        "tel:020-8123-4567",
        T0 + MIN,
    ); // national, cc 44
    let mut c = call(
        "c",
        "sip:+14255550100@gw;user=phone",
        "sip:+442081234568@gw",
        T0 + 2 * MIN,
    );
    let mut d = call(
        "d",
        "sip:1234@pbx",
        "sip:dave@contoso.example",
        T0 + 3 * MIN,
    ); // extension
    for x in [&mut a, &mut b, &mut c, &mut d] {
        cat.insert_call(x).unwrap();
    }
    assert_eq!(b.to.number.as_deref(), Some("+442081234567"));
    let ids = |number: &str| -> Vec<String> {
        cat.query(&Query {
            number: Some(number.into()),
            ..Query::default()
        })
        .unwrap()
        .into_iter()
        .map(|c| c.call_id)
        .collect()
    };
    for n in [
        "+44 20 8123 4567",
        "0044208 1234567",
        "tel:+44-20-8123-4567",
        "sip:+442081234567@host;user=phone",
        "+44 (0)20 8123-4567",
        "020 8123 4567", // national: suffix match
        "8123 4567",     // subscriber number: suffix match (8 digits)
        "442081234567",  // unknown form: suffix match on the full digits
    ] {
        assert_eq!(ids(n), ["a", "b"], "{n}");
    }
    assert_eq!(ids("+1 (425) 555-0100"), ["c"]);
    assert_eq!(ids("+44 20 8123 4568"), ["c"]);
    assert_eq!(ids("1234"), ["d"]); // short: exact only
    assert!(ids("234").is_empty()); // no suffix match below 7 digits
    assert!(ids("+4420812345").is_empty()); // international: exact, never a prefix
    assert!(ids("+1 234 567 8901").is_empty());
    assert!(ids("alice").is_empty()); // not a number: nothing
    assert!(ids("2081234567%").is_empty()); // not a number either (no LIKE wildcards)
}

#[test]
fn time_range_call_id_and_limit() {
    let (_dir, path) = temp_catalog();
    let mut cat = Catalog::open(&path).unwrap();
    for i in 0..10 {
        // inserted out of order; results come back by start time
        let t = T0 + ((i * 7) % 10) * MIN;
        cat.insert_call(&mut call(
            &format!("id{}", (i * 7) % 10),
            "sip:+15551230000@x",
            "sip:+15551230001@x",
            t,
        ))
        .unwrap();
    }
    let q = |since: Option<i64>, until: Option<i64>, limit: Option<u32>| -> Vec<String> {
        cat.query(&Query {
            since_us: since,
            until_us: until,
            limit,
            ..Query::default()
        })
        .unwrap()
        .into_iter()
        .map(|c| c.call_id)
        .collect()
    };
    assert_eq!(q(None, None, None).len(), 10);
    assert_eq!(
        q(Some(T0 + 3 * MIN), Some(T0 + 6 * MIN), None),
        ["id3", "id4", "id5"]
    );
    assert_eq!(q(Some(T0 + 3 * MIN + 1), None, Some(2)), ["id4", "id5"]);
    assert!(q(Some(T0 + 10 * MIN), None, None).is_empty());
    let by_id = cat
        .query(&Query {
            call_id: Some("id7".into()),
            ..Query::default()
        })
        .unwrap();
    assert_eq!(by_id.len(), 1);
    assert_eq!(by_id[0].started_at_us, T0 + 7 * MIN);
    let combined = cat
        .query(&Query {
            call_id: Some("id7".into()),
            number: Some("+1 555 123 0001".into()),
            until_us: Some(T0 + 7 * MIN),
            ..Query::default()
        })
        .unwrap();
    assert!(combined.is_empty());
}

#[test]
fn hostile_call_ids_are_data() {
    let (_dir, path) = temp_catalog();
    let mut cat = Catalog::open(&path).unwrap();
    let hostile = [
        "\"quoted\"@host",
        "it's'; DROP TABLE calls; --",
        "x' OR '1'='1",
        "%_*?[]\\",
        "ünïcödé-☎️-通话@例子.测试",
        "nul\0inside",
        "",
    ];
    for (i, id) in hostile.iter().enumerate() {
        cat.insert_call(&mut call(id, "sip:a@b", "sip:c@d", T0 + i as i64))
            .unwrap();
    }
    for id in hostile {
        let found = cat
            .query(&Query {
                call_id: Some(id.into()),
                ..Query::default()
            })
            .unwrap();
        assert_eq!(found.len(), 1, "{id:?}");
        assert_eq!(found[0].call_id, id);
    }
    assert!(cat
        .query(&Query {
            call_id: Some("%".into()),
            ..Query::default()
        })
        .unwrap()
        .is_empty());
    assert_eq!(cat.query(&Query::default()).unwrap().len(), hostile.len());
}

#[test]
fn unfinished_calls_become_interrupted() {
    let (_dir, path) = temp_catalog();
    let mut cat = Catalog::open(&path).unwrap();
    let mut a = call("a", "sip:a@x", "sip:b@x", T0);
    let mut b = call("b", "sip:a@x", "sip:b@x", T0 + 1);
    b.status = CallStatus::Complete;
    let mut c = call("c", "sip:a@x", "sip:b@x", T0 + 2);
    for x in [&mut a, &mut b, &mut c] {
        cat.insert_call(x).unwrap();
    }
    drop(cat); // "crash"
    let mut cat = Catalog::open(&path).unwrap();
    let marked = cat.mark_unfinished_interrupted().unwrap();
    assert_eq!(
        marked
            .iter()
            .map(|c| (c.call_id.as_str(), c.status))
            .collect::<Vec<_>>(),
        [
            ("a", CallStatus::Interrupted),
            ("c", CallStatus::Interrupted)
        ]
    );
    assert_eq!(
        cat.get(b.id.unwrap()).unwrap().unwrap().status,
        CallStatus::Complete
    );
    assert!(cat.mark_unfinished_interrupted().unwrap().is_empty());
}

/// The v1 schema exactly as release 1 wrote it (no number columns).
const V1_SCHEMA: &str = "CREATE TABLE calls (id INTEGER PRIMARY KEY, call_id TEXT NOT NULL, conversation_id TEXT,
    from_display TEXT, from_uri TEXT NOT NULL, from_number TEXT, to_display TEXT, to_uri TEXT NOT NULL,
    to_number TEXT, asserted_identity TEXT NOT NULL DEFAULT '[]', privacy INTEGER NOT NULL DEFAULT 0,
    user_agents TEXT NOT NULL DEFAULT '[]', started_at_us INTEGER NOT NULL, answered_at_us INTEGER,
    ended_at_us INTEGER, end_reason TEXT, status TEXT NOT NULL, file TEXT, format TEXT,
    channels INTEGER NOT NULL DEFAULT 0, sample_rate INTEGER NOT NULL DEFAULT 0, diagnostics TEXT,
    emergency INTEGER NOT NULL DEFAULT 0, location TEXT, sensitivity TEXT, target_class TEXT,
    dtmf TEXT NOT NULL DEFAULT '[]');
    CREATE INDEX calls_call_id ON calls(call_id);
    CREATE INDEX calls_started_at ON calls(started_at_us);
    CREATE INDEX calls_status ON calls(status);
    CREATE TABLE streams (id INTEGER PRIMARY KEY, call INTEGER NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
    position INTEGER NOT NULL, direction TEXT NOT NULL, ssrc INTEGER NOT NULL, codec TEXT NOT NULL,
    packets INTEGER NOT NULL, lost INTEGER NOT NULL, duplicates INTEGER NOT NULL,
    decrypt_failures INTEGER NOT NULL, rtp_file TEXT);
    CREATE INDEX streams_call ON streams(call, position);
    PRAGMA user_version = 1;";

#[test]
fn older_schema_is_migrated_and_backfilled() {
    let (_dir, path) = temp_catalog();
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(V1_SCHEMA).unwrap();
        conn.execute(
            "INSERT INTO calls (call_id, from_uri, from_number, to_uri, started_at_us, status) \
             VALUES ('old', 'sip:+442081234567@gw', '+442081234567', 'sip:b@x', ?1, 'complete')",
            [T0],
        )
        .unwrap();
    }
    assert!(matches!(
        Catalog::open_read_only(&path),
        Err(CatalogError::NeedsMigration { found: 1, .. })
    ));
    let cat = Catalog::open(&path).unwrap();
    assert_eq!(cat.schema_version().unwrap(), SCHEMA_VERSION);
    let found = cat
        .query(&Query {
            number: Some("020 8123 4567".into()),
            ..Query::default()
        })
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].call_id, "old");
    assert_eq!(found[0].status, CallStatus::Complete);
    drop(cat);
    assert!(Catalog::open_read_only(&path).is_ok());
}

#[test]
fn newer_schema_is_refused() {
    let (_dir, path) = temp_catalog();
    Catalog::open(&path).unwrap();
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1)
            .unwrap();
    }
    for result in [Catalog::open(&path), Catalog::open_read_only(&path)] {
        let err = result.unwrap_err();
        assert!(matches!(err, CatalogError::NewerSchema { .. }), "{err}");
        assert!(err.to_string().contains("newer"), "{err}");
    }
}

#[test]
fn not_a_catalog_and_missing_files_are_errors() {
    let (dir, path) = temp_catalog();
    assert!(Catalog::open_read_only(&path).is_err());
    assert!(!path.exists(), "read-only open must not create the file");
    let junk = dir.path().join("junk.sqlite");
    std::fs::write(
        &junk,
        b"this is not an SQLite database, just some text bytes",
    )
    .unwrap();
    assert!(Catalog::open_read_only(&junk).is_err());
    assert!(Catalog::open(&junk).is_err());
}

#[test]
fn wal_mode_and_status_names() {
    let (_dir, path) = temp_catalog();
    Catalog::open(&path).unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    for s in CallStatus::ALL {
        assert_eq!(CallStatus::from_name(s.as_str()), Some(s));
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            format!("\"{}\"", s.as_str())
        );
    }
    assert_eq!(CallStatus::DecryptFailure.as_str(), "decrypt_failure");
}

#[test]
fn a_reader_sees_a_live_writer() {
    let (_dir, path) = temp_catalog();
    let mut writer = Catalog::open(&path).unwrap();
    let mut c = call("live", "sip:a@x", "sip:b@x", T0);
    writer.insert_call(&mut c).unwrap();
    let reader = Catalog::open_read_only(&path).unwrap();
    assert_eq!(
        reader.get(c.id.unwrap()).unwrap().unwrap().status,
        CallStatus::Recording
    );
    c.status = CallStatus::Complete;
    writer.update_call(&c).unwrap();
    assert_eq!(
        reader.get(c.id.unwrap()).unwrap().unwrap().status,
        CallStatus::Complete
    );
}

mod notation {
    use super::*;
    use proptest::prelude::*;

    /// `+<cc> <national>` written with the separators and prefix `style` picks.
    fn write(cc: &str, national: &str, style: u8, sep: &str) -> String {
        let grouped: Vec<String> = national
            .as_bytes()
            .chunks(3)
            .map(|g| String::from_utf8(g.to_vec()).unwrap())
            .collect();
        let national = grouped.join(sep);
        match style % 5 {
            0 => format!("+{cc}{sep}{national}"),
            1 => format!("00{cc}{sep}{national}"),
            2 => format!("tel:+{cc}{sep}{national};phone-context=example"),
            3 => format!(
                "sip:+{cc}{}@gw.example;user=phone",
                national.replace(sep, "")
            ),
            _ => format!("+{cc} (0){national}"),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn every_notation_finds_the_stored_e164(
            cc in "[1-9][0-9]{0,2}",
            national in "[1-9][0-9]{6,10}",
            stored_style in 0u8..5,
            query_style in 0u8..5,
            sep in prop::sample::select(vec!["", " ", "-", ".", "/"]),
            other in "[1-9][0-9]{6,10}",
        ) {
            prop_assume!(other != national);
            let mut cat = Catalog::open_in_memory().unwrap();
            let stored = write(&cc, &national, stored_style, " ");
            let mut hit = call("hit", "sip:a@x", &stored, T0);
            cat.insert_call(&mut hit).unwrap();
            prop_assert_eq!(hit.to.number.clone(), Some(format!("+{cc}{national}")));
            let mut miss = call("miss", &write(&cc, &other, stored_style, " "), "sip:b@x", T0);
            cat.insert_call(&mut miss).unwrap();
            let found = cat
                .query(&Query { number: Some(write(&cc, &national, query_style, sep)), ..Query::default() })
                .unwrap();
            let ids: Vec<&str> = found.iter().map(|c| c.call_id.as_str()).collect();
            // a different national number may still end in the query's digits only if it is longer; the
            // international query is exact, so only "hit" can match
            prop_assert_eq!(ids, ["hit"]);
            // the national form (trunk 0) finds it by suffix
            let found = cat
                .query(&Query { number: Some(format!("0{national}")), ..Query::default() })
                .unwrap();
            prop_assert!(found.iter().any(|c| c.call_id == "hit"));
        }
    }
}
