//! `audit` (the reference's `window-audit`, §7.3.6): what the store holds for one window —
//! snapshots per (provider, phase) with their duplicates and the canonical (latest) one,
//! finalize rows, anomalies and churn rows — as a JSON document and as text.

use serde::Serialize;
use serde_json::Value;

use crate::store::{Corrupt, OrderedValue, Row, TrackerDir, TrackerFile};
use crate::window_error::WindowError;

/// One (provider, phase) group of snapshots.
#[derive(Debug, Clone, Serialize)]
pub struct SnapshotGroup {
    /// The provider (`unknown` when missing).
    pub provider: String,
    /// The phase (`unknown` when missing).
    pub phase: String,
    /// How many snapshots.
    pub entries: usize,
    /// `entries − 1`.
    pub duplicates: usize,
    /// The latest snapshot's `captured_at`.
    pub canonical_captured_at: Value,
    /// The latest snapshot's `source`.
    pub source: Value,
    /// The latest snapshot's `notes`.
    pub notes: Value,
}

/// The window's finalize rows.
#[derive(Debug, Clone, Serialize)]
pub struct FinalizeSummary {
    /// How many rows.
    pub entries: usize,
    /// `entries − 1`.
    pub duplicates: usize,
    /// The latest row's `finalized_at`.
    pub canonical_finalized_at: Value,
    /// The latest row's `methodology`.
    pub methodology: Value,
}

/// A count of rows, with the rows when there are any.
#[derive(Debug, Clone, Serialize)]
pub struct Records {
    /// How many.
    pub count: usize,
    /// The rows as written (omitted when there are none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub records: Option<Vec<OrderedValue>>,
}

/// The audit document (`--json`): `{window, snapshots, finalize, anomalies, churn}`.
#[derive(Debug, Clone, Serialize)]
pub struct Audit {
    /// The window.
    pub window: String,
    /// Snapshot groups sorted by (provider, phase).
    pub snapshots: Vec<SnapshotGroup>,
    /// The finalize rows, `null` when none.
    pub finalize: Option<FinalizeSummary>,
    /// Anomalies.
    pub anomalies: Records,
    /// Churn rows.
    pub churn: Records,
    /// Lines skipped while reading (not part of the document).
    #[serde(skip)]
    pub corrupt: Vec<Corrupt>,
}

/// Audit `window`: `None` when the store holds nothing for it (the reference prints
/// `no records found for {W}` and succeeds).
///
/// # Errors
/// A store error.
pub fn audit(dir: &TrackerDir, window: &str) -> Result<Option<Audit>, WindowError> {
    let mut corrupt = Vec::new();
    let mut load = |file| -> Result<Vec<Row>, WindowError> {
        let loaded = dir.load(file, Some(window))?;
        corrupt.extend(loaded.corrupt);
        Ok(loaded.rows)
    };
    let snapshots = load(TrackerFile::Snapshots)?;
    let windows = load(TrackerFile::Windows)?;
    let anomalies = load(TrackerFile::Anomalies)?;
    let churn = load(TrackerFile::Churn)?;
    if snapshots.is_empty() && windows.is_empty() && anomalies.is_empty() && churn.is_empty() {
        return Ok(None);
    }
    Ok(Some(Audit {
        window: window.to_owned(),
        snapshots: snapshot_groups(&snapshots),
        finalize: finalize_summary(&windows),
        anomalies: records(&anomalies),
        churn: records(&churn),
        corrupt,
    }))
}

/// `value or "unknown"`, as a key.
fn key_or_unknown(row: &Row, key: &str) -> String {
    match row.value.get(key) {
        Some(v) if crate::py::truthy(v) => crate::py::str_of(v),
        _ => "unknown".to_owned(),
    }
}

fn field(row: &Row, key: &str) -> Value {
    row.value.get(key).cloned().unwrap_or(Value::Null)
}

fn snapshot_groups(rows: &[Row]) -> Vec<SnapshotGroup> {
    let mut groups: Vec<((String, String), Vec<&Row>)> = Vec::new();
    for row in rows {
        let key = (key_or_unknown(row, "provider"), key_or_unknown(row, "phase"));
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, list)) => list.push(row),
            None => groups.push((key, vec![row])),
        }
    }
    groups.sort_by(|a, b| a.0.cmp(&b.0));
    groups
        .into_iter()
        .map(|((provider, phase), mut list)| {
            list.sort_by(|a, b| a.str_or_empty("captured_at").cmp(b.str_or_empty("captured_at")));
            let canonical = list[list.len() - 1];
            SnapshotGroup {
                provider,
                phase,
                entries: list.len(),
                duplicates: list.len() - 1,
                canonical_captured_at: field(canonical, "captured_at"),
                source: field(canonical, "source"),
                notes: field(canonical, "notes"),
            }
        })
        .collect()
}

fn finalize_summary(rows: &[Row]) -> Option<FinalizeSummary> {
    let mut list: Vec<&Row> = rows.iter().collect();
    list.sort_by(|a, b| a.str_or_empty("finalized_at").cmp(b.str_or_empty("finalized_at")));
    let canonical = list.last()?;
    Some(FinalizeSummary {
        entries: list.len(),
        duplicates: list.len() - 1,
        canonical_finalized_at: field(canonical, "finalized_at"),
        methodology: field(canonical, "methodology"),
    })
}

fn records(rows: &[Row]) -> Records {
    let list: Vec<OrderedValue> =
        rows.iter().filter_map(|r| OrderedValue::parse(&r.text).ok()).collect();
    Records { count: rows.len(), records: if list.is_empty() { None } else { Some(list) } }
}

/// `value or fallback` in Python's `str()`.
fn or(v: &Value, fallback: &str) -> String {
    if crate::py::truthy(v) { crate::py::str_of(v) } else { fallback.to_owned() }
}

impl Audit {
    /// The document as Python's `json.dumps(doc, indent=2)` lays it out, with a newline.
    ///
    /// # Errors
    /// Never in practice (serde_json's error for a value it cannot encode).
    pub fn to_json(&self) -> serde_json::Result<String> {
        let bytes = crate::store::to_py_json_pretty(self)?;
        let mut text = String::from_utf8_lossy(&bytes).into_owned();
        text.push('\n');
        Ok(text)
    }

    /// The reference's text report, one `\n` after every line.
    pub fn to_text(&self) -> String {
        let mut out = format!("Window Audit: {}\n", self.window);
        if !self.snapshots.is_empty() {
            out.push_str("Snapshots:\n");
            for g in &self.snapshots {
                out.push_str(&format!(
                    "  - {}/{}: entries={}, duplicates={}, canonical={}, source={}, notes={}\n",
                    g.provider,
                    g.phase,
                    g.entries,
                    g.duplicates,
                    or(&g.canonical_captured_at, "n/a"),
                    or(&g.source, "unknown"),
                    or(&g.notes, "n/a"),
                ));
            }
        }
        if let Some(f) = &self.finalize {
            out.push_str(&format!(
                "Finalize rows: entries={}, duplicates={}, canonical={}, methodology={}\n",
                f.entries,
                f.duplicates,
                or(&f.canonical_finalized_at, "n/a"),
                or(&f.methodology, "n/a"),
            ));
        }
        out.push_str(&format!("Anomalies: {}\n", self.anomalies.count));
        out.push_str(&format!("Churn rows: {}\n", self.churn.count));
        out
    }
}
