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
