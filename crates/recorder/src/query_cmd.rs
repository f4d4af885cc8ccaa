//! `recorder query`: find recordings in the catalog, as a table or as JSON.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use rec_admin::view::CallView;
use rec_catalog::time::{format_rfc3339, parse_time};
use rec_catalog::{CallRecord, Catalog, Query};

/// Exit code for a missing or unreadable catalog or bad arguments.
const UNUSABLE: u8 = 2;

/// The catalog used when `--catalog` is not given.
pub const DEFAULT_CATALOG: &str = "recordings/catalog.sqlite";

/// The options of `recorder query`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The catalog file [default: `catalog.sqlite` in `[recording] out` of --config, else
    /// ./recordings/catalog.sqlite].
    #[arg(long, value_name = "PATH")]
    pub catalog: Option<PathBuf>,
    /// Configuration file whose `[recording] out` holds the catalog (the one `recorder run` uses).
    #[arg(long, value_name = "FILE", conflicts_with = "catalog")]
    pub config: Option<PathBuf>,
    /// Calls with exactly this SIP Call-ID.
    #[arg(long, value_name = "ID")]
    pub call_id: Option<String>,
    /// Calls from or to this number, in any common notation (+44 20 8123 4567, 0044…, tel:…, sip:…;user=phone);
    /// a number without country code matches every stored number ending in it (7 digits or more).
    #[arg(long, value_name = "N")]
    pub number: Option<String>,
    /// Calls that started at or after T (RFC 3339 such as 2026-11-29T10:00:00Z, or a date: its midnight UTC).
    #[arg(long, value_name = "T")]
    pub since: Option<String>,
    /// Calls that started before T (RFC 3339, or a date: up to the end of that day, UTC).
    #[arg(long, value_name = "T")]
    pub until: Option<String>,
    /// Print a JSON array of calls instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Runs the subcommand; see the CLI help for the contract.
pub fn run(args: Args) -> ExitCode {
    match query(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("recorder query: {message}");
            ExitCode::from(UNUSABLE)
        }
    }
}

fn query(args: &Args) -> Result<(), String> {
    let since_us = match &args.since {
        Some(t) => Some(parse_time(t).map_err(|e| format!("--since: {e}"))?.0),
        None => None,
    };
    let until_us = match &args.until {
        // a bare date as the upper bound includes that whole day
        Some(t) => Some(match parse_time(t).map_err(|e| format!("--until: {e}"))? {
            (us, true) => us + 86_400_000_000,
            (us, false) => us,
        }),
        None => None,
    };
    if let Some(number) = &args.number {
        if rec_rewrite::Number::parse(number, None).is_none() {
            return Err(format!(
                "--number: {number:?} is not a phone number (digits in any common notation, e.g. +44 20 8123 4567)"
            ));
        }
    }
    let path = match (&args.catalog, &args.config) {
        (Some(p), _) => p.clone(),
        (None, Some(cfg)) => {
            let cfg = crate::config::Config::load(Some(cfg))?;
            Path::new(&cfg.recording.out).join("catalog.sqlite")
        }
        (None, None) => PathBuf::from(DEFAULT_CATALOG),
    };
    let catalog = open(&path)?;
    let calls = catalog
        .query(&Query {
            call_id: args.call_id.clone(),
            number: args.number.clone(),
            since_us,
            until_us,
            limit: None,
        })
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = std::io::stdout().lock();
    let written = if args.json {
        let views: Vec<CallView<'_>> = calls.iter().map(CallView::new).collect();
        serde_json::to_writer_pretty(&mut out, &views)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out))
    } else if calls.is_empty() {
        writeln!(out, "no recordings found")
    } else {
        write_table(&mut out, &calls)
    };
    written
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write to stdout: {e}"))
}

fn open(path: &Path) -> Result<Catalog, String> {
    if !path.is_file() {
        return Err(format!(
            "no catalog at {} (give one with --catalog PATH)",
            path.display()
        ));
    }
    Catalog::open_read_only(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn duration_s(call: &CallRecord) -> Option<f64> {
    call.ended_at_us
        .map(|end| end.saturating_sub(call.started_at_us) as f64 / 1e6)
}

fn party(p: &rec_catalog::Party) -> String {
    p.number.clone().unwrap_or_else(|| p.uri.clone())
}

/// Network-supplied text with control characters (terminal escapes, newlines) escaped, for the table.
fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

fn write_table(out: &mut impl Write, calls: &[CallRecord]) -> std::io::Result<()> {
    let rows: Vec<[String; 7]> = calls
        .iter()
        .map(|c| {
            [
                format_rfc3339(c.started_at_us),
                duration_s(c).map_or_else(|| "-".to_owned(), |d| format!("{d:.1}s")),
                c.status.to_string(),
                printable(&party(&c.from)),
                printable(&party(&c.to)),
                printable(&c.call_id),
                c.file.as_deref().map_or_else(|| "-".to_owned(), printable),
            ]
        })
        .collect();
    let header = [
        "STARTED", "DURATION", "STATUS", "FROM", "TO", "CALL-ID", "FILE",
    ];
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |out: &mut dyn Write, cells: &[&str]| -> std::io::Result<()> {
        let mut text = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i + 1 == cells.len() {
                text.push_str(cell);
            } else {
                text.push_str(cell);
                text.extend(std::iter::repeat_n(' ', w - cell.chars().count() + 2));
            }
        }
        writeln!(out, "{}", text.trim_end())
    };
    line(out, &header)?;
    for row in &rows {
        line(out, &row.each_ref().map(String::as_str))?;
    }
    writeln!(out, "{} recording(s)", rows.len())
}
