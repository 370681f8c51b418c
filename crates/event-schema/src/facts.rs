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
