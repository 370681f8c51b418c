//! `agentos preview`: one `--once` frame on sessions of today and of last week (figures by
//! hand), and the live view driven in a pseudo-terminal (tmux): start, switch tab, quit.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::rollup::{Scratch, text};

fn ts(t: jiff::Timestamp) -> String {
    t.to_string()
}

/// Turns of `model` at `at` costing `usd` (recorded) with `tokens` input tokens.
fn turn(id: &str, model: &str, at: jiff::Timestamp, tokens: u64, usd: f64) -> String {
    json!({"type": "turn", "event_id": id, "ts": ts(at), "schema_version": "1.1.0",
        "turn": {"turn_id": id, "session_id": "s1", "model": model, "subagent": "main",
            "tokens_in": tokens, "tokens_out": 0, "input_kind": "text", "latency_ms": 0.0,
            "responded_at": ts(at)},
        "cost": {"provider": "anthropic", "unit_costs": {}, "estimated_usd": usd}})
    .to_string()
}

/// Today (now): model-a $1.50 + $0.25 (1,000 + 500 tokens), model-b $0.50 (200 tokens);
/// eight days ago (never this week): model-c $9.
fn data(s: &Scratch) -> String {
    let now = jiff::Timestamp::now();
    let old = now.checked_sub(jiff::SignedDuration::from_hours(8 * 24)).unwrap_or(now);
    let lines = [
        turn("t1", "model-a", now, 1_000, 1.5),
        turn("t2", "model-a", now, 500, 0.25),
        turn("t3", "model-b", now, 200, 0.5),
        turn("t4", "model-c", old, 9_000, 9.0),
    ];
    let dir = s.path().join("data");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("mkdir: {e}"));
    std::fs::write(dir.join("events.jsonl"), lines.join("\n") + "\n")
        .unwrap_or_else(|e| panic!("write: {e}"));
    dir.to_str().unwrap_or_default().to_owned()
}

fn agentos(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_agentos"))
        .args(args)
        .env_remove("AGENTOS_DATA_DIR")
        .env("AGENTOS_CCC_BASE_URL", "http://127.0.0.1:9")
        .output()
        .unwrap_or_else(|e| panic!("agentos: {e}"))
}

#[test]
fn once_prints_one_plain_frame_of_today_and_this_week() {
    let s = Scratch::new();
    let data = data(&s);
    let out = agentos(&["--data-dir", &data, "preview", "--once", "--timezone", "UTC"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let frame = text(&out.stdout);
    assert!(!frame.contains('\u{1b}'), "escape codes: {frame:?}");
    let row = |name: &str| {
        frame
            .lines()
            .find(|l| l.contains(name))
            .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
    };
    // Today and this week hold the same turns: model-a $1.75 / 1.5k, model-b $0.50 / 200.
    let a = row("model-a").unwrap_or_default();
    assert!(a.contains("│model-a $1.75 1.5k │"), "{frame}");
    assert_eq!(frame.matches("model-a").count(), 2, "today and this week: {frame}");
    assert!(row("model-b").unwrap_or_default().contains("$0.50 200"), "{frame}");
    assert!(!frame.contains("model-c"), "last week's model: {frame}");
    // The agent of sessions without a session event is "recorded": $2.25, 1.7k tokens.
    assert!(row("recorded").unwrap_or_default().contains("$2.25 1.7k"), "{frame}");
    assert!(frame.contains("CCC at http://127.0.0.1:9"), "{frame}");
}

#[test]
fn once_shows_each_model_ccc_serves() {
    let s = Scratch::new();
    let data = data(&s);
    let ccc = agentos_testkit::FakeCcc::from_captures();
    let out = Command::new(env!("CARGO_BIN_EXE_agentos"))
        .args(["--data-dir", &data, "preview", "--once", "--timezone", "UTC", "--no-features"])
        .env_remove("AGENTOS_DATA_DIR")
        .env("AGENTOS_CCC_BASE_URL", ccc.url())
        .output()
        .unwrap_or_else(|e| panic!("agentos: {e}"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    let frame = text(&out.stdout);
    // Every model of the captured /v1/usage, with its rolling use as CCC reports it.
    let usage: serde_json::Value =
        serde_json::from_slice(&agentos_testkit::fake_ccc::capture("v1_usage.json"))
            .unwrap_or_else(|e| panic!("{e}"));
    let models = usage["models"].as_object().cloned().unwrap_or_default();
    assert!(!models.is_empty());
    for (name, view) in &models {
        let rolling = format!("{:.0}%", 100.0 * view["rolling_pct"].as_f64().unwrap_or(-1.0));
        let line = frame.lines().find(|l| l.contains(name.as_str())).unwrap_or_default();
        assert!(line.contains(&rolling), "{name} {rolling}: {frame}");
    }
    assert!(frame.contains(&format!("up, {} models", models.len())), "{frame}");
}

#[test]
fn live_view_needs_a_terminal() {
    let s = Scratch::new();
    let data = data(&s);
    let out = agentos(&["--data-dir", &data, "preview"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("--once"), "{}", text(&out.stderr));
}

/// tmux on a socket of this test's own.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .env_remove("TMUX")
            .output()
            .unwrap_or_else(|e| panic!("tmux: {e}"))
    }

    fn screen(&self) -> String {
        text(&self.run(&["capture-pane", "-p", "-t", "p"]).stdout)
    }

    /// Wait (at most 30 s) until `ok` holds for the screen.
    fn wait(&self, what: &str, ok: impl Fn(&str) -> bool) {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if ok(&screen) {
                return;
            }
            assert!(start.elapsed() < Duration::from_secs(30), "waited for {what}: {screen}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

fn tmux_available() -> bool {
    let found = Command::new("tmux").arg("-V").output().is_ok_and(|o| o.status.success());
    assert!(
        found || std::env::var_os("AGENTOS_REQUIRE_TEST_TOOLS").is_none(),
        "tmux is missing: .ci/run installs it (apt-get install tmux)"
    );
    found
}

#[test]
fn live_view_starts_switches_tabs_and_quits_with_exit_0() {
    if !tmux_available() {
        return;
    }
    let s = Scratch::new();
    let data = data(&s);
    let status = s.path().join("status");
    let tmux = Tmux { socket: format!("agentos-preview-{}", std::process::id()) };
    let command = format!(
        "AGENTOS_CCC_BASE_URL=http://127.0.0.1:9 '{}' --data-dir '{}' preview --timezone UTC --no-features; echo EXIT=$? > '{}'; sleep 60",
        env!("CARGO_BIN_EXE_agentos"),
        data,
        status.display()
    );
    let out = tmux.run(&["new-session", "-d", "-s", "p", "-x", "110", "-y", "40", &command]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    tmux.wait("the overview", |s| s.contains("Today by model") && s.contains("Alerts"));
    tmux.run(&["send-keys", "-t", "p", "Right"]);
    // The Usage tab: its tables, no alerts box.
    tmux.wait("the usage tab", |s| s.contains("This week by agent") && !s.contains("Alerts──"));
    tmux.run(&["send-keys", "-t", "p", "Right", "Right"]);
    tmux.wait("the CCC tab", |s| s.contains("127.0.0.1:9") && !s.contains("Today by model"));
    tmux.run(&["send-keys", "-t", "p", "q"]);
    let start = Instant::now();
    let exit = loop {
        if let Ok(t) = std::fs::read_to_string(&status) {
            break t;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "no exit: {}", tmux.screen());
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(exit.trim(), "EXIT=0");
    // The terminal is given back: no alternate screen left.
    assert!(!tmux.screen().contains("Today by model"), "{}", tmux.screen());
}
