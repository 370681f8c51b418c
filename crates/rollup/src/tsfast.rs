//! A fast reader for the one timestamp shape AgentOS's writers emit
//! (`YYYY-MM-DDTHH:MM:SS[.fraction]Z`, years 1970–9998, 1–9 fraction digits): it returns the
//! same instant as `jiff`'s RFC 3339 parser, or `None` for anything else (other offsets, leap
//! seconds, lower-case letters, invalid dates, …) so that `jiff` decides. `tests` hold the two
//! equal on systematic and random inputs.

/// The instant `s` names, when it has the common shape; `None` means "ask `jiff`".
pub(crate) fn parse(s: &str) -> Option<jiff::Timestamp> {
    let b = s.as_bytes();
    if b.len() < 20
        || b.get(4) != Some(&b'-')
        || b.get(7) != Some(&b'-')
        || b.get(10) != Some(&b'T')
        || b.get(13) != Some(&b':')
        || b.get(16) != Some(&b':')
        || b.last() != Some(&b'Z')
    {
        return None;
    }
    let year = digits(b, 0, 4)?;
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    let hour = digits(b, 11, 2)?;
    let minute = digits(b, 14, 2)?;
    let second = digits(b, 17, 2)?;
    if !(1970..=9998).contains(&year)
        || !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    // Between the seconds and the final `Z`: nothing, or `.` and 1–9 digits.
    let frac = b.get(19..b.len() - 1)?;
    let nanos = match frac.split_first() {
        None => 0,
        Some((b'.', ds)) if (1..=9).contains(&ds.len()) => {
            let v = digits(ds, 0, ds.len())?;
            let scale = 10_i64.checked_pow(9 - u32::try_from(ds.len()).ok()?)?;
            v.checked_mul(scale)?
        }
        Some(_) => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3_600 + minute * 60 + second;
    jiff::Timestamp::new(secs, i32::try_from(nanos).ok()?).ok()
}

/// The number written by `len` ASCII digits at `at`.
fn digits(b: &[u8], at: usize, len: usize) -> Option<i64> {
    let mut v: i64 = 0;
    for &c in b.get(at..at.checked_add(len)?)? {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(c - b'0');
    }
    Some(v)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::parse;
    use proptest::prelude::*;

    /// The fast reader either declines or agrees with `jiff` (which must then accept).
    fn agrees(s: &str) {
        if let Some(t) = parse(s) {
            let j = s.parse::<jiff::Timestamp>();
            assert_eq!(j.ok(), Some(t), "{s:?}");
        }
    }

    #[test]
    fn common_shapes_are_read_fast_and_equal_jiff() {
        for s in [
            "2026-11-01T00:00:42.694142Z",
            "2026-11-01T00:00:42Z",
            "2026-11-01T23:59:59.999999999Z",
            "2026-11-01T00:00:42.7Z",
            "1970-01-01T00:00:00Z",
            "2024-02-29T12:00:00.5Z",
            "2000-02-29T12:00:00Z",
            "9998-12-31T23:59:59.123Z",
        ] {
            assert!(parse(s).is_some(), "{s:?} should be read fast");
            agrees(s);
        }
    }

    #[test]
    fn unusual_or_invalid_shapes_are_left_to_jiff() {
        for s in [
            "2026-11-01t00:00:42Z",
            "2026-11-01T00:00:42z",
            "2026-11-01 00:00:42Z",
            "2026-11-01T00:00:42+00:00",
            "2026-11-01T00:00:60Z",
            "2026-11-01T24:00:00Z",
            "2026-11-31T00:00:00Z",
            "2023-02-29T00:00:00Z",
            "1900-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-00-01T00:00:00Z",
            "2026-11-00T00:00:00Z",
            "1969-12-31T23:59:59Z",
            "9999-12-31T00:00:00Z",
            "2026-11-01T00:00:42.Z",
            "2026-11-01T00:00:42,5Z",
            "2026-11-01T00:00:42.1234567890Z",
            "2026-11-01T00:00:42.12a4Z",
            "+2026-11-01T00:00:42Z",
            "2026-1-01T00:00:42.000Z",
            "２026-11-01T00:00:42Z",
            "",
            "Z",
        ] {
            assert!(parse(s).is_none(), "{s:?} should be left to jiff");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        #[test]
        fn random_dates_agree(
            y in 1960i64..10000, mo in 0i64..14, d in 0i64..33, h in 0i64..26,
            mi in 0i64..61, s in 0i64..62, frac in proptest::option::of("[0-9]{0,11}"),
        ) {
            let f = frac.map(|f| format!(".{f}")).unwrap_or_default();
            let text = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{f}Z");
            agrees(&text);
            // Every in-range valid date is read fast.
            let valid = jiff::civil::Date::new(y as i16, mo as i8, d as i8).is_ok()
                && (1970..=9998).contains(&y) && h < 24 && mi < 60 && s < 60
                && (f.is_empty() || (2..=10).contains(&f.len()));
            if valid {
                prop_assert!(parse(&text).is_some(), "{}", text);
            }
        }

        #[test]
        fn arbitrary_text_agrees(text in "[0-9TZ:.+ -]{18,32}") {
            agrees(&text);
        }
    }
}
