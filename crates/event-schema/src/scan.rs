//! Byte-level help for the fast readers and writers of JSON lines (the CCC log scanner and the
//! turn writer in the backfill, the turn-line scanner in the rollup): where a JSON string's plain
//! run ends, and the strict JSON number grammar.

/// The index of the first `"`, `\` or control character (< 0x20) at or after `from` in `b`
/// (`b.len()` when there is none): where a string without escapes ends, or where a reader
/// must hand the string to a full JSON parser. Eight bytes at a time, the last few one by one.
pub fn string_run_end(b: &[u8], from: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // The high bit of each byte of `x` that is zero, resp. below 0x20. A borrow starts only at
    // such a byte, so the lowest bit set marks the first one exactly (bits above it may be false
    // alarms).
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let mut i = from;
    while let Some(word) = b.get(i..i + 8).and_then(|w| <[u8; 8]>::try_from(w).ok()) {
        let w = u64::from_le_bytes(word);
        let quote = zero_byte(w ^ (ONES * u64::from(b'"')));
        let backslash = zero_byte(w ^ (ONES * u64::from(b'\\')));
        let control = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
        let found = quote | backslash | control;
        if found != 0 {
            // Little-endian: the lowest byte is the first.
            return i + (found.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&c) = b.get(i) {
        if matches!(c, b'"' | b'\\' | 0..=0x1f) {
            break;
        }
        i += 1;
    }
    i.min(b.len())
}

/// A JSON number token at the start of some bytes, by the strict grammar (what serde_json
/// accepts): an optional `-`, `0` or a digit run not starting with `0`, an optional fraction
/// of at least one digit, an optional exponent of at least one digit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NumberToken {
    /// Its length in bytes.
    pub len: usize,
    /// It starts with `-`.
    pub negative: bool,
    /// It has a fraction (`.` and digits).
    pub fraction: bool,
    /// The digits of its exponent (0: no exponent).
    pub exponent_digits: usize,
}

impl NumberToken {
    /// Digits only (maybe negative): no fraction, no exponent.
    pub fn is_integer(&self) -> bool {
        !self.fraction && self.exponent_digits == 0
    }
}

/// The number token `b` starts with, `None` when it does not start with one.
pub fn number_token(b: &[u8]) -> Option<NumberToken> {
    let digits = |i: &mut usize| {
        let from = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - from
    };
    let mut i = 0;
    let negative = b.first() == Some(&b'-');
    if negative {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(&mut i);
        }
        _ => return None,
    }
    let mut fraction = false;
    if b.get(i) == Some(&b'.') {
        i += 1;
        fraction = true;
        if digits(&mut i) == 0 {
            return None;
        }
    }
    let mut exponent_digits = 0;
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        exponent_digits = digits(&mut i);
        if exponent_digits == 0 {
            return None;
        }
    }
    Some(NumberToken { len: i, negative, fraction, exponent_digits })
}

#[cfg(test)]
mod tests {
    use super::{number_token, string_run_end};

    /// The grammar accepts what serde_json reads as a number, and stops where its token ends.
    #[test]
    fn number_tokens_follow_the_json_grammar() {
        for (text, len) in [
            ("0", 1),
            ("-0", 2),
            ("12,", 2),
            ("1.5e+3}", 6),
            ("-0.25E-7 ", 8),
            ("7e400", 5),
            ("01", 1),
        ] {
            let tok = number_token(text.as_bytes()).unwrap();
            assert_eq!(tok.len, len, "{text}");
            let token = &text[..len];
            assert!(serde_json::from_str::<serde_json::Value>(token).is_ok() || token == "7e400");
        }
        for bad in ["", "-", "+1", ".5", "1.", "1e", "1e+", "-x", "a1"] {
            assert_eq!(number_token(bad.as_bytes()), None, "{bad}");
        }
        let t = number_token(b"-12.5e10").unwrap();
        assert!(t.negative && t.fraction && t.exponent_digits == 2 && !t.is_integer());
        assert!(number_token(b"-120").unwrap().is_integer());
    }

    /// The word-at-a-time search finds what a byte-by-byte one finds, wherever the byte is and
    /// wherever the search starts.
    #[test]
    fn finds_the_first_quote_backslash_or_control_byte() {
        let naive = |b: &[u8], i: usize| {
            (i..b.len()).find(|&k| matches!(b[k], b'"' | b'\\' | 0..=0x1f)).unwrap_or(b.len())
        };
        let fillers: [u8; 6] = [b'a', b' ', 0x20, 0x7f, 0x80, 0xff];
        let specials: [u8; 6] = [b'"', b'\\', 0, b'\t', b'\n', 0x1f];
        for len in 0..24 {
            for filler in fillers {
                let plain = vec![filler; len];
                for start in 0..=len {
                    assert_eq!(string_run_end(&plain, start), naive(&plain, start));
                }
                for at in 0..len {
                    for s in specials {
                        let mut b = plain.clone();
                        b[at] = s;
                        for start in 0..=len {
                            assert_eq!(string_run_end(&b, start), naive(&b, start), "{b:?}");
                        }
                    }
                }
            }
        }
    }
}
