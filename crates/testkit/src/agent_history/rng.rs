//! Deterministic randomness for the history generator: a xorshift64 generator, ids in the
//! agents' formats, and filler text (tool output, code) cut from a seeded corpus.

/// xorshift64: small, fast, deterministic from its seed (never 0).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed` (any value, 0 included).
    pub fn new(seed: u64) -> Rng {
        // splitmix64 of the seed, so nearby seeds give unrelated streams and 0 is allowed.
        let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        Rng(if z == 0 { 1 } else { z })
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi.saturating_sub(lo) + 1)
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    /// A random UUID v4 in its text form.
    pub(crate) fn uuid(&mut self) -> String {
        let a = self.next_u64();
        let b = self.next_u64();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | (b >> 48) & 0x3fff,
            b & 0xffff_ffff_ffff
        )
    }

    /// `prefix` followed by `len` base-62 characters (`msg_01…`, `req_011…`, `toolu_…`).
    pub(crate) fn token(&mut self, prefix: &str, len: usize) -> String {
        const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let mut s = String::with_capacity(prefix.len() + len);
        s.push_str(prefix);
        for _ in 0..len {
            s.push(ALPHABET[self.below(ALPHABET.len() as u64) as usize] as char);
        }
        s
    }
}

/// Code-like filler text (ASCII, with quotes, backslashes, tabs and newlines, as tool output
/// has), from which lines take random slices.
#[derive(Debug)]
pub(crate) struct Corpus(String);

impl Corpus {
    pub(crate) fn new(rng: &mut Rng) -> Corpus {
        const WORDS: &[&str] = &[
            "fn",
            "let",
            "mut",
            "self",
            "match",
            "impl",
            "return",
            "Some(x)",
            "None",
            "Ok(())",
            "Err(e)",
            "\"usage\"",
            "{",
            "}",
            "=>",
            "&str",
            "Vec<u8>",
            "// TODO: handle the torn line",
            "\\n",
            "if",
            "else",
            "for",
            "in",
            "0..n",
            "self.tokens",
            "println!(\"{}\")",
            "\"input_tokens\": 12",
            "use std::io;",
            "#[derive(Debug)]",
            "pub struct",
            "async",
            "await?",
            "const MAX: usize = 64;",
        ];
        let mut s = String::with_capacity(80_000);
        while s.len() < 64 * 1024 {
            let n = rng.range(3, 12);
            if rng.chance(30) {
                s.push('\t');
            }
            for i in 0..n {
                if i > 0 {
                    s.push(' ');
                }
                s.push_str(WORDS[rng.below(WORDS.len() as u64) as usize]);
            }
            s.push('\n');
        }
        Corpus(s)
    }

    /// A slice of `len` bytes (at most the corpus) from a random place.
    pub(crate) fn text(&self, rng: &mut Rng, len: usize) -> &str {
        let len = len.min(self.0.len());
        let start = rng.below((self.0.len() - len + 1) as u64) as usize;
        // The corpus is ASCII: every index is a char boundary.
        &self.0[start..start + len]
    }
}
