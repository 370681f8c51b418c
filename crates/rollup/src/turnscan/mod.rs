//! The lean field scanner for turn lines: the common shape (what the recorder, the importers
//! and the CCP backfill write — strings without escapes, numbers, booleans, `null`, the known
//! nested objects) read straight into the borrowed [`TurnLine`] without serde's machinery.
//! Anything it cannot vouch for — an escape or control character in a string, a repeated
//! field, a value of another type, a number the field would refuse or that overflows, an
//! unknown key with a nested value, a missing required field, text after the object —
//! returns `None` and serde decides (`view::with_line`), so what a line yields never depends
//! on which path read it. Numbers: integers are plain digits that fit a `u64`; floats are
//! `str::parse::<f64>` of the strict JSON grammar, correctly rounded as serde_json is with
//! `float_roundtrip` (the workspace's feature); an infinite result (serde: "out of range")
//! is left to serde. Tests hold the two paths equal (`tests/turnscan.rs`).

use std::borrow::Cow;

use agentos_event_schema::v1::{FeatureStatus, OutcomeKind};
use serde::Deserialize;
use serde::de::value::{BorrowedStrDeserializer, Error as ValueError};

use crate::model_trend::{CcpKey, CcpView, Loose, Reroute};
use crate::view::{
    Attribution, CostView, DecisionCheck, FeatureView, IdHash, IntOrBool, MeasurementView,
    NumMapCheck, OutcomeView, StrSeq, TurnLine, TurnView, ValueCheck,
};

mod cursor;
use cursor::Cursor;

/// Mark field `bit` seen; `None` when it was already (serde refuses a repeated field).
fn once(seen: &mut u32, bit: u32) -> Option<()> {
    let mask = 1u32 << bit;
    (*seen & mask == 0).then(|| *seen |= mask)
}

/// The turn event on a (trimmed) line whose first key is `"type":"turn"`, when it has the
/// common shape; `None`: let serde read it.
pub(crate) fn scan(text: &str) -> Option<TurnLine<'_>> {
    let mut c = Cursor::new(text);
    let mut seen = 0u32;
    let (mut event_id, mut ts, mut schema_version, mut turn) = (None, None, None, None);
    let (mut measurement, mut feature, mut cost, mut value) = (None, None, None, None);
    let (mut decision, mut outcome) = (None, None);
    c.skip_ws();
    c.object(|c, key| {
        match key {
            "event_id" => {
                once(&mut seen, 0)?;
                event_id = c.opt(|c| {
                    let s = c.string()?;
                    Some(IdHash((!s.is_empty()).then(|| crate::dedupe::id_hash(s))))
                })?;
            }
            "ts" => {
                once(&mut seen, 1)?;
                ts = c.opt(Cursor::ts)?;
            }
            "schema_version" => {
                once(&mut seen, 2)?;
                schema_version = c.opt(Cursor::str_check)?;
            }
            "turn" => {
                once(&mut seen, 3)?;
                turn = Some(turn_view(c)?);
            }
            "measurement" => {
                once(&mut seen, 4)?;
                measurement = c.opt(measurement_view)?;
            }
            "feature" => {
                once(&mut seen, 5)?;
                feature = c.opt(feature_view)?;
            }
            "cost" => {
                once(&mut seen, 6)?;
                cost = c.opt(cost_view)?;
            }
            "value" => {
                once(&mut seen, 7)?;
                value = c.opt(value_check)?;
            }
            "decision" => {
                once(&mut seen, 8)?;
                decision = c.opt(decision_check)?;
            }
            "outcome" => {
                once(&mut seen, 9)?;
                outcome = c.opt(outcome_view)?;
            }
            _ => c.skip_scalar()?,
        }
        Some(())
    })?;
    c.skip_ws();
    c.at_end().then_some(())?;
    Some(TurnLine {
        event_id,
        ts,
        schema_version,
        turn: turn?,
        measurement,
        feature,
        cost,
        value,
        decision,
        outcome,
    })
}

fn turn_view<'a>(c: &mut Cursor<'a>) -> Option<TurnView<'a>> {
    let mut seen = 0u32;
    let (mut turn_id, mut session_id, mut model, mut subagent) = (None, None, None, None);
    let (mut tokens_in, mut tokens_out, mut input_kind, mut latency_ms) = (None, None, None, None);
    let mut attribution = Attribution::default();
    let (mut capacity_used, mut revises, mut cache_creation_tokens) = (None, None, None);
    let (mut cache_creation_1h_tokens, mut cache_read_tokens, mut sidechain) = (None, None, None);
    let (mut responded_at, mut ccp) = (None, None);
    c.object(|c, key| {
        match key {
            "turn_id" => {
                once(&mut seen, 0)?;
                turn_id = Some(c.str_check()?);
            }
            "session_id" => {
                once(&mut seen, 1)?;
                session_id = Some(c.cow()?);
            }
            "model" => {
                once(&mut seen, 2)?;
                model = Some(c.cow()?);
            }
            "subagent" => {
                once(&mut seen, 3)?;
                subagent = Some(c.str_check()?);
            }
            "tokens_in" => {
                once(&mut seen, 4)?;
                tokens_in = Some(c.uint()?);
            }
            "tokens_out" => {
                once(&mut seen, 5)?;
                tokens_out = Some(c.uint()?);
            }
            "input_kind" => {
                once(&mut seen, 6)?;
                input_kind = Some(c.str_check()?);
            }
            "latency_ms" => {
                once(&mut seen, 7)?;
                latency_ms = Some(c.nonneg()?);
            }
            "attribution" => {
                once(&mut seen, 8)?;
                attribution = attribution_map(c)?;
            }
            "capacity_used" => {
                once(&mut seen, 9)?;
                capacity_used = c.opt(Cursor::nonneg)?;
            }
            "revises" => {
                once(&mut seen, 10)?;
                revises = c.opt(Cursor::str_check)?;
            }
            "cache_creation_tokens" => {
                once(&mut seen, 11)?;
                cache_creation_tokens = c.opt(Cursor::uint)?;
            }
            "cache_creation_1h_tokens" => {
                once(&mut seen, 12)?;
                cache_creation_1h_tokens = c.opt(Cursor::uint)?;
            }
            "cache_read_tokens" => {
                once(&mut seen, 13)?;
                cache_read_tokens = c.opt(Cursor::uint)?;
            }
            "sidechain" => {
                once(&mut seen, 14)?;
                sidechain = c.opt(Cursor::boolean)?;
            }
            "responded_at" => {
                once(&mut seen, 15)?;
                responded_at = c.opt(Cursor::ts)?;
            }
            "ccp" => {
                once(&mut seen, 16)?;
                ccp = c.opt(ccp_view)?;
            }
            _ => c.skip_scalar()?,
        }
        Some(())
    })?;
    Some(TurnView {
        turn_id: turn_id?,
        session_id: session_id?,
        model: model?,
        subagent: subagent?,
        tokens_in: tokens_in?,
        tokens_out: tokens_out?,
        input_kind: input_kind?,
        latency_ms: latency_ms?,
        attribution,
        capacity_used,
        revises,
        cache_creation_tokens,
        cache_creation_1h_tokens,
        cache_read_tokens,
        sidechain,
        responded_at,
        ccp,
    })
}

/// `attribution`: model → weight; a repeated model keeps its last weight, as serde's reader.
fn attribution_map<'a>(c: &mut Cursor<'a>) -> Option<Attribution<'a>> {
    let mut out: Vec<(Cow<'a, str>, f64)> = Vec::new();
    c.object(|c, key| {
        let v = c.float()?;
        match out.iter_mut().find(|(k, _)| k == key) {
            Some(slot) => slot.1 = v,
            None => out.push((Cow::Borrowed(key), v)),
        }
        Some(())
    })?;
    Some(Attribution(out))
}

/// `turn.ccp` as an object of scalars (any other shape: serde).
fn ccp_view(c: &mut Cursor<'_>) -> Option<CcpView> {
    let mut v = CcpView::default();
    c.object(|c, key| {
        let loose = match c.peek()? {
            b'"' => Loose::word(c.string()?),
            b't' | b'f' => Loose::flag(c.boolean()?),
            b'n' => c.null().then(Loose::default)?,
            _ => Loose::num(c.float()?),
        };
        v.take(CcpKey::of(key), loose);
        Some(())
    })?;
    Some(v)
}

fn measurement_view(c: &mut Cursor<'_>) -> Option<MeasurementView> {
    let mut seen = 0u32;
    let (mut cls, mut impf, mut churn_score, mut feature_delta) = (None, None, None, None);
    let mut errors = StrSeq;
    c.object(|c, key| {
        match key {
            "cls" => {
                once(&mut seen, 0)?;
                cls = Some(c.float()?);
            }
            "impf" => {
                once(&mut seen, 1)?;
                impf = Some(c.nonneg()?);
            }
            "churn_score" => {
                once(&mut seen, 2)?;
                churn_score = Some(c.float()?);
            }
            "feature_delta" => {
                once(&mut seen, 3)?;
                feature_delta = Some(c.float()?);
            }
            "errors" => {
                once(&mut seen, 4)?;
                errors = c.strings()?;
            }
            _ => c.skip_scalar()?,
        }
        Some(())
    })?;
    Some(MeasurementView {
        cls: cls?,
        impf: impf?,
        churn_score: churn_score?,
        feature_delta: feature_delta?,
        errors,
    })
}

fn feature_view<'a>(c: &mut Cursor<'a>) -> Option<FeatureView<'a>> {
    let mut seen = 0u32;
    let (mut feature_id, mut spec_ref, mut status, mut notes) = (None, None, None, None);
    c.object(|c, key| {
        match key {
            "feature_id" => {
                once(&mut seen, 0)?;
                feature_id = Some(c.cow()?);
            }
            "spec_ref" => {
                once(&mut seen, 1)?;
                spec_ref = Some(c.str_check()?);
            }
            "status" => {
                once(&mut seen, 2)?;
                // The enum's own reader decides which words it knows.
                let s = c.string()?;
                status = Some(FeatureStatus::deserialize(str_de(s)).ok()?);
            }
            "notes" => {
                once(&mut seen, 3)?;
                notes = c.opt(Cursor::str_check)?;
            }
            _ => c.skip_scalar()?,
        }
        Some(())
    })?;
    Some(FeatureView { feature_id: feature_id?, spec_ref: spec_ref?, status: status?, notes })
}

fn cost_view<'a>(c: &mut Cursor<'a>) -> Option<CostView<'a>> {
    let mut seen = 0u32;
    let (mut provider, mut estimated_usd, mut price_table) = (None, None, None);
    let mut unit_costs = NumMapCheck;
    c.object(|c, key| {
        match key {
            "provider" => {
                once(&mut seen, 0)?;
                provider = Some(c.cow()?);
            }
            "unit_costs" => {
                once(&mut seen, 1)?;
                c.object(|c, _| c.float().map(|_| ()))?;
                unit_costs = NumMapCheck;
            }
            "estimated_usd" => {
                once(&mut seen, 2)?;
                estimated_usd = Some(c.nonneg()?);
            }
            "price_table" => {
                once(&mut seen, 3)?;
                price_table = c.opt(Cursor::str_check)?;
            }
            _ => c.skip_scalar()?,
        }
        Some(())
    })?;
    Some(CostView { provider: provider?, unit_costs, estimated_usd: estimated_usd?, price_table })
}

fn value_check(c: &mut Cursor<'_>) -> Option<ValueCheck> {
    let mut seen = 0u32;
    let (mut summary, mut links, mut evidence_refs) = (None, StrSeq, StrSeq);
    c.object(|c, key| {
        match key {
            "summary" => {
                once(&mut seen, 0)?;
                summary = Some(c.str_check()?);
            }
            "links" => {
                once(&mut seen, 1)?;
                links = c.strings()?;
            }
            "evidence_refs" => {
                once(&mut seen, 2)?;
                evidence_refs = c.strings()?;
            }
            _ => c.skip_scalar()?,
        }
        Some(())
    })?;
    Some(ValueCheck { summary: summary?, links, evidence_refs })
}

fn decision_check(c: &mut Cursor<'_>) -> Option<DecisionCheck> {
    let mut seen = 0u32;
    let mut d = DecisionCheck {
        reroute_mode: None,
        reroute_decision: None,
        preferred_attempt: None,
        warn_pct_auto: None,
        warn_pct_confidence: None,
        gap_seconds_p50: None,
        gap_seconds_p95: None,
        gap_samples: None,
        warn_pct_cfg: None,
    };
    c.object(|c, key| {
        match key {
            "reroute_mode" => {
                once(&mut seen, 0)?;
                d.reroute_mode = c.opt(Cursor::str_check)?;
            }
            "reroute_decision" => {
                once(&mut seen, 1)?;
                d.reroute_decision = c.opt(|c| c.string().map(Reroute::of))?;
            }
            "preferred_attempt" => {
                once(&mut seen, 2)?;
                d.preferred_attempt = c.opt(|c| match c.peek()? {
                    b't' | b'f' => c.boolean().map(|_| IntOrBool),
                    _ => c.uint().map(|_| IntOrBool),
                })?;
            }
            "warn_pct_auto" => {
                once(&mut seen, 3)?;
                d.warn_pct_auto = c.opt(Cursor::float)?;
            }
            "warn_pct_confidence" => {
                once(&mut seen, 4)?;
                d.warn_pct_confidence = c.opt(Cursor::float)?;
            }
            "gap_seconds_p50" => {
                once(&mut seen, 5)?;
                d.gap_seconds_p50 = c.opt(Cursor::nonneg)?;
            }
            "gap_seconds_p95" => {
                once(&mut seen, 6)?;
                d.gap_seconds_p95 = c.opt(Cursor::nonneg)?;
            }
            "gap_samples" => {
                once(&mut seen, 7)?;
                d.gap_samples = c.opt(Cursor::nonneg)?;
            }
            "warn_pct_cfg" => {
                once(&mut seen, 8)?;
                d.warn_pct_cfg = c.opt(Cursor::float)?;
            }
            _ => c.skip_scalar()?,
        }
        Some(())
    })?;
    Some(d)
}

fn outcome_view(c: &mut Cursor<'_>) -> Option<OutcomeView> {
    let mut seen = 0u32;
    let (mut kind, mut count) = (None, 1);
    c.object(|c, key| {
        match key {
            "kind" => {
                once(&mut seen, 0)?;
                let s = c.string()?;
                kind = Some(OutcomeKind::deserialize(str_de(s)).ok()?);
            }
            "count" => {
                once(&mut seen, 1)?;
                count = c.uint()?;
            }
            _ => c.skip_scalar()?,
        }
        Some(())
    })?;
    Some(OutcomeView { kind: kind?, count })
}

/// A string as serde's value deserializer hands it to a type's own reader.
fn str_de(s: &str) -> BorrowedStrDeserializer<'_, ValueError> {
    BorrowedStrDeserializer::new(s)
}
