//! `agentos paths` (where AgentOS reads and writes, and where each setting came from) and
//! `agentos completions <shell>` (shell completion scripts).

use std::process::ExitCode;

use agentos_ccc_client::RecorderConfig;
use agentos_licensing::{ENV_PACK_PATH, ENV_PUBKEY_B64, ENV_PUBKEYS};
use serde_json::json;

use crate::{Global, Source};

/// Arguments of `paths`.
#[derive(Debug, clap::Args)]
pub struct PathsArgs {
    /// Print JSON: each setting with its value and source (`flag`, `env`, `default`).
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `completions`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// One setting: its value and where it came from (`from`: the flag or variable, or what the
/// default is made of).
struct Setting {
    value: Option<String>,
    source: &'static str,
    from: String,
}

impl Setting {
    fn env(var: &str, value: Option<String>) -> Setting {
        Setting { value, source: "env", from: var.to_owned() }
    }
    fn default(value: Option<String>, from: &str) -> Setting {
        Setting { value, source: "default", from: from.to_owned() }
    }
    fn json(&self) -> serde_json::Value {
        json!({"value": self.value, "source": self.source, "from": self.from})
    }
    fn text(&self) -> String {
        let value = self.value.as_deref().unwrap_or("(none)");
        let why = match self.source {
            "flag" => format!("from {}", self.from),
            "env" => format!("from ${}", self.from),
            _ => format!("default: {}", self.from),
        };
        format!("{value}  ({why})")
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

pub fn paths(a: PathsArgs, g: &Global) -> anyhow::Result<ExitCode> {
    let data_dir = g.data_dir();
    let config = RecorderConfig::from_env(Some(data_dir.clone()))?;
    let data = Setting {
        value: Some(data_dir.to_string()),
        source: match g.data_dir_source {
            Source::Flag => "flag",
            Source::Env(_) => "env",
            Source::Default => "default",
        },
        from: match g.data_dir_source {
            Source::Flag => "--data-dir".to_owned(),
            Source::Env(v) => v.to_owned(),
            Source::Default if var("XDG_DATA_HOME").is_some() => "$XDG_DATA_HOME/agentos".into(),
            Source::Default if var("HOME").is_some() => "$HOME/.local/share/agentos".into(),
            Source::Default => "./.agentos (no $HOME)".to_owned(),
        },
    };
    let pack = config.license.pack_path.to_string();
    let license = match var(ENV_PACK_PATH) {
        Some(_) => Setting::env(ENV_PACK_PATH, Some(pack)),
        None => Setting::default(Some(pack), "<data dir>/license.pack"),
    };
    let bundle = match var(ENV_PUBKEYS) {
        Some(p) => Setting::env(ENV_PUBKEYS, Some(p)),
        None => Setting::default(None, "none; $AGENTOS_PUBKEYS or --pubkeys adds one"),
    };
    // The key entries themselves are public, but only whether they are set is shown.
    let env_keys = match var(ENV_PUBKEY_B64) {
        Some(v) => Setting::env(ENV_PUBKEY_B64, Some(format!("{} entries", v.split(',').count()))),
        None => Setting::default(None, "none; $CCP_LICENSE_PUBKEY_B64 adds some"),
    };
    let tier = match var("PRIVACY_TIER") {
        Some(_) => Setting::env("PRIVACY_TIER", Some(config.tier.to_string())),
        None => Setting::default(Some(config.tier.to_string()), "local"),
    };
    let base_url = match var("AGENTOS_CCC_BASE_URL") {
        Some(_) => Setting::env("AGENTOS_CCC_BASE_URL", Some(config.base_url.clone())),
        None => Setting::default(Some(config.base_url.clone()), "built in"),
    };
    // Never the key itself.
    let api_key = match config.api_key {
        Some(_) => Setting::env("CCC_API_KEY", Some("set".to_owned())),
        None => Setting::default(Some("not set".to_owned()), "none"),
    };
    let rows: [(&str, &str, &Setting); 7] = [
        ("data_dir", "data dir", &data),
        ("license_pack", "license pack", &license),
        ("pubkeys_bundle", "key bundle", &bundle),
        ("pubkeys_env", "extra keys", &env_keys),
        ("privacy_tier", "privacy tier", &tier),
        ("ccc_base_url", "CCC base URL", &base_url),
        ("ccc_api_key", "CCC API key", &api_key),
    ];
    if a.json {
        let mut v = serde_json::Map::new();
        for (key, _, s) in rows {
            v.insert(key.to_owned(), s.json());
        }
        v.insert("key_ring".to_owned(), json!("embedded `default` key + bundle + extra keys"));
        v.insert("config_file".to_owned(), json!(null));
        outln!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(ExitCode::SUCCESS);
    }
    for (_, label, s) in rows {
        outln!("{label:<13} {}", s.text());
    }
    outln!("key ring      the embedded `default` key, then the key bundle, then the extra keys");
    outln!("config        no config file: settings come from flags and environment variables");
    let files = ["events.jsonl", "windows.jsonl", "metrics_summary.json", "outbox/"];
    outln!("in the data dir: {}", files.join(", "));
    Ok(ExitCode::SUCCESS)
}

pub fn completions<C: clap::CommandFactory>(a: CompletionsArgs) -> anyhow::Result<ExitCode> {
    let mut script = Vec::new();
    clap_complete::generate(a.shell, &mut C::command(), "agentos", &mut script);
    out!("{}", String::from_utf8_lossy(&script));
    Ok(ExitCode::SUCCESS)
}
