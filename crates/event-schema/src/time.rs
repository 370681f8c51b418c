//! RFC 3339 timestamps, always normalised to UTC.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An instant, read from any RFC 3339 string (`Z` or a numeric offset such as the
/// `+00:00` the Python client wrote) and always written in UTC with microseconds:
/// `2026-11-22T01:02:03.000000Z`. Precision is microseconds (finer input is truncated), so
/// what is written reads back equal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(jiff::Timestamp);

/// A string that is not an RFC 3339 timestamp with an offset.
#[derive(Debug, thiserror::Error)]
#[error("invalid RFC 3339 timestamp {input:?}: {reason} (expected e.g. 2026-11-22T01:02:03Z)")]
pub struct TimestampError {
    input: String,
    reason: String,
}

impl Timestamp {
    /// The current time.
    pub fn now() -> Self {
        Timestamp::micros(jiff::Timestamp::now())
    }

    /// Truncate to the microsecond precision the written form keeps.
    fn micros(ts: jiff::Timestamp) -> Self {
        Timestamp(jiff::Timestamp::from_microsecond(ts.as_microsecond()).unwrap_or(ts))
    }

    /// Seconds since the Unix epoch, with fraction (the form CCP uses for `ts`).
    pub fn from_unix_seconds_f64(secs: f64) -> Option<Self> {
        if !secs.is_finite() {
            return None;
        }
        let nanos = (secs * 1e9).round();
        if nanos.abs() > i64::MAX as f64 {
            return None;
        }
        jiff::Timestamp::from_nanosecond(nanos as i128).ok().map(Timestamp::micros)
    }

    /// Whole seconds since the Unix epoch.
    pub fn from_unix_seconds(secs: i64) -> Option<Self> {
        jiff::Timestamp::from_second(secs).ok().map(Timestamp)
    }

    /// Microseconds since the Unix epoch; `None` outside the years -9999 to 9999.
    pub fn from_unix_micros(micros: i64) -> Option<Self> {
        jiff::Timestamp::from_microsecond(micros).ok().map(Timestamp)
    }

    /// Microseconds since the Unix epoch.
    pub fn as_unix_micros(&self) -> i64 {
        self.0.as_microsecond()
    }

    /// Seconds since the Unix epoch, with fraction.
    pub fn as_unix_seconds_f64(&self) -> f64 {
        self.0.as_nanosecond() as f64 / 1e9
    }

    /// Whole seconds since the Unix epoch (rounded down).
    pub fn as_unix_seconds(&self) -> i64 {
        self.0.as_second()
    }

    /// The UTC calendar day, `YYYY-MM-DD`.
    pub fn utc_date(&self) -> String {
        self.0.strftime("%Y-%m-%d").to_string()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.strftime("%Y-%m-%dT%H:%M:%S%.6fZ"))
    }
}

impl FromStr for Timestamp {
    type Err = TimestampError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse::<jiff::Timestamp>()
            .map(Timestamp::micros)
            .map_err(|e| TimestampError { input: s.to_owned(), reason: e.to_string() })
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl JsonSchema for Timestamp {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Timestamp".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "format": "date-time",
            "description": "RFC 3339 timestamp; written in UTC with microseconds, read with any offset"
        })
    }
}
