//! The JSON reading under the turn scanner: a cursor over one line that reads strings without
//! escapes, numbers by the strict JSON grammar, literals and objects, and returns `None` on
//! anything else (the scanner then leaves the line to serde).

use std::borrow::Cow;

use agentos_event_schema::scan::number_token;

use crate::view::{NonNeg, StrCheck, StrSeq, Ts};

/// Longest number token read here (ryu writes at most 24 bytes); longer ones go to serde.
const MAX_NUMBER: usize = 40;

pub(super) struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    pub(super) fn new(text: &'a str) -> Self {
        Cursor { text, at: 0 }
    }

    /// Whether the whole line has been read.
    pub(super) fn at_end(&self) -> bool {
        self.at == self.text.len()
    }

    pub(super) fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    pub(super) fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    pub(super) fn eat(&mut self, b: u8) -> Option<()> {
        (self.peek()? == b).then(|| self.at += 1)
    }

    pub(super) fn literal(&mut self, word: &[u8]) -> bool {
        let ok = self.text.as_bytes().get(self.at..).is_some_and(|r| r.starts_with(word));
        if ok {
            self.at += word.len();
        }
        ok
    }

    /// Whether the value is `null` (consumed when it is).
    pub(super) fn null(&mut self) -> bool {
        self.peek() == Some(b'n') && self.literal(b"null")
    }

    pub(super) fn boolean(&mut self) -> Option<bool> {
        if self.literal(b"true") {
            Some(true)
        } else if self.literal(b"false") {
            Some(false)
        } else {
            None
        }
    }

    /// A string without escapes or control characters (else `None`: serde decides).
    pub(super) fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let b = self.text.as_bytes();
        let start = self.at;
        let i = agentos_event_schema::scan::string_run_end(b, start);
        if *b.get(i)? != b'"' {
            return None;
        }
        self.at = i + 1;
        self.text.get(start..i)
    }

    /// A JSON number's text (strict grammar, at most [`MAX_NUMBER`] bytes, an exponent of at
    /// most three digits) and whether it is plain digits (no sign, fraction or exponent).
    pub(super) fn number(&mut self) -> Option<(&'a str, bool)> {
        let start = self.at;
        let tok = number_token(self.text.as_bytes().get(start..)?)?;
        if tok.exponent_digits > 3 || tok.len > MAX_NUMBER {
            return None;
        }
        self.at = start + tok.len;
        Some((self.text.get(start..self.at)?, tok.is_integer() && !tok.negative))
    }

    /// A number read as `f64` (any JSON number that is finite as a double).
    pub(super) fn float(&mut self) -> Option<f64> {
        let (tok, _) = self.number()?;
        tok.parse::<f64>().ok().filter(|v| v.is_finite())
    }

    /// A number ≥ 0 (`-0` included, as `NonNeg` reads it).
    pub(super) fn nonneg(&mut self) -> Option<NonNeg> {
        self.float().filter(|v| *v >= 0.0).map(NonNeg)
    }

    /// An integer serde reads as `u64`: plain digits that fit.
    pub(super) fn uint(&mut self) -> Option<u64> {
        let (tok, plain) = self.number()?;
        if !plain {
            return None;
        }
        tok.parse::<u64>().ok()
    }

    /// Skip the scalar value of a key no view names (serde ignores it, checking its syntax).
    pub(super) fn skip_scalar(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            b't' | b'f' => self.boolean().map(|_| ()),
            b'n' => self.null().then_some(()),
            // Syntax only: serde's `IgnoredAny` takes `1e400` too.
            _ => self.number_syntax(),
        }
    }

    /// A number of any size, checked for its grammar only.
    pub(super) fn number_syntax(&mut self) -> Option<()> {
        let tok = number_token(self.text.as_bytes().get(self.at..)?)?;
        self.at += tok.len;
        Some(())
    }

    /// An object: `each` reads the value of every key (the cursor on it).
    pub(super) fn object(
        &mut self,
        mut each: impl FnMut(&mut Self, &'a str) -> Option<()>,
    ) -> Option<()> {
        self.eat(b'{')?;
        self.skip_ws();
        if self.eat(b'}').is_some() {
            return Some(());
        }
        loop {
            let key = self.string()?;
            self.skip_ws();
            self.eat(b':')?;
            self.skip_ws();
            each(self, key)?;
            self.skip_ws();
            match self.peek()? {
                b',' => {
                    self.at += 1;
                    self.skip_ws();
                }
                b'}' => {
                    self.at += 1;
                    return Some(());
                }
                _ => return None,
            }
        }
    }

    /// An array of strings (`StrSeq`).
    pub(super) fn strings(&mut self) -> Option<StrSeq> {
        self.eat(b'[')?;
        self.skip_ws();
        if self.eat(b']').is_some() {
            return Some(StrSeq);
        }
        loop {
            self.string()?;
            self.skip_ws();
            match self.peek()? {
                b',' => {
                    self.at += 1;
                    self.skip_ws();
                }
                b']' => {
                    self.at += 1;
                    return Some(StrSeq);
                }
                _ => return None,
            }
        }
    }

    /// `null` is `None`, else what `read` reads.
    pub(super) fn opt<T>(
        &mut self,
        read: impl FnOnce(&mut Self) -> Option<T>,
    ) -> Option<Option<T>> {
        if self.null() { Some(None) } else { read(self).map(Some) }
    }

    pub(super) fn str_check(&mut self) -> Option<StrCheck> {
        self.string().map(|_| StrCheck)
    }

    pub(super) fn cow(&mut self) -> Option<Cow<'a, str>> {
        self.string().map(Cow::Borrowed)
    }

    pub(super) fn ts(&mut self) -> Option<Ts> {
        Ts::parse(self.string()?).ok()
    }
}
