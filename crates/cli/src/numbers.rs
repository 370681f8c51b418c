//! Numbers as the tables, the HTML report and the terminal view print them: dollars, shares
//! and large counts.

/// `$1.23`.
pub fn usd(x: f64) -> String {
    format!("${x:.2}")
}

/// A fraction as a whole percentage: 0.25 → `25%`.
pub fn percent(x: f64) -> String {
    format!("{:.0}%", 100.0 * x)
}

/// A share, `-` when there is none.
pub fn percent_or_dash(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_owned(), percent)
}

/// 1234 → `1.2k`, 5600000 → `5.6M`, below 1000 as a whole number.
pub fn compact(v: f64) -> String {
    let a = v.abs();
    let (d, s) = if a >= 1e9 {
        (1e9, "B")
    } else if a >= 1e6 {
        (1e6, "M")
    } else if a >= 1e3 {
        (1e3, "k")
    } else {
        return format!("{v:.0}");
    };
    format!("{:.1}{s}", v / d)
}
