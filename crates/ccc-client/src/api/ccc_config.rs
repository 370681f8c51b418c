//! CCC's own config files — the providers catalog (`providers.yaml`) and the quotas file
//! (`quotas.json`) — read the way CCP reads them (contract §2.4, §7, B10, B12), set next to
//! what CCC actually loaded, with the differences and suggestions ([`review`]). Nothing here
//! writes CCC's files.

use std::collections::BTreeMap;

use agentos_event_schema::ccp::{ModelQuota, QuotasConfig, QuotasResponse, UsageResponse};
use serde::{Deserialize, Serialize};

use super::client::Readiness;
use super::snapshot::WEEKLY_BUFFER_PCT;

/// A config file that cannot be read as CCP would.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The providers catalog is not YAML of the catalog's shape.
    #[error("the providers catalog is not valid YAML for CCC: {0}")]
    Providers(String),
    /// The quotas file is not JSON of the quotas shape.
    #[error("the quotas file is not valid JSON for CCC at {pointer}: {message}")]
    Quotas {
        /// JSON pointer of the failing value.
        pointer: String,
        /// What was wrong.
        message: String,
    },
}

/// `providers.yaml`: providers by name and the routes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProvidersCatalog {
    /// Providers by name.
    pub providers: BTreeMap<String, ProviderEntry>,
    /// Routes, in order.
    pub routes: Vec<RouteEntry>,
}

/// One provider of the catalog.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProviderEntry {
    /// Environment variable holding the key.
    pub key_env: String,
    /// Upstream base URL.
    pub base_url: String,
    /// `authorization` or `x-api-key`.
    pub header_mode: String,
    /// Keys per scope (environment variable names).
    pub scoped_env: BTreeMap<String, String>,
    /// Intermediary (`openrouter`, `ollama` …).
    pub via: String,
    /// Model renames.
    pub model_map: BTreeMap<String, String>,
    /// Models served.
    pub models: Vec<String>,
    /// Free text.
    pub notes: String,
}

/// One route.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RouteEntry {
    /// Model pattern (Go `path.Match` after CCP strips `/`).
    pub pattern: String,
    /// Provider name.
    pub provider: String,
    /// Optional cost limit.
    pub cost_limit: Option<f64>,
}

/// Read a providers catalog (YAML; panic-free parser, bounded by the text given).
pub fn parse_providers(text: &str) -> Result<ProvidersCatalog, ConfigError> {
    if text.trim().is_empty() {
        return Ok(ProvidersCatalog::default());
    }
    serde_saphyr::from_str::<ProvidersCatalog>(text)
        .map_err(|e| ConfigError::Providers(first_line(&e.to_string())))
}

/// Read a quotas file (JSON; unknown keys such as `$schema` are ignored, as CCP does).
pub fn parse_quotas_file(text: &str) -> Result<QuotasConfig, ConfigError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let config: QuotasConfig =
        serde_path_to_error::deserialize(&mut de).map_err(|e| ConfigError::Quotas {
            pointer: super::client::json_pointer(e.path()),
            message: e.inner().to_string(),
        })?;
    de.end().map_err(|e| ConfigError::Quotas { pointer: String::new(), message: e.to_string() })?;
    Ok(config)
}

fn first_line(s: &str) -> String {
    s.lines().find(|l| !l.trim().is_empty()).unwrap_or_default().trim().to_owned()
}

/// How much a finding matters.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Severity {
    /// CCC rejects or ignores this: it does not do what the file says.
    Problem,
    /// What CCC runs with differs from the file.
    Differs,
    /// Worth acting on.
    Suggestion,
}

/// One finding of [`review`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    /// How much it matters.
    pub severity: Severity,
    /// What it is about (`providers/local`, `routes/3`, `quotas/claude-haiku-4.5` …).
    pub subject: String,
    /// One sentence.
    pub message: String,
}

fn finding(severity: Severity, subject: impl Into<String>, message: impl Into<String>) -> Finding {
    Finding { severity, subject: subject.into(), message: message.into() }
}

/// What [`review`] looks at; any part may be missing.
#[derive(Clone, Copy, Debug, Default)]
pub struct ConfigInputs<'a> {
    /// The providers catalog file, parsed.
    pub providers: Option<&'a ProvidersCatalog>,
    /// The quotas file, parsed, and its path.
    pub quotas_file: Option<(&'a QuotasConfig, &'a str)>,
    /// `/v1/quotas`.
    pub loaded: Option<&'a QuotasResponse>,
    /// `/v1/usage`.
    pub usage: Option<&'a UsageResponse>,
    /// `/readyz`.
    pub readyz: Option<&'a Readiness>,
}

/// Everything worth saying about CCC's config: catalog problems CCP's validation would reject
/// (then `/readyz` answers 503 and the catalog is empty), routes that can never match (CCP
/// strips `/` from patterns, B10), quotas CCP ignores, differences between the quotas file
/// and what CCC loaded, and models at the weekly buffer or without a quota.
pub fn review(inputs: &ConfigInputs<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    if let Some(cat) = inputs.providers {
        review_catalog(cat, &mut out);
    }
    if let Some(r) = inputs.readyz
        && r.catalog_broken()
    {
        out.push(finding(
            Severity::Problem,
            "providers",
            format!(
                "CCC could not load its providers catalog ({}); it runs with an empty catalog",
                r.body.error.as_deref().unwrap_or("no reason given")
            ),
        ));
    }
    if let Some((file, path)) = inputs.quotas_file {
        review_quotas(file, &mut out);
        if let Some(loaded) = inputs.loaded {
            compare_quotas(file, path, loaded, &mut out);
        }
    } else if let Some(loaded) = inputs.loaded {
        review_quotas(&loaded.config, &mut out);
    }
    if let Some(usage) = inputs.usage {
        let quotas = inputs.loaded.map(|l| &l.config);
        for (model, view) in &usage.models {
            if view.weekly_pct >= WEEKLY_BUFFER_PCT {
                out.push(finding(
                    Severity::Suggestion,
                    format!("usage/{model}"),
                    format!(
                        "{model} is at {:.0}% of its weekly limit: keep 10 points of headroom and schedule other models",
                        view.weekly_pct * 100.0
                    ),
                ));
            }
            if let Some(q) = quotas
                && !model.is_empty()
                && !q.models.contains_key(model)
            {
                out.push(finding(
                    Severity::Suggestion,
                    format!("usage/{model}"),
                    format!("{model} has traffic but no quota: CCC neither warns nor blocks it"),
                ));
            }
        }
    }
    out.sort_by(|a, b| (a.severity, &a.subject).cmp(&(b.severity, &b.subject)));
    out
}

/// CCP's catalog validation (≥ 1 provider; `key_env` or `scoped_env`; `base_url`; header
/// mode; routes to known providers) and the routes that can never match.
fn review_catalog(cat: &ProvidersCatalog, out: &mut Vec<Finding>) {
    let reject = "CCC rejects the whole catalog (/readyz answers 503)";
    if cat.providers.is_empty() {
        out.push(finding(Severity::Problem, "providers", format!("no provider: {reject}")));
    }
    for (name, p) in &cat.providers {
        let subject = format!("providers/{name}");
        if p.key_env.trim().is_empty() && p.scoped_env.is_empty() {
            out.push(finding(
                Severity::Problem,
                &subject,
                format!("{name} has neither key_env nor scoped_env: {reject}"),
            ));
        }
        if p.base_url.trim().is_empty() {
            out.push(finding(
                Severity::Problem,
                &subject,
                format!("{name} has no base_url: {reject}"),
            ));
        }
        if !p.header_mode.is_empty()
            && !matches!(p.header_mode.as_str(), "authorization" | "x-api-key")
        {
            out.push(finding(
                Severity::Problem,
                &subject,
                format!(
                    "{name}: header_mode {:?} is neither authorization nor x-api-key: {reject}",
                    p.header_mode
                ),
            ));
        }
    }
    for (i, r) in cat.routes.iter().enumerate() {
        let subject = format!("routes/{i}");
        if !cat.providers.contains_key(&r.provider) {
            out.push(finding(
                Severity::Problem,
                &subject,
                format!(
                    "route {:?} names provider {:?}, which the catalog lacks: {reject}",
                    r.pattern, r.provider
                ),
            ));
        }
        if r.pattern.contains('/') {
            out.push(finding(
                Severity::Problem,
                &subject,
                format!(
                    "route {:?} can never match: CCC strips '/' from patterns, so these requests fall through to the policy's '*' route",
                    r.pattern
                ),
            ));
        }
    }
}

/// Quotas CCP reads differently from how they look.
fn review_quotas(q: &QuotasConfig, out: &mut Vec<Finding>) {
    if q.windows.rolling_seconds <= 0 || q.windows.weekly_seconds <= 0 {
        out.push(finding(
            Severity::Problem,
            "quotas/windows",
            "a window of 0 seconds: CCC counts nothing in it (a file without \"windows\" has none)",
        ));
    }
    for (model, m) in &q.models {
        let subject = format!("quotas/{model}");
        let kind = m.weekly_limit_type.to_ascii_lowercase();
        if kind == "hours" {
            out.push(finding(
                Severity::Suggestion,
                &subject,
                format!("{model}: an hours weekly limit is telemetry only; CCC never warns or blocks on it"),
            ));
        } else if kind != "tokens" && !m.weekly_limit_type.is_empty() {
            out.push(finding(
                Severity::Problem,
                &subject,
                format!(
                    "{model}: weekly_limit_type {:?} is neither tokens nor hours: CCC ignores the weekly limit",
                    m.weekly_limit_type
                ),
            ));
        }
        if m.warn_pct <= 0.0 {
            out.push(finding(
                Severity::Suggestion,
                &subject,
                format!("{model}: warn_pct is 0, so CCC never warns before blocking"),
            ));
        }
    }
}

fn describe(m: &ModelQuota) -> String {
    format!(
        "provider {}, rolling {} tokens, weekly {} {}, warn at {}",
        m.provider, m.rolling_tokens, m.weekly_limit_value, m.weekly_limit_type, m.warn_pct
    )
}

/// The quotas file against `/v1/quotas`.
fn compare_quotas(
    file: &QuotasConfig,
    path: &str,
    loaded: &QuotasResponse,
    out: &mut Vec<Finding>,
) {
    let pending = "CCC has not loaded this file's version (a quotas reload would)";
    if !loaded.path.is_empty() && loaded.path != path {
        out.push(finding(
            Severity::Differs,
            "quotas",
            format!("CCC loaded {} (at {}), not {path}", loaded.path, loaded.loaded),
        ));
    }
    if file.windows != loaded.config.windows {
        out.push(finding(
            Severity::Differs,
            "quotas/windows",
            format!(
                "CCC runs with windows {}/{} s, the file says {}/{} s: {pending}",
                loaded.config.windows.rolling_seconds,
                loaded.config.windows.weekly_seconds,
                file.windows.rolling_seconds,
                file.windows.weekly_seconds
            ),
        ));
    }
    for (model, m) in &file.models {
        match loaded.config.models.get(model) {
            None => out.push(finding(
                Severity::Differs,
                format!("quotas/{model}"),
                format!("{model} is in the file but not in what CCC loaded: {pending}"),
            )),
            Some(l) if l != m => out.push(finding(
                Severity::Differs,
                format!("quotas/{model}"),
                format!(
                    "CCC runs {model} with {}; the file says {}: {pending}",
                    describe(l),
                    describe(m)
                ),
            )),
            Some(_) => {}
        }
    }
    for model in loaded.config.models.keys().filter(|m| !file.models.contains_key(*m)) {
        out.push(finding(
            Severity::Differs,
            format!("quotas/{model}"),
            format!("CCC still has a quota for {model}, which the file no longer lists: {pending}"),
        ));
    }
}
