//! A parser of the Prometheus text exposition format (0.0.4), as CCP's `/metrics` serves it:
//! order-independent (series come in Go map order), families optional, `# HELP`/`# TYPE`
//! anywhere, histograms grouped from their `_bucket`/`_sum`/`_count` series, label values
//! with `\\`, `\"` and `\n` escapes (CCP itself does not escape, so a backslash that starts no
//! escape is kept as written), `+Inf`/`-Inf`/`NaN` values and optional timestamps.
//!
//! A line that cannot be read is skipped and reported in [`Exposition::skipped`] (CCP does
//! not escape label values, so one model name with a `"` spoils its own lines only); a body
//! with no sample and no family at all is not Prometheus text and is an error.

use std::collections::BTreeMap;

/// Label name → value of one series.
pub type Labels = BTreeMap<String, String>;

/// The `# TYPE` of a family (`untyped` when none was declared).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MetricKind {
    /// Only goes up (resets to 0 when the process restarts).
    Counter,
    /// Any value.
    Gauge,
    /// `_bucket{le=…}`, `_sum`, `_count`.
    Histogram,
    /// Quantiles, `_sum`, `_count`.
    Summary,
    /// No or an unknown `# TYPE`.
    Untyped,
}

impl MetricKind {
    fn parse(s: &str) -> MetricKind {
        match s {
            "counter" => MetricKind::Counter,
            "gauge" => MetricKind::Gauge,
            "histogram" => MetricKind::Histogram,
            "summary" => MetricKind::Summary,
            _ => MetricKind::Untyped,
        }
    }
}

/// One sample line.
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    /// The series name as written (e.g. `ccp_request_duration_seconds_bucket`).
    pub name: String,
    /// Its labels, unescaped.
    pub labels: Labels,
    /// Its value.
    pub value: f64,
}

/// A metric family: its declared type and help, and its samples in arrival order.
#[derive(Clone, Debug, PartialEq)]
pub struct Family {
    /// The family name (for histograms, without `_bucket`/`_sum`/`_count`).
    pub name: String,
    /// Declared type.
    pub kind: MetricKind,
    /// `# HELP` text, unescaped.
    pub help: Option<String>,
    /// Samples.
    pub samples: Vec<Sample>,
}

/// One histogram series (one label set, `le` removed).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Histogram {
    /// Labels without `le`.
    pub labels: Labels,
    /// `(upper bound, cumulative count)`, ascending by bound; `+Inf` last when present.
    pub buckets: Vec<(f64, f64)>,
    /// `_sum`.
    pub sum: f64,
    /// `_count`.
    pub count: f64,
}

/// A line that could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedLine {
    /// 1-based line number.
    pub line: usize,
    /// Why.
    pub reason: String,
}

/// A parsed `/metrics` body.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Exposition {
    /// Families by name.
    pub families: BTreeMap<String, Family>,
    /// Lines that could not be read.
    pub skipped: Vec<SkippedLine>,
}

/// The body is not Prometheus text.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("not Prometheus text: {reason}")]
pub struct NotPrometheus {
    /// Why (the first unreadable line).
    pub reason: String,
}

impl Exposition {
    /// Parse a body. Errors only when nothing in it is Prometheus text.
    pub fn parse(text: &str) -> Result<Exposition, NotPrometheus> {
        let mut types: BTreeMap<String, MetricKind> = BTreeMap::new();
        let mut helps: BTreeMap<String, String> = BTreeMap::new();
        let mut samples: Vec<Sample> = Vec::new();
        let mut skipped = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = raw.trim();
            if line.is_empty() {
                continue;
            }
            if let Some(rest) = line.strip_prefix('#') {
                let rest = rest.trim_start();
                let mut parts = rest.splitn(3, [' ', '\t']);
                match (parts.next(), parts.next(), parts.next()) {
                    (Some("TYPE"), Some(name), Some(kind)) if valid_name(name) => {
                        types.insert(name.to_owned(), MetricKind::parse(kind.trim()));
                    }
                    (Some("HELP"), Some(name), help) if valid_name(name) => {
                        helps.insert(name.to_owned(), unescape_help(help.unwrap_or("").trim()));
                    }
                    _ => {} // any other comment
                }
                continue;
            }
            match parse_sample(line) {
                Ok(s) => samples.push(s),
                Err(reason) => skipped.push(SkippedLine { line: i + 1, reason }),
            }
        }
        if samples.is_empty() && types.is_empty() && !skipped.is_empty() {
            let first = &skipped[0];
            return Err(NotPrometheus { reason: format!("line {}: {}", first.line, first.reason) });
        }
        let mut families: BTreeMap<String, Family> = BTreeMap::new();
        for (name, kind) in &types {
            families.insert(
                name.clone(),
                Family {
                    name: name.clone(),
                    kind: *kind,
                    help: helps.get(name).cloned(),
                    samples: Vec::new(),
                },
            );
        }
        for s in samples {
            let family = family_of(&s.name, &types);
            families
                .entry(family.clone())
                .or_insert_with(|| Family {
                    name: family.clone(),
                    kind: MetricKind::Untyped,
                    help: helps.get(&family).cloned(),
                    samples: Vec::new(),
                })
                .samples
                .push(s);
        }
        Ok(Exposition { families, skipped })
    }

    /// A family, when present.
    pub fn family(&self, name: &str) -> Option<&Family> {
        self.families.get(name)
    }

    /// The samples of a counter or gauge family (empty when the family is absent).
    pub fn series(&self, name: &str) -> &[Sample] {
        self.family(name).map_or(&[], |f| f.samples.as_slice())
    }

    /// The sum of a family's samples whose labels include every `(name, value)` in `filter`.
    pub fn sum(&self, name: &str, filter: &[(&str, &str)]) -> f64 {
        self.series(name)
            .iter()
            .filter(|s| filter.iter().all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(v)))
            .map(|s| s.value)
            .sum()
    }

    /// The series of a histogram family, grouped by labels (without `le`), in label order.
    pub fn histograms(&self, name: &str) -> Vec<Histogram> {
        let mut by_labels: BTreeMap<Labels, Histogram> = BTreeMap::new();
        let bucket = format!("{name}_bucket");
        let sum = format!("{name}_sum");
        let count = format!("{name}_count");
        for s in self.series(name) {
            let mut labels = s.labels.clone();
            let le = labels.remove("le");
            let h = by_labels
                .entry(labels.clone())
                .or_insert_with(|| Histogram { labels, ..Histogram::default() });
            if s.name == bucket {
                if let Some(le) = le.as_deref().and_then(parse_value) {
                    h.buckets.push((le, s.value));
                }
            } else if s.name == sum {
                h.sum = s.value;
            } else if s.name == count {
                h.count = s.value;
            }
        }
        let mut out: Vec<Histogram> = by_labels.into_values().collect();
        for h in &mut out {
            h.buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
        }
        out
    }
}

/// The family a series belongs to: its own name when declared, else the declared histogram
/// or summary it is a `_bucket`/`_sum`/`_count` of, else its own name.
fn family_of(series: &str, types: &BTreeMap<String, MetricKind>) -> String {
    if types.contains_key(series) {
        return series.to_owned();
    }
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(base) = series.strip_suffix(suffix)
            && matches!(types.get(base), Some(MetricKind::Histogram | MetricKind::Summary))
        {
            return base.to_owned();
        }
    }
    series.to_owned()
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// `name{labels} value [timestamp]`.
fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_end = line.find(|c: char| c == '{' || c.is_ascii_whitespace()).unwrap_or(line.len());
    let name = &line[..name_end];
    if !valid_name(name) {
        return Err("no metric name".to_owned());
    }
    let mut rest = &line[name_end..];
    let mut labels = Labels::new();
    if let Some(after) = rest.strip_prefix('{') {
        let (parsed, tail) = parse_labels(after)?;
        labels = parsed;
        rest = tail;
    }
    let mut fields = rest.split_ascii_whitespace();
    let value = fields.next().ok_or("no value")?;
    let value = parse_value(value).ok_or_else(|| "the value is not a number".to_owned())?;
    if let Some(ts) = fields.next()
        && ts.parse::<i64>().is_err()
    {
        return Err("the timestamp is not an integer".to_owned());
    }
    if fields.next().is_some() {
        return Err("text after the timestamp".to_owned());
    }
    Ok(Sample { name: name.to_owned(), labels, value })
}

/// The labels after `{`, and the text after the closing `}`.
fn parse_labels(mut s: &str) -> Result<(Labels, &str), String> {
    let mut labels = Labels::new();
    loop {
        s = s.trim_start();
        if let Some(tail) = s.strip_prefix('}') {
            return Ok((labels, tail));
        }
        let eq = s.find('=').ok_or("a label without '='")?;
        let key = s[..eq].trim();
        if !valid_name(key) {
            return Err("a bad label name".to_owned());
        }
        let after = s[eq + 1..].trim_start();
        let body = after.strip_prefix('"').ok_or("a label value without quotes")?;
        let (value, tail) = label_value(body)?;
        labels.insert(key.to_owned(), value);
        s = tail.trim_start();
        if let Some(t) = s.strip_prefix(',') {
            s = t;
        } else if !s.starts_with('}') {
            return Err("labels not separated by ','".to_owned());
        }
    }
}

/// An escaped label value up to its closing quote; the text after it.
fn label_value(s: &str) -> Result<(String, &str), String> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, &s[i + 1..])),
            '\\' => match chars.clone().next() {
                Some((_, '\\')) => {
                    chars.next();
                    out.push('\\');
                }
                Some((_, '"')) => {
                    chars.next();
                    out.push('"');
                }
                Some((_, 'n')) => {
                    chars.next();
                    out.push('\n');
                }
                // Not an escape: CCP writes values raw, so keep the backslash.
                _ => out.push('\\'),
            },
            c => out.push(c),
        }
    }
    Err("an unterminated label value".to_owned())
}

fn unescape_help(s: &str) -> String {
    s.replace("\\n", "\n").replace("\\\\", "\\")
}

/// A sample value: a float, `+Inf`, `-Inf` or `NaN` (Go's `%f`, `%g` and integer forms).
fn parse_value(s: &str) -> Option<f64> {
    match s {
        "+Inf" | "Inf" => Some(f64::INFINITY),
        "-Inf" => Some(f64::NEG_INFINITY),
        "NaN" => Some(f64::NAN),
        _ => s.parse::<f64>().ok().filter(|v| v.is_finite()),
    }
}
