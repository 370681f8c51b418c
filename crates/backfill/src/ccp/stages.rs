//! The CCP backfill's three stages — reading ([`super::reader`]), joining, rendering — run by
//! a fixed set of workers rather than a thread each. Every stage is sequential (one worker at
//! a time, under its lock, so the order of lines and events is kept), but any worker runs
//! whichever stage has work: the reading first (the longest stage: a worker waits only when
//! the reading cannot keep up), then the rendering, then the joining.
//!
//! Why not a thread a stage: on two cores, three busy threads leave one core idle whenever
//! the thread on it waits for a queue while the other two share the other core (the kernel
//! does not move a thread that just ran, `docs/benchmarks.md`). Two workers on two cores wait
//! only when no stage has anything to do.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};

use super::join::Finished;
use super::reader::{Batch, Msg};

/// Messages of the reading (batches of lines, mostly) waiting to be joined, at most.
const LINES_AHEAD: usize = 8;
/// Batches of requests waiting to be rendered, at most (the joining may pass it by the
/// batches one message makes).
const FINISHED_AHEAD: usize = 4;

/// The reading: `Some(batch)` to reuse when one came back; pushes the next messages (at least
/// one), or returns `false` at the end of the input.
pub(super) type ReadStage<'a> = dyn FnMut(Option<Batch>, &mut Vec<Msg>) -> bool + Send + 'a;
/// The joining of one input, pushing the batches of requests it finished; the batch of lines
/// to reuse, if it was one.
pub(super) type JoinStage<'a, E> =
    dyn FnMut(Joining, &mut Vec<Finished>) -> Result<Option<Batch>, E> + Send + 'a;
/// The rendering of one batch of requests.
pub(super) type RenderStage<'a, E> = dyn FnMut(Finished) -> Result<(), E> + Send + 'a;

/// What the joining is given.
#[allow(
    clippy::large_enum_variant,
    reason = "one a step, moved once: a batch's buffers, not its lines"
)]
pub(super) enum Joining {
    /// The reading's next message.
    Next(Msg),
    /// The input ended: the last requests.
    End,
    /// The last requests were handed over: what is left to do beside their rendering.
    Ended,
}

/// What passes between the stages, under one lock.
#[derive(Default)]
struct Queues {
    lines: VecDeque<Msg>,
    finished: VecDeque<Finished>,
    free: Vec<Batch>,
    read_done: bool,
    join_done: bool,
    /// A stage failed: every worker stops.
    stop: bool,
    /// Bumped at every change: a worker that found nothing to do waits only if nothing
    /// changed since it looked.
    generation: u64,
}

struct Pipeline<'s, 'a, E> {
    /// The error of a stage that panicked.
    panicked: &'s (dyn Fn() -> E + Sync),
    queues: Mutex<Queues>,
    changed: Condvar,
    read: Mutex<&'s mut ReadStage<'a>>,
    join: Mutex<&'s mut JoinStage<'a, E>>,
    render: Mutex<&'s mut RenderStage<'a, E>>,
}

/// Run the stages to the end of the input with `workers` workers (the calling thread and
/// `workers - 1` others); the first error of a stage stops them all and is returned.
pub(super) fn run<'a, E: Send>(
    workers: usize,
    read: &mut ReadStage<'a>,
    join: &mut JoinStage<'a, E>,
    render: &mut RenderStage<'a, E>,
    panicked: &(dyn Fn() -> E + Sync),
) -> Result<(), E> {
    let p = Pipeline {
        panicked,
        queues: Mutex::new(Queues::default()),
        changed: Condvar::new(),
        read: Mutex::new(read),
        join: Mutex::new(join),
        render: Mutex::new(render),
    };
    std::thread::scope(|s| {
        let helpers: Vec<_> = (1..workers.max(1)).map(|_| s.spawn(|| p.work())).collect();
        let mut result = p.work();
        for h in helpers {
            let r = h.join().unwrap_or_else(|_| Err(panicked()));
            if result.is_ok() {
                result = r;
            }
        }
        result
    })
}

impl<E> Pipeline<'_, '_, E> {
    /// One worker's share, to the end or the first error; a stage that panics is an error too
    /// (the other workers would otherwise wait for it for ever).
    fn work(&self) -> Result<(), E> {
        let steps = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.steps()));
        let result = steps.unwrap_or_else(|_| Err((self.panicked)()));
        if result.is_err() {
            self.update(|q| {
                q.stop = true;
                Some(())
            });
        }
        result
    }

    fn steps(&self) -> Result<(), E> {
        loop {
            let looked = self.queues().generation;
            if self.read_one() || self.render_one()? || self.join_one()? {
                continue;
            }
            let q = self.queues();
            if q.stop || (q.join_done && q.finished.is_empty()) {
                return Ok(());
            }
            if q.generation == looked {
                // Woken by the next change (a stage's step ends with one).
                drop(self.changed.wait(q));
            }
        }
    }

    fn render_one(&self) -> Result<bool, E> {
        let Ok(mut render) = self.render.try_lock() else { return Ok(false) };
        let Some(batch) = self.update(|q| if q.stop { None } else { q.finished.pop_front() })
        else {
            return Ok(false);
        };
        (render)(batch)?;
        Ok(true)
    }

    fn join_one(&self) -> Result<bool, E> {
        let Ok(mut join) = self.join.try_lock() else { return Ok(false) };
        let input = self.update(|q| {
            if q.stop || q.join_done || q.finished.len() >= FINISHED_AHEAD {
                return None;
            }
            match q.lines.pop_front() {
                Some(msg) => Some(Joining::Next(msg)),
                None if q.read_done => Some(Joining::End),
                None => None,
            }
        });
        let Some(input) = input else { return Ok(false) };
        let ended = matches!(input, Joining::End);
        let mut out = Vec::new();
        let back = (join)(input, &mut out)?;
        self.update(|q| {
            q.finished.extend(out);
            q.free.extend(back);
            q.join_done |= ended;
            Some(())
        });
        if ended {
            (join)(Joining::Ended, &mut Vec::new())?;
        }
        Ok(true)
    }

    fn read_one(&self) -> bool {
        let Ok(mut read) = self.read.try_lock() else { return false };
        let free = self.update(|q| {
            let room = !q.stop && !q.read_done && q.lines.len() < LINES_AHEAD;
            room.then(|| q.free.pop())
        });
        let Some(free) = free else { return false };
        let mut out = Vec::new();
        let more = (read)(free, &mut out);
        self.update(|q| {
            q.lines.extend(out);
            q.read_done |= !more;
            Some(())
        });
        true
    }

    fn queues(&self) -> MutexGuard<'_, Queues> {
        // A worker that panicked holding it left nothing half-changed (each change is whole).
        self.queues.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Change the queues and tell the waiting workers; `change` returns `None` when it changed
    /// nothing (then nobody is woken).
    fn update<T>(&self, change: impl FnOnce(&mut Queues) -> Option<T>) -> Option<T> {
        let mut q = self.queues();
        let out = change(&mut q)?;
        q.generation += 1;
        drop(q);
        self.changed.notify_all();
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ccp::join::Request;

    /// Messages `0..n` (as copies, the cheapest message), joined into a request each, in
    /// batches of `per`; the rendering records their order, failing at `fail_at`.
    fn run_numbers(
        workers: usize,
        n: usize,
        per: usize,
        fail_at: Option<i64>,
    ) -> (Result<(), String>, Vec<i64>) {
        let mut next = 0;
        let mut read = |_: Option<Batch>, out: &mut Vec<Msg>| {
            if next == n {
                return false;
            }
            out.push(Msg::Copy { job: next, original: String::new() });
            next += 1;
            true
        };
        let mut pending: Finished = Vec::new();
        let (mut ends, mut after) = (0, 0);
        let mut join = |input: Joining, out: &mut Vec<Finished>| -> Result<Option<Batch>, String> {
            match input {
                Joining::Next(Msg::Copy { job, .. }) => {
                    pending.push(Box::new(Request { at_us: job as i64, ..Request::default() }));
                    if pending.len() == per {
                        out.push(std::mem::take(&mut pending));
                    }
                }
                Joining::Next(_) => return Err("not a number".to_owned()),
                Joining::End => {
                    ends += 1;
                    out.push(std::mem::take(&mut pending));
                }
                Joining::Ended => after += 1,
            }
            Ok(None)
        };
        let mut rendered = Vec::new();
        let mut render = |batch: Finished| -> Result<(), String> {
            for r in batch {
                if Some(r.at_us) == fail_at {
                    return Err(format!("failed at {}", r.at_us));
                }
                rendered.push(r.at_us);
            }
            Ok(())
        };
        let result = run(workers, &mut read, &mut join, &mut render, &|| "panicked".to_owned());
        if result.is_ok() {
            assert_eq!((ends, after), (1, 1), "the end is joined once, then tidied once");
        }
        (result, rendered)
    }

    #[test]
    fn every_message_is_rendered_once_in_order_whatever_the_workers() {
        for workers in [1, 2, 3, 4] {
            for (n, per) in [(0, 1), (1, 1), (1000, 7), (5000, 64)] {
                let (result, rendered) = run_numbers(workers, n, per, None);
                assert_eq!(result, Ok(()));
                let want: Vec<i64> = (0..n as i64).collect();
                assert_eq!(rendered, want, "{workers} workers, {n} messages by {per}");
            }
        }
    }

    #[test]
    fn a_failing_stage_stops_every_worker_and_its_error_is_returned() {
        for workers in [1, 2, 3] {
            let (result, rendered) = run_numbers(workers, 5000, 16, Some(1234));
            assert_eq!(result, Err("failed at 1234".to_owned()), "{workers} workers");
            // Nothing after the failure is rendered; everything before it is, in order.
            let want: Vec<i64> = (0..1234).collect();
            assert_eq!(rendered, want);
        }
    }

    #[test]
    fn a_panicking_stage_ends_the_run_with_an_error_instead_of_hanging() {
        let mut read = |_: Option<Batch>, _: &mut Vec<Msg>| -> bool { panic!("reader broke") };
        let mut join =
            |_: Joining, _: &mut Vec<Finished>| -> Result<Option<Batch>, String> { Ok(None) };
        let mut render = |_: Finished| -> Result<(), String> { Ok(()) };
        for workers in [1, 2, 3] {
            let result = run(workers, &mut read, &mut join, &mut render, &|| "panicked".to_owned());
            assert_eq!(result, Err("panicked".to_owned()), "{workers} workers");
        }
    }
}
