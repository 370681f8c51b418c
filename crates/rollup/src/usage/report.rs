//! From the scan's cells to report rows: the time zone, the date filter, the agent filter,
//! grouping by day / ISO week / month / session, per-model breakdowns, totals, and the JSON
//! in the peer tool's shape.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde::Serialize;
use serde_json::{Value, json};

use super::scan::{Cell, Collected, QUARTER, Tok};
use super::{Period, PriceBook, PriceSource, UsageError, UsageOptions};
use crate::Diagnostic;

/// The zone named (IANA), else the system's (`TZ` honoured).
pub(crate) fn time_zone(name: Option<&str>) -> Result<TimeZone, UsageError> {
    match name.map(str::trim) {
        Some(n) => TimeZone::get(n)
            .map_err(|e| UsageError::TimeZone { name: n.to_owned(), message: e.to_string() }),
        None => Ok(TimeZone::system()),
    }
}

fn epoch() -> Date {
    jiff::civil::date(1970, 1, 1)
}

/// A day number (days since 1970-01-01) as a date.
fn date_of(day: i32) -> Date {
    epoch().checked_add(jiff::Span::new().days(i64::from(day))).unwrap_or_else(|_| epoch())
}

fn day_of(date: Date) -> i32 {
    date.since((jiff::Unit::Day, epoch())).map(|s| s.get_days()).unwrap_or(0)
}

fn parse_day(text: &str) -> Result<i32, UsageError> {
    let t = text.trim();
    let dashed = if t.len() == 8 && t.bytes().all(|b| b.is_ascii_digit()) {
        format!("{}-{}-{}", &t[..4], &t[4..6], &t[6..])
    } else {
        t.to_owned()
    };
    dashed
        .parse::<Date>()
        .map(day_of)
        .map_err(|e| UsageError::Date { value: text.to_owned(), message: e.to_string() })
}

/// The days to include, inclusive.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DayRange {
    since: i32,
    until: i32,
}

impl DayRange {
    pub(crate) fn parse(since: Option<&str>, until: Option<&str>) -> Result<DayRange, UsageError> {
        let since_day = since.map(parse_day).transpose()?.unwrap_or(i32::MIN);
        let until_day = until.map(parse_day).transpose()?.unwrap_or(i32::MAX);
        if since_day > until_day {
            return Err(UsageError::EmptyRange {
                since: since.unwrap_or_default().to_owned(),
                until: until.unwrap_or_default().to_owned(),
            });
        }
        Ok(DayRange { since: since_day, until: until_day })
    }

    fn contains(self, day: i32) -> bool {
        (self.since..=self.until).contains(&day)
    }
}

/// Tokens and cost of one model in a row.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ModelRow {
    /// The model id as the agent wrote it.
    pub model: String,
    /// Uncached input tokens.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Cache writes (all lifetimes).
    pub cache_creation_tokens: u64,
    /// Of those, 1-hour cache writes.
    pub cache_creation_1h_tokens: u64,
    /// Cache reads.
    pub cache_read_tokens: u64,
    /// USD; `None` when some of its responses have no price.
    pub cost: Option<f64>,
    /// The priced part of the cost.
    pub priced_cost: f64,
    /// API responses.
    pub responses: u64,
}

/// What a session row says about its session.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct SessionInfo {
    /// The agent (`claude-code`, `codex`) when a session event said.
    pub agent: Option<String>,
    /// The working directory when a session event said.
    pub cwd: Option<String>,
    /// Day of the latest response, in the zone (`YYYY-MM-DD`).
    pub last_activity: String,
}

/// One row: a day, a week (its Monday), a month (`YYYY-MM`) or a session id.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct UsageRow {
    /// The row's name.
    pub key: String,
    /// Sums over its models.
    pub totals: Totals,
    /// Per model, most expensive first (unpriced last).
    pub models: Vec<ModelRow>,
    /// Session rows only.
    pub session: Option<SessionInfo>,
}

/// Token and cost sums.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Totals {
    /// Uncached input tokens.
    pub input_tokens: u64,
    /// Output tokens.
    pub output_tokens: u64,
    /// Cache writes.
    pub cache_creation_tokens: u64,
    /// Cache reads.
    pub cache_read_tokens: u64,
    /// The four above.
    pub total_tokens: u64,
    /// USD of the priced responses.
    pub total_cost: f64,
    /// API responses.
    pub responses: u64,
}

impl Totals {
    fn add_model(&mut self, m: &ModelRow) {
        self.input_tokens = self.input_tokens.saturating_add(m.input_tokens);
        self.output_tokens = self.output_tokens.saturating_add(m.output_tokens);
        self.cache_creation_tokens =
            self.cache_creation_tokens.saturating_add(m.cache_creation_tokens);
        self.cache_read_tokens = self.cache_read_tokens.saturating_add(m.cache_read_tokens);
        self.total_tokens = self
            .input_tokens
            .saturating_add(self.output_tokens)
            .saturating_add(self.cache_creation_tokens)
            .saturating_add(self.cache_read_tokens);
        self.total_cost += m.priced_cost;
        self.responses += m.responses;
    }

    fn add(&mut self, o: &Totals) {
        self.input_tokens = self.input_tokens.saturating_add(o.input_tokens);
        self.output_tokens = self.output_tokens.saturating_add(o.output_tokens);
        self.cache_creation_tokens =
            self.cache_creation_tokens.saturating_add(o.cache_creation_tokens);
        self.cache_read_tokens = self.cache_read_tokens.saturating_add(o.cache_read_tokens);
        self.total_tokens = self.total_tokens.saturating_add(o.total_tokens);
        self.total_cost += o.total_cost;
        self.responses += o.responses;
    }

    fn json(&self) -> Value {
        json!({
            "inputTokens": self.input_tokens,
            "outputTokens": self.output_tokens,
            "cacheCreationTokens": self.cache_creation_tokens,
            "cacheReadTokens": self.cache_read_tokens,
            "totalTokens": self.total_tokens,
            "totalCost": self.total_cost,
        })
    }
}

/// A usage report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UsageReport {
    /// How rows are grouped.
    #[serde(skip)]
    pub period: Period,
    /// The rows, in time order (sessions by their latest activity).
    pub rows: Vec<UsageRow>,
    /// Sums over the rows.
    pub totals: Totals,
    /// The zone days are in (its IANA name, or `local`).
    pub timezone: String,
    /// The tables that priced it.
    pub price_tables: Vec<PriceSource>,
    /// Models with responses that have no price, sorted.
    pub unpriced_models: Vec<String>,
    /// Lines read.
    pub lines: u64,
    /// Events skipped because their `event_id` was counted before.
    pub duplicates: u64,
    /// Turns without a timestamp (not in any period).
    pub undated: u64,
    /// Lines skipped (malformed, invalid, torn).
    pub skipped_lines: u64,
    /// The first skipped lines, `file:line: what is wrong`.
    #[serde(skip)]
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Default)]
struct Group {
    models: BTreeMap<u32, (Tok, Cell)>,
    last: i64,
}

fn key_of(period: Period, day: i32) -> i32 {
    match period {
        // 1970-01-01 was a Thursday: Monday-based weekday is (day + 3) mod 7.
        Period::Weekly => day - (day + 3).rem_euclid(7),
        Period::Monthly => {
            let d = date_of(day);
            day_of(d.first_of_month())
        }
        Period::Daily | Period::Session => day,
    }
}

fn label(period: Period, first_day: i32) -> String {
    let d = date_of(first_day);
    match period {
        Period::Monthly => format!("{:04}-{:02}", d.year(), d.month()),
        _ => format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day()),
    }
}

/// Group the cells (filters applied) into the report.
pub(crate) fn build(
    c: &Collected,
    prices: &PriceBook,
    opts: &UsageOptions,
    tz: &TimeZone,
    range: DayRange,
) -> UsageReport {
    let agent_ok = |s: u32| match &opts.agent {
        None => true,
        Some(a) => c
            .meta
            .get(s as usize)
            .and_then(|m| m.agent.as_deref())
            .is_some_and(|x| x.eq_ignore_ascii_case(a.trim())),
    };
    // Group key: a day number (days, weeks, months) or a session index.
    let mut groups: BTreeMap<i64, Group> = BTreeMap::new();
    // In key order, so sums of costs do not depend on the hash map's order.
    let mut cells: Vec<(&(i32, u32, u32), &Cell)> = c.cells.iter().collect();
    cells.sort_unstable_by_key(|(k, _)| **k);
    // A quarter-hour's day in the zone (zone offsets are whole quarter-hours).
    let mut last_qh = None;
    let mut last_day = 0;
    for (&(qh, session, model), cell) in cells {
        let day = if last_qh == Some(qh) {
            last_day
        } else {
            let secs = i64::from(qh) * QUARTER;
            let ts = jiff::Timestamp::from_second(secs).unwrap_or_default();
            let local = secs + i64::from(tz.to_offset(ts).seconds());
            last_qh = Some(qh);
            last_day = i32::try_from(local.div_euclid(86_400)).unwrap_or(0);
            last_day
        };
        if !range.contains(day) || !agent_ok(session) {
            continue;
        }
        let key = match opts.period {
            Period::Session => i64::from(session),
            p => i64::from(key_of(p, day)),
        };
        let g = groups.entry(key).or_default();
        g.last = g.last.max(cell.last);
        let (tok, acc) = g.models.entry(model).or_default();
        tok.add(&cell.tokens);
        acc.cost += cell.cost;
        acc.unpriced += cell.unpriced;
        acc.responses += cell.responses;
    }
    let mut unpriced = std::collections::BTreeSet::new();
    let mut rows: Vec<(i64, UsageRow)> = Vec::new();
    for (key, g) in groups {
        let mut row = UsageRow::default();
        for (model, (tok, acc)) in g.models {
            let name = c.models.get(model as usize).cloned().unwrap_or_default();
            if acc.unpriced > 0 {
                unpriced.insert(name.clone());
            }
            let m = ModelRow {
                model: name,
                input_tokens: tok.input,
                output_tokens: tok.output,
                cache_creation_tokens: tok.cache_write,
                cache_creation_1h_tokens: tok.cache_write_1h,
                cache_read_tokens: tok.cache_read,
                cost: (acc.unpriced == 0).then_some(acc.cost),
                priced_cost: acc.cost,
                responses: acc.responses,
            };
            row.totals.add_model(&m);
            row.models.push(m);
        }
        row.models.sort_by(|a, b| {
            let cost = |m: &ModelRow| m.cost.unwrap_or(f64::NEG_INFINITY);
            cost(b).total_cmp(&cost(a)).then_with(|| a.model.cmp(&b.model))
        });
        let order = match opts.period {
            Period::Session => {
                let idx = usize::try_from(key).unwrap_or(usize::MAX);
                let meta = c.meta.get(idx).cloned().unwrap_or_default();
                row.key = c.sessions.get(idx).cloned().unwrap_or_default();
                let last = jiff::Timestamp::from_second(g.last).unwrap_or_default();
                let local = last.to_zoned(tz.clone()).date();
                row.session = Some(SessionInfo {
                    agent: meta.agent,
                    cwd: meta.cwd,
                    last_activity: format!(
                        "{:04}-{:02}-{:02}",
                        local.year(),
                        local.month(),
                        local.day()
                    ),
                });
                g.last
            }
            p => {
                row.key = label(p, i32::try_from(key).unwrap_or(0));
                key
            }
        };
        rows.push((order, row));
    }
    rows.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.key.cmp(&b.1.key)));
    let mut totals = Totals::default();
    for (_, r) in &rows {
        totals.add(&r.totals);
    }
    UsageReport {
        period: opts.period,
        rows: rows.into_iter().map(|(_, r)| r).collect(),
        totals,
        timezone: tz.iana_name().unwrap_or("local").to_owned(),
        price_tables: prices.sources.clone(),
        unpriced_models: unpriced.into_iter().collect(),
        lines: c.lines,
        duplicates: c.duplicates,
        undated: c.undated,
        skipped_lines: c.diagnostics,
        diagnostics: c.kept.clone(),
    }
}

impl UsageReport {
    /// The report in the peer tool's JSON shape: `{"<rows key>": [...], "totals": {...}}`
    /// with each row's key field (`date`, `week`, `month`; session rows `sessionId`,
    /// `lastActivity`, `projectPath`), its token fields, `totalTokens`, `totalCost`,
    /// `modelsUsed`, `modelBreakdowns` (`modelName`, the token fields, `cost`: `null` when
    /// unpriced); plus `priceTable`, `unpricedModels`, `timezone` (and `weekStart` for weeks).
    pub fn json(&self) -> Value {
        let key_name = match self.period {
            Period::Daily => "date",
            Period::Weekly => "week",
            Period::Monthly => "month",
            Period::Session => "sessionId",
        };
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|r| {
                let mut obj = serde_json::Map::new();
                obj.insert(key_name.to_owned(), Value::from(r.key.clone()));
                if let Value::Object(t) = r.totals.json() {
                    obj.extend(t);
                }
                if let Some(s) = &r.session {
                    obj.insert("lastActivity".to_owned(), Value::from(s.last_activity.clone()));
                }
                let mut used: Vec<&str> = r.models.iter().map(|m| m.model.as_str()).collect();
                used.sort_unstable();
                obj.insert("modelsUsed".to_owned(), json!(used));
                let breakdowns: Vec<Value> = r
                    .models
                    .iter()
                    .map(|m| {
                        json!({
                            "modelName": m.model,
                            "inputTokens": m.input_tokens,
                            "outputTokens": m.output_tokens,
                            "cacheCreationTokens": m.cache_creation_tokens,
                            "cacheReadTokens": m.cache_read_tokens,
                            "cost": m.cost,
                        })
                    })
                    .collect();
                obj.insert("modelBreakdowns".to_owned(), Value::Array(breakdowns));
                if let Some(s) = &r.session {
                    let path = s.cwd.clone().unwrap_or_else(|| "Unknown Project".to_owned());
                    obj.insert("projectPath".to_owned(), Value::from(path));
                    obj.insert("agent".to_owned(), json!(s.agent));
                }
                Value::Object(obj)
            })
            .collect();
        let first = self.price_tables.first();
        let mut out = serde_json::Map::new();
        out.insert(self.period.rows_key().to_owned(), Value::Array(rows));
        out.insert("totals".to_owned(), self.totals.json());
        out.insert(
            "priceTable".to_owned(),
            json!({
                "id": first.map(|s| s.id.clone()),
                "date": first.map(|s| s.date.clone()),
                "source": first.map(|s| s.source.clone()),
                "overrides": self.price_tables.iter().skip(1).collect::<Vec<_>>(),
            }),
        );
        out.insert("unpricedModels".to_owned(), json!(self.unpriced_models));
        out.insert("timezone".to_owned(), Value::from(self.timezone.clone()));
        if self.period == Period::Weekly {
            out.insert("weekStart".to_owned(), Value::from("monday"));
        }
        Value::Object(out)
    }
}
