//! Unix microseconds to and from civil UTC time (RFC 3339), without reading any clock.
//!
//! The day arithmetic is the proleptic Gregorian `days_from_civil` / `civil_from_days` pair
//! (H. Hinnant, "chrono-Compatible Low-Level Date Algorithms").

/// A civil UTC date and time of day, split from unix microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    /// Year (proleptic Gregorian).
    pub year: i64,
    /// Month, 1..=12.
    pub month: u32,
    /// Day of the month, 1..=31.
    pub day: u32,
    /// Hour, 0..=23.
    pub hour: u32,
    /// Minute, 0..=59.
    pub minute: u32,
    /// Second, 0..=59.
    pub second: u32,
    /// Microseconds within the second, 0..=999_999.
    pub micros: u32,
}

const US_PER_DAY: i64 = 86_400_000_000;

/// Days since 1970-01-01 of a civil date (proleptic Gregorian).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

impl Civil {
    /// Splits unix microseconds (UTC; negative values are before 1970).
    pub fn from_unix_us(us: i64) -> Civil {
        let days = us.div_euclid(US_PER_DAY);
        let rem = us.rem_euclid(US_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        let secs = rem / 1_000_000;
        Civil {
            year,
            month,
            day,
            hour: (secs / 3600) as u32,
            minute: (secs / 60 % 60) as u32,
            second: (secs % 60) as u32,
            micros: (rem % 1_000_000) as u32,
        }
    }

    /// `YYYY-MM-DD`.
    pub fn date_string(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

/// RFC 3339 in UTC: `2026-11-29T10:00:00Z`, with a six-digit fraction only when the time is not a whole second.
pub fn format_rfc3339(us: i64) -> String {
    let c = Civil::from_unix_us(us);
    let fraction = if c.micros == 0 {
        String::new()
    } else {
        format!(".{:06}", c.micros)
    };
    format!(
        "{}T{:02}:{:02}:{:02}{fraction}Z",
        c.date_string(),
        c.hour,
        c.minute,
        c.second
    )
}

/// A time given on a command line: RFC 3339 (`2026-11-29T10:00:00Z`, `2026-11-29T11:00:00.5+01:00`; a space
/// may replace the `T`) or a bare date (`2026-11-29`, midnight UTC). Returns unix microseconds and whether
/// the text was a bare date.
pub fn parse_time(text: &str) -> Result<(i64, bool), String> {
    let bad = || {
        format!(
            "{text:?} is neither an RFC 3339 time (2026-11-29T10:00:00Z) nor a date (2026-11-29)"
        )
    };
    let t = text.trim();
    let b = t.as_bytes();
    if b.len() < 10 || !t.is_char_boundary(10) {
        return Err(bad());
    }
    let date = &t[..10];
    let db = date.as_bytes();
    if db[4] != b'-' || db[7] != b'-' {
        return Err(bad());
    }
    let year: i64 = digits(&date[..4]).ok_or_else(bad)?.into();
    let month = digits(&date[5..7]).ok_or_else(bad)?;
    let day = digits(&date[8..10]).ok_or_else(bad)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return Err(bad());
    }
    let midnight = days_from_civil(year, month, day) * US_PER_DAY;
    if b.len() == 10 {
        return Ok((midnight, true));
    }
    if !matches!(b[10], b'T' | b't' | b' ') || b.len() < 19 || !t.is_char_boundary(19) {
        return Err(bad());
    }
    let clock = &t[11..19];
    let cb = clock.as_bytes();
    if cb[2] != b':' || cb[5] != b':' {
        return Err(bad());
    }
    let hour = digits(&clock[..2]).ok_or_else(bad)?;
    let minute = digits(&clock[3..5]).ok_or_else(bad)?;
    let second = digits(&clock[6..8]).ok_or_else(bad)?;
    // 60 is a leap second: counted as the next second's start, as unix time does
    if hour > 23 || minute > 59 || second > 60 {
        return Err(bad());
    }
    let mut rest = &t[19..];
    let mut micros = 0i64;
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return Err(bad());
        }
        for (i, c) in frac[..n].bytes().enumerate().take(6) {
            micros += i64::from(c - b'0') * 10i64.pow(5 - i as u32);
        }
        rest = &frac[n..];
    }
    let offset_s: i64 = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && (rest.starts_with('+') || rest.starts_with('-')) => {
            let rb = rest.as_bytes();
            if rb[3] != b':' {
                return Err(bad());
            }
            let oh = digits(&rest[1..3]).ok_or_else(bad)?;
            let om = digits(&rest[4..6]).ok_or_else(bad)?;
            if oh > 23 || om > 59 {
                return Err(bad());
            }
            let s = i64::from(oh * 3600 + om * 60);
            if rb[0] == b'-' {
                -s
            } else {
                s
            }
        }
        _ => return Err(bad()),
    };
    let secs = i64::from(hour * 3600 + minute * 60 + second) - offset_s;
    Ok((midnight + secs * 1_000_000 + micros, false))
}

fn digits(s: &str) -> Option<u32> {
    if s.bytes().all(|c| c.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants() {
        // `date -u -d @1795946400` = Sun Nov 29 10:00:00 UTC 2026
        assert_eq!(
            format_rfc3339(1_795_946_400_000_000),
            "2026-11-29T10:00:00Z"
        );
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_rfc3339(-1), "1969-12-31T23:59:59.999999Z");
        // 2000-02-29 (leap day of a 400-year) = 951782400
        assert_eq!(format_rfc3339(951_782_400_000_000), "2000-02-29T00:00:00Z");
        assert_eq!(format_rfc3339(1_500), "1970-01-01T00:00:00.001500Z");
    }

    #[test]
    fn parses_rfc3339_and_dates() {
        assert_eq!(
            parse_time("2026-11-29T10:00:00Z"),
            Ok((1_795_946_400_000_000, false))
        );
        assert_eq!(
            parse_time("2026-11-29T11:00:00.25+01:00"),
            Ok((1_795_946_400_250_000, false))
        );
        assert_eq!(
            parse_time("2026-11-29 05:30:00-04:30"),
            Ok((1_795_946_400_000_000, false))
        );
        assert_eq!(
            parse_time("2026-11-29"),
            Ok((1_795_946_400_000_000 - 36_000_000_000, true))
        );
        for bad in [
            "",
            "2026-13-01",
            "2026-02-29",
            "2026-11-29T10:00",
            "2026-11-29T10:00:00",
            "29/11/2026",
            "2026-11-29T25:00:00Z",
            "2026-11-29T10:00:00+0100",
            "2026-11-29T10:00:00.Z",
            "2026-11-2é",
        ] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
        assert!(parse_time("2024-02-29").is_ok());
    }

    #[test]
    fn day_conversion_round_trips() {
        // every day over 1600..2400, both directions, against a running civil counter
        let (mut y, mut m, mut d) = (1600i64, 1u32, 1u32);
        let start = days_from_civil(1600, 1, 1);
        for n in start..start + 292_194 {
            assert_eq!(civil_from_days(n), (y, m, d));
            assert_eq!(days_from_civil(y, m, d), n);
            d += 1;
            if d > days_in_month(y, m) {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
    }
}
