//! Retention: how long recordings are kept, by rule (the recording policy's rule forms: URIs, numbers in
//! any notation, `domain:`), and the sweep that deletes expired recordings. The sweep takes the time as
//! input (a fake clock in tests); each deletion is sealed into the chain (see [`Catalog::delete_recording`])
//! and a recording under legal hold is kept whatever its age.

use std::path::Path;

use rec_rewrite::{DefaultAction, Policy, PolicyConfig};
use serde::Deserialize;

use crate::seal::Sealer;
use crate::{CallRecord, CallStatus, Catalog, CatalogError, Query};

const DAY_US: i64 = 86_400_000_000;

/// One `[[retention.rule]]`: calls that match `match` (and not `exclude`) are kept `keep_days`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionRule {
    /// Rules naming the calls (any party): URIs, numbers in any notation, `domain:example.com`.
    #[serde(rename = "match")]
    pub matches: Vec<String>,
    /// Rules naming calls this rule does not apply to.
    pub exclude: Vec<String>,
    /// Days to keep; 0 = forever.
    pub keep_days: u32,
}

/// `[retention]` of recorder.toml.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RetentionConfig {
    /// Days to keep calls no rule names; 0 = forever (the default).
    pub default_days: u32,
    /// How often `recorder run` sweeps, seconds.
    pub sweep_interval_s: u64,
    /// The rules, first match wins.
    pub rule: Vec<RetentionRule>,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            default_days: 0,
            sweep_interval_s: 3600,
            rule: Vec::new(),
        }
    }
}

/// Parsed retention rules.
#[derive(Debug, Clone)]
pub struct Retention {
    default_days: u32,
    rules: Vec<(Policy, u32, String)>,
}

impl Retention {
    /// Parses the rules (`country_code` as in `[policy]`); an error names the rule.
    pub fn new(cfg: &RetentionConfig, country_code: &str) -> Result<Retention, String> {
        let mut rules = Vec::new();
        for (i, r) in cfg.rule.iter().enumerate() {
            if r.matches.is_empty() {
                return Err(format!("[[retention.rule]] {}: match is empty", i + 1));
            }
            let p = Policy::new(&PolicyConfig {
                default: DefaultAction::Ignore,
                include: r.matches.clone(),
                exclude: r.exclude.clone(),
                country_code: country_code.to_owned(),
            })
            .map_err(|e| format!("[[retention.rule]] {}: {e}", i + 1))?;
            rules.push((
                p,
                r.keep_days,
                format!("rule {} ({})", i + 1, r.matches.join(", ")),
            ));
        }
        Ok(Retention {
            default_days: cfg.default_days,
            rules,
        })
    }

    /// Days to keep `call` (0 = forever) and which rule says so.
    pub fn keep_days(&self, call: &CallRecord) -> (u32, String) {
        let mut parties: Vec<&str> = vec![call.from.uri.as_str(), call.to.uri.as_str()];
        parties.extend(call.asserted_identity.iter().map(String::as_str));
        for (policy, days, name) in &self.rules {
            if policy.decide(parties.iter().copied()).record {
                return (*days, name.clone());
            }
        }
        (self.default_days, "default_days".into())
    }

    /// When `call` expires (unix µs), `None` when kept forever: `keep_days` after its end (its start
    /// when it has no end).
    pub fn expires_at(&self, call: &CallRecord) -> (Option<i64>, String) {
        let (days, why) = self.keep_days(call);
        if days == 0 {
            return (None, why);
        }
        let from = call.ended_at_us.unwrap_or(call.started_at_us);
        (Some(from.saturating_add(i64::from(days) * DAY_US)), why)
    }
}

/// What a sweep did (or, dry, would do).
#[derive(Debug, Default)]
pub struct SweepReport {
    /// Deleted (or to delete): row id, Call-ID, reason.
    pub deleted: Vec<(i64, String, String)>,
    /// Expired but under legal hold: row id, Call-ID, hold id.
    pub held: Vec<(i64, String, i64)>,
    /// Problems (the recording is kept).
    pub errors: Vec<String>,
}

impl Catalog {
    /// Deletes every finished recording that expired at `now_us` and no legal hold covers; with `dry_run`
    /// only reports. Each deletion is sealed into the chain with its reason.
    pub fn sweep_retention(
        &mut self,
        root: &Path,
        sealer: &Sealer,
        retention: &Retention,
        now_us: i64,
        dry_run: bool,
    ) -> crate::Result<SweepReport> {
        let mut report = SweepReport::default();
        let calls = self.query(&Query::default())?;
        for call in calls {
            if call.status == CallStatus::Recording {
                continue;
            }
            let (Some(at), why) = retention.expires_at(&call) else {
                continue;
            };
            if at > now_us {
                continue;
            }
            let id = call.id.unwrap_or_default();
            if let Some(h) = self.hold_for(&call)? {
                report.held.push((id, call.call_id.clone(), h.id));
                continue;
            }
            let (days, _) = retention.keep_days(&call);
            let reason = format!("retention: kept {days} days ({why})");
            if !dry_run {
                match self.delete_recording(root, sealer, id, &reason, now_us) {
                    Ok(_) => {}
                    Err(CatalogError::Held { hold, .. }) => {
                        report.held.push((id, call.call_id.clone(), hold));
                        continue;
                    }
                    Err(e) => {
                        report.errors.push(format!("catalog row {id}: {e}"));
                        continue;
                    }
                }
            }
            report.deleted.push((id, call.call_id.clone(), reason));
        }
        Ok(report)
    }
}
