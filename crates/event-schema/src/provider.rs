//! Which provider serves a model: the one model → provider table every AgentOS crate uses
//! (recorder, `windows.jsonl`, rollup, reports, CLI), and the rule for providers that count
//! prompts instead of a weekly fraction (GLM / Z.ai).
//!
//! A turn's provider is its `cost.provider` when it has one (what the user said was paid,
//! `--provider` on the command line), else the provider of its model from [`MODEL_TABLE`].
//! Provider names are compared through [`canonical_provider`], so `glm`, `zai` and `z.ai`
//! are one provider.

/// Anthropic (Claude models).
pub const ANTHROPIC: &str = "anthropic";
/// OpenAI (GPT, o-series, Codex models).
pub const OPENAI: &str = "openai";
/// Z.ai / Zhipu (GLM models); counts prompts.
pub const ZAI: &str = "zai";
/// Google (Gemini, Gemma).
pub const GOOGLE: &str = "google";
/// Mistral AI.
pub const MISTRAL: &str = "mistral";
/// DeepSeek.
pub const DEEPSEEK: &str = "deepseek";
/// xAI (Grok).
pub const XAI: &str = "xai";
/// Meta (Llama).
pub const META: &str = "meta";
/// Alibaba (Qwen).
pub const ALIBABA: &str = "alibaba";
/// A model no rule knows and whose name has no `vendor/` prefix.
pub const UNKNOWN: &str = "unknown";

/// Model-name prefixes and their provider, matched case-insensitively against each
/// `/`-separated part of the model name, left to right (so `glm/4.6`, `z.ai/glm-4.6` and
/// `openrouter/anthropic/claude-3` are all recognised). In a prefix, `#` stands for one ASCII
/// digit (`o#` is `o1`, `o3-mini`, `o4-mini`, but not `omni`).
pub const MODEL_TABLE: &[(&str, &str)] = &[
    ("claude", ANTHROPIC),
    ("anthropic", ANTHROPIC),
    ("gpt", OPENAI),
    ("chatgpt", OPENAI),
    ("o#", OPENAI),
    ("codex", OPENAI),
    ("openai", OPENAI),
    ("glm", ZAI),
    ("chatglm", ZAI),
    ("zai", ZAI),
    ("z.ai", ZAI),
    ("zhipu", ZAI),
    ("gemini", GOOGLE),
    ("gemma", GOOGLE),
    ("google", GOOGLE),
    ("mistral", MISTRAL),
    ("mixtral", MISTRAL),
    ("codestral", MISTRAL),
    ("devstral", MISTRAL),
    ("magistral", MISTRAL),
    ("deepseek", DEEPSEEK),
    ("grok", XAI),
    ("xai", XAI),
    ("llama", META),
    ("qwen", ALIBABA),
];

/// Provider names that mean the same provider (compared case-insensitively): the
/// subscription names of the Python reference (`claude`, `codex`, `glm`) and spellings of
/// Z.ai.
pub const PROVIDER_ALIASES: &[(&str, &str)] = &[
    ("anthropic", ANTHROPIC),
    ("claude", ANTHROPIC),
    ("openai", OPENAI),
    ("codex", OPENAI),
    ("zai", ZAI),
    ("z.ai", ZAI),
    ("glm", ZAI),
    ("zhipu", ZAI),
    ("google", GOOGLE),
    ("mistral", MISTRAL),
    ("deepseek", DEEPSEEK),
    ("xai", XAI),
    ("meta", META),
    ("alibaba", ALIBABA),
];

/// Whether `name` starts with `prefix` (ASCII case-insensitive; `#` matches one digit).
fn has_prefix(name: &str, prefix: &str) -> bool {
    let (name, prefix) = (name.as_bytes(), prefix.as_bytes());
    name.len() >= prefix.len()
        && prefix.iter().zip(name).all(|(p, n)| match p {
            b'#' => n.is_ascii_digit(),
            p => p.eq_ignore_ascii_case(n),
        })
}

/// The provider of a model by [`MODEL_TABLE`]; a model no rule knows is its `vendor/`
/// prefix's (`acme/coder-7b` → `acme`), else [`UNKNOWN`]. Never the model name itself.
pub fn provider_for_model(model: &str) -> &str {
    let model = model.trim();
    for part in model.split('/') {
        if let Some((_, p)) = MODEL_TABLE.iter().find(|(prefix, _)| has_prefix(part, prefix)) {
            return p;
        }
    }
    match model.split_once('/') {
        Some((vendor, _)) if !vendor.trim().is_empty() => canonical_provider(vendor.trim()),
        _ => UNKNOWN,
    }
}

/// One name per provider: a known alias ([`PROVIDER_ALIASES`]) becomes its canonical name,
/// any other name is kept as given (trimmed).
pub fn canonical_provider(name: &str) -> &str {
    let name = name.trim();
    PROVIDER_ALIASES
        .iter()
        .find(|(alias, _)| alias.eq_ignore_ascii_case(name))
        .map_or(name, |(_, p)| p)
}

/// The provider a turn is billed to: `cost.provider` (canonical) when the turn has a cost
/// block with a non-empty provider, else [`provider_for_model`].
pub fn provider_of_turn<'a>(model: &'a str, cost_provider: Option<&'a str>) -> &'a str {
    match cost_provider.map(str::trim) {
        Some(p) if !p.is_empty() => canonical_provider(p),
        _ => provider_for_model(model),
    }
}

/// Whether a provider counts prompts rather than a fraction of a weekly limit (Z.ai / GLM):
/// its capacity is in prompts and its weekly capacity must be given.
pub fn is_prompt_counted(provider: &str) -> bool {
    canonical_provider(provider) == ZAI
}

/// Whether a model is a GLM model (its provider is Z.ai): its turns are mirrored to
/// `glm_counts.jsonl`.
pub fn is_glm_model(model: &str) -> bool {
    provider_for_model(model) == ZAI
}
