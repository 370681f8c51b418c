//! CCP's routing enums as carried by a `decision` (`reroute_mode`, `reroute_decision`): the
//! values CCP's contract lists, plus an `Other` bucket that keeps any other text, so a line
//! with a value this version does not know still reads (and round-trips locally). On the wire
//! each is a plain JSON string, exactly as in the Python v1 schema.

use super::open_enum::open_enum;

open_enum!(
    /// CCP's `reroute_mode`.
    RerouteMode, "CCP's reroute mode",
    /// A value CCP's contract does not list, kept as written (never sent in clear).
    Other,
    {
        /// Route by quota, warn before the limit.
        Hybrid = "hybrid",
        /// Reroute before the limit is reached.
        Preemptive = "preemptive",
        /// Run to the cap, then reroute.
        Run2cap = "run2cap",
    }
);

open_enum!(
    /// CCP's `reroute_decision` (the quota decision of one request).
    RerouteDecision, "CCP's quota decision",
    /// A value CCP's contract does not list, kept as written (never sent in clear).
    Other,
    {
        /// Within quota.
        QuotaPass = "quota_pass",
        /// Warn threshold reached, preferred lane attempted.
        QuotaWarnAttempt = "quota_warn_attempt",
        /// Cooling down after a limit.
        QuotaCooldown = "quota_cooldown",
        /// Blocked by quota.
        QuotaBlock = "quota_block",
        /// Preemptive mode, warn threshold reached.
        QuotaPreemptiveWarn = "quota_preemptive_warn",
        /// Preemptive mode, ordinary request.
        QuotaPreemptivePass = "quota_preemptive_pass",
        /// Run-to-cap mode.
        QuotaRunToLimit = "quota_run_to_limit",
        /// Fell back to the other lane.
        Fallback = "fallback",
        /// Quota overshot.
        QuotaOvershoot = "quota_overshoot",
        /// Network fallback.
        NetFallback = "net_fallback",
    }
);
