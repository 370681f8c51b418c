//! End to end: the real `agentos import` over a generated Claude Code + Codex history, then
//! `agentos usage daily|monthly|session --json`, cell by cell against the generator's own truth
//! (`agentos_testkit::agent_history`) in two time zones, with costs recomputed here from the
//! bundled price table's data; a re-run imports nothing; appended lines and a new session are
//! picked up exactly.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use agentos_testkit::agent_history::{History, Options, Response, Zone};
use serde_json::Value;

/// The bundled price table (the newest dated file), read as data: the test prices the truth
/// itself.
fn price_table() -> Value {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../event-schema/src/prices");
    let newest = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .max()
        .expect("a price table");
    serde_json::from_str(&std::fs::read_to_string(newest).unwrap()).unwrap()
}

fn agentos(home: &Path, data: &Path, args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_agentos"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("TZ", "UTC")
        .env("PRIVACY_TIER", "local")
        .arg("--data-dir")
        .arg(data)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "agentos {args:?}: {}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("agentos {args:?}: not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout))
    })
}

/// Per-million prices of one model: (input, output, write 5m, write 1h, read), plain and
/// long-context with its threshold.
struct Price {
    base: [f64; 5],
    long: Option<(u64, [f64; 5])>,
}

fn rates(v: &Value) -> [f64; 5] {
    let f = |k: &str| v.get(k).and_then(Value::as_f64);
    let input = f("input").unwrap();
    let w5 = f("cache_write_5m").unwrap_or(input);
    [
        input,
        f("output").unwrap(),
        w5,
        f("cache_write_1h").unwrap_or(w5),
        f("cache_read").unwrap_or(input),
    ]
}

/// The model's family in the table: the longest name equal to the id or followed by a date.
fn price(table: &Value, model: &str) -> Price {
    let models = table["models"].as_object().unwrap();
    let (_, v) = models
        .iter()
        .filter(|(k, _)| {
            model == k.as_str()
                || model
                    .strip_prefix(k.as_str())
                    .and_then(|r| r.strip_prefix('-'))
                    .is_some_and(|r| r.len() == 8 && r.bytes().all(|b| b.is_ascii_digit()))
        })
        .max_by_key(|(k, _)| k.len())
        .unwrap_or_else(|| panic!("no price for {model}"));
    Price {
        base: rates(v),
        long: v.get("long_context").map(|lc| (lc["threshold_tokens"].as_u64().unwrap(), rates(lc))),
    }
}

/// A response's cost: every token at the long-context rates when the whole input (uncached +
/// cache writes + cache reads) is above the threshold.
fn cost(table: &Value, r: &Response) -> f64 {
    let p = price(table, &r.model);
    let t = &r.tokens;
    let whole_input = t.input + t.cache_write() + t.cache_read;
    let k = match p.long {
        Some((threshold, long)) if whole_input > threshold => long,
        _ => p.base,
    };
    (t.input as f64 * k[0]
        + t.output as f64 * k[1]
        + t.cache_write_5m as f64 * k[2]
        + t.cache_write_1h as f64 * k[3]
        + t.cache_read as f64 * k[4])
        / 1e6
}

/// (input, output, cache creation, cache read) and cost per (day, model).
type Cells = BTreeMap<(String, String), ([u64; 4], f64)>;

fn truth_cells(h: &History, tz: &str) -> Cells {
    let table = price_table();
    let zone_days = h.daily(tz).unwrap();
    let mut out: Cells = zone_days
        .iter()
        .map(|(k, t)| (k.clone(), ([t.input, t.output, t.cache_write(), t.cache_read], 0.0)))
        .collect();
    let zone = Zone::get(tz).unwrap();
    for r in &h.responses {
        out.get_mut(&(zone.day(r.at), r.model.clone())).unwrap().1 += cost(&table, r);
    }
    out
}

fn report_cells(report: &Value) -> Cells {
    let mut out = Cells::new();
    for day in report["daily"].as_array().expect("daily[]") {
        let date = day["date"].as_str().unwrap().to_owned();
        for b in day["modelBreakdowns"].as_array().unwrap() {
            let n = |k: &str| b[k].as_u64().unwrap();
            let key = (date.clone(), b["modelName"].as_str().unwrap().to_owned());
            let cell = (
                [
                    n("inputTokens"),
                    n("outputTokens"),
                    n("cacheCreationTokens"),
                    n("cacheReadTokens"),
                ],
                b["cost"].as_f64().unwrap(),
            );
            assert!(out.insert(key.clone(), cell).is_none(), "{key:?} twice");
        }
    }
    out
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1e-9)
}

fn assert_matches(report: &Value, truth: &Cells, tz: &str) {
    let got = report_cells(report);
    let keys: Vec<_> = got
        .keys()
        .chain(truth.keys())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    for k in keys {
        let (g, t) = (got.get(k), truth.get(k));
        let (Some(g), Some(t)) = (g, t) else { panic!("{tz} {k:?}: report {g:?}, truth {t:?}") };
        assert_eq!(g.0, t.0, "{tz} {k:?}: tokens");
        assert!(close(g.1, t.1), "{tz} {k:?}: cost {} vs {}", g.1, t.1);
    }
}

/// The totals of a report (`totals`), tokens and cost.
fn totals(report: &Value) -> ([u64; 5], f64) {
    let t = &report["totals"];
    let n = |k: &str| t[k].as_u64().unwrap();
    (
        [
            n("inputTokens"),
            n("outputTokens"),
            n("cacheCreationTokens"),
            n("cacheReadTokens"),
            n("totalTokens"),
        ],
        t["totalCost"].as_f64().unwrap(),
    )
}

fn import(home: &Path, data: &Path, claude: &Path, codex: &Path) -> Value {
    let (c, x) = (claude.to_str().unwrap(), codex.to_str().unwrap());
    agentos(home, data, &["import", "--claude-dir", c, "--codex-home", x, "--json"])
}

#[test]
fn imported_history_matches_the_generator_truth_in_two_zones_and_stays_exact() {
    let dir = tempfile::tempdir().unwrap();
    let (claude, codex, home, data) = (
        dir.path().join("claude"),
        dir.path().join("codex"),
        dir.path().join("home"),
        dir.path().join("data"),
    );
    std::fs::create_dir_all(&home).unwrap();
    let mut h = History::generate(&claude, &codex, &Options::with_bytes(4_000_000)).unwrap();
    let report = import(&home, &data, &claude, &codex);
    assert_eq!(report["responses"], h.responses.len(), "{report}");

    let check = |h: &History| -> Value {
        let utc = agentos(&home, &data, &["usage", "daily", "--json", "--timezone", "UTC"]);
        let la = agentos(
            &home,
            &data,
            &["usage", "daily", "--json", "--timezone", "America/Los_Angeles"],
        );
        let (t_utc, t_la) = (truth_cells(h, "UTC"), truth_cells(h, "America/Los_Angeles"));
        assert_matches(&utc, &t_utc, "UTC");
        assert_matches(&la, &t_la, "America/Los_Angeles");
        // The generator puts responses on both sides of both midnights.
        let differ = t_utc.iter().filter(|(k, v)| t_la.get(*k).map(|x| x.0) != Some(v.0)).count();
        assert!(differ > 0, "UTC and Los Angeles agree on every cell");
        // Monthly and per-session reports add up to the same totals.
        let (daily_tokens, daily_cost) = totals(&utc);
        let want = h.total();
        assert_eq!(
            daily_tokens,
            [want.input, want.output, want.cache_write(), want.cache_read, want.total()]
        );
        for kind in ["monthly", "session"] {
            let r = agentos(&home, &data, &["usage", kind, "--json", "--timezone", "UTC"]);
            let (tokens, cost) = totals(&r);
            assert_eq!(tokens, daily_tokens, "{kind} totals");
            assert!(close(cost, daily_cost), "{kind} cost {cost} vs {daily_cost}");
        }
        utc
    };
    let first = check(&h);

    // Nothing new: nothing imported, the numbers unchanged.
    let events = std::fs::read_to_string(data.join("events.jsonl")).unwrap();
    let again = import(&home, &data, &claude, &codex);
    assert_eq!(again["responses"], 0, "{again}");
    assert_eq!(again["events"], 0, "{again}");
    assert_eq!(std::fs::read_to_string(data.join("events.jsonl")).unwrap(), events, "{again}");
    assert_eq!(agentos(&home, &data, &["usage", "daily", "--json", "--timezone", "UTC"]), first);

    // A running session grows, a new session of each agent starts: the new truth, exactly.
    let before = h.responses.len();
    h.append_to_claude_session(1, 6).unwrap();
    h.add_claude_session().unwrap();
    h.add_codex_session().unwrap();
    let more = import(&home, &data, &claude, &codex);
    assert_eq!(more["responses"], h.responses.len() - before, "{more}");
    let after = check(&h);
    assert_ne!(after, first);
}
