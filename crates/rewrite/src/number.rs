//! Phone numbers in any common notation, normalised towards E.164 so that `+44 20 8123 4567`,
//! `tel:+442081234567;ext=12`, `sip:+442081234567@gw;user=phone`, `0044 (0)20 8123-4567` and, with a
//! country code configured, the national `020 8123 4567` all compare equal.

/// A phone number reduced to `+digits` (international) or `digits` (could not be made international).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Number {
    digits: String,
    international: bool,
}

impl Number {
    /// Normalises `text` as a phone number; `country_code` (digits, e.g. "44") turns national numbers with one
    /// leading trunk `0` into international ones. Returns `None` when the text is not a phone number (letters,
    /// fewer than three digits).
    ///
    /// Accepted notations: an optional `tel:`/`sip:`/`sips:` scheme and `@host` part, URI parameters
    /// (`;ext=`, `;phone-context=`, `;user=phone`) which are ignored, visual separators (space, `-`, `.`, `/`,
    /// parentheses), a `(0)` trunk-prefix hint after the country code, `+` or `00` international prefixes.
    pub fn parse(text: &str, country_code: Option<&str>) -> Option<Number> {
        let text = text.trim();
        let text = strip_scheme(text);
        let text = text.split(['@', ';', '?']).next().unwrap_or("");
        let text = text.replace("(0)", "");
        let mut digits = String::with_capacity(text.len());
        let mut plus = false;
        for (i, c) in text.chars().enumerate() {
            match c {
                '0'..='9' => digits.push(c),
                '+' if i == 0 || (digits.is_empty() && !plus) => plus = true,
                ' ' | '-' | '.' | '/' | '(' | ')' | '\t' => {}
                _ => return None,
            }
        }
        if digits.len() < 3 {
            return None;
        }
        if plus {
            return Some(Number {
                digits,
                international: true,
            });
        }
        if let Some(rest) = digits.strip_prefix("00") {
            return Some(Number {
                digits: rest.to_owned(),
                international: true,
            });
        }
        if let (Some(cc), Some(national)) = (
            country_code.filter(|cc| !cc.is_empty()),
            digits.strip_prefix('0'),
        ) {
            return Some(Number {
                digits: format!("{}{}", cc.trim_start_matches('+'), national),
                international: true,
            });
        }
        Some(Number {
            digits,
            international: false,
        })
    }

    /// The digits without any prefix.
    pub fn digits(&self) -> &str {
        &self.digits
    }

    /// True when the number is known to be in international (E.164) form.
    pub fn is_international(&self) -> bool {
        self.international
    }

    /// `+digits` for international numbers, `digits` otherwise.
    pub fn to_e164_string(&self) -> String {
        if self.international {
            format!("+{}", self.digits)
        } else {
            self.digits.clone()
        }
    }

    /// Whether two numbers denote the same line: equal digits, where a number of unknown form matches an
    /// international one with the same digits (`14255550100` and `+14255550100`).
    pub fn matches(&self, other: &Number) -> bool {
        self.digits == other.digits
    }
}

fn strip_scheme(text: &str) -> &str {
    for scheme in ["tel:", "sip:", "sips:"] {
        // Compared as bytes: a multi-byte character may straddle the scheme's length (the rest is then a
        // char boundary, as the matched prefix is ASCII).
        let n = scheme.len();
        if text
            .as_bytes()
            .get(..n)
            .is_some_and(|p| p.eq_ignore_ascii_case(scheme.as_bytes()))
        {
            return &text[n..];
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_ascii_where_a_scheme_would_end_does_not_panic() {
        // Found by the differential check of the rewriter: a party URI `%75s\u{fffd}e%72` used to panic.
        assert_eq!(strip_scheme("%75s\u{fffd}e%72"), "%75s\u{fffd}e%72");
        assert_eq!(strip_scheme("sip\u{e9}:1"), "sip\u{e9}:1");
        assert_eq!(strip_scheme("SIPS:\u{e9}"), "\u{e9}");
        assert!(Number::parse("%75s\u{fffd}e%72", None).is_none());
    }

    fn e164(text: &str, cc: Option<&str>) -> Option<String> {
        Number::parse(text, cc).map(|n| n.to_e164_string())
    }

    #[test]
    fn common_notations_normalise_to_the_same_e164() {
        for text in [
            "+44 20 8123 4567",
            "+44 (0)20 8123-4567",
            "0044 20 8123 4567",
            "tel:+442081234567;ext=12",
            "sip:+442081234567@gw.example;user=phone",
            "+44.20.8123.4567",
        ] {
            assert_eq!(e164(text, None).as_deref(), Some("+442081234567"), "{text}");
        }
        assert_eq!(
            e164("020 8123 4567", Some("44")).as_deref(),
            Some("+442081234567")
        );
        assert_eq!(e164("02081234567", None).as_deref(), Some("02081234567"));
    }

    #[test]
    fn non_numbers_are_rejected() {
        for text in [
            "alice",
            "sip:alice@contoso.example",
            "12",
            "",
            "+",
            "1-800-FLOWERS",
        ] {
            assert_eq!(Number::parse(text, None), None, "{text}");
        }
    }

    #[test]
    fn unknown_form_matches_international_with_same_digits() {
        let a = Number::parse("14255550100", None).unwrap();
        let b = Number::parse("+1 425 555 0100", None).unwrap();
        assert!(a.matches(&b));
        let c = Number::parse("+1 425 555 0101", None).unwrap();
        assert!(!a.matches(&c));
    }
}
