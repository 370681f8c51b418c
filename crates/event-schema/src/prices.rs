//! Token prices: the dated price table bundled with AgentOS (`prices/2026-11-30.json`), the
//! format of user price files that override it, the model-family matcher that resolves the
//! model id an agent wrote (`claude-sonnet-4-5-20250929`, `anthropic/claude-opus-4-1`,
//! `gpt-5-codex`) to a table entry, and the cost of one API response.
//!
//! Prices are USD per 1M tokens. A response is priced on its own: uncached input, output,
//! cache writes (5-minute and 1-hour lifetimes priced apart) and cache reads; when the model
//! has a long-context tier and the request's whole input (uncached + cache writes + cache
//! reads) is above its threshold, every token of that response is priced at the tier's rates
//! (Anthropic's rule for Claude Sonnet 4 / 4.5 above 200k input tokens).
//! A price that is not given falls back: a 5-minute cache write to the input price, a 1-hour
//! write to the 5-minute one, a cache read to the input price (OpenAI bills no cache writes:
//! its cached input is `cache_read`).
//!
//! A model the table does not know has no price: it is *unpriced* (`None`), never $0.
//!
//! Pure: no I/O. Readers of price files (`agentos-rollup`) hand the text to
//! [`PriceTable::parse`].

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Extra;

/// The bundled table's JSON text.
pub const BUNDLED_JSON: &str = include_str!("prices/2026-11-30.json");

/// Largest price accepted per 1M tokens (a typo guard: no model costs $1M per 1M tokens).
pub const MAX_PRICE: f64 = 1e6;

/// A price table: the bundled one, or a user's override file (same format).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct PriceTable {
    /// A name for the table, printed with every report it prices (e.g. `agentos-2026-11-30`).
    pub id: String,
    /// The day the prices were taken (`YYYY-MM-DD`).
    pub date: String,
    /// What the table holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Where the prices come from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    /// Model family (lowercase id prefix, e.g. `claude-sonnet-4-5`, `gpt-5-codex`) → prices.
    pub models: BTreeMap<String, ModelPrice>,
    /// Fields this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The prices of one model family, USD per 1M tokens.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ModelPrice {
    /// Uncached input tokens.
    #[schemars(range(min = 0.0, max = MAX_PRICE))]
    pub input: f64,
    /// Output tokens (reasoning included).
    #[schemars(range(min = 0.0, max = MAX_PRICE))]
    pub output: f64,
    /// Cache writes with a 5-minute lifetime; the input price when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = MAX_PRICE))]
    pub cache_write_5m: Option<f64>,
    /// Cache writes with a 1-hour lifetime; the 5-minute price when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = MAX_PRICE))]
    pub cache_write_1h: Option<f64>,
    /// Cache reads (OpenAI's "cached input"); the input price when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = MAX_PRICE))]
    pub cache_read: Option<f64>,
    /// Prices of requests whose whole input is above a threshold, where the model has them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub long_context: Option<LongContext>,
    /// Fields this version does not model.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A long-context tier: a request whose input (uncached + cache writes + cache reads) is above
/// `threshold_tokens` pays these prices for all of its tokens.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LongContext {
    /// The request input above which the tier applies.
    pub threshold_tokens: u64,
    /// Uncached input tokens.
    #[schemars(range(min = 0.0, max = MAX_PRICE))]
    pub input: f64,
    /// Output tokens.
    #[schemars(range(min = 0.0, max = MAX_PRICE))]
    pub output: f64,
    /// 5-minute cache writes; the tier's input price when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = MAX_PRICE))]
    pub cache_write_5m: Option<f64>,
    /// 1-hour cache writes; the tier's 5-minute price when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = MAX_PRICE))]
    pub cache_write_1h: Option<f64>,
    /// Cache reads; the tier's input price when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = MAX_PRICE))]
    pub cache_read: Option<f64>,
}

/// The tokens of one API response, as priced.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tokens {
    /// Uncached input.
    pub input: u64,
    /// Output.
    pub output: u64,
    /// Cache writes, all lifetimes.
    pub cache_write: u64,
    /// Of `cache_write`, those with a 1-hour lifetime (the rest are 5-minute writes).
    pub cache_write_1h: u64,
    /// Cache reads.
    pub cache_read: u64,
}

/// Why a price table was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PriceError {
    /// Not JSON, or not a price table.
    #[error("not a price table: {0}")]
    Json(#[from] serde_json::Error),
    /// A price is negative, not finite or absurdly large.
    #[error("{model}.{field} must be ≥ 0 and ≤ {MAX_PRICE} USD per 1M tokens (got {value})")]
    Price {
        /// The model family.
        model: String,
        /// The field.
        field: &'static str,
        /// The value found.
        value: f64,
    },
    /// A model family key is empty or not lowercase.
    #[error("model family {0:?} must be a non-empty lowercase id prefix")]
    Family(String),
}

/// The five rates in effect for one response.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Rates {
    input: f64,
    output: f64,
    write_5m: f64,
    write_1h: f64,
    read: f64,
}

impl Rates {
    fn new(input: f64, output: f64, w5: Option<f64>, w1: Option<f64>, read: Option<f64>) -> Self {
        let write_5m = w5.unwrap_or(input);
        Rates {
            input,
            output,
            write_5m,
            write_1h: w1.unwrap_or(write_5m),
            read: read.unwrap_or(input),
        }
    }
}

impl ModelPrice {
    /// The cost in USD of one response with these tokens (long-context tier applied per
    /// response).
    pub fn cost(&self, t: &Tokens) -> f64 {
        let request_input =
            u128::from(t.input) + u128::from(t.cache_write) + u128::from(t.cache_read);
        let rates = match &self.long_context {
            Some(lc) if request_input > u128::from(lc.threshold_tokens) => {
                Rates::new(lc.input, lc.output, lc.cache_write_5m, lc.cache_write_1h, lc.cache_read)
            }
            _ => Rates::new(
                self.input,
                self.output,
                self.cache_write_5m,
                self.cache_write_1h,
                self.cache_read,
            ),
        };
        let w1h = t.cache_write_1h.min(t.cache_write);
        let w5m = t.cache_write - w1h;
        let per_million = t.input as f64 * rates.input
            + t.output as f64 * rates.output
            + w5m as f64 * rates.write_5m
            + w1h as f64 * rates.write_1h
            + t.cache_read as f64 * rates.read;
        per_million / 1_000_000.0
    }

    fn check(&self, model: &str) -> Result<(), PriceError> {
        let lc = self.long_context.as_ref();
        let fields = [
            ("input", Some(self.input)),
            ("output", Some(self.output)),
            ("cache_write_5m", self.cache_write_5m),
            ("cache_write_1h", self.cache_write_1h),
            ("cache_read", self.cache_read),
            ("long_context.input", lc.map(|l| l.input)),
            ("long_context.output", lc.map(|l| l.output)),
            ("long_context.cache_write_5m", lc.and_then(|l| l.cache_write_5m)),
            ("long_context.cache_write_1h", lc.and_then(|l| l.cache_write_1h)),
            ("long_context.cache_read", lc.and_then(|l| l.cache_read)),
        ];
        for (field, value) in fields {
            if let Some(value) = value
                && !(0.0..=MAX_PRICE).contains(&value)
            {
                return Err(PriceError::Price { model: model.to_owned(), field, value });
            }
        }
        Ok(())
    }
}

impl PriceTable {
    /// Parse and check a price table (the bundled one or a user's file).
    pub fn parse(text: &str) -> Result<PriceTable, PriceError> {
        let table: PriceTable = serde_json::from_str(text)?;
        for (family, price) in &table.models {
            if family.trim().is_empty() || family.to_lowercase() != *family {
                return Err(PriceError::Family(family.clone()));
            }
            price.check(family)?;
        }
        Ok(table)
    }

    /// The table bundled with this version of AgentOS.
    pub fn bundled() -> PriceTable {
        // The bundled text is checked by a unit test; an empty table is the fallback that
        // keeps this panic-free (every model then reads as unpriced).
        PriceTable::parse(BUNDLED_JSON).unwrap_or_else(|_| PriceTable {
            id: "bundled-table-unreadable".to_owned(),
            date: String::new(),
            description: None,
            sources: Vec::new(),
            models: BTreeMap::new(),
            extra: Extra::new(),
        })
    }

    /// The family and prices for a model id as an agent wrote it; `None` when unpriced.
    /// See [`family_of`].
    pub fn lookup(&self, model: &str) -> Option<(&str, &ModelPrice)> {
        let family = family_of(self.models.keys().map(String::as_str), model)?;
        self.models.get_key_value(family).map(|(k, v)| (k.as_str(), v))
    }

    /// This table with `over`'s models laid on top: a family in `over` replaces the same
    /// family here, new families are added. The id and date stay this table's (the caller
    /// names every table it used).
    pub fn overlay(&mut self, over: PriceTable) {
        self.models.extend(over.models);
    }
}

/// The model id as the matcher compares it: lowercase, the last `/`-separated part
/// (`openrouter/anthropic/claude-…` → `claude-…`), a cloud vendor prefix dropped
/// (`us.anthropic.claude-…` → `claude-…`), and in Claude ids `.` read as `-`
/// (`claude-sonnet-4.5` → `claude-sonnet-4-5`; Anthropic's ids use dashes).
pub fn normalize_model(model: &str) -> String {
    let lower = model.trim().to_ascii_lowercase();
    let last = lower.rsplit('/').next().unwrap_or_default();
    let last = match last.find("anthropic.") {
        Some(i) => last.get(i + "anthropic.".len()..).unwrap_or_default(),
        None => last,
    };
    if last.starts_with("claude") {
        // Only the part before a date/version suffix (`@…`, `:…`) is rewritten.
        let cut = last.find(['@', ':', '[']).unwrap_or(last.len());
        let (head, tail) = last.split_at(cut);
        format!("{}{tail}", head.replace('.', "-"))
    } else {
        last.to_owned()
    }
}

/// Whether `rest` (what follows a family prefix in a model id) keeps the id in that family:
/// nothing, a date or snapshot suffix (`-20250929`, `-2025-08-07`, `@20250929`, `-v1:0`,
/// `-latest`) or a variant tag (`[1m]`, `:thinking`). Anything else is another model: a
/// version (`claude-opus-4-9`, `gpt-5.3`) or a sibling (`gpt-5-pro` is not `gpt-5`), which
/// stays unpriced until the table names it rather than being priced as its neighbour.
fn continues_family(rest: &str) -> bool {
    let Some(first) = rest.chars().next() else { return true };
    match first {
        '@' | ':' | '[' => true,
        '-' => {
            let segment = rest.get(1..).unwrap_or_default();
            let segment = segment.split(['-', '.', ':', '@', '[']).next().unwrap_or_default();
            let digits = segment.bytes().all(|b| b.is_ascii_digit());
            let snapshot = segment.len() > 1
                && segment.starts_with('v')
                && segment.bytes().skip(1).all(|b| b.is_ascii_digit());
            (digits && segment.len() >= 4) || snapshot || segment == "latest"
        }
        _ => false,
    }
}

/// The family among `families` that `model` belongs to: the longest family that is a prefix
/// of the normalized id ([`normalize_model`]) and that the rest of the id continues
/// (`continues_family`). So `claude-sonnet-4-5-20250929` is `claude-sonnet-4-5`,
/// `gpt-5-codex` is `gpt-5-codex` (not `gpt-5`), and `gpt-5.3-codex` is none of `gpt-5`,
/// `gpt-5-codex`: unpriced until the table knows it.
pub fn family_of<'a>(families: impl IntoIterator<Item = &'a str>, model: &str) -> Option<&'a str> {
    let id = normalize_model(model);
    families
        .into_iter()
        .filter(|f| id.strip_prefix(*f).is_some_and(continues_family))
        .max_by_key(|f| f.len())
}

#[cfg(test)]
mod tests;
