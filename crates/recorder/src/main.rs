//! `recorder`: the passive Lync / Skype for Business call recorder's command line.
//!
//! Subcommands follow the contracts of `../shared/DESIGN.md`. This binary is a thin shell: it reads files and
//! standard input, and hands bytes to the pure crates.

mod config;
mod daemon;
mod encryption;
mod export_cmd;
mod hostile_metrics;
mod integrity;
mod mirror_cmd;
mod query_cmd;
mod replay;
mod rewrite_cmd;
mod space_reserve;
mod store;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

/// Passive call recorder for Lync / Skype for Business networks.
#[derive(Debug, Parser)]
#[command(name = "recorder", version, long_about = None)]
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
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) on standard output.
    ///
    /// For bash: `recorder completions bash > /etc/bash_completion.d/recorder`.
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff) of `recorder` and its subcommands on standard output.
    ///
    /// `recorder man > /usr/local/share/man/man1/recorder.1`, then `man recorder`.
    Man,
    /// Write a decrypted copy of one call's recording (encrypted at rest or not).
    ///
    /// Finds the call in the catalog of [recording] out, decrypts its audio with the keys of [encryption]
    /// (WAV sizes filled in) into --out (created with mode 0600, never overwritten), and writes who exported
    /// what to the audit log. Exit code 2: unknown call, missing file or key, a file that fails
    /// authentication (the message says which chunk and why), or an unwritable output.
    Export(export_cmd::Args),
    /// Check the signed manifests: signatures, file hashes, catalog rows and the chain (docs/manifests.md).
    ///
    /// Prints one line per altered, missing, extra or reordered item (`altered: <item>: <what>`) and a summary
    /// with the chain head on standard error. Exit code 0: intact; 1: something was found; 2: cannot check
    /// (no catalog, no key).
    Verify(integrity::VerifyArgs),
    /// Apply the retention policy ([retention] of recorder.toml): delete expired recordings not under legal
    /// hold, each deletion sealed into the manifest chain. Exit code 0: done; 1: some deletion failed; 2: bad
    /// configuration or catalog.
    Retention(integrity::RetentionArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Rewrite { config, input } => rewrite_cmd::run(config.as_deref(), input.as_deref()),
        Command::Query(args) => query_cmd::run(args),
        Command::Replay(args) => replay::run(args),
        Command::Run(args) => daemon::run(args),
        Command::Mirror(args) => mirror_cmd::run(args),
        Command::Verify(args) => integrity::verify_cmd(args),
        Command::Retention(args) => integrity::retention_cmd(args),
        Command::Export(args) => export_cmd::run(args),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "recorder",
                &mut std::io::stdout(),
            );
            ExitCode::SUCCESS
        }
        Command::Man => man_page(),
    }
}

/// The manual page: the top-level page followed by one section per subcommand, all generated from the same
/// clap definitions as `--help`, so the two never disagree.
fn man_page() -> ExitCode {
    let cmd = Cli::command();
    let mut out = Vec::new();
    let mut render = || -> std::io::Result<()> {
        clap_mangen::Man::new(cmd.clone()).render(&mut out)?;
        for sub in cmd.get_subcommands() {
            let name = sub.get_name();
            if name == "help" {
                continue;
            }
            out.extend_from_slice(format!(".SH \"RECORDER {}\"\n", name.to_uppercase()).as_bytes());
            let man = clap_mangen::Man::new(sub.clone().bin_name(format!("recorder {name}")));
            man.render_synopsis_section(&mut out)?;
            man.render_description_section(&mut out)?;
            man.render_options_section(&mut out)?;
        }
        Ok(())
    };
    match render().and_then(|()| std::io::Write::write_all(&mut std::io::stdout(), &out)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("recorder man: cannot write the manual page: {e}");
            ExitCode::from(2)
        }
    }
}
