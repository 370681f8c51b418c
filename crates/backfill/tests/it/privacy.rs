//! No transcript text reaches AgentOS's files: only numbers and identifiers.

use crate::common::{Env, write_lines};

const SECRETS: [&str; 8] = [
    "SECRET-PROMPT-hunter2",
    "SECRET-ANSWER-swordfish",
    "SECRET-THINKING-opensesame",
    "SECRET-TOOL-INPUT-/etc/shadow",
    "SECRET-TOOL-OUTPUT-AKIAIOSFODNN7EXAMPLE",
    "SECRET-SUMMARY-merger-plans",
    "SECRET-CODEX-INSTRUCTIONS-xyzzy",
    "SECRET-TRUNCATED-plugh",
];

#[test]
fn transcript_text_never_reaches_the_data_dir() {
    let env = Env::new();
    let p = env.project("-home-dev-proj");
    let s = "eeeeeeee-0000-4000-8000-000000000001";
    let usage = serde_json::json!({"input_tokens": 1, "output_tokens": 2});
    let lines = [
        serde_json::json!({"type": "summary", "summary": SECRETS[5], "leafUuid": "x"}),
        serde_json::json!({"type": "user", "sessionId": s, "timestamp": "2026-02-01T10:00:00Z",
            "message": {"role": "user", "content": SECRETS[0]}, "cwd": "/home/dev/proj"}),
        serde_json::json!({"type": "assistant", "sessionId": s, "timestamp": "2026-02-01T10:00:01Z",
            "requestId": "r1", "cwd": "/home/dev/proj",
            "message": {"id": "m1", "model": "claude-sonnet-4-5", "usage": usage,
                "content": [{"type": "thinking", "thinking": SECRETS[2]},
                    {"type": "text", "text": SECRETS[1]},
                    {"type": "tool_use", "id": "t", "name": "Read", "input": {"file_path": SECRETS[3]}}]}}),
        serde_json::json!({"type": "user", "sessionId": s, "timestamp": "2026-02-01T10:00:02Z",
            "toolUseResult": {"stdout": SECRETS[4]},
            "message": {"role": "user", "content": [{"type": "tool_result", "content": SECRETS[4]}]}}),
        // Unexpected shapes must not be quoted in diagnostics either.
        serde_json::json!({"type": "assistant", "sessionId": s, "timestamp": "2026-02-01T10:00:03Z",
            "message": {"id": "m2", "model": SECRETS[1], "usage": {"input_tokens": SECRETS[0]}}}),
    ];
    let mut text: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    text.push(format!(
        r#"{{"type":"assistant","usage":{{}},"message":{{"content":"{}"#,
        SECRETS[7]
    ));
    write_lines(&p.join(format!("{s}.jsonl")), &text);
    let day = env.codex_day("2026/02/01");
    write_lines(
        &day.join("rollout-2026-02-01T10-00-00-eeeeeeee-0000-4000-8000-000000000002.jsonl"),
        &[
            serde_json::json!({"timestamp": "2026-02-01T10:00:00Z", "type": "session_meta",
                "payload": {"id": "eeeeeeee-0000-4000-8000-000000000002", "instructions": SECRETS[6]}})
            .to_string(),
            serde_json::json!({"timestamp": "2026-02-01T10:00:01Z", "type": "response_item",
                "payload": {"type": "message", "content": [{"type": "input_text", "text": SECRETS[0]}]}})
            .to_string(),
        ],
    );
    let (report, events) = env.import();
    assert_eq!(report.responses, 1, "{report:?}");
    assert_eq!(report.malformed_lines, 2, "{:?}", report.malformed);
    let mut seen = vec![format!("{report:?}"), serde_json::to_string(&events).unwrap()];
    let data = env.log.parent().unwrap();
    let mut stack = vec![data.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let path = camino::Utf8PathBuf::from_path_buf(e.path()).unwrap();
            if e.file_type().unwrap().is_dir() {
                stack.push(path);
            } else {
                seen.push(String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned());
            }
        }
    }
    assert!(seen.len() >= 5, "events, ledger, index, lock: {}", seen.len());
    for text in &seen {
        for secret in SECRETS {
            assert!(!text.contains(secret), "{secret} leaked");
        }
    }
}
