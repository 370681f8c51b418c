//! `agentos window advise` on hand-built windows and snapshots, the ranking worked by hand.

use std::path::Path;

use serde_json::{Value, json};

use super::{agentos, append};
use crate::rollup::{Scratch, text};

/// Three finalized windows: codex (f, Δweekly) = (2, 10), (4, 8), (1, 6) — the reference's
/// §3.3 vector: E = 7/24 = 0.29, CI [0.17, 0.41]; claude (1, 5), (3, 5), (0, 2): E = 4/12 =
/// 0.33, residuals −2/3, 4/3, −2/3, var = (8/3)/2, SE = √(4/3)/12 = 0.0962, CI 0.33 ± 0.189 =
/// [0.14, 0.52]. Snapshots: codex latest weekly 52 / 5h 10 (an older one 30), claude latest
/// all-models 93 / session 20.
fn advise_store(dir: &Path) {
    let window = |w: &str, at: &str, f: (i64, i64), d: (i64, i64)| {
        json!({"window": w, "finalized_at": at, "features": {"codex": f.0, "claude": f.1},
            "quality_score": 1.0, "quality": 1.0, "outcome": "pass", "notes": "",
            "providers": {"codex": {"delta": {"fiveh_pct": null, "weekly_pct": d.0}},
                          "claude": {"delta": {"session_pct": null, "all_models_pct": d.1}}}})
    };
    append(
        dir,
        "windows.jsonl",
        &[
            window("W1", "2025-10-19T09:00:00+00:00", (2, 1), (10, 5)),
            window("W2", "2025-10-19T11:00:00+00:00", (4, 3), (8, 5)),
            window("W3", "2025-10-19T13:00:00+00:00", (1, 0), (6, 2)),
        ],
    );
    let snap = |p: &str, at: &str, parsed: Value| {
        json!({"window": "W3", "provider": p, "phase": "after", "captured_at": at, "notes": "",
            "raw_text": "", "parsed": parsed, "source": "ingest"})
    };
    append(
        dir,
        "snapshots.jsonl",
        &[
            snap(
                "codex",
                "2025-10-19T12:00:00+00:00",
                json!({"fiveh_pct": 10, "weekly_pct": 52, "errors": []}),
            ),
            snap(
                "codex",
                "2025-10-19T08:00:00+00:00",
                json!({"fiveh_pct": 0, "weekly_pct": 30, "errors": []}),
            ),
            snap(
                "claude",
                "2025-10-19T11:00:00+00:00",
                json!({"session_pct": 20, "all_models_pct": 93, "errors": []}),
            ),
        ],
    );
}

#[test]
fn advise_ranks_by_room_before_the_buffer_then_efficiency() {
    let s = Scratch::new();
    let dir = s.path().join("live");
    advise_store(&dir);
    let url = agentos_testkit::refused_url();
    let out = agentos(&dir, &url, &["advise", "--no-ccc", "--now", "2025-10-19T15:30:00Z"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // claude is the more efficient (0.33 > 0.29) but at 93 pp it is inside the buffer: hold;
    // codex has 90 − 52 = 38 pp before the buffer and 100 − 10 = 90 pp in its 5-hour window.
    assert_eq!(
        text(&out.stdout),
        "\
Inputs (as of 2025-10-19T15:30:00Z):
  - windows: 3 finalized, latest 2025-10-19T13:00:00+00:00 (2h 30m ago)
  - codex: snapshot W3 after of 2025-10-19T12:00:00+00:00 (3h 30m ago): weekly 52 pp, 5h 10 pp
  - claude: snapshot W3 after of 2025-10-19T11:00:00+00:00 (4h 30m ago): weekly 93 pp, 5h 20 pp
  - CCC: not asked
Advice (10-point weekly buffer from 90 pp; advice only, CCC's configuration is not changed):
  1. codex: 0.29 features/pp (ci [0.17, 0.41], n=3), 38 pp left before the buffer, 5h: 90 pp left — schedule
  2. claude: 0.33 features/pp (ci [0.14, 0.52], n=3), weekly 93 pp used: inside the buffer — hold
"
    );
    let out = agentos(&dir, &url, &["advise", "--no-ccc", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v["advice"][0]["provider"], "codex");
    assert_eq!(v["advice"][0]["verdict"], "schedule");
    assert_eq!(v["advice"][0]["weekly_room_pp"], 38.0);
    assert_eq!(v["advice"][1]["verdict"], "hold");
}

#[test]
fn advise_takes_ccc_use_over_snapshots_when_ccc_answers() {
    let s = Scratch::new();
    let dir = s.path().join("live");
    advise_store(&dir);
    // CCC's claude-haiku-force429 (no quotas entry: anthropic by its name) at 50 % weekly and
    // 30 % rolling, above the captured claude-sonnet-4.5 (quotas provider `anth`, not a known
    // name: anthropic by its name; 0.0001 % weekly, 0.06 % rolling): the most used counts.
    // claude-haiku-4.5 is configured under zai (glm's provider, not advised here).
    let mut usage: Value =
        serde_json::from_slice(&agentos_testkit::fake_ccc::capture("v1_usage.json"))
            .unwrap_or_else(|e| panic!("{e}"));
    usage["models"]["claude-haiku-force429"]["weekly_pct"] = json!(0.5);
    usage["models"]["claude-haiku-force429"]["rolling_pct"] = json!(0.3);
    let ccc = agentos_testkit::FakeCcc::from_captures();
    ccc.set("/v1/usage", agentos_testkit::fake_ccc::ccp_json(200, usage.to_string().as_bytes()));
    let out = agentos(&dir, &ccc.url(), &["advise", "--now", "2025-10-19T15:30:00Z"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    // claude: 90 − 50 = 40 pp before the buffer, 100 − 30 = 70 pp in 5 h: schedule, and it
    // ranks first (0.33 > 0.29); codex keeps its snapshot (no openai model in CCC).
    let advice: Vec<&str> =
        stdout.lines().skip_while(|l| !l.starts_with("Advice")).skip(1).collect();
    assert_eq!(
        advice,
        [
            "  1. claude: 0.33 features/pp (ci [0.14, 0.52], n=3), 40 pp left before the buffer, 5h: 70 pp left — schedule",
            "  2. codex: 0.29 features/pp (ci [0.17, 0.41], n=3), 38 pp left before the buffer, 5h: 90 pp left — schedule",
        ],
        "{stdout}"
    );
    assert!(stdout.contains("  - claude: CCC now (claude-haiku-force429, claude-sonnet-4.5): weekly 50 pp, 5h 30 pp\n"), "{stdout}");
    assert!(stdout.contains(&format!("  - CCC at {}: 3 models, asked ", ccc.url())), "{stdout}");
}
