//! The Python tracker's formatting for its output lines (reference §7.7), byte for byte:
//! `fmtnum` (an integer when within 1e-6 of one, else fixed decimals), `pct` (a percentage,
//! `n/a` for what is not a number), fixed decimals, and Python's `repr` of a list of strings. Rust's `{:.N}` rounds the exact binary value half to even, as
//! Python's `format` does, so `0.125` is `0.12` in both.

use serde_json::Value;

use crate::py;

/// `fmtnum(v, decimals)`: the integer text of `round(v)` when `|v − round(v)| ≤ 1e-6`, else `v`
/// with `decimals` fixed decimals. NaN and infinities (which Python cannot round) are `n/a`.
pub fn fmtnum(v: f64, decimals: usize) -> String {
    if !v.is_finite() {
        return "n/a".to_owned();
    }
    let r = v.round_ties_even();
    if (v - r).abs() <= 1e-6 {
        // `+ 0.0`: Python's int(round(-0.0)) is 0, never "-0".
        format!("{:.0}", r + 0.0)
    } else {
        fixed(v, decimals)
    }
}

/// `fmtnum` of a JSON value as `float(x or 0)` takes it (what is not a number is 0).
pub fn fmtnum_json(v: Option<&Value>, decimals: usize) -> String {
    fmtnum(v.and_then(py::float).unwrap_or(0.0), decimals)
}

/// `{v:.{decimals}f}`, with `-0.00` as Python prints it.
pub fn fixed(v: f64, decimals: usize) -> String {
    format!("{v:.decimals$}")
}

/// `pct(v, digits)`: `n/a` for a missing or non-finite value; `{int}%` when `v` is within
/// `10^-(digits+1)` of `round(v)` (or relatively within 1e-9); else `v` with `digits` fraction
/// digits and `%`. 50.0 → `50%`, 12.5 → `12.5%`, 9.2 → `9.2%`.
pub fn pct(v: Option<f64>, digits: usize) -> String {
    let Some(v) = v.filter(|v| v.is_finite()) else { return "n/a".to_owned() };
    let r = v.round_ties_even() + 0.0;
    let tol = 10f64.powi(-(digits as i32 + 1));
    let diff = (v - r).abs();
    if diff <= tol || diff <= 1e-9 * v.abs().max(r.abs()) {
        format!("{r:.0}%")
    } else {
        format!("{}%", fixed(v, digits))
    }
}

/// [`pct`] of a JSON value as Python's `pct` takes it: what is not a number (null, text) is
/// `n/a`.
pub fn pct_json(v: Option<&Value>, digits: usize) -> String {
    pct(v.and_then(py::float), digits)
}

/// Python's `repr` of a list of strings: `[]`, `['insufficient-data']`, `['a', 'b']`.
pub fn py_list_repr<S: AsRef<str>>(items: &[S]) -> String {
    let parts: Vec<String> = items.iter().map(|s| py_str_repr(s.as_ref())).collect();
    format!("[{}]", parts.join(", "))
}

/// Python's `repr` of a string: single quotes unless the text holds `'` and no `"`;
/// backslashes, the chosen quote and control characters escaped.
pub fn py_str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') { '"' } else { '\'' };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}
