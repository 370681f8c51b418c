//! Unit tests of the Python conversions, the error list and the percentile.

use serde_json::json;

use crate::Errors;
use crate::py;

#[test]
fn errors_keep_first_order_without_repeats() {
    let mut e = Errors::default();
    e.push("b");
    e.push("a");
    e.push("b");
    assert_eq!(e, ["b", "a"]);
    assert_eq!(serde_json::to_string(&e).unwrap(), r#"["b","a"]"#);
}

#[test]
fn python_float() {
    assert_eq!(py::float(&json!(3)), Some(3.0));
    assert_eq!(py::float(&json!(" 2.5\n")), Some(2.5));
    assert_eq!(py::float(&json!("1e3")), Some(1000.0));
    assert_eq!(py::float(&json!(true)), Some(1.0));
    assert_eq!(py::float(&json!(null)), None);
    assert_eq!(py::float(&json!("")), None);
    assert_eq!(py::float(&json!("1.2.3")), None);
    assert_eq!(py::float(&json!([1])), None);
}

#[test]
fn python_int_of_float_truncates_and_refuses_what_does_not_fit() {
    assert_eq!(py::int(&json!("20.9")), Some(20));
    assert_eq!(py::int(&json!(-2.7)), Some(-2));
    assert_eq!(py::int(&json!(9_007_199_254_740_993_i64)), Some(9_007_199_254_740_993));
    assert_eq!(py::int(&json!(1e19)), None);
    assert_eq!(py::int(&json!("nan")), None);
    assert_eq!(py::int(&json!("inf")), None);
    assert_eq!(py::int_of_float(-9_223_372_036_854_775_808.0), Some(i64::MIN));
}

#[test]
fn python_truthiness_and_or() {
    let obj = json!({"a": 0, "b": 7, "c": "", "d": "x"});
    let m = obj.as_object().unwrap();
    assert_eq!(py::get_or(m, "a", "b"), &json!(7));
    assert_eq!(py::get_or(m, "b", "a"), &json!(7));
    assert_eq!(py::get_or(m, "c", "a"), &json!(0));
    assert_eq!(py::get_or(m, "missing", "d"), &json!("x"));
    assert_eq!(py::get_or(m, "missing", "gone"), &json!(null));
    assert!(!py::truthy(&json!([])));
    assert!(py::truthy(&json!({"k": 1})));
}

#[test]
fn python_str() {
    assert_eq!(py::str_of(&json!(200)), "200");
    assert_eq!(py::str_of(&json!(true)), "True");
    assert_eq!(py::str_of(&json!(null)), "None");
    assert_eq!(py::string_or_empty(None), "");
    assert_eq!(py::string_or_empty(Some(&json!(null))), "");
}

mod store_load_cap {
    use crate::store::load::{Options, load_capped};

    /// A line over the cap is reported and skipped without holding it; the next line reads.
    #[test]
    fn an_over_long_line_is_skipped_and_reading_goes_on() {
        let p =
            std::env::temp_dir().join(format!("agentos-tracker-cap-{}.jsonl", std::process::id()));
        let long = format!("{{\"id\":\"{}\"}}\n", "x".repeat(100));
        std::fs::write(&p, format!("{long}{{\"id\":\"ok\"}}\n")).unwrap();
        let l = load_capped(&p, Options::default(), 64).unwrap();
        let _ = std::fs::remove_file(&p);
        assert_eq!(l.rows.len(), 1);
        assert_eq!(l.rows[0]["id"], "ok");
        assert_eq!(l.diagnostics.len(), 1);
        assert_eq!(l.diagnostics[0].line, 1);
        assert_eq!(l.diagnostics[0].reason, "line longer than 64 bytes, skipped");
    }
}

mod pyfmt {
    use serde_json::json;

    use crate::pyfmt::{fmtnum, pct};

    /// The reference's examples (§7.7) and Python's half-even rounding of the binary value.
    #[test]
    fn fmtnum_and_pct_as_python() {
        assert_eq!(pct(Some(&json!(50.0)), 1), "50%");
        assert_eq!(pct(Some(&json!(12.5)), 1), "12.5%");
        assert_eq!(pct(Some(&json!(9.2)), 1), "9.2%");
        assert_eq!(pct(Some(&json!(0.0)), 1), "0%");
        assert_eq!(pct(Some(&json!(null)), 1), "n/a");
        assert_eq!(pct(None, 1), "n/a");
        assert_eq!(pct(Some(&json!("x")), 1), "n/a");
        // 49.96 is within 0.01 of 50? No (0.04): one decimal, rounded: 50.0%.
        assert_eq!(pct(Some(&json!(49.96)), 1), "50.0%");
        assert_eq!(pct(Some(&json!(49.995)), 1), "50%");
        assert_eq!(fmtnum(118.0, 2), "118");
        assert_eq!(fmtnum(2.0000001, 2), "2");
        assert_eq!(fmtnum(0.125, 2), "0.12");
        assert_eq!(fmtnum(0.375, 2), "0.38");
        assert_eq!(fmtnum(-0.0, 2), "0");
        assert_eq!(fmtnum(2.5, 0), "2");
        assert_eq!(fmtnum(3.5, 0), "4");
        assert_eq!(fmtnum(f64::NAN, 2), "n/a");
    }
}

mod advise {
    use serde_json::json;

    use crate::advise::{CccUse, Verdict, advise};
    use crate::preview::ProviderFigures;
    use crate::store::load::Row;

    fn fig(p: &str, e: Option<f64>) -> ProviderFigures {
        ProviderFigures {
            provider: p.to_owned(),
            features: 0.0,
            capacity: 0.0,
            unit: "pp".to_owned(),
            efficiency: e,
            ci: None,
            n: 1,
            power: None,
            unmeasured_features: 0.0,
            unmeasured_windows: 0,
        }
    }

    fn row(v: serde_json::Value) -> Row {
        v.as_object().cloned().unwrap_or_default()
    }

    /// By hand: codex 5h at 100 → wait; glm no reading → measure; claude blocked by CCC →
    /// wait; mistral (no figures, snapshot only: no meter fields) → measure. Order: wait
    /// (claude E 0.5 before codex E 0.2), then measure (glm E 0.1, then mistral without E).
    #[test]
    fn verdicts_and_ranking() {
        let snaps = [
            row(
                json!({"provider": "codex", "captured_at": "1", "parsed": {"weekly_pct": 40, "fiveh_pct": 100}}),
            ),
            row(json!({"provider": "mistral", "captured_at": "1", "parsed": {"weekly_pct": 10}})),
        ];
        let ccc = [CccUse {
            provider: "anthropic".into(),
            model: "m".into(),
            weekly_pp: 10.0,
            rolling_pp: 5.0,
            block: true,
        }];
        let figs = [fig("claude", Some(0.5)), fig("codex", Some(0.2)), fig("glm", Some(0.1))];
        let a = advise(&figs, &snaps, Some(&ccc));
        let got: Vec<(&str, Verdict)> =
            a.iter().map(|a| (a.provider.as_str(), a.verdict)).collect();
        assert_eq!(
            got,
            [
                ("claude", Verdict::Wait),
                ("codex", Verdict::Wait),
                ("glm", Verdict::Measure),
                ("mistral", Verdict::Measure),
            ]
        );
        assert_eq!(a[1].weekly_room_pp, Some(50.0));
        assert_eq!(a[1].fiveh_room_pp, Some(0.0));
        assert!(a[0].blocked);
    }
}

mod preview_and_churn {
    use serde_json::json;

    use crate::preview::{Input, preview};
    use crate::store::load::Row;
    use crate::tracker_churn::{ChurnRecord, ledger_row, parse_numstat};

    fn row(v: serde_json::Value) -> Row {
        v.as_object().cloned().unwrap_or_default()
    }

    /// Several windows: one Outcome line each, sorted; the later row of a window wins;
    /// `quality_score` null falls back to `quality`; no Notes line (reference §7.3.4).
    #[test]
    fn several_windows_get_an_outcome_line_each() {
        let windows = [
            row(
                json!({"window": "W2", "finalized_at": "1", "quality_score": 2.25, "outcome": "fail", "notes": "x"}),
            ),
            row(
                json!({"window": "W1", "finalized_at": "2", "quality_score": null, "quality": 3, "outcome": ""}),
            ),
            row(
                json!({"window": "W2", "finalized_at": "3", "quality_score": 5, "outcome": "pass"}),
            ),
        ];
        let input = Input {
            window: None,
            windows: &windows,
            snapshots: &[],
            anomalies: &[],
            churn: &[],
            proxy: &[],
            ccusage: &[],
            providers: &[],
        };
        let p = preview(&input).unwrap_or_else(|| panic!("no preview"));
        assert_eq!(
            p.lines(),
            [
                "Windows: W1, W2",
                "Anomalies: 0 (see anomalies.jsonl)",
                "Providers:",
                "Outcome:",
                "  - W1: quality=3.0, outcome=unknown",
                "  - W2: quality=5.0, outcome=pass",
            ]
        );
    }

    #[test]
    fn numstat_counts_binary_files_and_skips_other_lines() {
        let s = parse_numstat("3\t1\ta.rs\n-\t-\timg.png\nwarning: x\n\n10\t0\tdir/b c.txt\n");
        assert_eq!((s.files_changed, s.insertions, s.deletions), (3, 13, 1));
    }

    /// Python's csv: a field with a comma or a quote is quoted, quotes doubled; CRLF.
    #[test]
    fn ledger_rows_quote_minimally() {
        let r = ChurnRecord {
            window: "W\"1".into(),
            provider: "codex".into(),
            methodology: None,
            commit_start: "a".into(),
            commit_end: "b".into(),
            files_changed: 1,
            insertions: 2,
            deletions: 5,
            net: -3,
            features: 0,
            normalized_churn: None,
            captured_at: String::new(),
            notes: String::new(),
            source: "churn",
            paths: Some(vec!["x".into(), "y".into()]),
            schema_version: "1.0.0",
            tool_version: "0.1.0",
        };
        assert_eq!(
            ledger_row(&r, "2025-10-19"),
            "2025-10-19,\"W\"\"1\",codex,,a,b,1,2,5,-3,0,,\"paths=x,y\"\r\n"
        );
    }
}
