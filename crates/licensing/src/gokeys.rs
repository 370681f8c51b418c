//! Keys that CCP's Go parser would read differently: Go's `encoding/json` matches an object
//! key to a struct field **case-insensitively** (Unicode simple folding, so `FEATURES`,
//! `Features` and `featureſ` all fill `features`) and the last matching key wins. A document
//! with `"features":[…],"FEATURES":[]` therefore grants nothing to CCP while serde reads the
//! first key. To accept exactly what CCP accepts, the objects CCP decodes into structs are
//! refused when two of their keys are equal ignoring case (exact duplicates included), or when
//! a key matches a known field only ignoring case.
//!
//! Checked objects: the license pack envelope and its `license` claims (and the claims of a
//! detached `license.json`), `PUBKEYS.json` and each of its `keys`, and a policy with each of
//! its `routing` rules and `providers` values (Go map keys, such as provider names, are matched
//! exactly by Go and are not folded).

use std::collections::HashMap;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// The fields of CCP's `license.Claims`.
pub(crate) const CLAIMS_FIELDS: &[&str] =
    &["schema", "sub", "plan", "features", "exp", "device", "kid", "iat", "nonce"];
/// The fields of a pack.
pub(crate) const PACK_FIELDS: &[&str] = &["license", "signature"];
/// The fields of `PUBKEYS.json`.
pub(crate) const BUNDLE_FIELDS: &[&str] = &["version", "keys"];
/// The fields of one bundle key.
pub(crate) const BUNDLE_KEY_FIELDS: &[&str] = &["id", "type", "base64"];
/// The fields of a policy.
pub(crate) const POLICY_FIELDS: &[&str] = &["version", "expiresAt", "routing", "providers"];
/// The fields of a routing rule.
pub(crate) const RULE_FIELDS: &[&str] = &["pattern", "lane"];
/// The fields of a provider.
pub(crate) const PROVIDER_FIELDS: &[&str] =
    &["baseURL", "headerMode", "passthrough", "fallbackEnv"];

/// One struct level to check: the path from the root (`"*"` = every element of an array or
/// every value of an object) and the struct's field names.
pub(crate) type Level<'a> = (&'a [&'a str], &'a [&'a str]);

/// The shape of a JSON document with every object key kept, duplicates and order included.
enum Shape {
    Leaf,
    Array(Vec<Shape>),
    Object(Entries),
}

/// An object's entries, in order, duplicates kept.
type Entries = Vec<(String, Shape)>;

impl<'de> Deserialize<'de> for Shape {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Shape, D::Error> {
        d.deserialize_any(ShapeVisitor)
    }
}

struct ShapeVisitor;

impl<'de> Visitor<'de> for ShapeVisitor {
    type Value = Shape;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Shape, E> {
        Ok(Shape::Leaf)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Shape, E> {
        Ok(Shape::Leaf)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Shape, E> {
        Ok(Shape::Leaf)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Shape, E> {
        Ok(Shape::Leaf)
    }
    fn visit_str<E>(self, _: &str) -> Result<Shape, E> {
        Ok(Shape::Leaf)
    }
    fn visit_unit<E>(self) -> Result<Shape, E> {
        Ok(Shape::Leaf)
    }
    fn visit_none<E>(self) -> Result<Shape, E> {
        Ok(Shape::Leaf)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Shape, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Shape::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Shape, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry::<String, Shape>()? {
            entries.push(entry);
        }
        Ok(Shape::Object(entries))
    }
}

/// Go's key folding (`unicode.ToUpper(unicode.ToLower(r))` per rune, simple mappings).
pub(crate) fn go_fold(key: &str) -> String {
    key.chars()
        .map(|c| {
            let lower = c.to_lowercase().next().unwrap_or(c);
            let mut upper = lower.to_uppercase();
            match (upper.next(), upper.next()) {
                (Some(u), None) => u,
                _ => lower,
            }
        })
        .collect()
}

/// A problem with the keys of `bytes` at the given struct levels, as a one-line description
/// (key names are shortened; values are never quoted). `None` when the keys are fine or the
/// bytes are not JSON (the caller's parser reports that).
pub(crate) fn key_problem(bytes: &[u8], levels: &[Level<'_>]) -> Option<String> {
    let shape: Shape = serde_json::from_slice(bytes).ok()?;
    levels.iter().find_map(|(path, fields)| {
        let mut found = None;
        visit(&shape, path, &mut |entries| {
            if found.is_none() {
                found = object_problem(entries, fields);
            }
        });
        found
    })
}

fn visit(shape: &Shape, path: &[&str], f: &mut dyn FnMut(&Entries)) {
    let Some((step, rest)) = path.split_first() else {
        if let Shape::Object(entries) = shape {
            f(entries);
        }
        return;
    };
    match (shape, *step) {
        (Shape::Array(items), "*") => items.iter().for_each(|i| visit(i, rest, f)),
        (Shape::Object(entries), "*") => entries.iter().for_each(|(_, v)| visit(v, rest, f)),
        (Shape::Object(entries), name) => {
            entries.iter().filter(|(k, _)| k == name).for_each(|(_, v)| visit(v, rest, f))
        }
        _ => {}
    }
}

fn object_problem(entries: &Entries, fields: &[&str]) -> Option<String> {
    let mut seen: HashMap<String, &str> = HashMap::with_capacity(entries.len());
    for (key, _) in entries {
        let folded = go_fold(key);
        if let Some(first) = seen.get(&folded) {
            return Some(if *first == key.as_str() {
                format!("key `{}` appears twice", short(key))
            } else {
                format!(
                    "keys `{}` and `{}` differ only in case, and CCP's Go parser reads them as one",
                    short(first),
                    short(key)
                )
            });
        }
        if let Some(field) = fields.iter().find(|f| go_fold(f) == folded && **f != key.as_str()) {
            return Some(format!(
                "key `{}` is read as `{field}` by CCP's Go parser but not here; spell it `{field}`",
                short(key)
            ));
        }
        seen.insert(folded, key.as_str());
    }
    None
}

fn short(key: &str) -> String {
    const MAX: usize = 40;
    if key.chars().count() <= MAX {
        return key.escape_debug().to_string();
    }
    let head: String = key.chars().take(MAX).collect();
    format!("{}…", head.escape_debug())
}
