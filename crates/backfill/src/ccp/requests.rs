//! The joining stage's side of a CCP backfill: a batch of read lines fed to the [`Joiner`] in
//! order (bad lines reported, or fatal with `--strict`), and the requests it finishes noted as
//! seen, counted and gathered in batches for the rendering.

use super::join::{Finished, Joiner};
use super::parse;
use super::reader::{Batch, Item, Pre};
use super::report::CcpReport;
use super::seen::Seen;
use crate::Error;
use crate::record::Diagnostic;

/// Where finished requests go: their keys noted as seen, counted, and gathered in batches for
/// the rendering.
pub(super) struct Requests<'a> {
    pub report: &'a mut CcpReport,
    pub seen: &'a mut Seen,
    pub since: Option<i64>,
    /// Full batches, for the rendering.
    pub ready: Vec<Finished>,
    pub batch: Finished,
}

/// Requests handed to the rendering at a time.
pub(super) const BATCH_REQUESTS: usize = 1024;

impl Requests<'_> {
    pub fn drain(&mut self, done: &mut Finished) -> Result<(), Error> {
        for r in done.drain(..) {
            // A request before `--since` is not written, so not remembered either; its keys
            // are noted still, so its copies in this run count once.
            let written = self.since.is_none_or(|s| r.at_us >= s);
            self.seen.insert(r.key, r.at_us, written)?;
            if let Some(k) = r.done_key {
                self.seen.insert(k, r.end_us, written)?;
            }
            if !written {
                self.report.before_since += 1;
                continue;
            }
            self.report.request(&r);
            self.batch.push(r);
            if self.batch.len() >= BATCH_REQUESTS {
                self.send();
            }
        }
        Ok(())
    }

    pub fn send(&mut self) {
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH_REQUESTS));
        if !batch.is_empty() {
            self.ready.push(batch);
        }
    }
}

/// Join the lines of one batch of file `name`; the lines counted (a torn last line is not).
pub(super) fn feed_batch(
    batch: &Batch,
    name: &str,
    joiner: &mut Joiner,
    sink: &mut Requests<'_>,
    done: &mut Finished,
    strict: bool,
) -> Result<u64, Error> {
    let mut lines = 0u64;
    let bad = |sink: &mut Requests<'_>, no: u64, reason: String| -> Result<(), Error> {
        let d = Diagnostic { file: name.to_owned(), line: no, reason };
        if strict {
            return Err(Error::BadLine { line: d.to_string() });
        }
        sink.report.bad_line(&d);
        Ok(())
    };
    for item in &batch.items {
        if !matches!(item, Item::Torn { .. }) {
            lines += 1;
            sink.report.lines += 1;
        }
        match *item {
            Item::Fast { rec, pre } => {
                if let Some(rec) = batch.rec(rec) {
                    joiner.feed(&rec, pre, 0, sink.seen, done)?;
                }
            }
            Item::Slow { no, at, len } => {
                let parsed = parse::parse_line(batch.raw(at, len));
                if let Some(why) = parsed.problem {
                    bad(sink, no, why)?;
                }
                for rec in &parsed.recs {
                    joiner.feed(rec, Pre::of(rec), 0, sink.seen, done)?;
                    // Two copies of one request on one line: the first one's keys are seen.
                    sink.drain(done)?;
                }
            }
            Item::Blank => sink.report.blank_lines += 1,
            Item::TooLong { no, len } => {
                bad(sink, no, format!("line of {len} bytes is over the limit, skipped"))?;
            }
            Item::Torn { no } => {
                bad(sink, no, "incomplete last line (read again once it is complete)".to_owned())?;
            }
        }
        if !done.is_empty() {
            sink.drain(done)?;
        }
    }
    Ok(lines)
}
