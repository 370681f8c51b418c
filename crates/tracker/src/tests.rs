//! Unit tests of the Python conversions, the error list, the percentile, and the window
//! helpers: Python-style JSON, number formats, window ids and deltas.

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

mod window {
    //! The window helpers. Expected values come from Python 3 (`repr`, `json.dumps`,
    //! `hashlib.sha256`) run on the same inputs, and from the reference's rules.

    use crate::alias::increment_window;
    use crate::normalize::{Num, window_delta};
    use crate::pyfmt::{fmtnum, pct, py_list_repr};
    use crate::store::{OrderedValue, py_float_repr, snapshot_id, to_py_json, to_py_json_pretty};

    #[test]
    fn floats_are_written_as_python_repr() {
        let cases = [
            (118.0, "118.0"),
            (1e-05, "1e-05"),
            (1e16, "1e+16"),
            (0.1, "0.1"),
            (1.5e-07, "1.5e-07"),
            (123456789012345680.0, "1.2345678901234568e+17"),
            (-0.0, "-0.0"),
            (1e15, "1000000000000000.0"),
            (0.0001, "0.0001"),
            (5.5, "5.5"),
            (1463.2939497500001, "1463.2939497500001"),
            (2.5e-4, "0.00025"),
            (-3.25e20, "-3.25e+20"),
        ];
        for (v, want) in cases {
            assert_eq!(py_float_repr(v), want, "{v:e}");
        }
    }

    #[test]
    fn rows_are_laid_out_as_python_json_dumps() {
        let v = OrderedValue::parse(r#"{"a":"é╭\u001b\n\"","b":[1,2.0,null,true],"c":{},"d":[]}"#)
            .unwrap();
        let line = String::from_utf8(to_py_json(&v).unwrap()).unwrap();
        assert_eq!(line, r#"{"a": "é╭\u001b\n\"", "b": [1, 2.0, null, true], "c": {}, "d": []}"#);
        let state = OrderedValue::parse(
            r#"{"provider":"glm","current_window":"W0-02","last_phase":null,"baseline_prompts":30.5,"x":[],"y":{}}"#,
        )
        .unwrap();
        let pretty = String::from_utf8(to_py_json_pretty(&state).unwrap()).unwrap();
        assert_eq!(
            pretty,
            "{\n  \"provider\": \"glm\",\n  \"current_window\": \"W0-02\",\n  \"last_phase\": null,\n  \"baseline_prompts\": 30.5,\n  \"x\": [],\n  \"y\": {}\n}"
        );
    }

    #[test]
    fn a_python_written_row_reads_back_to_the_same_bytes() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/tracker/codex/live_cases/current_live_snapshots.jsonl"
        );
        let text = std::fs::read_to_string(path).unwrap();
        let line = text.lines().next().unwrap();
        let v = OrderedValue::parse(line).unwrap();
        assert_eq!(String::from_utf8(to_py_json(&v).unwrap()).unwrap(), line);
    }

    #[test]
    fn snapshot_id_is_sha256_of_the_nul_separated_fields() {
        // python3: hashlib.sha256(b'codex\x00W0-01\x002025-10-19T01:30:16.269901+00:00\x00pane text')
        assert_eq!(
            snapshot_id("codex", "W0-01", "2025-10-19T01:30:16.269901+00:00", "pane text"),
            "1b4bebe127acc09bd99758ce5b1f03cd0d2c01943253d57290610bc348d06f04"
        );
        assert_ne!(
            snapshot_id("codex", "W0-01", "2025-10-19T01:30:16.269901+00:00", "pane text"),
            snapshot_id("codex", "W0-0", "12025-10-19T01:30:16.269901+00:00", "pane text")
        );
    }

    #[test]
    fn window_ids_increment_as_the_reference_says() {
        assert_eq!(increment_window("W0-01"), "W0-02");
        assert_eq!(increment_window("W0-09"), "W0-10");
        assert_eq!(increment_window("W0-99"), "W0-100");
        assert_eq!(increment_window("W0-1"), "W0-2");
        assert_eq!(increment_window("W0-AUTO"), "W0-AUTO-1");
        assert_eq!(increment_window(""), "-1");
        assert_eq!(increment_window("W0-19"), "W0-20");
        // Longer than any integer type: decimal arithmetic on the text.
        assert_eq!(increment_window("W99999999999999999999999"), "W100000000000000000000000");
    }

    #[test]
    fn deltas_follow_the_wrap_rule() {
        let i = |v| Some(Num::Int(v));
        // §3.5: after ≥ before → after − before.
        assert_eq!(window_delta(i(64), i(82)), i(18));
        assert_eq!(window_delta(i(0), i(1)), i(1));
        assert_eq!(window_delta(i(5), i(5)), i(0));
        // after < before → (100 − before) + after: 82→64 reads as a reset, 18 + 64.
        assert_eq!(window_delta(i(82), i(64)), i(82));
        // A missing side → null.
        assert_eq!(window_delta(None, i(3)), None);
        assert_eq!(window_delta(i(3), None), None);
        // Floats stay floats: (100 − 90.5) + 10.0.
        assert_eq!(
            window_delta(Some(Num::Float(90.5)), Some(Num::Float(10.0))),
            Some(Num::Float(19.5))
        );
        // Out-of-range before (over 100) can go negative: (100 − 120) + 10.
        assert_eq!(window_delta(i(120), i(10)), i(-10));
        assert_eq!(window_delta(i(i64::MIN), i(i64::MAX)), None);
    }

    #[test]
    fn numbers_format_as_the_tracker_prints_them() {
        assert_eq!(fmtnum(118.0, 2), "118");
        assert_eq!(fmtnum(5.5, 2), "5.50");
        assert_eq!(fmtnum(7372723263.0, 2), "7372723263");
        assert_eq!(fmtnum(-0.0, 2), "0");
        assert_eq!(pct(Some(50.0), 1), "50%");
        assert_eq!(pct(Some(12.5), 1), "12.5%");
        assert_eq!(pct(Some(9.2), 1), "9.2%");
        assert_eq!(pct(Some(0.0), 1), "0%");
        assert_eq!(pct(None, 1), "n/a");
        assert_eq!(pct(Some(f64::NAN), 1), "n/a");
        assert_eq!(py_list_repr::<&str>(&[]), "[]");
        assert_eq!(py_list_repr(&["insufficient-data"]), "['insufficient-data']");
        assert_eq!(py_list_repr(&["a", "it's"]), r#"['a', "it's"]"#);
    }
}

mod pyfmt {
    use serde_json::json;

    use crate::pyfmt::{fmtnum, pct_json};

    /// The reference's examples (§7.7) and Python's half-even rounding of the binary value.
    #[test]
    fn fmtnum_and_pct_as_python() {
        assert_eq!(pct_json(Some(&json!(50.0)), 1), "50%");
        assert_eq!(pct_json(Some(&json!(12.5)), 1), "12.5%");
        assert_eq!(pct_json(Some(&json!(9.2)), 1), "9.2%");
        assert_eq!(pct_json(Some(&json!(0.0)), 1), "0%");
        assert_eq!(pct_json(Some(&json!(null)), 1), "n/a");
        assert_eq!(pct_json(None, 1), "n/a");
        assert_eq!(pct_json(Some(&json!("x")), 1), "n/a");
        // 49.96 is within 0.01 of 50? No (0.04): one decimal, rounded: 50.0%.
        assert_eq!(pct_json(Some(&json!(49.96)), 1), "50.0%");
        assert_eq!(pct_json(Some(&json!(49.995)), 1), "50%");
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
    use crate::store::Fields;

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

    fn row(v: serde_json::Value) -> Fields {
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
    use crate::store::Fields;
    use crate::tracker_churn::{ChurnRecord, ledger_row, parse_numstat};

    fn row(v: serde_json::Value) -> Fields {
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
        };
        assert_eq!(
            ledger_row(&r, "2025-10-19"),
            "2025-10-19,\"W\"\"1\",codex,,a,b,1,2,5,-3,0,,\"paths=x,y\"\r\n"
        );
    }
}
