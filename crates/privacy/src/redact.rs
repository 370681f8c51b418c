//! Full-tier redaction: the allow-list of event fields that may leave the machine verbatim.
//!
//! Paths name a field inside an event line: object keys joined by `.`, `[]` for the items of
//! a list, `*` for the values of a map whose keys pass (the maps listed in [`MAP_PATHS`]).
//! A field with no rule is hashed, and so is a whole object or list with no rule inside it,
//! and the key of such a field is replaced by the hex SHA-256 of its name: unknown fields,
//! their names, and the keys of unknown objects never leave in clear. Every rule that lets a
//! value through also checks its form (a number, one of an enum's values, a timestamp, a
//! UUID, a version), so text typed where a number or an enum belongs is never sent either.

use agentos_event_schema::v1::{Event, RerouteDecision, RerouteMode};
use ring::digest;
use serde_json::{Map, Value as Json, json};

/// What happens to one field in the full tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rule {
    /// Sent as is (model and provider names).
    Pass,
    /// A number (or boolean, or null) is sent as is; anything else is hashed.
    Number,
    /// One of the listed values is sent as is; any other value is replaced by `"other"`.
    Enum(&'static [&'static str]),
    /// A string of this form is sent as is; anything else is hashed.
    Format(Format),
    /// Replaced by `{"sha256": <hex of the UTF-8 bytes>, "len": <byte length>}`; non-string
    /// values are hashed over their compact JSON text.
    Hash,
    /// Left out of the upload entirely.
    Drop,
}

/// The forms [`Rule::Format`] checks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// An RFC 3339 timestamp.
    Timestamp,
    /// A hyphenated UUID (`8-4-4-4-12` hex digits).
    Uuid,
    /// A `major.minor.patch` version of digits.
    Version,
}

impl Format {
    /// Whether `s` has this form.
    pub fn matches(self, s: &str) -> bool {
        match self {
            Format::Timestamp => s.parse::<agentos_event_schema::Timestamp>().is_ok(),
            Format::Uuid => {
                let b = s.as_bytes();
                b.len() == 36
                    && b.iter().enumerate().all(|(i, c)| match i {
                        8 | 13 | 18 | 23 => *c == b'-',
                        _ => c.is_ascii_hexdigit(),
                    })
            }
            Format::Version => {
                let parts: Vec<&str> = s.split('.').collect();
                parts.len() == 3
                    && parts.iter().all(|p| {
                        !p.is_empty() && p.len() <= 9 && p.bytes().all(|c| c.is_ascii_digit())
                    })
            }
        }
    }

    /// The form's name in `docs/privacy.md`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Timestamp => "RFC 3339 timestamp",
            Format::Uuid => "UUID",
            Format::Version => "`major.minor.patch` version",
        }
    }
}

/// Event types.
const EVENT_TYPES: &[&str] = &["session", "turn", "session_end"];
/// Privacy tiers.
pub(crate) const TIERS: &[&str] = &["local", "minimized", "full"];
/// Input kinds.
pub(crate) const INPUT_KINDS: &[&str] = &["text", "image", "other"];
/// Feature statuses.
pub(crate) const FEATURE_STATUSES: &[&str] = &["proposed", "implemented", "shipped"];
/// Coding agents whose transcripts AgentOS imports.
pub(crate) const AGENTS: &[&str] = &["claude-code", "codex"];
/// Outcome kinds.
pub(crate) const OUTCOME_KINDS: &[&str] =
    &["tests_passed", "pr_merged", "bug_fixed", "feature_shipped", "docs_written", "other"];

/// Maps whose keys are sent in clear (model names, unit names, metadata labels) while each
/// value follows the rule of `<path>.*`.
pub const MAP_PATHS: &[&str] = &["session.metadata", "turn.attribution", "cost.unit_costs"];

/// The full-tier allow-list: every field of a v1 event, with its rule and the reason. This is
/// the only place these decisions are made; `docs/privacy.md` is generated from it.
pub const RULES: &[(&str, Rule, &str)] = &[
    // Envelope
    ("type", Rule::Enum(EVENT_TYPES), "event kind"),
    (
        "event_id",
        Rule::Format(Format::Uuid),
        "UUID minted by the recorder (random) or an importer (from the source); the dedupe key",
    ),
    ("ts", Rule::Format(Format::Timestamp), "timestamp"),
    ("schema_version", Rule::Format(Format::Version), "contract version"),
    // session
    ("session.session_id", Rule::Hash, "may be user-chosen (`--session-id`); hash keeps joins"),
    ("session.repo_id", Rule::Hash, "identifies the repository"),
    ("session.branch", Rule::Hash, "branch names are free text"),
    ("session.commit", Rule::Hash, "identifies the code state"),
    ("session.license_id", Rule::Hash, "identifies the customer"),
    ("session.privacy_tier", Rule::Enum(TIERS), "tier"),
    ("session.created_at", Rule::Format(Format::Timestamp), "timestamp"),
    ("session.metadata.*", Rule::Hash, "metadata values are free text (keys pass)"),
    ("session.agent", Rule::Enum(AGENTS), "known coding agents pass; any other name is `other`"),
    ("session.cwd", Rule::Hash, "a local path names the user and the project"),
    (
        "session.cli_version",
        Rule::Format(Format::Version),
        "a version passes; other text is hashed",
    ),
    ("session.last_active_at", Rule::Format(Format::Timestamp), "timestamp"),
    // turn
    ("turn.turn_id", Rule::Hash, "may come from other tools; hash keeps joins"),
    ("turn.session_id", Rule::Hash, "same hash as `session.session_id`"),
    ("turn.model", Rule::Pass, "model name"),
    ("turn.subagent", Rule::Hash, "agent names are free text"),
    ("turn.tokens_in", Rule::Number, "count"),
    ("turn.tokens_out", Rule::Number, "count"),
    ("turn.input_kind", Rule::Enum(INPUT_KINDS), "input kind"),
    ("turn.latency_ms", Rule::Number, "duration"),
    ("turn.attribution.*", Rule::Number, "weights (keys are model names)"),
    ("turn.capacity_used", Rule::Number, "fraction"),
    ("turn.cache_creation_tokens", Rule::Number, "count"),
    ("turn.cache_creation_1h_tokens", Rule::Number, "count"),
    ("turn.cache_read_tokens", Rule::Number, "count"),
    ("turn.sidechain", Rule::Number, "true or false"),
    ("turn.responded_at", Rule::Format(Format::Timestamp), "timestamp"),
    ("turn.revises", Rule::Format(Format::Uuid), "event id of the turn a correction revises"),
    // measurement
    ("measurement.cls", Rule::Number, "score"),
    ("measurement.impf", Rule::Number, "minutes"),
    ("measurement.churn_score", Rule::Number, "score"),
    ("measurement.feature_delta", Rule::Number, "count"),
    ("measurement.errors[]", Rule::Hash, "free text"),
    // feature
    ("feature.feature_id", Rule::Hash, "feature ids name product work"),
    ("feature.spec_ref", Rule::Hash, "path or URL of the spec"),
    ("feature.status", Rule::Enum(FEATURE_STATUSES), "status"),
    ("feature.notes", Rule::Hash, "free text"),
    // cost
    ("cost.provider", Rule::Pass, "provider name (like a model name)"),
    ("cost.unit_costs.*", Rule::Number, "prices (keys are unit names)"),
    ("cost.estimated_usd", Rule::Number, "dollars"),
    ("cost.price_table", Rule::Hash, "a table id may name a user's own price file"),
    // value
    ("value.summary", Rule::Hash, "free text"),
    ("value.links[]", Rule::Hash, "URLs name private resources"),
    ("value.evidence_refs", Rule::Drop, "references to local evidence stores"),
    // decision (CCP routing flags)
    ("decision.reroute_mode", Rule::Enum(RerouteMode::KNOWN), "CCP's reroute mode"),
    ("decision.reroute_decision", Rule::Enum(RerouteDecision::KNOWN), "CCP's quota decision"),
    ("decision.preferred_attempt", Rule::Number, "0 or 1"),
    ("decision.warn_pct_auto", Rule::Number, "fraction"),
    ("decision.warn_pct_confidence", Rule::Number, "fraction"),
    ("decision.gap_seconds_p50", Rule::Number, "seconds"),
    ("decision.gap_seconds_p95", Rule::Number, "seconds"),
    ("decision.gap_samples", Rule::Number, "count"),
    ("decision.warn_pct_cfg", Rule::Number, "fraction"),
    // outcome
    ("outcome.kind", Rule::Enum(OUTCOME_KINDS), "outcome kind"),
    ("outcome.count", Rule::Number, "count"),
    // session_end
    ("session_id", Rule::Hash, "same hash as `session.session_id`"),
    ("ended_at", Rule::Format(Format::Timestamp), "timestamp"),
    ("notes", Rule::Hash, "free text"),
];

/// The rule for a field path (see the module doc for the path syntax); `None` when the
/// allow-list does not name it (such leaves are hashed).
pub fn rule_for(path: &str) -> Option<Rule> {
    RULES.iter().find(|(p, _, _)| *p == path).map(|(_, rule, _)| *rule)
}

/// `{"sha256": <lower-case hex of the bytes>, "len": <byte length>}`.
pub fn content_hash(text: &str) -> Json {
    json!({"sha256": sha256_hex(text), "len": text.len()})
}

/// Lower-case hex SHA-256 of the UTF-8 bytes of `text` (also the upload name of an unknown
/// key).
pub fn sha256_hex(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let d = digest::digest(&digest::SHA256, text.as_bytes());
    let mut out = String::with_capacity(2 * d.as_ref().len());
    for b in d.as_ref() {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0xf)]));
    }
    out
}

/// What an enum value the allow-list does not list is replaced by.
pub const OTHER: &str = "other";

fn hash_json(v: &Json) -> Json {
    match v {
        Json::String(s) => content_hash(s),
        other => content_hash(&other.to_string()),
    }
}

/// The full-tier upload form of an event (see [`RULES`]).
pub fn redact_event(event: &Event) -> Json {
    if let Event::Unknown(unknown) = event {
        // No rule speaks for what an unknown event type carries: nothing of it in clear.
        return hash_json(&Json::Object(unknown.fields.clone()));
    }
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
        // A key is sent as is only when the allow-list names it (or a field inside it), or
        // when it is a key of a listed map; any other key goes out as the hash of its name.
        let known = rule_for(&p).is_some() || has_rules_below(&p);
        if let Some(v) = redact_at(&p, value) {
            out.insert(if known { key.clone() } else { sha256_hex(key) }, v);
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
        (Some(Rule::Number), v @ (Json::Number(_) | Json::Bool(_) | Json::Null)) => Some(v.clone()),
        (Some(Rule::Number), v) => Some(hash_json(v)),
        (Some(Rule::Enum(values)), Json::String(s)) if values.contains(&s.as_str()) => {
            Some(value.clone())
        }
        (Some(Rule::Enum(_)), Json::Null) => Some(Json::Null),
        (Some(Rule::Enum(_)), _) => Some(Json::String(OTHER.to_owned())),
        (Some(Rule::Format(f)), Json::String(s)) if f.matches(s) => Some(value.clone()),
        (Some(Rule::Format(_)), Json::Null) => Some(Json::Null),
        (Some(Rule::Format(_)), v) => Some(hash_json(v)),
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
