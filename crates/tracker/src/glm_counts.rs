//! GLM prompt counts (reference §7.6.4): the project's `ccusage`-style JSON of prompt blocks,
//! summed.

use serde::Serialize;
use serde_json::Value;

use crate::py;
use crate::{Error, Errors, check_size};

/// GLM prompt counts. Serialises as the tracker's dict: `{account, generated_at, blocks,
/// prompts_used, errors}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GlmCounts {
    /// `account` as given (null when missing).
    pub account: Value,
    /// `generated_at` as given (null when missing).
    pub generated_at: Value,
    /// The blocks with a numeric `prompts_used`, in input order.
    pub blocks: Vec<GlmBlock>,
    /// The sum of the kept blocks' `prompts_used` (every block counts, whatever its
    /// `window_id`).
    pub prompts_used: f64,
    /// `invalid-json` (not JSON, or not a JSON object), `invalid-blocks` (`blocks` is not a
    /// list), `no-blocks` (none kept).
    pub errors: Errors,
}

/// One prompt block.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct GlmBlock {
    /// `window_id` as given.
    pub window_id: Value,
    /// `prompts_used`, as a float.
    pub prompts_used: f64,
    /// `provider` as given.
    pub provider: Value,
    /// `duration_minutes` as given.
    pub duration_minutes: Value,
    /// `notes` as given.
    pub notes: Value,
}

/// Parse GLM prompt counts: `{"account", "generated_at", "blocks": [{"window_id", "provider",
/// "prompts_used", "duration_minutes", "notes"}]}`. A block that is not an object, or whose
/// `prompts_used` is not a number (or numeric string), is skipped.
///
/// # Errors
/// [`Error::TooLarge`] for input past [`crate::MAX_INPUT_BYTES`].
pub fn parse_ccusage_counts(text: &str) -> Result<GlmCounts, Error> {
    check_size(text)?;
    let mut out = GlmCounts::default();
    let Ok(Value::Object(doc)) = serde_json::from_str::<Value>(text) else {
        out.errors.push("invalid-json");
        return Ok(out);
    };
    let field = |k: &str| doc.get(k).cloned().unwrap_or(Value::Null);
    out.account = field("account");
    out.generated_at = field("generated_at");
    let Some(Value::Array(blocks)) = doc.get("blocks") else {
        out.errors.push("invalid-blocks");
        return Ok(out);
    };
    for block in blocks {
        let Value::Object(b) = block else { continue };
        let Some(prompts) = b.get("prompts_used").and_then(py::float) else { continue };
        let field = |k: &str| b.get(k).cloned().unwrap_or(Value::Null);
        out.blocks.push(GlmBlock {
            window_id: field("window_id"),
            prompts_used: prompts,
            provider: field("provider"),
            duration_minutes: field("duration_minutes"),
            notes: field("notes"),
        });
    }
    if out.blocks.is_empty() {
        out.errors.push("no-blocks");
    }
    out.prompts_used = out.blocks.iter().map(|b| b.prompts_used).sum();
    Ok(out)
}
