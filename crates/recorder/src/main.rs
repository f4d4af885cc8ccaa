//! `recorder`: the passive Lync / Skype for Business call recorder's command line.
//!
//! Subcommands follow the contracts of `../shared/DESIGN.md`. This binary is a thin shell: it reads files and
//! standard input, and hands bytes to the pure crates.

mod config;
mod rewrite_cmd;

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Rewrite { config, input } => rewrite_cmd::run(config.as_deref(), input.as_deref()),
    }
}
