//! What the writer of a turn event knows of it, handed to a reader in the same process so the
//! reader need not parse the line back (the CCP backfill hands each event it appends to the
//! rollup that refreshes the summary).
//!
//! These are the fields a reader counts, as the line says them: the line's JSON strings
//! unescaped, its numbers as written (the v1 writers print the shortest text that reads back as
//! the same `f64`), its timestamps in whole microseconds. A writer that hands facts over
//! promises that parsing the line it wrote would give the same values; the rest of the line
//! (ids other than `event_id`, `subagent`, `input_kind`, the `decision` block's numbers, …) is
//! the writer's business and is not repeated here.

/// One `{"type":"turn", …}` event: no `measurement`, `feature`, `value` or `outcome` block, an
/// empty `attribution`, no `capacity_used` and no cache token counts (what the CCP backfill
/// writes).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TurnFacts<'a> {
    /// `event_id`.
    pub event_id: &'a str,
    /// `ts`, in microseconds since the Unix epoch.
    pub ts_us: i64,
    /// `turn.session_id`.
    pub session_id: &'a str,
    /// `turn.model`.
    pub model: &'a str,
    /// `turn.tokens_in`.
    pub tokens_in: u64,
    /// `turn.tokens_out`.
    pub tokens_out: u64,
    /// `turn.latency_ms`.
    pub latency_ms: f64,
    /// `turn.responded_at`, in microseconds since the Unix epoch.
    pub responded_at_us: Option<i64>,
    /// `turn.ccp`, the CCP backfill's block.
    pub ccp: Option<CcpFacts<'a>>,
    /// `cost`.
    pub cost: Option<CostFacts<'a>>,
    /// `decision.reroute_decision` (present with the `decision` block).
    pub reroute_decision: Option<&'a str>,
}

/// `turn.ccp`: the request as CCP's log told it. The fields are in the order the line has them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CcpFacts<'a> {
    /// `end`: `completed`, `error` or `no_completion`.
    pub end: &'a str,
    /// `failed`.
    pub failed: bool,
    /// `status` (`null` when `None`).
    pub status: Option<i64>,
    /// `fallbacks`.
    pub fallbacks: u64,
    /// `first_attempt_status` (absent when `None`).
    pub first_attempt_status: Option<i64>,
    /// `err_type` (absent when empty).
    pub err_type: &'a str,
    /// `ttft_ms` (absent when `None`).
    pub ttft_ms: Option<f64>,
    /// `stream_ms` (absent when `None`).
    pub stream_ms: Option<f64>,
}

/// `cost`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CostFacts<'a> {
    /// `provider`.
    pub provider: &'a str,
    /// `estimated_usd`.
    pub estimated_usd: f64,
}

/// The facts of many turns, their strings in one buffer: what a writer hands another thread
/// without an allocation per turn.
#[derive(Clone, Debug, Default)]
pub struct TurnFactsBatch {
    text: String,
    turns: Vec<Packed>,
}

/// One turn of a [`TurnFactsBatch`]: its facts with empty strings, and the lengths of the
/// strings in the batch's text, in the order [`Packed::STRINGS`] names.
#[derive(Clone, Debug)]
struct Packed {
    facts: TurnFacts<'static>,
    lens: [u32; Packed::STRINGS],
}

impl Packed {
    /// `event_id`, `session_id`, `model`, `ccp.end`, `ccp.err_type`, `cost.provider`,
    /// `reroute_decision`.
    const STRINGS: usize = 7;
}

impl TurnFactsBatch {
    /// Add the facts of one more turn.
    pub fn push(&mut self, f: &TurnFacts<'_>) {
        let strings = [
            f.event_id,
            f.session_id,
            f.model,
            f.ccp.map_or("", |c| c.end),
            f.ccp.map_or("", |c| c.err_type),
            f.cost.map_or("", |c| c.provider),
            f.reroute_decision.unwrap_or(""),
        ];
        let mut lens = [0; Packed::STRINGS];
        for (len, s) in lens.iter_mut().zip(strings) {
            // Beyond 4 GiB a string is cut (no turn's field is that long).
            let s = s.get(..s.len().min(u32::MAX as usize)).unwrap_or_default();
            self.text.push_str(s);
            *len = s.len() as u32;
        }
        let facts = TurnFacts {
            event_id: "",
            session_id: "",
            model: "",
            ccp: f.ccp.map(|c| CcpFacts { end: "", err_type: "", ..c }),
            cost: f.cost.map(|c| CostFacts { provider: "", ..c }),
            reroute_decision: f.reroute_decision.map(|_| ""),
            ..*f
        };
        self.turns.push(Packed { facts, lens });
    }

    /// Remove every turn, keeping the allocations (a batch handed back to be filled again).
    pub fn clear(&mut self) {
        self.text.clear();
        self.turns.clear();
    }

    /// How many turns it holds.
    pub fn len(&self) -> usize {
        self.turns.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.turns.is_empty()
    }

    /// The turns, in the order they were pushed.
    pub fn iter(&self) -> impl Iterator<Item = TurnFacts<'_>> {
        let mut at = 0;
        self.turns.iter().map(move |p| {
            let mut s = [""; Packed::STRINGS];
            for (s, len) in s.iter_mut().zip(p.lens) {
                let end = at + len as usize;
                *s = self.text.get(at..end).unwrap_or_default();
                at = end;
            }
            let [event_id, session_id, model, end, err_type, provider, reroute] = s;
            TurnFacts {
                event_id,
                session_id,
                model,
                ccp: p.facts.ccp.map(|c| CcpFacts { end, err_type, ..c }),
                cost: p.facts.cost.map(|c| CostFacts { provider, ..c }),
                reroute_decision: p.facts.reroute_decision.map(|_| reroute),
                ..p.facts
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Turns with every optional part present or absent, strings empty, long and not ASCII,
    /// come out of a batch as they went in, in order.
    #[test]
    fn a_batch_gives_back_the_turns_pushed() {
        let long = "m".repeat(70_000);
        let ccp = CcpFacts {
            end: "no_completion",
            failed: true,
            status: None,
            fallbacks: 2,
            first_attempt_status: Some(429),
            err_type: "idle_timeout",
            ttft_ms: Some(12.5),
            stream_ms: None,
        };
        let full = TurnFacts {
            event_id: "e-1",
            ts_us: 1_793_491_200_000_001,
            session_id: "ccp-2026-11-01",
            model: "modèle \"x\"",
            tokens_in: u64::MAX,
            tokens_out: 7,
            latency_ms: 0.1,
            responded_at_us: Some(-5),
            ccp: Some(ccp),
            cost: Some(CostFacts { provider: "zai", estimated_usd: 1e-9 }),
            reroute_decision: Some("quota_block"),
        };
        let bare = TurnFacts {
            event_id: "",
            session_id: "",
            model: &long,
            responded_at_us: None,
            ccp: None,
            cost: None,
            reroute_decision: None,
            ..full
        };
        let empty_strings = TurnFacts {
            ccp: Some(CcpFacts { end: "", err_type: "", ..ccp }),
            cost: Some(CostFacts { provider: "", estimated_usd: 0.0 }),
            reroute_decision: Some(""),
            ..bare
        };
        let turns = [full, bare, empty_strings, full];
        let mut batch = TurnFactsBatch::default();
        assert!(batch.is_empty());
        for t in &turns {
            batch.push(t);
        }
        assert_eq!(batch.len(), turns.len());
        assert_eq!(batch.iter().collect::<Vec<_>>(), turns);
        // Emptied and filled again, it holds only what came after.
        batch.clear();
        assert!(batch.is_empty());
        batch.push(&bare);
        assert_eq!(batch.iter().collect::<Vec<_>>(), [bare]);
    }
}
