//! Reading a CCC `/v1/usage` response for `model_health`, bounded in memory.

use std::collections::BTreeMap;
use std::io::Read;

use camino::Utf8Path;
use serde_json::Value as Json;

use crate::Error;

/// Largest `/v1/usage` response read: a real one is a few KiB (one entry per model).
pub const MAX_USAGE_JSON: u64 = 16 << 20;

/// The `models` map of a CCC `/v1/usage` response in `path` (model → model view), for
/// [`SummaryOptions::model_health`](crate::SummaryOptions::model_health). At most
/// [`MAX_USAGE_JSON`] bytes are read: a larger file is refused, not loaded.
pub fn read_model_health(path: &Utf8Path) -> Result<BTreeMap<String, Json>, Error> {
    let read_err = |source| Error::Read { path: path.to_owned(), source };
    let file = std::fs::File::open(path).map_err(read_err)?;
    let mut bytes = Vec::new();
    file.take(MAX_USAGE_JSON + 1).read_to_end(&mut bytes).map_err(read_err)?;
    let corrupt = |message: String| Error::Input {
        path: path.to_owned(),
        what: "CCC /v1/usage response",
        message,
    };
    if bytes.len() as u64 > MAX_USAGE_JSON {
        return Err(corrupt(format!("larger than {} MiB, not read", MAX_USAGE_JSON >> 20)));
    }
    let value: Json =
        serde_json::from_slice(&bytes).map_err(|e| corrupt(format!("not JSON: {e}")))?;
    let models = value
        .get("models")
        .and_then(Json::as_object)
        .ok_or_else(|| corrupt("no \"models\" object".to_owned()))?;
    Ok(models.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
}
