//! Renders `docs/privacy.md` from the code, so the document cannot drift from the rules.

use std::fmt::Write as _;

use crate::minimized::MINIMIZED_FIELDS;
use crate::per_model::PER_MODEL_FIELDS;
use crate::redact::{MAP_PATHS, RULES, Rule};
use crate::{Tier, TierPolicy};

/// The whole of `docs/privacy.md`: per tier, the entitlement it needs and the exact field
/// list that may leave the machine.
pub fn render_markdown() -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "<!-- Generated from crates/privacy (agentos_privacy::render_markdown); do not edit.\n     \
         Regenerate: AGENTOS_UPDATE_DOCS=1 cargo test -p agentos-privacy -->\n"
    );
    md.push_str("# Privacy tiers: what leaves the machine\n\n");
    md.push_str(
        "AgentOS always records every event locally (`events.jsonl`, `windows.jsonl`, \
         `glm_counts.jsonl`, `metrics_summary.json` in the data dir). The privacy tier decides \
         what may be uploaded to CCC. It is chosen by `PRIVACY_TIER` (or `--tier`), never by \
         code. Uploads also need a valid installed license granting the tier's entitlement; \
         without one, uploads are denied with one clear line and nothing is queued, while \
         local recording goes on.\n\n",
    );
    md.push_str("| Tier | Entitlement | `POST /v1/metrics` | `POST /v1/events` |\n");
    md.push_str("|---|---|---|---|\n");
    for tier in Tier::ALL {
        let yes_no = |b: bool| if b { "yes" } else { "never" };
        let _ = writeln!(
            md,
            "| `{}` | {} | {} | {} |",
            tier.as_str(),
            tier.required_entitlement().map_or("none".to_owned(), |e| format!("`{e}`")),
            yes_no(tier.uploads_summary()),
            yes_no(tier.uploads_events()),
        );
    }
    md.push_str(
        "\n## `local`\n\nNothing leaves the machine: no outbox is written, no DNS lookup is \
         made and no socket is opened.\n",
    );
    md.push_str(
        "\n## `minimized`\n\nOnly the aggregate summary is sent, as a `MinimizedPayload`. \
         The type holds numbers, timestamps and a version triple only: no id, no name (model, \
         provider, repository), no free text can be represented in it. Keys, in order:\n\n",
    );
    md.push_str("| Key | Meaning |\n|---|---|\n");
    for (name, meaning) in MINIMIZED_FIELDS {
        let _ = writeln!(md, "| `{name}` | {meaning} |");
    }
    md.push_str(
        "\nRequest body: `{\"idempotency_key\": <uuid>, \"summary\": <MinimizedPayload>}`. \
         Each summary is a cumulative snapshot of the whole local log (`period` says what it \
         covers), queued by `upload-metrics` and by every `session end`: a receiver keeps the \
         latest one (by `generated_at`) and never adds summaries up; the idempotency key only \
         identifies a replay of the same upload.\n",
    );
    md.push_str(
        "\n## `full`\n\nThe same aggregate summary as `minimized`, plus every event, \
         redacted by the allow-list below and sent in batches: \
         `{\"idempotency_key\": <key>, \"schema_version\": <version>, \"events\": [...]}`. *Hash* replaces the value by \
         `{\"sha256\": <hex of the UTF-8 bytes>, \"len\": <byte length>}` (non-string values \
         are hashed over their compact JSON); equal inputs give equal hashes, so joins by \
         session still work server-side. A hash of a short or guessable value (a branch called \
         `main`) can be reversed by guessing: hashing hides content, it does not anonymise.\n\n\
         Paths: object keys joined by `.`, `[]` for list items, `*` for map values. \
         **Any field not listed is hashed, and so is its name**: an unknown key is sent as the \
         lower-case hex SHA-256 of the key's UTF-8 bytes, with its value hashed (an object or \
         list with no listed field inside is hashed whole, its own keys included), so neither \
         unknown fields nor their names leave in clear. A rule that lets a value through also \
         checks its form: *number* sends numbers (and booleans, null) and hashes anything else; \
         *one of* sends the listed values and replaces any other value by `\"other\"`; a \
         *form* (timestamp, UUID, version) sends a string of that form and hashes anything \
         else; *pass* sends the value (names only); *drop* leaves the field out.\n\n",
    );
    md.push_str("| Field | Rule | Why |\n|---|---|---|\n");
    for (path, rule, why) in RULES {
        let rule = match rule {
            Rule::Pass => "pass".to_owned(),
            Rule::Number => "number".to_owned(),
            Rule::Enum(values) => {
                let list: Vec<String> = values.iter().map(|v| format!("`{v}`")).collect();
                format!("one of {}; else `\"{}\"`", list.join(", "), crate::OTHER)
            }
            Rule::Format(f) => format!("{}, else hash", f.name()),
            Rule::Hash => "hash".to_owned(),
            Rule::Drop => "drop".to_owned(),
        };
        let _ = writeln!(md, "| `{path}` | {rule} | {why} |");
    }
    md.push_str("\nMaps whose keys are sent in clear (values follow the `.*` rule): ");
    let maps: Vec<String> = MAP_PATHS.iter().map(|p| format!("`{p}`")).collect();
    md.push_str(&maps.join(", "));
    md.push_str(".\n");
    md.push_str(
        "\n## OpenTelemetry export\n\nThe OpenTelemetry export sends the same payloads to an \
         OpenTelemetry collector in OTLP form (`docs/otel.md`): in `minimized` the summary \
         above as metrics; in `full` also each redacted turn as a log record, and these \
         figures per model (model names already leave in the full tier):\n\n",
    );
    md.push_str("| Key | Meaning |\n|---|---|\n");
    for (name, meaning) in PER_MODEL_FIELDS {
        let _ = writeln!(md, "| `{name}` | {meaning} |");
    }
    md.push_str(
        "\n## Secrets\n\n`CCC_API_KEY` is sent only as `Authorization: Bearer` and is never \
         written to any file, log or error message; license signatures never appear in logs.\n",
    );
    md
}
