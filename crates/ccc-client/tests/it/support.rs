//! Shared helpers: temp data dirs, signed license packs, configs, fake CCC requests.

use std::collections::BTreeMap;
use std::time::Duration;

use agentos_ccc_client::{
    Measurement, PrivacyTier, Recorder, RecorderConfig, SessionStart, Timeouts, TurnInput,
};
use agentos_testkit::{RecordedRequest, TestServer};
use base64::Engine;
use camino::Utf8PathBuf;
use ring::signature::{Ed25519KeyPair, KeyPair};

pub const SEED: [u8; 32] = [7u8; 32];
pub const FAR_FUTURE: i64 = 4102444800;

pub struct Env {
    _dir: tempfile::TempDir,
    pub data: Utf8PathBuf,
}

pub fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let data = Utf8PathBuf::from_path_buf(dir.path().join("data")).unwrap();
    Env { _dir: dir, data }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn pubkey_env() -> String {
    let kp = Ed25519KeyPair::from_seed_unchecked(&SEED).unwrap();
    format!("k1={}", b64(kp.public_key().as_ref()))
}

/// A pack signed with [`SEED`] under kid `k1`.
pub fn signed_pack(features: &[&str], exp: i64) -> String {
    let kp = Ed25519KeyPair::from_seed_unchecked(&SEED).unwrap();
    let features: Vec<String> = features.iter().map(|f| format!("\"{f}\"")).collect();
    let claims = format!(
        r#"{{"schema":"ccp.license.v1","plan":"pro","features":[{}],"exp":{exp},"kid":"k1"}}"#,
        features.join(",")
    );
    let sig = kp.sign(claims.as_bytes());
    format!(r#"{{"license":{claims},"signature":"{}"}}"#, b64(sig.as_ref()))
}

pub fn install_pack(env: &Env, pack: &str) {
    std::fs::create_dir_all(&env.data).unwrap();
    std::fs::write(env.data.join("license.pack"), pack).unwrap();
}

/// A config built from an injected environment: only `PRIVACY_TIER` and the base URL vary.
pub fn config(env: &Env, tier: &str, base_url: &str) -> RecorderConfig {
    let vars: BTreeMap<&str, String> = [
        ("PRIVACY_TIER", tier.to_owned()),
        ("AGENTOS_CCC_BASE_URL", base_url.to_owned()),
        ("CCC_API_KEY", "sk-test-secret".to_owned()),
        ("CCP_LICENSE_PUBKEY_B64", pubkey_env()),
    ]
    .into_iter()
    .collect();
    let cfg = RecorderConfig::from_vars(Some(env.data.clone()), &|k| vars.get(k).cloned()).unwrap();
    assert_eq!(cfg.tier.as_str(), tier);
    cfg
}

pub fn recorder(env: &Env, tier: &str, base_url: &str) -> Recorder {
    Recorder::open(config(env, tier, base_url), crate::metrics::RollupMetrics)
        .unwrap()
        .with_timeouts(Timeouts { connect: Duration::from_secs(2), total: Duration::from_secs(2) })
}

pub fn start(rec: &mut Recorder, metadata: &[(&str, &str)]) -> String {
    rec.start_session(SessionStart {
        repo_id: "acme/secret-repo".into(),
        branch: "feature/secret-branch".into(),
        commit: "c0ffee1234".into(),
        session_id: None,
        metadata: metadata.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        started_at: None,
    })
    .unwrap()
    .to_string()
}

pub fn measurement(cls: f64, impf: f64, churn: f64, delta: f64) -> Option<Measurement> {
    Some(Measurement {
        cls,
        impf,
        churn_score: churn,
        feature_delta: delta,
        errors: Vec::new(),
        extra: Default::default(),
    })
}

pub fn turn(model: &str, capacity: f64, m: Option<Measurement>) -> TurnInput {
    TurnInput {
        model: model.into(),
        subagent: "main".into(),
        tokens_in: 100,
        tokens_out: 200,
        latency_ms: 1200.0,
        capacity_used: Some(capacity),
        measurement: m,
        ..TurnInput::default()
    }
}

pub fn lines(path: &Utf8PathBuf) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

pub fn body(req: &RecordedRequest) -> serde_json::Value {
    serde_json::from_slice(&req.body).unwrap()
}

pub fn on(server: &TestServer, path: &str) -> Vec<RecordedRequest> {
    server.requests().into_iter().filter(|r| r.path == path).collect()
}

pub fn summary(env: &Env) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(env.data.join("metrics_summary.json")).unwrap())
        .unwrap()
}

pub fn close(a: &serde_json::Value, b: f64) -> bool {
    a.as_f64().is_some_and(|a| (a - b).abs() < 1e-9)
}

pub fn tier(name: &str) -> PrivacyTier {
    name.parse().unwrap()
}
