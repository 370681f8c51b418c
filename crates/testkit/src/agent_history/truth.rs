//! The generator's truth summed per day × model in an IANA time zone.

use std::collections::BTreeMap;
use std::path::Path;

use super::Response;

/// One response's tokens, or a sum of them, in the columns every report shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Tokens {
    /// Uncached input (Codex: input − cached).
    pub input: u64,
    /// Output (Codex: reasoning included).
    pub output: u64,
    /// Cache writes with the 5-minute lifetime.
    pub cache_write_5m: u64,
    /// Cache writes with the 1-hour lifetime.
    pub cache_write_1h: u64,
    /// Cache reads (Codex: cached input).
    pub cache_read: u64,
}

impl Tokens {
    /// Add `other` to these.
    pub fn add(&mut self, other: &Tokens) {
        self.input += other.input;
        self.output += other.output;
        self.cache_write_5m += other.cache_write_5m;
        self.cache_write_1h += other.cache_write_1h;
        self.cache_read += other.cache_read;
    }

    /// Cache writes of both lifetimes.
    pub fn cache_write(&self) -> u64 {
        self.cache_write_5m + self.cache_write_1h
    }

    /// All four columns: input + output + cache writes + cache reads.
    pub fn total(&self) -> u64 {
        self.input + self.output + self.cache_write() + self.cache_read
    }
}

/// A time zone name that is not known here.
#[derive(Debug, thiserror::Error)]
#[error("unknown time zone {name:?}")]
pub struct ZoneError {
    name: String,
}

/// The zone named `name`: jiff's database when one is compiled in, else the system's
/// `/usr/share/zoneinfo` (what this test support needs, without choosing jiff features).
pub(crate) fn zone(name: &str) -> Result<jiff::tz::TimeZone, ZoneError> {
    if name == "UTC" {
        return Ok(jiff::tz::TimeZone::UTC);
    }
    if let Ok(tz) = jiff::tz::TimeZone::get(name) {
        return Ok(tz);
    }
    let err = || ZoneError { name: name.to_owned() };
    let safe = !name.is_empty()
        && !name.split('/').any(|p| p.is_empty() || p == "." || p == "..")
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "/_-+".contains(c));
    if !safe {
        return Err(err());
    }
    let data = std::fs::read(Path::new("/usr/share/zoneinfo").join(name)).map_err(|_| err())?;
    jiff::tz::TimeZone::tzif(name, &data).map_err(|_| err())
}

/// An IANA time zone, to put a response's time into a day.
#[derive(Clone, Debug)]
pub struct Zone(jiff::tz::TimeZone);

impl Zone {
    /// The zone named `name` (`UTC`, `America/Los_Angeles`, …).
    pub fn get(name: &str) -> Result<Zone, ZoneError> {
        zone(name).map(Zone)
    }

    /// `YYYY-MM-DD` of Unix second `at` in this zone.
    pub fn day(&self, at: i64) -> String {
        day(at, &self.0)
    }
}

/// `YYYY-MM-DD` of Unix second `at` in `tz`.
pub(crate) fn day(at: i64, tz: &jiff::tz::TimeZone) -> String {
    let ts = jiff::Timestamp::from_second(at).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    ts.to_zoned(tz.clone()).date().to_string()
}

pub(crate) fn daily(
    responses: &[Response],
    tz: &str,
) -> Result<BTreeMap<(String, String), Tokens>, ZoneError> {
    let tz = zone(tz)?;
    let mut out: BTreeMap<(String, String), Tokens> = BTreeMap::new();
    for r in responses {
        out.entry((day(r.at, &tz), r.model.clone())).or_default().add(&r.tokens);
    }
    Ok(out)
}
