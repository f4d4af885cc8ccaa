//! `recorder`: the passive Lync / Skype for Business call recorder's command line.
//!
//! Subcommands follow the contracts of `../shared/DESIGN.md`. This binary is a thin shell: it reads files and
//! standard input, and hands bytes to the pure crates.

mod config;
mod daemon;
mod mirror_cmd;
mod query_cmd;
mod replay;
mod rewrite_cmd;
mod space_reserve;
mod store;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Passive call recorder for Lync / Skype for Business networks.
#[derive(Debug, Parser)]
#[command(name = "recorder", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Rewrite one SIP message so a recorded call's media must cross the Edge relay.
    ///
    /// Reads one SIP message from FILE (or standard input with `-` or no FILE), writes the rewritten message to
    /// standard output (the unchanged bytes when nothing applies) and an account of what changed, or which
    /// condition kept the message unchanged, to standard error. Exit code 2: unreadable, non-SIP or truncated
    /// input, or a bad configuration.
    Rewrite {
        /// Configuration file (defaults: the embedded recorder.toml).
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// The SIP message; `-` or nothing for standard input.
        #[arg(value_name = "FILE|-")]
        input: Option<PathBuf>,
    },
    /// Find recordings in the catalog.
    ///
    /// Prints one line per call (or, with --json, an array of objects with call_id, file, format, channels,
    /// sample_rate, started_at, ended_at, duration_s, from, to, status and streams), ordered by start time;
    /// "no recordings found" (or `[]`) when nothing matches. Exit code 2: missing or unreadable catalog, or
    /// bad arguments.
    Query(query_cmd::Args),
    /// Replay captures: find calls, decrypt, decode and mix their media into one file per call, catalog them.
    ///
    /// Inputs are merged by capture time. Signaling comes from SIP (UDP/TCP, any port) and HEPv3 found in the
    /// captures, or from --signaling files (a daemon journal, a Front End trace log). Prints a per-call report
    /// on standard error (and as JSON on standard output with --json). Exit code 0: every call complete;
    /// 1: some call incomplete (the report says which and why); 2: unusable input or output.
    Replay(replay::Args),
    /// Run the recorder service: live capture, signaling, recordings written while calls run, catalog.
    ///
    /// Captures on [capture] interface, records the calls it finds (SIP in the capture or from the mirror),
    /// writes `*.part` files extended while the call runs and completed at its end, and journals the signaling.
    /// SIGTERM/SIGINT finalise every open call. At start, recordings left by a crash are made playable and
    /// marked `interrupted`. Exit code 2: bad configuration or an interface that cannot be opened.
    Run(daemon::Args),
    /// Send SIP to a recorder as a Front End filter would (the reference mirror client).
    ///
    /// Reads SIP from captures (pcap/pcapng, SIP over UDP or TCP; daemon journals) or Front End trace logs, sends
    /// it over the mTLS mirror protocol (docs/mirror-protocol.md) asking for a rewrite of every message with
    /// SDP, prints each reply (the changed lines) with its round-trip time and a summary (p50/p99). Resends what
    /// was not acknowledged after a reconnect. Exit code 0: every message acknowledged and every reply received;
    /// 1: some were not; 2: unusable input, certificates or connection.
    Mirror(mirror_cmd::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Rewrite { config, input } => rewrite_cmd::run(config.as_deref(), input.as_deref()),
        Command::Query(args) => query_cmd::run(args),
        Command::Replay(args) => replay::run(args),
        Command::Run(args) => daemon::run(args),
        Command::Mirror(args) => mirror_cmd::run(args),
    }
}
