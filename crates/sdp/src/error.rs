//! Errors: what was wrong with which line. Never carries key material.

/// What was wrong with an SDP or one of its lines. Line numbers are 1-based.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdpError {
    /// The input was empty.
    #[error("empty SDP body")]
    Empty,
    /// A line is not valid UTF-8.
    #[error("SDP line {line}: not valid UTF-8")]
    NotUtf8 {
        /// 1-based line number.
        line: usize,
    },
    /// The first line is not `v=`: the body is not an SDP.
    #[error("SDP line {line}: expected the first line to be `v=`")]
    MissingVersion {
        /// 1-based line number.
        line: usize,
    },
    /// An `m=` line lacks media, a numeric port or the protocol.
    #[error("SDP line {line}: malformed m= line: {reason}")]
    BadMediaLine {
        /// 1-based line number.
        line: usize,
        /// What was wrong.
        reason: &'static str,
    },
    /// A typed view could not parse a line (the line is kept; only the view fails).
    #[error("SDP line {line}: malformed {what}: {reason}")]
    BadLine {
        /// 1-based line number.
        line: usize,
        /// Which construct (`a=candidate`, `a=crypto`, ...).
        what: &'static str,
        /// What was wrong.
        reason: &'static str,
    },
}

impl SdpError {
    pub(crate) fn bad(index: usize, what: &'static str, reason: &'static str) -> Self {
        SdpError::BadLine {
            line: index + 1,
            what,
            reason,
        }
    }
}
