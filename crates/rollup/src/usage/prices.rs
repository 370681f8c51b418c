//! Which price table prices a report: the bundled table, then `<data dir>/prices.json` when
//! it exists, then the file given on the command line, each laid over the one before (a
//! model family in a later table replaces the same family, new families are added). The
//! report names every table it used.

use agentos_event_schema::prices::PriceTable;
use camino::{Utf8Path, Utf8PathBuf};
use serde::Serialize;

use super::UsageError;

/// Largest price file read (a price table is a few kilobytes).
const MAX_PRICE_FILE: u64 = 4 << 20;

/// One table that went into a [`PriceBook`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PriceSource {
    /// The table's `id`.
    pub id: String,
    /// The table's `date`.
    pub date: String,
    /// `bundled`, or the file's path.
    pub source: String,
}

/// The prices in effect and where they came from (bundled first, overrides after).
#[derive(Clone, Debug)]
pub struct PriceBook {
    /// The merged table.
    pub table: PriceTable,
    /// Every table used, in order.
    pub sources: Vec<PriceSource>,
}

impl PriceBook {
    /// The bundled table alone.
    pub fn bundled() -> PriceBook {
        let table = PriceTable::bundled();
        let sources = vec![PriceSource {
            id: table.id.clone(),
            date: table.date.clone(),
            source: "bundled".to_owned(),
        }];
        PriceBook { table, sources }
    }

    /// Lay `over` (read from `source`) on top.
    pub fn overlay(&mut self, over: PriceTable, source: &Utf8Path) {
        self.sources.push(PriceSource {
            id: over.id.clone(),
            date: over.date.clone(),
            source: source.to_string(),
        });
        self.table.overlay(over);
    }

    /// One line naming the tables: `agentos-2026-11-30 (2026-11-30, bundled) + mine (…, /p)`.
    pub fn describe(&self) -> String {
        let parts: Vec<String> =
            self.sources.iter().map(|s| format!("{} ({}, {})", s.id, s.date, s.source)).collect();
        parts.join(" + ")
    }
}

fn read_table(path: &Utf8Path) -> Result<Option<PriceTable>, UsageError> {
    let bad = |message: String| UsageError::Prices { path: path.to_owned(), message };
    let Some(bytes) =
        agentos_fsio::read_bounded(path, MAX_PRICE_FILE).map_err(|e| bad(e.to_string()))?
    else {
        return Ok(None);
    };
    let text = String::from_utf8(bytes).map_err(|_| bad("not UTF-8 text".to_owned()))?;
    PriceTable::parse(&text).map(Some).map_err(|e| bad(e.to_string()))
}

/// The bundled table, overlaid with `data_dir_file` when it exists, then with `given`,
/// which must exist.
pub fn load_prices(
    data_dir_file: Option<&Utf8Path>,
    given: Option<&Utf8Path>,
) -> Result<PriceBook, UsageError> {
    let mut book = PriceBook::bundled();
    if let Some(path) = data_dir_file
        && let Some(table) = read_table(path)?
    {
        book.overlay(table, path);
    }
    if let Some(path) = given {
        let table = read_table(path)?.ok_or_else(|| UsageError::Prices {
            path: path.to_owned(),
            message: "no such file".to_owned(),
        })?;
        book.overlay(table, path);
    }
    Ok(book)
}

/// Where the data dir's price file lives.
pub fn data_dir_prices(data_dir: &Utf8Path) -> Utf8PathBuf {
    data_dir.join("prices.json")
}
