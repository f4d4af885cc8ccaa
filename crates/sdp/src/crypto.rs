//! SDES `a=crypto` (RFC 4568) and Lync's `a=cryptoscale`. Debug output never shows keys.

use core::fmt;

use crate::error::SdpError;
use crate::view::tokens;

/// Master key lifetime (`|2^31` or `|1048576`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifetime {
    /// `2^n` packets.
    PowerOfTwo(u8),
    /// Decimal number of packets.
    Packets(u64),
}

impl Lifetime {
    /// Lifetime in packets (saturating for 2^64 and above).
    pub fn packets(self) -> u64 {
        match self {
            Lifetime::PowerOfTwo(n) if n < 64 => 1u64 << n,
            Lifetime::PowerOfTwo(_) => u64::MAX,
            Lifetime::Packets(p) => p,
        }
    }
}

/// `|<value>:<length>`: the MKI value and its length on the wire in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mki {
    /// MKI value.
    pub value: u64,
    /// MKI length in bytes (1..=128 per RFC 4568).
    pub length: u8,
}

/// One key parameter `inline:<base64 key||salt>[|lifetime][|MKI:len]`.
#[derive(Clone, PartialEq, Eq)]
pub struct KeyParam<'a> {
    /// Key method (`inline`).
    pub method: &'a str,
    /// Base64 of key || salt (secret; not shown by Debug).
    pub key_salt_base64: &'a str,
    /// Lifetime, if given.
    pub lifetime: Option<Lifetime>,
    /// MKI, if given.
    pub mki: Option<Mki>,
}

impl fmt::Debug for KeyParam<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyParam")
            .field("method", &self.method)
            .field("key_salt_base64", &"<redacted>")
            .field("lifetime", &self.lifetime)
            .field("mki", &self.mki)
            .finish()
    }
}

impl<'a> KeyParam<'a> {
    /// Parses one key parameter; `line` is the 0-based line index for errors.
    pub fn parse(s: &'a str, line: usize) -> Result<Self, SdpError> {
        let bad = |r| SdpError::bad(line, "a=crypto key parameter", r);
        let (method, info) = s.split_once(':').ok_or(bad("no `method:` prefix"))?;
        let mut parts = info.split('|');
        let key = parts.next().unwrap_or("");
        if key.is_empty() {
            return Err(bad("empty key"));
        }
        let mut lifetime = None;
        let mut mki = None;
        for p in parts {
            if let Some((v, l)) = p.split_once(':') {
                let value = v.parse().map_err(|_| bad("MKI value not a number"))?;
                let length = l.parse().map_err(|_| bad("MKI length not 1..255"))?;
                mki = Some(Mki { value, length });
            } else if let Some(exp) = p.strip_prefix("2^") {
                let n: u8 = exp
                    .parse()
                    .map_err(|_| bad("lifetime exponent not a number"))?;
                lifetime = Some(Lifetime::PowerOfTwo(n));
            } else {
                let n = p.parse().map_err(|_| bad("lifetime not a number"))?;
                lifetime = Some(Lifetime::Packets(n));
            }
        }
        Ok(KeyParam {
            method,
            key_salt_base64: key,
            lifetime,
            mki,
        })
    }
}

/// An `a=crypto:` or `a=cryptoscale:` line.
#[derive(Clone, PartialEq, Eq)]
pub struct Crypto<'a> {
    /// Tag.
    pub tag: u32,
    /// True for `a=cryptoscale`.
    pub scale: bool,
    /// For `a=cryptoscale`: the extra token after the tag (`client` / `server`).
    pub role: Option<&'a str>,
    /// Crypto suite (`AES_CM_128_HMAC_SHA1_80`, ...).
    pub suite: &'a str,
    /// Key parameters as text (`inline:...|2^31|1:1[;inline:...]`); secret.
    pub key_params: &'a str,
    /// Session parameters as text, if any (`UNENCRYPTED_SRTCP`, `KDR=...`).
    pub session_params: Option<&'a str>,
    /// 0-based line index.
    pub line: usize,
}

impl fmt::Debug for Crypto<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Crypto")
            .field("tag", &self.tag)
            .field("scale", &self.scale)
            .field("role", &self.role)
            .field("suite", &self.suite)
            .field("key_params", &"<redacted>")
            .field("session_params", &self.session_params)
            .field("line", &self.line)
            .finish()
    }
}

impl<'a> Crypto<'a> {
    /// Parses the value of a crypto (or, with `scale`, cryptoscale) attribute.
    pub fn parse(value: &'a str, scale: bool, line: usize) -> Result<Self, SdpError> {
        let what = if scale { "a=cryptoscale" } else { "a=crypto" };
        let bad = |r| SdpError::bad(line, what, r);
        let mut t = tokens(value, 0);
        let (tag, _) = t.next().ok_or(bad("no tag"))?;
        let tag = tag.parse().map_err(|_| bad("tag not a number"))?;
        let role = if scale {
            Some(t.next().ok_or(bad("no client/server token"))?.0)
        } else {
            None
        };
        let (suite, _) = t.next().ok_or(bad("no crypto suite"))?;
        let (key_params, kr) = t.next().ok_or(bad("no key parameters"))?;
        let rest = value[kr.end..].trim();
        let c = Crypto {
            tag,
            scale,
            role,
            suite,
            key_params,
            session_params: (!rest.is_empty()).then_some(rest),
            line,
        };
        // Validate the key parameters now so a malformed line is reported once, here.
        for k in c.keys() {
            k?;
        }
        Ok(c)
    }

    /// The key parameters (one or several, separated by `;`).
    pub fn keys(&self) -> impl Iterator<Item = Result<KeyParam<'a>, SdpError>> + 'a {
        let line = self.line;
        self.key_params
            .split(';')
            .filter(|s| !s.is_empty())
            .map(move |s| KeyParam::parse(s, line))
    }
}
