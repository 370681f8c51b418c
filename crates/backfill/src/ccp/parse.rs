//! One line of CCP's `usage.jsonl`, read tolerantly: a byte-order mark, several JSON objects
//! on one line and trailing prose are accepted (the objects are kept, the line is reported);
//! each object is read into a lean record borrowed from the line and classified by the
//! contract's §3.1 rules (the same rules as `agentos_event_schema::ccp::UsageLine::kind`, held
//! equal by a test).

use serde::Deserialize;

use super::fast::KeyOrder;
use crate::record::{Text, json_reason};

/// What a line records (contract §3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The routing decision, written before dialing (`event:"decision"`).
    Decision,
    /// A retry on another lane (`fallback`, `quota_overshoot`, `net_fallback`).
    Fallback,
    /// Written when a stream's headers arrive: never a request of its own.
    Placeholder,
    /// The request's final line (has `decision_reason` or `reroute_mode`).
    Completion,
    /// `ccp-lite` and legacy proxies: a final line without `decision_reason`.
    LegacyCompletion,
}

/// The fields of a usage line the backfill uses (unknown keys are ignored; `null` reads as
/// absent).
#[derive(Debug, Deserialize)]
pub(crate) struct Rec<'a> {
    pub ts: f64,
    #[serde(borrow)]
    pub rid: Text<'a>,
    #[serde(borrow, default)]
    pub lane: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub model: Option<Text<'a>>,
    #[serde(default)]
    pub input_tokens: Option<i64>,
    #[serde(default)]
    pub output_tokens: Option<i64>,
    #[serde(default)]
    pub status: Option<i64>,
    #[serde(borrow, default)]
    pub reason: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub op: Option<Text<'a>>,
    #[serde(default)]
    pub latency_ms: Option<f64>,
    #[serde(default)]
    pub stream_ms: Option<f64>,
    #[serde(default)]
    pub ttft_ms: Option<f64>,
    #[serde(borrow, default)]
    pub err_type: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub upstream: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub event: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub decision: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub decision_reason: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub reroute_mode: Option<Text<'a>>,
    #[serde(borrow, default)]
    pub reroute_decision: Option<Text<'a>>,
    #[serde(default)]
    pub preferred_attempt: Option<bool>,
    #[serde(default)]
    pub warn_pct_cfg: Option<f64>,
    #[serde(default)]
    pub warn_pct_auto: Option<f64>,
    #[serde(default)]
    pub warn_pct_confidence: Option<f64>,
    #[serde(default)]
    pub gap_seconds_p50: Option<f64>,
    #[serde(default)]
    pub gap_seconds_p95: Option<f64>,
    #[serde(default)]
    pub gap_samples: Option<f64>,
}

/// Fallback reasons (contract §3.2 enums).
pub(crate) fn is_fallback_reason(s: &str) -> bool {
    matches!(s, "fallback" | "quota_overshoot" | "net_fallback")
}

fn text<'x>(t: &'x Option<Text<'_>>) -> &'x str {
    t.as_deref().unwrap_or("")
}

impl Rec<'_> {
    /// Classify the line (contract §3.1).
    pub fn kind(&self) -> Kind {
        if text(&self.event) == "decision" {
            return if is_fallback_reason(text(&self.decision)) {
                Kind::Fallback
            } else {
                Kind::Decision
            };
        }
        if self.decision_reason.is_some() || self.reroute_mode.is_some() {
            return Kind::Completion;
        }
        let tokens = self.input_tokens.unwrap_or(0) | self.output_tokens.unwrap_or(0);
        if text(&self.op) == "stream"
            && text(&self.reason) == "streaming"
            && self.stream_ms.is_none()
            && tokens == 0
        {
            return Kind::Placeholder;
        }
        Kind::LegacyCompletion
    }

    /// The line's time in µs since the epoch, when it is a time a turn can carry.
    pub fn micros(&self) -> Option<i64> {
        let us = (self.ts * 1e6).round();
        (self.ts.is_finite() && (0.0..=crate::line::LAST_FAST as f64).contains(&us))
            .then_some(us as i64)
    }

    pub fn str_of<'x>(t: &'x Option<Text<'_>>) -> &'x str {
        text(t)
    }
}

/// What one line held: its usage records, and why part or all of it was refused.
#[derive(Debug, Default)]
pub(crate) struct Parsed<'a> {
    pub recs: Vec<Rec<'a>>,
    /// Set when the line is bad (its records, if any, are still used).
    pub problem: Option<String>,
}

/// The line's one usage record through the lean scanner ([`super::fast`], `keys`: the key
/// order of the lines it read before), when it is a plain flat object with a usable time;
/// `None`: read it with [`parse_line`].
pub(crate) fn fast_record<'a>(line: &'a str, keys: &mut KeyOrder) -> Option<Rec<'a>> {
    let line = line.strip_prefix('\u{feff}').unwrap_or(line);
    super::fast::scan(line, keys).filter(|r| r.micros().is_some())
}

/// Read every usage record on a line. Never quotes the line's text in a reason.
pub(crate) fn parse_line(bytes: &[u8]) -> Parsed<'_> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut out = Parsed::default();
    let mut stream = serde_json::Deserializer::from_slice(bytes).into_iter::<Rec<'_>>();
    loop {
        let at = stream.byte_offset();
        match stream.next() {
            None => break,
            Some(Ok(r)) => {
                if r.micros().is_none() {
                    out.problem = Some("`ts` is not a time in range (epoch seconds)".to_owned());
                    continue;
                }
                out.recs.push(r);
            }
            Some(Err(e)) => {
                out.problem = Some(problem(bytes, at, out.recs.len(), &e));
                break;
            }
        }
    }
    out
}

fn problem(bytes: &[u8], at: usize, kept: usize, e: &serde_json::Error) -> String {
    let rest = &bytes[at.min(bytes.len())..];
    let rest = rest.iter().position(|b| !b.is_ascii_whitespace()).map_or(&[][..], |i| &rest[i..]);
    if kept > 0 && !rest.starts_with(b"{") {
        return format!(
            "text after {kept} JSON object{} ignored (column {})",
            if kept == 1 { "" } else { "s" },
            bytes.len() - rest.len() + 1
        );
    }
    if e.classify() == serde_json::error::Category::Data {
        return "not a CCP usage line (a JSON value without `ts`, `rid` or with a field of the wrong type)"
            .to_owned();
    }
    json_reason(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = r#"{"ts":1795310558.568518,"rid":"18d2d168","lane":"zai","model":"m","input_tokens":0,"output_tokens":0,"status":-1,"reason":"","op":"","latency_ms":0,"err_type":"","upstream":"zai","h2":true,"event":"decision","decision":"forced_model","decision_reason":"forced_model","reroute_mode":"hybrid"}"#;

    #[test]
    fn bom_several_objects_and_trailing_prose() {
        let line = format!("\u{feff}{D}{D}  {D} and then some words");
        let p = parse_line(line.as_bytes());
        assert_eq!(p.recs.len(), 3);
        let why = p.problem.expect("trailing prose is reported");
        assert!(why.starts_with("text after 3 JSON objects ignored"), "{why}");
        assert!(!why.contains("words"));
        let p = parse_line(D.as_bytes());
        assert_eq!((p.recs.len(), p.problem), (1, None));
        assert_eq!(p.recs[0].kind(), Kind::Decision);
    }

    /// The lean record classifies every line as the schema's `UsageLine::kind` does.
    #[test]
    fn kinds_agree_with_the_schema_type() {
        use agentos_event_schema::ccp::{LineKind, UsageLine};
        let dir = tempfile::tempdir().unwrap();
        agentos_testkit::ccp_logs::CcpTree::generate(dir.path(), 300, 1).unwrap();
        let text = std::fs::read_to_string(dir.path().join("logs/usage.jsonl.2")).unwrap();
        let mut seen = std::collections::HashSet::new();
        for line in text.lines() {
            let Ok(typed) = serde_json::from_str::<UsageLine>(line) else { continue };
            let p = parse_line(line.as_bytes());
            let want = match typed.kind() {
                LineKind::Decision => Kind::Decision,
                LineKind::FallbackDecision => Kind::Fallback,
                LineKind::StreamPlaceholder => Kind::Placeholder,
                LineKind::Completion => Kind::Completion,
                _ => Kind::LegacyCompletion,
            };
            assert_eq!(p.recs[0].kind(), want, "{line}");
            seen.insert(format!("{want:?}"));
        }
        assert_eq!(seen.len(), 4, "{seen:?}");
    }

    #[test]
    fn junk_and_wrong_shapes_are_problems_without_records() {
        for junk in ["garbage", "{\"ts\":", "[1,2]", "{}", "{\"ts\":\"x\",\"rid\":\"a\"}"] {
            let p = parse_line(junk.as_bytes());
            assert!(p.recs.is_empty(), "{junk}");
            assert!(p.problem.is_some(), "{junk}");
        }
        let p = parse_line(br#"{"ts":-5,"rid":"a"}"#);
        assert!(p.recs.is_empty() && p.problem.is_some());
    }
}
