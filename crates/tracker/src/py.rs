//! Python's conversions as the tracker applies them to JSON values: `float(x)`, `int(float(x))`,
//! truthiness (`a or b`) and `str(x)`, without Python's exceptions (a failed conversion is `None`).

use serde_json::Value;

/// `float(x)`: numbers, booleans (1.0/0.0) and numeric strings (surrounding whitespace allowed,
/// `inf`/`nan` included); anything else is `None`.
pub(crate) fn float(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        Value::String(s) => float_str(s),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// `float(s)` on text: trimmed, then Rust's float syntax (which, like Python's, takes signs,
/// exponents, `inf`, `infinity` and `nan` in any case).
pub(crate) fn float_str(s: &str) -> Option<f64> {
    let t = s.trim();
    if t.is_empty() || t.contains('_') {
        return None;
    }
    t.parse::<f64>().ok()
}

/// `int(float(x))`: truncated toward zero; `None` where Python raises (not convertible, NaN,
/// infinite) and where the value does not fit an `i64` (Python's integers are unbounded).
pub(crate) fn int(v: &Value) -> Option<i64> {
    if let Value::Number(n) = v
        && let Some(i) = n.as_i64()
    {
        return Some(i);
    }
    float(v).and_then(int_of_float)
}

/// `int(x)` of a float, when the result fits an `i64`.
pub(crate) fn int_of_float(f: f64) -> Option<i64> {
    let t = f.trunc();
    // 2^63 is exactly representable; every finite float below it in magnitude fits.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if (-LIMIT..LIMIT).contains(&t) { Some(t as i64) } else { None }
}

/// Python truthiness of a JSON value.
pub(crate) fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// `obj.get(a) or obj.get(b)`: the first key's value if truthy, else the second's (null when
/// missing).
pub(crate) fn get_or<'a>(obj: &'a serde_json::Map<String, Value>, a: &str, b: &str) -> &'a Value {
    match obj.get(a) {
        Some(v) if truthy(v) => v,
        _ => obj.get(b).unwrap_or(&Value::Null),
    }
}

/// `str(x)` for a JSON value: strings as they are, `None`/`True`/`False` as Python prints them,
/// numbers as JSON writes them, arrays and objects as JSON text.
pub(crate) fn str_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "None".to_owned(),
        Value::Bool(true) => "True".to_owned(),
        Value::Bool(false) => "False".to_owned(),
        other => other.to_string(),
    }
}

/// A string field that is `""` when missing or null, else `str(x)`.
pub(crate) fn string_or_empty(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(v) => str_of(v),
    }
}
