//! `agentos backfill --ccp-root`, run as the real binary against a generated CCP log tree
//! (expected numbers from the generator's own bookkeeping, `agentos_testkit::ccp_logs`).

use std::path::Path;
use std::process::{Command, Output};

use agentos_testkit::ccp_logs::CcpTree;
use serde_json::Value as Json;

use crate::rollup::{Scratch, text};

fn backfill(data: &Path, root: &Path, extra: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_agentos"));
    c.env_remove("AGENTOS_DATA_DIR").env("HOME", data);
    c.arg("--data-dir").arg(data).arg("backfill").arg("--ccp-root").arg(root);
    c.args(extra).output().unwrap()
}

fn json_of(out: &Output) -> Json {
    assert!(out.status.success(), "exit {:?}: {}", out.status, text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)))
}

#[test]
fn backfill_json_matches_the_generated_truth_and_a_rerun_writes_nothing() {
    let s = Scratch::new();
    let root = s.path().join("ccp");
    let tree = CcpTree::generate(&root, 250, 21).unwrap();
    let t = &tree.truth;
    let data = s.path().join("data");

    let dry = json_of(&backfill(&data, &root, &["--json", "--dry-run"]));
    assert_eq!(dry["requests"], t.requests);
    assert_eq!(dry["dry_run"], true);
    assert!(!data.join("events.jsonl").exists());

    let r = json_of(&backfill(&data, &root, &["--json"]));
    for (key, want) in [
        ("requests", t.requests),
        ("completed", t.completed),
        ("failed", t.failed),
        ("fallbacks", t.fallbacks),
        ("input_tokens", t.input_tokens),
        ("output_tokens", t.output_tokens),
        ("bad_lines", t.bad_lines),
        ("duplicate_files", t.duplicate_files),
        ("tokens_unknown", t.tokens_unknown),
    ] {
        assert_eq!(r[key], want, "{key}");
    }
    for (model, [req, failed, inp, out]) in &t.by_model {
        let m = &r["by_model"][model];
        assert_eq!(
            [&m["requests"], &m["failed"], &m["input_tokens"], &m["output_tokens"]],
            [req, failed, inp, out].map(|v| Json::from(*v)).each_ref(),
            "{model}"
        );
    }
    let days: std::collections::BTreeMap<String, u64> =
        serde_json::from_value(r["by_day"].clone()).unwrap();
    assert_eq!(&days, &t.by_day);
    assert!(r["files"].as_array().unwrap().iter().any(|f| f["action"] == "new"));
    assert!(r["bad"][0].as_str().unwrap().contains(".jsonl"));

    // The summary follows: one turn per request.
    let summary: Json =
        serde_json::from_slice(&std::fs::read(data.join("metrics_summary.json")).unwrap()).unwrap();
    assert_eq!(summary["turns"], t.requests);
    assert!(data.join("progress.log.md").exists() && data.join("trend.json").exists());

    let events = std::fs::read(data.join("events.jsonl")).unwrap();
    let again = json_of(&backfill(&data, &root, &["--json"]));
    assert_eq!(again["requests"], 0);
    assert_eq!(again["files_read"], 0);
    assert_eq!(std::fs::read(data.join("events.jsonl")).unwrap(), events);

    // The text report says the same numbers.
    let out = backfill(&data, &root, &[]);
    assert!(out.status.success());
    assert!(text(&out.stdout).starts_with("wrote 0 requests"), "{}", text(&out.stdout));
}

#[test]
fn usage_errors_exit_2_with_a_hint() {
    let s = Scratch::new();
    let data = s.path().join("data");
    let out = backfill(&data, &s.path().join("nowhere"), &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("is not a directory") && err.contains("--ccp-root names"), "{err}");

    let root = s.path().join("ccp");
    CcpTree::generate(&root, 30, 2).unwrap();
    let out = backfill(&data, &root, &["--since", "yesterday"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("--since 2026-11-01"), "{}", text(&out.stderr));

    let out = backfill(&data, &root, &["--strict"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains(".jsonl.1:2: ") && err.contains("without --strict"), "{err}");
    assert!(!data.join("events.jsonl").exists());
}

#[test]
fn agentos_py_imports_the_python_event_log_and_rolls_it_up() {
    let s = Scratch::new();
    let py = s.path().join("py");
    std::fs::create_dir_all(&py).unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/agentos-py/events/python_written.jsonl");
    std::fs::copy(fixture, py.join("windows.jsonl")).unwrap();
    let data = s.path().join("data");
    let mut c = Command::new(env!("CARGO_BIN_EXE_agentos"));
    c.env_remove("AGENTOS_DATA_DIR").env("HOME", &data);
    c.arg("--data-dir").arg(&data).args(["backfill", "--json", "--agentos-py"]).arg(&py);
    let r = json_of(&c.output().unwrap());
    // 9 events in the fixture: 3 sessions, 5 turns, 1 session_end (counted by hand).
    assert_eq!(r["agentos_py"]["events"], 9);
    assert!(r.get("requests").is_none(), "no CCP root given");
    let summary: Json =
        serde_json::from_slice(&std::fs::read(data.join("metrics_summary.json")).unwrap()).unwrap();
    assert_eq!(summary["turns"], 5);
    let again = json_of(&c.output().unwrap());
    assert_eq!(again["agentos_py"]["events"], 0);

    // Neither source named: a usage error.
    let mut c = Command::new(env!("CARGO_BIN_EXE_agentos"));
    c.arg("--data-dir").arg(&data).arg("backfill");
    assert_eq!(c.output().unwrap().status.code(), Some(2));

    // A directory without the Python event log: said so, not "imported 0 events".
    let empty = s.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_agentos"));
    c.env_remove("AGENTOS_DATA_DIR").env("HOME", &data);
    c.arg("--data-dir").arg(&data).args(["backfill", "--agentos-py"]).arg(&empty);
    let out = c.output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    assert!(said.contains(&format!("{}: no windows.jsonl there", empty.display())), "{said}");
}

#[test]
fn a_saved_usage_snapshot_gives_the_summary_its_model_health() {
    let s = Scratch::new();
    let root = s.path().join("ccp");
    CcpTree::generate(&root, 20, 4).unwrap();
    let saved = root.join("results/usage");
    std::fs::create_dir_all(&saved).unwrap();
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/ccp");
    std::fs::copy(fixtures.join("v1_usage.json"), saved.join("2026-11-20.json")).unwrap();
    let data = s.path().join("data");
    let r = json_of(&backfill(&data, &root, &["--json"]));
    let snaps = r["results"]["usage_snapshots"].as_array().unwrap();
    assert_eq!(snaps.len(), 1);
    let summary: Json =
        serde_json::from_slice(&std::fs::read(data.join("metrics_summary.json")).unwrap()).unwrap();
    assert!(summary["model_health"]["claude-haiku-4.5"].is_object(), "{summary}");
}

/// The value of rank ⌈pct·n/100⌉ of `values` in ascending order (nearest rank).
fn nearest_rank(values: &mut [f64], pct: usize) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let rank = (pct * values.len()).div_ceil(100).max(1);
    values.get(rank - 1).copied()
}

/// Within the trend's stated accuracy (1 %) of `want`; `null` exactly when there is none.
fn near(got: &Json, want: Option<f64>, what: &str) {
    match want {
        None => assert!(got.is_null(), "{what}: {got} for none"),
        Some(w) => {
            let g = got.as_f64().unwrap_or_else(|| panic!("{what}: {got}"));
            assert!((g - w).abs() <= 0.01 * w + 1e-9, "{what}: {g} vs {w}");
        }
    }
}

#[test]
fn the_trend_per_day_and_model_matches_the_generated_truth() {
    let s = Scratch::new();
    let root = s.path().join("ccp");
    let tree = CcpTree::generate(&root, 1500, 33).unwrap();
    let data = s.path().join("data");
    // Prices of our own, so each request's cost is computed here by hand.
    let prices = s.path().join("prices.json");
    let per_million =
        [("claude-sonnet-4.5", 3.0, 15.0), ("claude-haiku-4.5", 1.0, 5.0), ("glm-4.6", 0.6, 2.2)];
    let models: serde_json::Map<String, Json> = per_million
        .iter()
        .map(|(m, i, o)| ((*m).to_owned(), serde_json::json!({"input": i, "output": o})))
        .collect();
    let table = serde_json::json!({"id": "test", "date": "2026-11-30", "models": models});
    std::fs::write(&prices, table.to_string()).unwrap();
    let r = json_of(&backfill(&data, &root, &["--json", "--prices", prices.to_str().unwrap()]));
    let rows = r["trend"].as_array().unwrap();

    // The generator's requests grouped by the UTC day they ended on and their model.
    let mut cells: std::collections::BTreeMap<(String, String), Vec<_>> = Default::default();
    for q in &tree.requests {
        let day = agentos_testkit::ccp_logs::utc_day(q.at);
        cells.entry((day, q.model.clone())).or_default().push(q);
    }
    assert_eq!(rows.len(), cells.len(), "one row per day × model");
    assert!(cells.len() > 20, "{} cells: several days and models", cells.len());
    let (mut warn, mut block, mut too_many) = (0, 0, 0);
    for (row, ((day, model), reqs)) in rows.iter().zip(&cells) {
        let what = format!("{day} {model}");
        assert_eq!(
            (row["date"].as_str(), row["model"].as_str()),
            (Some(day.as_str()), Some(model.as_str()))
        );
        let count = |f: &dyn Fn(&&&agentos_testkit::ccp_logs::GenRequest) -> bool| {
            reqs.iter().filter(f).count() as u64
        };
        assert_eq!(row["requests"], reqs.len() as u64, "{what}");
        assert_eq!(row["failed"], count(&|q| q.failed), "{what}");
        assert_eq!(row["tokens_in"], reqs.iter().map(|q| q.tokens.0).sum::<u64>(), "{what}");
        assert_eq!(row["tokens_out"], reqs.iter().map(|q| q.tokens.1).sum::<u64>(), "{what}");
        assert_eq!(row["fallbacks"], reqs.iter().map(|q| q.fallbacks).sum::<u64>(), "{what}");
        assert_eq!(row["status_429"], count(&|q| q.status_429), "{what}");
        assert_eq!(row["idle_timeouts"], count(&|q| q.idle_timeout), "{what}");
        assert_eq!(row["quota_warn"], count(&|q| q.reroute == "quota_warn_attempt"), "{what}");
        assert_eq!(row["quota_block"], count(&|q| q.reroute == "quota_block"), "{what}");
        warn += count(&|q| q.reroute == "quota_warn_attempt");
        block += count(&|q| q.reroute == "quota_block");
        too_many += count(&|q| q.status_429);
        let (_, pin, pout) = per_million.iter().find(|p| p.0 == model).unwrap();
        let cost: f64 =
            reqs.iter().map(|q| (q.tokens.0 as f64 * pin + q.tokens.1 as f64 * pout) / 1e6).sum();
        near(&row["cost_usd"], Some(cost), &format!("{what} cost"));
        let mut lat: Vec<f64> =
            reqs.iter().filter_map(|q| q.latency_ms.map(|v| v as f64)).collect();
        let mut ttft: Vec<f64> = reqs.iter().filter_map(|q| q.ttft_ms.map(|v| v as f64)).collect();
        assert_eq!(row["latency_samples"], lat.len() as u64, "{what}");
        assert_eq!(row["ttft_samples"], ttft.len() as u64, "{what}");
        near(&row["latency_ms_p50"], nearest_rank(&mut lat, 50), &format!("{what} p50"));
        near(&row["latency_ms_p95"], nearest_rank(&mut lat, 95), &format!("{what} p95"));
        near(&row["ttft_ms_p50"], nearest_rank(&mut ttft, 50), &format!("{what} ttft p50"));
        near(&row["ttft_ms_p90"], nearest_rank(&mut ttft, 90), &format!("{what} ttft p90"));
        // ELR: Σ out / Σ (stream time, else latency); dirty: Σ out / Σ latency (contract §6.2).
        let out: u64 = reqs.iter().map(|q| q.tokens.1).sum();
        let latency_s: f64 = reqs.iter().map(|q| q.latency_ms.unwrap_or(0) as f64 / 1000.0).sum();
        let effective_s: f64 = reqs
            .iter()
            .map(|q| q.stream_ms.filter(|s| *s > 0).or(q.latency_ms).unwrap_or(0) as f64 / 1000.0)
            .sum();
        let tps = |secs: f64| (secs > 0.0).then(|| out as f64 / secs);
        near(&row["out_elr_tps"], tps(effective_s), &format!("{what} elr"));
        near(&row["out_dirty_tps"], tps(latency_s), &format!("{what} dirty"));
    }
    assert!(warn > 0 && block > 0 && too_many > 0, "the tree has each kind");

    // The same rows are in model_trend.json; `agentos rollup` resumes and writes the same bytes.
    let file = std::fs::read(data.join("model_trend.json")).unwrap();
    let stored: Json = serde_json::from_slice(&file).unwrap();
    assert_eq!(&stored["rows"], &r["trend"]);
    let mut c = Command::new(env!("CARGO_BIN_EXE_agentos"));
    c.env_remove("AGENTOS_DATA_DIR").env("HOME", &data).arg("--data-dir").arg(&data).arg("rollup");
    assert!(c.output().unwrap().status.success());
    assert_eq!(std::fs::read(data.join("model_trend.json")).unwrap(), file);
}

/// A damaged month of seen keys stops the run with the file named and what to do; removing the
/// state as told makes the next run read everything again without counting anything twice.
#[test]
fn a_damaged_seen_keys_file_is_named_and_removing_the_state_recovers() {
    let s = Scratch::new();
    let root = s.path().join("ccp");
    let tree = CcpTree::generate(&root, 120, 5).unwrap();
    let data = s.path().join("data");
    json_of(&backfill(&data, &root, &["--json"]));
    let state = data.join("backfill").join("ccp");
    let months: Vec<_> =
        std::fs::read_dir(state.join("seen")).unwrap().map(|e| e.unwrap().path()).collect();
    assert!(!months.is_empty());
    for m in &months {
        let bytes = std::fs::read(m).unwrap();
        std::fs::write(m, &bytes[..bytes.len() - 1]).unwrap();
    }
    // A partial tag snapshot: read line by line, its keys looked up in the damaged months.
    let archive = std::fs::read_dir(root.join("logs").join("archive")).unwrap();
    let first = archive.map(|e| e.unwrap().path()).next().unwrap();
    let head: Vec<u8> = std::fs::read(&first)
        .unwrap()
        .split_inclusive(|b| *b == b'\n')
        .take(6)
        .flatten()
        .copied()
        .collect();
    std::fs::write(root.join("logs").join("usage_partial.jsonl"), head).unwrap();

    let out = backfill(&data, &root, &["--json"]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("damaged") && err.contains(".keys: "), "{err}");
    assert!(err.contains(&format!("{} is damaged", state.display())), "{err}");
    assert!(err.contains("agentos backfill"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    std::fs::remove_dir_all(&state).unwrap();
    let again = json_of(&backfill(&data, &root, &["--json"]));
    // Everything read again: the same requests, written again with the same ids.
    assert_eq!(again["requests"], tree.truth.requests);
    let summary: Json =
        serde_json::from_slice(&std::fs::read(data.join("metrics_summary.json")).unwrap()).unwrap();
    assert_eq!(summary["turns"], tree.truth.requests);
}

/// The bundled log tree the README backfills: the real captures' six requests (five of
/// claude-haiku-4.5, one of claude-sonnet-4.5, counted by hand from the files), its tag
/// snapshot a byte-identical copy, nothing new on a second run.
#[test]
fn the_bundled_log_tree_backfills_as_the_readme_says() {
    let s = Scratch::new();
    let data = s.path().join("data");
    let tree = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/ccp-tree");
    let r = json_of(&backfill(&data, &tree, &["--json"]));
    assert_eq!(r["requests"], 6);
    assert_eq!(r["by_model"]["claude-haiku-4.5"]["requests"], 5);
    assert_eq!(r["by_model"]["claude-sonnet-4.5"]["requests"], 1);
    assert_eq!((&r["input_tokens"], &r["output_tokens"]), (&Json::from(500), &Json::from(250)));
    assert_eq!(r["duplicate_files"], 1);
    assert_eq!(r["bad_lines"], 0);
    let again = json_of(&backfill(&data, &tree, &["--json"]));
    assert_eq!(again["requests"], 0);
    // The text report, on a data dir of its own.
    let out = backfill(&s.path().join("text"), &tree, &[]);
    let said = text(&out.stdout);
    assert!(said.starts_with("wrote 6 requests: 6 completed"), "{said}");
    assert!(
        said.contains(
            "1 byte-identical copy; lines: 13 read, 0 duplicates dropped, 1 placeholder, 0 bad"
        ),
        "{said}"
    );
}

/// The text report names each file it did not read and why (a named pipe with a log's name,
/// never opened); a link to a log read by its own path counts as a byte-identical copy.
#[cfg(unix)]
#[test]
fn the_text_report_says_which_files_were_skipped_and_why() {
    let s = Scratch::new();
    let root = s.path().join("ccp");
    CcpTree::generate(&root, 20, 5).unwrap();
    let copies = |r: &Json| r["duplicate_files"].as_u64().unwrap();
    let before = copies(&json_of(&backfill(&s.path().join("plain"), &root, &["--json"])));
    let link = root.join("logs/dev/linked/usage.jsonl");
    std::fs::create_dir_all(link.parent().unwrap()).unwrap();
    std::os::unix::fs::symlink(root.join("logs/usage.jsonl"), &link).unwrap();
    let pipe = root.join("logs/usage.jsonl.9");
    let made = Command::new("mkfifo").arg(&pipe).status().unwrap();
    assert!(made.success());

    let out = backfill(&s.path().join("text"), &root, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let said = text(&out.stdout);
    let want = format!(
        "  skipped {}: not a regular file (a pipe, socket or device): not read\n",
        pipe.display()
    );
    assert!(said.contains(&want), "{said}");
    let r = json_of(&backfill(&s.path().join("json"), &root, &["--json"]));
    assert_eq!(copies(&r), before + 1);
    let files = r["files"].as_array().unwrap();
    let listed = files.iter().find(|f| f["path"] == link.to_str().unwrap()).unwrap();
    assert_eq!(listed["action"], "copy");
}

/// `metrics_summary.json` of `data`, without the time it was written.
fn summary_of(data: &Path) -> Json {
    let mut s: Json =
        serde_json::from_slice(&std::fs::read(data.join("metrics_summary.json")).unwrap()).unwrap();
    s.as_object_mut().unwrap().remove("generated_at");
    s
}

#[test]
fn the_summary_refreshed_as_the_events_are_written_is_the_one_read_back() {
    let s = Scratch::new();
    let root = s.path().join("ccp");
    let tree = CcpTree::generate(&root, 400, 33).unwrap();
    let data = s.path().join("data");
    // The log held lines already, rolled up once: a bad one and one appended since.
    std::fs::create_dir_all(&data).unwrap();
    std::fs::write(data.join("events.jsonl"), "not an event\n").unwrap();
    let rolled = crate::rollup::agentos(&["--data-dir", data.to_str().unwrap(), "rollup"]);
    assert!(rolled.status.success(), "{}", text(&rolled.stderr));
    std::fs::write(data.join("events.jsonl"), "not an event\n{\"type\":\"other\"}\n").unwrap();
    // Two backfills: the days from the middle one on, then the rest with a Python AgentOS
    // log (its events appended after the CCP ones: read by the refresh, not told).
    let days: Vec<&String> = tree.truth.by_day.keys().collect();
    let middle = days[days.len() / 2].as_str();
    let first = json_of(&backfill(&data, &root, &["--json", "--since", middle]));
    let py = s.path().join("py");
    std::fs::create_dir_all(&py).unwrap();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/agentos-py/events/python_written.jsonl");
    std::fs::copy(fixture, py.join("windows.jsonl")).unwrap();
    let second =
        json_of(&backfill(&data, &root, &["--json", "--agentos-py", py.to_str().unwrap()]));
    assert_eq!(second["agentos_py"]["events"], 9);
    let requests = first["requests"].as_u64().unwrap() + second["requests"].as_u64().unwrap();
    assert_eq!(requests, tree.truth.requests);
    assert!(first["requests"].as_u64().unwrap() > 0 && second["requests"].as_u64().unwrap() > 0);

    // The same log, rolled up by reading every line of it.
    let copy = s.path().join("copy");
    std::fs::create_dir_all(&copy).unwrap();
    std::fs::copy(data.join("events.jsonl"), copy.join("events.jsonl")).unwrap();
    let full = crate::rollup::agentos(&["--data-dir", copy.to_str().unwrap(), "rollup", "--full"]);
    assert!(full.status.success(), "{}", text(&full.stderr));
    let want = summary_of(&copy);
    // Every request, and the Python log's 5 turns (counted by hand).
    assert_eq!(want["turns"], tree.truth.requests + 5);
    assert_eq!(want["diagnostics"], 1);
    assert_eq!(summary_of(&data), want);

    // The checkpoint it left resumes like a rollup's.
    let again = crate::rollup::agentos(&["--data-dir", data.to_str().unwrap(), "rollup"]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    assert_eq!(summary_of(&data), want);
}
