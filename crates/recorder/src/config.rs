//! `recorder.toml`: the configuration file, with every default embedded in the binary.
//!
//! The bundled `recorder.toml` at the top of the repository documents every option; its values are the
//! defaults, and a test checks that the two agree. A file given with `--config` may set any subset.

use std::path::Path;

use rec_rewrite::{PolicyConfig, RewriteConfig};
use serde::Deserialize;

/// The bundled, commented configuration: the documentation of every option and its default value.
pub const BUNDLED: &str = include_str!("../../../recorder.toml");

/// The whole configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// `[rewrite]`: relay forcing.
    pub rewrite: RewriteConfig,
    /// `[policy]`: which calls are recorded.
    pub policy: PolicyConfig,
}

impl Config {
    /// Parses configuration text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &str) -> Result<Config, String> {
        toml::from_str(text).map_err(|e| format!("configuration {origin}: {e}"))
    }

    /// Loads `path`, or the embedded defaults when `path` is `None`.
    pub fn load(path: Option<&Path>) -> Result<Config, String> {
        match path {
            None => Config::parse(BUNDLED, "(embedded defaults)"),
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read configuration {}: {e}", path.display()))?;
                Config::parse(&text, &path.display().to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_file_documents_exactly_the_built_in_defaults() {
        let bundled = Config::parse(BUNDLED, "bundled").unwrap();
        assert_eq!(bundled, Config::default());
        // and every key of the file is written out (commented documentation without hidden options)
        for key in [
            "edge_addresses",
            "invalid_port",
            "video",
            "emergency",
            "drop_undecodable_codecs",
            "default",
            "include",
            "exclude",
            "country_code",
        ] {
            assert!(
                BUNDLED.lines().any(|l| l.trim_start().starts_with(key)),
                "recorder.toml lacks {key}"
            );
        }
    }

    #[test]
    fn partial_files_keep_the_other_defaults_and_typos_are_errors() {
        let c = Config::parse("[rewrite]\ninvalid_port = 1\n", "t").unwrap();
        assert_eq!(c.rewrite.invalid_port, 1);
        assert_eq!(c.policy, PolicyConfig::default());
        let err = Config::parse("[rewrite]\ninvalid_prot = 1\n", "t").unwrap_err();
        assert!(err.contains("invalid_prot"), "{err}");
        let err = Config::parse("[rewrite]\nedge_addresses = [\"not-an-ip\"]\n", "t").unwrap_err();
        assert!(
            err.contains("edge_addresses") || err.contains("address"),
            "{err}"
        );
    }
}
