//! Turn event lines written by hand: the one fixed shape an import writes hundreds of
//! thousands of times, byte for byte what serde writes for [`events::turn_event`] (a test holds
//! them equal and parses every line back with the v1 types), without building the typed event
//! or formatting its times through a general-purpose formatter.

use std::io::Write;

use agentos_event_schema::v1::SCHEMA_VERSION;

use crate::Error;
use crate::events::{self, TurnFacts};

/// Append the turn event of `f` as one compact JSON line (no newline).
pub(crate) fn write_turn(out: &mut Vec<u8>, f: &TurnFacts<'_>) -> Result<(), Error> {
    let (event_id, turn_id, usage, revises) = events::turn_parts(f);
    let mut at = [0u8; 27];
    let at = timestamp(&mut at, f.at);
    out.extend_from_slice(b"{\"type\":\"turn\",\"event_id\":");
    string(out, &event_id)?;
    out.extend_from_slice(b",\"ts\":");
    string(out, at)?;
    out.extend_from_slice(b",\"schema_version\":");
    string(out, SCHEMA_VERSION)?;
    out.extend_from_slice(b",\"turn\":{\"turn_id\":");
    string(out, &turn_id)?;
    out.extend_from_slice(b",\"session_id\":");
    string(out, f.session)?;
    out.extend_from_slice(b",\"model\":");
    string(out, f.model)?;
    out.extend_from_slice(b",\"subagent\":");
    string(out, f.subagent)?;
    let io = |e: std::io::Error| Error::Encode(serde_json::Error::io(e));
    write!(out, ",\"tokens_in\":{},\"tokens_out\":{}", usage.input, usage.output).map_err(io)?;
    out.extend_from_slice(
        b",\"input_kind\":\"text\",\"latency_ms\":0.0,\"attribution\":{},\"capacity_used\":null",
    );
    write!(
        out,
        ",\"cache_creation_tokens\":{},\"cache_creation_1h_tokens\":{},\"cache_read_tokens\":{}",
        usage.cache_write, usage.cache_write_1h, usage.cache_read
    )
    .map_err(io)?;
    out.extend_from_slice(if f.sidechain {
        b",\"sidechain\":true"
    } else {
        b",\"sidechain\":false"
    });
    out.extend_from_slice(b",\"responded_at\":");
    string(out, at)?;
    if let Some(r) = &revises {
        out.extend_from_slice(b",\"revises\":");
        string(out, r)?;
    }
    out.push(b'}');
    if let Some(cost) = events::turn_cost(f) {
        out.extend_from_slice(b",\"cost\":");
        serde_json::to_writer(&mut *out, &cost)?;
    }
    out.push(b'}');
    Ok(())
}

/// A JSON string: copied as is when nothing in it needs escaping, else through serde.
fn string(out: &mut Vec<u8>, s: &str) -> Result<(), Error> {
    if s.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
        Ok(())
    } else {
        Ok(serde_json::to_writer(out, s)?)
    }
}

/// Latest time written by the fast path: 9998-12-31T23:59:59.999999Z (`Timestamp` ends
/// late in 9999).
pub(crate) const LAST_FAST: i64 = 253_370_764_799_999_999;

/// The proleptic Gregorian (year, month, day) of day number `days` (days since 1970-01-01,
/// any sign): Howard Hinnant's `civil_from_days`.
pub(crate) fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

/// `micros` since the epoch as `Timestamp` writes it (`YYYY-MM-DDTHH:MM:SS.ffffffZ`): by
/// arithmetic for years 1970 to 9998, through `Timestamp` otherwise.
pub(crate) fn timestamp(buf: &mut [u8; 27], micros: i64) -> &str {
    if !(0..=LAST_FAST).contains(&micros) {
        let s = events::ts(micros).to_string();
        let n = s.len().min(27);
        buf[..n].copy_from_slice(&s.as_bytes()[..n]);
        return std::str::from_utf8(&buf[..n]).unwrap_or_default();
    }
    let secs = micros / 1_000_000;
    let frac = micros % 1_000_000;
    let (days, sod) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    let mut put = |at: usize, width: usize, mut v: i64| {
        for i in (at..at + width).rev() {
            buf[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, 4, year);
    put(5, 2, month);
    put(8, 2, day);
    put(11, 2, sod / 3600);
    put(14, 2, sod / 60 % 60);
    put(17, 2, sod % 60);
    put(20, 6, frac);
    for (i, c) in [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':'), (19, b'.'), (26, b'Z')]
    {
        buf[i] = c;
    }
    std::str::from_utf8(&buf[..]).unwrap_or_default()
}
