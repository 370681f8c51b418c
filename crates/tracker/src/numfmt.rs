//! The Python tracker's number formatting for its output lines (reference §7.7): `fmtnum`,
//! `pct`, and Python's `repr` of a list of strings.

/// `fmtnum(v, decimals)`: the integer text of `round(v)` when `v` is within 1e-6 of it, else
/// `v` with `decimals` fraction digits.
pub fn fmtnum(v: f64, decimals: usize) -> String {
    let r = v.round_ties_even() + 0.0; // -0.0 prints as 0, like Python's int
    if v.is_finite() && (v - r).abs() <= 1e-6 {
        format!("{r:.0}")
    } else {
        format!("{v:.decimals$}")
    }
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
        format!("{v:.digits$}%")
    }
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
