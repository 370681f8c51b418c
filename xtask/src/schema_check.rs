//! `gen-schemas` and `check-schemas`: the committed `schemas/` match the Rust types, every CCP
//! sample validates and uses only modelled fields, and the v1 event schemas stay backward
//! compatible with the Python AgentOS v1 schemas.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

use agentos_event_schema::catalog::SchemaKind;
use agentos_event_schema::ccp::detect_kind;
use agentos_event_schema::validate::{self, Violation};
use serde_json::Value as Json;

pub use crate::legacy::{legacy_check_all, legacy_problems};

/// The command that regenerates the committed schemas.
pub const FIX_COMMAND: &str = "cargo xtask gen-schemas";

/// What `check-schemas` looks at.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// The committed schemas (`schemas/`).
    pub schemas_dir: PathBuf,
    /// Directories searched recursively for CCP samples: `*.json`, `*.jsonl` and license
    /// packs `*.pack` (`fixtures/ccp` first).
    pub ccp_dirs: Vec<PathBuf>,
    /// Base URLs of live CCCs whose `/v1/usage`, `/v1/quotas`, `/readyz`,
    /// `/v1/usage/samples`, `/v1/usage/rollups` and `/metrics` are checked.
    pub ccp_urls: Vec<String>,
    /// Do not fail on fields the types do not model.
    pub allow_unknown_fields: bool,
    /// The Python AgentOS v1 schemas (`fixtures/agentos-py/schemas-v1`).
    pub legacy_dir: PathBuf,
    /// Shown in messages instead of absolute paths under it.
    pub root: PathBuf,
}

impl CheckOptions {
    /// The default check of the repository at `root`.
    pub fn for_repo(root: &Path) -> Self {
        CheckOptions {
            schemas_dir: root.join("schemas"),
            ccp_dirs: vec![root.join("fixtures/ccp")],
            ccp_urls: Vec::new(),
            allow_unknown_fields: false,
            legacy_dir: root.join("fixtures/agentos-py/schemas-v1"),
            root: root.to_path_buf(),
        }
    }
}

/// Which of the four checks found a problem.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Section {
    /// Committed schemas differ from the generated ones.
    Drift,
    /// A CCP sample does not validate.
    Invalid,
    /// A CCP sample carries a field the types do not model.
    UnknownField,
    /// A v1 schema is no longer backward compatible with the Python schema.
    Legacy,
}

/// One problem found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Which check.
    pub section: Section,
    /// The message (may span lines, e.g. a diff).
    pub text: String,
}

/// The outcome of [`check`].
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Everything that fails the check.
    pub problems: Vec<Problem>,
    /// Samples that are not a recognised CCP document (listed, not failures).
    pub skipped: Vec<String>,
    /// CCP documents validated.
    pub documents: usize,
    /// Schemas compared.
    pub schemas: usize,
}

impl Report {
    /// No problem found.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// Problems of one section.
    pub fn section(&self, section: Section) -> impl Iterator<Item = &Problem> {
        self.problems.iter().filter(move |p| p.section == section)
    }

    /// The human report: problems grouped by check, skipped samples, what to do.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let titles = [
            (Section::Drift, "committed schemas differ from what the Rust types generate"),
            (Section::Invalid, "CCP samples that do not validate"),
            (Section::UnknownField, "CCP fields the Rust types do not model"),
            (Section::Legacy, "v1 schemas no longer compatible with the Python v1 schemas"),
        ];
        for (section, title) in titles {
            let problems: Vec<_> = self.section(section).collect();
            if problems.is_empty() {
                continue;
            }
            let _ = writeln!(out, "== {title} ({}):", problems.len());
            for p in problems {
                let _ = writeln!(out, "{}", p.text.trim_end());
            }
            let hint = match section {
                Section::Drift => format!("fix: run `{FIX_COMMAND}` and commit schemas/"),
                Section::Invalid => "fix: correct the sample, or change the types in \
                    crates/event-schema to accept it, then run `cargo xtask gen-schemas`"
                    .to_owned(),
                Section::UnknownField => "fix: model the field in crates/event-schema and run \
                    `cargo xtask gen-schemas`, or pass --allow-unknown-fields"
                    .to_owned(),
                Section::Legacy => "fix: keep every Python v1 property, its type and whether it \
                    is required (additive changes only), then run `cargo xtask gen-schemas`"
                    .to_owned(),
            };
            let _ = writeln!(out, "{hint}\n");
        }
        for s in &self.skipped {
            let _ = writeln!(out, "skipped (not a recognised CCP document): {s}");
        }
        let verdict = if self.is_ok() { "ok" } else { "FAILED" };
        let _ = writeln!(
            out,
            "check-schemas: {verdict}: {} schemas, {} CCP documents, {} problems, {} skipped",
            self.schemas,
            self.documents,
            self.problems.len(),
            self.skipped.len()
        );
        out
    }
}

/// Every schema as it should be committed: path under `schemas/` → text.
pub fn generated() -> BTreeMap<String, String> {
    SchemaKind::ALL.iter().map(|k| (k.file().to_owned(), k.rendered())).collect()
}

/// Write every schema under `schemas_dir` and remove `*.schema.json` files no type generates.
/// Returns the paths written and removed (relative to `schemas_dir`).
pub fn gen_schemas(schemas_dir: &Path) -> std::io::Result<(Vec<String>, Vec<String>)> {
    let wanted = generated();
    let mut written = Vec::new();
    for (rel, text) in &wanted {
        let path = schemas_dir.join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)?;
        }
        if fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
            fs::write(&path, text)?;
            written.push(rel.clone());
        }
    }
    let mut removed = Vec::new();
    for rel in committed_schema_files(schemas_dir) {
        if !wanted.contains_key(&rel) {
            fs::remove_file(schemas_dir.join(&rel))?;
            removed.push(rel);
        }
    }
    Ok((written, removed))
}

/// `*.schema.json` files under `dir`, relative, `/`-separated, sorted.
fn committed_schema_files(dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    for path in walk(dir) {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if name.ends_with(".schema.json")
            && let Ok(rel) = path.strip_prefix(dir)
        {
            let parts: Vec<_> = rel.components().map(|c| c.as_os_str().to_string_lossy()).collect();
            files.push(parts.join("/"));
        }
    }
    files.sort();
    files
}

/// Every file under `dir`, recursively, sorted; unreadable directories are skipped.
fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// Run all four checks.
pub fn check(opts: &CheckOptions) -> Report {
    let mut report = Report { schemas: SchemaKind::ALL.len(), ..Report::default() };
    report.problems.extend(drift(&opts.schemas_dir, &opts.root));
    for dir in &opts.ccp_dirs {
        if !dir.is_dir() {
            report.problems.push(Problem {
                section: Section::Invalid,
                text: format!("{}: not a directory", shown(dir, &opts.root)),
            });
            continue;
        }
        for path in walk(dir) {
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or_default();
            if ext == "json" || ext == "jsonl" || ext == "pack" {
                check_sample_file(&path, &shown(&path, &opts.root), opts, &mut report);
            }
        }
    }
    for url in &opts.ccp_urls {
        check_url(url, opts, &mut report);
    }
    report.problems.extend(legacy_check_all(&opts.legacy_dir, &opts.root));
    report
}

pub(crate) fn shown(path: &Path, root: &Path) -> String {
    path.strip_prefix(root).unwrap_or(path).display().to_string()
}

/// Committed vs generated: missing, different (with a diff) and stale files.
pub fn drift(schemas_dir: &Path, root: &Path) -> Vec<Problem> {
    let mut problems = Vec::new();
    let dir = shown(schemas_dir, root);
    let wanted = generated();
    for (rel, text) in &wanted {
        let problem = match fs::read_to_string(schemas_dir.join(rel)) {
            Err(_) => Some(format!("{dir}/{rel}: missing (the type generates it)")),
            Ok(committed) if committed != *text => Some(format!(
                "{dir}/{rel}: differs from what the Rust types generate\n--- committed {dir}/{rel}\n+++ generated\n{}",
                crate::diff::unified(&committed, text, 3)
            )),
            Ok(_) => None,
        };
        problems.extend(problem.map(|text| Problem { section: Section::Drift, text }));
    }
    for rel in committed_schema_files(schemas_dir) {
        if !wanted.contains_key(&rel) {
            problems.push(Problem {
                section: Section::Drift,
                text: format!("{dir}/{rel}: stale (no type generates it any more)"),
            });
        }
    }
    problems
}

/// Check one sample file (JSON or JSONL), adding problems and skips to `report`.
pub fn check_sample_file(path: &Path, label: &str, opts: &CheckOptions, report: &mut Report) {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            report.problems.push(Problem {
                section: Section::Invalid,
                text: format!("{label}: cannot read: {e}"),
            });
            return;
        }
    };
    let jsonl = path.extension().is_some_and(|e| e == "jsonl");
    if jsonl {
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let at = format!("{label}:{}", i + 1);
            match serde_json::from_str::<Json>(line) {
                Ok(value) => check_document(&value, opts, report, &at, |_| at.clone()),
                Err(e) => report.problems.push(Problem {
                    section: Section::Invalid,
                    text: format!("{at}: not JSON: {e}"),
                }),
            }
        }
    } else {
        match serde_json::from_str::<Json>(&text) {
            Ok(value) => check_document(&value, opts, report, label, |pointer| {
                let line = validate::line_of_pointer(&text, pointer).unwrap_or(1);
                format!("{label}:{line}")
            }),
            Err(e) => report.problems.push(Problem {
                section: Section::Invalid,
                text: format!("{label}:{}: not JSON: {e}", e.line().max(1)),
            }),
        }
    }
}

fn check_document(
    value: &Json,
    opts: &CheckOptions,
    report: &mut Report,
    skip_label: &str,
    at: impl Fn(&str) -> String,
) {
    let Some(kind) = detect_kind(value) else {
        report.skipped.push(skip_label.to_owned());
        return;
    };
    report.documents += 1;
    let render = |v: &Violation| format!("{}: {}: {}", at(&v.pointer), pointer(v), v.message);
    for v in validate::validate(kind, value) {
        report.problems.push(Problem {
            section: Section::Invalid,
            text: format!("{} (as {})", render(&v), kind.name()),
        });
    }
    if !opts.allow_unknown_fields {
        for v in validate::unknown_fields(kind, value) {
            if tolerated(kind, &v) {
                continue;
            }
            report.problems.push(Problem { section: Section::UnknownField, text: render(&v) });
        }
    }
}

/// A top-level `$schema` in CCC's own config files (CCP's shipped `quotas.example.json` has
/// one; CCP ignores it, contract B12) is not drift.
fn tolerated(kind: SchemaKind, v: &Violation) -> bool {
    kind == SchemaKind::CcpQuotasConfig && v.pointer == "/$schema"
}

fn pointer(v: &Violation) -> &str {
    if v.pointer.is_empty() { "/" } else { &v.pointer }
}

/// The JSON endpoints of a live CCC that are checked, with their schema (and `/metrics`,
/// checked against CCP's catalogue of families).
pub const CCC_ENDPOINTS: [(&str, SchemaKind); 5] = [
    ("/v1/usage", SchemaKind::CcpUsage),
    ("/v1/quotas", SchemaKind::CcpQuotas),
    ("/readyz", SchemaKind::CcpReadyz),
    ("/v1/usage/samples", SchemaKind::CcpUsageSamples),
    ("/v1/usage/rollups", SchemaKind::CcpUsageRollups),
];

/// `/metrics`: parsed, then compared with the families, types and labels CCP emits; a new
/// family or label is an unknown field, a changed type or an unparsable body is invalid.
fn check_metrics(agent: &ureq::Agent, base: &str, opts: &CheckOptions, report: &mut Report) {
    use agentos_ccc_client::api::{Exposition, MetricsDrift, metrics_drift};
    let url = format!("{}/metrics", base.trim_end_matches('/'));
    let fetched = agent.get(&url).call().map_err(|e| e.to_string()).and_then(|mut resp| {
        let status = resp.status().as_u16();
        let body = agentos_transport::read_body(&mut resp, agentos_transport::caps::METRICS)
            .map_err(|e| e.to_string())?;
        if status != 200 {
            return Err(format!("HTTP {status}"));
        }
        let body = String::from_utf8(body).map_err(|e| e.to_string())?;
        Exposition::parse(&body).map_err(|e| e.to_string())
    });
    let exposition = match fetched {
        Ok(e) => e,
        Err(e) => {
            report.problems.push(Problem {
                section: Section::Invalid,
                text: format!("{url}: cannot fetch: {e}"),
            });
            return;
        }
    };
    report.documents += 1;
    for line in &exposition.skipped {
        report.problems.push(Problem {
            section: Section::Invalid,
            text: format!("{url}:{}: {} (as prometheus)", line.line, line.reason),
        });
    }
    for d in metrics_drift(&exposition) {
        let section = match d {
            MetricsDrift::KindChanged { .. } => Section::Invalid,
            _ if opts.allow_unknown_fields => continue,
            _ => Section::UnknownField,
        };
        report.problems.push(Problem { section, text: format!("{url}: {d}") });
    }
}

fn check_url(base: &str, opts: &CheckOptions, report: &mut Report) {
    // The shared transport policy: timeouts, no redirects, no proxy from the environment.
    let agent = agentos_transport::agent(agentos_transport::Limits::default());
    for (path, kind) in CCC_ENDPOINTS {
        let url = format!("{}{path}", base.trim_end_matches('/'));
        let fetched = agent.get(&url).call().map_err(|e| e.to_string()).and_then(|mut resp| {
            let status = resp.status().as_u16();
            let body = agentos_transport::read_body(&mut resp, agentos_transport::caps::JSON)
                .map_err(|e| e.to_string())?;
            // /readyz answers 503 with a JSON body when the providers catalog is broken.
            if status >= 400 && !(path == "/readyz" && status == 503) {
                return Err(format!("HTTP {status}"));
            }
            serde_json::from_slice::<Json>(&body).map_err(|e| format!("body is not JSON: {e}"))
        });
        let value = match fetched {
            Ok(v) => v,
            // CCC without its store (`CCP_PERSIST` off) serves no samples or rollups.
            Err(e) if e == "HTTP 404" && path.starts_with("/v1/usage/") => {
                report.skipped.push(format!("{url}: HTTP 404 (CCC runs without persistence)"));
                continue;
            }
            Err(e) => {
                report.problems.push(Problem {
                    section: Section::Invalid,
                    text: format!("{url}: cannot fetch: {e}"),
                });
                continue;
            }
        };
        report.documents += 1;
        for v in validate::validate(kind, &value) {
            report.problems.push(Problem {
                section: Section::Invalid,
                text: format!("{url}: {}: {} (as {})", pointer(&v), v.message, kind.name()),
            });
        }
        if !opts.allow_unknown_fields {
            for v in validate::unknown_fields(kind, &value) {
                report.problems.push(Problem {
                    section: Section::UnknownField,
                    text: format!("{url}: {}: {}", pointer(&v), v.message),
                });
            }
        }
    }
    check_metrics(&agent, base, opts, report);
}
