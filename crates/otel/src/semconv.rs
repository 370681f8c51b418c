//! Attribute and metric names: the OpenTelemetry GenAI semantic conventions where they have a
//! name for the figure, `agentos.*` where they do not (cost, features, capacity).

/// `gen_ai.operation.name` (always `chat`: a model call).
pub const OPERATION_NAME: &str = "gen_ai.operation.name";
/// `gen_ai.system` (older name of the provider attribute; still read by many backends).
pub const SYSTEM: &str = "gen_ai.system";
/// `gen_ai.provider.name` (current name).
pub const PROVIDER_NAME: &str = "gen_ai.provider.name";
/// `gen_ai.request.model`.
pub const REQUEST_MODEL: &str = "gen_ai.request.model";
/// `gen_ai.usage.input_tokens`: ALL input tokens, cached ones included (the conventions' rule).
pub const USAGE_INPUT_TOKENS: &str = "gen_ai.usage.input_tokens";
/// `gen_ai.usage.output_tokens`.
pub const USAGE_OUTPUT_TOKENS: &str = "gen_ai.usage.output_tokens";
/// `gen_ai.usage.cache_read.input_tokens`: of the input tokens, read from the prompt cache.
pub const USAGE_CACHE_READ: &str = "gen_ai.usage.cache_read.input_tokens";
/// `gen_ai.usage.cache_creation.input_tokens`: of the input tokens, written to the cache.
pub const USAGE_CACHE_CREATION: &str = "gen_ai.usage.cache_creation.input_tokens";
/// `gen_ai.conversation.id`: the session (hashed by the privacy tier).
pub const CONVERSATION_ID: &str = "gen_ai.conversation.id";
/// `gen_ai.token.type` on token metrics: `input` or `output`.
pub const TOKEN_TYPE: &str = "gen_ai.token.type";
/// `event.name` of a turn's log record.
pub const EVENT_NAME: &str = "event.name";
/// The `event.name` value of a turn.
pub const TURN_EVENT: &str = "agentos.turn";

/// `agentos.event_id`: the v1 event id, the dedupe key downstream (a re-sent batch repeats it).
pub const EVENT_ID: &str = "agentos.event_id";
/// `agentos.turn_id` (hashed by the privacy tier).
pub const TURN_ID: &str = "agentos.turn_id";
/// `agentos.usage.uncached_input_tokens`: `tokens_in` as recorded (Anthropic's `input_tokens`,
/// cache reads and writes excluded).
pub const UNCACHED_INPUT: &str = "agentos.usage.uncached_input_tokens";
/// `agentos.usage.cache_creation_1h.input_tokens`: of the cache writes, 1-hour ones.
pub const CACHE_CREATION_1H: &str = "agentos.usage.cache_creation_1h.input_tokens";
/// `agentos.cost.usd`: the turn's estimated cost.
pub const COST_USD: &str = "agentos.cost.usd";
/// `agentos.latency_ms`.
pub const LATENCY_MS: &str = "agentos.latency_ms";
/// `agentos.capacity_used`.
pub const CAPACITY_USED: &str = "agentos.capacity_used";
/// `agentos.agent`: the coding agent (`claude-code`, `codex`, …) when its session says.
pub const AGENT: &str = "agentos.agent";
/// `agentos.sidechain`: a sub-agent's call.
pub const SIDECHAIN: &str = "agentos.sidechain";
/// `agentos.revises`: set on a correction (its tokens are an increase over that event's).
pub const REVISES: &str = "agentos.revises";

/// The GenAI conventions' `gen_ai.provider.name` value for an AgentOS provider (from
/// `agentos_event_schema::provider`); providers the conventions do not list pass unchanged.
pub fn provider_name(provider: &str) -> &str {
    use agentos_event_schema::provider as p;
    match provider {
        p::GOOGLE => "gcp.gemini",
        p::MISTRAL => "mistral_ai",
        p::XAI => "x_ai",
        other => other,
    }
}
