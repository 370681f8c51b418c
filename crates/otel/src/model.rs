//! The OTLP/HTTP JSON wire types AgentOS writes (a subset of `opentelemetry-proto`): field names
//! in lowerCamelCase, 64-bit integers and `*UnixNano` times as decimal strings, enums as
//! integers, `AnyValue` as a one-key object (`{"stringValue": "…"}`), as the OTLP
//! specification's JSON encoding requires.

use serde::{Deserialize, Serialize, Serializer};

/// `ExportLogsServiceRequest` (`POST /v1/logs`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportLogsServiceRequest {
    /// One entry per resource.
    #[serde(default)]
    pub resource_logs: Vec<ResourceLogs>,
}

/// Logs of one resource.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceLogs {
    /// The emitting resource.
    #[serde(default)]
    pub resource: Resource,
    /// Logs per instrumentation scope.
    #[serde(default)]
    pub scope_logs: Vec<ScopeLogs>,
}

/// A resource: who emits.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Resource {
    /// `service.name` and friends.
    #[serde(default)]
    pub attributes: Vec<KeyValue>,
}

/// Logs of one instrumentation scope.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScopeLogs {
    /// The scope.
    #[serde(default)]
    pub scope: Scope,
    /// The records.
    #[serde(default)]
    pub log_records: Vec<LogRecord>,
}

/// `InstrumentationScope`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Scope {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Version.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub version: String,
}

/// One log record.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogRecord {
    /// When the event happened (ns since the epoch, as a string).
    #[serde(default, with = "u64_string")]
    pub time_unix_nano: u64,
    /// When it was observed (recorded).
    #[serde(default, with = "u64_string")]
    pub observed_time_unix_nano: u64,
    /// `SeverityNumber` (9 = INFO).
    #[serde(default)]
    pub severity_number: i32,
    /// Severity text.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub severity_text: String,
    /// The body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<AnyValue>,
    /// Attributes.
    #[serde(default)]
    pub attributes: Vec<KeyValue>,
    /// The event name (OTLP 1.5+; read, never written, so older receivers accept our bodies).
    #[serde(default, skip_serializing)]
    pub event_name: String,
}

/// `ExportMetricsServiceRequest` (`POST /v1/metrics`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportMetricsServiceRequest {
    /// One entry per resource.
    #[serde(default)]
    pub resource_metrics: Vec<ResourceMetrics>,
}

/// Metrics of one resource.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceMetrics {
    /// The emitting resource.
    #[serde(default)]
    pub resource: Resource,
    /// Metrics per scope.
    #[serde(default)]
    pub scope_metrics: Vec<ScopeMetrics>,
}

/// Metrics of one scope.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ScopeMetrics {
    /// The scope.
    #[serde(default)]
    pub scope: Scope,
    /// The metrics.
    #[serde(default)]
    pub metrics: Vec<Metric>,
}

/// One metric: a sum or a gauge of number data points.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metric {
    /// Name.
    pub name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// UCUM unit.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub unit: String,
    /// The data.
    #[serde(flatten)]
    pub data: MetricData,
}

/// The kinds of metric AgentOS writes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum MetricData {
    /// A value at a time.
    Gauge {
        /// Points.
        #[serde(rename = "dataPoints")]
        data_points: Vec<NumberDataPoint>,
    },
    /// A running total.
    Sum {
        /// Points.
        #[serde(rename = "dataPoints")]
        data_points: Vec<NumberDataPoint>,
        /// 1 = delta, 2 = cumulative.
        #[serde(rename = "aggregationTemporality")]
        aggregation_temporality: i32,
        /// Only ever grows.
        #[serde(rename = "isMonotonic")]
        is_monotonic: bool,
    },
}

/// `AGGREGATION_TEMPORALITY_DELTA`.
pub const TEMPORALITY_DELTA: i32 = 1;
/// `AGGREGATION_TEMPORALITY_CUMULATIVE`.
pub const TEMPORALITY_CUMULATIVE: i32 = 2;

/// One number data point.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NumberDataPoint {
    /// Attributes.
    #[serde(default)]
    pub attributes: Vec<KeyValue>,
    /// Start of the aggregation (0 = unset, omitted).
    #[serde(default, with = "u64_string", skip_serializing_if = "is_zero")]
    pub start_time_unix_nano: u64,
    /// When the value was taken.
    #[serde(default, with = "u64_string")]
    pub time_unix_nano: u64,
    /// The value.
    #[serde(flatten)]
    pub value: NumberValue,
}

/// A data point's value.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum NumberValue {
    /// An integer (`asInt`, a decimal string).
    #[serde(rename = "asInt", with = "i64_string")]
    Int(i64),
    /// A double (`asDouble`).
    #[serde(rename = "asDouble")]
    Double(f64),
}

/// An attribute.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KeyValue {
    /// Key.
    pub key: String,
    /// Value.
    pub value: AnyValue,
}

impl KeyValue {
    /// A string attribute.
    pub fn string(key: &str, value: impl Into<String>) -> Self {
        KeyValue { key: key.to_owned(), value: AnyValue::String(value.into()) }
    }
    /// An integer attribute (clamped to `i64`).
    pub fn int(key: &str, value: u64) -> Self {
        KeyValue {
            key: key.to_owned(),
            value: AnyValue::Int(i64::try_from(value).unwrap_or(i64::MAX)),
        }
    }
    /// A double attribute.
    pub fn double(key: &str, value: f64) -> Self {
        KeyValue { key: key.to_owned(), value: AnyValue::Double(value) }
    }
    /// A boolean attribute.
    pub fn bool(key: &str, value: bool) -> Self {
        KeyValue { key: key.to_owned(), value: AnyValue::Bool(value) }
    }
}

/// `AnyValue` (the scalar kinds AgentOS uses).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum AnyValue {
    /// `stringValue`.
    #[serde(rename = "stringValue")]
    String(String),
    /// `intValue` (a decimal string on the wire).
    #[serde(rename = "intValue", with = "i64_string")]
    Int(i64),
    /// `doubleValue`.
    #[serde(rename = "doubleValue")]
    Double(f64),
    /// `boolValue`.
    #[serde(rename = "boolValue")]
    Bool(bool),
    /// `arrayValue` (read only; kept as JSON).
    #[serde(rename = "arrayValue")]
    Array(serde_json::Value),
    /// `kvlistValue` (read only; kept as JSON).
    #[serde(rename = "kvlistValue")]
    KvList(serde_json::Value),
    /// `bytesValue` (base64; read only).
    #[serde(rename = "bytesValue")]
    Bytes(String),
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// Serialize through `Display` as a JSON string; read a string or a number (the OTLP JSON
/// spec lets receivers accept both).
macro_rules! int_as_string {
    ($name:ident, $ty:ty) => {
        mod $name {
            use serde::{Deserialize, Deserializer, Serializer};

            pub(crate) fn serialize<S: Serializer>(v: &$ty, s: S) -> Result<S::Ok, S::Error> {
                super::display(v, s)
            }

            #[derive(Deserialize)]
            #[serde(untagged)]
            enum Wire {
                Num($ty),
                Text(String),
            }

            pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<$ty, D::Error> {
                match Wire::deserialize(d)? {
                    Wire::Num(n) => Ok(n),
                    Wire::Text(t) => t.trim().parse().map_err(serde::de::Error::custom),
                }
            }
        }
    };
}
int_as_string!(u64_string, u64);
int_as_string!(i64_string, i64);

fn display<T: std::fmt::Display, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(v)
}
