//! The recordings catalog: one SQLite file (`<out>/catalog.sqlite`) with one row per call and one per media
//! stream, searchable by Call-ID, phone number (any common notation) and start time; and the naming of
//! recording files ([`naming`]).
//!
//! This is an IO shell crate (it opens files); [`naming`] and [`time`] are pure.
//!
//! Number matching: a party's number is stored as given in [`Party::number`] (E.164 `+digits` when known)
//! and, for searching, as its bare digits and those digits reversed, each indexed. A query number is
//! normalised with [`rec_rewrite::Number`] (no country code):
//! - in international form (`+44 20 8123 4567`, `0044…`, `tel:+44-20-…`, `sip:+44…@host;user=phone`) it
//!   matches a stored number with exactly the same digits;
//! - otherwise (`020 8123 4567`, `8123 4567`) one leading trunk `0` is dropped and, if at least
//!   [`MIN_SUFFIX_DIGITS`] digits remain, it matches every stored number *ending* in those digits (so a
//!   national number finds its E.164 form whatever the country code); shorter ones (extensions) match
//!   exactly only.
//!
//! Only the From and To parties are searched (not P-Asserted-Identity).

#![forbid(unsafe_code)]

pub mod holds;
pub mod naming;
pub mod retention;
pub mod seal;
pub mod search;
pub mod time;

use std::path::Path;

use rec_rewrite::Number;
use rusqlite::types::Value;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Row, Transaction};
use serde::Serialize;

/// A query number that is not international matches by suffix when it has at least this many digits.
pub const MIN_SUFFIX_DIGITS: usize = 7;

/// One party of a call (From or To).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Party {
    /// Display name, when the header had one.
    pub display: Option<String>,
    /// The SIP (or tel) URI.
    pub uri: String,
    /// The number, E.164 `+digits` when the URI holds an international number (bare digits when it holds a
    /// number of unknown form, such as an extension), `None` for a name URI.
    pub number: Option<String>,
}

impl Party {
    /// A party whose [`number`](Party::number) is derived from the URI with [`rec_rewrite::Number`];
    /// `country_code` (digits, e.g. "44") turns national numbers into E.164.
    pub fn from_uri(display: Option<String>, uri: &str, country_code: Option<&str>) -> Party {
        Party {
            display,
            uri: uri.to_owned(),
            number: Number::parse(uri, country_code).map(|n| n.to_e164_string()),
        }
    }
}

/// Where a call's recording stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallStatus {
    /// The call is in progress and being recorded (the default).
    #[default]
    Recording,
    /// The call ended and all its media was recorded.
    Complete,
    /// The call ended and only part of its media was recorded.
    Partial,
    /// The call ended without any media being seen.
    NoMedia,
    /// Media was seen but its codec could not be decoded (kept as decrypted RTP).
    Undecodable,
    /// Media was seen but could not be decrypted.
    DecryptFailure,
    /// The recorder stopped (crash, restart) while the call was being recorded.
    Interrupted,
    /// Recording failed (for example the disk was full).
    Failed,
}

impl CallStatus {
    /// Every status, in declaration order.
    pub const ALL: [CallStatus; 8] = [
        CallStatus::Recording,
        CallStatus::Complete,
        CallStatus::Partial,
        CallStatus::NoMedia,
        CallStatus::Undecodable,
        CallStatus::DecryptFailure,
        CallStatus::Interrupted,
        CallStatus::Failed,
    ];

    /// The snake_case name stored in the catalog and printed (`no_media`).
    pub fn as_str(self) -> &'static str {
        match self {
            CallStatus::Recording => "recording",
            CallStatus::Complete => "complete",
            CallStatus::Partial => "partial",
            CallStatus::NoMedia => "no_media",
            CallStatus::Undecodable => "undecodable",
            CallStatus::DecryptFailure => "decrypt_failure",
            CallStatus::Interrupted => "interrupted",
            CallStatus::Failed => "failed",
        }
    }

    /// The status of a snake_case name.
    pub fn from_name(name: &str) -> Option<CallStatus> {
        CallStatus::ALL.into_iter().find(|s| s.as_str() == name)
    }
}

impl std::fmt::Display for CallStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One DTMF digit (RFC 4733 event or SIP INFO) seen in a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct DtmfRecord {
    /// When the digit started, unix µs.
    pub at_us: i64,
    /// `0`-`9`, `*`, `#`, `A`-`D`.
    pub digit: char,
    /// How long the digit lasted.
    pub duration_ms: u32,
}

/// One media stream of a call.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct StreamRecord {
    /// Which side sent it: `caller`, `callee`, or another label.
    pub direction: String,
    /// RTP SSRC.
    pub ssrc: u32,
    /// Codec name (`PCMU`, `SILK`, `opus`, …).
    pub codec: String,
    /// RTP packets received.
    pub packets: u64,
    /// RTP packets lost (sequence gaps never filled).
    pub lost: u64,
    /// Duplicate RTP packets dropped.
    pub duplicates: u64,
    /// Packets that failed SRTP authentication or decryption.
    pub decrypt_failures: u64,
    /// Decrypted RTP pcap of a stream whose codec could not be decoded.
    pub rtp_file: Option<String>,
}

/// One call: what was recorded, where, and what was not and why.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct CallRecord {
    /// Catalog row id; `None` until [`Catalog::insert_call`] sets it.
    pub id: Option<i64>,
    /// SIP Call-ID (raw, as on the wire).
    pub call_id: String,
    /// Lync/SfB `Ms-Conversation-ID`, when present.
    pub conversation_id: Option<String>,
    /// The caller (From).
    pub from: Party,
    /// The callee (To).
    pub to: Party,
    /// P-Asserted-Identity values.
    pub asserted_identity: Vec<String>,
    /// `Privacy: id` (or stronger) was requested.
    pub privacy: bool,
    /// User-Agent / Server values of the endpoints.
    pub user_agents: Vec<String>,
    /// Call start (INVITE seen), unix µs.
    pub started_at_us: i64,
    /// When the call was answered (2xx), unix µs.
    pub answered_at_us: Option<i64>,
    /// Call end, unix µs.
    pub ended_at_us: Option<i64>,
    /// Why the call ended (`bye`, `cancel`, `486 Busy Here`, `timeout`, …).
    pub end_reason: Option<String>,
    /// Where the recording stands.
    pub status: CallStatus,
    /// Path of the audio file.
    pub file: Option<String>,
    /// `wav` or `opus`.
    pub format: Option<String>,
    /// Channels of the audio file (0 when there is none).
    pub channels: u16,
    /// Sample rate of the audio file in Hz (0 when there is none).
    pub sample_rate: u32,
    /// `ms-diagnostics` header text.
    pub diagnostics: Option<String>,
    /// An emergency call (`Priority: emergency` or a PIDF-LO body).
    pub emergency: bool,
    /// PIDF-LO location text.
    pub location: Option<String>,
    /// `Sensitivity` header.
    pub sensitivity: Option<String>,
    /// Recording target class from the policy.
    pub target_class: Option<String>,
    /// DTMF digits seen.
    pub dtmf: Vec<DtmfRecord>,
    /// The call's media streams.
    pub streams: Vec<StreamRecord>,
}

/// A search; every given field must match (AND). Results are ordered by start time, then row id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    /// Exact Call-ID.
    pub call_id: Option<String>,
    /// A number in any common notation, matched against From and To (see the crate docs).
    pub number: Option<String>,
    /// Calls that started at or after this time (unix µs).
    pub since_us: Option<i64>,
    /// Calls that started before this time (unix µs, exclusive).
    pub until_us: Option<i64>,
    /// At most this many calls (the earliest).
    pub limit: Option<u32>,
}

/// What can go wrong with the catalog.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// SQLite reported an error (unreadable file, not a database, disk full, …).
    #[error("catalog: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The file was written by a newer recorder.
    #[error("catalog schema version {found} is newer than this recorder supports ({supported}); use a newer recorder")]
    NewerSchema {
        /// The file's schema version.
        found: i64,
        /// The newest version this build knows.
        supported: i64,
    },
    /// Opened read-only, but the file has an older schema that needs migrating.
    #[error("catalog schema version {found} is older than {supported} and the catalog is open read-only; open it once with the recorder to migrate")]
    NeedsMigration {
        /// The file's schema version.
        found: i64,
        /// The version this build needs.
        supported: i64,
    },
    /// A row holds a value this build cannot read.
    #[error("catalog row {id}: {what}")]
    Corrupt {
        /// Row id.
        id: i64,
        /// What is wrong.
        what: String,
    },
    /// [`Catalog::update_call`] on a record without an id, or with an id that is not in the catalog.
    #[error("catalog has no call row {0:?}")]
    NoSuchCall(Option<i64>),
    /// Sealing or verifying failed (a file could not be read or written).
    #[error("seal: {0}")]
    Seal(String),
    /// A legal hold covers the recording: it is not deleted.
    #[error("catalog row {id} is under legal hold {hold} ({reason}): not deleted")]
    Held {
        /// The call row.
        id: i64,
        /// The hold.
        hold: i64,
        /// The hold's reason.
        reason: String,
    },
    /// A hold request is unusable.
    #[error("legal hold: {0}")]
    BadHold(String),
    /// No active hold with this id.
    #[error("no active legal hold {0}")]
    NoSuchHold(i64),
}

/// Result of catalog operations.
pub type Result<T, E = CatalogError> = std::result::Result<T, E>;

/// The schema migrations, in order: migration `i` takes a file from version `i` to `i + 1`.
const MIGRATIONS: &[fn(&Transaction) -> rusqlite::Result<()>] =
    &[migrate_v1, migrate_v2, migrate_v3, migrate_v4];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// v1: calls and streams, indexes on Call-ID and start time.
fn migrate_v1(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(
        "CREATE TABLE calls (
            id INTEGER PRIMARY KEY,
            call_id TEXT NOT NULL,
            conversation_id TEXT,
            from_display TEXT,
            from_uri TEXT NOT NULL,
            from_number TEXT,
            to_display TEXT,
            to_uri TEXT NOT NULL,
            to_number TEXT,
            asserted_identity TEXT NOT NULL DEFAULT '[]',
            privacy INTEGER NOT NULL DEFAULT 0,
            user_agents TEXT NOT NULL DEFAULT '[]',
            started_at_us INTEGER NOT NULL,
            answered_at_us INTEGER,
            ended_at_us INTEGER,
            end_reason TEXT,
            status TEXT NOT NULL,
            file TEXT,
            format TEXT,
            channels INTEGER NOT NULL DEFAULT 0,
            sample_rate INTEGER NOT NULL DEFAULT 0,
            diagnostics TEXT,
            emergency INTEGER NOT NULL DEFAULT 0,
            location TEXT,
            sensitivity TEXT,
            target_class TEXT,
            dtmf TEXT NOT NULL DEFAULT '[]'
        );
        CREATE INDEX calls_call_id ON calls(call_id);
        CREATE INDEX calls_started_at ON calls(started_at_us);
        CREATE INDEX calls_status ON calls(status);
        CREATE TABLE streams (
            id INTEGER PRIMARY KEY,
            call INTEGER NOT NULL REFERENCES calls(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            direction TEXT NOT NULL,
            ssrc INTEGER NOT NULL,
            codec TEXT NOT NULL,
            packets INTEGER NOT NULL,
            lost INTEGER NOT NULL,
            duplicates INTEGER NOT NULL,
            decrypt_failures INTEGER NOT NULL,
            rtp_file TEXT
        );
        CREATE INDEX streams_call ON streams(call, position);",
    )
}

/// v2: searchable number digits (plain and reversed, for suffix search) of From and To, backfilled.
fn migrate_v2(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(
        "ALTER TABLE calls ADD COLUMN from_digits TEXT;
         ALTER TABLE calls ADD COLUMN from_rdigits TEXT;
         ALTER TABLE calls ADD COLUMN to_digits TEXT;
         ALTER TABLE calls ADD COLUMN to_rdigits TEXT;
         CREATE INDEX calls_from_digits ON calls(from_digits);
         CREATE INDEX calls_from_rdigits ON calls(from_rdigits);
         CREATE INDEX calls_to_digits ON calls(to_digits);
         CREATE INDEX calls_to_rdigits ON calls(to_rdigits);",
    )?;
    let rows: Vec<(i64, Option<String>, Option<String>)> = {
        let mut stmt = tx.prepare("SELECT id, from_number, to_number FROM calls")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let mut update = tx.prepare(
        "UPDATE calls SET from_digits = ?2, from_rdigits = ?3, to_digits = ?4, to_rdigits = ?5 WHERE id = ?1",
    )?;
    for (id, from, to) in rows {
        let (fd, fr) = digit_columns(from.as_deref());
        let (td, tr) = digit_columns(to.as_deref());
        update.execute(params![id, fd, fr, td, tr])?;
    }
    Ok(())
}

/// v3: the seal chain's entries (the hash of each manifest, so a removed tail is seen) and legal holds.
fn migrate_v3(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(
        "CREATE TABLE seal_chain (
            seq INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            call_row INTEGER NOT NULL,
            call_id TEXT NOT NULL,
            manifest_sha256 TEXT NOT NULL,
            sealed_at_us INTEGER NOT NULL
        );
        CREATE INDEX seal_chain_call ON seal_chain(call_row);
        CREATE TABLE legal_holds (
            id INTEGER PRIMARY KEY,
            call_id TEXT,
            number TEXT,
            since_us INTEGER,
            until_us INTEGER,
            reason TEXT NOT NULL,
            set_by TEXT NOT NULL,
            set_at_us INTEGER NOT NULL,
            lifted_at_us INTEGER,
            lifted_by TEXT,
            lift_reason TEXT
        );",
    )
}

/// v4 (web UI search): Ms-Conversation-ID lookups (related calls) and status filters sorted by start time.
fn migrate_v4(tx: &Transaction) -> rusqlite::Result<()> {
    tx.execute_batch(
        "CREATE INDEX calls_conversation_id ON calls(conversation_id);
         CREATE INDEX calls_status_started ON calls(status, started_at_us);",
    )
}

fn digit_columns(number: Option<&str>) -> (Option<String>, Option<String>) {
    let digits = number
        .and_then(|n| Number::parse(n, None))
        .map(|n| n.digits().to_owned());
    let reversed = digits.as_ref().map(|d| d.chars().rev().collect());
    (digits, reversed)
}

/// Binds `v` as the next numbered SQL parameter; returns its placeholder (`?N`).
pub(crate) fn bind(values: &mut Vec<Value>, v: Value) -> String {
    values.push(v);
    format!("?{}", values.len())
}

/// The SQL condition matching calls from or to `number` (in any notation), its values bound into `values`;
/// `None` when the text can match no stored number.
pub(crate) fn number_sql(number: &str, values: &mut Vec<Value>) -> Option<String> {
    Some(match number_condition(number)? {
        NumberMatch::Exact(digits) => {
            let p = bind(values, Value::Text(digits));
            format!("(from_digits = {p} OR to_digits = {p})")
        }
        NumberMatch::Suffix(rdigits) => {
            // reversed digits: a suffix becomes a prefix, found as an index range [r, r + ':')
            // (':' sorts right after '9')
            let lo = bind(values, Value::Text(rdigits.clone()));
            let hi = bind(values, Value::Text(format!("{rdigits}:")));
            format!(
                "((from_rdigits >= {lo} AND from_rdigits < {hi}) OR (to_rdigits >= {lo} AND to_rdigits < {hi}))"
            )
        }
    })
}
/// An open catalog.
#[derive(Debug)]
pub struct Catalog {
    conn: Connection,
}

const CALL_COLUMNS: &str = "id, call_id, conversation_id, from_display, from_uri, from_number, to_display, \
    to_uri, to_number, asserted_identity, privacy, user_agents, started_at_us, answered_at_us, ended_at_us, \
    end_reason, status, file, format, channels, sample_rate, diagnostics, emergency, location, sensitivity, \
    target_class, dtmf";

impl Catalog {
    /// Opens (creating it if needed) the catalog file at `path` for reading and writing, in WAL mode, and
    /// migrates its schema to [`SCHEMA_VERSION`]. A file from a newer recorder is refused
    /// ([`CatalogError::NewerSchema`]). The parent directory must exist.
    pub fn open(path: impl AsRef<Path>) -> Result<Catalog> {
        // no SQLITE_OPEN_URI: a path is always a file name, never a `file:` URI with options
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        Catalog::setup(conn, true)
    }

    /// Opens an existing catalog read-only (for searching): never creates nor changes the file. Refused when
    /// the file is missing, not a catalog, newer ([`CatalogError::NewerSchema`]) or older
    /// ([`CatalogError::NeedsMigration`]) than this build.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Catalog> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        Catalog::setup(conn, false)
    }

    /// An in-memory catalog (tests, dry runs).
    pub fn open_in_memory() -> Result<Catalog> {
        Catalog::setup(Connection::open_in_memory()?, true)
    }

    fn setup(mut conn: Connection, writable: bool) -> Result<Catalog> {
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        // reading the version also proves the file is an SQLite database
        let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(CatalogError::NewerSchema {
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        if !writable {
            if version < SCHEMA_VERSION {
                return Err(CatalogError::NeedsMigration {
                    found: version,
                    supported: SCHEMA_VERSION,
                });
            }
            return Ok(Catalog { conn });
        }
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Exclusive)?;
        // re-read inside the exclusive transaction: another process may have migrated meanwhile
        let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(CatalogError::NewerSchema {
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        for (i, migrate) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            migrate(&tx)?;
            tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        }
        tx.commit()?;
        Ok(Catalog { conn })
    }

    /// The schema version of the open file.
    pub fn schema_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// Adds a call (at call start) with its streams; sets `call.id` and returns it.
    pub fn insert_call(&mut self, call: &mut CallRecord) -> Result<i64> {
        let tx = self.conn.transaction()?;
        let values = call_values(call)?;
        tx.execute(
            "INSERT INTO calls (call_id, conversation_id, from_display, from_uri, from_number, to_display, \
             to_uri, to_number, asserted_identity, privacy, user_agents, started_at_us, answered_at_us, \
             ended_at_us, end_reason, status, file, format, channels, sample_rate, diagnostics, emergency, \
             location, sensitivity, target_class, dtmf, from_digits, from_rdigits, to_digits, to_rdigits) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, \
             ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, ?29, ?30)",
            rusqlite::params_from_iter(values),
        )?;
        let id = tx.last_insert_rowid();
        insert_streams(&tx, id, &call.streams)?;
        tx.commit()?;
        call.id = Some(id);
        Ok(id)
    }

    /// Replaces every field of the call row `call.id` and its streams, in one transaction.
    pub fn update_call(&mut self, call: &CallRecord) -> Result<()> {
        let id = call.id.ok_or(CatalogError::NoSuchCall(None))?;
        let tx = self.conn.transaction()?;
        let mut values = call_values(call)?;
        values.push(Value::Integer(id));
        let n = tx.execute(
            "UPDATE calls SET call_id = ?1, conversation_id = ?2, from_display = ?3, from_uri = ?4, \
             from_number = ?5, to_display = ?6, to_uri = ?7, to_number = ?8, asserted_identity = ?9, \
             privacy = ?10, user_agents = ?11, started_at_us = ?12, answered_at_us = ?13, ended_at_us = ?14, \
             end_reason = ?15, status = ?16, file = ?17, format = ?18, channels = ?19, sample_rate = ?20, \
             diagnostics = ?21, emergency = ?22, location = ?23, sensitivity = ?24, target_class = ?25, \
             dtmf = ?26, from_digits = ?27, from_rdigits = ?28, to_digits = ?29, to_rdigits = ?30 \
             WHERE id = ?31",
            rusqlite::params_from_iter(values),
        )?;
        if n == 0 {
            return Err(CatalogError::NoSuchCall(Some(id)));
        }
        tx.execute("DELETE FROM streams WHERE call = ?1", [id])?;
        insert_streams(&tx, id, &call.streams)?;
        tx.commit()?;
        Ok(())
    }

    /// The call with row id `id`, with its streams.
    pub fn get(&self, id: i64) -> Result<Option<CallRecord>> {
        let sql = format!("SELECT {CALL_COLUMNS} FROM calls WHERE id = ?1");
        let call = self.conn.query_row(&sql, [id], read_call_row).optional()?;
        match call {
            Some(call) => Ok(Some(self.finish(call)?)),
            None => Ok(None),
        }
    }

    /// The calls that match `query`, ordered by start time then row id, with their streams.
    pub fn query(&self, query: &Query) -> Result<Vec<CallRecord>> {
        let mut conditions: Vec<String> = Vec::new();
        let mut values: Vec<Value> = Vec::new();
        if let Some(call_id) = &query.call_id {
            let p = bind(&mut values, Value::Text(call_id.clone()));
            conditions.push(format!("call_id = {p}"));
        }
        if let Some(number) = &query.number {
            match number_sql(number, &mut values) {
                Some(c) => conditions.push(c),
                None => return Ok(Vec::new()),
            }
        }
        if let Some(since) = query.since_us {
            let p = bind(&mut values, Value::Integer(since));
            conditions.push(format!("started_at_us >= {p}"));
        }
        if let Some(until) = query.until_us {
            let p = bind(&mut values, Value::Integer(until));
            conditions.push(format!("started_at_us < {p}"));
        }
        let mut sql = format!("SELECT {CALL_COLUMNS} FROM calls");
        if !conditions.is_empty() {
            sql.push_str(" WHERE ");
            sql.push_str(&conditions.join(" AND "));
        }
        sql.push_str(" ORDER BY started_at_us, id");
        if let Some(limit) = query.limit {
            let p = bind(&mut values, Value::Integer(i64::from(limit)));
            sql.push_str(&format!(" LIMIT {p}"));
        }
        let calls: Vec<RawCall> = {
            let mut stmt = self.conn.prepare(&sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(values), read_call_row)?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        calls.into_iter().map(|c| self.finish(c)).collect()
    }

    /// After a crash or restart: every call still `recording` becomes `interrupted`; returns those calls
    /// (as updated) so the caller can deal with their `.part` files.
    pub fn mark_unfinished_interrupted(&mut self) -> Result<Vec<CallRecord>> {
        let ids: Vec<i64> = {
            let tx = self.conn.transaction()?;
            let ids: Vec<i64> = {
                let mut stmt = tx
                    .prepare("SELECT id FROM calls WHERE status = ?1 ORDER BY started_at_us, id")?;
                let rows = stmt.query_map([CallStatus::Recording.as_str()], |r| r.get(0))?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            tx.execute(
                "UPDATE calls SET status = ?1 WHERE status = ?2",
                [
                    CallStatus::Interrupted.as_str(),
                    CallStatus::Recording.as_str(),
                ],
            )?;
            tx.commit()?;
            ids
        };
        let mut calls = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(call) = self.get(id)? {
                calls.push(call);
            }
        }
        Ok(calls)
    }

    fn finish(&self, raw: RawCall) -> Result<CallRecord> {
        let RawCall {
            mut call,
            status,
            asserted_identity,
            user_agents,
            dtmf,
        } = raw;
        let id = call.id.unwrap_or_default();
        let corrupt = |what: String| CatalogError::Corrupt { id, what };
        call.status = CallStatus::from_name(&status)
            .ok_or_else(|| corrupt(format!("unknown status {status:?}")))?;
        call.asserted_identity = serde_json::from_str(&asserted_identity)
            .map_err(|e| corrupt(format!("asserted_identity: {e}")))?;
        call.user_agents =
            serde_json::from_str(&user_agents).map_err(|e| corrupt(format!("user_agents: {e}")))?;
        call.dtmf = serde_json::from_str(&dtmf).map_err(|e| corrupt(format!("dtmf: {e}")))?;
        let mut stmt = self.conn.prepare_cached(
            "SELECT direction, ssrc, codec, packets, lost, duplicates, decrypt_failures, rtp_file \
             FROM streams WHERE call = ?1 ORDER BY position",
        )?;
        let rows = stmt.query_map([id], |r| {
            Ok(StreamRecord {
                direction: r.get(0)?,
                ssrc: r.get(1)?,
                codec: r.get(2)?,
                packets: to_u64(r.get(3)?),
                lost: to_u64(r.get(4)?),
                duplicates: to_u64(r.get(5)?),
                decrypt_failures: to_u64(r.get(6)?),
                rtp_file: r.get(7)?,
            })
        })?;
        call.streams = rows.collect::<rusqlite::Result<_>>()?;
        Ok(call)
    }
}

enum NumberMatch {
    Exact(String),
    Suffix(String),
}

fn number_condition(text: &str) -> Option<NumberMatch> {
    let number = Number::parse(text, None)?;
    if number.is_international() {
        return Some(NumberMatch::Exact(number.digits().to_owned()));
    }
    let significant = number.digits().strip_prefix('0').unwrap_or(number.digits());
    if significant.len() >= MIN_SUFFIX_DIGITS {
        Some(NumberMatch::Suffix(significant.chars().rev().collect()))
    } else {
        Some(NumberMatch::Exact(number.digits().to_owned()))
    }
}

struct RawCall {
    call: CallRecord,
    status: String,
    asserted_identity: String,
    user_agents: String,
    dtmf: String,
}

fn read_call_row(r: &Row) -> rusqlite::Result<RawCall> {
    Ok(RawCall {
        call: CallRecord {
            id: Some(r.get(0)?),
            call_id: r.get(1)?,
            conversation_id: r.get(2)?,
            from: Party {
                display: r.get(3)?,
                uri: r.get(4)?,
                number: r.get(5)?,
            },
            to: Party {
                display: r.get(6)?,
                uri: r.get(7)?,
                number: r.get(8)?,
            },
            privacy: r.get(10)?,
            started_at_us: r.get(12)?,
            answered_at_us: r.get(13)?,
            ended_at_us: r.get(14)?,
            end_reason: r.get(15)?,
            file: r.get(17)?,
            format: r.get(18)?,
            channels: r.get(19)?,
            sample_rate: r.get(20)?,
            diagnostics: r.get(21)?,
            emergency: r.get(22)?,
            location: r.get(23)?,
            sensitivity: r.get(24)?,
            target_class: r.get(25)?,
            ..CallRecord::default()
        },
        asserted_identity: r.get(9)?,
        user_agents: r.get(11)?,
        status: r.get(16)?,
        dtmf: r.get(26)?,
    })
}

fn to_u64(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn text(v: &Option<String>) -> Value {
    v.clone().map_or(Value::Null, Value::Text)
}

fn json<T: Serialize>(v: &T) -> Result<Value> {
    // serialising plain strings and numbers cannot fail; map anyway rather than panic
    serde_json::to_string(v)
        .map(Value::Text)
        .map_err(|e| CatalogError::Sqlite(rusqlite::Error::ToSqlConversionFailure(Box::new(e))))
}

/// The 30 call columns in the order of the INSERT/UPDATE statements.
fn call_values(c: &CallRecord) -> Result<Vec<Value>> {
    let (fd, fr) = digit_columns(c.from.number.as_deref());
    let (td, tr) = digit_columns(c.to.number.as_deref());
    let opt_int = |v: Option<i64>| v.map_or(Value::Null, Value::Integer);
    Ok(vec![
        Value::Text(c.call_id.clone()),
        text(&c.conversation_id),
        text(&c.from.display),
        Value::Text(c.from.uri.clone()),
        text(&c.from.number),
        text(&c.to.display),
        Value::Text(c.to.uri.clone()),
        text(&c.to.number),
        json(&c.asserted_identity)?,
        Value::Integer(i64::from(c.privacy)),
        json(&c.user_agents)?,
        Value::Integer(c.started_at_us),
        opt_int(c.answered_at_us),
        opt_int(c.ended_at_us),
        text(&c.end_reason),
        Value::Text(c.status.as_str().to_owned()),
        text(&c.file),
        text(&c.format),
        Value::Integer(i64::from(c.channels)),
        Value::Integer(i64::from(c.sample_rate)),
        text(&c.diagnostics),
        Value::Integer(i64::from(c.emergency)),
        text(&c.location),
        text(&c.sensitivity),
        text(&c.target_class),
        json(&c.dtmf)?,
        fd.map_or(Value::Null, Value::Text),
        fr.map_or(Value::Null, Value::Text),
        td.map_or(Value::Null, Value::Text),
        tr.map_or(Value::Null, Value::Text),
    ])
}

fn insert_streams(tx: &Transaction, call: i64, streams: &[StreamRecord]) -> Result<()> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO streams (call, position, direction, ssrc, codec, packets, lost, duplicates, \
         decrypt_failures, rtp_file) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?;
    for (i, s) in streams.iter().enumerate() {
        stmt.execute(params![
            call,
            i as i64,
            s.direction,
            s.ssrc,
            s.codec,
            to_i64(s.packets),
            to_i64(s.lost),
            to_i64(s.duplicates),
            to_i64(s.decrypt_failures),
            s.rtp_file,
        ])?;
    }
    Ok(())
}
