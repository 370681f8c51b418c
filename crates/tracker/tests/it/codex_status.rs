//! Codex `/status` on every fixture (reference §7.6.1's observed values) and the label rules.

use agentos_tracker::{CodexStatus, parse_codex_status};

use crate::fixture;

fn parse(rel: &str) -> CodexStatus {
    parse_codex_status(&fixture(rel)).unwrap()
}

#[track_caller]
fn check(
    s: &CodexStatus,
    fiveh: Option<i64>,
    fr: Option<&str>,
    week: Option<i64>,
    wr: Option<&str>,
) {
    assert_eq!(s.fiveh_pct, fiveh, "fiveh_pct");
    assert_eq!(s.fiveh_resets.as_deref(), fr, "fiveh_resets");
    assert_eq!(s.weekly_pct, week, "weekly_pct");
    assert_eq!(s.weekly_resets.as_deref(), wr, "weekly_resets");
}

#[test]
fn wide_pane() {
    let s = parse("codex/wide_status_82_1.txt");
    check(&s, Some(1), Some("13:01"), Some(82), Some("21:29 on 19 Oct"));
    assert_eq!(s.errors, []);
}

#[test]
fn alternative_reset_format() {
    let s = parse("codex/alt_reset_64_0.txt");
    check(&s, Some(0), Some("21:22"), Some(64), Some("13:04 on 8 Oct"));
    assert_eq!(s.errors, []);
}

#[test]
fn narrow_pane_truncating_used_is_insufficient() {
    let s = parse("codex/narrow_wrapped_status_82_1.txt");
    check(&s, None, None, None, None);
    assert_eq!(s.errors, ["insufficient-data"]);
}

#[test]
fn too_narrow_pane_is_insufficient() {
    let s = parse("codex/too_narrow_missing_numbers.txt");
    check(&s, None, None, None, None);
    assert_eq!(s.errors, ["insufficient-data"]);
}

#[test]
fn live_cases() {
    let s = parse("codex/live_cases/W0-19_before_correct.txt");
    check(&s, Some(11), Some("07:10"), Some(9), Some("21:11 on 25 Oct"));
    assert_eq!(s.errors, []);
    let s = parse("codex/live_cases/W0-19_after_12pct.txt");
    check(&s, Some(12), Some("07:10"), Some(9), Some("21:11 on 25 Oct"));
    assert_eq!(s.errors, []);
    let s = parse("codex/live_cases/W0-20_start_0pct.txt");
    check(&s, Some(0), Some("14:00"), Some(10), Some("21:11 on 25 Oct"));
    assert_eq!(s.errors, []);
}

#[test]
fn several_status_blocks_read_the_last_and_say_so() {
    // Four `/status` blocks: the first three say 3% (resets 14:01), the last 0% (resets 19:01).
    let s = parse("codex/live_cases/W0-20_after_multi_status.txt");
    check(&s, Some(0), Some("19:01"), Some(10), Some("21:11 on 25 Oct"));
    assert_eq!(s.errors, ["multi-pane-trimmed"]);
}

#[test]
fn automation_captures_with_one_status_block() {
    let s = parse("automation/codex_status_before.txt");
    check(&s, Some(0), Some("14:01"), Some(9), Some("21:11 on 25 Oct"));
    assert_eq!(s.errors, []);
    let s = parse("automation/codex_status_after.txt");
    check(&s, Some(11), Some("19:01"), Some(9), Some("21:11 on 25 Oct"));
    assert_eq!(s.errors, []);
}

#[test]
fn ansi_colours_are_stripped() {
    let pane = "\x1b[1m5h limit:\x1b[0m \x1b[32m[##  ]\x1b[0m \x1b[1;33m7%\x1b[0m used (resets 10:00)\n\
                Weekly limit: [#] 3% used (resets 1 Nov)\n";
    let s = parse_codex_status(pane).unwrap();
    check(&s, Some(7), Some("10:00"), Some(3), Some("1 Nov"));
}

#[test]
fn used_may_be_spread_over_lines_and_labels_any_case() {
    let pane = "5H   LIMIT : [..] 4% u s\ne\n d\nweekly\tlimit:[] 55%used";
    let s = parse_codex_status(pane).unwrap();
    check(&s, Some(4), None, Some(55), None);
    assert_eq!(s.errors, []);
}

#[test]
fn a_missing_5h_reset_takes_the_weekly_one_as_the_reference_does() {
    // The reference's known flaw, kept so both read the same panes alike: the lazy optional
    // reset group runs on into the weekly line and consumes it.
    let pane = "5h limit: [#] 2% used\nWeekly limit: [#] 40% used (resets 9 Nov)\n";
    let s = parse_codex_status(pane).unwrap();
    check(&s, Some(2), Some("9 Nov"), None, None);
    assert_eq!(s.errors, []);
}

#[test]
fn serialises_as_the_tracker_dict() {
    let s = parse("codex/wide_status_82_1.txt");
    let json = serde_json::to_string(&s).unwrap();
    assert_eq!(
        json,
        r#"{"fiveh_pct":1,"fiveh_resets":"13:01","weekly_pct":82,"weekly_resets":"21:29 on 19 Oct","errors":[]}"#
    );
    let s = parse("codex/too_narrow_missing_numbers.txt");
    let json = serde_json::to_string(&s).unwrap();
    assert_eq!(
        json,
        r#"{"fiveh_pct":null,"fiveh_resets":null,"weekly_pct":null,"weekly_resets":null,"errors":["insufficient-data"]}"#
    );
}
