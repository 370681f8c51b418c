//! `agentos ccc …` through the built binary against a fake CCC (the captures byte for byte).
//! Expected values are read from the captures here, never from the code under test.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use agentos_testkit::fake_ccc::{capture, ccp_json};
use agentos_testkit::{FakeCcc, Reply, refused_url};

/// A scratch data dir removed on drop.
struct Data(PathBuf);

impl Data {
    fn new(name: &str) -> Data {
        let dir =
            std::env::temp_dir().join(format!("agentos-cli-ccc-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
        Data(dir)
    }
    fn lines(&self, rel: &str) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.0.join(rel))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }
}

impl Drop for Data {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn agentos(data: &Path, url: &str, args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_agentos"));
    for var in ["AGENTOS_CCC_BASE_URL", "CCC_API_KEY", "AGENTOS_DATA_DIR"] {
        c.env_remove(var);
    }
    c.env("AGENTOS_DATA_DIR", data).env("AGENTOS_CCC_BASE_URL", url).args(args);
    c.output().unwrap_or_else(|e| panic!("{e}"))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn value(name: &str) -> serde_json::Value {
    serde_json::from_slice(&capture(name)).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn usage_json_is_the_ccp_usage_v1_snapshot_per_model() {
    let ccc = FakeCcc::from_captures();
    let data = Data::new("usage-json");
    let out = agentos(&data.0, &ccc.url(), &["ccc", "usage", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let snaps: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    let usage = value("v1_usage.json");
    let quotas = value("v1_quotas.json");
    let models = usage["models"].as_object().unwrap_or_else(|| panic!("models"));
    let snaps = snaps.as_array().unwrap_or_else(|| panic!("an array"));
    assert_eq!(snaps.len(), models.len());
    for s in snaps {
        let name = s["model"].as_str().unwrap_or_default();
        let m = &models[name];
        assert_eq!(s["schema"], "ccp.usage.v1");
        assert_eq!(
            s["rolling_tokens_used"].as_i64(),
            Some(m["rolling_in"].as_i64().unwrap_or(0) + m["rolling_out"].as_i64().unwrap_or(0))
        );
        assert_eq!(s["rolling_tokens_budget"], quotas["config"]["models"][name]["rolling_tokens"]);
        assert_eq!(s["weekly_seconds"], quotas["config"]["windows"]["weekly_seconds"]);
        assert_eq!(s["source"]["loaded_at"], quotas["loaded"]);
        assert_eq!(s["speeds"]["elr_out_tps_rolling"], m["speeds"]["rolling"]["out_elr_tps"]);
        assert_eq!(s["flags"]["warn"], m["warn"]);
    }
    let table = agentos(&data.0, &ccc.url(), &["ccc", "usage"]);
    assert!(table.status.success());
    for name in models.keys() {
        assert!(text(&table.stdout).contains(name.as_str()), "{}", text(&table.stdout));
    }
}

#[test]
fn ccc_down_is_one_line_and_exit_2_and_status_still_shows_local_data() {
    let url = refused_url();
    let data = Data::new("down");
    for args in [
        &["ccc", "usage"][..],
        &["ccc", "usage", "--json"],
        &["ccc", "quotas"],
        &["ccc", "samples"],
        &["ccc", "rollups"],
        &["ccc", "metrics"],
        &["ccc", "watch", "--count", "1"],
        &["ccc", "quotas", "reload"],
    ] {
        let out = agentos(&data.0, &url, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = text(&out.stderr);
        assert_eq!(err.lines().filter(|l| l.starts_with("error:")).count(), 1, "{args:?}: {err}");
        assert!(err.contains(&url) && err.contains("unreachable"), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}");
    }
    let out = agentos(&data.0, &url, &["ccc", "status"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stdout).contains(&format!("Data dir: {}", data.0.display())),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(text(&out.stderr).lines().count(), 1, "{}", text(&out.stderr));
    let out = agentos(&data.0, &url, &["ccc", "status", "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert!(v["ccc"].is_null() && v["error"].as_str().is_some_and(|e| e.contains(&url)));
}

#[test]
fn status_ready_not_ready_and_catalog_broken() {
    let ccc = FakeCcc::from_captures();
    let data = Data::new("status");
    let out = agentos(&data.0, &ccc.url(), &["ccc", "status"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    for p in value("readyz_ok.json")["providers"].as_object().unwrap_or_else(|| panic!("p")).keys()
    {
        assert!(text(&out.stdout).contains(p.as_str()));
    }
    let mut down = value("readyz_ok.json");
    down["providers"]["anth"]["ok"] = false.into();
    ccc.set("/readyz", ccp_json(200, down.to_string().as_bytes()));
    let out = agentos(&data.0, &ccc.url(), &["ccc", "status", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(v["ccc"]["unreachable_providers"], serde_json::json!(["anth"]));
    ccc.set("/readyz", ccp_json(503, &capture("readyz_catalog_error_503.json")));
    let out = agentos(&data.0, &ccc.url(), &["ccc", "status"]);
    assert_eq!(out.status.code(), Some(1));
    let reason =
        value("readyz_catalog_error_503.json")["error"].as_str().unwrap_or_default().to_owned();
    assert!(text(&out.stdout).contains("providers catalog is broken"), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains(&reason));
}

#[test]
fn rollups_404_says_persistence_is_off() {
    let ccc = FakeCcc::from_captures();
    ccc.remove("/v1/usage/rollups");
    ccc.remove("/v1/usage/rollups?granularity=day");
    let data = Data::new("rollups404");
    let out = agentos(&data.0, &ccc.url(), &["ccc", "rollups", "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("persistence is disabled") && err.contains("CCP_PERSIST=1"), "{err}");
    assert_eq!(err.lines().count(), 1);
}

#[test]
fn quotas_reload_only_on_the_explicit_command() {
    let ccc = FakeCcc::from_captures();
    let data = Data::new("reload");
    for args in [
        &["ccc", "quotas"][..],
        &["ccc", "quotas", "--json"],
        &["ccc", "usage"],
        &["ccc", "status"],
    ] {
        assert!(
            agentos(&data.0, &ccc.url(), args).status.code().is_some_and(|c| c < 2),
            "{args:?}"
        );
    }
    assert!(ccc.requests().iter().all(|r| r.method == "GET" && !r.path.contains("reload")));
    let out = agentos(
        &data.0,
        &ccc.url(),
        &["ccc", "quotas", "reload", "--file", "/srv/ccp/quotas.json"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let posts: Vec<_> = ccc.requests().into_iter().filter(|r| r.method == "POST").collect();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].path, "/v1/quotas/reload?file=%2Fsrv%2Fccp%2Fquotas.json");
}

#[test]
fn metrics_totals_come_from_the_request_counter() {
    let ccc = FakeCcc::from_captures();
    let data = Data::new("metrics");
    let out = agentos(&data.0, &ccc.url(), &["ccc", "metrics", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    let prom = text(&capture("metrics_preemptive.prom"));
    let want: f64 = prom
        .lines()
        .filter(|l| l.starts_with("ccp_requests_total{"))
        .filter_map(|l| l.rsplit_once(' ').and_then(|(_, v)| v.parse::<f64>().ok()))
        .sum();
    assert_eq!(v["requests"].as_f64(), Some(want));
    let raw = agentos(&data.0, &ccc.url(), &["ccc", "metrics", "--raw"]);
    assert_eq!(raw.stdout, capture("metrics_preemptive.prom"));
}

/// The capture's `/metrics` with its request counter replaced by `series value` lines.
fn metrics_with_requests(lines: &[(&str, u32)]) -> Reply {
    let mut body = String::new();
    for l in text(&capture("metrics_preemptive.prom")).lines() {
        if l.starts_with("ccp_requests_total{") {
            continue;
        }
        body.push_str(l);
        body.push('\n');
        if l == "# TYPE ccp_requests_total counter" {
            for (series, v) in lines {
                body.push_str(&format!("ccp_requests_total{series} {v}\n"));
            }
        }
    }
    Reply::text(200, &body)
}

#[test]
fn watch_across_a_restart_mid_watch_counts_nothing_twice() {
    let ccc = FakeCcc::from_captures();
    let data = Data::new("watch");
    let usage = capture("v1_usage.json");
    let restarted_usage = capture("v1_usage_after_restart.json");
    let mut restarted_quotas = value("v1_quotas.json");
    restarted_quotas["loaded"] = "2026-11-22T02:00:00Z".into();
    let restarted_quotas = restarted_quotas.to_string();
    // polls 1 and 2 see the running CCC, poll 3 the restarted one (1 request since)
    ccc.queue(
        "/v1/usage",
        [ccp_json(200, &usage), ccp_json(200, &usage), ccp_json(200, &restarted_usage)],
    );
    ccc.queue(
        "/v1/quotas",
        [
            ccp_json(200, &capture("v1_quotas.json")),
            ccp_json(200, &capture("v1_quotas.json")),
            ccp_json(200, restarted_quotas.as_bytes()),
        ],
    );
    let after = [("{lane=\"anthropic\",op=\"nonstream\",status=\"200\"}", 1)];
    ccc.queue(
        "/metrics",
        [
            ccp_json(200, &capture("metrics_preemptive.prom")),
            ccp_json(200, &capture("metrics_preemptive.prom")),
            metrics_with_requests(&after),
        ],
    );
    let out = agentos(&data.0, &ccc.url(), &["ccc", "watch", "--count", "3", "--interval", "0s"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let samples_total: usize = value("v1_usage_samples.json")["models"]
        .as_object()
        .map_or(0, |m| m.values().map(|v| v.as_array().map_or(0, Vec::len)).sum());
    let lines = data.lines("ccc_usage.jsonl");
    let requests: Vec<_> = lines.iter().filter(|l| l["kind"] == "request").collect();
    let snaps: Vec<_> = lines.iter().filter(|l| l["kind"] == "snapshot").collect();
    assert_eq!(requests.len(), samples_total, "served at every poll, written once");
    assert_eq!(snaps.len(), 3);
    assert_eq!(
        snaps.iter().map(|s| s["restart"].as_bool()).collect::<Vec<_>>(),
        [Some(false), Some(false), Some(true)]
    );
    let signals: Vec<&str> = snaps[2]["signals"]
        .as_array()
        .map(|a| a.iter().filter_map(|s| s["signal"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        signals.contains(&"models_disappeared")
            && signals.contains(&"counter_down")
            && signals.contains(&"loaded_changed"),
        "{signals:?}"
    );
    // poll 1 is the baseline, poll 2 saw no new request, poll 3: the 1 request since the restart
    assert_eq!(
        snaps.iter().map(|s| s["requests_delta"].as_f64()).collect::<Vec<_>>(),
        [Some(0.0), Some(0.0), Some(1.0)]
    );
    assert_eq!(snaps[2]["requests_watched"].as_f64(), Some(1.0));
    assert_eq!(
        snaps[0]["models"].as_array().map(Vec::len),
        value("v1_usage.json")["models"].as_object().map(|m| m.len())
    );

    // A later watch continues from the file: the same persisted requests are not written
    // again, and the running count goes on.
    ccc.set("/v1/usage", ccp_json(200, &restarted_usage));
    ccc.set("/v1/quotas", ccp_json(200, restarted_quotas.as_bytes()));
    ccc.set(
        "/metrics",
        metrics_with_requests(&[("{lane=\"anthropic\",op=\"nonstream\",status=\"200\"}", 3)]),
    );
    let out = agentos(&data.0, &ccc.url(), &["ccc", "watch", "--count", "1"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines = data.lines("ccc_usage.jsonl");
    assert_eq!(lines.iter().filter(|l| l["kind"] == "request").count(), samples_total);
    let last = lines.last().unwrap_or_else(|| panic!("lines"));
    assert_eq!(
        (last["restart"].as_bool(), last["requests_delta"].as_f64()),
        (Some(false), Some(2.0))
    );
    assert_eq!(last["requests_watched"].as_f64(), Some(3.0));
}

#[test]
fn rollup_takes_model_health_from_the_watch_file() {
    let ccc = FakeCcc::from_captures();
    // the capture's stream request ended in an idle timeout
    let mut samples = value("v1_usage_samples.json");
    for list in samples["models"].as_object_mut().unwrap_or_else(|| panic!("models")).values_mut() {
        for s in list.as_array_mut().into_iter().flatten() {
            if s["op"] == "stream" {
                s["err_type"] = "idle_timeout".into();
            }
        }
    }
    ccc.set("/v1/usage/samples", ccp_json(200, samples.to_string().as_bytes()));
    let data = Data::new("health");
    let out = agentos(&data.0, &ccc.url(), &["ccc", "watch", "--count", "1"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    std::fs::write(data.0.join("events.jsonl"), "").unwrap_or_else(|e| panic!("{e}"));
    let out = agentos(
        &data.0,
        &ccc.url(),
        &["rollup", "--events", &data.0.join("events.jsonl").to_string_lossy()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary: serde_json::Value = serde_json::from_slice(
        &std::fs::read(data.0.join("metrics_summary.json")).unwrap_or_else(|e| panic!("{e}")),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let health = summary["model_health"].as_object().unwrap_or_else(|| panic!("{summary}"));
    let usage = value("v1_usage.json");
    let models = usage["models"].as_object().unwrap_or_else(|| panic!("models"));
    let mut want_models: Vec<&String> = models.keys().collect();
    for m in samples["models"].as_object().into_iter().flat_map(|m| m.keys()) {
        if !want_models.contains(&m) {
            want_models.push(m);
        }
    }
    assert_eq!(health.len(), want_models.len());
    for (model, list) in samples["models"].as_object().unwrap_or_else(|| panic!("models")) {
        let list = list.as_array().unwrap_or_else(|| panic!("list"));
        let count =
            |f: &dyn Fn(&serde_json::Value) -> bool| list.iter().filter(|s| f(s)).count() as u64;
        let h = &health[model.as_str()];
        assert_eq!(h["events"]["requests"].as_u64(), Some(list.len() as u64), "{model}");
        assert_eq!(
            h["events"]["fallbacks"].as_u64(),
            Some(count(&|s| s["decision"] == "fallback" || s["decision"] == "quota_overshoot")),
            "{model}"
        );
        assert_eq!(
            h["events"]["status_429"].as_u64(),
            Some(count(&|s| s["status"] == 429)),
            "{model}"
        );
        assert_eq!(
            h["events"]["idle_timeouts"].as_u64(),
            Some(count(&|s| s["err_type"] == "idle_timeout")),
            "{model}"
        );
        if let Some(m) = models.get(model) {
            assert_eq!(h["weekly_pct"].as_f64(), m["weekly_pct"].as_f64(), "{model}");
            let state = if m["block"] == true {
                "block"
            } else if m["warn"] == true {
                "warn"
            } else {
                "ok"
            };
            assert_eq!(h["state"], state, "{model}");
        }
    }
    assert_eq!(health["claude-haiku-4.5"]["events"]["idle_timeouts"].as_u64(), Some(1));
}

#[test]
fn config_shows_files_next_to_what_ccc_loaded_and_never_writes() {
    let ccc = FakeCcc::from_captures();
    let data = Data::new("config");
    let repo_data = agentos_testkit::fake_ccc::captures_dir().join("../ccp-repo-data");
    // copies, so that "never writes" is checked on files this test owns
    let providers = data.0.join("providers.yaml");
    let quotas = data.0.join("quotas.json");
    std::fs::copy(repo_data.join("providers.example.yaml"), &providers)
        .unwrap_or_else(|e| panic!("{e}"));
    std::fs::copy(repo_data.join("quotas.example.json"), &quotas).unwrap_or_else(|e| panic!("{e}"));
    let before =
        (std::fs::read(&providers).unwrap_or_default(), std::fs::read(&quotas).unwrap_or_default());
    let args = [
        "ccc",
        "config",
        "--providers",
        providers.to_str().unwrap_or_default(),
        "--quotas",
        quotas.to_str().unwrap_or_default(),
    ];
    let out = agentos(&data.0, &ccc.url(), &args);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    for want in [
        "problem: providers/local:",
        "problem: routes/3: route \"local/*\" can never match",
        "differs: quotas/claude-haiku-4.5:",
        "CCC loaded: quotas from /srv/ccp/quotas.json",
    ] {
        assert!(stdout.contains(want), "{want}\n{stdout}");
    }
    let mut json_args = args.to_vec();
    json_args.push("--json");
    let v: serde_json::Value =
        serde_json::from_slice(&agentos(&data.0, &ccc.url(), &json_args).stdout)
            .unwrap_or_else(|e| panic!("{e}"));
    assert!(v["findings"].as_array().is_some_and(|f| f.iter().any(|x| x["subject"] == "routes/3")));
    assert_eq!(
        (std::fs::read(&providers).unwrap_or_default(), std::fs::read(&quotas).unwrap_or_default()),
        before
    );
    assert!(ccc.requests().iter().all(|r| r.method == "GET"));
    // CCC down: the files are still reviewed, then one error line, exit 2
    let down = agentos(&data.0, &refused_url(), &args);
    assert_eq!(down.status.code(), Some(2));
    assert!(text(&down.stdout).contains("problem: routes/3"));
    assert_eq!(text(&down.stderr).lines().count(), 1);
}

#[test]
fn model_health_shows_in_report_and_progress_log() {
    let ccc = FakeCcc::from_captures();
    let mut usage = value("v1_usage.json");
    usage["models"]["claude-sonnet-4.5"]["weekly_pct"] = 0.95.into();
    usage["models"]["claude-haiku-4.5"]["warn"] = true.into();
    ccc.set("/v1/usage", ccp_json(200, usage.to_string().as_bytes()));
    let data = Data::new("health-report");
    assert!(agentos(&data.0, &ccc.url(), &["ccc", "watch", "--count", "1"]).status.success());
    std::fs::write(data.0.join("events.jsonl"), "").unwrap_or_else(|e| panic!("{e}"));
    let out = agentos(&data.0, &ccc.url(), &["rollup"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let log = std::fs::read_to_string(data.0.join("progress.log.md")).unwrap_or_default();
    assert!(
        log.contains("- notable: model claude-sonnet-4.5 inside the 10-point weekly buffer (rolling 0%, weekly 95%)"),
        "{log}"
    );
    // haiku: 150 of 1000 rolling tokens = 15 %, weekly 0.0015 = 0 % (hand)
    assert!(
        log.contains(
            "- notable: model claude-haiku-4.5 past its warn threshold (rolling 15%, weekly 0%)"
        ),
        "{log}"
    );
    assert!(!log.contains("claude-haiku-force429"), "ok models are not notable\n{log}");
    let report = agentos(&data.0, &ccc.url(), &["report"]);
    assert!(report.status.success(), "{}", text(&report.stderr));
    let r = text(&report.stdout);
    assert!(r.contains("model health (CCC)"), "{r}");
    let row =
        r.lines().find(|l| l.starts_with("claude-sonnet-4.5")).unwrap_or_else(|| panic!("{r}"));
    assert!(row.contains("buffer") && row.contains("95.0%"), "{row}");
}

#[test]
fn an_endless_watch_needs_a_sensible_interval() {
    let ccc = FakeCcc::from_captures();
    let data = Data::new("interval");
    let out = agentos(&data.0, &ccc.url(), &["ccc", "watch", "--interval", "10ms"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("at least 100ms"), "{}", text(&out.stderr));
    assert!(ccc.requests().is_empty());
    let out = agentos(&data.0, &ccc.url(), &["ccc", "watch", "--interval", "soon", "--count", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(ccc.requests().is_empty());
}

/// `http://0x7f.1:<port>` of `ccc`: the resolver reaches 127.0.0.1, but the URL does not say
/// loopback literally, so it stands for a CCC on another machine.
fn disguised(ccc: &FakeCcc) -> String {
    let port = ccc.url().rsplit(':').next().unwrap_or_default().to_owned();
    format!("http://0x7f.1:{port}")
}

#[test]
fn the_key_goes_in_clear_to_another_machine_only_with_the_flag_or_the_variable() {
    let ccc = FakeCcc::from_captures();
    let data = Data::new("cleartext");
    let url = disguised(&ccc);
    let with_key = |extra: &[(&str, &str)], args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_agentos"));
        c.env_remove("AGENTOS_ALLOW_INSECURE_HTTP")
            .env("AGENTOS_DATA_DIR", &data.0)
            .env("AGENTOS_CCC_BASE_URL", &url)
            .env("CCC_API_KEY", "sk-cli-secret");
        for (k, v) in extra {
            c.env(k, v);
        }
        c.args(args).output().unwrap_or_else(|e| panic!("{e}"))
    };
    let out = with_key(&[], &["ccc", "usage", "--json"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(err.contains("refusing plain http:// to 0x7f.1"), "{err}");
    assert!(err.contains("--allow-insecure-http") && err.contains("AGENTOS_ALLOW_INSECURE_HTTP"));
    assert!(!err.contains("sk-cli-secret"), "{err}");
    assert!(ccc.requests().is_empty(), "the key went out in clear");
    let out = with_key(&[], &["--allow-insecure-http", "ccc", "usage", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let per_run = ccc.requests().len();
    assert!(per_run > 0);
    let out = with_key(&[("AGENTOS_ALLOW_INSECURE_HTTP", "1")], &["ccc", "usage", "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(ccc.requests().len(), 2 * per_run);
}

#[test]
fn proxy_variables_never_route_the_key_to_another_host() {
    let ccc = FakeCcc::from_captures();
    let proxy = agentos_testkit::TestServer::always(Reply::json(200, "{}"));
    let data = Data::new("proxy");
    let mut c = Command::new(env!("CARGO_BIN_EXE_agentos"));
    c.env("AGENTOS_DATA_DIR", &data.0)
        .env("AGENTOS_CCC_BASE_URL", ccc.url())
        .env("CCC_API_KEY", "sk-cli-secret")
        .env_remove("NO_PROXY")
        .env_remove("no_proxy");
    for var in ["ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"]
    {
        c.env(var, proxy.url());
    }
    let out = c.args(["ccc", "usage", "--json"]).output().unwrap_or_else(|e| panic!("{e}"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(proxy.connections(), 0, "the request went through the proxy");
    let reqs = ccc.requests();
    assert!(!reqs.is_empty());
    for r in &reqs {
        assert_eq!(r.header("authorization"), Some("Bearer sk-cli-secret"), "{}", r.path);
    }
}
