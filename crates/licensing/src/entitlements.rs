//! Known entitlements and which plan carries them (for "what to do" messages and listings).

/// Upload minimized metrics (privacy tier `minimized`).
pub const TELEMETRY_MINIMIZED: &str = "telemetry_minimized";
/// Upload full events (privacy tier `full`).
pub const TELEMETRY_FULL: &str = "telemetry_full";

/// Features AgentOS (and CCP) know, with the plan that includes each.
pub const KNOWN_FEATURES: &[(&str, &str)] = &[
    (TELEMETRY_MINIMIZED, "pro"),
    (TELEMETRY_FULL, "enterprise"),
    ("mixed_models", "pro"),
    ("advanced_dashboards", "enterprise"),
    ("zai_offload", "pro"),
];

/// The plan that includes `feature`, when known.
pub fn plan_for(feature: &str) -> Option<&'static str> {
    KNOWN_FEATURES.iter().find(|(f, _)| *f == feature).map(|(_, p)| *p)
}

pub(crate) fn missing_hint(feature: &str) -> String {
    match plan_for(feature) {
        Some(plan) => format!(
            "it comes with plan `{plan}`: install a license that includes it; the local tier needs no license"
        ),
        None => "no plan is known to include it: ask your issuer; the local tier needs no license"
            .to_owned(),
    }
}
