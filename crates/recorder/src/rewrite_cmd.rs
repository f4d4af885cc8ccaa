//! `recorder rewrite`: one SIP message in, the rewritten message out, an account on stderr.

use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;

use rec_rewrite::Rewriter;

use crate::config::Config;

/// Exit code for unusable input or configuration.
const UNUSABLE: u8 = 2;

/// Runs the subcommand; see the CLI help for the contract.
pub fn run(config_path: Option<&Path>, input: Option<&Path>) -> ExitCode {
    match rewrite(config_path, input) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("recorder rewrite: {message}");
            ExitCode::from(UNUSABLE)
        }
    }
}

fn rewrite(config_path: Option<&Path>, input: Option<&Path>) -> Result<(), String> {
    let config = Config::load(config_path)?;
    let mut rewriter =
        Rewriter::new(config.rewrite, &config.policy).map_err(|e| format!("configuration: {e}"))?;
    let (name, bytes) = read_input(input)?;
    let account = rewriter
        .rewrite(&bytes)
        .map_err(|e| format!("{name}: {e}; nothing written"))?;
    let out = account.output.as_deref().unwrap_or(&bytes);
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(out)
        .and_then(|()| stdout.flush())
        .map_err(|e| format!("cannot write the message to stdout: {e}"))?;
    eprint!("{name}: {account}");
    Ok(())
}

fn read_input(input: Option<&Path>) -> Result<(String, Vec<u8>), String> {
    let mut bytes = Vec::new();
    match input {
        None => read_stdin(&mut bytes).map(|()| ("<stdin>".to_owned(), bytes)),
        Some(path) if path == Path::new("-") => {
            read_stdin(&mut bytes).map(|()| ("<stdin>".to_owned(), bytes))
        }
        Some(path) => std::fs::read(path)
            .map(|bytes| (path.display().to_string(), bytes))
            .map_err(|e| format!("cannot read {}: {e}", path.display())),
    }
}

fn read_stdin(bytes: &mut Vec<u8>) -> Result<(), String> {
    std::io::stdin()
        .lock()
        .read_to_end(bytes)
        .map(drop)
        .map_err(|e| format!("cannot read standard input: {e}"))
}
