//! Recorder results in the words of the command line: errors naming flags and commands,
//! counts with their singular or plural noun.

/// A recorder error in the words of the command line: a number out of range names its flag,
/// session-state errors say which command to run.
pub(super) fn explain(e: agentos_ccc_client::Error) -> anyhow::Error {
    use agentos_ccc_client::Error as E;
    use agentos_event_schema::v1::limits::{Field, number};
    match &e {
        E::OutOfRange(v) => {
            let flag = match &v.field {
                Field::EstimatedUsd => "--cost-usd",
                Field::CapacityUsed => "--capacity",
                Field::LatencyMs => "--latency-ms",
                Field::Cls => "--cls",
                Field::Impf => "--impf",
                Field::ChurnScore => "--churn",
                Field::FeatureDelta => "--feature-delta",
                Field::AttributionWeight(model) => {
                    return anyhow::anyhow!(
                        "--attribution {model}=…: the weight {}",
                        v.requirement()
                    );
                }
                Field::AttributionSum => {
                    return anyhow::anyhow!(
                        "--attribution weights must sum to at most {} (got {})",
                        number(v.range.max),
                        number(v.value)
                    );
                }
                _ => return e.into(),
            };
            anyhow::anyhow!("{flag} {}", v.requirement())
        }
        E::SessionId(bad) => anyhow::anyhow!("--session-id: {bad}"),
        E::NoActiveSession => anyhow::anyhow!("{e}: start one with `agentos session start`"),
        E::SessionActive(_) => anyhow::anyhow!(
            "{e} with `agentos session end`, or use another --data-dir for a parallel session"
        ),
        _ => e.into(),
    }
}

/// `n` and the noun, singular or plural: `1 batch`, `2 batches`.
pub(super) fn count(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}
