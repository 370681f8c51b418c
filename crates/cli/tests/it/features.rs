//! `agentos features` run as the real binary on a repository built here and sessions that
//! worked in it.

use std::path::Path;

use agentos_testkit::git_repo::Repo;
use camino::Utf8Path;
use serde_json::{Value as Json, json};

use crate::rollup::{Scratch, agentos, text};

const T0: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z
const H: i64 = 3_600;

/// A time on 2026-01-01 (all of this test's times are).
fn ts(t: i64) -> String {
    let s = t - T0;
    format!("2026-01-01T{:02}:{:02}:{:02}Z", s / H, s % H / 60, s % 60)
}

/// A repo with `feat(login)` (6 lines) and `feat(search)` (2 lines) inside session s1's
/// window, s1 costing $2 (recorded), and s2 ($0.5) in a repository that no longer exists.
pub(crate) fn setup(s: &Scratch) -> (std::path::PathBuf, String) {
    let repo = s.path().join("repo");
    let lines = |n: usize| -> String { (1..=n).map(|i| format!("line {i}\n")).collect() };
    let git = Repo::at(Utf8Path::from_path(&repo).unwrap_or_else(|| panic!("not UTF-8")));
    git.commit_text(T0 + H, "feat(login): form", "login.txt", &lines(6));
    git.commit_text(T0 + 2 * H, "feat(search): box", "search.txt", &lines(2));
    let data = s.path().join("data");
    std::fs::create_dir_all(&data).unwrap_or_else(|e| panic!("mkdir: {e}"));
    let sess = |id: &str, cwd: &str| {
        json!({"type": "session", "event_id": format!("s-{id}"), "ts": ts(T0 + 3 * H),
            "schema_version": "1.1.0",
            "session": {"session_id": id, "repo_id": "", "branch": "main", "commit": "",
                "license_id": "", "privacy_tier": "local", "created_at": ts(T0 + H / 2),
                "metadata": {}, "agent": "claude-code", "cwd": cwd,
                "last_active_at": ts(T0 + 3 * H)}})
        .to_string()
    };
    let turn = |id: &str, s: &str, usd: f64| {
        json!({"type": "turn", "event_id": id, "ts": ts(T0 + H), "schema_version": "1.1.0",
            "turn": {"turn_id": id, "session_id": s, "model": "model-a", "subagent": "main",
                "tokens_in": 800, "tokens_out": 0, "input_kind": "text", "latency_ms": 0.0,
                "responded_at": ts(T0 + H)},
            "cost": {"provider": "anthropic", "unit_costs": {}, "estimated_usd": usd}})
        .to_string()
    };
    let gone = s.path().join("moved-away");
    let lines = [
        sess("s1", repo.to_str().unwrap_or_default()),
        turn("t1", "s1", 2.0),
        sess("s2", gone.to_str().unwrap_or_default()),
        turn("t2", "s2", 0.5),
    ];
    std::fs::write(data.join("events.jsonl"), lines.join("\n") + "\n")
        .unwrap_or_else(|e| panic!("write: {e}"));
    (data, gone.to_str().unwrap_or_default().to_owned())
}

#[test]
fn features_json_attributes_cost_and_lists_a_moved_repository() {
    let s = Scratch::new();
    let (data, gone) = setup(&s);
    let data = data.to_str().unwrap_or_default();
    let out = agentos(&["--data-dir", data, "features", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let j: Json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    let f = j["features"].as_array().cloned().unwrap_or_default();
    assert_eq!(f.len(), 2, "{j:#}");
    // $2 and 800 tokens split 6 : 2.
    assert_eq!((f[0]["id"].as_str(), f[0]["rule"].as_str()), (Some("login"), Some("scope")));
    assert_eq!(f[0]["status"], "shipped");
    assert_eq!(f[0]["shipped_at"], "2026-01-01T01:00:00Z");
    assert_eq!(f[0]["cost_usd"].as_f64(), Some(1.5));
    assert_eq!(f[0]["tokens"], 600);
    assert_eq!(f[0]["models"]["model-a"]["cost_usd"].as_f64(), Some(1.5));
    assert_eq!((f[0]["commits"].as_u64(), f[0]["lines_added"].as_u64()), (Some(1), Some(6)));
    assert_eq!(f[0]["agent_lines_added"], 6);
    // Nothing rewritten since; no human-written lines.
    assert_eq!(f[0]["churn_14d_agent"].as_f64(), Some(0.0));
    assert!(f[0]["churn_14d_human"].is_null(), "{j:#}");
    assert_eq!(f[0]["churn_7d_agent"].as_f64(), Some(0.0));
    assert_eq!(f[0]["churn_28d_agent"].as_f64(), Some(0.0));
    assert_eq!(f[1]["cost_usd"].as_f64(), Some(0.5));
    assert_eq!(j["unattributed_cost_usd"].as_f64(), Some(0.5));
    assert_eq!(j["cost_per_shipped_feature_usd"].as_f64(), Some(1.0));
    assert_eq!(j["per_model"]["model-a"].as_f64(), Some(1.0));
    let repos = j["repos"].as_array().cloned().unwrap_or_default();
    assert!(repos.iter().any(|r| r["path"] == gone.as_str() && r["status"] == "missing"), "{j:#}");
    assert!(text(&out.stderr).contains("missing"), "{}", text(&out.stderr));

    let out = agentos(&["--data-dir", data, "features", "--no-churn"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(!table.contains("Churn 14d of agent-written lines"), "{table}");
    assert!(
        table.contains("login") && table.contains("Cost per shipped feature: $1.00"),
        "{table}"
    );
    assert!(table.contains("Unattributed cost: $0.50"), "{table}");
    let out = agentos(&["--data-dir", data, "features"]);
    let table = text(&out.stdout);
    assert!(
        table.contains("Churn 14d of agent-written lines, by model:\n  model-a: 0%"),
        "{table}"
    );
}

#[test]
fn report_by_feature_is_the_features_report() {
    let s = Scratch::new();
    let (data, _) = setup(&s);
    let data = data.to_str().unwrap_or_default();
    let features = agentos(&["--data-dir", data, "features", "--json"]);
    let report = agentos(&["--data-dir", data, "report", "--by", "feature", "--json"]);
    assert!(report.status.success(), "{}", text(&report.stderr));
    let parse = |b: &[u8]| serde_json::from_slice::<Json>(b).unwrap_or_else(|e| panic!("{e}"));
    let (f, r) = (parse(&features.stdout), parse(&report.stdout));
    assert_eq!(r["features"][0]["id"], "login", "{r:#}");
    assert_eq!(f, r);
    let out = agentos(&["--data-dir", data, "report", "--by", "feature", "--session", "s1"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn a_bad_since_is_a_usage_error() {
    let s = Scratch::new();
    let (data, _) = setup(&s);
    let out =
        agentos(&["--data-dir", data.to_str().unwrap_or_default(), "features", "--since", "soon"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("soon"), "{}", text(&out.stderr));
}

#[test]
fn the_summary_carries_the_git_figures_and_rollups_keep_them() {
    let s = Scratch::new();
    let (data, _) = setup(&s);
    let data = data.to_str().unwrap_or_default();
    let summary = || -> Json {
        let bytes = std::fs::read(Path::new(data).join("metrics_summary.json"))
            .unwrap_or_else(|e| panic!("summary: {e}"));
        serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{e}"))
    };
    let out = agentos(&["--data-dir", data, "features", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let g = summary()["git_features"].clone();
    // Both features shipped: $1.5 + $0.5 attributed, $0.5 unattributed (the moved repo).
    assert_eq!((g["shipped"].as_u64(), g["in_progress"].as_u64()), (Some(2), Some(0)), "{g:#}");
    assert_eq!(g["cost_per_shipped_feature_usd"].as_f64(), Some(1.0));
    assert_eq!(g["attributed_cost_usd"].as_f64(), Some(2.0));
    assert_eq!(g["unattributed_cost_usd"].as_f64(), Some(0.5));
    assert_eq!(g["per_model"]["model-a"].as_f64(), Some(1.0));
    assert_eq!((g["lines_added"].as_u64(), g["agent_lines_added"].as_u64()), (Some(8), Some(8)));
    assert_eq!(g["churn_14d_agent"].as_f64(), Some(0.0));
    // The recorded-feature figures stay, named apart.
    assert!(summary()["cost_per_shipped_feature"].is_null());
    // A rollup rewrites the summary from events and keeps the git figures.
    let out = agentos(&["--data-dir", data, "rollup"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(summary()["git_features"], g);
    assert_eq!(summary()["turns"], 2);
}
