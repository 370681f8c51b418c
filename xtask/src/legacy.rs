//! The v1 schemas against the earlier Python AgentOS's own (`fixtures/agentos-py/schemas-v1`):
//! a line the Python tools wrote must stay valid, so no field may be removed, retyped,
//! narrowed or newly required, and no closed object opened to fewer keys.

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use agentos_event_schema::catalog::SchemaKind;
use serde_json::Value as Json;

use crate::schema_check::{Problem, Section, shown};

/// Compare every v1 schema that has a Python counterpart with it.
pub fn legacy_check_all(legacy_dir: &Path, root: &Path) -> Vec<Problem> {
    let mut problems = Vec::new();
    for kind in SchemaKind::ALL {
        let Some(name) = kind.legacy_name() else { continue };
        let path = legacy_dir.join(format!("{name}.json"));
        let label = format!("schemas/{} vs {}", kind.file(), shown(&path, root));
        let legacy = fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|t| serde_json::from_str::<Json>(&t).map_err(|e| e.to_string()));
        match legacy {
            Ok(legacy) => problems.extend(
                legacy_problems(&kind.schema(), &legacy)
                    .into_iter()
                    .map(|p| Problem { section: Section::Legacy, text: format!("{label}: {p}") }),
            ),
            Err(e) => problems.push(Problem {
                section: Section::Legacy,
                text: format!("{label}: cannot read the Python schema: {e}"),
            }),
        }
    }
    problems
}

/// Why `ours` (a generated schema, `$ref`s into its `$defs`) no longer accepts what `legacy`
/// (a Python v1 schema) describes, or would reject events the Python client wrote: each
/// legacy property must still exist; a legacy-required property must still be required and
/// nothing else newly required; our accepted types must include the legacy ones, and for
/// required properties the non-null types must not widen beyond them; our enums must contain
/// every legacy value. An open enum of ours (any string, e.g. `input_kind`: the v1 evolution
/// rule tolerates unknown values) lists no values and accepts every legacy one: compatible.
/// Empty when compatible.
pub fn legacy_problems(ours: &Json, legacy: &Json) -> Vec<String> {
    let defs = ours.get("$defs").cloned().unwrap_or(Json::Null);
    let root = resolve(ours, &defs);
    let empty = serde_json::Map::new();
    let our_props = root.get("properties").and_then(Json::as_object).unwrap_or(&empty);
    let legacy_props = legacy.get("properties").and_then(Json::as_object).unwrap_or(&empty);
    let our_required = string_set(root.get("required"));
    let legacy_required = string_set(legacy.get("required"));
    let mut problems = Vec::new();
    for (name, legacy_prop) in legacy_props {
        let Some(our_prop) = our_props.get(name) else {
            problems.push(format!("/properties/{name}: removed (the Python schema declares it)"));
            continue;
        };
        let required = legacy_required.contains(name);
        if required && !our_required.contains(name) {
            problems.push(format!(
                "/properties/{name}: no longer required (the Python schema requires it)"
            ));
        }
        if let (Some(legacy_types), Some(our_types)) =
            (types(legacy_prop, &defs), types(our_prop, &defs))
        {
            if let Some(missing) = legacy_types.iter().find(|t| !accepts(&our_types, t)) {
                problems.push(format!(
                    "/properties/{name}: type narrowed: the Python schema accepts {} but ours accepts {} (no {missing})",
                    list(&legacy_types),
                    list(&our_types)
                ));
            } else if required
                && let Some(wider) =
                    our_types.iter().find(|t| *t != "null" && !accepts(&legacy_types, t))
            {
                problems.push(format!(
                    "/properties/{name}: type widened for a required property: ours accepts {wider}, the Python schema only {}",
                    list(&legacy_types)
                ));
            }
        }
        if let Some(legacy_values) = enum_values(legacy_prop, &defs)
            && let Some(our_values) = enum_values(our_prop, &defs)
        {
            let missing: Vec<_> =
                legacy_values.iter().filter(|v| !our_values.contains(v)).cloned().collect();
            if !missing.is_empty() {
                problems.push(format!(
                    "/properties/{name}: enum lost Python values {}",
                    missing.join(", ")
                ));
            }
        }
    }
    for name in our_required.difference(&legacy_required) {
        problems.push(format!(
            "/properties/{name}: newly required (Python-written objects without it would be rejected)"
        ));
    }
    problems
}

fn string_set(value: Option<&Json>) -> BTreeSet<String> {
    value
        .and_then(Json::as_array)
        .map(|a| a.iter().filter_map(Json::as_str).map(str::to_owned).collect())
        .unwrap_or_default()
}

fn list(set: &BTreeSet<String>) -> String {
    format!("[{}]", set.iter().cloned().collect::<Vec<_>>().join(", "))
}

/// `integer` is accepted wherever `number` is.
fn accepts(set: &BTreeSet<String>, t: &str) -> bool {
    set.contains(t) || (t == "integer" && set.contains("number"))
}

/// Follow `$ref: #/$defs/X` (bounded, so a cycle cannot hang).
fn resolve<'a>(mut schema: &'a Json, defs: &'a Json) -> &'a Json {
    for _ in 0..32 {
        match schema.get("$ref").and_then(Json::as_str).and_then(|r| r.strip_prefix("#/$defs/")) {
            Some(name) if defs.get(name).is_some() => schema = &defs[name],
            _ => break,
        }
    }
    schema
}

/// The JSON types a schema accepts; `None` means any.
fn types(schema: &Json, defs: &Json) -> Option<BTreeSet<String>> {
    let schema = resolve(schema, defs);
    let branches = schema.get("anyOf").or_else(|| schema.get("oneOf")).and_then(Json::as_array);
    let own = match schema.get("type") {
        Some(Json::String(t)) => Some(BTreeSet::from([t.clone()])),
        Some(Json::Array(ts)) => {
            Some(ts.iter().filter_map(Json::as_str).map(str::to_owned).collect())
        }
        _ => None,
    };
    if let Some(branches) = branches {
        let mut all = BTreeSet::new();
        for b in branches {
            all.extend(types(b, defs)?);
        }
        return Some(match own {
            Some(own) => all.intersection(&own).cloned().collect(),
            None => all,
        });
    }
    own
}

/// The values an enum-like schema allows (`enum`, or `oneOf`/`anyOf` of `const`s); `None`
/// when it is not restricted to a list of values.
fn enum_values(schema: &Json, defs: &Json) -> Option<Vec<String>> {
    let schema = resolve(schema, defs);
    if let Some(values) = schema.get("enum").and_then(Json::as_array) {
        return Some(values.iter().map(Json::to_string).collect());
    }
    if let Some(c) = schema.get("const") {
        return Some(vec![c.to_string()]);
    }
    let branches = schema.get("anyOf").or_else(|| schema.get("oneOf")).and_then(Json::as_array)?;
    let mut all = Vec::new();
    for b in branches {
        if resolve(b, defs).get("type").and_then(Json::as_str) == Some("null") {
            continue;
        }
        all.extend(enum_values(b, defs)?);
    }
    Some(all)
}
