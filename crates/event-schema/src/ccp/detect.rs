//! Recognise which CCP document a JSON value is, from its keys alone (so a document with a
//! wrongly typed field is still recognised and then reported by validation).

use serde_json::Value as Json;

use crate::catalog::SchemaKind;

/// The schema a CCP (or AgentOS) JSON document should validate against, or `None` when the
/// document is not one this crate models.
pub fn detect_kind(value: &Json) -> Option<SchemaKind> {
    let obj = value.as_object()?;
    let has = |k: &str| obj.contains_key(k);
    if let Some(Json::String(t)) = obj.get("type")
        && matches!(t.as_str(), "session" | "turn" | "session_end")
    {
        return Some(SchemaKind::V1Event);
    }
    if has("rid") && has("ts") {
        return Some(SchemaKind::CcpUsageLine);
    }
    if has("config") && has("loaded") {
        return Some(SchemaKind::CcpQuotas);
    }
    if has("granularity") && has("models") {
        return Some(SchemaKind::CcpUsageRollups);
    }
    if has("models") && has("ts") {
        let models = obj.get("models").and_then(Json::as_object);
        let arrays = models.is_some_and(|m| m.values().any(Json::is_array));
        // An empty samples body (`{"models":{},"ts":…}`) has no `path`: `/v1/usage` always
        // sends one.
        let empty_samples = models.is_some_and(serde_json::Map::is_empty) && !has("path");
        return Some(if arrays || empty_samples {
            SchemaKind::CcpUsageSamples
        } else {
            SchemaKind::CcpUsage
        });
    }
    if has("providers") && has("ts") {
        return Some(SchemaKind::CcpReadyz);
    }
    if has("windows") && has("models") {
        return Some(SchemaKind::CcpQuotasConfig);
    }
    if has("total") && (has("byLane") || has("errs") || has("decisions")) {
        return Some(SchemaKind::CcpMetricsSummary);
    }
    if has("license") && has("signature") {
        return Some(SchemaKind::CcpLicensePack);
    }
    if obj.get("schema").and_then(Json::as_str).is_some_and(|s| s.starts_with("ccp.license")) {
        return Some(SchemaKind::CcpLicenseClaims);
    }
    if has("keys") && has("version") {
        return Some(SchemaKind::CcpPubkeys);
    }
    None
}
