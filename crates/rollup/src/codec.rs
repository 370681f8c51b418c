//! A compact binary form of the per-session aggregates for the checkpoint: it is the one part
//! of the aggregate that grows with the history (~20 000 sessions per million events), and
//! JSON would make every resumed rollup pay for parsing it.
//!
//! Per session: id (`u32` length + UTF-8), turns, tokens in, tokens out (`u64`), cost,
//! features, capacity (each a compensated sum: two `f64`), a flags byte (created, first seen,
//! ended, announced, undated), the present timestamps (`i128` nanoseconds), and the undated
//! share as JSON (`u32` length + bytes; legacy logs only). All little-endian.

use crate::acc::{RowAcc, SessAcc, Sum, Undated, When};
use crate::sessions::Sessions;

const CREATED: u8 = 1;
const FIRST_SEEN: u8 = 2;
const ENDED: u8 = 4;
const ANNOUNCED: u8 = 8;
const UNDATED: u8 = 16;

fn put_sum(out: &mut Vec<u8>, s: Sum) {
    out.extend_from_slice(&s.s.to_le_bytes());
    out.extend_from_slice(&s.c.to_le_bytes());
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u32).to_le_bytes());
    out.extend_from_slice(b);
}

/// Encode every session at the end of `out` (the order does not matter).
pub(crate) fn encode_sessions(out: &mut Vec<u8>, sessions: &Sessions) {
    for (id, s) in sessions.iter() {
        encode_session(out, id, s);
    }
}

/// Encode one session at the end of `out`.
pub(crate) fn encode_session(out: &mut Vec<u8>, id: &str, s: &SessAcc) {
    put_bytes(out, id.as_bytes());
    for n in [s.row.turns, s.row.tokens_in, s.row.tokens_out] {
        out.extend_from_slice(&n.to_le_bytes());
    }
    for sum in [s.row.cost, s.row.features, s.row.capacity] {
        put_sum(out, sum);
    }
    let undated = s.undated.as_ref().and_then(|u| serde_json::to_vec(u).ok());
    let flags = [
        (s.created.get().is_some(), CREATED),
        (s.first_seen.get().is_some(), FIRST_SEEN),
        (s.ended, ENDED),
        (s.announced, ANNOUNCED),
        (undated.is_some(), UNDATED),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .fold(0u8, |f, (_, bit)| f | bit);
    out.push(flags);
    for t in [s.created.get(), s.first_seen.get()].into_iter().flatten() {
        out.extend_from_slice(&t.as_nanosecond().to_le_bytes());
    }
    if let Some(u) = undated {
        put_bytes(out, &u);
    }
}

/// Reads little-endian fields off the front of a byte slice; `None` when too few bytes are
/// left (every decoder here treats that as "not what we wrote"). Also the usage cache's reader.
pub(crate) struct Reader<'a>(pub(crate) &'a [u8]);

impl<'a> Reader<'a> {
    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }
    pub(crate) fn u8(&mut self) -> Option<u8> {
        self.take(1)?.first().copied()
    }
    pub(crate) fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
    pub(crate) fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    pub(crate) fn u128(&mut self) -> Option<u128> {
        Some(u128::from_le_bytes(self.take(16)?.try_into().ok()?))
    }
    fn f64(&mut self) -> Option<f64> {
        Some(f64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn sum(&mut self) -> Option<Sum> {
        Some(Sum { s: self.f64()?, c: self.f64()? })
    }
    fn time(&mut self) -> Option<jiff::Timestamp> {
        let ns = i128::from_le_bytes(self.take(16)?.try_into().ok()?);
        jiff::Timestamp::from_nanosecond(ns).ok()
    }
    fn bytes(&mut self) -> Option<&'a [u8]> {
        let n = usize::try_from(self.u32()?).ok()?;
        self.take(n)
    }
}

/// Decode what [`encode_sessions`] wrote; `None` when the bytes are not exactly that.
pub(crate) fn decode_sessions(bytes: &[u8]) -> Option<Sessions> {
    let mut r = Reader(bytes);
    // A hint: a session with a 36-byte id and one timestamp takes 130 bytes.
    let mut out = Sessions::with_capacity(bytes.len() / 130);
    while !r.0.is_empty() {
        let (id, s) = r.session()?;
        if out.insert(&id, s).is_some() {
            return None;
        }
    }
    Some(out)
}

/// Decode exactly one session, as [`encode_session`] wrote it.
pub(crate) fn decode_session(bytes: &[u8]) -> Option<(String, SessAcc)> {
    let mut r = Reader(bytes);
    let out = r.session()?;
    r.0.is_empty().then_some(out)
}

impl Reader<'_> {
    fn session(&mut self) -> Option<(String, SessAcc)> {
        let r = self;
        let id = std::str::from_utf8(r.bytes()?).ok()?.to_owned();
        let (turns, tokens_in, tokens_out) = (r.u64()?, r.u64()?, r.u64()?);
        let row = RowAcc {
            turns,
            tokens_in,
            tokens_out,
            cost: r.sum()?,
            features: r.sum()?,
            capacity: r.sum()?,
        };
        let flags = r.u8()?;
        let created = if flags & CREATED != 0 { Some(r.time()?) } else { None };
        let first_seen = if flags & FIRST_SEEN != 0 { Some(r.time()?) } else { None };
        let undated = if flags & UNDATED != 0 {
            Some(Box::new(serde_json::from_slice::<Undated>(r.bytes()?).ok()?))
        } else {
            None
        };
        let s = SessAcc {
            row,
            created: When::of(created),
            first_seen: When::of(first_seen),
            ended: flags & ENDED != 0,
            announced: flags & ANNOUNCED != 0,
            undated,
        };
        Some((id, s))
    }
}
