//! Go's `omitempty` means "absent is zero"; some writers send `null` instead. Both read as the
//! type's default.

use serde::{Deserialize, Deserializer};

/// Deserialise `null` as `T::default()`; use with `#[serde(default)]` so absence does too.
pub(crate) fn or_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Deserialise a non-negative integer that some writers sent as a boolean (`true` = 1,
/// `false` = 0); `null` reads as `None`.
pub(crate) fn int_or_bool<'de, D>(deserializer: D) -> Result<Option<u64>, D::Error>
where
    D: Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum IntOrBool {
        Int(u64),
        Bool(bool),
    }
    Ok(Option::<IntOrBool>::deserialize(deserializer)?.map(|v| match v {
        IntOrBool::Int(n) => n,
        IntOrBool::Bool(b) => u64::from(b),
    }))
}

/// The schema of [`int_or_bool`] fields: integer ≥ 0, boolean or null.
pub(crate) fn int_or_bool_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": ["integer", "boolean", "null"],
        "format": "uint64",
        "minimum": 0,
        "description": "integer >= 0; `true`/`false` are read as 1/0 (legacy writers)"
    })
}
