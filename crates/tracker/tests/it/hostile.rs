//! Hostile input: empty, binary, huge numbers, cut-off ANSI, oversized: no parser panics.

use agentos_tracker::{
    CcusageScope, Error, MAX_INPUT_BYTES, parse_ccusage_counts, parse_claude_monitor_realtime,
    parse_claude_usage, parse_codex_ccusage, parse_codex_status, parse_proxy_telemetry_stream,
    strip_ansi,
};

/// Run every parser on `text`; none may panic or fail below the size limit.
fn all(text: &str) {
    parse_codex_status(text).unwrap();
    parse_claude_usage(text).unwrap();
    parse_claude_monitor_realtime(text).unwrap();
    parse_ccusage_counts(text).unwrap();
    for scope in [CcusageScope::Session, CcusageScope::Daily, CcusageScope::Weekly] {
        parse_codex_ccusage(text, scope).unwrap();
    }
    parse_proxy_telemetry_stream(text).unwrap();
}

/// A deterministic byte soup (xorshift), made text as a caller would (lossy UTF-8).
fn soup(seed: u64, len: usize) -> String {
    let mut x = seed | 1;
    let bytes: Vec<u8> = (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()[0]
        })
        .collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn empty_and_blank() {
    all("");
    all("\n\n \t\r\n");
    assert_eq!(parse_codex_status("").unwrap().errors, ["insufficient-data"]);
    assert_eq!(parse_claude_usage("").unwrap().errors, []);
}

#[test]
fn binary_soup() {
    for seed in 0..64 {
        all(&soup(seed, 4096));
    }
}

#[test]
fn soup_around_the_markers() {
    let markers = [
        "/status\n",
        "5h limit: [",
        "] 9",
        "% used (resets ",
        "Weekly limit:",
        "Current week (",
        "Current session",
        "Resets ",
        "Token Usage: [",
        "Tokens: ",
        " / ~",
        "Burn Rate: ",
        "Cost Rate: $",
        "Sent Messages: ",
        "{\"sessions\":[",
        "{\"blocks\":[{\"prompts_used\":",
        "\x1b[",
        "\x1b[1;",
        "{\"latency_ms\":",
    ];
    for seed in 0..200u64 {
        let mut text = String::new();
        for (i, m) in markers.iter().enumerate() {
            if (seed >> (i % 16)) & 1 == 1 || seed % 7 == i as u64 % 7 {
                text.push_str(m);
                text.push_str(&soup(seed * 31 + i as u64, 8));
            }
        }
        all(&text);
    }
}

#[test]
fn huge_numbers() {
    let big = "9".repeat(400);
    let pane = format!("5h limit: [] {big}% used (resets x)\nWeekly limit: [] 5% used");
    let s = parse_codex_status(&pane).unwrap();
    assert_eq!(s.fiveh_pct, None, "out of range reads as missing");
    assert_eq!(s.weekly_pct, Some(5));
    let u = parse_claude_usage(&format!("Current session\n {big}% used\n")).unwrap();
    assert_eq!(u.session_pct, None);
    assert_eq!(u.errors, ["section-missing-session"]);
    let m = parse_claude_monitor_realtime(&format!(
        "Token Usage: [] {big}.5%\nTokens: {big} / ~{big}\nSent Messages: {big}\n"
    ))
    .unwrap();
    assert_eq!(m.token_usage_pct, Some(f64::INFINITY));
    assert_eq!(m.tokens_used, None);
    assert_eq!(m.message_count, None);
    let j = format!(
        r#"{{"sessions":[{{"totalTokens":{big},"costUSD":1e308,"lastActivity":"x"}},{{"totalTokens":-1e300,"costUSD":1e308}}],"blocks":[{{"prompts_used":1e400}}],"days":[{{"totalTokens":{big}}}],"week":{{"tokensUsed":{big}}}}}"#
    );
    all(&j);
    all(&format!(
        "{{\"latency_ms\":{big}}}\n{{\"latency_ms\":-{big}}}\n{{\"latency_ms\":\"nan\"}}\n"
    ));
}

#[test]
fn unterminated_and_odd_ansi() {
    let cut = "5h limit: [#] 3% used\x1b[1;3";
    all(cut);
    assert_eq!(strip_ansi("a\x1b[31mb\x1b[0m"), "ab");
    assert_eq!(strip_ansi("a\x1b[?25lb"), "ab");
    assert_eq!(strip_ansi("x\x1b[12"), "x\x1b[12", "a sequence without its final byte stays");
    assert_eq!(strip_ansi("\x1b]0;title\x07z"), "\x1b]0;title\x07z", "only CSI is stripped");
    all(&"\x1b[".repeat(10_000));
}

#[test]
fn deeply_nested_json_is_refused_not_a_crash() {
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    all(&deep);
    let obj = format!("{{\"sessions\":{}1{}}}", "[".repeat(5000), "]".repeat(5000));
    all(&obj);
}

#[test]
fn oversized_input_is_a_typed_error() {
    let text = " ".repeat(MAX_INPUT_BYTES + 1);
    let e = parse_codex_status(&text).unwrap_err();
    assert_eq!(e, Error::TooLarge { len: MAX_INPUT_BYTES + 1, max: MAX_INPUT_BYTES });
    assert!(parse_proxy_telemetry_stream(&text).is_err());
    assert!(parse_codex_ccusage(&text, CcusageScope::Daily).is_err());
}
