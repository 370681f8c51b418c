//! `agentos report --html FILE` as a person would see it: the file is self-contained (no
//! script, no URL, a policy that forbids every fetch), its figures are the reports' own, and
//! headless Chromium renders its charts (data points with a size on screen, no console error,
//! no sideways scrolling on a phone-wide screen), leaving screenshots in Cargo's test scratch
//! directory (`CARGO_TARGET_TMPDIR`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value as Json;

use crate::features::setup;
use crate::rollup::{Scratch, text};

fn agentos_utc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_agentos"))
        .args(args)
        .env_remove("AGENTOS_DATA_DIR")
        .env("TZ", "UTC")
        .env("AGENTOS_CCC_BASE_URL", "http://127.0.0.1:9")
        .output()
        .unwrap_or_else(|e| panic!("agentos: {e}"))
}

/// The HTML report of the features test's data: one repository with `feat(login)` (6 lines)
/// and `feat(search)` (2 lines) shipped on 2026-01-01 in session s1 ($2, 800 tokens of
/// model-a), and s2 ($0.5, 800 tokens) in a repository that no longer exists.
fn html_report(s: &Scratch) -> (PathBuf, String) {
    let (data, _) = setup(s);
    write_report(s, &data)
}

/// `report --html` of the data dir `data` into the scratch dir: the file and its text.
fn write_report(s: &Scratch, data: &Path) -> (PathBuf, String) {
    let out = s.path().join("report.html");
    let o = agentos_utc(&[
        "--data-dir",
        data.to_str().unwrap_or_default(),
        "report",
        "--html",
        out.to_str().unwrap_or_default(),
    ]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let html = std::fs::read_to_string(&out).unwrap_or_else(|e| panic!("read: {e}"));
    (out, html)
}

#[test]
fn the_html_report_is_self_contained_and_carries_the_reports_figures() {
    let s = Scratch::new();
    let (_, html) = html_report(&s);
    assert!(html.starts_with("<!doctype html>"));
    assert!(
        html.contains("content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\"")
    );
    for banned in ["<script", "<link", "src=", "href=", "url(", "@import"] {
        assert!(!html.contains(banned), "{banned} in the page");
    }
    // The only URL is the SVG namespace (an identifier, never fetched).
    let urls = html.matches("://").count();
    assert_eq!(urls, html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count(), "{html}");
    // Both sessions on 2026-01-01, model-a: $2 + $0.5, 800 + 800 tokens.
    assert!(html.contains("<title>2026-01-01 · model-a: $2.50</title>"), "{html}");
    assert!(html.contains("<title>2026-01-01 · model-a: 1.6k</title>"), "{html}");
    // Two features shipped in the week of Monday 2025-12-29; $2 over them: $1 each.
    assert!(html.contains("<title>2025-12-29 · shipped: 2</title>"), "{html}");
    assert!(html.contains("<title>2025-12-29 · cost per shipped feature: $1.00</title>"), "{html}");
    // Key figures and the tables of features and usage.
    assert!(html.contains("Cost per shipped feature</span><b>$1.00</b>"), "{html}");
    assert!(html.contains("Unattributed cost</span><b>$0.50</b>"), "{html}");
    assert!(html.contains("<td>login</td>") && html.contains("<td>search</td>"), "{html}");
    assert!(html.contains("<td>2026-01-01</td>"), "{html}");
    // Every chart has its numbers as a table.
    let svgs = html.matches("<svg").count();
    assert_eq!(svgs, 4, "cost, tokens, features per week, cost per shipped feature");
    assert_eq!(html.matches("<details><summary>Data</summary>").count(), svgs);
}

#[test]
fn ccc_watch_snapshots_chart_quota_use_and_speed_per_day() {
    let s = Scratch::new();
    let (data, _) = setup(&s);
    // 2026-01-01 10:00 and 18:00 (the day's last: 50 %, 60 tok/s), 2026-01-02 09:00 (70 %).
    let snap = |t: i64, weekly: f64, elr: f64| {
        serde_json::json!({"kind": "snapshot", "ts": t, "models": [{"model": "glm-4.6",
            "weekly_pct": weekly, "rolling_pct": 0.1,
            "speeds": {"elr_out_tps_rolling": elr, "dirty_out_tps_rolling": 20.0}}]})
        .to_string()
    };
    let t0 = 1_767_225_600; // 2026-01-01T00:00:00Z
    let lines = [
        snap(t0 + 10 * 3_600, 0.4, 40.0),
        snap(t0 + 18 * 3_600, 0.5, 60.0),
        snap(t0 + 33 * 3_600, 0.7, 55.0),
    ];
    std::fs::write(data.join("ccc_usage.jsonl"), lines.join("\n") + "\n")
        .unwrap_or_else(|e| panic!("write: {e}"));
    let (_, html) = write_report(&s, &data);
    assert_eq!(html.matches("<svg").count(), 6);
    assert!(html.contains("<title>2026-01-01 · glm-4.6: 50%</title>"), "{html}");
    assert!(html.contains("<title>2026-01-02 · glm-4.6: 70%</title>"), "{html}");
    assert!(html.contains("<title>2026-01-01 · glm-4.6: 60</title>"), "{html}");
    assert!(!html.contains("glm-4.6: 40%"), "only each day's last snapshot");
}

#[test]
fn a_bad_output_path_is_a_clear_error() {
    let s = Scratch::new();
    let (data, _) = setup(&s);
    // A directory cannot be made under a file.
    let file = s.path().join("a-file");
    std::fs::write(&file, "x").unwrap_or_else(|e| panic!("write: {e}"));
    let o = agentos_utc(&[
        "--data-dir",
        data.to_str().unwrap_or_default(),
        "report",
        "--html",
        file.join("report.html").to_str().unwrap_or_default(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("report.html"), "{}", text(&o.stderr));
}

/// Headless Chromium, when installed (`.ci/run` installs it and sets
/// `AGENTOS_REQUIRE_TEST_TOOLS`: then a missing browser fails the test).
#[allow(clippy::print_stderr)] // Says why a browser check did not run on a developer's machine.
fn chromium() -> Option<PathBuf> {
    let found = std::env::var_os("AGENTOS_CHROMIUM")
        .map(PathBuf::from)
        .into_iter()
        .chain(["/usr/bin/chromium", "/usr/bin/chromium-browser"].map(PathBuf::from))
        .find(|p| p.is_file());
    if found.is_none() {
        assert!(
            std::env::var_os("AGENTOS_REQUIRE_TEST_TOOLS").is_none(),
            "chromium is missing: .ci/run installs it (apt-get install chromium)"
        );
        eprintln!("skipped: chromium is not installed");
    }
    found
}

/// Run Chromium headless on `page` with `args`; its stdout and stderr (killed after 90 s).
fn run_chromium(bin: &Path, profile: &Path, args: &[String], page: &Path) -> (String, String) {
    let mut child = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(format!("file://{}", page.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("chromium: {e}"));
    let start = Instant::now();
    while child.try_wait().ok().flatten().is_none() {
        if start.elapsed() > Duration::from_secs(90) {
            let _ = child.kill();
            panic!("chromium did not finish in 90 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("chromium: {e}"));
    (text(&out.stdout), text(&out.stderr))
}

/// Measures what the browser laid out, written into the DOM for `--dump-dom` to show.
const PROBE: &str = "<script>addEventListener('load',()=>{const pts=[...document.querySelectorAll('[data-point]')];\
const visible=pts.filter(e=>{const b=e.getBoundingClientRect();return b.width>0&&b.height>0}).length;\
const svgs=[...document.querySelectorAll('figure svg')].filter(s=>s.getBoundingClientRect().width>100).length;\
const overflow=document.documentElement.scrollWidth>innerWidth+1;\
document.body.setAttribute('data-probe',JSON.stringify({visible,total:pts.length,svgs,overflow}));});</script>";

fn probe(dom: &str) -> Json {
    let attr = dom
        .split("data-probe=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_else(|| panic!("no probe in the DOM: {dom}"));
    serde_json::from_str(&attr.replace("&quot;", "\"")).unwrap_or_else(|e| panic!("{e}: {attr}"))
}

#[test]
fn chromium_renders_the_charts_wide_and_narrow_without_errors() {
    let Some(bin) = chromium() else { return };
    let s = Scratch::new();
    let (page, html) = html_report(&s);
    let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    // The page as shipped: no console message at all (a fetch the policy refused would be one).
    let (_, log) = run_chromium(
        &bin,
        &s.path().join("profile-a"),
        &["--enable-logging=stderr".to_owned(), "--v=0".to_owned(), "--dump-dom".to_owned()],
        &page,
    );
    let console: Vec<&str> = log.lines().filter(|l| l.contains("CONSOLE")).collect();
    assert!(console.is_empty(), "console: {console:#?}");
    // A copy with the probe (the policy opened for that one inline script).
    let probed = s.path().join("probed.html");
    let copy = html
        .replace("default-src 'none';", "default-src 'none'; script-src 'unsafe-inline';")
        .replace("</body>", &format!("{PROBE}</body>"));
    std::fs::write(&probed, copy).unwrap_or_else(|e| panic!("write: {e}"));
    for (name, width) in [("wide", 1280), ("narrow", 390)] {
        let size = format!("--window-size={width},2400");
        let (dom, _) = run_chromium(
            &bin,
            &s.path().join(format!("profile-{name}")),
            &[size.clone(), "--dump-dom".to_owned()],
            &probed,
        );
        let p = probe(&dom);
        let total = p["total"].as_u64().unwrap_or(0);
        // 1 cost bar + 1 token bar + 1 features bar + 1 cost-per-feature point.
        assert_eq!(total, 4, "{name}: {p}");
        assert_eq!(p["visible"].as_u64(), Some(total), "{name}: every data point has a size: {p}");
        assert_eq!(p["svgs"], 4, "{name}: {p}");
        assert_eq!(p["overflow"], false, "{name}: the page scrolls sideways: {p}");
        let shot = shots.join(format!("report-html-{name}.png"));
        let _ = std::fs::remove_file(&shot);
        run_chromium(
            &bin,
            &s.path().join(format!("profile-shot-{name}")),
            &[size, format!("--screenshot={}", shot.display())],
            &page,
        );
        assert!(
            shot.metadata().map(|m| m.len() > 1_000).unwrap_or(false),
            "no screenshot {shot:?}"
        );
    }
}
