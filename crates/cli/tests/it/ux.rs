//! What a first-time user meets: missing inputs, error lines, usage lines, `paths`,
//! `completions`, and wording (plurals, help text).

use std::process::{Command, Output};

use serde_json::Value as Json;

use crate::rollup::{Scratch, git_in, text};

/// Run the binary with exactly these environment variables (besides PATH).
fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_agentos"));
    c.args(args).env_clear();
    if let Some(path) = std::env::var_os("PATH") {
        c.env("PATH", path);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap_or_else(|e| panic!("cannot run agentos: {e}"))
}

#[test]
fn named_inputs_that_do_not_exist_fail_with_the_path() {
    let scratch = Scratch::new();
    let nope = scratch.path().join("nope.jsonl");
    let nope = nope.to_string_lossy().into_owned();
    let out_s = scratch.path().join("out/s.json").to_string_lossy().into_owned();
    for args in [
        vec!["report", "--events", &nope],
        vec!["report", "--events", &nope, "--json"],
        vec!["rollup", "--events", &nope, "--out", &out_s],
        vec!["efficiency", "--windows", &nope],
    ] {
        let out = run(&args, &[]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(&nope), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?}: no believable zeros on stdout");
    }
    // Nothing was written for the failed rollup.
    assert!(!scratch.path().join("out").exists());
}

#[test]
fn an_empty_data_dir_says_where_it_looked() {
    let scratch = Scratch::new();
    let dir = scratch.path().join("data");
    let d = dir.to_string_lossy().into_owned();
    let out = run(&["report"], &[("AGENTOS_DATA_DIR", &d)]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains(&format!("{d}/events.jsonl does not exist")), "{stderr}");
    assert!(stderr.contains("$AGENTOS_DATA_DIR"), "{stderr}");
    let out = run(&["--data-dir", &d, "efficiency"], &[]);
    let stderr = text(&out.stderr);
    assert!(stderr.contains(&format!("{d}/windows.jsonl does not exist")), "{stderr}");
    assert!(stderr.contains("--data-dir"), "{stderr}");
}

#[test]
fn os_errors_are_printed_once() {
    let scratch = Scratch::new();
    std::fs::create_dir_all(scratch.path()).unwrap_or_default();
    let file = scratch.path().join("file");
    std::fs::write(&file, "x").unwrap_or_default();
    let under_file = file.join("sub").to_string_lossy().into_owned();
    let dir = scratch.path().to_string_lossy().into_owned();
    for args in [
        vec!["--data-dir", &under_file, "outbox", "status"],
        vec!["report", "--events", &dir],
        vec!["rollup", "--events", &dir],
    ] {
        let out = run(&args, &[]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.matches("(os error").count() <= 1, "OS error twice: {stderr}");
    }
}

#[test]
fn the_data_dir_from_the_environment_is_not_shown_as_a_required_flag() {
    let scratch = Scratch::new();
    let data = scratch.path().join("data").to_string_lossy().into_owned();
    let out = run(&["session", "start"], &[("AGENTOS_DATA_DIR", &data)]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let usage = stderr.lines().find(|l| l.starts_with("Usage:")).unwrap_or_default();
    assert!(usage.contains("--repo-id") && !usage.contains("--data-dir"), "{usage}");
}

#[test]
fn paths_shows_each_setting_and_its_source() {
    let scratch = Scratch::new();
    let d = scratch.path().join("d").to_string_lossy().into_owned();
    let home = scratch.path().join("home").to_string_lossy().into_owned();
    let json = |out: &Output| -> Json {
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap_or_default()
    };
    let v = json(&run(&["--data-dir", &d, "paths", "--json"], &[("HOME", &home)]));
    assert_eq!(v["data_dir"]["value"].as_str(), Some(d.as_str()));
    assert_eq!(v["data_dir"]["source"].as_str(), Some("flag"));
    assert_eq!(v["license_pack"]["value"].as_str(), Some(format!("{d}/license.pack").as_str()));
    assert_eq!(v["license_pack"]["source"].as_str(), Some("default"));

    let v = json(&run(
        &["paths", "--json"],
        &[("AGENTOS_DATA_DIR", &d), ("LICENSE_PACK_PATH", "/x/l.pack")],
    ));
    assert_eq!(
        (v["data_dir"]["source"].as_str(), v["data_dir"]["from"].as_str()),
        (Some("env"), Some("AGENTOS_DATA_DIR"))
    );
    assert_eq!(v["license_pack"]["value"].as_str(), Some("/x/l.pack"));
    assert_eq!(v["license_pack"]["from"].as_str(), Some("LICENSE_PACK_PATH"));

    let v = json(&run(&["paths", "--json"], &[("HOME", &home), ("CCC_API_KEY", "sk-secret-123")]));
    assert_eq!(
        v["data_dir"]["value"].as_str(),
        Some(format!("{home}/.local/share/agentos").as_str())
    );
    assert_eq!(v["data_dir"]["source"].as_str(), Some("default"));
    assert_eq!(v["ccc_api_key"]["value"].as_str(), Some("set"));
    assert!(!v.to_string().contains("sk-secret-123"));

    let out = run(&["paths"], &[("HOME", &home), ("CCC_API_KEY", "sk-secret-123")]);
    let stdout = text(&out.stdout);
    assert!(stdout.contains(&format!("{home}/.local/share/agentos")), "{stdout}");
    assert!(!stdout.contains("sk-secret-123"));
}

#[test]
fn completions_are_generated_for_each_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = run(&["completions", shell], &[]);
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{shell}: {}", text(&out.stderr));
        assert!(stdout.contains("agentos") && stdout.contains("efficiency"), "{shell}");
    }
    assert_eq!(run(&["completions", "tcsh"], &[]).status.code(), Some(2));
}

#[test]
fn the_provider_comes_from_the_model_table_and_provider_wins() {
    let scratch = Scratch::new();
    let d = scratch.path().join("data").to_string_lossy().into_owned();
    let env = [("AGENTOS_DATA_DIR", d.as_str()), ("PRIVACY_TIER", "local")];
    let ok = |args: &[&str]| {
        let out = run(args, &env);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out.stderr));
    };
    ok(&["session", "start", "--repo-id", "r", "--branch", "b", "--commit", "c"]);
    let turn = ["session", "turn", "--tokens-in", "1", "--tokens-out", "1", "--model"];
    ok(&[&turn[..], &["claude-sonnet-4.5", "--cost-usd", "0.25"]].concat());
    ok(&[&turn[..], &["claude-sonnet-4.5", "--cost-usd", "0.5", "--provider", "bedrock"]].concat());
    ok(&[&turn[..], &["claude-opus-4"]].concat());
    ok(&[&turn[..], &["z.ai/glm-4.6"]].concat());
    ok(&["session", "end"]);
    // windows.jsonl (recorder) and the report (rollup) group the same way, by hand:
    // anthropic = the first and third turn, bedrock = the second, zai = the fourth.
    let windows =
        std::fs::read_to_string(scratch.path().join("data/windows.jsonl")).unwrap_or_default();
    let w: Json =
        serde_json::from_str(windows.lines().next().unwrap_or_default()).unwrap_or_default();
    let turns = |v: &Json, p: &str| v[p]["turns"].as_u64();
    for (p, n) in [("anthropic", 2), ("bedrock", 1), ("zai", 1)] {
        assert_eq!(turns(&w["providers"], p), Some(n), "{p}: {windows}");
    }
    assert_eq!(w["providers"].as_object().map(|o| o.len()), Some(3), "{windows}");
    let out = run(&["report", "--json"], &env);
    let v: Json = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let by = &v["summary"]["usage_by_provider"];
    for (p, n) in [("anthropic", 2), ("bedrock", 1), ("zai", 1)] {
        assert_eq!(turns(by, p), Some(n), "{p}: {by}");
    }
    // The GLM model (a Z.ai model) is mirrored to glm_counts.jsonl: the one GLM rule.
    let glm =
        std::fs::read_to_string(scratch.path().join("data/glm_counts.jsonl")).unwrap_or_default();
    assert_eq!(glm.lines().count(), 1, "{glm}");
}

/// One session with one turn: feature_delta 0 (no progress measured), but feature F1 is
/// shipped and the turn cost $0.02.
fn shipped_without_progress(dir: &std::path::Path) -> String {
    std::fs::create_dir_all(dir).unwrap_or_default();
    let events = dir.join("events.jsonl");
    let session = r#"{"type":"session","session":{"session_id":"s1","repo_id":"r","branch":"b","commit":"c","license_id":"local","privacy_tier":"local","created_at":"2026-03-02T09:00:00Z"}}"#;
    let turn = r#"{"type":"turn","ts":"2026-03-02T10:00:00Z","turn":{"turn_id":"t","session_id":"s1","model":"claude-sonnet-4.5","subagent":"a","tokens_in":1,"tokens_out":1,"input_kind":"text","latency_ms":1,"attribution":{},"capacity_used":0.5},"measurement":{"cls":1,"impf":2,"churn_score":0.1,"feature_delta":0},"feature":{"feature_id":"F1","spec_ref":"s","status":"shipped"},"cost":{"provider":"anthropic","estimated_usd":0.02}}"#;
    std::fs::write(&events, format!("{session}\n{turn}\n")).unwrap_or_default();
    events.to_string_lossy().into_owned()
}

#[test]
fn feature_progress_and_shipped_features_are_named_apart() {
    let scratch = Scratch::new();
    let ev = shipped_without_progress(scratch.path());
    let out = run(&["report", "--events", &ev], &[]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // Singular counts, and Σ feature_delta (0) is "feature progress", never "0 features".
    assert!(stdout.contains("1 session, 1 turn, feature progress 0 over 0.5 capacity"), "{stdout}");
    assert!(!stdout.contains("0 features"), "{stdout}");
    // Cost per shipped feature divides by the shipped count (1), and says so.
    assert!(
        stdout.contains("shipped 1; cost per shipped feature $0.0200 (1 shipped feature)"),
        "{stdout}"
    );
    // The JSON keeps the Python key for Σ feature_delta.
    let out = run(&["report", "--events", &ev, "--json"], &[]);
    let v: Json = serde_json::from_slice(&out.stdout).unwrap_or_default();
    assert_eq!(v["summary"]["features_shipped"].as_f64(), Some(0.0));
    assert_eq!(v["summary"]["features_by_status"]["shipped"].as_u64(), Some(1));
    // The progress log names them the same way.
    let out_s = scratch.path().join("o/metrics_summary.json").to_string_lossy().into_owned();
    let out = run(&["rollup", "--events", &ev, "--out", &out_s], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let log = std::fs::read_to_string(scratch.path().join("o/progress.log.md")).unwrap_or_default();
    assert!(log.contains("- activity: 1 turn, feature progress 0 over 0.5 capacity"), "{log}");
    assert!(log.contains("$0.02 per shipped feature (1 shipped)"), "{log}");
}

fn pack(rel: &str) -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/licensing/packs")
        .join(rel)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn every_license_read_command_has_json_and_a_reason_when_invalid() {
    let scratch = Scratch::new();
    let d = scratch.path().join("data").to_string_lossy().into_owned();
    let keys = pack("test_pubkeys.json");
    let none = [("AGENTOS_DATA_DIR", d.as_str()), ("AGENTOS_PUBKEYS", keys.as_str())];
    // Nothing installed: not valid, and the reason says why (it was null).
    let o = run(&["license", "status", "--json"], &none);
    let v: Json = serde_json::from_slice(&o.stdout).unwrap_or_default();
    assert_eq!(o.status.code(), Some(1));
    assert_eq!((v["valid"].as_bool(), v["reason"].as_str()), (Some(false), Some("not_installed")));
    let o = run(&["license", "entitlements", "--json"], &none);
    let v: Json = serde_json::from_slice(&o.stdout).unwrap_or_default();
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(v["reason"].as_str(), Some("not_installed"));
    let rows = v["entitlements"].as_array().cloned().unwrap_or_default();
    assert!(!rows.is_empty() && rows.iter().all(|r| r["granted"] == false), "{v}");
    // A valid pack: the JSON names the same grants as the text.
    let ok = pack("ok.pack");
    let with = [none[0], none[1], ("LICENSE_PACK_PATH", ok.as_str())];
    let o = run(&["license", "entitlements", "--json", "--now", "1761200000"], &with);
    let v: Json = serde_json::from_slice(&o.stdout).unwrap_or_default();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let text_out = text(&run(&["license", "entitlements", "--now", "1761200000"], &with).stdout);
    for r in v["entitlements"].as_array().cloned().unwrap_or_default() {
        let feature = r["feature"].as_str().unwrap_or_default();
        let line = text_out.lines().find(|l| l.split_whitespace().next() == Some(feature));
        let granted = line.is_some_and(|l| l.contains(" granted "));
        assert_eq!(r["granted"].as_bool(), Some(granted), "{feature}: {text_out}");
    }
    assert_eq!(v["plan"].as_str(), Some("pro"));
    // Device: the same id in both forms.
    let plain = text(&run(&["license", "device"], &none).stdout);
    let o = run(&["license", "device", "--json"], &none);
    let v: Json = serde_json::from_slice(&o.stdout).unwrap_or_default();
    assert_eq!(v["device_id"].as_str(), Some(plain.trim()));
}

#[test]
fn privacy_preview_shows_no_payloads_when_uploads_are_denied() {
    let scratch = Scratch::new();
    let d = scratch.path().join("data").to_string_lossy().into_owned();
    let keys = pack("test_pubkeys.json");
    let missing = scratch.path().join("no.pack").to_string_lossy().into_owned();
    let env = [
        ("AGENTOS_DATA_DIR", d.as_str()),
        ("AGENTOS_PUBKEYS", keys.as_str()),
        ("LICENSE_PACK_PATH", missing.as_str()),
        ("PRIVACY_TIER", "minimized"),
        ("AGENTOS_CCC_BASE_URL", "http://127.0.0.1:9"),
    ];
    let o = run(&["privacy", "preview"], &env);
    let stdout = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(stdout.contains("nothing would be sent"), "{stdout}");
    assert!(!stdout.contains("POST ") && !stdout.contains("payloads in sending order"), "{stdout}");
    let o = run(&["privacy", "preview", "--json"], &env);
    let v: Json = serde_json::from_slice(&o.stdout).unwrap_or_default();
    assert_eq!(v["uploads"].as_str(), Some("denied"), "{v}");
    assert_eq!(v["payloads"].as_array().map(Vec::len), Some(0), "{v}");
    // Allowed: the JSON carries the payloads the text prints.
    let ok = pack("ok.pack");
    let allowed = [env[0], env[1], ("LICENSE_PACK_PATH", ok.as_str()), env[3], env[4]];
    let o = run(&["privacy", "preview", "--json"], &allowed);
    let v: Json = serde_json::from_slice(&o.stdout).unwrap_or_default();
    assert_eq!(v["uploads"].as_str(), Some("allowed"), "{v} {}", text(&o.stderr));
    let routes: Vec<&str> = v["payloads"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["route"].as_str())
        .collect();
    let plain = text(&run(&["privacy", "preview"], &allowed).stdout);
    assert_eq!(routes.len(), plain.matches("\nPOST ").count(), "{plain}");
    assert!(routes.contains(&"/v1/metrics"), "{v}");
}

#[test]
fn demo_runs_reuse_one_directory_and_never_touch_real_data() {
    let scratch = Scratch::new();
    let data = scratch.path().join("data");
    std::fs::create_dir_all(&data).unwrap_or_default();
    // A data dir with real data, and a directory left by an earlier version's demo.
    std::fs::write(data.join("events.jsonl"), "real\n").unwrap_or_default();
    std::fs::create_dir_all(data.join("demo-20260101000000-1")).unwrap_or_default();
    std::fs::write(data.join("demo-20260101000000-1/events.jsonl"), "").unwrap_or_default();
    let d = data.to_string_lossy().into_owned();
    let entries = |p: &std::path::Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(p)
            .map(|it| {
                it.filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    };
    let mut runs = Vec::new();
    for _ in 0..3 {
        let out = run(&["--data-dir", &d, "demo"], &[]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        runs.push(text(&out.stdout));
    }
    // Three runs, one demo directory; the real data is untouched.
    assert_eq!(entries(&data), vec!["demo", "demo-20260101000000-1", "events.jsonl"]);
    assert_eq!(std::fs::read_to_string(data.join("events.jsonl")).unwrap_or_default(), "real\n");
    let events = std::fs::read_to_string(data.join("demo/events.jsonl")).unwrap_or_default();
    let sessions = events.lines().filter(|l| l.contains("\"type\":\"session\"")).count();
    assert_eq!(sessions, 4, "each run replaces the previous samples");
    let last = runs.last().cloned().unwrap_or_default();
    assert!(
        last.contains(&format!("Files are in {d}/demo (the next demo replaces them)")),
        "{last}"
    );
    // The old per-run directory: the output says how to remove it.
    assert!(last.contains(&format!("rm -r {d}/demo-*")), "{last}");
    // A `demo` directory the demo did not make is never cleared.
    let other = scratch.path().join("other");
    std::fs::create_dir_all(other.join("demo")).unwrap_or_default();
    std::fs::write(other.join("demo/mine.txt"), "keep").unwrap_or_default();
    let out = run(&["--data-dir", &other.to_string_lossy(), "demo"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("was not made by the demo"), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(other.join("demo/mine.txt")).unwrap_or_default(), "keep");
}

#[test]
fn schema_show_suggests_the_closest_name() {
    for (typo, meant) in
        [("v1-trun", "v1-turn"), ("ccp-usag", "ccp-usage"), ("V1-SESSION", "v1-session")]
    {
        let out = run(&["schema", "show", typo], &[]);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2));
        assert!(stderr.contains(&format!("did you mean \"{meant}\"?")), "{stderr}");
    }
    let out = run(&["schema", "validate", "--kind", "v1-trun", "x.jsonl"], &[]);
    assert!(text(&out.stderr).contains("did you mean \"v1-turn\"?"));
    // Nothing close: the full list instead.
    let out = run(&["schema", "show", "zzzzzz"], &[]);
    assert!(text(&out.stderr).contains("use one of v1-event"), "{}", text(&out.stderr));
}

#[test]
fn help_explains_the_churn_tag_and_has_no_internal_jargon() {
    let churn = text(&run(&["churn", "--help"], &[]).stdout);
    assert!(churn.contains("xfeat::<FeatureID>::<WindowID>::<Stage>"), "{churn}");
    assert!(churn.contains("xproto::"), "{churn}");
    let commands = [
        vec![],
        vec!["report"],
        vec!["rollup"],
        vec!["efficiency"],
        vec!["churn"],
        vec!["demo"],
        vec!["paths"],
        vec!["license"],
        vec!["license", "status"],
        vec!["license", "entitlements"],
        vec!["schema"],
        vec!["session", "turn"],
        vec!["privacy", "preview"],
        vec!["outbox"],
    ];
    for args in commands {
        let help = text(&run(&[&args[..], &["--help"]].concat(), &[]).stdout);
        for jargon in ["epic", "PRD", "§"] {
            assert!(!help.contains(jargon), "{args:?} --help says {jargon:?}: {help}");
        }
    }
}

#[test]
fn the_churn_footnote_appears_only_under_a_starred_cell() {
    let scratch = Scratch::new();
    let repo = scratch.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap_or_default();
    let git = |args: &[&str], date: &str| git_in(&repo, args, Some(date));
    git(&["init", "-q"], "2026-01-01T00:00:00Z");
    std::fs::write(repo.join("a.txt"), "a\nb\n").unwrap_or_default();
    git(&["add", "."], "2026-01-01T00:00:00Z");
    git(&["commit", "-q", "-m", "xfeat::F1::w1::impl first"], "2026-01-01T00:00:00Z");
    // An untagged commit 40 days later: every horizon (7, 14, 28 days) of F1 is covered.
    std::fs::write(repo.join("b.txt"), "c\n").unwrap_or_default();
    git(&["add", "."], "2026-02-10T00:00:00Z");
    git(&["commit", "-q", "-m", "later work"], "2026-02-10T00:00:00Z");
    let r = repo.to_string_lossy().into_owned();
    let out = text(&run(&["churn", "--repo", &r], &[]).stdout);
    assert!(!out.contains('*'), "no starred cell, no footnote: {out}");
    assert!(out.contains("0 prototype (xproto::) commits excluded, 1 untagged commit\n"), "{out}");
    // A feature commit at HEAD: its horizons are not covered yet, starred, with the footnote.
    std::fs::write(repo.join("c.txt"), "d\n").unwrap_or_default();
    git(&["add", "."], "2026-02-11T00:00:00Z");
    git(&["commit", "-q", "-m", "xfeat::F2::w2::impl second"], "2026-02-11T00:00:00Z");
    let out = text(&run(&["churn", "--repo", &r], &[]).stdout);
    let f2 = out.lines().find(|l| l.starts_with("F2")).unwrap_or_default();
    assert!(f2.contains('*'), "{out}");
    assert!(out.contains("* horizon not yet covered"), "{out}");
}

#[test]
fn schema_list_and_validate_have_json() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let file = root.join("fixtures/ccp/v1_quotas.json").to_string_lossy().into_owned();
    let args = ["schema", "validate", "--kind", "ccp-usage-line", file.as_str()];
    let plain = run(&args, &[]);
    let json = run(&[&args[..], &["--json"]].concat(), &[]);
    assert_eq!((plain.status.code(), json.status.code()), (Some(1), Some(1)));
    let lines: Vec<Json> =
        text(&json.stdout).lines().map(|l| serde_json::from_str(l).unwrap_or_default()).collect();
    let (problems, files): (Vec<&Json>, Vec<&Json>) =
        lines.iter().partition(|v| v.get("pointer").is_some());
    // The same violations as the text form, field by field.
    let rebuilt: Vec<String> = problems
        .iter()
        .map(|v| {
            format!(
                "{}:{}: {}: {}",
                v["file"].as_str().unwrap_or(""),
                v["line"],
                v["pointer"].as_str().unwrap_or(""),
                v["message"].as_str().unwrap_or("")
            )
        })
        .collect();
    assert_eq!(rebuilt, text(&plain.stdout).lines().map(str::to_owned).collect::<Vec<_>>());
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["valid"].as_bool(), Some(false));

    let list = run(&["schema", "list", "--json"], &[]);
    let v: Json = serde_json::from_slice(&list.stdout).unwrap_or_default();
    let names: Vec<&str> =
        v.as_array().into_iter().flatten().filter_map(|k| k["name"].as_str()).collect();
    let plain_names: Vec<String> = text(&run(&["schema", "list"], &[]).stdout)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect();
    assert_eq!(names, plain_names);
}
