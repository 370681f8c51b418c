//! Full-tier redaction: the allow-list of event fields that may leave the machine verbatim.
//!
//! Paths name a field inside an event line: object keys joined by `.`, `[]` for the items of
//! a list, `*` for the values of a map whose keys pass (the maps listed in [`MAP_PATHS`]).
//! A field with no rule is hashed, and so is a whole object or list with no rule inside it:
//! unknown fields, and the keys of unknown objects, never leave in clear.

use agentos_event_schema::v1::Event;
use ring::digest;
use serde_json::{Map, Value as Json, json};

/// What happens to one field in the full tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// Sent as is (numbers, enums, model names, timestamps, random event ids).
    Pass,
    /// Replaced by `{"sha256": <hex of the UTF-8 bytes>, "len": <byte length>}`; non-string
    /// values are hashed over their compact JSON text.
    Hash,
    /// Left out of the upload entirely.
    Drop,
}

/// Maps whose keys are sent in clear (model names, unit names, metadata labels) while each
/// value follows the rule of `<path>.*`.
pub const MAP_PATHS: &[&str] = &["session.metadata", "turn.attribution", "cost.unit_costs"];

/// The full-tier allow-list: every field of a v1 event, with its rule and the reason. This is
/// the only place these decisions are made; `docs/privacy.md` is generated from it.
pub const RULES: &[(&str, Rule, &str)] = &[
    // Envelope
    ("type", Rule::Pass, "event kind (enum)"),
    ("event_id", Rule::Pass, "random UUID minted by the recorder; the dedupe key"),
    ("ts", Rule::Pass, "timestamp"),
    ("schema_version", Rule::Pass, "contract version"),
    // session
    ("session.session_id", Rule::Hash, "may be user-chosen (`--session-id`); hash keeps joins"),
    ("session.repo_id", Rule::Hash, "identifies the repository"),
    ("session.branch", Rule::Hash, "branch names are free text"),
    ("session.commit", Rule::Hash, "identifies the code state"),
    ("session.license_id", Rule::Hash, "identifies the customer"),
    ("session.privacy_tier", Rule::Pass, "enum"),
    ("session.created_at", Rule::Pass, "timestamp"),
    ("session.metadata.*", Rule::Hash, "metadata values are free text (keys pass)"),
    // turn
    ("turn.turn_id", Rule::Hash, "may come from other tools; hash keeps joins"),
    ("turn.session_id", Rule::Hash, "same hash as `session.session_id`"),
    ("turn.model", Rule::Pass, "model name"),
    ("turn.subagent", Rule::Hash, "agent names are free text"),
    ("turn.tokens_in", Rule::Pass, "number"),
    ("turn.tokens_out", Rule::Pass, "number"),
    ("turn.input_kind", Rule::Pass, "enum"),
    ("turn.latency_ms", Rule::Pass, "number"),
    ("turn.attribution.*", Rule::Pass, "weights (keys are model names)"),
    ("turn.capacity_used", Rule::Pass, "number"),
    // measurement
    ("measurement.cls", Rule::Pass, "number"),
    ("measurement.impf", Rule::Pass, "number"),
    ("measurement.churn_score", Rule::Pass, "number"),
    ("measurement.feature_delta", Rule::Pass, "number"),
    ("measurement.errors[]", Rule::Hash, "free text"),
    // feature
    ("feature.feature_id", Rule::Hash, "feature ids name product work"),
    ("feature.spec_ref", Rule::Hash, "path or URL of the spec"),
    ("feature.status", Rule::Pass, "enum"),
    ("feature.notes", Rule::Hash, "free text"),
    // cost
    ("cost.provider", Rule::Pass, "provider name (like a model name)"),
    ("cost.unit_costs.*", Rule::Pass, "prices (keys are unit names)"),
    ("cost.estimated_usd", Rule::Pass, "number"),
    // value
    ("value.summary", Rule::Hash, "free text"),
    ("value.links[]", Rule::Hash, "URLs name private resources"),
    ("value.evidence_refs", Rule::Drop, "references to local evidence stores"),
    // decision (CCP routing flags)
    ("decision.reroute_mode", Rule::Pass, "enum"),
    ("decision.reroute_decision", Rule::Pass, "enum"),
    ("decision.preferred_attempt", Rule::Pass, "number"),
    ("decision.warn_pct_auto", Rule::Pass, "number"),
    ("decision.warn_pct_confidence", Rule::Pass, "number"),
    ("decision.gap_seconds_p50", Rule::Pass, "number"),
    ("decision.gap_seconds_p95", Rule::Pass, "number"),
    ("decision.gap_samples", Rule::Pass, "number"),
    ("decision.warn_pct_cfg", Rule::Pass, "number"),
    // outcome
    ("outcome.kind", Rule::Pass, "enum"),
    ("outcome.count", Rule::Pass, "number"),
    // session_end
    ("session_id", Rule::Hash, "same hash as `session.session_id`"),
    ("ended_at", Rule::Pass, "timestamp"),
    ("notes", Rule::Hash, "free text"),
];

/// The rule for a field path (see the module doc for the path syntax); `None` when the
/// allow-list does not name it (such leaves are hashed).
pub fn rule_for(path: &str) -> Option<Rule> {
    RULES.iter().find(|(p, _, _)| *p == path).map(|(_, rule, _)| *rule)
}

/// `{"sha256": <lower-case hex of the bytes>, "len": <byte length>}`.
pub fn content_hash(text: &str) -> Json {
    let d = digest::digest(&digest::SHA256, text.as_bytes());
    let hex: String = d.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    json!({"sha256": hex, "len": text.len()})
}

fn hash_json(v: &Json) -> Json {
    match v {
        Json::String(s) => content_hash(s),
        other => content_hash(&other.to_string()),
    }
}

/// The full-tier upload form of an event (see [`RULES`]).
pub fn redact_event(event: &Event) -> Json {
    match serde_json::to_value(event) {
        Ok(v) => redact_value(&v),
        // An event always serializes; should it not, send nothing readable.
        Err(e) => json!({"redaction_error": content_hash(&e.to_string())}),
    }
}

/// The full-tier upload form of an event already parsed as JSON (e.g. a line read back from
/// `events.jsonl`). Anything that is not an object is hashed as a whole.
pub fn redact_value(event: &Json) -> Json {
    match event {
        Json::Object(map) => redact_object("", map),
        other => hash_json(other),
    }
}

/// Whether some rule names a field inside `path` (`path.…` or `path[]…`).
fn has_rules_below(path: &str) -> bool {
    RULES.iter().any(|(p, _, _)| {
        p.strip_prefix(path).is_some_and(|rest| rest.starts_with('.') || rest.starts_with("[]"))
    })
}

fn child(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else if MAP_PATHS.contains(&path) {
        format!("{path}.*")
    } else {
        format!("{path}.{key}")
    }
}

fn redact_object(path: &str, map: &Map<String, Json>) -> Json {
    let mut out = Map::new();
    for (key, value) in map {
        let p = child(path, key);
        if let Some(v) = redact_at(&p, value) {
            out.insert(key.clone(), v);
        }
    }
    Json::Object(out)
}

fn redact_at(path: &str, value: &Json) -> Option<Json> {
    match (rule_for(path), value) {
        (Some(Rule::Drop), _) => None,
        (Some(Rule::Hash), v) => Some(hash_json(v)),
        // Pass applies to scalars only; a container where a scalar was expected is hashed.
        (Some(Rule::Pass), Json::Object(_) | Json::Array(_)) => Some(hash_json(value)),
        (Some(Rule::Pass), v) => Some(v.clone()),
        // Descend only where the allow-list names something inside; any other container is
        // hashed whole, so the keys of unknown objects never leave in clear either.
        (None, Json::Object(map)) if has_rules_below(path) => Some(redact_object(path, map)),
        (None, Json::Array(items)) if has_rules_below(path) => {
            let item_path = format!("{path}[]");
            Some(Json::Array(items.iter().filter_map(|i| redact_at(&item_path, i)).collect()))
        }
        (None, v) => Some(hash_json(v)),
    }
}
