//! A lean field scanner for the common usage line: one flat JSON object (strings without
//! escapes, numbers, booleans, `null`), read straight into the borrowed [`Rec`] without
//! serde's machinery. Anything else — an escape, a nested value, a duplicate field, a number
//! of the wrong kind, several objects or trailing text, a missing `ts` or `rid` — returns
//! `None` and the line goes through serde ([`super::parse::parse_line`]), so what a line
//! yields never depends on which path read it (a test holds the two equal field by field,
//! `f64` bits included: serde_json is built with `float_roundtrip`, correctly rounded like
//! `str::parse`).

use std::borrow::Cow;

use super::parse::Rec;
use crate::record::Text;

#[derive(Clone, Copy)]
enum Field {
    Ts,
    Rid,
    Str(StrField),
    Int(IntField),
    Float(FloatField),
    PreferredAttempt,
    Other,
}

#[derive(Clone, Copy)]
enum StrField {
    Lane,
    Model,
    Reason,
    Op,
    ErrType,
    Upstream,
    Event,
    Decision,
    DecisionReason,
    RerouteMode,
    RerouteDecision,
}

#[derive(Clone, Copy)]
enum IntField {
    InputTokens,
    OutputTokens,
    Status,
}

#[derive(Clone, Copy)]
enum FloatField {
    LatencyMs,
    StreamMs,
    TtftMs,
    WarnPctCfg,
    WarnPctAuto,
    WarnPctConfidence,
    GapP50,
    GapP95,
    GapSamples,
}

/// The field a key names and its bit in the "seen" mask (serde refuses a repeated field).
fn field(key: &[u8]) -> (Field, u32) {
    use {FloatField as F, IntField as I, StrField as S};
    match key {
        b"ts" => (Field::Ts, 0),
        b"rid" => (Field::Rid, 1),
        b"lane" => (Field::Str(S::Lane), 2),
        b"model" => (Field::Str(S::Model), 3),
        b"input_tokens" => (Field::Int(I::InputTokens), 4),
        b"output_tokens" => (Field::Int(I::OutputTokens), 5),
        b"status" => (Field::Int(I::Status), 6),
        b"reason" => (Field::Str(S::Reason), 7),
        b"op" => (Field::Str(S::Op), 8),
        b"latency_ms" => (Field::Float(F::LatencyMs), 9),
        b"stream_ms" => (Field::Float(F::StreamMs), 10),
        b"ttft_ms" => (Field::Float(F::TtftMs), 11),
        b"err_type" => (Field::Str(S::ErrType), 12),
        b"upstream" => (Field::Str(S::Upstream), 13),
        b"event" => (Field::Str(S::Event), 14),
        b"decision" => (Field::Str(S::Decision), 15),
        b"decision_reason" => (Field::Str(S::DecisionReason), 16),
        b"reroute_mode" => (Field::Str(S::RerouteMode), 17),
        b"reroute_decision" => (Field::Str(S::RerouteDecision), 18),
        b"preferred_attempt" => (Field::PreferredAttempt, 19),
        b"warn_pct_cfg" => (Field::Float(F::WarnPctCfg), 20),
        b"warn_pct_auto" => (Field::Float(F::WarnPctAuto), 21),
        b"warn_pct_confidence" => (Field::Float(F::WarnPctConfidence), 22),
        b"gap_seconds_p50" => (Field::Float(F::GapP50), 23),
        b"gap_seconds_p95" => (Field::Float(F::GapP95), 24),
        b"gap_samples" => (Field::Float(F::GapSamples), 25),
        _ => (Field::Other, 31),
    }
}

struct Cursor<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn eat(&mut self, b: u8) -> Option<()> {
        (self.peek()? == b).then(|| self.at += 1)
    }

    fn literal(&mut self, word: &[u8]) -> bool {
        let ok = self.text.as_bytes().get(self.at..).is_some_and(|r| r.starts_with(word));
        if ok {
            self.at += word.len();
        }
        ok
    }

    /// A string without escapes or control characters (else `None`: serde decides).
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.at;
        let end = agentos_event_schema::scan::string_run_end(self.text.as_bytes(), start);
        // The first quote, backslash or control character: only a quote ends a plain string.
        if self.text.as_bytes().get(end) != Some(&b'"') {
            return None;
        }
        self.at = end + 1;
        self.text.get(start..end)
    }

    /// A JSON number's text (strict grammar) and whether it is an integer.
    fn number(&mut self) -> Option<(&'a str, bool)> {
        let start = self.at;
        let tok = agentos_event_schema::scan::number_token(self.text.as_bytes().get(start..)?)?;
        self.at = start + tok.len;
        Some((self.text.get(start..self.at)?, tok.is_integer()))
    }

    fn float(&mut self) -> Option<f64> {
        let (tok, integer) = self.number()?;
        // An integer of at most 15 digits is exactly an f64: no need for the general parser
        // (which gives the same value, `-0` included).
        if integer && tok.len() <= 15 {
            let (negative, digits) = match tok.strip_prefix('-') {
                Some(d) => (true, d),
                None => (false, tok),
            };
            let n = digits.bytes().fold(0u64, |n, d| n * 10 + u64::from(d - b'0')) as f64;
            return Some(if negative { -n } else { n });
        }
        tok.parse::<f64>().ok().filter(|v| v.is_finite())
    }

    /// An integer serde reads as `i64` (not `-0`, which serde_json reads as a float).
    fn int(&mut self) -> Option<i64> {
        let (tok, integer) = self.number()?;
        if !integer || tok == "-0" {
            return None;
        }
        tok.parse::<i64>().ok()
    }

    /// Skip a scalar value of a key the backfill does not use.
    fn skip_scalar(&mut self) -> Option<()> {
        match self.peek()? {
            b'"' => self.string().map(|_| ()),
            b't' => self.literal(b"true").then_some(()),
            b'f' => self.literal(b"false").then_some(()),
            b'n' => self.literal(b"null").then_some(()),
            _ => self.number().map(|_| ()),
        }
    }
}

/// The slot of [`KeyOrder`] for the first key of a line.
const START: usize = 32;
/// Keys remembered after each key.
const FOLLOWERS: usize = 4;

/// The keys seen after each key (by its bit; `START` for the first), as their exact bytes
/// from the opening quote to the colon: CCP writes its keys in a fixed order, so the next key
/// is nearly always one of the few seen after this one before, recognised by comparing bytes
/// instead of reading the key. A key whose bytes differ in any way is read as before.
#[derive(Default)]
pub(crate) struct KeyOrder {
    next: Vec<Vec<(Vec<u8>, Field, u32)>>,
}

impl KeyOrder {
    fn predict(&self, previous: usize, rest: &[u8]) -> Option<(Field, u32, usize)> {
        self.next
            .get(previous)?
            .iter()
            .find(|(key, ..)| starts_with_key(rest, key))
            .map(|(key, f, bit)| (*f, *bit, key.len()))
    }

    fn learn(&mut self, previous: usize, key: &[u8], (f, bit): (Field, u32)) {
        if self.next.len() <= START {
            self.next.resize_with(START + 1, Vec::new);
        }
        let Some(list) = self.next.get_mut(previous) else { return };
        if list.len() == FOLLOWERS {
            list.pop();
        }
        list.insert(0, (key.to_vec(), f, bit));
    }
}

/// `rest.starts_with(key)` for a key of a few to a few dozen bytes, compared a word at a time
/// in line (a call to `memcmp` per key costs more than the comparison).
fn starts_with_key(rest: &[u8], key: &[u8]) -> bool {
    let Some(head) = rest.get(..key.len()) else { return false };
    let word = |b: &[u8], at: usize| b.get(at..).and_then(|b| b.first_chunk::<8>()).copied();
    if key.len() < 8 {
        return head.iter().zip(key).all(|(a, b)| a == b);
    }
    // Whole words, then the last word (overlapping the one before it).
    let mut at = 0;
    while at + 8 < key.len() {
        if word(head, at) != word(key, at) {
            return false;
        }
        at += 8;
    }
    word(head, key.len() - 8) == word(key, key.len() - 8)
}

fn empty_rec<'a>() -> Rec<'a> {
    Rec {
        ts: 0.0,
        rid: Text(Cow::Borrowed("")),
        lane: None,
        model: None,
        input_tokens: None,
        output_tokens: None,
        status: None,
        reason: None,
        op: None,
        latency_ms: None,
        stream_ms: None,
        ttft_ms: None,
        err_type: None,
        upstream: None,
        event: None,
        decision: None,
        decision_reason: None,
        reroute_mode: None,
        reroute_decision: None,
        preferred_attempt: None,
        warn_pct_cfg: None,
        warn_pct_auto: None,
        warn_pct_confidence: None,
        gap_seconds_p50: None,
        gap_seconds_p95: None,
        gap_samples: None,
    }
}

/// The line's one usage record, when it is a plain flat object (BOM already stripped);
/// `None`: let serde read it. `keys` remembers the key order of earlier lines.
pub(crate) fn scan<'a>(text: &'a str, keys: &mut KeyOrder) -> Option<Rec<'a>> {
    let mut c = Cursor { text, at: 0 };
    let mut rec = empty_rec();
    let mut seen = 0u32;
    c.skip_ws();
    c.eat(b'{')?;
    c.skip_ws();
    let mut previous = START;
    loop {
        let (f, bit) = match keys.predict(previous, c.text.as_bytes().get(c.at..)?) {
            Some((f, bit, len)) => {
                c.at += len;
                (f, bit)
            }
            None => {
                let from = c.at;
                let key = c.string()?;
                c.skip_ws();
                c.eat(b':')?;
                let fb = field(key.as_bytes());
                keys.learn(previous, c.text.as_bytes().get(from..c.at)?, fb);
                fb
            }
        };
        previous = bit as usize;
        c.skip_ws();
        if bit != 31 {
            if seen & (1 << bit) != 0 {
                return None;
            }
            seen |= 1 << bit;
        }
        let null = c.peek() == Some(b'n') && c.literal(b"null");
        match f {
            Field::Ts => rec.ts = if null { return None } else { c.float()? },
            Field::Rid => {
                rec.rid = if null { return None } else { Text(Cow::Borrowed(c.string()?)) }
            }
            Field::Str(s) => {
                let v = if null { None } else { Some(Text(Cow::Borrowed(c.string()?))) };
                use StrField as S;
                *match s {
                    S::Lane => &mut rec.lane,
                    S::Model => &mut rec.model,
                    S::Reason => &mut rec.reason,
                    S::Op => &mut rec.op,
                    S::ErrType => &mut rec.err_type,
                    S::Upstream => &mut rec.upstream,
                    S::Event => &mut rec.event,
                    S::Decision => &mut rec.decision,
                    S::DecisionReason => &mut rec.decision_reason,
                    S::RerouteMode => &mut rec.reroute_mode,
                    S::RerouteDecision => &mut rec.reroute_decision,
                } = v;
            }
            Field::Int(i) => {
                let v = if null { None } else { Some(c.int()?) };
                *match i {
                    IntField::InputTokens => &mut rec.input_tokens,
                    IntField::OutputTokens => &mut rec.output_tokens,
                    IntField::Status => &mut rec.status,
                } = v;
            }
            Field::Float(x) => {
                let v = if null { None } else { Some(c.float()?) };
                use FloatField as F;
                *match x {
                    F::LatencyMs => &mut rec.latency_ms,
                    F::StreamMs => &mut rec.stream_ms,
                    F::TtftMs => &mut rec.ttft_ms,
                    F::WarnPctCfg => &mut rec.warn_pct_cfg,
                    F::WarnPctAuto => &mut rec.warn_pct_auto,
                    F::WarnPctConfidence => &mut rec.warn_pct_confidence,
                    F::GapP50 => &mut rec.gap_seconds_p50,
                    F::GapP95 => &mut rec.gap_seconds_p95,
                    F::GapSamples => &mut rec.gap_samples,
                } = v;
            }
            Field::PreferredAttempt => {
                rec.preferred_attempt = if null {
                    None
                } else if c.literal(b"true") {
                    Some(true)
                } else if c.literal(b"false") {
                    Some(false)
                } else {
                    return None;
                };
            }
            Field::Other => {
                if !null {
                    c.skip_scalar()?;
                }
            }
        }
        c.skip_ws();
        match c.peek()? {
            b',' => {
                c.at += 1;
                c.skip_ws();
            }
            b'}' => {
                c.at += 1;
                break;
            }
            _ => return None,
        }
    }
    c.skip_ws();
    // ts and rid are required; one object and nothing after it.
    (seen & 0b11 == 0b11 && c.at == text.len()).then_some(rec)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serde_rec(line: &str) -> Option<String> {
        let mut it = serde_json::Deserializer::from_str(line).into_iter::<Rec<'_>>();
        let rec = it.next()?.ok()?;
        it.next().is_none().then(|| format!("{rec:?}"))
    }

    /// The word-wise prefix test agrees with `starts_with` for every key length and every
    /// place a difference can be, and for a line shorter than the key.
    #[test]
    fn key_prefix_test_agrees_with_starts_with() {
        let line: Vec<u8> = (0..40u8).map(|i| b'a' + i % 26).collect();
        for len in 0..=40 {
            let key = &line[..len];
            assert!(starts_with_key(&line, key), "{len}");
            assert!(!starts_with_key(&line[..len.saturating_sub(1)], key) || len == 0, "{len}");
            for flip in 0..len {
                let mut other = key.to_vec();
                other[flip] ^= 0x20;
                let want = line.starts_with(&other);
                assert_eq!(starts_with_key(&line, &other), want, "{len} {flip}");
            }
        }
    }

    /// Whatever the fast path accepts, serde reads the same (f64 bits included); what it
    /// refuses, serde decides.
    #[test]
    fn the_scanner_reads_exactly_what_serde_reads() {
        let dir = tempfile::tempdir().unwrap();
        agentos_testkit::ccp_logs::CcpTree::generate(dir.path(), 400, 7).unwrap();
        let mut lines: Vec<String> = Vec::new();
        for f in ["logs/usage.jsonl.2", "logs/usage.jsonl", "logs/dev/usage.jsonl"] {
            let text = std::fs::read_to_string(dir.path().join(f)).unwrap();
            lines.extend(text.lines().map(str::to_owned));
        }
        let mut keys = KeyOrder::default();
        let fast_count = lines.iter().filter(|l| scan(l, &mut keys).is_some()).count();
        assert!(fast_count * 10 > lines.len() * 9, "the generated lines take the fast path");
        let odd = [
            r#"{"ts":1795310558.568518,"rid":"a"}"#,
            r#"  {"rid":"a" , "ts" : 1e9 , "x":{"y":1}}  "#,
            r#"{"ts":1795310558.5685181234567,"rid":"a","status":-0}"#,
            r#"{"ts":-0,"rid":"a","latency_ms":-0,"status":-1}"#,
            r#"{"ts":1,"rid":"a","ts":2}"#,
            r#"{"ts":1,"rid":"a","input_tokens":1.0}"#,
            r#"{"ts":1,"rid":"a","input_tokens":9223372036854775808}"#,
            r#"{"ts":1,"rid":"a","latency_ms":18446744073709551616}"#,
            r#"{"ts":1,"rid":"a","latency_ms":1e400}"#,
            r#"{"ts":1,"rid":"a","latency_ms":1e-400}"#,
            r#"{"ts":1,"rid":"a","model":"m\u00e9"}"#,
            r#"{"ts":1,"rid":"a","model":"mé","op":null,"preferred_attempt":false}"#,
            r#"{"ts":1,"rid":null}"#,
            r#"{"ts":null,"rid":"a"}"#,
            r#"{"ts":1,"rid":"a","preferred_attempt":1}"#,
            r#"{"ts":1,"rid":"a","status":"200"}"#,
            r#"{"ts":1,"rid":"a"}{"ts":2,"rid":"b"}"#,
            r#"{"ts":1,"rid":"a"} trailing"#,
            r#"{"ts":01,"rid":"a"}"#,
            r#"{"ts":1.,"rid":"a"}"#,
            r#"{"ts":+1,"rid":"a"}"#,
            r#"{"ts":1,"rid":"a",}"#,
            r#"{"rid":"a"}"#,
            r#"{}"#,
            "{\"ts\":1,\"rid\":\"a\tb\"}",
            r#"{"ts":1,"rid":"a","other":[1,2],"h2":true,"n":null,"e":-1.5E+3}"#,
            // Keys in the learned order but written differently: read, not predicted.
            r#"{"ts":1,"rid":"a","lane" :"x","model":"m","op":"o"}"#,
            r#"{"ts":1,"rid":"a","la\u006ee":"x"}"#,
            r#"{"ts":1,"rid":"a","rid":"b"}"#,
            r#"{"ts":1,"rid":"a","lanes":"x","lane":"y"}"#,
            // Integers read as floats, up to and past the exact range.
            r#"{"ts":999999999999999,"rid":"a","latency_ms":-0,"stream_ms":123456789012345}"#,
            r#"{"ts":1,"rid":"a","latency_ms":9007199254740993,"ttft_ms":-9999999999999999}"#,
        ];
        lines.extend(odd.iter().map(|s| (*s).to_owned()));
        for line in &lines {
            // With the key order of every line before (predicted keys) and without (read keys).
            let learned = scan(line, &mut keys).map(|r| format!("{r:?}"));
            let fresh = scan(line, &mut KeyOrder::default()).map(|r| format!("{r:?}"));
            assert_eq!(learned, fresh, "{line}");
            if let Some(rec) = learned {
                assert_eq!(Some(rec), serde_rec(line), "{line}");
            }
        }
        // The odd lines the scanner must read itself, and those it must leave to serde.
        assert!(scan(odd[1], &mut keys).is_none(), "nested value: serde");
        assert!(scan(odd[25], &mut keys).is_none(), "array: serde");
        assert!(scan(odd[3], &mut keys).is_some_and(|r| r.ts.to_bits() == (-0.0f64).to_bits()));
        for i in [2, 4, 5, 6, 8, 10, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24] {
            assert!(scan(odd[i], &mut keys).is_none(), "{}", odd[i]);
        }
        assert!(scan(odd[26], &mut keys).is_some_and(|r| r.lane.is_some()));
        for i in [27, 28] {
            assert!(scan(odd[i], &mut keys).is_none(), "{}", odd[i]);
        }
        for i in [0, 3, 7, 9, 11, 29, 30, 31] {
            assert!(scan(odd[i], &mut keys).is_some(), "{}", odd[i]);
        }
    }
}
