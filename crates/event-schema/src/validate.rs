//! Validation of untrusted JSON against the generated schemas.
//!
//! Validators are compiled once per schema and cached for the life of the process.
//! [`validate`] reports every violation (JSON pointer plus message); [`unknown_fields`]
//! reports keys the Rust types do not model (CCP added a field), which plain validation
//! tolerates by design; [`parse_json`] turns untrusted bytes into a document without lossy
//! decoding.
//!
//! The schemas are checked as the Rust types read them, so "valid" here means "the types (and
//! the rollup's views) accept it": `date-time` strings must parse as a [`Timestamp`], and a
//! number under an integer `format` (`uint64`, `int64`, `uint8`, …) must be written as an
//! integer that fits the type (`1.0`, `1e2` and `18446744073709551616` are refused, as serde
//! refuses them).

use serde::Deserialize as _;
use std::fmt;
use std::sync::OnceLock;

use jsonschema::ValidationError;
use jsonschema::error::ValidationErrorKind;
use serde_json::Value as Json;

use crate::Timestamp;
use crate::catalog::SchemaKind;

/// One way a JSON document breaks a schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    /// JSON pointer to the offending value (`""` for the document itself).
    pub pointer: String,
    /// What is wrong, in words.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pointer = if self.pointer.is_empty() { "/" } else { &self.pointer };
        write!(f, "{pointer}: {}", self.message)
    }
}

const KINDS: usize = SchemaKind::ALL.len();

static TOLERANT: [OnceLock<Result<jsonschema::Validator, String>>; KINDS] =
    [const { OnceLock::new() }; KINDS];
static STRICT: [OnceLock<Result<jsonschema::Validator, String>>; KINDS] =
    [const { OnceLock::new() }; KINDS];

fn index(kind: SchemaKind) -> usize {
    SchemaKind::ALL.iter().position(|k| *k == kind).unwrap_or(0)
}

fn compiled(
    cache: &'static [OnceLock<Result<jsonschema::Validator, String>>; KINDS],
    kind: SchemaKind,
    strict: bool,
) -> &'static Result<jsonschema::Validator, String> {
    cache[index(kind)].get_or_init(|| {
        let mut schema = kind.schema();
        if strict {
            forbid_unmodelled_keys(&mut schema);
        }
        mark_integer_formats(&mut schema);
        jsonschema::options()
            .should_validate_formats(true)
            .with_format("date-time", |s: &str| s.parse::<Timestamp>().is_ok())
            .with_keyword(INTEGER_KEYWORD, |_, value: &Json, _| {
                let format = value.as_str().and_then(IntegerFormat::parse);
                match format {
                    Some(format) => {
                        Ok(Box::new(format) as Box<dyn for<'i> jsonschema::Keyword<'i>>)
                    }
                    None => Err(ValidationError::custom("unknown integer format")),
                }
            })
            .build(&schema)
            .map_err(|e| format!("internal error: schema {} does not compile: {e}", kind.name()))
    })
}

/// The keyword [`mark_integer_formats`] adds next to an integer `format`.
const INTEGER_KEYWORD: &str = "x-agentos-integer";

/// The integer types the Rust types read, by their schemars `format`.
#[derive(Clone, Copy, Debug)]
enum IntegerFormat {
    Unsigned(u64),
    Signed(i64, i64),
}

impl IntegerFormat {
    fn parse(format: &str) -> Option<IntegerFormat> {
        Some(match format {
            "uint8" => IntegerFormat::Unsigned(u8::MAX.into()),
            "uint16" => IntegerFormat::Unsigned(u16::MAX.into()),
            "uint32" | "uint" => IntegerFormat::Unsigned(u32::MAX.into()),
            "uint64" => IntegerFormat::Unsigned(u64::MAX),
            "int8" => IntegerFormat::Signed(i8::MIN.into(), i8::MAX.into()),
            "int16" => IntegerFormat::Signed(i16::MIN.into(), i16::MAX.into()),
            "int32" | "int" => IntegerFormat::Signed(i32::MIN.into(), i32::MAX.into()),
            "int64" => IntegerFormat::Signed(i64::MIN, i64::MAX),
            _ => return None,
        })
    }

    /// Whether a number (anything else is left to `type`) is an integer literal that fits.
    /// What `type` (a fraction) or `minimum` (a negative unsigned) already reports passes, so
    /// each problem is reported once.
    fn accepts(self, value: &Json) -> bool {
        let Json::Number(n) = value else { return true };
        let fraction_or_negative =
            |unsigned: bool| n.as_f64().is_some_and(|f| f.fract() != 0.0 || (unsigned && f < 0.0));
        match self {
            IntegerFormat::Unsigned(max) => match (n.as_u64(), n.as_i64()) {
                (Some(v), _) => v <= max,
                (None, Some(_)) => true,
                (None, None) => fraction_or_negative(true),
            },
            IntegerFormat::Signed(min, max) => match n.as_i64() {
                Some(v) => v >= min && v <= max,
                None => n.as_u64().is_none() && fraction_or_negative(false),
            },
        }
    }
}

impl<'i> jsonschema::Keyword<'i> for IntegerFormat {
    fn validate(&self, instance: &'i Json) -> Result<(), ValidationError<'i>> {
        if self.accepts(instance) {
            return Ok(());
        }
        let what = match self {
            IntegerFormat::Unsigned(max) => format!("an integer from 0 to {max}"),
            IntegerFormat::Signed(min, max) => format!("an integer from {min} to {max}"),
        };
        Err(ValidationError::custom(format!(
            "{instance} is not {what} written without fraction or exponent"
        )))
    }

    fn is_valid(&self, instance: &'i Json) -> bool {
        self.accepts(instance)
    }
}

/// Add [`INTEGER_KEYWORD`] next to every integer `format`, so a number is checked the way
/// serde reads it (JSON Schema's `integer` also accepts `1.0` and integers beyond 64 bits,
/// which arrive as floats).
fn mark_integer_formats(schema: &mut Json) {
    match schema {
        Json::Object(map) => {
            let format = map.get("format").and_then(Json::as_str).map(str::to_owned);
            if let Some(f) = format.filter(|f| IntegerFormat::parse(f).is_some()) {
                map.insert(INTEGER_KEYWORD.to_owned(), Json::String(f));
            }
            map.values_mut().for_each(mark_integer_formats);
        }
        Json::Array(items) => items.iter_mut().for_each(mark_integer_formats),
        _ => {}
    }
}

/// Untrusted bytes (one JSONL line or one JSON document) as a JSON value. Invalid UTF-8 is
/// refused, never decoded lossily: a string with replacement characters is not what the
/// writer wrote, and the rollup refuses such lines too.
pub fn parse_json(bytes: &[u8]) -> Result<Json, Violation> {
    let text = std::str::from_utf8(bytes).map_err(|e| Violation {
        pointer: String::new(),
        message: format!("invalid utf-8: {e}"),
    })?;
    serde_json::from_str(text)
        .map_err(|e| Violation { pointer: String::new(), message: format!("not JSON: {e}") })
}

/// Every violation of `kind`'s schema in `value`, in document order. Empty means valid.
/// Keys the types do not model are tolerated here (see [`unknown_fields`]).
///
/// When a value fails an `anyOf`/`oneOf` (an optional object, a tagged union such as
/// `v1-event`), the violations of the branch the value was meant for are reported, so the
/// pointer names the offending field rather than the union.
pub fn validate(kind: SchemaKind, value: &Json) -> Vec<Violation> {
    match compiled(&TOLERANT, kind, false) {
        // The fast answer for the common case; errors are only collected for invalid values.
        Ok(validator) if validator.is_valid(value) => rule_violations(kind, value),
        Ok(validator) => {
            let mut found = Vec::new();
            for error in validator.iter_errors(value) {
                explain(&error, &mut found);
            }
            found
        }
        Err(e) => vec![Violation { pointer: String::new(), message: e.clone() }],
    }
}

/// Push the leaf violations behind `error`: for a failed `anyOf`/`oneOf` the errors of the
/// branch that applies (see [`applicable_branch`]), else the error itself.
fn explain(error: &ValidationError<'_>, out: &mut Vec<Violation>) {
    if let Some(branch) = branch_context(error).and_then(|ctx| applicable_branch(error, ctx)) {
        for inner in branch {
            explain(inner, out);
        }
        return;
    }
    out.push(Violation { pointer: error.instance_path().to_string(), message: error.to_string() });
}

fn branch_context<'e>(
    error: &'e ValidationError<'_>,
) -> Option<&'e [Vec<ValidationError<'static>>]> {
    match error.kind() {
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            Some(context)
        }
        _ => None,
    }
}

/// The branch of a failed union the value was meant for: branches whose type does not match
/// the value at all (a `type` error at the union's own location) or whose discriminator does
/// not match (a `const` error on a direct child, e.g. `/type`) are ruled out; of the rest,
/// the one with the fewest errors. `None` when every branch is ruled out.
fn applicable_branch<'e>(
    union: &ValidationError<'_>,
    context: &'e [Vec<ValidationError<'static>>],
) -> Option<&'e [ValidationError<'static>]> {
    let here = union.instance_path().to_string();
    let rules_out = |e: &ValidationError<'_>| {
        let at = e.instance_path().to_string();
        match e.kind() {
            ValidationErrorKind::Type { .. } => at == here,
            ValidationErrorKind::Constant { .. } | ValidationErrorKind::Not { .. } => {
                at.strip_prefix(here.as_str()).is_some_and(|rest| rest.matches('/').count() == 1)
            }
            _ => false,
        }
    };
    context
        .iter()
        .filter(|branch| !branch.is_empty() && !branch.iter().any(rules_out))
        .min_by_key(|branch| branch.len())
        .map(Vec::as_slice)
}

/// Whether `value` is valid against `kind`'s schema.
pub fn is_valid(kind: SchemaKind, value: &Json) -> bool {
    match compiled(&TOLERANT, kind, false) {
        Ok(validator) => validator.is_valid(value) && rule_violations(kind, value).is_empty(),
        Err(_) => false,
    }
}

/// The part of the v1 limits rule JSON Schema cannot express (the capacity bound that depends
/// on the provider, the attribution sum), checked on a schema-valid `v1-event` turn, so a line
/// validates exactly when the recorder would write it and the rollup count it.
fn rule_violations(kind: SchemaKind, value: &Json) -> Vec<Violation> {
    if kind != SchemaKind::V1Event || value.get("type").and_then(Json::as_str) != Some("turn") {
        return Vec::new();
    }
    let Ok(crate::v1::Event::Turn(turn)) = crate::v1::Event::deserialize(value) else {
        return Vec::new();
    };
    let provider = crate::provider::provider_of_turn(
        &turn.turn.model,
        turn.cost.as_ref().map(|c| c.provider.as_str()),
    );
    match crate::v1::limits::check_turn(&turn, provider) {
        Ok(()) => Vec::new(),
        Err(v) => vec![Violation { pointer: v.field.pointer(), message: v.to_string() }],
    }
}

/// Keys in `value` that `kind`'s types do not model: one violation per unknown key, its
/// pointer naming the key (e.g. `/models/m/new_field`). Inside unions (optional objects, the
/// tagged `v1-event`) only the branch the value is meant for is consulted, so a union's tag
/// (`type`) is never reported.
pub fn unknown_fields(kind: SchemaKind, value: &Json) -> Vec<Violation> {
    let Ok(validator) = compiled(&STRICT, kind, true) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for error in validator.iter_errors(value) {
        collect_unknown(kind, &error, &mut found);
    }
    found
}

fn collect_unknown(kind: SchemaKind, error: &ValidationError<'_>, out: &mut Vec<Violation>) {
    if let ValidationErrorKind::AdditionalProperties { unexpected } = error.kind() {
        let base = error.instance_path().to_string();
        for key in unexpected {
            out.push(Violation {
                pointer: format!("{base}/{}", escape_pointer(key)),
                message: format!("field {key:?} is not modelled by the {} types", kind.name()),
            });
        }
    } else if let Some(branch) = branch_context(error).and_then(|ctx| applicable_branch(error, ctx))
    {
        for inner in branch {
            collect_unknown(kind, inner, out);
        }
    }
}

fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Turn a tolerant schema into a strict one: every object schema that lists `properties` and
/// accepts any other key (`additionalProperties` absent or `true`, as `extra` maps generate)
/// stops accepting them. Maps (`additionalProperties` with a sub-schema) are left alone.
///
/// A branch of an internally tagged enum (`{"$ref": "#/$defs/TurnEvent", "properties":
/// {"type": …}}`) is first merged with the definition it refers to, so the tag and the
/// variant's fields are known together.
fn forbid_unmodelled_keys(schema: &mut Json) {
    let defs = schema.get("$defs").cloned().unwrap_or(Json::Null);
    forbid_in(schema, &defs);
}

fn forbid_in(schema: &mut Json, defs: &Json) {
    match schema {
        Json::Object(map) => {
            if map.contains_key("properties") {
                let target = map
                    .get("$ref")
                    .and_then(Json::as_str)
                    .and_then(|r| r.strip_prefix("#/$defs/"))
                    .and_then(|name| defs.get(name))
                    .cloned();
                if let Some(Json::Object(def)) = target {
                    map.remove("$ref");
                    merge_object_schema(map, &def);
                }
                let open = match map.get("additionalProperties") {
                    None | Some(Json::Bool(true)) => true,
                    Some(Json::Object(o)) => o.is_empty(),
                    _ => false,
                };
                if open {
                    map.insert("additionalProperties".to_owned(), Json::Bool(false));
                }
            }
            map.values_mut().for_each(|v| forbid_in(v, defs));
        }
        Json::Array(items) => items.iter_mut().for_each(|v| forbid_in(v, defs)),
        _ => {}
    }
}

/// Add `def`'s `properties` and `required` to `map` (keeping `map`'s own on conflict).
fn merge_object_schema(
    map: &mut serde_json::Map<String, Json>,
    def: &serde_json::Map<String, Json>,
) {
    if let (Some(Json::Object(props)), Some(Json::Object(extra))) =
        (map.get_mut("properties"), def.get("properties"))
    {
        for (k, v) in extra {
            props.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    if let Some(Json::Array(def_required)) = def.get("required") {
        let required = map.entry("required").or_insert_with(|| Json::Array(Vec::new()));
        if let Json::Array(list) = required {
            for r in def_required {
                if !list.contains(r) {
                    list.push(r.clone());
                }
            }
        }
    }
    if let Some(add) = def.get("additionalProperties") {
        map.entry("additionalProperties").or_insert_with(|| add.clone());
    }
}

/// The 1-based line of `text` (a JSON document) on which the value at `pointer` starts: for
/// pointing at a violation in a multi-line file. `""` is the document itself. `None` when the
/// pointer does not resolve or `text` is not well-formed along the way.
///
/// ```
/// let text = "{\n  \"a\": {\n    \"b\": [1,\n      2]\n  }\n}";
/// assert_eq!(agentos_event_schema::validate::line_of_pointer(text, "/a/b/1"), Some(4));
/// ```
pub fn line_of_pointer(text: &str, pointer: &str) -> Option<u64> {
    let bytes = text.as_bytes();
    let mut pos = skip_ws(bytes, 0);
    if !pointer.is_empty() {
        for segment in pointer.strip_prefix('/')?.split('/') {
            let segment = segment.replace("~1", "/").replace("~0", "~");
            pos = match bytes.get(pos)? {
                b'{' => find_member(text, pos, &segment)?,
                b'[' => find_element(bytes, pos, segment.parse().ok()?)?,
                _ => return None,
            };
        }
    }
    let before = bytes.get(..pos)?;
    if pos >= bytes.len() {
        return None;
    }
    Some(1 + before.iter().filter(|&&b| b == b'\n').count() as u64)
}

fn skip_ws(bytes: &[u8], mut pos: usize) -> usize {
    while bytes.get(pos).is_some_and(|b| b.is_ascii_whitespace()) {
        pos += 1;
    }
    pos
}

/// `pos` is at `"`: the position just past the closing quote.
fn skip_string(bytes: &[u8], pos: usize) -> Option<usize> {
    let mut i = pos + 1;
    loop {
        match bytes.get(i)? {
            b'\\' => i += 2,
            b'"' => return Some(i + 1),
            _ => i += 1,
        }
    }
}

/// `pos` is at the start of a value: the position just past it (iterative: no recursion on
/// deeply nested input).
fn skip_value(bytes: &[u8], pos: usize) -> Option<usize> {
    match bytes.get(pos)? {
        b'"' => skip_string(bytes, pos),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut i = pos;
            loop {
                match bytes.get(i)? {
                    b'"' => {
                        i = skip_string(bytes, i)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.checked_sub(1)?;
                        if depth == 0 {
                            return Some(i + 1);
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
        }
        _ => {
            let mut i = pos;
            while bytes
                .get(i)
                .is_some_and(|b| !matches!(b, b',' | b'}' | b']') && !b.is_ascii_whitespace())
            {
                i += 1;
            }
            (i > pos).then_some(i)
        }
    }
}

/// `pos` is at `{`: the position of the value of member `key`.
fn find_member(text: &str, pos: usize, key: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = skip_ws(bytes, pos + 1);
    loop {
        if *bytes.get(i)? != b'"' {
            return None;
        }
        let end = skip_string(bytes, i)?;
        let raw = text.get(i..end)?;
        let name: std::borrow::Cow<'_, str> = if raw.contains('\\') {
            serde_json::from_str::<String>(raw).ok()?.into()
        } else {
            raw.get(1..raw.len() - 1)?.into()
        };
        i = skip_ws(bytes, end);
        if *bytes.get(i)? != b':' {
            return None;
        }
        i = skip_ws(bytes, i + 1);
        if name == key {
            return Some(i);
        }
        i = skip_ws(bytes, skip_value(bytes, i)?);
        match bytes.get(i)? {
            b',' => i = skip_ws(bytes, i + 1),
            _ => return None,
        }
    }
}

/// `pos` is at `[`: the position of element `index`.
fn find_element(bytes: &[u8], pos: usize, index: usize) -> Option<usize> {
    let mut i = skip_ws(bytes, pos + 1);
    if *bytes.get(i)? == b']' {
        return None;
    }
    for _ in 0..index {
        i = skip_ws(bytes, skip_value(bytes, i)?);
        match bytes.get(i)? {
            b',' => i = skip_ws(bytes, i + 1),
            _ => return None,
        }
    }
    Some(i)
}
