//! Legal holds: a hold names calls by Call-ID, by number (From or To, any notation, matched like a search)
//! or by a start-time range; while it is not lifted, no covered recording is deleted (neither by retention
//! nor by any other delete path, see [`Catalog::delete_recording`]). Setting and lifting are recorded with
//! who, when and why; a lifted hold stays in the table.

use rusqlite::{params, OptionalExtension, Row};
use serde::Serialize;

use crate::{number_condition, CallRecord, Catalog, CatalogError, NumberMatch};

/// One legal hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hold {
    /// Hold id.
    pub id: i64,
    /// Calls with exactly this Call-ID.
    pub call_id: Option<String>,
    /// Calls whose From or To number matches this number.
    pub number: Option<String>,
    /// Calls that started at or after this time (unix µs).
    pub since_us: Option<i64>,
    /// Calls that started before this time (unix µs).
    pub until_us: Option<i64>,
    /// Why the hold was set (case reference).
    pub reason: String,
    /// Who set it (the API token's name, or `cli`).
    pub set_by: String,
    /// When, unix µs.
    pub set_at_us: i64,
    /// When it was lifted; `None` while active.
    pub lifted_at_us: Option<i64>,
    /// Who lifted it.
    pub lifted_by: Option<String>,
    /// Why it was lifted.
    pub lift_reason: Option<String>,
}

/// What a new hold covers (at least one field).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HoldScope {
    /// Exact Call-ID.
    pub call_id: Option<String>,
    /// A number in any notation.
    pub number: Option<String>,
    /// Start of the time range (unix µs, inclusive).
    pub since_us: Option<i64>,
    /// End of the time range (unix µs, exclusive).
    pub until_us: Option<i64>,
}

const HOLD_COLUMNS: &str = "id, call_id, number, since_us, until_us, reason, set_by, set_at_us, \
    lifted_at_us, lifted_by, lift_reason";

fn read_hold(r: &Row) -> rusqlite::Result<Hold> {
    Ok(Hold {
        id: r.get(0)?,
        call_id: r.get(1)?,
        number: r.get(2)?,
        since_us: r.get(3)?,
        until_us: r.get(4)?,
        reason: r.get(5)?,
        set_by: r.get(6)?,
        set_at_us: r.get(7)?,
        lifted_at_us: r.get(8)?,
        lifted_by: r.get(9)?,
        lift_reason: r.get(10)?,
    })
}

impl Hold {
    /// Whether this (active) hold covers `call`.
    pub fn covers(&self, call: &CallRecord) -> bool {
        if self.lifted_at_us.is_some() {
            return false;
        }
        if let Some(id) = &self.call_id {
            if *id != call.call_id {
                return false;
            }
        }
        if let Some(n) = &self.number {
            let digits = |p: &crate::Party| {
                p.number
                    .as_deref()
                    .and_then(|n| rec_rewrite::Number::parse(n, None))
                    .map(|n| n.digits().to_owned())
            };
            let parties = [digits(&call.from), digits(&call.to)];
            let hit = match number_condition(n) {
                Some(NumberMatch::Exact(d)) => parties.iter().flatten().any(|p| *p == d),
                Some(NumberMatch::Suffix(rev)) => {
                    let suffix: String = rev.chars().rev().collect();
                    parties.iter().flatten().any(|p| p.ends_with(&suffix))
                }
                None => false,
            };
            if !hit {
                return false;
            }
        }
        if self.since_us.is_some_and(|s| call.started_at_us < s) {
            return false;
        }
        if self.until_us.is_some_and(|u| call.started_at_us >= u) {
            return false;
        }
        true
    }
}

impl Catalog {
    /// Sets a hold; `reason` must not be empty and the scope must name something. Returns it.
    pub fn add_hold(
        &mut self,
        scope: &HoldScope,
        reason: &str,
        set_by: &str,
        now_us: i64,
    ) -> crate::Result<Hold> {
        if reason.trim().is_empty() {
            return Err(CatalogError::BadHold("a hold needs a reason".into()));
        }
        if scope == &HoldScope::default() {
            return Err(CatalogError::BadHold(
                "a hold must name a call_id, a number or a time range".into(),
            ));
        }
        if let Some(n) = &scope.number {
            if number_condition(n).is_none() {
                return Err(CatalogError::BadHold(format!(
                    "{n:?} is not a phone number"
                )));
            }
        }
        self.conn.execute(
            "INSERT INTO legal_holds (call_id, number, since_us, until_us, reason, set_by, set_at_us) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                scope.call_id,
                scope.number,
                scope.since_us,
                scope.until_us,
                reason,
                set_by,
                now_us
            ],
        )?;
        let id = self.conn.last_insert_rowid();
        self.hold(id)?.ok_or(CatalogError::NoSuchHold(id))
    }

    /// Lifts an active hold (it stays recorded with who, when and why).
    pub fn lift_hold(
        &mut self,
        id: i64,
        reason: &str,
        lifted_by: &str,
        now_us: i64,
    ) -> crate::Result<Hold> {
        if reason.trim().is_empty() {
            return Err(CatalogError::BadHold(
                "lifting a hold needs a reason".into(),
            ));
        }
        let n = self.conn.execute(
            "UPDATE legal_holds SET lifted_at_us = ?2, lifted_by = ?3, lift_reason = ?4 \
             WHERE id = ?1 AND lifted_at_us IS NULL",
            params![id, now_us, lifted_by, reason],
        )?;
        if n == 0 {
            return Err(CatalogError::NoSuchHold(id));
        }
        self.hold(id)?.ok_or(CatalogError::NoSuchHold(id))
    }

    /// The hold `id`.
    pub fn hold(&self, id: i64) -> crate::Result<Option<Hold>> {
        let sql = format!("SELECT {HOLD_COLUMNS} FROM legal_holds WHERE id = ?1");
        Ok(self.conn.query_row(&sql, [id], read_hold).optional()?)
    }

    /// Every hold (active ones only with `active_only`), oldest first.
    pub fn holds(&self, active_only: bool) -> crate::Result<Vec<Hold>> {
        let sql = format!(
            "SELECT {HOLD_COLUMNS} FROM legal_holds {} ORDER BY id",
            if active_only {
                "WHERE lifted_at_us IS NULL"
            } else {
                ""
            }
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([], read_hold)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The first active hold that covers `call`, if any.
    pub fn hold_for(&self, call: &CallRecord) -> crate::Result<Option<Hold>> {
        Ok(self.holds(true)?.into_iter().find(|h| h.covers(call)))
    }
}
