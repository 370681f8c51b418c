//! The summary file, `progress.log.md` and `trend.json`: sorted, atomic, idempotent, and
//! equal to an independent computation.

use super::*;

#[test]
fn write_summary_is_sorted_pretty_and_atomic() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let path =
        Utf8PathBuf::from_path_buf(dir.path().join("sub/metrics_summary.json")).unwrap_or_default();
    let r =
        roll(&lines(&[turn("s", "m", json!({"turn": {"attribution": {"zz": 1.0, "aa": 2.0}}}))]));
    assert!(write_summary(&r.summary, &path).is_ok());
    let text = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(text.ends_with("}\n"));
    let keys: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("  \"") && !l.starts_with("   "))
        .filter_map(|l| l.trim().split('"').nth(1))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort_unstable();
    assert_eq!(keys, sorted);
    assert!(keys.contains(&"features_per_capacity") && keys.contains(&"schema_version"));
    let names: Vec<_> = std::fs::read_dir(path.parent().unwrap_or(&path))
        .map(|d| d.filter_map(Result::ok).map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert_eq!(names.len(), 1, "temp files left behind: {names:?}");
    let back: Json = serde_json::from_str(&text).unwrap_or_default();
    assert!(validate::validate(SchemaKind::V1MetricsSummary, &back).is_empty());
}

#[test]
fn progress_log_and_trend_are_idempotent() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let base = Utf8PathBuf::from_path_buf(dir.path().to_path_buf()).unwrap_or_default();
    let log = base.join("progress.log.md");
    let trend = base.join("trend.json");
    let day1 = turn(
        "s",
        "m",
        json!({"ts": "2026-02-01T09:00:00Z", "turn": {"capacity_used": 0.5},
        "measurement": {"cls": 1, "impf": 1, "churn_score": 0, "feature_delta": 1}}),
    );
    let day2 = turn(
        "s",
        "m",
        json!({"ts": "2026-02-02T09:00:00Z", "turn": {"capacity_used": 0.5},
        "measurement": {"cls": 1, "impf": 1, "churn_score": 0, "feature_delta": 2}}),
    );
    let r1 = roll(&lines(std::slice::from_ref(&day1)));
    let t = update_trend(&trend, &r1).unwrap_or_else(|e| panic!("{e}"));
    assert!(update_progress_log(&log, "2026-02-01", &r1, Some(&t)).is_ok());
    let once = std::fs::read_to_string(&log).unwrap_or_default();
    let trend_once = std::fs::read_to_string(&trend).unwrap_or_default();
    let t = update_trend(&trend, &r1).unwrap_or_else(|e| panic!("{e}"));
    assert!(update_progress_log(&log, "2026-02-01", &r1, Some(&t)).is_ok());
    assert_eq!(std::fs::read_to_string(&log).unwrap_or_default(), once);
    assert_eq!(std::fs::read_to_string(&trend).unwrap_or_default(), trend_once);
    assert_eq!(once.matches("## 2026-02-01").count(), 1);
    assert!(
        once.contains("1 turn, feature progress 1 over 0.5 capacity (2 per capacity)"),
        "{once}"
    );

    let r2 = roll(&lines(&[day1, day2]));
    let t = update_trend(&trend, &r2).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        t.rows.iter().map(|r| r.date.as_str()).collect::<Vec<_>>(),
        vec!["2026-02-01", "2026-02-02"]
    );
    assert!(update_progress_log(&log, "2026-02-02", &r2, Some(&t)).is_ok());
    assert!(update_progress_log(&log, "2026-02-02", &r2, Some(&t)).is_ok());
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(text.matches("## 2026-02-01").count(), 1);
    assert_eq!(text.matches("## 2026-02-02").count(), 1);
    assert!(text.find("## 2026-02-01") < text.find("## 2026-02-02"));
    assert!(text.contains("feature progress per capacity up 100% vs 2026-02-01"), "{text}");

    // A run days later still gives every day of activity its own section.
    assert!(update_progress_log(&log, "2026-02-05", &r2, Some(&t)).is_ok());
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let days: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("## ")).collect();
    assert_eq!(days, ["2026-02-01", "2026-02-02", "2026-02-05"], "{text}");
    let feb5 = &text[text.find("## 2026-02-05").unwrap_or_default()..];
    assert!(feb5.contains("- activity: no turns recorded") && feb5.contains("- to date:"));
    let feb1 = &text[..text.find("## 2026-02-02").unwrap_or_default()];
    assert!(feb1.contains("feature progress 1 over 0.5 capacity (2 per capacity)"), "{feb1}");
    assert!(!feb1.contains("- to date:"), "only the run day carries the totals: {feb1}");
}

#[test]
fn replace_section_keeps_preamble_and_other_days() {
    let old = "# my log\nintro\n\n## 2026-01-02\n- b\n\n## 2026-01-01\n- a\n";
    let new = replace_section(old, "2026-01-02", "- B\n");
    assert_eq!(new, "# my log\nintro\n\n## 2026-01-01\n- a\n\n## 2026-01-02\n- B\n");
}

/// A generated log spanning many chunks (both workers, merging), checked against expected
/// values computed here independently (a plain sequential pass over `serde_json::Value`).
#[test]
fn generated_log_matches_an_independent_computation() {
    let mut rng = 0x2545F4914F6CDD1Du64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let models = ["claude/sonnet", "codex/gpt-5", "glm/4.6", "local-llama"];
    let mut events = Vec::new();
    for s in 0..120 {
        let sid = format!("sess-{s}");
        events.push(session(&sid, &format!("2026-04-{:02}T08:00:00Z", 1 + s % 20)));
        for t in 0..50 {
            let m = models[(next() % 4) as usize];
            let mut extra = json!({"ts": format!("2026-04-{:02}T09:{:02}:00Z", 1 + s % 20, t % 60),
                "turn": {"turn_id": format!("{sid}-{t}"), "tokens_in": next() % 5000,
                         "tokens_out": next() % 2000,
                         "attribution": {m: 0.5 + (next() % 50) as f64 / 100.0}}});
            if next() % 3 == 0 {
                extra["turn"]["capacity_used"] = json!((next() % 1000) as f64 / 100000.0);
            }
            if next() % 4 == 0 {
                extra["measurement"] = json!({"cls": (next() % 300) as f64 / 100.0,
                    "impf": (next() % 600) as f64 / 10.0, "churn_score": (next() % 100) as f64 / 100.0,
                    "feature_delta": (next() % 3) as f64 / 2.0});
            }
            if next() % 2 == 0 {
                extra["cost"] = json!({"provider": m.split('/').next().unwrap_or(m), "estimated_usd": (next() % 1000) as f64 / 1e4});
            }
            if next() % 10 == 0 {
                let st = ["proposed", "implemented", "shipped"][(next() % 3) as usize];
                extra["feature"] = json!({"feature_id": format!("F{}", next() % 40), "spec_ref": "x", "status": st});
            }
            events.push(turn(&sid, m, extra));
        }
        events.push(json!({"type": "session_end", "session_id": sid, "ended_at": "2026-04-25T00:00:00Z", "notes": ""}));
    }
    // Pad lines so the log spans several 1 MiB chunks.
    let pad = "x".repeat(300);
    let text: String = events
        .iter()
        .map(|e| {
            let mut e = e.clone();
            e["pad"] = json!(pad);
            format!("{e}\n")
        })
        .collect();
    assert!(text.len() > 3 << 20, "{}", text.len());

    // Independent expectation.
    let (mut turns, mut feats, mut cap, mut cost) = (0u64, 0.0, 0.0, 0.0);
    let (mut cls, mut ncls) = (0.0, 0u64);
    let mut sessions = std::collections::HashSet::new();
    let mut mv: BTreeMap<String, f64> = BTreeMap::new();
    let mut fa: BTreeMap<String, f64> = BTreeMap::new();
    let mut tin: BTreeMap<String, u64> = BTreeMap::new();
    let mut status: BTreeMap<String, String> = BTreeMap::new();
    for e in &events {
        match e["type"].as_str() {
            Some("session") => {
                sessions.insert(e["session"]["session_id"].as_str().unwrap_or("").to_owned());
            }
            Some("turn") => {
                turns += 1;
                let fd = e["measurement"]["feature_delta"].as_f64().unwrap_or(0.0);
                feats += fd;
                if let Some(c) = e["measurement"]["cls"].as_f64() {
                    cls += c;
                    ncls += 1;
                }
                cap += e["turn"]["capacity_used"].as_f64().unwrap_or(0.0);
                cost += e["cost"]["estimated_usd"].as_f64().unwrap_or(0.0);
                let m = e["turn"]["model"].as_str().unwrap_or("").to_owned();
                *tin.entry(m).or_default() += e["turn"]["tokens_in"].as_u64().unwrap_or(0);
                for (k, w) in e["turn"]["attribution"].as_object().into_iter().flatten() {
                    *mv.entry(k.clone()).or_default() += w.as_f64().unwrap_or(0.0);
                    *fa.entry(k.clone()).or_default() += w.as_f64().unwrap_or(0.0) * fd;
                }
                if let Some(f) = e["feature"]["feature_id"].as_str() {
                    status.insert(
                        f.to_owned(),
                        e["feature"]["status"].as_str().unwrap_or("").to_owned(),
                    );
                }
            }
            _ => {}
        }
    }
    let r = roll(&text);
    let s = &r.summary;
    assert_eq!(s.diagnostics, 0);
    assert_eq!((s.turns, s.sessions), (turns, sessions.len() as u64));
    assert!(
        close(s.features_shipped, feats) && close(s.capacity_used, cap) && close(s.cost_usd, cost)
    );
    assert!(
        s.features_per_capacity.is_some_and(|v| (v - feats / cap).abs() < 1e-9 * (feats / cap))
    );
    assert!(s.avg_cls.is_some_and(|v| close(v, cls / ncls as f64)));
    assert_eq!(s.model_value.len(), mv.len());
    for (k, w) in &mv {
        assert!(close(s.model_value[k], *w), "{k}");
        assert!(close(s.value_per_model[k].features_attributed, fa[k]), "{k}");
    }
    for (m, n) in &tin {
        assert_eq!(s.usage_by_model[m].tokens_in, *n);
    }
    let shipped = status.values().filter(|v| *v == "shipped").count() as u64;
    assert_eq!(s.features_by_status[&FeatureStatus::Shipped], shipped);
    assert_eq!(r.sessions.len(), 120);
    assert_eq!(r.sessions.iter().map(|s| s.row.turns).sum::<u64>(), turns);
    assert_eq!(r.days.values().map(|d| d.turns).sum::<u64>(), turns);
    let period = s.period.as_ref().map(|p| (p.start.to_string(), p.end.to_string()));
    assert_eq!(
        period,
        Some(("2026-04-01T08:00:00.000000Z".into(), "2026-04-25T00:00:00.000000Z".into()))
    );
    // Deterministic: the same input gives the same summary (generated_at aside).
    let fixed =
        SummaryOptions { generated_at: Timestamp::from_unix_seconds(0), ..Default::default() };
    assert_eq!(roll_opts(&text, &fixed).summary, roll_opts(&text, &fixed).summary);
}
