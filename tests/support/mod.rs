//! Helpers shared by the scenario tests in `tests/`: where the independent test material lives and
//! how to run the `recorder` binary.

use std::path::PathBuf;

/// The repository's top directory.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `../shared` beside the checkout: the team's independent test material (see DEVELOPERS guide).
pub fn shared_dir() -> PathBuf {
    let dir = repo_root().join("..").join("shared");
    assert!(
        dir.is_dir(),
        "the shared test material is expected at {} (CI places it there)",
        dir.display()
    );
    dir
}
