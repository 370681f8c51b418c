//! Steps about the session recorder and privacy tiers: a fake CCC on 127.0.0.1, license packs
//! signed in the step, `agentos session …` / `upload-metrics` run with an environment that is
//! set on the child process only, and checks on what the fake CCC received and on the files in
//! the data dir.

use std::collections::BTreeMap;

use crate::steps::harness::CommandOutput;
use agentos_testkit::{RecordedRequest, Reply, TestServer};
use cucumber::gherkin::Step;
use cucumber::{given, then, when};
use serde_json::Value;

use super::AgentosWorld;

/// What the recorder steps keep between steps of one scenario.
#[derive(Debug, Default)]
pub struct RecorderState {
    /// The fake CCC, when the scenario started one.
    ccc: Option<TestServer>,
    /// Environment for every `agentos` run of the scenario (on top of a clean one).
    pub(crate) env: BTreeMap<String, String>,
    /// Every command run by these steps, with its output.
    runs: Vec<(String, CommandOutput)>,
}

impl AgentosWorld {
    /// The scenario's data dir (`<scratch>/data`).
    pub(crate) fn data_dir(&mut self) -> std::path::PathBuf {
        self.dir().join("data")
    }

    /// Run `agentos ARGS` with the scenario's environment; remember the output.
    pub(crate) fn run_recorder(&mut self, args: &[&str]) -> CommandOutput {
        let dir = self.dir();
        let data = self.data_dir();
        let mut env = self.recorder.env.clone();
        env.entry("AGENTOS_DATA_DIR".into()).or_insert_with(|| data.display().to_string());
        let env: Vec<(String, String)> = env.into_iter().collect();
        let out = crate::steps::harness::run_agentos_with_env(args, &dir, &env);
        self.recorder.runs.push((format!("agentos {}", args.join(" ")), out.clone()));
        self.last = Some(out.clone());
        out
    }

    fn ccc(&self) -> &TestServer {
        self.recorder.ccc.as_ref().expect("a previous step started the fake CCC")
    }

    /// Requests the fake CCC received that match `"METHOD /path"`.
    fn requests_to(&self, route: &str) -> Vec<RecordedRequest> {
        let (method, path) = route.split_once(' ').expect("a route is \"METHOD /path\"");
        self.ccc()
            .requests()
            .into_iter()
            .filter(|r| r.method == method && r.path.split('?').next() == Some(path))
            .collect()
    }
}

/// The doc string of a step, without the newline Gherkin keeps after the opening delimiter.
fn docstring(step: &Step) -> &str {
    let text = step.docstring.as_deref().expect("the step has a doc string");
    text.strip_prefix('\n').unwrap_or(text)
}

/// The first column of a step's table (one value per row).
fn column(step: &Step) -> Vec<String> {
    let table = step.table.as_ref().expect("the step has a table");
    table.rows.iter().filter_map(|row| row.first().cloned()).collect()
}

/// Requests as `METHOD /path` lines, each followed by its body text (for failure messages).
fn describe(reqs: &[RecordedRequest]) -> String {
    reqs.iter().map(|r| format!("{} {}\n{}\n", r.method, r.path, r.body_text())).collect()
}

fn body_json(req: &RecordedRequest) -> Value {
    serde_json::from_slice(&req.body).unwrap_or_else(|e| {
        panic!("{} {} body is not JSON ({e}):\n{}", req.method, req.path, req.body_text())
    })
}

/// Every JSON object, at any depth, whose `"type"` is `kind`.
fn objects_of_type<'a>(value: &'a Value, kind: &str, found: &mut Vec<&'a Value>) {
    match value {
        Value::Object(map) => {
            if map.get("type").and_then(Value::as_str) == Some(kind) {
                found.push(value);
            }
            map.values().for_each(|v| objects_of_type(v, kind, found));
        }
        Value::Array(items) => items.iter().for_each(|v| objects_of_type(v, kind, found)),
        _ => {}
    }
}

fn read_json(world: &mut AgentosWorld, file: &str) -> Value {
    let path = world.data_dir().join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// The number at `key`: a JSON pointer when it starts with `/`, else a top-level key.
fn number_at(value: &Value, key: &str, what: &str) -> f64 {
    let found = if key.starts_with('/') { value.pointer(key) } else { value.get(key) };
    found
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("{what} has no number {key:?}:\n{value:#}"))
}

// ---- Given -------------------------------------------------------------------------------

#[given(expr = "a fake CCC on 127.0.0.1 answering {int}")]
fn fake_ccc(world: &mut AgentosWorld, status: u16) {
    let server = TestServer::always(Reply::json(status, "{}"));
    world.recorder.env.insert("AGENTOS_CCC_BASE_URL".into(), server.url());
    world.recorder.ccc = Some(server);
}

#[given(expr = "the privacy tier is {string}")]
fn privacy_tier(world: &mut AgentosWorld, tier: String) {
    world.recorder.env.insert("PRIVACY_TIER".into(), tier);
}

/// Sign the doc string's exact bytes with an Ed25519 key derived from `kid`, write the pack
/// `{"license":<bytes>,"signature":"<b64>"}` into the scratch dir, and trust the public key
/// through `CCP_LICENSE_PUBKEY_B64` (on the child processes only).
#[given(expr = "a license pack {string} signed with key {string} over:")]
fn signed_pack(world: &mut AgentosWorld, name: String, kid: String, step: &Step) {
    let entry = super::licensing::write_signed_pack(world, &name, &kid, docstring(step).trim());
    world.trust_key(&entry);
}

#[given(expr = "the license pack {string} is installed with {string}")]
fn install_pack(world: &mut AgentosWorld, name: String, command: String) {
    let mut words = command.split_whitespace();
    assert_eq!(words.next(), Some("agentos"), "steps run only the agentos binary: {command}");
    let mut args: Vec<&str> = words.collect();
    args.push(&name);
    let out = world.run_recorder(&args);
    assert_eq!(out.code, 0, "installing {name} failed:\n{}{}", out.stdout, out.stderr);
}

#[given(expr = "LICENSE_PACK_PATH names the license pack {string}")]
fn pack_path(world: &mut AgentosWorld, name: String) {
    let path = world.dir().join(name);
    world.recorder.env.insert("LICENSE_PACK_PATH".into(), path.display().to_string());
}

// ---- When --------------------------------------------------------------------------------

#[when(expr = "I start a session for repo {string} on branch {string} at commit {string}")]
fn start_session(world: &mut AgentosWorld, repo: String, branch: String, commit: String) {
    world.run_recorder(&[
        "session",
        "start",
        "--repo-id",
        &repo,
        "--branch",
        &branch,
        "--commit",
        &commit,
    ]);
}

/// Each table row `| flag | value |` becomes `--flag value`.
#[when(expr = "I log a turn with:")]
fn log_turn(world: &mut AgentosWorld, step: &Step) {
    let table = step.table.as_ref().expect("the step has a table of flags and values");
    let mut args = vec!["session".to_owned(), "turn".to_owned()];
    for row in &table.rows {
        let [flag, value] = row.as_slice() else {
            panic!("each row is | flag | value |, not {row:?}");
        };
        args.push(format!("--{flag}"));
        args.push(value.clone());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    world.run_recorder(&args);
}

#[when(expr = "I upload the metrics")]
fn upload_metrics(world: &mut AgentosWorld) {
    world.run_recorder(&["upload-metrics"]);
}

#[when(expr = "I end the session")]
fn end_session(world: &mut AgentosWorld) {
    world.run_recorder(&["session", "end"]);
}

// ---- Then --------------------------------------------------------------------------------

#[then(expr = "every agentos command exited with code {int}")]
fn every_exit_code(world: &mut AgentosWorld, code: i32) {
    let runs = &world.recorder.runs;
    assert!(!runs.is_empty(), "no agentos command ran");
    for (command, out) in runs {
        assert_eq!(out.code, code, "{command}\nstdout:\n{}\nstderr:\n{}", out.stdout, out.stderr);
    }
}

#[then(expr = "the fake CCC accepted {int} connection(s)")]
fn connections(world: &mut AgentosWorld, count: usize) {
    let ccc = world.ccc();
    assert_eq!(ccc.connections(), count, "requests:\n{}", describe(&ccc.requests()));
}

#[then(expr = "the fake CCC received {int} {string} request(s)")]
fn request_count(world: &mut AgentosWorld, count: usize, route: String) {
    let n = world.requests_to(&route).len();
    assert_eq!(n, count, "{route} requests; all requests:\n{}", describe(&world.ccc().requests()));
}

#[then(expr = "the fake CCC received at least {int} {string} request(s)")]
fn request_count_at_least(world: &mut AgentosWorld, count: usize, route: String) {
    let n = world.requests_to(&route).len();
    assert!(
        n >= count,
        "{n} {route} requests; all requests:\n{}",
        describe(&world.ccc().requests())
    );
}

#[then(expr = "the {string} requests carry distinct {string} headers")]
fn distinct_headers(world: &mut AgentosWorld, route: String, header: String) {
    let reqs = world.requests_to(&route);
    let mut values: Vec<&str> = reqs
        .iter()
        .map(|r| r.header(&header).unwrap_or_else(|| panic!("a {route} request lacks {header}")))
        .collect();
    let total = values.len();
    values.sort_unstable();
    values.dedup();
    assert_eq!(values.len(), total, "{header} values repeat: {values:?}");
}

/// Every body sent to the route is a JSON object whose top-level keys are all in the table.
#[then(expr = "every {string} request body has only keys from:")]
fn body_keys(world: &mut AgentosWorld, route: String, step: &Step) {
    body_keys_at(world, route, String::new(), step);
}

/// In every body sent to the route, the object at the JSON pointer has only keys from the table.
#[then(expr = "in every {string} request body, {string} has only keys from:")]
fn body_keys_at(world: &mut AgentosWorld, route: String, pointer: String, step: &Step) {
    let allowed = column(step);
    let reqs = world.requests_to(&route);
    assert!(!reqs.is_empty(), "no {route} request to check");
    for req in reqs {
        let body = body_json(&req);
        let map = body
            .pointer(&pointer)
            .and_then(Value::as_object)
            .unwrap_or_else(|| panic!("{route} body has no object at {pointer:?}: {body}"));
        let extra: Vec<&String> = map.keys().filter(|k| !allowed.contains(k)).collect();
        assert!(
            extra.is_empty(),
            "{route} body has keys {extra:?} at {pointer:?} outside the allowed set:\n{body:#}"
        );
    }
}

#[then(expr = "the last {string} request body has {string} equal to {float}")]
fn last_body_number(world: &mut AgentosWorld, route: String, key: String, expected: f64) {
    let reqs = world.requests_to(&route);
    let req = reqs.last().unwrap_or_else(|| panic!("no {route} request"));
    let got = number_at(&body_json(req), &key, &route);
    assert!((got - expected).abs() < 1e-9, "{route} {key}: {got}, expected {expected}");
}

#[then(expr = "no request body contains {string}")]
fn no_body_contains(world: &mut AgentosWorld, text: String) {
    for req in world.ccc().requests() {
        assert!(
            !req.body_text().contains(&text),
            "{} {} body contains {text:?}:\n{}",
            req.method,
            req.path,
            req.body_text()
        );
    }
}

#[then(expr = "the {string} requests hold at least {int} {string} event(s)")]
fn events_sent(world: &mut AgentosWorld, route: String, count: usize, kind: String) {
    let bodies: Vec<Value> = world.requests_to(&route).iter().map(body_json).collect();
    let mut found = Vec::new();
    bodies.iter().for_each(|b| objects_of_type(b, &kind, &mut found));
    assert!(found.len() >= count, "{} {kind:?} events in {route} bodies: {bodies:#?}", found.len());
}

/// In every sent event of this type, the object under `field` has only keys from the table.
#[then(expr = "in every {string} event sent, {string} has only keys from:")]
fn event_field_keys(world: &mut AgentosWorld, kind: String, field: String, step: &Step) {
    let allowed = column(step);
    let bodies: Vec<Value> = world.ccc().requests().iter().map(body_json).collect();
    let mut found = Vec::new();
    bodies.iter().for_each(|b| objects_of_type(b, &kind, &mut found));
    assert!(!found.is_empty(), "no {kind:?} event was sent");
    for event in found {
        let Some(inner) = event.get(&field) else { continue };
        let map = inner.as_object().unwrap_or_else(|| panic!("{field} is not an object: {event}"));
        let extra: Vec<&String> = map.keys().filter(|k| !allowed.contains(k)).collect();
        assert!(extra.is_empty(), "{kind} {field} has keys {extra:?}:\n{event:#}");
    }
}

#[then(expr = "{string} in the data file {string} is {float}")]
fn data_number(world: &mut AgentosWorld, key: String, file: String, expected: f64) {
    let got = number_at(&read_json(world, &file), &key, &file);
    assert!((got - expected).abs() < 1e-9, "{file} {key}: {got}, expected {expected}");
}

#[then(expr = "{string} in the data file {string} rounded to {int} decimals is {float}")]
fn data_number_rounded(
    world: &mut AgentosWorld,
    key: String,
    file: String,
    decimals: i32,
    expected: f64,
) {
    let got = number_at(&read_json(world, &file), &key, &file);
    let scale = 10f64.powi(decimals);
    let rounded = (got * scale).round() / scale;
    assert!((rounded - expected).abs() < 1e-9, "{file} {key}: {got} rounds to {rounded}");
}

#[then(expr = "the data file {string} has {int} line(s)")]
fn data_lines(world: &mut AgentosWorld, file: String, count: usize) {
    let path = world.data_dir().join(&file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let n = text.lines().filter(|l| !l.trim().is_empty()).count();
    assert_eq!(n, count, "lines in {}:\n{text}", path.display());
}

#[then(expr = "the data file {string} holds {int} {string} event(s)")]
fn data_events(world: &mut AgentosWorld, file: String, count: usize, kind: String) {
    let path = world.data_dir().join(&file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let n = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v.get("type").and_then(Value::as_str) == Some(kind.as_str()))
        .count();
    assert_eq!(n, count, "{kind:?} events in {}:\n{text}", path.display());
}
