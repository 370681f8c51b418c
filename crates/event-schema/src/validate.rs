//! Validation of untrusted JSON against the generated schemas.
//!
//! Validators are compiled once per schema and cached for the life of the process.
//! [`validate`] reports every violation (JSON pointer plus message); [`unknown_fields`]
//! reports keys the Rust types do not model (CCP added a field), which plain validation
//! tolerates by design.

use std::fmt;
use std::sync::OnceLock;

use jsonschema::error::ValidationErrorKind;
use serde_json::Value as Json;

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
        jsonschema::validator_for(&schema)
            .map_err(|e| format!("internal error: schema {} does not compile: {e}", kind.name()))
    })
}

/// Every violation of `kind`'s schema in `value`, in document order. Empty means valid.
/// Keys the types do not model are tolerated here (see [`unknown_fields`]).
pub fn validate(kind: SchemaKind, value: &Json) -> Vec<Violation> {
    match compiled(&TOLERANT, kind, false) {
        Ok(validator) => validator
            .iter_errors(value)
            .map(|e| Violation { pointer: e.instance_path().to_string(), message: e.to_string() })
            .collect(),
        Err(e) => vec![Violation { pointer: String::new(), message: e.clone() }],
    }
}

/// Whether `value` is valid against `kind`'s schema.
pub fn is_valid(kind: SchemaKind, value: &Json) -> bool {
    match compiled(&TOLERANT, kind, false) {
        Ok(validator) => validator.is_valid(value),
        Err(_) => false,
    }
}

/// Keys in `value` that `kind`'s types do not model: one violation per unknown key, its
/// pointer naming the key (e.g. `/models/m/new_field`).
pub fn unknown_fields(kind: SchemaKind, value: &Json) -> Vec<Violation> {
    let Ok(validator) = compiled(&STRICT, kind, true) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for error in validator.iter_errors(value) {
        if let ValidationErrorKind::AdditionalProperties { unexpected } = error.kind() {
            let base = error.instance_path().to_string();
            for key in unexpected {
                found.push(Violation {
                    pointer: format!("{base}/{}", escape_pointer(key)),
                    message: format!("field {key:?} is not modelled by the {} types", kind.name()),
                });
            }
        }
    }
    found
}

fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Turn a tolerant schema into a strict one: every object schema that lists `properties` and
/// accepts any other key (`additionalProperties` absent or `true`, as `extra` maps generate)
/// stops accepting them. Maps (`additionalProperties` with a sub-schema) are left alone.
fn forbid_unmodelled_keys(schema: &mut Json) {
    match schema {
        Json::Object(map) => {
            if map.contains_key("properties") {
                let open = match map.get("additionalProperties") {
                    None | Some(Json::Bool(true)) => true,
                    Some(Json::Object(o)) => o.is_empty(),
                    _ => false,
                };
                if open {
                    map.insert("additionalProperties".to_owned(), Json::Bool(false));
                }
            }
            map.values_mut().for_each(forbid_unmodelled_keys);
        }
        Json::Array(items) => items.iter_mut().for_each(forbid_unmodelled_keys),
        _ => {}
    }
}
