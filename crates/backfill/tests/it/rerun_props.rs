//! Property test: an import re-run changes nothing (issue #17): whatever Claude Code lines a
//! history holds (streamed repeats, several sessions and models), a second run writes no
//! event and leaves the event log as the first run left it.

use proptest::prelude::*;

use crate::common::{Env, claude_line, write_lines};

const MODELS: [&str; 3] = ["claude-opus-4-5-20251101", "claude-sonnet-4-5-20250929", "<synthetic>"];

proptest! {
    // 16 cases: each is two imports into a scratch directory (a few ms each).
    #![proptest_config(ProptestConfig::with_cases(16))]
    #[test]
    fn an_import_rerun_changes_nothing(
        lines in proptest::collection::vec((0u8..3, 0u8..6, 0u8..3, 0u32..5000, 0u32..500, 0u32..100), 1..30),
    ) {
        let env = Env::new();
        let p = env.project("-home-dev-proj");
        let mut by_session: Vec<Vec<String>> = vec![Vec::new(); 3];
        for (i, &(s, msg, model, tin, tout, cache)) in lines.iter().enumerate() {
            let session = format!("bbbbbbbb-0000-4000-8000-00000000000{s}");
            let ts = format!("2026-02-01T10:{:02}:00Z", i % 60);
            // A message id repeats across lines (streaming), with growing or other usage.
            let m = format!("m{msg}");
            let r = format!("r{msg}");
            by_session[usize::from(s)].push(claude_line(
                &session, &ts, &m, Some(&r), MODELS[usize::from(model)],
                u64::from(tin), u64::from(tout), u64::from(cache), 0,
            ));
        }
        for (s, ls) in by_session.iter().enumerate() {
            if !ls.is_empty() {
                write_lines(&p.join(format!("bbbbbbbb-0000-4000-8000-00000000000{s}.jsonl")), ls);
            }
        }
        let (_, first) = env.import();
        // The first run imports something whenever a line is a real (not `<synthetic>`) response.
        prop_assert_eq!(first.is_empty(), lines.iter().all(|l| l.2 == 2));
        let log = std::fs::read(&env.log).unwrap_or_default();
        let (report, written) = env.import();
        prop_assert!(written.is_empty(), "a re-run wrote {} events", written.len());
        prop_assert_eq!(report.responses, 0);
        prop_assert_eq!(std::fs::read(&env.log).unwrap_or_default(), log);
    }
}
