//! Paged, sorted search for the web UI: the filters of [`Query`](crate::Query) plus status, party text and
//! Ms-Conversation-ID, an `ORDER BY` chosen from a fixed list, `LIMIT`/`OFFSET`, and the total count.
//!
//! Every filter is a bound parameter; the sort column comes from [`SortKey`], never from the caller's text.
//! Start-time sorting and the Call-ID, number, status and conversation filters use indexes; the party text
//! filter (a substring of a display name or URI) scans the rows the other filters leave.

use rusqlite::types::Value;

use crate::{bind, number_sql, read_call_row, CallRecord, CallStatus, Catalog, RawCall};
use crate::{Result, CALL_COLUMNS};

/// Largest page.
pub const MAX_PAGE: u32 = 500;

/// What a search page is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    /// Call start (indexed).
    #[default]
    Started,
    /// Call duration (end − start; running calls last).
    Duration,
    /// Status name.
    Status,
    /// The caller's URI.
    From,
    /// The callee's URI.
    To,
}

impl SortKey {
    /// The key of a name used in URLs (`started`, `duration`, `status`, `from`, `to`).
    pub fn from_name(name: &str) -> Option<SortKey> {
        Some(match name {
            "started" => SortKey::Started,
            "duration" => SortKey::Duration,
            "status" => SortKey::Status,
            "from" => SortKey::From,
            "to" => SortKey::To,
            _ => return None,
        })
    }

    fn column(self) -> &'static str {
        match self {
            SortKey::Started => "started_at_us",
            SortKey::Duration => "(ended_at_us - started_at_us)",
            SortKey::Status => "status",
            SortKey::From => "from_uri",
            SortKey::To => "to_uri",
        }
    }
}

/// A search; every given filter must match (AND).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Search {
    /// Exact Call-ID.
    pub call_id: Option<String>,
    /// A number in any notation, matched against From and To (see the crate docs).
    pub number: Option<String>,
    /// Text found (case-insensitively, as a substring) in the From or To display name or URI.
    pub party: Option<String>,
    /// Exact Ms-Conversation-ID.
    pub conversation_id: Option<String>,
    /// Calls with this status.
    pub status: Option<CallStatus>,
    /// Calls that started at or after this time (unix µs).
    pub since_us: Option<i64>,
    /// Calls that started before this time (unix µs, exclusive).
    pub until_us: Option<i64>,
    /// Sort key.
    pub sort: SortKey,
    /// Newest (largest) first.
    pub descending: bool,
    /// Rows skipped.
    pub offset: u64,
    /// Rows returned (1 to [`MAX_PAGE`]; 0 counts only).
    pub limit: u32,
}

/// One page of a search.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchPage {
    /// Calls matching the filters, all pages together.
    pub total: u64,
    /// This page's calls, with their streams.
    pub calls: Vec<CallRecord>,
}

/// `%` and `_` (and the escape itself) taken literally in a `LIKE … ESCAPE '\'` pattern.
fn like_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('%');
    out
}

impl Catalog {
    /// One page of the calls matching `search`, and how many match in all.
    pub fn search(&self, search: &Search) -> Result<SearchPage> {
        let mut conditions: Vec<String> = Vec::new();
        let mut values: Vec<Value> = Vec::new();
        if let Some(call_id) = &search.call_id {
            let p = bind(&mut values, Value::Text(call_id.clone()));
            conditions.push(format!("call_id = {p}"));
        }
        if let Some(conv) = &search.conversation_id {
            let p = bind(&mut values, Value::Text(conv.clone()));
            conditions.push(format!("conversation_id = {p}"));
        }
        if let Some(number) = &search.number {
            match number_sql(number, &mut values) {
                Some(c) => conditions.push(c),
                None => {
                    return Ok(SearchPage {
                        total: 0,
                        calls: Vec::new(),
                    })
                }
            }
        }
        if let Some(party) = &search.party {
            let p = bind(&mut values, Value::Text(like_literal(party)));
            conditions.push(format!(
                "(from_display LIKE {p} ESCAPE '\\' OR from_uri LIKE {p} ESCAPE '\\' \
                 OR to_display LIKE {p} ESCAPE '\\' OR to_uri LIKE {p} ESCAPE '\\')"
            ));
        }
        if let Some(status) = search.status {
            let p = bind(&mut values, Value::Text(status.as_str().to_owned()));
            conditions.push(format!("status = {p}"));
        }
        if let Some(since) = search.since_us {
            let p = bind(&mut values, Value::Integer(since));
            conditions.push(format!("started_at_us >= {p}"));
        }
        if let Some(until) = search.until_us {
            let p = bind(&mut values, Value::Integer(until));
            conditions.push(format!("started_at_us < {p}"));
        }
        let filter = if conditions.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conditions.join(" AND "))
        };
        let total: i64 = self.conn.query_row(
            &format!("SELECT COUNT(*) FROM calls{filter}"),
            rusqlite::params_from_iter(values.iter()),
            |r| r.get(0),
        )?;
        if search.limit == 0 {
            return Ok(SearchPage {
                total: u64::try_from(total).unwrap_or(0),
                calls: Vec::new(),
            });
        }
        let dir = if search.descending { "DESC" } else { "ASC" };
        // NULLs (running calls' durations) last either way; row id breaks ties so pages never overlap
        let column = search.sort.column();
        // only durations can be NULL; elsewhere the plain column lets SQLite walk its index
        let nulls_last = if search.sort == SortKey::Duration {
            format!("{column} IS NULL, ")
        } else {
            String::new()
        };
        let sql = format!(
            "SELECT {CALL_COLUMNS} FROM calls{filter} ORDER BY {nulls_last}{column} {dir}, id {dir} \
             LIMIT {} OFFSET {}",
            search.limit.min(MAX_PAGE),
            search.offset.min(i64::MAX as u64)
        );
        let raws: Vec<RawCall> = {
            let mut stmt = self.conn.prepare(&sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(values.iter()), read_call_row)?;
            rows.collect::<rusqlite::Result<_>>()?
        };
        let calls = raws
            .into_iter()
            .map(|c| self.finish(c))
            .collect::<Result<_>>()?;
        Ok(SearchPage {
            total: u64::try_from(total).unwrap_or(0),
            calls,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Party;

    fn call(i: i64, from: &str, display: &str, status: CallStatus) -> CallRecord {
        CallRecord {
            call_id: format!("call-{i}@x"),
            conversation_id: Some(format!("conv-{}", i % 3)),
            from: Party::from_uri(Some(display.into()), from, None),
            to: Party::from_uri(None, "sip:bob@contoso.example", None),
            started_at_us: 1_000_000 * i,
            ended_at_us: (status != CallStatus::Recording)
                .then_some(1_000_000 * i + 1000 * (10 - i)),
            status,
            ..CallRecord::default()
        }
    }

    fn sample() -> Catalog {
        let mut c = Catalog::open_in_memory().unwrap();
        for i in 1..=9 {
            let status = if i == 9 {
                CallStatus::Recording
            } else {
                CallStatus::Complete
            };
            let from = if i % 2 == 0 {
                format!("sip:+4420812345{i:02}@contoso.example;user=phone")
            } else {
                format!("sip:user{i}@contoso.example")
            };
            c.insert_call(&mut call(i, &from, &format!("Ali%ce_{i}"), status))
                .unwrap();
        }
        c
    }

    fn ids(p: &SearchPage) -> Vec<i64> {
        p.calls.iter().map(|c| c.id.unwrap()).collect()
    }

    #[test]
    fn paging_sorting_and_filters() {
        let c = sample();
        let page = |s: Search| c.search(&s).unwrap();
        let all = page(Search {
            limit: 4,
            descending: true,
            ..Search::default()
        });
        assert_eq!(all.total, 9);
        assert_eq!(ids(&all), vec![9, 8, 7, 6]);
        let next = page(Search {
            limit: 4,
            offset: 8,
            descending: true,
            ..Search::default()
        });
        assert_eq!(ids(&next), vec![1]);
        // durations 9000, 8000 … µs: ascending duration is newest first, the running call last
        let by_duration = page(Search {
            limit: 9,
            sort: SortKey::Duration,
            ..Search::default()
        });
        assert_eq!(ids(&by_duration), vec![8, 7, 6, 5, 4, 3, 2, 1, 9]);
        let recording = page(Search {
            limit: 9,
            status: Some(CallStatus::Recording),
            ..Search::default()
        });
        assert_eq!(ids(&recording), vec![9]);
        // national notation finds the E.164 number by suffix
        let n = page(Search {
            limit: 9,
            number: Some("020 8123 4504".into()),
            ..Search::default()
        });
        assert_eq!(ids(&n), vec![4]);
        // party text is literal: % and _ are not wildcards; case-insensitive
        let p = page(Search {
            limit: 9,
            party: Some("ali%CE_3".into()),
            ..Search::default()
        });
        assert_eq!(ids(&p), vec![3]);
        let none = page(Search {
            limit: 9,
            party: Some("li_ce".into()),
            ..Search::default()
        });
        assert_eq!(none.total, 0);
        let conv = page(Search {
            limit: 9,
            conversation_id: Some("conv-0".into()),
            since_us: Some(4_000_000),
            until_us: Some(9_000_000),
            ..Search::default()
        });
        assert_eq!(ids(&conv), vec![6]);
        let count = page(Search {
            party: Some("sip:user".into()),
            ..Search::default()
        });
        assert_eq!((count.total, count.calls.len()), (5, 0));
        assert_eq!(SortKey::from_name("duration"), Some(SortKey::Duration));
        assert_eq!(SortKey::from_name("id; DROP TABLE calls"), None);
    }
}
