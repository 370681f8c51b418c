//! The Python tracker's number formatting (reference §7.7), byte for byte: `fmtnum` (an integer
//! when within 1e-6 of one, else fixed decimals), `pct` (a percentage, `n/a` for what is not a
//! number) and fixed decimals. Rust's `{:.N}` rounds the exact binary value half to even, as
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

/// `pct(v, digits)`: `n/a` when `v` is not a number (null, text, NaN, ±inf); `{int}%` when
/// within `10^−(digits+1)` (or a relative 1e-9) of an integer; else `{v:.{digits}f}%`.
pub fn pct(v: Option<&Value>, digits: usize) -> String {
    match v.and_then(py::float) {
        Some(x) => pct_f(x, digits),
        None => "n/a".to_owned(),
    }
}

/// [`pct`] of a number.
pub fn pct_f(x: f64, digits: usize) -> String {
    if !x.is_finite() {
        return "n/a".to_owned();
    }
    let r = x.round_ties_even();
    let tol = 10f64.powi(-(digits as i32 + 1));
    if (x - r).abs() <= tol || (x - r).abs() <= 1e-9 * x.abs() {
        format!("{:.0}%", r + 0.0)
    } else {
        format!("{}%", fixed(x, digits))
    }
}
