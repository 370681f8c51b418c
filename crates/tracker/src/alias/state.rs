//! The alias state (reference §7.5): `{state_dir}/{provider}.json` — the provider's current
//! window, its last phase and GLM's prompt baseline — loaded when readable, otherwise inferred
//! from the store; and the window-id increment.

use camino::{Utf8Path, Utf8PathBuf};
use serde::Serialize;
use serde_json::Value;

use super::AliasProvider;
use crate::store::{self, TrackerDir, TrackerFile, now_iso};

/// The first window of a fresh store.
pub const FIRST_WINDOW: &str = "W0-01";

/// One provider's alias state; serialises as the state file (keys in the reference's order).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AliasState {
    /// `codex`, `claude` or `glm`.
    pub provider: String,
    /// The window the next end/cross applies to.
    pub current_window: Option<String>,
    /// `before`, `after`, or none.
    pub last_phase: Option<String>,
    /// GLM: the prompt count at the last start (or end).
    pub baseline_prompts: Option<f64>,
    /// When it was written (Python's ISO format).
    pub updated_at: String,
}

impl AliasState {
    /// A state as of now.
    pub fn new(
        provider: AliasProvider,
        window: Option<String>,
        phase: Option<&str>,
        baseline: Option<f64>,
    ) -> AliasState {
        AliasState {
            provider: provider.as_str().to_owned(),
            current_window: window,
            last_phase: phase.map(str::to_owned),
            baseline_prompts: baseline,
            updated_at: now_iso(),
        }
    }

    /// Whether the last phase was `after`.
    pub fn after(&self) -> bool {
        self.last_phase.as_deref() == Some("after")
    }
}

/// `{state_dir}/{provider}.json`.
pub fn state_path(state_dir: &Utf8Path, provider: AliasProvider) -> Utf8PathBuf {
    state_dir.join(format!("{}.json", provider.as_str()))
}

/// The state file read leniently: `None` when it is missing, unreadable, not a JSON object,
/// or larger than 1 MiB.
pub fn load_state(state_dir: &Utf8Path, provider: AliasProvider) -> Option<AliasState> {
    let path = state_path(state_dir, provider);
    let bytes = agentos_fsio::read_bounded(&path, 1024 * 1024).ok()??;
    let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(&bytes) else { return None };
    let text = |k: &str| map.get(k).and_then(Value::as_str).map(str::to_owned);
    Some(AliasState {
        provider: provider.as_str().to_owned(),
        current_window: text("current_window").filter(|w| !w.is_empty()),
        last_phase: text("last_phase").filter(|p| !p.is_empty()),
        baseline_prompts: map.get("baseline_prompts").and_then(Value::as_f64),
        updated_at: text("updated_at").unwrap_or_default(),
    })
}

/// Write the state file atomically.
///
/// # Errors
/// A store error.
pub fn save_state(
    state_dir: &Utf8Path,
    state: &AliasState,
    provider: AliasProvider,
) -> Result<(), store::Error> {
    store::write_state_atomic(&state_path(state_dir, provider), state)
}

/// The state the store implies (§7.5): GLM — the window after the last GLM row's (or
/// `W0-01`), no phase; Codex/Claude — from the provider's last before/after snapshot: none →
/// `W0-01`; `after` → the next window, no phase; `before` → that window, `before`.
///
/// # Errors
/// A store error.
pub fn infer_state(dir: &TrackerDir, provider: AliasProvider) -> Result<AliasState, store::Error> {
    let (window, phase) = match provider {
        AliasProvider::Glm => {
            let rows = dir.load(TrackerFile::GlmCounts, None)?.rows;
            match rows.last() {
                None => (FIRST_WINDOW.to_owned(), None),
                Some(row) => (increment_window(row.str_or_empty("window")), None),
            }
        }
        AliasProvider::Codex | AliasProvider::Claude => {
            let rows = dir.load(TrackerFile::Snapshots, None)?.rows;
            let last = rows.iter().rev().find(|r| {
                r.str("provider") == Some(provider.as_str())
                    && matches!(r.str("phase"), Some("before" | "after"))
            });
            match last {
                None => (FIRST_WINDOW.to_owned(), None),
                Some(row) if row.str("phase") == Some("after") => {
                    (increment_window(row.str_or_empty("window")), None)
                }
                Some(row) => (row.str_or_empty("window").to_owned(), Some("before")),
            }
        }
    };
    Ok(AliasState::new(provider, Some(window), phase, None))
}

/// The next window id: the trailing run of ASCII digits plus one, as wide as before or
/// wider (`W0-01` → `W0-02`, `W0-09` → `W0-10`, `W0-99` → `W0-100`, `W0-1` → `W0-2`); an id
/// without trailing digits gets `-1` (`W0-AUTO` → `W0-AUTO-1`). Decimal arithmetic on the
/// text, so any length works.
pub fn increment_window(window: &str) -> String {
    let digits = window.bytes().rev().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return format!("{window}-1");
    }
    let (head, tail) = window.split_at(window.len() - digits);
    let mut out: Vec<u8> = tail.bytes().collect();
    let mut carry = true;
    for d in out.iter_mut().rev() {
        if !carry {
            break;
        }
        if *d == b'9' {
            *d = b'0';
        } else {
            *d += 1;
            carry = false;
        }
    }
    if carry {
        out.insert(0, b'1');
    }
    format!("{head}{}", String::from_utf8_lossy(&out))
}
