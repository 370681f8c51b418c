//! Session start / turn / end under concurrency, bad input and failures part-way through.

use std::sync::{Arc, Barrier};

use agentos_ccc_client::{Cost, Error, Recorder, SessionStart, TurnId};
use agentos_event_schema::v1::limits::{BadSessionId, Field};

use crate::support::*;

const N: usize = 8;

fn local(env: &Env) -> Recorder {
    recorder(env, "local", &agentos_testkit::refused_url())
}

fn of_type(env: &Env, kind: &str) -> Vec<serde_json::Value> {
    lines(&env.data.join("events.jsonl")).into_iter().filter(|e| e["type"] == kind).collect()
}

/// Run `f` on `N` threads at once, each with its own recorder on the same data dir.
fn race<T: Send + 'static>(
    env: &Env,
    f: impl Fn(&mut Recorder) -> T + Send + Sync + 'static,
) -> Vec<T> {
    let barrier = Arc::new(Barrier::new(N));
    let f = Arc::new(f);
    let handles: Vec<_> = (0..N)
        .map(|_| {
            let cfg = config(env, "local", &agentos_testkit::refused_url());
            let (barrier, f) = (barrier.clone(), f.clone());
            std::thread::spawn(move || {
                let mut rec = Recorder::open(cfg, crate::metrics::RollupMetrics).unwrap();
                barrier.wait();
                f(&mut rec)
            })
        })
        .collect();
    handles.into_iter().map(|h| h.join().unwrap()).collect()
}

#[test]
fn of_concurrent_starts_in_one_data_dir_exactly_one_succeeds() {
    let env = env();
    let results = race(&env, |rec| {
        rec.start_session(SessionStart { repo_id: "r".into(), ..Default::default() })
            .map(|id| id.to_string())
            .map_err(|e| e.to_string())
    });
    let won: Vec<&String> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(won.len(), 1, "{results:?}");
    for lost in results.iter().filter_map(|r| r.as_ref().err()) {
        assert!(lost.contains(won[0].as_str()) && lost.contains("already active"), "{lost}");
    }
    let sessions = of_type(&env, "session");
    assert_eq!(sessions.len(), 1, "one session event, no orphans");
    assert_eq!(sessions[0]["session"]["session_id"], won[0].as_str());
    assert_eq!(local(&env).active_session().map(|s| s.to_string()).as_ref(), Some(won[0]));
}

#[test]
fn of_concurrent_ends_exactly_one_ends_the_session() {
    let env = env();
    let mut rec = local(&env);
    let sid = start(&mut rec, &[]);
    rec.log_turn(turn("claude-3", 0.25, None)).unwrap();
    drop(rec);
    let results = race(&env, |rec| rec.finish_session(Some("done".into())).map(|r| r.session_id));
    let ended: Vec<_> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(ended.len(), 1);
    assert_eq!(ended[0].to_string(), sid);
    for r in &results {
        assert!(matches!(r, Ok(_) | Err(Error::NoActiveSession)), "{r:?}");
    }
    assert_eq!(of_type(&env, "session_end").len(), 1);
    let windows = lines(&env.data.join("windows.jsonl"));
    assert_eq!(windows.len(), 1);
    assert_eq!(windows[0]["providers"]["anthropic"]["turns"], 1);
}

#[test]
fn session_ids_outside_the_safe_alphabet_are_refused_and_nothing_is_written() {
    let env = env();
    let mut rec = local(&env);
    for (id, want) in [
        ("", BadSessionId::Empty),
        ("a\"b", BadSessionId::Char { ch: '"', position: 2 }),
        ("a\\b", BadSessionId::Char { ch: '\\', position: 2 }),
        ("tab\there", BadSessionId::Char { ch: '\t', position: 4 }),
        ("new\nline", BadSessionId::Char { ch: '\n', position: 4 }),
    ] {
        let start = SessionStart { session_id: Some(id.into()), ..Default::default() };
        match rec.start_session(start) {
            Err(Error::SessionId(got)) => assert_eq!(got, want, "{id:?}"),
            other => panic!("{id:?}: {other:?}"),
        }
    }
    assert!(lines(&env.data.join("events.jsonl")).is_empty());
    assert!(rec.active_session().is_none());
    // A safe id is used as given, and its window finds its turns.
    let start = SessionStart { session_id: Some("ci:run_42.a-b".into()), ..Default::default() };
    rec.start_session(start).unwrap();
    rec.log_turn(turn("claude-3", 0.5, None)).unwrap();
    let report = rec.finish_session(None).unwrap();
    assert_eq!(report.window.providers["anthropic"].turns, 1);
}

#[test]
fn a_retried_end_with_long_notes_appends_no_second_end() {
    let env = env();
    let mut rec = local(&env);
    start(&mut rec, &[]);
    rec.log_turn(turn("claude-3", 0.5, None)).unwrap();
    let state = env.data.join("state/active_session.json");
    let saved = std::fs::read(&state).unwrap();
    // Notes far longer than any fixed tail window (the old check read the last 64 KiB).
    let notes = "n".repeat(200 * 1024);
    rec.finish_session(Some(notes.clone())).unwrap();
    // The first end died after its appends, before clearing the state.
    std::fs::write(&state, &saved).unwrap();
    let mut rec = local(&env);
    rec.finish_session(Some(notes)).unwrap();
    assert_eq!(of_type(&env, "session_end").len(), 1);
    assert_eq!(lines(&env.data.join("windows.jsonl")).len(), 1);
}

#[test]
fn numbers_outside_the_limits_are_refused_at_write_time_naming_the_field() {
    let env = env();
    let mut rec = local(&env);
    start(&mut rec, &[]);
    let cost = |usd: f64| Cost {
        provider: "anthropic".into(),
        unit_costs: Default::default(),
        estimated_usd: usd,
        price_table: None,
        extra: Default::default(),
    };
    type Set = Box<dyn Fn(&mut agentos_ccc_client::TurnInput)>;
    let cases: Vec<(Set, Field, f64)> = vec![
        (Box::new(move |t| t.cost = Some(cost(2e15))), Field::EstimatedUsd, 2e15),
        (Box::new(|t| t.capacity_used = Some(1e300)), Field::CapacityUsed, 1e300),
        (Box::new(|t| t.capacity_used = Some(1.5)), Field::CapacityUsed, 1.5),
        (
            Box::new(|t| t.measurement = measurement(1.0, 1.0, 0.1, 1e300)),
            Field::FeatureDelta,
            1e300,
        ),
        (
            Box::new(|t| {
                t.attribution.insert("m".into(), 1e300);
            }),
            Field::AttributionWeight("m".into()),
            1e300,
        ),
        (
            Box::new(|t| {
                t.attribution.insert("a".into(), 0.75);
                t.attribution.insert("b".into(), 0.5);
            }),
            Field::AttributionSum,
            1.25,
        ),
    ];
    let before = std::fs::read(env.data.join("events.jsonl")).unwrap();
    for (set, field, value) in cases {
        let mut t = turn("claude-3", 0.5, None);
        set(&mut t);
        match rec.log_turn(t) {
            Err(Error::OutOfRange(v)) => assert_eq!((v.field, v.value), (field, value)),
            other => panic!("{field:?}: {other:?}"),
        }
    }
    assert_eq!(std::fs::read(env.data.join("events.jsonl")).unwrap(), before, "nothing written");
    // In range, and GLM capacity counted in prompts, are recorded.
    let mut t = turn("claude-3", 1.0, None);
    t.attribution.insert("claude-3".into(), 1.0);
    rec.log_turn(t).unwrap();
    rec.log_turn(turn("glm/4.6", 40.0, None)).unwrap();
    assert_eq!(of_type(&env, "turn").len(), 2);
}

#[test]
fn a_failed_start_records_nothing_so_a_retry_records_one_session() {
    let env = env();
    let mut rec = local(&env);
    // The state file cannot be written (a directory is in its place).
    let state = env.data.join("state/active_session.json");
    std::fs::create_dir_all(&state).unwrap();
    assert!(matches!(rec.start_session(SessionStart::default()), Err(Error::Io { .. })));
    assert!(of_type(&env, "session").is_empty(), "no orphaned session event");
    std::fs::remove_dir(&state).unwrap();
    // The event cannot be appended: the state written first is taken back.
    let events = env.data.join("events.jsonl");
    std::fs::create_dir_all(&events).unwrap();
    assert!(matches!(rec.start_session(SessionStart::default()), Err(Error::Io { .. })));
    assert!(!state.exists(), "no session left active without its event");
    std::fs::remove_dir(&events).unwrap();
    rec.start_session(SessionStart::default()).unwrap();
    assert_eq!(of_type(&env, "session").len(), 1);
}

#[test]
fn an_outbox_that_cannot_queue_does_not_fail_a_recorded_turn() {
    let env = env();
    install_pack(&env, &signed_pack(&["telemetry_minimized", "telemetry_full"], FAR_FUTURE));
    let mut rec = recorder(&env, "full", &agentos_testkit::refused_url()).with_auto_flush(false);
    start(&mut rec, &[]);
    // The queue directory cannot be written (a file is in its place).
    let queue = env.data.join("outbox/queue");
    std::fs::remove_dir_all(&queue).unwrap();
    std::fs::write(&queue, b"").unwrap();
    rec.log_turn(turn("claude-3", 0.5, None)).expect("the turn is recorded");
    assert_eq!(of_type(&env, "turn").len(), 1);
    // Repaired: the outbox catches up from the log, the turn is queued once.
    std::fs::remove_file(&queue).unwrap();
    rec.outbox().catch_up().unwrap();
    let queued = rec.outbox().queued_events().unwrap();
    assert_eq!(queued.iter().filter(|e| e["type"] == "turn").count(), 1);
}

#[test]
fn a_turn_retried_under_its_id_is_recorded_once() {
    let env = env();
    let mut rec = local(&env);
    start(&mut rec, &[]);
    let id = TurnId::from("turn-7");
    // The first attempt gets the turn into events.jsonl, then fails on its GLM count.
    let glm = env.data.join("glm_counts.jsonl");
    std::fs::create_dir_all(&glm).unwrap();
    assert!(rec.log_turn_as(id.clone(), turn("glm/4.6", 3.0, None)).is_err());
    std::fs::remove_dir(&glm).unwrap();
    assert_eq!(rec.log_turn_as(id.clone(), turn("glm/4.6", 3.0, None)).unwrap(), id);
    assert_eq!(rec.log_turn_as(id.clone(), turn("glm/4.6", 3.0, None)).unwrap(), id);
    let turns = of_type(&env, "turn");
    assert_eq!(turns.len(), 1);
    assert_eq!(turns[0]["turn"]["turn_id"], "turn-7");
    let counts = lines(&glm);
    assert_eq!(counts.len(), 1);
    assert_eq!(counts[0]["turn_id"], "turn-7");
}

#[test]
fn an_end_that_failed_part_way_is_completed_once_by_the_retry() {
    let env = env();
    let mut rec = local(&env);
    start(&mut rec, &[]);
    rec.log_turn(turn("claude-3", 0.5, None)).unwrap();
    let windows = env.data.join("windows.jsonl");
    std::fs::create_dir_all(&windows).unwrap();
    assert!(rec.finish_session(None).is_err());
    assert_eq!(of_type(&env, "session_end").len(), 1);
    std::fs::remove_dir(&windows).unwrap();
    let report = rec.finish_session(None).unwrap();
    assert_eq!(report.window.providers["anthropic"].turns, 1);
    assert_eq!(of_type(&env, "session_end").len(), 1);
    assert_eq!(lines(&windows).len(), 1);
    assert!(matches!(rec.finish_session(None), Err(Error::NoActiveSession)));
}
