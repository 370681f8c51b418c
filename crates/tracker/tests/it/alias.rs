//! The alias state machine (reference §7.5): every transition, window increments, GLM
//! baselines, delete with its index rules, every error message, state isolation, and a
//! Python tracker directory used as it is.

use agentos_tracker::WindowError;
use agentos_tracker::alias::{
    AliasAction, AliasOutcome, AliasProvider, AliasRequest, DeleteRequest, alias, delete,
    load_state,
};
use agentos_tracker::snapshot::Phase;
use agentos_tracker::store::{TrackerDir, TrackerFile};
use camino::{Utf8Path, Utf8PathBuf};
use serde_json::Value;

use crate::fixture;
use crate::store::scratch;

struct Env {
    _t: tempfile::TempDir,
    dir: TrackerDir,
    states: Utf8PathBuf,
}

fn env() -> Env {
    let (t, root) = scratch();
    let states = root.join("state");
    Env { _t: t, dir: TrackerDir::new(root), states }
}

fn run_in(
    e: &Env,
    states: &Utf8Path,
    action: AliasAction,
    provider: AliasProvider,
    window: Option<&str>,
    text: &str,
) -> Result<AliasOutcome, WindowError> {
    let req =
        AliasRequest { provider, window, text, notes: None, source: "alias", state_dir: states };
    alias(&e.dir, action, &req)
}

fn codex(e: &Env, action: AliasAction, window: Option<&str>) -> Result<String, WindowError> {
    let pane = fixture("codex/wide_status_82_1.txt");
    run_in(e, &e.states, action, AliasProvider::Codex, window, &pane).map(|o| o.message)
}

fn glm(e: &Env, action: AliasAction, prompts: f64) -> Result<String, WindowError> {
    let text = format!("{{\"blocks\": [{{\"window_id\": \"x\", \"prompts_used\": {prompts}}}]}}");
    run_in(e, &e.states, action, AliasProvider::Glm, None, &text).map(|o| o.message)
}

fn del(
    e: &Env,
    phase: Option<Phase>,
    window: Option<&str>,
    index: i64,
) -> Result<String, WindowError> {
    let req = DeleteRequest {
        provider: AliasProvider::Codex,
        window,
        phase,
        index,
        state_dir: &e.states,
    };
    delete(&e.dir, &req).map(|o| o.message)
}

/// (window, phase, notes) of every snapshot, in the store's order.
fn snaps(e: &Env) -> Vec<(String, String, String)> {
    e.dir
        .load(TrackerFile::Snapshots, None)
        .unwrap()
        .rows
        .iter()
        .map(|r| {
            (
                r.str_or_empty("window").into(),
                r.str_or_empty("phase").into(),
                r.str_or_empty("notes").into(),
            )
        })
        .collect()
}

fn state(e: &Env, p: AliasProvider) -> (Option<String>, Option<String>, Option<f64>) {
    let s = load_state(&e.states, p).expect("state file");
    (s.current_window, s.last_phase, s.baseline_prompts)
}

fn some(s: &str) -> Option<String> {
    Some(s.to_owned())
}

#[test]
fn start_end_then_start_moves_to_the_next_window() {
    let e = env();
    assert_eq!(
        codex(&e, AliasAction::Start, None).unwrap(),
        "stored codex before snapshot for W0-01 (awaiting end)"
    );
    assert_eq!(state(&e, AliasProvider::Codex), (some("W0-01"), some("before"), None));
    assert_eq!(
        codex(&e, AliasAction::End, None).unwrap(),
        "stored codex after snapshot for W0-01 (ready to finalize)"
    );
    assert_eq!(state(&e, AliasProvider::Codex), (some("W0-01"), some("after"), None));
    assert_eq!(
        codex(&e, AliasAction::Start, None).unwrap(),
        "stored codex before snapshot for W0-02 (awaiting end)"
    );
    assert_eq!(
        snaps(&e),
        [
            ("W0-01".into(), "before".into(), "alias:start".into()),
            ("W0-01".into(), "after".into(), "alias:end".into()),
            ("W0-02".into(), "before".into(), "alias:start".into()),
        ]
    );
    let rows = e.dir.load(TrackerFile::Snapshots, None).unwrap().rows;
    assert!(
        rows.iter()
            .all(|r| r.str("source") == Some("alias") && r.str("schema_version") == Some("1.0.0"))
    );
    assert_eq!(rows[1].parsed()["weekly_pct"], 82);
    // The state file is Python's indent-2 JSON without a trailing newline.
    let text = std::fs::read_to_string(e.states.join("codex.json")).unwrap();
    assert!(text.starts_with("{\n  \"provider\": \"codex\",\n  \"current_window\": \"W0-02\",\n  \"last_phase\": \"before\",\n  \"baseline_prompts\": null,\n  \"updated_at\": \""));
    assert!(text.ends_with('}'));
}

#[test]
fn cross_closes_the_current_window_and_seeds_the_next() {
    let e = env();
    codex(&e, AliasAction::Start, None).unwrap();
    assert_eq!(
        codex(&e, AliasAction::Cross, None).unwrap(),
        "stored codex after snapshot for W0-01 and seeded before snapshot for W0-02"
    );
    assert_eq!(
        snaps(&e),
        [
            ("W0-01".into(), "before".into(), "alias:start".into()),
            ("W0-01".into(), "after".into(), "alias:cross-end".into()),
            ("W0-02".into(), "before".into(), "alias:cross-start".into()),
        ]
    );
    assert_eq!(state(&e, AliasProvider::Codex), (some("W0-02"), some("before"), None));
    assert_eq!(
        codex(&e, AliasAction::End, None).unwrap(),
        "stored codex after snapshot for W0-02 (ready to finalize)"
    );
}

#[test]
fn end_or_cross_without_a_before_snapshot_is_refused() {
    let e = env();
    let err = codex(&e, AliasAction::End, None).unwrap_err();
    assert_eq!(err.to_string(), "no BEFORE snapshot found for codex in W0-01");
    assert!(err.is_refusal());
    let err = codex(&e, AliasAction::Cross, Some("W0-07")).unwrap_err();
    assert_eq!(err.to_string(), "no BEFORE snapshot found for codex in W0-07");
    assert!(snaps(&e).is_empty());
    assert!(load_state(&e.states, AliasProvider::Codex).is_none(), "no state written on refusal");
}

#[test]
fn an_explicit_window_wins_and_after_increments_with_the_digit_width() {
    let e = env();
    codex(&e, AliasAction::Start, Some("W0-09")).unwrap();
    codex(&e, AliasAction::End, None).unwrap();
    assert_eq!(
        codex(&e, AliasAction::Start, None).unwrap(),
        "stored codex before snapshot for W0-10 (awaiting end)"
    );
    codex(&e, AliasAction::End, Some("W0-10")).unwrap();
    assert_eq!(
        codex(&e, AliasAction::Start, Some("W0-AUTO")).unwrap(),
        "stored codex before snapshot for W0-AUTO (awaiting end)"
    );
    codex(&e, AliasAction::End, None).unwrap();
    assert_eq!(
        codex(&e, AliasAction::Start, None).unwrap(),
        "stored codex before snapshot for W0-AUTO-1 (awaiting end)"
    );
}

#[test]
fn without_a_state_file_the_window_is_inferred_from_the_store() {
    let e = env();
    codex(&e, AliasAction::Start, Some("W0-99")).unwrap();
    codex(&e, AliasAction::End, None).unwrap();
    std::fs::remove_file(e.states.join("codex.json")).unwrap();
    // Last codex snapshot is W0-99 after → the next start is W0-100.
    assert_eq!(
        codex(&e, AliasAction::Start, None).unwrap(),
        "stored codex before snapshot for W0-100 (awaiting end)"
    );
    // A corrupt state file is ignored the same way: last is W0-100 before → end goes there.
    std::fs::write(e.states.join("codex.json"), "{not json").unwrap();
    assert_eq!(
        codex(&e, AliasAction::End, None).unwrap(),
        "stored codex after snapshot for W0-100 (ready to finalize)"
    );
    // Claude's state is its own: nothing of Claude's in the store → W0-01.
    let pane = fixture("claude/usage_wide_90_1_0.txt");
    let out =
        run_in(&e, &e.states, AliasAction::Start, AliasProvider::Claude, None, &pane).unwrap();
    assert_eq!(out.message, "stored claude before snapshot for W0-01 (awaiting end)");
    let rows = e.dir.load(TrackerFile::Snapshots, Some("W0-01")).unwrap().rows;
    assert_eq!(rows[0].parsed()["all_models_pct"], 90);
}

#[test]
fn glm_keeps_a_baseline_and_records_the_difference() {
    let e = env();
    assert_eq!(
        glm(&e, AliasAction::Start, 10.0).unwrap(),
        "stored glm baseline for W0-01 (prompts=10)"
    );
    assert_eq!(state(&e, AliasProvider::Glm), (some("W0-01"), some("before"), Some(10.0)));
    assert!(!e.dir.path(TrackerFile::GlmCounts).exists(), "start writes no row");
    assert_eq!(
        glm(&e, AliasAction::End, 25.0).unwrap(),
        "stored glm delta for W0-01 (baseline=10, prompts=15)"
    );
    assert_eq!(state(&e, AliasProvider::Glm), (some("W0-01"), some("after"), Some(25.0)));
    let rows = e.dir.load(TrackerFile::GlmCounts, None).unwrap().rows;
    assert_eq!(rows[0].value["prompts_used"].as_f64(), Some(15.0));
    assert_eq!((rows[0].str("notes"), rows[0].str("source")), (Some("alias:end"), Some("alias")));
    // Cross: 30.5 − 25 = 5.5; the next window starts from 30.5.
    assert_eq!(
        glm(&e, AliasAction::Cross, 30.5).unwrap(),
        "stored glm delta for W0-01 and seeded baseline for W0-02 (delta=5.50)"
    );
    assert_eq!(state(&e, AliasProvider::Glm), (some("W0-02"), some("before"), Some(30.5)));
    // A lower count than the baseline records 0, never a negative delta.
    assert_eq!(
        glm(&e, AliasAction::End, 20.0).unwrap(),
        "stored glm delta for W0-02 (baseline=30.50, prompts=0)"
    );
    let last = e.dir.load(TrackerFile::GlmCounts, None).unwrap().rows;
    assert_eq!(last.last().unwrap().value["prompts_used"].as_f64(), Some(0.0));
}

#[test]
fn glm_end_or_cross_without_a_baseline_is_refused() {
    let e = env();
    let err = glm(&e, AliasAction::End, 5.0).unwrap_err();
    assert_eq!(err.to_string(), "glm alias end missing baseline");
    assert!(matches!(err, WindowError::GlmNoBaseline { action: "end" }));
    let err = glm(&e, AliasAction::Cross, 5.0).unwrap_err();
    assert_eq!(err.to_string(), "glm alias cross missing baseline");
    // The inferred GLM window follows the last GLM row's window.
    std::fs::create_dir_all(e.dir.root()).unwrap();
    std::fs::write(
        e.dir.path(TrackerFile::GlmCounts),
        "{\"window\": \"W0-05\", \"captured_at\": \"t\"}\n",
    )
    .unwrap();
    assert_eq!(
        glm(&e, AliasAction::Start, 1.0).unwrap(),
        "stored glm baseline for W0-06 (prompts=1)"
    );
}

#[test]
fn delete_removes_the_index_th_latest_match_and_reinfers_the_state() {
    let e = env();
    codex(&e, AliasAction::Start, None).unwrap();
    codex(&e, AliasAction::End, None).unwrap();
    let after_at = e.dir.load(TrackerFile::Snapshots, None).unwrap().rows[1]
        .str_or_empty("captured_at")
        .to_owned();
    assert_eq!(
        del(&e, Some(Phase::After), None, 1).unwrap(),
        format!("removed codex after snapshot for W0-01 (captured_at={after_at})")
    );
    assert_eq!(snaps(&e), [("W0-01".into(), "before".into(), "alias:start".into())]);
    assert_eq!(state(&e, AliasProvider::Codex), (some("W0-01"), some("before"), None));
}

#[test]
fn delete_index_two_removes_the_second_latest() {
    let e = env();
    for _ in 0..2 {
        codex(&e, AliasAction::Start, None).unwrap();
        codex(&e, AliasAction::End, None).unwrap();
    }
    del(&e, Some(Phase::After), None, 2).unwrap();
    let left: Vec<(String, String)> = snaps(&e).into_iter().map(|(w, p, _)| (w, p)).collect();
    assert_eq!(
        left,
        [
            ("W0-01".into(), "before".into()),
            ("W0-02".into(), "before".into()),
            ("W0-02".into(), "after".into())
        ]
    );
    // Start then cross, delete the second-latest before: W0-01's.
    let e = env();
    codex(&e, AliasAction::Start, None).unwrap();
    codex(&e, AliasAction::Cross, None).unwrap();
    del(&e, Some(Phase::Before), None, 2).unwrap();
    let left: Vec<(String, String)> = snaps(&e).into_iter().map(|(w, p, _)| (w, p)).collect();
    assert_eq!(left, [("W0-01".into(), "after".into()), ("W0-02".into(), "before".into())]);
}

#[test]
fn delete_refuses_a_bad_index_or_nothing_to_delete() {
    let e = env();
    assert_eq!(del(&e, None, None, 0).unwrap_err().to_string(), "index must be >= 1");
    assert_eq!(del(&e, None, None, -3).unwrap_err().to_string(), "index must be >= 1");
    assert_eq!(del(&e, None, None, 2).unwrap_err().to_string(), "no matching snapshots to delete");
    codex(&e, AliasAction::Start, None).unwrap();
    assert_eq!(
        del(&e, Some(Phase::Before), None, 2).unwrap_err().to_string(),
        "only 1 matching snapshot(s); cannot delete index 2"
    );
    assert_eq!(
        del(&e, None, Some("W0-02"), 1).unwrap_err().to_string(),
        "no matching snapshots to delete"
    );
    // GLM has no snapshots: deleting for it never finds any.
    let req = DeleteRequest {
        provider: AliasProvider::Glm,
        window: None,
        phase: None,
        index: 1,
        state_dir: &e.states,
    };
    assert!(matches!(delete(&e.dir, &req), Err(WindowError::NothingToDelete)));
    assert_eq!(snaps(&e).len(), 1);
}

#[test]
fn undo_an_erroneous_window_and_record_it_again() {
    let e = env();
    codex(&e, AliasAction::Start, Some("W0-19")).unwrap();
    codex(&e, AliasAction::End, Some("W0-19")).unwrap();
    codex(&e, AliasAction::Start, Some("W0-20")).unwrap();
    let msg = del(&e, Some(Phase::Before), Some("W0-20"), 1).unwrap();
    assert!(msg.starts_with("removed codex before snapshot for W0-20 (captured_at="), "{msg}");
    // Re-inferred from the store: last is W0-19 after → W0-20, no phase.
    assert_eq!(state(&e, AliasProvider::Codex), (some("W0-20"), None, None));
    codex(&e, AliasAction::Start, Some("W0-20")).unwrap();
    let left: Vec<(String, String)> = snaps(&e).into_iter().map(|(w, p, _)| (w, p)).collect();
    assert_eq!(
        left,
        [
            ("W0-19".into(), "before".into()),
            ("W0-19".into(), "after".into()),
            ("W0-20".into(), "before".into())
        ]
    );
}

#[test]
fn agents_with_their_own_state_dirs_stay_isolated_and_share_the_data() {
    let e = env();
    let main = e.states.join("main");
    let sub = e.states.join("sub1");
    let pane = fixture("codex/alt_reset_64_0.txt");
    for (dir, note) in [(&main, "AGENT_ID=main"), (&sub, "AGENT_ID=sub1")] {
        let req = AliasRequest {
            provider: AliasProvider::Codex,
            window: None,
            text: &pane,
            notes: Some(note),
            source: "alias",
            state_dir: dir,
        };
        alias(&e.dir, AliasAction::Start, &req).unwrap();
    }
    let notes: Vec<String> =
        snaps(&e).into_iter().map(|(w, p, n)| format!("{w}/{p}/{n}")).collect();
    assert_eq!(notes, ["W0-01/before/AGENT_ID=main", "W0-01/before/AGENT_ID=sub1"]);
    for dir in [&main, &sub] {
        let s = load_state(dir, AliasProvider::Codex).unwrap();
        assert_eq!(
            (s.current_window.as_deref(), s.last_phase.as_deref()),
            (Some("W0-01"), Some("before"))
        );
    }
}

#[test]
fn a_python_tracker_dir_is_used_as_it_is() {
    let e = env();
    std::fs::create_dir_all(&e.states).unwrap();
    let live = fixture("codex/live_cases/current_live_snapshots.jsonl");
    std::fs::write(e.dir.path(TrackerFile::Snapshots), &live).unwrap();
    std::fs::write(
        e.states.join("codex.json"),
        fixture("codex/live_cases/current_state_codex.json"),
    )
    .unwrap();
    // The Python state says W0-20, before: end closes W0-20 with the after pane.
    let after = fixture("codex/live_cases/W0-20_after_multi_status.txt");
    let out = run_in(&e, &e.states, AliasAction::End, AliasProvider::Codex, None, &after).unwrap();
    assert_eq!(out.message, "stored codex after snapshot for W0-20 (ready to finalize)");
    // The Python row is untouched, ours follows on its own line.
    let text = std::fs::read_to_string(e.dir.path(TrackerFile::Snapshots)).unwrap();
    assert!(text.starts_with(&live));
    let rows = e.dir.load(TrackerFile::Snapshots, Some("W0-20")).unwrap().rows;
    assert_eq!(rows.len(), 2);
    // The Python before (0%/10%) and our after finalize into one window.
    let done = agentos_tracker::finalize::finalize(
        &e.dir,
        &agentos_tracker::finalize::FinalizeRequest::new("W0-20"),
    )
    .unwrap();
    assert_eq!(done.providers, ["codex"]);
    let w: Value = serde_json::from_str(
        std::fs::read_to_string(e.dir.path(TrackerFile::Windows)).unwrap().trim(),
    )
    .unwrap();
    assert_eq!(w["providers"]["codex"]["before"]["weekly_pct"], 10);
    assert_eq!(w["providers"]["codex"]["before"]["fiveh_pct"], 0);
}
