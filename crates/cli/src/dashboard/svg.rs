//! Charts as inline SVG, drawn here: stacked bars and lines over named x positions, with
//! gridlines, axis labels, a `<title>` on every data point (the browser's tooltip) and a data
//! table as the text alternative. No script, no font or style sheet from outside the page:
//! colours and text come from the page's CSS classes, so light and dark mode follow it.

use std::fmt::Write as _;

use super::escape;
use crate::numbers::{compact, percent, usd};

/// The view box (the SVG scales to the page's width).
const W: f64 = 720.0;
const H: f64 = 240.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 36.0;
/// Colours of the page's palette (`.s0`…`.s7`); more series share the last one.
pub const PALETTE: usize = 8;
/// Most x labels written under the axis.
const MAX_X_LABELS: usize = 8;

/// What the numbers are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// US dollars.
    Usd,
    /// Tokens (large counts, shown with k / M / B).
    Tokens,
    /// A count.
    Count,
    /// A plain ratio.
    Ratio,
    /// A fraction shown as a percentage.
    Percent,
}

impl Unit {
    /// `value` as the reader sees it.
    pub fn format(self, value: f64) -> String {
        match self {
            Unit::Usd if value.abs() >= 100.0 => format!("${value:.0}"),
            Unit::Usd => usd(value),
            Unit::Tokens => compact(value),
            Unit::Count if value.fract() == 0.0 => format!("{value:.0}"),
            Unit::Count => format!("{value:.1}"),
            Unit::Ratio => format!("{value:.3}"),
            Unit::Percent => percent(value),
        }
    }
}

/// How a chart draws its series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// One bar per x, the series stacked.
    StackedBars,
    /// One line per series; a missing value breaks the line.
    Lines,
}

/// One named series, a value (or none) per x position.
#[derive(Clone, Debug)]
pub struct Series {
    pub name: String,
    pub values: Vec<Option<f64>>,
}

/// A chart.
#[derive(Clone, Debug)]
pub struct Chart {
    /// The element id (unique in the page).
    pub id: &'static str,
    pub title: String,
    pub unit: Unit,
    pub kind: Kind,
    /// The x positions' names (days, weeks).
    pub x: Vec<String>,
    pub series: Vec<Series>,
    /// What to say when there is nothing to draw.
    pub empty: &'static str,
}

impl Chart {
    fn has_data(&self) -> bool {
        self.series.iter().flat_map(|s| &s.values).any(|v| v.is_some_and(|v| v != 0.0))
    }

    /// The highest point drawn.
    fn top(&self) -> f64 {
        let per_x = |i: usize| -> f64 {
            let vals = self.series.iter().filter_map(|s| s.values.get(i).copied().flatten());
            match self.kind {
                Kind::StackedBars => vals.filter(|v| *v > 0.0).sum(),
                Kind::Lines => vals.fold(0.0, f64::max),
            }
        };
        (0..self.x.len()).map(per_x).fold(0.0, f64::max)
    }
}

/// 1, 2 or 5 × 10^k at or above `v`.
fn nice_ceiling(v: f64) -> f64 {
    if !(v.is_finite() && v > 0.0) {
        return 1.0;
    }
    let p = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * p).find(|c| *c >= v).unwrap_or(10.0 * p)
}

/// The chart as a `<figure>`: the SVG (or a note when there is no data), its legend, and its
/// numbers as a table.
pub fn figure(c: &Chart) -> String {
    let mut out = String::new();
    let _ = write!(out, "<figure id=\"{}\"><figcaption>{}</figcaption>", c.id, escape(&c.title));
    if !c.has_data() {
        let _ = write!(out, "<p class=\"empty\">{}</p></figure>", escape(c.empty));
        return out;
    }
    out.push_str(&svg(c));
    out.push_str("<ul class=\"legend\">");
    for (i, s) in c.series.iter().enumerate() {
        let _ = write!(
            out,
            "<li><span class=\"swatch s{}\"></span>{}</li>",
            i.min(PALETTE - 1),
            escape(&s.name)
        );
    }
    out.push_str("</ul>");
    out.push_str(&data_table(c));
    out.push_str("</figure>");
    out
}

fn svg(c: &Chart) -> String {
    let top = nice_ceiling(c.top());
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let n = c.x.len().max(1) as f64;
    let slot = pw / n;
    let y = |v: f64| TOP + ph - (v / top * ph).clamp(0.0, ph);
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg viewBox=\"0 0 {W} {H}\" role=\"img\" aria-labelledby=\"{id}-t\" \
         xmlns=\"http://www.w3.org/2000/svg\"><title id=\"{id}-t\">{t}</title>",
        id = c.id,
        t = escape(&c.title)
    );
    // Gridlines and y labels at 0, ¼, ½, ¾ and the top.
    for k in 0..=4 {
        let v = top * f64::from(k) / 4.0;
        let gy = y(v);
        let _ = write!(
            out,
            "<line class=\"grid\" x1=\"{LEFT}\" x2=\"{x2:.1}\" y1=\"{gy:.1}\" y2=\"{gy:.1}\"/>\
             <text class=\"axis\" x=\"{lx:.1}\" y=\"{ty:.1}\" text-anchor=\"end\">{label}</text>",
            x2 = W - RIGHT,
            lx = LEFT - 6.0,
            ty = gy + 4.0,
            label = escape(&c.unit.format(v))
        );
    }
    // X labels, at most MAX_X_LABELS evenly spaced.
    let step = c.x.len().div_ceil(MAX_X_LABELS).max(1);
    for (i, name) in c.x.iter().enumerate().step_by(step) {
        let cx = LEFT + slot * (i as f64 + 0.5);
        let _ = write!(
            out,
            "<text class=\"axis\" x=\"{cx:.1}\" y=\"{ty:.1}\" text-anchor=\"middle\">{}</text>",
            escape(name),
            ty = H - BOTTOM + 16.0
        );
    }
    match c.kind {
        Kind::StackedBars => bars(&mut out, c, slot, &y),
        Kind::Lines => lines(&mut out, c, slot, &y),
    }
    out.push_str("</svg>");
    out
}

fn point_title(c: &Chart, i: usize, series: &str, v: f64) -> String {
    escape(&format!("{} · {}: {}", c.x[i], series, c.unit.format(v)))
}

fn bars(out: &mut String, c: &Chart, slot: f64, y: &impl Fn(f64) -> f64) {
    // Bars no wider than 48 units, however few.
    let width = (slot * 0.8).clamp(0.5, 48.0);
    for i in 0..c.x.len() {
        let x = LEFT + slot * i as f64 + (slot - width) / 2.0;
        let mut base = 0.0;
        for (k, s) in c.series.iter().enumerate() {
            let Some(v) = s.values.get(i).copied().flatten().filter(|v| *v > 0.0) else {
                continue;
            };
            let (y0, y1) = (y(base), y(base + v));
            base += v;
            let _ = write!(
                out,
                "<rect class=\"s{}\" data-point=\"\" x=\"{x:.1}\" y=\"{y1:.1}\" width=\"{width:.1}\" \
                 height=\"{h:.1}\"><title>{}</title></rect>",
                k.min(PALETTE - 1),
                point_title(c, i, &s.name, v),
                h = (y0 - y1).max(0.5)
            );
        }
    }
}

fn lines(out: &mut String, c: &Chart, slot: f64, y: &impl Fn(f64) -> f64) {
    for (k, s) in c.series.iter().enumerate() {
        let class = k.min(PALETTE - 1);
        // One polyline per run of present values.
        let mut run: Vec<String> = Vec::new();
        let flush = |run: &mut Vec<String>, out: &mut String| {
            if run.len() > 1 {
                let _ =
                    write!(out, "<polyline class=\"line s{class}\" points=\"{}\"/>", run.join(" "));
            }
            run.clear();
        };
        for (i, v) in s.values.iter().enumerate() {
            match v {
                Some(v) => run.push(format!("{:.1},{:.1}", LEFT + slot * (i as f64 + 0.5), y(*v))),
                None => flush(&mut run, out),
            }
        }
        flush(&mut run, out);
        for (i, v) in s.values.iter().enumerate() {
            let Some(v) = v else { continue };
            let _ = write!(
                out,
                "<circle class=\"s{class}\" data-point=\"\" cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\">\
                 <title>{}</title></circle>",
                LEFT + slot * (i as f64 + 0.5),
                y(*v),
                point_title(c, i, &s.name, *v)
            );
        }
    }
}

/// The chart's numbers: a row per x, a column per series.
fn data_table(c: &Chart) -> String {
    let mut out = String::from(
        "<details><summary>Data</summary><div class=\"scroll\"><table><thead><tr><th></th>",
    );
    for s in &c.series {
        let _ = write!(out, "<th>{}</th>", escape(&s.name));
    }
    out.push_str("</tr></thead><tbody>");
    for (i, x) in c.x.iter().enumerate() {
        let _ = write!(out, "<tr><th>{}</th>", escape(x));
        for s in &c.series {
            let v = s.values.get(i).copied().flatten();
            let _ = write!(
                out,
                "<td>{}</td>",
                v.map(|v| escape(&c.unit.format(v))).unwrap_or_default()
            );
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table></div></details>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(kind: Kind, values: Vec<Vec<Option<f64>>>) -> Chart {
        Chart {
            id: "c",
            title: "T <&>".to_owned(),
            unit: Unit::Usd,
            kind,
            x: (0..values.first().map_or(0, Vec::len)).map(|i| format!("d{i}")).collect(),
            series: values
                .into_iter()
                .enumerate()
                .map(|(i, values)| Series { name: format!("m{i}"), values })
                .collect(),
            empty: "nothing",
        }
    }

    #[test]
    fn stacked_bars_draw_one_rect_per_positive_value_scaled_to_a_nice_top() {
        // x0: 1 + 3 = 4, x1: 2 + 0 → top 4 → nice 5: the plot is 192 high.
        let c =
            chart(Kind::StackedBars, vec![vec![Some(1.0), Some(2.0)], vec![Some(3.0), Some(0.0)]]);
        let s = figure(&c);
        assert_eq!(s.matches("<rect").count(), 3, "{s}");
        // m1's bar at x0 spans 1..4 of 5: y from 12 + 192 − 4/5·192 = 50.4, height 3/5·192.
        assert!(s.contains("y=\"50.4\"") && s.contains("height=\"115.2\""), "{s}");
        assert!(s.contains("<title>d0 · m1: $3.00</title>"), "{s}");
        assert!(s.contains("T &lt;&amp;&gt;") && !s.contains("T <&>"), "escaped: {s}");
        assert_eq!(s.matches("<tr>").count(), 3, "header + a row per x");
    }

    #[test]
    fn lines_break_at_missing_values_and_mark_each_point() {
        let c = chart(Kind::Lines, vec![vec![Some(1.0), Some(2.0), None, Some(1.0)]]);
        let s = figure(&c);
        assert_eq!(s.matches("<circle").count(), 3);
        assert_eq!(s.matches("<polyline").count(), 1, "a lone point after the gap has no line");
    }

    #[test]
    fn no_data_says_so_instead_of_drawing() {
        let s = figure(&chart(Kind::Lines, vec![vec![None, Some(0.0)]]));
        assert!(s.contains("nothing") && !s.contains("<svg"), "{s}");
    }

    #[test]
    fn nice_ceilings_and_compact_numbers() {
        assert_eq!(nice_ceiling(4.0), 5.0);
        assert_eq!(nice_ceiling(0.03), 0.05);
        assert_eq!(nice_ceiling(120.0), 200.0);
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(Unit::Tokens.format(1_260_000.0), "1.3M");
        assert_eq!(Unit::Tokens.format(950.0), "950");
    }
}
