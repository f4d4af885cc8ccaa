//! URIs (sip, sips, tel, others kept opaque) and name-addr header values.

use crate::headers::split_params;
use crate::ParseError;
use std::fmt;

/// A `;`-separated parameter list (`;tag=x;lr;user=phone`), kept as text and scanned on demand.
/// Empty parameters (`;;`) are skipped; quoted values are returned without their quotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Params<'a> {
    raw: &'a str,
}

impl<'a> Params<'a> {
    /// Wraps parameter text (with or without the leading `;`).
    pub fn new(raw: &'a str) -> Self {
        Params { raw }
    }

    /// The text as written.
    pub fn as_str(&self) -> &'a str {
        self.raw
    }

    /// `(name, value)` pairs; flag parameters have value `None`.
    pub fn iter(&self) -> impl Iterator<Item = (&'a str, Option<&'a str>)> + 'a {
        split_params(self.raw).map(|p| match p.find('=') {
            Some(i) => {
                let v = p[i + 1..].trim();
                let v = if v.len() >= 2 && v.starts_with('"') && v.ends_with('"') {
                    &v[1..v.len() - 1]
                } else {
                    v
                };
                (p[..i].trim(), Some(v))
            }
            None => (p, None),
        })
    }

    /// The value of parameter `name` (case-insensitive name); `Some("")` for a flag parameter.
    pub fn get(&self, name: &str) -> Option<&'a str> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.unwrap_or(""))
    }

    /// Whether parameter `name` is present (with or without value).
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// A URI. `sip:`/`sips:` are split into user, host, port, params and headers; `tel:` gives the
/// number as `user` and an empty host; other schemes are opaque (`user` `None`, empty host).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Uri<'a> {
    raw: &'a str,
    /// Scheme as written (`sip`, `sips`, `tel`, ...).
    pub scheme: &'a str,
    /// User part (sip: before `@`, without `:password`; tel: the number).
    pub user: Option<&'a str>,
    /// Password after `user:` (sip only).
    pub password: Option<&'a str>,
    /// Host; IPv6 references keep their brackets (`[2001:db8::1]`).
    pub host: &'a str,
    /// Port, if given.
    pub port: Option<u16>,
    /// URI parameters (`;transport=tls;opaque=user:epid:...;gruu`).
    pub params: Params<'a>,
    /// Headers after `?`, as written.
    pub headers: Option<&'a str>,
}

fn uri_err<T>(m: &str) -> Result<T, ParseError> {
    Err(ParseError::Uri(m.to_string()))
}

impl<'a> Uri<'a> {
    /// Parses a URI (surrounding whitespace ignored).
    pub fn parse(s: &'a str) -> Result<Uri<'a>, ParseError> {
        let raw = s.trim();
        let Some(colon) = raw.find(':') else {
            return uri_err("no scheme");
        };
        let scheme = &raw[..colon];
        if scheme.is_empty()
            || !scheme.as_bytes()[0].is_ascii_alphabetic()
            || !scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        {
            return uri_err("bad scheme");
        }
        let rest = &raw[colon + 1..];
        let mut uri = Uri {
            raw,
            scheme,
            user: None,
            password: None,
            host: "",
            port: None,
            params: Params::default(),
            headers: None,
        };
        if scheme.eq_ignore_ascii_case("tel") {
            let (num, params) = match rest.find(';') {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, ""),
            };
            if num.is_empty() {
                return uri_err("tel: without number");
            }
            uri.user = Some(num);
            uri.params = Params::new(params);
            return Ok(uri);
        }
        if !(scheme.eq_ignore_ascii_case("sip") || scheme.eq_ignore_ascii_case("sips")) {
            return Ok(uri);
        }
        // '@' cannot appear unescaped in params or headers, but '?' and ';' can appear in the
        // user part (RFC 4475 intmeth/semiuri): split the userinfo off first.
        let hostpart = match rest.find('@') {
            Some(i) => {
                let userinfo = &rest[..i];
                match userinfo.find(':') {
                    Some(j) => {
                        uri.user = Some(&userinfo[..j]);
                        uri.password = Some(&userinfo[j + 1..]);
                    }
                    None => uri.user = Some(userinfo),
                }
                &rest[i + 1..]
            }
            None => rest,
        };
        let hostpart = match hostpart.find('?') {
            Some(i) => {
                uri.headers = Some(&hostpart[i + 1..]);
                &hostpart[..i]
            }
            None => hostpart,
        };
        let (host, after) = if let Some(v6) = hostpart.strip_prefix('[') {
            let Some(close) = v6.find(']') else {
                return uri_err("IPv6 reference without ']'");
            };
            if v6[..close].parse::<std::net::Ipv6Addr>().is_err() {
                return uri_err("bad IPv6 address");
            }
            (&hostpart[..close + 2], &hostpart[close + 2..])
        } else {
            let end = hostpart.find([':', ';']).unwrap_or(hostpart.len());
            (&hostpart[..end], &hostpart[end..])
        };
        if host.is_empty() {
            return uri_err("empty host");
        }
        if !host.starts_with('[')
            && !host
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'_')
        {
            return uri_err("bad host");
        }
        uri.host = host;
        let after = if let Some(p) = after.strip_prefix(':') {
            let end = p.find(';').unwrap_or(p.len());
            let port = &p[..end];
            if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
                return uri_err("bad port");
            }
            uri.port = Some(port.parse().or_else(|_| uri_err("port out of range"))?);
            &p[end..]
        } else {
            after
        };
        match after.strip_prefix(';') {
            Some(params) => uri.params = Params::new(params),
            None if after.is_empty() => {}
            None => return uri_err("unexpected text after host"),
        }
        Ok(uri)
    }

    /// The URI text as written.
    pub fn as_str(&self) -> &'a str {
        self.raw
    }

    /// Whether the scheme is `sip` or `sips`.
    pub fn is_sip(&self) -> bool {
        self.scheme.eq_ignore_ascii_case("sip") || self.scheme.eq_ignore_ascii_case("sips")
    }

    /// Whether the scheme is `tel`.
    pub fn is_tel(&self) -> bool {
        self.scheme.eq_ignore_ascii_case("tel")
    }

    /// The `epid` from a Lync GRUU `opaque=user:epid:<epid>` parameter.
    pub fn gruu_epid(&self) -> Option<&'a str> {
        self.params.get("opaque")?.strip_prefix("user:epid:")
    }
}

impl fmt::Display for Uri<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.raw)
    }
}

/// A `name-addr` or `addr-spec` header value: `"Alice"<sip:alice@x>;tag=1;epid=2`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NameAddr<'a> {
    /// Display name without quotes (escapes not processed); `None` when absent or empty.
    pub display_name: Option<&'a str>,
    /// The URI.
    pub uri: Uri<'a>,
    /// Header parameters after the URI (`tag`, `epid`, ...).
    pub params: Params<'a>,
}

fn na_err<T>(m: &str) -> Result<T, ParseError> {
    Err(ParseError::NameAddr(m.to_string()))
}

impl<'a> NameAddr<'a> {
    /// Parses a name-addr (`[display] <uri> *(;param)`) or addr-spec (`uri *(;param)`).
    /// Tolerant: unquoted display names may hold any characters (RFC 4475 baddn), spaces inside
    /// `<>` are ignored (badaspec). An unterminated quote or missing `>` is an error.
    pub fn parse(s: &'a str) -> Result<NameAddr<'a>, ParseError> {
        let s = s.trim();
        let (display, rest) = if let Some(q) = s.strip_prefix('"') {
            let b = q.as_bytes();
            let mut i = 0;
            let mut end = None;
            while i < b.len() {
                match b[i] {
                    b'\\' => i += 1,
                    b'"' => {
                        end = Some(i);
                        break;
                    }
                    _ => {}
                }
                i += 1;
            }
            let Some(end) = end else {
                return na_err("unterminated quoted display name");
            };
            let rest = q[end + 1..].trim_start();
            if !rest.starts_with('<') {
                return na_err("quoted display name not followed by '<'");
            }
            (Some(&q[..end]), rest)
        } else if let Some(lt) = s.find('<') {
            let d = s[..lt].trim();
            (if d.is_empty() { None } else { Some(d) }, &s[lt..])
        } else {
            // addr-spec: parameters after ';' belong to the header.
            let (u, p) = match s.find(';') {
                Some(i) => (&s[..i], &s[i + 1..]),
                None => (s, ""),
            };
            return Ok(NameAddr {
                display_name: None,
                uri: Uri::parse(u)?,
                params: Params::new(p),
            });
        };
        let inner = &rest[1..];
        let Some(gt) = inner.find('>') else {
            return na_err("'<' without '>'");
        };
        let uri = Uri::parse(&inner[..gt])?;
        let after = inner[gt + 1..].trim_start();
        let params = match after.strip_prefix(';') {
            Some(p) => p,
            None if after.is_empty() => "",
            None => return na_err("unexpected text after '>'"),
        };
        Ok(NameAddr {
            display_name: display.filter(|d| !d.is_empty()),
            uri,
            params: Params::new(params),
        })
    }

    /// The `tag` parameter.
    pub fn tag(&self) -> Option<&'a str> {
        self.params.get("tag")
    }

    /// The `epid` parameter (Lync endpoint id).
    pub fn epid(&self) -> Option<&'a str> {
        self.params.get("epid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lync_gruu_contact() {
        let u =
            Uri::parse("sip:alice@contoso.example;opaque=user:epid:UnaHu_tE_ZizoAzYgf5BkQ;gruu")
                .unwrap();
        assert_eq!(u.user, Some("alice"));
        assert_eq!(u.host, "contoso.example");
        assert_eq!(
            u.params.get("opaque"),
            Some("user:epid:UnaHu_tE_ZizoAzYgf5BkQ")
        );
        assert_eq!(u.params.get("gruu"), Some(""));
        assert_eq!(u.gruu_epid(), Some("UnaHu_tE_ZizoAzYgf5BkQ"));
    }

    #[test]
    fn empty_param_and_ipv6() {
        let u = Uri::parse("sip:02081234567;;user=phone").unwrap();
        // No '@': RFC 3261 makes "02081234567" the host; Lync uses it as a phone number.
        assert_eq!(u.host, "02081234567");
        assert_eq!(u.params.get("user"), Some("phone"));
        assert_eq!(u.params.iter().count(), 1);
        let u = Uri::parse("sip:caller@[2001:db8::1]:5061;transport=tls").unwrap();
        assert_eq!(u.host, "[2001:db8::1]");
        assert_eq!(u.port, Some(5061));
        assert_eq!(u.to_string(), "sip:caller@[2001:db8::1]:5061;transport=tls");
        assert!(Uri::parse("sip:user@[2001:db8:::192.0.2.1]").is_err());
        assert!(Uri::parse("sip:2001:db8::10").is_err());
    }
}
