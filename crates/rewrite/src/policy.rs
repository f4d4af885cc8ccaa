//! Which calls are recorded: a default plus include/exclude rules on URIs, numbers (any notation, compared
//! after E.164 normalisation) and domains. Exclude wins over include, include wins over the default.
//! The same policy drives the rewriter and, later, the engine.

use serde::Deserialize;

use crate::number::Number;

/// What happens to a call that no rule names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DefaultAction {
    /// Record it (the compliance default).
    #[default]
    Record,
    /// Leave it alone.
    Ignore,
}

/// The `[policy]` table of `recorder.toml`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PolicyConfig {
    /// Action for calls that no rule names.
    pub default: DefaultAction,
    /// Rules naming calls to record even when the default is `ignore`.
    pub include: Vec<String>,
    /// Rules naming calls never to record; wins over `include`.
    pub exclude: Vec<String>,
    /// Country calling code (digits, e.g. "44") used to read national numbers such as `020 8123 4567`;
    /// empty: national numbers are compared by their digits only.
    pub country_code: String,
}

/// A rule that could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("policy {list} rule {rule:?} is neither a URI (user@host), a phone number nor \"domain:<name>\"")]
pub struct RuleError {
    /// `include` or `exclude`.
    pub list: &'static str,
    /// The rule as written.
    pub rule: String,
}

/// One include/exclude rule, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Rule {
    /// `sip:user@host` or `user@host`: user and host compared case-insensitively.
    Uri { user: String, host: String },
    /// A phone number in any notation.
    Number(Number),
    /// `domain:example.com`: the host or any subdomain of it.
    Domain(String),
}

impl Rule {
    fn parse(
        text: &str,
        list: &'static str,
        country_code: Option<&str>,
    ) -> Result<Rule, RuleError> {
        let error = || RuleError {
            list,
            rule: text.to_owned(),
        };
        let trimmed = text.trim();
        if let Some(domain) = strip_prefix_ci(trimmed, "domain:") {
            let domain = domain.trim().trim_start_matches('.').to_ascii_lowercase();
            return if domain.is_empty() {
                Err(error())
            } else {
                Ok(Rule::Domain(domain))
            };
        }
        let identity = Identity::parse(trimmed, country_code);
        match identity {
            Identity {
                user: Some(user),
                host: Some(host),
                ..
            } if !host.is_empty() => Ok(Rule::Uri { user, host }),
            Identity {
                number: Some(number),
                ..
            } => Ok(Rule::Number(number)),
            _ => Err(error()),
        }
    }

    fn matches(&self, party: &Identity) -> bool {
        match self {
            Rule::Uri { user, host } => {
                party.user.as_deref() == Some(user.as_str())
                    && party.host.as_deref() == Some(host.as_str())
            }
            Rule::Number(number) => party.number.as_ref().is_some_and(|n| n.matches(number)),
            Rule::Domain(domain) => party.host.as_deref().is_some_and(|host| {
                host == domain
                    || (host.len() > domain.len()
                        && host.ends_with(domain.as_str())
                        && host.as_bytes()[host.len() - domain.len() - 1] == b'.')
            }),
        }
    }

    fn describe(&self) -> String {
        match self {
            Rule::Uri { user, host } => format!("uri {user}@{host}"),
            Rule::Number(number) => format!("number {}", number.to_e164_string()),
            Rule::Domain(domain) => format!("domain:{domain}"),
        }
    }
}

/// A party of a call as the policy sees it: lower-cased user and host of its URI, and its number when the
/// user part (or a `tel:` URI) is a phone number.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
struct Identity {
    user: Option<String>,
    host: Option<String>,
    number: Option<Number>,
}

impl Identity {
    /// Reads `sip:user@host;params`, `tel:+number;params`, `user@host` or a bare number.
    fn parse(uri: &str, country_code: Option<&str>) -> Identity {
        let uri = uri.trim().trim_start_matches('<').trim_end_matches('>');
        let (scheme, rest) = match uri.find(':') {
            Some(i)
                if ["sip", "sips", "tel"]
                    .iter()
                    .any(|s| uri[..i].eq_ignore_ascii_case(s)) =>
            {
                (uri[..i].to_ascii_lowercase(), &uri[i + 1..])
            }
            _ => (String::new(), uri),
        };
        if scheme == "tel" {
            return Identity {
                number: Number::parse(rest, country_code),
                ..Identity::default()
            };
        }
        let without_params = rest.split([';', '?']).next().unwrap_or("");
        match without_params.rsplit_once('@') {
            Some((user, host_port)) => {
                let host = strip_port(host_port).to_ascii_lowercase();
                Identity {
                    number: Number::parse(user, country_code),
                    user: Some(user.to_ascii_lowercase()),
                    host: Some(host),
                }
            }
            None if scheme.is_empty() => Identity {
                number: Number::parse(without_params, country_code),
                ..Identity::default()
            },
            None => Identity {
                host: Some(strip_port(without_params).to_ascii_lowercase()),
                ..Identity::default()
            },
        }
    }
}

fn strip_port(host_port: &str) -> &str {
    if let Some(end) = host_port
        .strip_prefix('[')
        .and_then(|_| host_port.find(']'))
    {
        return &host_port[..=end];
    }
    host_port.split(':').next().unwrap_or(host_port)
}

fn strip_prefix_ci<'t>(text: &'t str, prefix: &str) -> Option<&'t str> {
    (text.len() >= prefix.len() && text[..prefix.len()].eq_ignore_ascii_case(prefix))
        .then(|| &text[prefix.len()..])
}

/// The policy's verdict on one call, with the reason in words for logs and the `rewrite` account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// Whether the call is to be recorded.
    pub record: bool,
    /// Why, e.g. `excluded by rule domain:example.com (party sip:bob@example.com)`.
    pub reason: String,
}

/// A parsed, ready-to-apply recording policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    default: DefaultAction,
    include: Vec<Rule>,
    exclude: Vec<Rule>,
    country_code: Option<String>,
}

impl Policy {
    /// Parses every rule of `config`; the first rule that is not understood is the error.
    pub fn new(config: &PolicyConfig) -> Result<Policy, RuleError> {
        let cc = Some(config.country_code.trim().trim_start_matches('+')).filter(|c| !c.is_empty());
        let parse_all = |rules: &[String], list| {
            rules
                .iter()
                .map(|r| Rule::parse(r, list, cc))
                .collect::<Result<Vec<_>, _>>()
        };
        Ok(Policy {
            default: config.default,
            include: parse_all(&config.include, "include")?,
            exclude: parse_all(&config.exclude, "exclude")?,
            country_code: cc.map(str::to_owned),
        })
    }

    /// Whether any include/exclude rule exists, i.e. whether [`Policy::decide`] looks at the parties at all.
    pub fn has_rules(&self) -> bool {
        !(self.include.is_empty() && self.exclude.is_empty())
    }

    /// Decides for a call whose parties are named by these URIs (From, To, P-Asserted-Identity, Request-URI …;
    /// `sip:`, `sips:` or `tel:`). A rule matches the call when it matches any party.
    pub fn decide<'u>(&self, party_uris: impl IntoIterator<Item = &'u str>) -> Decision {
        if !self.has_rules() {
            return self.default_decision();
        }
        let parties: Vec<(&str, Identity)> = party_uris
            .into_iter()
            .map(|uri| (uri, Identity::parse(uri, self.country_code.as_deref())))
            .collect();
        let find = |rules: &[Rule]| {
            rules.iter().find_map(|rule| {
                parties
                    .iter()
                    .find(|(_, identity)| rule.matches(identity))
                    .map(|(uri, _)| (rule.describe(), *uri))
            })
        };
        if let Some((rule, party)) = find(&self.exclude) {
            return Decision {
                record: false,
                reason: format!("excluded by rule {rule} (party {party})"),
            };
        }
        if let Some((rule, party)) = find(&self.include) {
            return Decision {
                record: true,
                reason: format!("included by rule {rule} (party {party})"),
            };
        }
        self.default_decision()
    }

    /// The decision for a call that no rule names.
    fn default_decision(&self) -> Decision {
        match self.default {
            DefaultAction::Record => Decision {
                record: true,
                reason: "recorded by default".into(),
            },
            DefaultAction::Ignore => Decision {
                record: false,
                reason: "not recorded: default is ignore and no include rule matches".into(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(default: DefaultAction, include: &[&str], exclude: &[&str]) -> Policy {
        Policy::new(&PolicyConfig {
            default,
            include: include.iter().map(|s| s.to_string()).collect(),
            exclude: exclude.iter().map(|s| s.to_string()).collect(),
            country_code: "44".into(),
        })
        .unwrap()
    }

    const ALICE: &str = "sip:Alice@Contoso.example;gruu";
    const PSTN: &str = "sip:+442081234567@gw.contoso.example;user=phone";

    #[test]
    fn default_record_and_ignore() {
        assert!(
            policy(DefaultAction::Record, &[], &[])
                .decide([ALICE])
                .record
        );
        assert!(
            !policy(DefaultAction::Ignore, &[], &[])
                .decide([ALICE])
                .record
        );
    }

    #[test]
    fn include_by_uri_number_and_domain_wins_over_default() {
        for rule in [
            "sip:alice@contoso.example",
            "alice@CONTOSO.example",
            "domain:contoso.example",
        ] {
            let d = policy(DefaultAction::Ignore, &[rule], &[]).decide(["sip:x@y.example", ALICE]);
            assert!(d.record, "{rule}: {}", d.reason);
        }
        for rule in [
            "020 8123 4567",
            "+44 (0)20 8123-4567",
            "tel:+442081234567",
            "00442081234567",
        ] {
            let d = policy(DefaultAction::Ignore, &[rule], &[]).decide([PSTN]);
            assert!(d.record, "{rule}: {}", d.reason);
        }
    }

    #[test]
    fn exclude_wins_over_include() {
        let p = policy(
            DefaultAction::Record,
            &["domain:contoso.example"],
            &["tel:+44 20 8123 4567"],
        );
        let d = p.decide([ALICE, "tel:+442081234567;ext=1"]);
        assert!(!d.record);
        assert!(d.reason.contains("excluded"), "{}", d.reason);
    }

    #[test]
    fn domain_rule_matches_subdomains_but_not_suffix_lookalikes() {
        let p = policy(DefaultAction::Ignore, &["domain:contoso.example"], &[]);
        assert!(p.decide(["sip:bob@eu.contoso.example"]).record);
        assert!(!p.decide(["sip:bob@notcontoso.example"]).record);
    }

    #[test]
    fn bad_rules_are_reported_by_list_and_text() {
        let err = Policy::new(&PolicyConfig {
            exclude: vec!["domain:".into()],
            ..PolicyConfig::default()
        })
        .unwrap_err();
        assert_eq!(err.list, "exclude");
        assert!(Policy::new(&PolicyConfig {
            include: vec!["just words".into()],
            ..PolicyConfig::default()
        })
        .is_err());
    }
}
