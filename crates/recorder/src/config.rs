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
    /// `[recording]`: where and how recordings are written.
    pub recording: RecordingConfig,
    /// `[capture]`: the live capture of `recorder run`.
    pub capture: CaptureConfig,
    /// `[journal]`: the signaling journal of `recorder run`.
    pub journal: JournalConfig,
    /// `[admin]`: the admin HTTP API of `recorder run` (docs/admin-api.md).
    pub admin: rec_admin::AdminSettings,
    /// `[mirror]`: the mTLS mirror server and plain HEP listeners of `recorder run` (docs/mirror-protocol.md).
    pub mirror: rec_mirror::MirrorConfig,
    /// `[homer]`: the HEPv3 output of `recorder run` to a HOMER collector (docs/mirror-protocol.md).
    pub homer: rec_mirror::homer::HomerConfig,
    /// `[encryption]`: encryption at rest of recordings and journal (docs/encryption.md).
    pub encryption: crate::encryption::EncryptionConfig,
    /// `[integrity]`: signed manifests (docs/manifests.md).
    pub integrity: crate::integrity::IntegrityConfig,
    /// `[retention]`: how long recordings are kept.
    pub retention: rec_catalog::retention::RetentionConfig,
    /// `[engine]`: bounds and trust order of the recording engine (docs/hardening.md).
    pub engine: EngineSection,
}

/// `[engine]` of recorder.toml.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngineSection {
    /// Calls tracked at once (at the bound, the call that got least far gives way).
    pub max_calls: usize,
    /// Signaling sources, most trusted first: "mirror", "hep", "capture"; unlisted sources are ignored.
    pub trust: Vec<String>,
}

impl Default for EngineSection {
    fn default() -> Self {
        EngineSection {
            max_calls: 100_000,
            trust: vec!["mirror".into(), "hep".into(), "capture".into()],
        }
    }
}

/// `[capture]` of recorder.toml.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CaptureConfig {
    /// Interface to capture on; empty: no live capture.
    pub interface: String,
    /// BPF filter (tcpdump syntax).
    pub filter: String,
    /// Kernel buffer in MiB.
    pub buffer_mb: u32,
    /// Bytes kept per frame.
    pub snaplen: u32,
}

impl Default for CaptureConfig {
    fn default() -> Self {
        CaptureConfig {
            interface: String::new(),
            filter: "udp or tcp".into(),
            buffer_mb: 64,
            snaplen: 65535,
        }
    }
}

/// `[journal]` of recorder.toml.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct JournalConfig {
    /// Directory of the pcapng journal files; empty: `<out>/journal`.
    pub dir: String,
    /// A new file is started past this size, MiB (and at every UTC day).
    pub max_mb: u64,
}

impl Default for JournalConfig {
    fn default() -> Self {
        JournalConfig {
            dir: String::new(),
            max_mb: 256,
        }
    }
}

/// `[recording]` of recorder.toml (see the bundled file for each option's meaning).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecordingConfig {
    /// Recordings and catalog directory.
    pub out: String,
    /// `wav` or `opus`.
    pub format: String,
    /// One channel instead of stereo.
    pub mono: bool,
    /// Output rate in Hz, 0 = the codec's.
    pub sample_rate: u32,
    /// Media timeout, seconds.
    pub media_timeout_s: u64,
    /// Setup timeout, seconds.
    pub setup_timeout_s: u64,
    /// Flush interval, milliseconds.
    pub flush_interval_ms: u64,
}

impl Default for RecordingConfig {
    fn default() -> Self {
        RecordingConfig {
            out: "./recordings".into(),
            format: "wav".into(),
            mono: false,
            sample_rate: 0,
            media_timeout_s: 60,
            setup_timeout_s: 300,
            flush_interval_ms: 500,
        }
    }
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
            "out",
            "format",
            "mono",
            "sample_rate",
            "media_timeout_s",
            "setup_timeout_s",
            "flush_interval_ms",
            "interface",
            "filter",
            "buffer_mb",
            "snaplen",
            "dir",
            "max_mb",
            "enabled",
            "listen",
            "cert",
            "key",
            "tokens",
            "audit_log",
            "metrics_public",
            "client_ca",
            "allowed_subjects",
            "queue",
            "remembered_ids",
            "handshake_timeout_ms",
            "hep_enabled",
            "hep_listen",
            "hep_sources",
            "key_id",
            "kek_file",
            "kek_env",
            "old_keys",
            "signing_key_file",
            "node_id",
            "default_days",
            "sweep_interval_s",
            "max_calls",
            "trust",
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
