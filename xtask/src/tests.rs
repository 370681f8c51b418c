//! Unit tests of the diff and the benchmark table, and the tidy tests of the workspace.

use serde_json::json;

use crate::{bench, diff, layers, tidy};

#[test]
fn diff_of_equal_texts_is_empty() {
    assert_eq!(diff::unified("a\nb\n", "a\nb\n", 3), "");
}

#[test]
fn diff_shows_changes_with_context_and_line_numbers() {
    let old = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n";
    let new = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n10\n11\n";
    assert_eq!(
        diff::unified(old, new, 1),
        "@@ -4 +4 @@\n 4\n-5\n+five\n 6\n@@ -10 +10 @@\n 10\n+11\n"
    );
}

#[test]
fn diff_reports_a_deleted_line() {
    let d = diff::unified("{\n  \"a\": 1,\n  \"b\": 2\n}\n", "{\n  \"b\": 2\n}\n", 3);
    assert!(d.contains("-  \"a\": 1,\n"), "{d}");
    assert!(d.starts_with("@@ -1 +1 @@\n"), "{d}");
    assert!(!d.lines().skip(1).any(|l| l.starts_with('+')), "{d}");
}

#[test]
fn diff_notices_a_missing_trailing_newline() {
    assert!(!diff::unified("a\n", "a", 3).is_empty());
}

#[test]
fn bench_collects_only_json_result_lines() {
    let out = "warming up\nverify  10000 ops  1.2 us/op\n{\"bench\":\"verify\",\"ops\":10000,\"us_per_op\":1.25}\n{\"bench\": broken\n  {\"bench\":\"x\"}\n{\"other\":1}\n";
    assert_eq!(
        bench::collect(out),
        [json!({"bench": "verify", "ops": 10000, "us_per_op": 1.25}), json!({"bench": "x"})]
    );
}

#[test]
fn bench_table_aligns_columns_of_all_keys() {
    let results = [
        json!({"bench": "verify", "ops": 10000, "us_per_op": 1.25}),
        json!({"bench": "rollup", "events": 100000, "ms": 41.5}),
    ];
    assert_eq!(
        bench::table(&results),
        "bench   ops    us_per_op  events  ms\n\
         ------  -----  ---------  ------  ------\n\
         verify  10000  1.250\n\
         rollup                    100000  41.500\n"
    );
}

/// rust-analyzer's tidy rule: every Rust file opens with a `//!` line saying what it is for.
#[test]
fn every_rust_file_opens_with_a_module_doc() {
    fn walk(dir: &std::path::Path, missing: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else { return };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if name != "target" && !name.starts_with('.') {
                    walk(&path, missing);
                }
            } else if name.ends_with(".rs") {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                if !text.starts_with("//!") {
                    missing.push(path.display().to_string());
                }
            }
        }
    }
    let root = crate::repo_root();
    let mut missing = Vec::new();
    for dir in ["crates", "xtask", "tests"] {
        walk(&root.join(dir), &mut missing);
    }
    missing.sort();
    assert!(missing.is_empty(), "files without a `//!` first line: {missing:#?}");
}

#[test]
fn io_uses_finds_std_fs_and_std_net_however_they_are_named() {
    let named = |src: &str| tidy::io_uses(src);
    assert_eq!(named("use std::fs;"), ["std::fs"]);
    assert_eq!(named("let t = std::fs::read_to_string(p)?;"), ["std::fs"]);
    assert_eq!(named("use ::std::net::TcpStream;"), ["std::net"]);
    assert_eq!(named("use std::{io, fs::File};"), ["std::fs"]);
    assert_eq!(named("use std::{\n    io::{self, Read},\n    net,\n};"), ["std::net"]);
    assert_eq!(named("use std::{collections::BTreeMap, fmt};"), Vec::<String>::new());
    // Comments, other crates' `fs` modules and look-alike names are not I/O.
    assert_eq!(named("//! does no I/O: no std::fs here\nuse camino::fs;"), Vec::<String>::new());
    assert_eq!(named("use mystd::fs; use std::fsx;"), Vec::<String>::new());
}

/// `event-schema` and `privacy` do no I/O (ARCHITECTURE.md): their non-test sources name
/// neither `std::fs` nor `std::net`.
#[test]
fn io_free_crates_name_neither_std_fs_nor_std_net() {
    let violations = tidy::io_free_violations(&crate::repo_root()).unwrap();
    assert!(violations.is_empty(), "I/O in an I/O-free crate: {violations:#?}");
}

#[test]
fn privacy_decisions_finds_redaction_and_tier_comparisons_however_spaced() {
    let found = |src: &str| tidy::privacy_decisions(src);
    assert_eq!(found("let v = redact_event(&e);"), ["redact_event("]);
    assert_eq!(found("agentos_privacy::redact_event (&e)"), ["redact_event("]);
    assert_eq!(found("MinimizedPayload::from_summary(&s)"), ["MinimizedPayload::from_summary("]);
    assert_eq!(found("if tier == Tier::Full {"), ["== Tier::Full"]);
    assert_eq!(found("t.tier\n    != PrivacyTier::Local"), ["!= PrivacyTier::Local"]);
    assert_eq!(found("PrivacyTier::Minimized== t"), ["PrivacyTier::Minimized =="]);
    // Comments, look-alike names, matches and the privacy API itself are fine.
    let fine = "// tier == Tier::Full\nmy_redact_event(x); event_payload(tier, &e);\n\
        match t { Tier::Full => 1, _ => 0 }; let a = OtherTier::Full == b;";
    assert_eq!(found(fine), Vec::<String>::new());
}

/// `privacy` decides what leaves the machine (issue #9): outside it no crate redacts an
/// event, builds a summary payload or compares tiers with `==`.
#[test]
fn only_privacy_redacts_and_compares_tiers() {
    let violations = tidy::privacy_boundary_violations(&crate::repo_root()).unwrap();
    assert!(violations.is_empty(), "privacy decided outside privacy: {violations:#?}");
}

fn deps(package: &str, features: &[&str]) -> std::collections::BTreeSet<String> {
    tidy::normal_deps(&crate::repo_root(), package, features).unwrap()
}

/// Only `ccc-client`, and `licensing` with its `issuer` feature, speak HTTP: no other library
/// crate reaches `ureq` with its default features, the graph a dependent project gets.
#[test]
fn only_ccc_client_and_licensing_with_issuer_reach_an_http_client() {
    let reach = |package: &str, features: &[&str]| deps(package, features).contains("ureq");
    for package in [
        "agentos-event-schema",
        "agentos-privacy",
        "agentos-licensing",
        "agentos-rollup",
        "agentos-otel",
    ] {
        assert!(!reach(package, &[]), "{package} reaches ureq with its default features");
    }
    assert!(!reach("agentos-backfill", &[]));
    assert!(reach("agentos-licensing", &["issuer"]), "the issuer client needs ureq");
    assert!(reach("agentos-ccc-client", &[]), "ccc-client delivers the outbox over HTTP");
    // Both clients take their agent from the one transport policy.
    assert!(deps("agentos-ccc-client", &[]).contains("agentos-transport"));
    assert!(deps("agentos-licensing", &["issuer"]).contains("agentos-transport"));
    assert!(!deps("agentos-licensing", &[]).contains("agentos-transport"));
}

/// Issue #9: `ccc-client` records and uploads but computes no metrics, so it does not depend
/// on `rollup` (the window record and the summary come through its `Metrics` port); both
/// share the low-level file helpers of `fsio`, which depends on no other AgentOS crate.
#[test]
fn ccc_client_does_not_depend_on_rollup_and_fsio_is_the_bottom() {
    let client = deps("agentos-ccc-client", &[]);
    assert!(!client.contains("agentos-rollup"), "{client:?}");
    assert!(client.contains("agentos-fsio"), "{client:?}");
    assert!(deps("agentos-rollup", &[]).contains("agentos-fsio"));
    let fsio = deps("agentos-fsio", &[]);
    let ours: Vec<_> = fsio.iter().filter(|c| c.starts_with("agentos-")).collect();
    assert_eq!(ours, ["agentos-fsio"], "{fsio:?}");
}

/// The event contract alone is the types with serde + schemars: no `jsonschema` (that is the
/// `validate` feature) and at most 30 crates, the bound issue #9 set (74 before).
#[test]
fn event_schema_alone_is_the_types_with_serde_and_schemars() {
    let lean = deps("agentos-event-schema", &[]);
    assert!(!lean.contains("jsonschema"), "{lean:?}");
    assert!(lean.contains("schemars") && lean.contains("serde"), "{lean:?}");
    assert!(lean.len() <= 30, "{} crates: {lean:?}", lean.len());
    assert!(deps("agentos-event-schema", &["validate"]).contains("jsonschema"));
}

/// Issue #9: the library crates (and the CLI) are publishable with the metadata crates.io
/// shows; `testkit` and `xtask` are not.
#[test]
fn library_crates_are_publishable_and_internal_crates_are_not() {
    let problems = tidy::publish_problems(&crate::repo_root()).unwrap();
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn cli_words_finds_agentos_commands_in_string_literals_only() {
    let found = |src: &str| layers::cli_words(src);
    assert_eq!(
        found(r#"#[error("run `agentos license login` again")]"#),
        ["run `agentos license login` again"]
    );
    assert_eq!(found("let s = r#\"see agentos rollup\"#;"), ["see agentos rollup"]);
    assert_eq!(
        found(r#"format!("{} (see \"agentos report\")", n)"#),
        [r#"{} (see \"agentos report\")"#]
    );
    // Comments, the product's name and a char literal that looks like a quote are not commands.
    assert!(
        found("/// run `agentos license login`\n// \"agentos rollup\"\nlet q = '\"';").is_empty()
    );
    assert!(found(r#"const NAME: &str = "agentos Rust library"; let t = "agentos";"#).is_empty());
    assert!(found("/* \"agentos rollup\" */ let x = 1;").is_empty());
}

/// Library errors are structured and the CLI adds hints naming commands (ARCHITECTURE.md,
/// Errors): no library's non-test string literal names an `agentos` command.
#[test]
fn library_crates_name_no_cli_command() {
    let found = layers::cli_words_in_libraries(&crate::repo_root()).unwrap();
    assert!(found.is_empty(), "library texts naming an `agentos` command: {found:#?}");
}

#[test]
fn module_cycles_finds_modules_that_import_each_other() {
    let dir = std::env::temp_dir().join(format!("xtask-cycles-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("c")).unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.join(name), text).unwrap();
    write("lib.rs", "mod a; mod b; mod c; mod d; use crate::a::X;");
    write("a.rs", "//! a\nuse crate::b::Y;\n// crate::d is only mentioned\n");
    write("b.rs", "use crate::{c::Z, Error};");
    write("c/mod.rs", "mod inner;");
    write("c/inner.rs", "fn f() -> crate::a::X { todo!() }");
    write("d.rs", "use crate::a;");
    write("tests.rs", "use crate::d;");
    let cycles = layers::module_cycles(&dir).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(cycles, ["a -> b -> c -> a"]);
}

/// The licensing modules depend on each other one way only (issue #9: `verify` and
/// `revocation` used to import each other).
#[test]
fn licensing_modules_form_no_cycle() {
    let src = crate::repo_root().join("crates/licensing/src");
    let cycles = layers::module_cycles(&src).unwrap();
    assert!(cycles.is_empty(), "module cycles in licensing: {cycles:#?}");
}

#[test]
fn public_enums_reads_the_attributes_above_each_enum() {
    let src = "/// A.\n#[derive(Debug)]\n#[non_exhaustive]\npub enum A {}\n\n/// B.\n#[derive(Debug, thiserror::Error)]\npub enum B {\n}\n";
    let enums = layers::public_enums(src);
    assert_eq!(enums.len(), 2);
    assert_eq!(enums[0].0, "A");
    assert!(enums[0].1.contains("#[non_exhaustive]"));
    assert_eq!(enums[1].0, "B");
    assert!(enums[1].1.contains("thiserror::Error") && !enums[1].1.contains("non_exhaustive"));
}

/// Wire enums and error enums may grow without breaking users (issue #9, Boundaries).
#[test]
fn wire_and_error_enums_are_non_exhaustive() {
    let found = layers::exhaustive_public_enums(&crate::repo_root()).unwrap();
    assert!(found.is_empty(), "public enums that must be #[non_exhaustive]: {found:#?}");
}

#[test]
fn pub_use_names_opens_groups_and_renames() {
    let text = "pub use a::{b, c::d as e};\npub use f::{\n    g,\n    h::{i, j},\n};\nuse k::l;";
    assert_eq!(layers::pub_use_names(text), ["b", "e", "g", "i", "j"]);
}

/// Internal helpers (`write_atomic`, `read_small_file`, `hostname`, `go_os` …) are not part of
/// any library's API (issue #9, Boundaries), except those another crate still uses.
#[test]
fn library_roots_do_not_reexport_internal_helpers() {
    let found = layers::reexported_helpers(&crate::repo_root()).unwrap();
    assert!(found.is_empty(), "internal helpers re-exported: {found:#?}");
}

/// No third-party type in a public signature ties our semver to it (issue #9, Boundaries).
#[test]
fn library_public_signatures_name_no_private_dependency() {
    let found = layers::third_party_in_public_api(&crate::repo_root()).unwrap();
    assert!(found.is_empty(), "third-party types in public signatures: {found:#?}");
}
