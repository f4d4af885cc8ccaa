//! `recorder completions` and `recorder man`: generated from the same clap definitions as `--help`, checked
//! with the real consumers (bash's `complete`, groff through `man`).

use std::process::Command;

fn recorder(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_recorder"))
        .args(args)
        .output()
        .expect("run recorder")
}

#[test]
fn bash_completion_registers_and_completes_subcommands() {
    let out = recorder(&["completions", "bash"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("recorder.bash");
    std::fs::write(&script, &out.stdout).unwrap();
    // source it in a real bash, then ask the completion function what follows `recorder re`
    let probe = format!(
        "source {}; complete -p recorder; COMP_WORDS=(recorder re); COMP_CWORD=1; COMP_LINE='recorder re'; \
         COMP_POINT=11; _recorder recorder re recorder; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display()
    );
    let run = Command::new("bash").args(["-c", &probe]).output().unwrap();
    let text = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "bash: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(
        text.contains("-F _recorder recorder"),
        "not registered: {text}"
    );
    for sub in ["rewrite", "replay"] {
        assert!(
            text.lines().any(|l| l == sub),
            "`recorder re<TAB>` lacks {sub}: {text}"
        );
    }
    assert!(
        !text.lines().any(|l| l == "query"),
        "`re` prefix not applied: {text}"
    );
}

#[test]
fn zsh_and_fish_completions_name_every_subcommand() {
    for shell in ["zsh", "fish"] {
        let out = recorder(&["completions", shell]);
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        for sub in ["rewrite", "query", "replay", "run", "mirror"] {
            assert!(text.contains(sub), "{shell} completion lacks {sub}");
        }
    }
}

#[test]
fn man_page_renders_without_warnings_and_documents_every_subcommand() {
    let out = recorder(&["man"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let roff = String::from_utf8(out.stdout).unwrap();
    assert!(
        roff.starts_with(".ie") || roff.starts_with(".TH"),
        "not roff: {}",
        &roff[..80.min(roff.len())]
    );
    for sub in ["REWRITE", "QUERY", "REPLAY", "RUN", "MIRROR"] {
        assert!(
            roff.contains(&format!(".SH \"RECORDER {sub}\"")),
            "man page lacks {sub}"
        );
    }
    // an option of a subcommand is documented, not only the top level
    assert!(
        roff.contains("signaling"),
        "replay's --signaling is missing"
    );
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("recorder.1");
    std::fs::write(&page, &roff).unwrap();
    // groff is what `man` uses (with preconv, -k, for the UTF-8 text): render with warnings on, as `man -l` would
    let render = Command::new("groff")
        .args(["-k", "-man", "-Tutf8", "-ww", "-z"])
        .arg(&page)
        .output()
        .expect("groff (Debian groff-base) is needed");
    let warnings = String::from_utf8_lossy(&render.stderr);
    assert!(
        render.status.success() && warnings.trim().is_empty(),
        "groff: {warnings}"
    );
}
