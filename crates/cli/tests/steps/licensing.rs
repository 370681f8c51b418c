//! Steps about license packs: packs signed in the step with keys derived from a kid (trusted
//! through `CCP_LICENSE_PUBKEY_B64` or not), copies with one byte changed, packs made from CCP's
//! license vectors, `agentos` run in the scenario's environment, and checks on its JSON output
//! and entitlement listing.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use cucumber::gherkin::Step;
use cucumber::{given, then, when};
use ring::signature::{Ed25519KeyPair, KeyPair as _};
use serde_json::Value;

use super::AgentosWorld;

/// CCP's license test vectors, relative to the workspace root.
const VECTORS: &str = "fixtures/licensing/license_vectors.json";

impl AgentosWorld {
    /// Trust a `kid=<public key b64>` entry through `CCP_LICENSE_PUBKEY_B64` (child processes
    /// only), after any entry trusted before.
    pub(crate) fn trust_key(&mut self, entry: &str) {
        self.recorder
            .env
            .entry("CCP_LICENSE_PUBKEY_B64".into())
            .and_modify(|v| {
                v.push(',');
                v.push_str(entry);
            })
            .or_insert_with(|| entry.to_owned());
    }
}

/// Write `{"license":<license>,"signature":"<b64>"}` into the scratch dir as `name`, signed over
/// the exact bytes of `license` with an Ed25519 key derived from `kid`; returns that key's
/// `kid=<public key b64>` entry for `CCP_LICENSE_PUBKEY_B64` (not trusted here).
pub(crate) fn write_signed_pack(
    world: &mut AgentosWorld,
    name: &str,
    kid: &str,
    license: &str,
) -> String {
    let seed = ring::digest::digest(
        &ring::digest::SHA256,
        format!("agentos acceptance license key {kid}").as_bytes(),
    );
    let key = Ed25519KeyPair::from_seed_unchecked(seed.as_ref()).expect("a 32-byte seed");
    let signature = STANDARD.encode(key.sign(license.as_bytes()).as_ref());
    let pack = format!(r#"{{"license":{license},"signature":"{signature}"}}"#);
    std::fs::write(world.dir().join(name), pack).expect("pack written");
    format!("{kid}={}", STANDARD.encode(key.public_key().as_ref()))
}

/// The doc string of a step, without the newline Gherkin keeps after the opening delimiter.
fn docstring(step: &Step) -> &str {
    let text = step.docstring.as_deref().expect("the step has a doc string");
    text.strip_prefix('\n').unwrap_or(text)
}

fn vectors() -> Value {
    let path = crate::steps::harness::repo_root().join(VECTORS);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

fn json_str<'a>(value: &'a Value, key: &str) -> &'a str {
    value.get(key).and_then(Value::as_str).unwrap_or_else(|| panic!("no string {key:?} in {value}"))
}

// ---- Given -------------------------------------------------------------------------------

/// Like `a license pack … signed with key …`, but the key is not trusted.
#[given(expr = "a license pack {string} signed with the untrusted key {string} over:")]
fn untrusted_pack(world: &mut AgentosWorld, name: String, kid: String, step: &Step) {
    write_signed_pack(world, &name, &kid, docstring(step).trim());
}

/// Copy a pack, changing `from` (which must occur once) into `to`, which differs from it in
/// exactly one byte.
#[given(
    expr = "a copy {string} of {string} with one byte of the license changed: {string} becomes {string}"
)]
fn one_byte_changed(
    world: &mut AgentosWorld,
    copy: String,
    pack: String,
    from: String,
    to: String,
) {
    let differing = from.bytes().zip(to.bytes()).filter(|(a, b)| a != b).count();
    assert!(from.len() == to.len() && differing == 1, "{from:?} and {to:?} differ in one byte");
    let text = std::fs::read_to_string(world.dir().join(&pack)).expect("the pack was written");
    let license_end = text.find(r#","signature":"#).expect("a pack with a signature");
    assert_eq!(text.matches(&from).count(), 1, "{from:?} occurs once in {pack}:\n{text}");
    assert!(text.find(&from).is_some_and(|at| at < license_end), "{from:?} is in the license");
    std::fs::write(world.dir().join(copy), text.replacen(&from, &to, 1)).expect("copy written");
}

/// A pack `{"license":<license_bytes_utf8>,"signature":"<sig_b64>"}` from the named case of
/// CCP's license vectors, with the license bytes exactly as the vector gives them.
#[given(expr = "a pack {string} made from the CCP license vector {string}")]
fn vector_pack(world: &mut AgentosWorld, name: String, case: String) {
    let vectors = vectors();
    let found = vectors
        .get("cases")
        .and_then(Value::as_array)
        .and_then(|cases| {
            cases.iter().find(|c| c.get("name").and_then(Value::as_str) == Some(&case))
        })
        .unwrap_or_else(|| panic!("no case {case:?} in {VECTORS}"));
    let license = json_str(found, "license_bytes_utf8");
    let signature = json_str(found, "sig_b64");
    let pack = format!(r#"{{"license":{license},"signature":"{signature}"}}"#);
    std::fs::write(world.dir().join(name), pack).expect("pack written");
}

/// `CCP_LICENSE_PUBKEY_B64=<kid>=<pubkey_b64>` with the vectors' top-level `pubkey_b64`.
#[given(expr = "the CCP license vectors' public key is trusted as {string}")]
fn trust_vector_key(world: &mut AgentosWorld, kid: String) {
    let key = json_str(&vectors(), "pubkey_b64").to_owned();
    world.trust_key(&format!("{kid}={key}"));
}

// ---- When --------------------------------------------------------------------------------

/// Run `agentos …` with the environment the scenario's Given steps built (trusted keys,
/// privacy tier, `AGENTOS_DATA_DIR` = `<scratch>/data` unless set).
#[when(expr = "I run {string} in the scenario's environment")]
fn run_in_env(world: &mut AgentosWorld, command: String) {
    let mut words = command.split_whitespace();
    assert_eq!(words.next(), Some("agentos"), "steps run only the agentos binary: {command}");
    let args: Vec<&str> = words.collect();
    world.run_recorder(&args);
}

// ---- Then --------------------------------------------------------------------------------

/// Stdout is one JSON document whose value at the pointer equals the JSON literal.
#[then(regex = r#"^the JSON on stdout has "([^"]*)" = (.+)$"#)]
fn stdout_json(world: &mut AgentosWorld, pointer: String, expected: String) {
    let out = &world.last().stdout;
    let doc: Value = serde_json::from_str(out.trim())
        .unwrap_or_else(|e| panic!("stdout is not one JSON document ({e}):\n{out}"));
    let expected: Value = serde_json::from_str(&expected)
        .unwrap_or_else(|e| panic!("{expected} is not a JSON literal: {e}"));
    assert_eq!(doc.pointer(&pointer), Some(&expected), "at {pointer:?} in:\n{doc:#}");
}

/// Each row `| feature | granted or denied |` is a line `feature  granted|denied  …` on stdout.
#[then(expr = "the entitlements include:")]
fn entitlements(world: &mut AgentosWorld, step: &Step) {
    let table = step.table.as_ref().expect("the step has a table of features and answers");
    let out = &world.last().stdout;
    let listed: Vec<(&str, &str)> = out
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            Some((words.next()?, words.next()?))
        })
        .collect();
    for row in &table.rows {
        let [feature, answer] = row.as_slice() else {
            panic!("each row is | feature | granted or denied |, not {row:?}");
        };
        let got = listed.iter().find(|(f, _)| f == feature).map(|(_, a)| *a);
        assert_eq!(got, Some(answer.as_str()), "{feature} in:\n{out}");
    }
}
