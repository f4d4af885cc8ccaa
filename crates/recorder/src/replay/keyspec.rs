//! `--key [ssrc=0xHEX,]suite=SUITE,inline=BASE64[|2^31][|1:1]`: an SRTP key given by hand.

use rec_engine::ManualKey;
use rec_srtp::KeyParams;

/// Parses one `--key` value. Errors name the part that is wrong, never the key material.
pub fn parse_key_spec(spec: &str) -> Result<ManualKey, String> {
    let mut ssrc = None;
    let mut suite = None;
    let mut inline = None;
    for field in spec.split(',') {
        let field = field.trim();
        let (name, value) = field.split_once('=').ok_or_else(|| {
            format!(
                "--key: expected name=value, got a field without '=' ({} characters)",
                field.len()
            )
        })?;
        match name.trim().to_ascii_lowercase().as_str() {
            "ssrc" => {
                let v = value.trim();
                let parsed = match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
                    Some(hex) => u32::from_str_radix(hex, 16),
                    None => v.parse::<u32>(),
                };
                ssrc = Some(parsed.map_err(|_| {
                    format!("--key: ssrc={v} is not a 32-bit number (0xHEX or decimal)")
                })?);
            }
            "suite" => suite = Some(value.trim().to_owned()),
            "inline" => inline = Some(value.trim().to_owned()),
            other => {
                return Err(format!(
                    "--key: unknown field {other:?} (expected ssrc, suite, inline)"
                ))
            }
        }
    }
    let suite = suite.ok_or("--key: suite= is missing (e.g. suite=AES_CM_128_HMAC_SHA1_80)")?;
    let inline = inline.ok_or("--key: inline= is missing")?;
    let params = KeyParams::parse_sdes(&suite, &format!("inline:{inline}")).map_err(|e| {
        format!(
            "--key: unusable key for suite {suite}: {}",
            redact(&e.to_string(), &inline)
        )
    })?;
    Ok(ManualKey { ssrc, params })
}

/// Error texts must never carry key material.
fn redact(text: &str, secret: &str) -> String {
    let key = secret.split('|').next().unwrap_or(secret);
    if key.len() >= 4 && text.contains(key) {
        text.replace(key, "<key>")
    } else {
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_specs() {
        let k = parse_key_spec(
            "ssrc=0xdeadbeef,suite=AES_CM_128_HMAC_SHA1_80,inline=QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk|2^31|1:1",
        )
        .unwrap();
        assert_eq!(k.ssrc, Some(0xdead_beef));
        assert!(parse_key_spec(
            "suite=AES_CM_128_HMAC_SHA1_80,inline=QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk"
        )
        .unwrap()
        .ssrc
        .is_none());
        let e = parse_key_spec("suite=NOPE,inline=QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk")
            .unwrap_err();
        assert!(e.contains("NOPE") && !e.contains("QUJD"), "{e}");
        let e = parse_key_spec("suite=AES_CM_128_HMAC_SHA1_80,inline=c2hvcnQ").unwrap_err();
        assert!(!e.contains("c2hvcnQ"), "{e}");
        assert!(parse_key_spec("ssrc=zz,suite=x,inline=y")
            .unwrap_err()
            .contains("ssrc"));
        assert!(parse_key_spec("inline=abc").unwrap_err().contains("suite"));
    }
}
