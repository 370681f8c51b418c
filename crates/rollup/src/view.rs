//! The fast path: borrowed "views" of an `events.jsonl` line that read only what the rollup
//! needs, yet enforce every constraint the v1 types and schema put on an event.
//!
//! Why not `agentos_event_schema::v1::Event`: it uses `#[serde(flatten)]` (buffering every
//! field) and owns every string; that is several times slower than the rollup budget allows.
//!
//! What "valid" means here (documented in `docs/metrics.md`): a line is accepted exactly when
//! `serde_json::from_str::<v1::Event>` accepts it and the v1 JSON schema validates it — every
//! required field present with the right JSON type, integers non-negative (`tokens_in`,
//! `tokens_out`, `count`, `preferred_attempt`, which may also be a legacy boolean),
//! `latency_ms`, `capacity_used`, `impf`, `estimated_usd` and the `gap_*` fields ≥ 0, closed
//! enums (`privacy_tier`, `status`) known, open enums (`input_kind`, `kind`) any string (an
//! unknown value is tolerated, the v1 evolution rule), timestamps RFC 3339, maps of
//! numbers (`attribution`, `unit_costs`) holding numbers, string
//! arrays holding strings. Fields the views do not name are checked by these "check" types
//! without being kept; unknown keys are tolerated (the v1 evolution rule).
//!
//! A turn line of the common shape is read into [`TurnLine`] by `turnscan` without serde;
//! serde (here) decides every line the scanner declines.

use std::borrow::Cow;
use std::fmt;

use agentos_event_schema::v1::{FeatureStatus, OutcomeKind, PrivacyTier};
use serde::Deserialize;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// A string whose content the rollup does not need: type-checked, not kept.
#[derive(Debug, Default)]
pub(crate) struct StrCheck;

impl<'de> Deserialize<'de> for StrCheck {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = StrCheck;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<StrCheck, E> {
                Ok(StrCheck)
            }
        }
        d.deserialize_str(V)
    }
}

/// An array of strings, type-checked, not kept.
#[derive(Debug, Default)]
pub(crate) struct StrSeq;

impl<'de> Deserialize<'de> for StrSeq {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StrSeq;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of strings")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<StrSeq, A::Error> {
                while seq.next_element::<StrCheck>()?.is_some() {}
                Ok(StrSeq)
            }
        }
        d.deserialize_seq(V)
    }
}

/// An object with any values (e.g. `metadata`), type-checked, not kept.
#[derive(Debug, Default)]
pub(crate) struct ObjCheck;

impl<'de> Deserialize<'de> for ObjCheck {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ObjCheck;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ObjCheck, A::Error> {
                while map.next_entry::<StrCheck, IgnoredAny>()?.is_some() {}
                Ok(ObjCheck)
            }
        }
        d.deserialize_map(V)
    }
}

/// An object whose values must be numbers (e.g. `unit_costs`), type-checked, not kept.
#[derive(Debug, Default)]
pub(crate) struct NumMapCheck;

impl<'de> Deserialize<'de> for NumMapCheck {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = NumMapCheck;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of numbers")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NumMapCheck, A::Error> {
                while map.next_entry::<StrCheck, f64>()?.is_some() {}
                Ok(NumMapCheck)
            }
        }
        d.deserialize_map(V)
    }
}

/// `decision.preferred_attempt`: an integer ≥ 0 or, from legacy writers, a boolean (the v1
/// types read it with `int_or_bool`), type-checked, not kept.
#[derive(Debug)]
pub(crate) struct IntOrBool;

impl<'de> Deserialize<'de> for IntOrBool {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = IntOrBool;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a non-negative integer or a boolean")
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<IntOrBool, E> {
                Ok(IntOrBool)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<IntOrBool, E> {
                Ok(IntOrBool)
            }
        }
        d.deserialize_any(V)
    }
}

/// `attribution`: model → weight, kept (borrowed keys where the JSON has no escapes).
#[derive(Debug, Default)]
pub(crate) struct Attribution<'a>(pub(crate) Vec<(Cow<'a, str>, f64)>);

impl<'de: 'a, 'a> Deserialize<'de> for Attribution<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Attribution<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of numbers")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Attribution<'a>, A::Error> {
                let mut out = Vec::new();
                while let Some(k) = map.next_key::<Key<'de>>()? {
                    let v: f64 = map.next_value()?;
                    // JSON objects with a repeated key: the last value wins, as in serde_json::Map.
                    if let Some(slot) =
                        out.iter_mut().find(|(ek, _): &&mut (Cow<'_, str>, f64)| *ek == k.0)
                    {
                        slot.1 = v;
                    } else {
                        out.push((k.0, v));
                    }
                }
                Ok(Attribution(out))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// A borrowed-when-possible string key.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(s.to_owned())))
            }
        }
        d.deserialize_str(V)
    }
}

/// A nested payload: a JSON object only. Derived structs would also read a JSON array as
/// the fields in order (`"value": ["x"]`), which the v1 schema refuses.
pub(crate) fn object<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<T, D::Error> {
    struct V<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object")
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
            T::deserialize(de::value::MapAccessDeserializer::new(map))
        }
    }
    d.deserialize_map(V(std::marker::PhantomData))
}

/// An optional nested payload: `null` or a JSON object (see [`object`]).
pub(crate) fn object_opt<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    struct V<T>(std::marker::PhantomData<T>);
    impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
        type Value = Option<T>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object or null")
        }
        fn visit_none<E: de::Error>(self) -> Result<Option<T>, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Option<T>, E> {
            Ok(None)
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Option<T>, D2::Error> {
            object(d).map(Some)
        }
    }
    d.deserialize_option(V(std::marker::PhantomData))
}

/// An `event_id`, kept as its hash (see `dedupe`); an empty id is no id.
#[derive(Debug, Clone, Copy)]
pub(crate) struct IdHash(pub(crate) Option<u128>);

impl<'de> Deserialize<'de> for IdHash {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = IdHash;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<IdHash, E> {
                Ok(IdHash((!s.is_empty()).then(|| crate::dedupe::id_hash(s))))
            }
        }
        d.deserialize_str(V)
    }
}

/// A number that must be ≥ 0.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct NonNeg(pub(crate) f64);

impl<'de> Deserialize<'de> for NonNeg {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = f64::deserialize(d)?;
        if v >= 0.0 {
            Ok(NonNeg(v))
        } else {
            Err(de::Error::custom(format_args!("{v} is less than the minimum of 0")))
        }
    }
}

/// An RFC 3339 timestamp, parsed (so invalid ones are rejected) into seconds since the epoch.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ts(pub(crate) jiff::Timestamp);

impl Ts {
    /// The timestamp `s` writes (the common shape read directly, jiff decides the rest).
    pub(crate) fn parse(s: &str) -> Result<Ts, jiff::Error> {
        match crate::tsfast::parse(s) {
            Some(t) => Ok(Ts(t)),
            None => s.parse::<jiff::Timestamp>().map(Ts),
        }
    }
}

impl<'de> Deserialize<'de> for Ts {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Ts;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an RFC 3339 timestamp string")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Ts, E> {
                Ts::parse(s)
                    .map_err(|e| E::custom(format_args!("invalid RFC 3339 timestamp {s:?}: {e}")))
            }
        }
        d.deserialize_str(V)
    }
}

/// `{"type":"session", …}`
#[derive(Debug, Deserialize)]
pub(crate) struct SessionLine<'a> {
    pub(crate) event_id: Option<IdHash>,
    pub(crate) ts: Option<Ts>,
    #[allow(dead_code)]
    pub(crate) schema_version: Option<StrCheck>,
    #[serde(borrow, deserialize_with = "object")]
    pub(crate) session: SessionView<'a>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
pub(crate) struct SessionView<'a> {
    #[serde(borrow)]
    pub(crate) session_id: Cow<'a, str>,
    repo_id: StrCheck,
    #[serde(borrow)]
    pub(crate) branch: Cow<'a, str>,
    commit: StrCheck,
    license_id: StrCheck,
    privacy_tier: PrivacyTier,
    pub(crate) created_at: Ts,
    #[serde(default)]
    metadata: ObjCheck,
    // v1 additions (imported agent history), typed as the schema types them.
    #[serde(default, borrow)]
    pub(crate) agent: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    pub(crate) cwd: Option<Cow<'a, str>>,
    #[serde(default)]
    cli_version: Option<StrCheck>,
    #[serde(default)]
    pub(crate) last_active_at: Option<Ts>,
}

/// `{"type":"turn", …}`
#[derive(Debug, Deserialize)]
#[allow(dead_code)]
pub(crate) struct TurnLine<'a> {
    pub(crate) event_id: Option<IdHash>,
    pub(crate) ts: Option<Ts>,
    pub(crate) schema_version: Option<StrCheck>,
    #[serde(borrow, deserialize_with = "object")]
    pub(crate) turn: TurnView<'a>,
    #[serde(default, deserialize_with = "object_opt")]
    pub(crate) measurement: Option<MeasurementView>,
    #[serde(borrow, default, deserialize_with = "object_opt")]
    pub(crate) feature: Option<FeatureView<'a>>,
    #[serde(borrow, default, deserialize_with = "object_opt")]
    pub(crate) cost: Option<CostView<'a>>,
    #[serde(default, deserialize_with = "object_opt")]
    pub(crate) value: Option<ValueCheck>,
    #[serde(default, deserialize_with = "object_opt")]
    pub(crate) decision: Option<DecisionCheck>,
    #[serde(default, deserialize_with = "object_opt")]
    pub(crate) outcome: Option<OutcomeView>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
pub(crate) struct TurnView<'a> {
    pub(crate) turn_id: StrCheck,
    #[serde(borrow)]
    pub(crate) session_id: Cow<'a, str>,
    #[serde(borrow)]
    pub(crate) model: Cow<'a, str>,
    pub(crate) subagent: StrCheck,
    pub(crate) tokens_in: u64,
    pub(crate) tokens_out: u64,
    pub(crate) input_kind: StrCheck,
    pub(crate) latency_ms: NonNeg,
    #[serde(default, borrow)]
    pub(crate) attribution: Attribution<'a>,
    #[serde(default)]
    pub(crate) capacity_used: Option<NonNeg>,
    /// Set on an importer's correction turn: its tokens count, it is not another turn.
    #[serde(default)]
    pub(crate) revises: Option<StrCheck>,
    // v1 additions (imported agent history), typed as the schema types them.
    #[serde(default)]
    pub(crate) cache_creation_tokens: Option<u64>,
    #[serde(default)]
    pub(crate) cache_creation_1h_tokens: Option<u64>,
    #[serde(default)]
    pub(crate) cache_read_tokens: Option<u64>,
    #[serde(default)]
    pub(crate) sidechain: Option<bool>,
    #[serde(default)]
    pub(crate) responded_at: Option<Ts>,
    /// The CCP backfill's extra key: any value is tolerated (v1 allows extra keys).
    #[serde(default)]
    pub(crate) ccp: Option<crate::model_trend::CcpView>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
pub(crate) struct MeasurementView {
    pub(crate) cls: f64,
    pub(crate) impf: NonNeg,
    pub(crate) churn_score: f64,
    pub(crate) feature_delta: f64,
    #[serde(default)]
    pub(crate) errors: StrSeq,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
pub(crate) struct FeatureView<'a> {
    #[serde(borrow)]
    pub(crate) feature_id: Cow<'a, str>,
    pub(crate) spec_ref: StrCheck,
    pub(crate) status: FeatureStatus,
    #[serde(default)]
    pub(crate) notes: Option<StrCheck>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
pub(crate) struct CostView<'a> {
    #[serde(borrow)]
    pub(crate) provider: Cow<'a, str>,
    #[serde(default)]
    pub(crate) unit_costs: NumMapCheck,
    pub(crate) estimated_usd: NonNeg,
    /// Set when `estimated_usd` is a table's estimate, not a recorded price.
    #[serde(default)]
    pub(crate) price_table: Option<StrCheck>,
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
pub(crate) struct ValueCheck {
    pub(crate) summary: StrCheck,
    #[serde(default)]
    pub(crate) links: StrSeq,
    #[serde(default)]
    pub(crate) evidence_refs: StrSeq,
}

#[derive(Debug, Default, Deserialize)]
#[allow(dead_code)]
pub(crate) struct DecisionCheck {
    pub(crate) reroute_mode: Option<StrCheck>,
    pub(crate) reroute_decision: Option<crate::model_trend::Reroute>,
    pub(crate) preferred_attempt: Option<IntOrBool>,
    pub(crate) warn_pct_auto: Option<f64>,
    pub(crate) warn_pct_confidence: Option<f64>,
    pub(crate) gap_seconds_p50: Option<NonNeg>,
    pub(crate) gap_seconds_p95: Option<NonNeg>,
    pub(crate) gap_samples: Option<NonNeg>,
    pub(crate) warn_pct_cfg: Option<f64>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct OutcomeView {
    pub(crate) kind: OutcomeKind,
    #[serde(default = "one")]
    pub(crate) count: u64,
}

fn one() -> u64 {
    1
}

/// `{"type":"session_end", …}`
#[derive(Debug, Deserialize)]
#[allow(dead_code)]
pub(crate) struct EndLine<'a> {
    pub(crate) event_id: Option<IdHash>,
    pub(crate) ts: Option<Ts>,
    schema_version: Option<StrCheck>,
    #[serde(borrow)]
    pub(crate) session_id: Cow<'a, str>,
    pub(crate) ended_at: Ts,
    #[serde(default)]
    notes: StrCheck,
}

/// One accepted line.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // lives on the stack for one line; boxing would allocate per event
pub(crate) enum Line<'a> {
    Session(SessionLine<'a>),
    Turn(TurnLine<'a>),
    End(EndLine<'a>),
    /// An event type this version does not know: valid (the v1 evolution rule tolerates it),
    /// ignored by every count.
    Unknown,
}

impl Line<'_> {
    /// The hash of the event's `event_id`, when it has a non-empty one.
    pub(crate) fn event_id(&self) -> Option<u128> {
        let id = match self {
            Line::Session(s) => s.event_id,
            Line::Turn(t) => t.event_id,
            Line::End(e) => e.event_id,
            Line::Unknown => None,
        };
        id.and_then(|i| i.0)
    }
}

/// The value of a leading `"type"` key, when the line starts with one (both compact and
/// Python-default separators), without parsing the rest.
pub(crate) fn peek_type(bytes: &[u8]) -> Option<&[u8]> {
    let rest = skip_ws(bytes).strip_prefix(b"{")?;
    let rest = skip_ws(rest).strip_prefix(b"\"type\"")?;
    let rest = skip_ws(rest).strip_prefix(b":")?;
    let rest = skip_ws(rest).strip_prefix(b"\"")?;
    let end = rest.iter().position(|&b| b == b'"' || b == b'\\')?;
    match rest.get(end) {
        Some(b'"') => rest.get(..end),
        _ => None,
    }
}

fn skip_ws(b: &[u8]) -> &[u8] {
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    b.get(n..).unwrap_or_default()
}

/// Parse one (trimmed, non-empty) line and hand the accepted event to `f`; `Err` says what is
/// wrong, in the words of the v1 schema where possible.
pub(crate) fn with_line<R>(text: &str, f: impl FnOnce(Line<'_>) -> R) -> Result<R, String> {
    // A turn line of the common shape is read without serde; serde decides everything else.
    if peek_type(text.as_bytes()) == Some(b"turn")
        && let Some(t) = crate::turnscan::scan(text)
    {
        return Ok(f(Line::Turn(t)));
    }
    with_line_serde(text, f)
}

/// [`with_line`] through serde alone (the reference the turn scanner is held to).
pub(crate) fn with_line_serde<R>(text: &str, f: impl FnOnce(Line<'_>) -> R) -> Result<R, String> {
    let bytes = text.as_bytes();
    let fast = match peek_type(bytes) {
        Some(b"turn") => serde_json::from_str::<TurnLine<'_>>(text).map(Line::Turn),
        Some(b"session") => serde_json::from_str::<SessionLine<'_>>(text).map(Line::Session),
        Some(b"session_end") => serde_json::from_str::<EndLine<'_>>(text).map(Line::End),
        _ => return slow(text, f),
    };
    match fast {
        Ok(line) => Ok(f(line)),
        // A refused line gets the slow path's verdict: a repeated key fails the borrowed
        // structs (`duplicate field`, or its first value is bad) where a JSON value keeps the
        // last one, as the validator and Python's json read it (found by `fuzz/`).
        Err(_) => slow(text, f),
    }
}

/// Lines whose `type` is not the first key: parse the whole value, then view it.
fn slow<R>(text: &str, f: impl FnOnce(Line<'_>) -> R) -> Result<R, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("malformed json: {e}"))?;
    let Some(obj) = value.as_object() else {
        return Err("not a json object: each line must be one event object".to_owned());
    };
    let parsed = match obj.get("type").and_then(|t| t.as_str()) {
        Some("turn") => TurnLine::deserialize(&value).map(Line::Turn),
        Some("session") => SessionLine::deserialize(&value).map(Line::Session),
        Some("session_end") => EndLine::deserialize(&value).map(Line::End),
        Some(_) => return Ok(f(Line::Unknown)),
        None => return Err("missing \"type\": expected session, turn or session_end".to_owned()),
    };
    match parsed {
        Ok(line) => Ok(f(line)),
        Err(e) => Err(explain_value(&value, &e.to_string())),
    }
}

fn explain_value(value: &serde_json::Value, serde_message: &str) -> String {
    use agentos_event_schema::{catalog::SchemaKind, validate};
    let violations = validate::validate(SchemaKind::V1Event, value);
    match violations.first() {
        Some(v) => format!("schema-invalid event: {v}"),
        None => format!("schema-invalid event: {serde_message}"),
    }
}
