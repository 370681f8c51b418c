//! Rollup figures as OTLP metrics. The input is the aggregate-only payload the privacy tier
//! allows (`agentos_privacy::MinimizedPayload`): totals since the first event become
//! cumulative sums (start = the period's first event), ratios become gauges. The payload holds
//! no names by construction, so these points carry no model or provider attribute; in the full
//! tier the per-model figures privacy allows (`agentos_privacy::per_model_payload`) become the
//! `agentos.model.*` metrics with `gen_ai.request.model` and `gen_ai.provider.name`.

use agentos_event_schema::Timestamp;
use agentos_privacy::{MinimizedPayload, ModelFigures};

use crate::logs::{nanos, resource};
use crate::model::{
    ExportMetricsServiceRequest, KeyValue, Metric, MetricData, NumberDataPoint, NumberValue,
    ResourceMetrics, ScopeMetrics, TEMPORALITY_CUMULATIVE,
};
use crate::semconv as sc;
use crate::{ExportOptions, scope};

/// Metric names.
pub mod names {
    /// Σ estimated cost, USD (cumulative sum).
    pub const COST: &str = "agentos.cost";
    /// Σ tokens by `gen_ai.token.type` (cumulative sum).
    pub const TOKENS: &str = "agentos.tokens";
    /// Σ features shipped (cumulative sum).
    pub const FEATURES_SHIPPED: &str = "agentos.features.shipped";
    /// Σ capacity used (cumulative sum).
    pub const CAPACITY_USED: &str = "agentos.capacity.used";
    /// Sessions (cumulative sum).
    pub const SESSIONS: &str = "agentos.sessions";
    /// Turns (cumulative sum).
    pub const TURNS: &str = "agentos.turns";
    /// Cost per shipped feature, USD (gauge).
    pub const COST_PER_SHIPPED_FEATURE: &str = "agentos.cost_per_shipped_feature";
    /// Features per unit of capacity (gauge).
    pub const FEATURES_PER_CAPACITY: &str = "agentos.features_per_capacity";
    /// Per model: Σ estimated cost, USD (cumulative sum; full tier).
    pub const MODEL_COST: &str = "agentos.model.cost";
    /// Per model: Σ tokens by `gen_ai.token.type` (cumulative sum; full tier).
    pub const MODEL_TOKENS: &str = "agentos.model.tokens";
    /// Per model: turns (cumulative sum; full tier).
    pub const MODEL_TURNS: &str = "agentos.model.turns";
    /// Per model: cost per shipped feature, USD (gauge; full tier, when measured).
    pub const MODEL_COST_PER_SHIPPED_FEATURE: &str = "agentos.model.cost_per_shipped_feature";
}

/// One `ExportMetricsServiceRequest` for a summary payload, taken at `now` (the payload's
/// `generated_at` when it has one). Figures that are not finite or not defined are left out.
pub fn metrics_request(
    payload: &MinimizedPayload,
    per_model: &[ModelFigures],
    now: Timestamp,
    opts: &ExportOptions,
) -> ExportMetricsServiceRequest {
    let time = nanos(payload.generated_at.unwrap_or(now));
    let start = payload.period.map_or(0, |p| nanos(p.start)).min(time);
    let point = |value: NumberValue, attributes: Vec<KeyValue>| NumberDataPoint {
        attributes,
        start_time_unix_nano: start,
        time_unix_nano: time,
        value,
    };
    let sum = |name: &str, unit: &str, description: &str, points: Vec<NumberDataPoint>| Metric {
        name: name.to_owned(),
        description: description.to_owned(),
        unit: unit.to_owned(),
        data: MetricData::Sum {
            data_points: points,
            aggregation_temporality: TEMPORALITY_CUMULATIVE,
            is_monotonic: true,
        },
    };
    let int = |n: u64| NumberValue::Int(i64::try_from(n).unwrap_or(i64::MAX));
    let double = |f: f64| f.is_finite().then_some(NumberValue::Double(f));
    let mut metrics = Vec::new();
    if let Some(v) = double(payload.cost_usd) {
        metrics.push(sum(names::COST, "USD", "estimated cost", vec![point(v, vec![])]));
    }
    metrics.push(sum(
        names::TOKENS,
        "{token}",
        "tokens (input excludes cache reads and writes, as recorded)",
        vec![
            point(int(payload.tokens_in), vec![KeyValue::string(sc::TOKEN_TYPE, "input")]),
            point(int(payload.tokens_out), vec![KeyValue::string(sc::TOKEN_TYPE, "output")]),
        ],
    ));
    if let Some(v) = double(payload.features_shipped) {
        metrics.push(sum(
            names::FEATURES_SHIPPED,
            "{feature}",
            "features shipped",
            vec![point(v, vec![])],
        ));
    }
    if let Some(v) = double(payload.capacity_used) {
        metrics.push(sum(names::CAPACITY_USED, "1", "capacity used", vec![point(v, vec![])]));
    }
    metrics.push(sum(
        names::SESSIONS,
        "{session}",
        "sessions",
        vec![point(int(payload.sessions), vec![])],
    ));
    metrics.push(sum(names::TURNS, "{turn}", "turns", vec![point(int(payload.turns), vec![])]));
    let gauge = |name: &str, unit: &str, description: &str, v: NumberValue| Metric {
        name: name.to_owned(),
        description: description.to_owned(),
        unit: unit.to_owned(),
        data: MetricData::Gauge { data_points: vec![point(v, vec![])] },
    };
    if let Some(v) = payload.cost_per_shipped_feature.and_then(double) {
        metrics.push(gauge(names::COST_PER_SHIPPED_FEATURE, "USD", "cost per shipped feature", v));
    }
    if let Some(v) = payload.features_per_capacity.and_then(double) {
        metrics.push(gauge(names::FEATURES_PER_CAPACITY, "1", "features per capacity", v));
    }
    if !per_model.is_empty() {
        let who = |f: &ModelFigures| {
            vec![
                KeyValue::string(sc::REQUEST_MODEL, f.model.clone()),
                KeyValue::string(sc::PROVIDER_NAME, sc::provider_name(&f.provider)),
            ]
        };
        let with = |f: &ModelFigures, kind: &str| {
            let mut a = who(f);
            a.push(KeyValue::string(sc::TOKEN_TYPE, kind));
            a
        };
        let cost =
            per_model.iter().filter_map(|f| double(f.cost_usd).map(|v| point(v, who(f)))).collect();
        metrics.push(sum(names::MODEL_COST, "USD", "estimated cost by model", cost));
        let tokens = per_model
            .iter()
            .flat_map(|f| {
                [
                    point(int(f.tokens_in), with(f, "input")),
                    point(int(f.tokens_out), with(f, "output")),
                ]
            })
            .collect();
        metrics.push(sum(names::MODEL_TOKENS, "{token}", "tokens by model", tokens));
        let turns = per_model.iter().map(|f| point(int(f.turns), who(f))).collect();
        metrics.push(sum(names::MODEL_TURNS, "{turn}", "turns by model", turns));
        let per_feature: Vec<NumberDataPoint> = per_model
            .iter()
            .filter_map(|f| f.cost_per_shipped_feature.and_then(double).map(|v| point(v, who(f))))
            .collect();
        if !per_feature.is_empty() {
            metrics.push(Metric {
                name: names::MODEL_COST_PER_SHIPPED_FEATURE.to_owned(),
                description: "cost per shipped feature by model".to_owned(),
                unit: "USD".to_owned(),
                data: MetricData::Gauge { data_points: per_feature },
            });
        }
    }
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: resource(opts),
            scope_metrics: vec![ScopeMetrics { scope: scope(), metrics }],
        }],
    }
}
