//! AgentOS privacy tiers: the one place that decides what recorded data may leave the machine.
//!
//! What it is for: given a [`Tier`] (`local`, `minimized`, `full`), this crate says whether a
//! metrics summary or an event may be uploaded at all ([`TierPolicy`]), which license
//! entitlement that needs ([`TierPolicy::required_entitlement`]), and turns the local data into
//! the exact upload payloads: [`MinimizedPayload`] (aggregate numbers only — the type cannot
//! hold an id, a name or free text) and [`redact_event`] (full tier: every free-text or
//! identifying field replaced by a content hash `{"sha256": hex, "len": bytes}`, driven by the
//! explicit allow-list [`RULES`]). `docs/privacy.md` is generated from this code by
//! [`render_markdown`].
//!
//! What it is not: it does no I/O (no files, no network), checks no license signatures (that
//! is `agentos-licensing`) and sends nothing (that is `agentos-ccc-client`).
//!
//! ```
//! use agentos_privacy::{redact_value, Tier, TierPolicy};
//! assert_eq!(Tier::Full.required_entitlement(), Some("telemetry_full"));
//! assert!(!Tier::Local.uploads_summary());
//! let redacted = redact_value(&serde_json::json!({
//!     "type": "session_end", "session_id": "s1",
//!     "ended_at": "2026-01-01T00:00:00Z", "notes": "secret plan"}));
//! assert_eq!(redacted["ended_at"], "2026-01-01T00:00:00Z");
//! assert_eq!(redacted["notes"]["len"], 11);
//! ```
#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod docs;
mod minimized;
mod per_model;
mod redact;
mod turn_view;

pub use agentos_event_schema::v1::PrivacyTier as Tier;
pub use docs::render_markdown;
pub use minimized::{InvalidVersion, MinimizedPayload, MinimizedPeriod, SchemaVersion};
pub use per_model::ModelFigures;
pub use redact::{
    Format, OTHER, RULES, Rule, content_hash, redact_event, redact_value, rule_for, sha256_hex,
};
pub use turn_view::{SessionView, Text, TurnView, session_view, turn_view};

use agentos_event_schema::v1::{Event, MetricsSummary};

/// Entitlement a license must grant for minimized (aggregate metrics) uploads.
pub const ENTITLEMENT_MINIMIZED: &str = "telemetry_minimized";
/// Entitlement a license must grant for full (redacted events) uploads.
pub const ENTITLEMENT_FULL: &str = "telemetry_full";

/// What each tier allows. Implemented for [`Tier`]; the single source of these decisions.
pub trait TierPolicy {
    /// The license entitlement uploads in this tier need; `None` for `local` (nothing is sent).
    fn required_entitlement(&self) -> Option<&'static str>;
    /// Whether the aggregate metrics summary ([`MinimizedPayload`]) may be uploaded.
    fn uploads_summary(&self) -> bool;
    /// Whether redacted events may be uploaded.
    fn uploads_events(&self) -> bool;
    /// Whether this tier may open any network connection at all.
    fn uses_network(&self) -> bool {
        self.uploads_summary() || self.uploads_events()
    }
    /// Whether this tier lets at most as much leave the machine as `other` does (`local` is
    /// at least as private as every tier, `full` only as `full`). The one comparison of tiers:
    /// [`Tier`] has no order of its own.
    fn is_at_least_as_private_as(&self, other: &Tier) -> bool;
}

impl TierPolicy for Tier {
    fn required_entitlement(&self) -> Option<&'static str> {
        match self {
            Tier::Local => None,
            Tier::Minimized => Some(ENTITLEMENT_MINIMIZED),
            Tier::Full => Some(ENTITLEMENT_FULL),
            // A tier this version does not know sends nothing, so it needs nothing.
            _ => None,
        }
    }

    fn uploads_summary(&self) -> bool {
        matches!(self, Tier::Minimized | Tier::Full)
    }

    fn uploads_events(&self) -> bool {
        matches!(self, Tier::Full)
    }

    fn is_at_least_as_private_as(&self, other: &Tier) -> bool {
        privacy_rank(*self) >= privacy_rank(*other)
    }
}

/// How private a tier is: the more that stays on the machine, the higher.
fn privacy_rank(tier: Tier) -> u8 {
    match tier {
        Tier::Full => 0,
        Tier::Minimized => 1,
        // A tier this version does not know sends nothing, like `local`.
        _ => 2,
    }
}

/// The license entitlement `tier` needs (free-function form of
/// [`TierPolicy::required_entitlement`]).
pub fn required_entitlement(tier: Tier) -> Option<&'static str> {
    tier.required_entitlement()
}

/// The summary payload `tier` may upload for `summary`, or `None` when the tier sends no
/// summary. Both `minimized` and `full` send the same aggregate-only [`MinimizedPayload`].
pub fn summary_payload(tier: Tier, summary: &MetricsSummary) -> Option<MinimizedPayload> {
    tier.uploads_summary().then(|| MinimizedPayload::from_summary(summary))
}

/// The per-model figures `tier` may send to an OpenTelemetry collector (usage and cost by
/// model and provider), or `None`: only the `full` tier, where model names already leave with
/// every redacted event, sends them.
pub fn per_model_payload(tier: Tier, summary: &MetricsSummary) -> Option<Vec<ModelFigures>> {
    tier.uploads_events().then(|| per_model::from_summary(summary))
}

/// The redacted event `tier` may upload, or `None` when the tier sends no events.
/// An event type this version does not know is never uploaded, in any tier.
pub fn event_payload(tier: Tier, event: &Event) -> Option<serde_json::Value> {
    let known = !matches!(event, Event::Unknown(_));
    (known && tier.uploads_events()).then(|| redact_event(event))
}

#[cfg(test)]
mod tests;
