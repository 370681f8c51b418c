//! Byte-level help for the fast readers of JSON lines (the CCC log scanner in the backfill, the
//! turn-line scanner in the rollup): where a JSON string's plain run ends.

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

#[cfg(test)]
mod tests {
    use super::string_run_end;

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
