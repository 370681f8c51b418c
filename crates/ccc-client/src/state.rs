//! The recorder's state files in `<data_dir>/state/`, typed once: the recorder writes them and
//! the outbox reads them through this module, so neither parses the other's files as raw JSON.
//!
//! - `active_session.json` ([`ActiveSession`]): the active session's id, start time, tier and
//!   where it began in the logs; absent when no session is active.
//! - `downgraded_sessions.json` ([`DOWNGRADED_SESSIONS`]): the ids of sessions whose tier was
//!   lowered while they were active; none of their later events leaves as full-tier.
//!
//! Both are written atomically (`fsutil::write_json_atomic`).

use std::collections::BTreeSet;

use agentos_event_schema::{SessionId, Timestamp};
use agentos_privacy::Tier;
use camino::{Utf8Path, Utf8PathBuf};
use serde::{Deserialize, Serialize};

use crate::Error;
use crate::fsutil::{read_json, write_json_atomic};

/// File name (in the recorder's `state/` directory) of the active session.
pub(crate) const ACTIVE_SESSION: &str = "active_session.json";

/// File name (in the recorder's `state/` directory) of the ids of sessions whose tier was
/// lowered while they were active: none of their later events is uploaded as full-tier.
pub const DOWNGRADED_SESSIONS: &str = "downgraded_sessions.json";

/// `state/active_session.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct ActiveSession {
    pub(crate) session_id: SessionId,
    pub(crate) started_at: Timestamp,
    /// The tier the session runs under (absent in state written by older versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) tier: Option<Tier>,
    /// Size of `events.jsonl` before the session's first event (absent in older state: the
    /// whole log is scanned).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) events_offset: Option<u64>,
    /// Size of `windows.jsonl` when the session started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) windows_offset: Option<u64>,
    /// Size of `glm_counts.jsonl` when the session started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) glm_offset: Option<u64>,
}

/// The state files of one data dir.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StateFiles {
    active: Utf8PathBuf,
    downgraded: Utf8PathBuf,
}

impl StateFiles {
    /// The state files beside `active` (normally `<data_dir>/state/active_session.json`).
    pub(crate) fn beside(active: impl Into<Utf8PathBuf>) -> Self {
        let active: Utf8PathBuf = active.into();
        let downgraded = active.with_file_name(DOWNGRADED_SESSIONS);
        StateFiles { active, downgraded }
    }

    /// The state files of `data_dir`.
    pub(crate) fn in_data_dir(data_dir: &Utf8Path) -> Self {
        Self::beside(data_dir.join("state").join(ACTIVE_SESSION))
    }

    /// `state/active_session.json`.
    pub(crate) fn active_path(&self) -> &Utf8Path {
        &self.active
    }

    /// The active session, `None` when none is.
    pub(crate) fn active(&self) -> Result<Option<ActiveSession>, Error> {
        read_json(&self.active)
    }

    /// Record `session` as the active one.
    pub(crate) fn set_active(&self, session: &ActiveSession) -> Result<(), Error> {
        write_json_atomic(&self.active, session, "active session")
    }

    /// No session is active any more (nothing to do when none was).
    pub(crate) fn clear_active(&self) -> Result<(), Error> {
        match std::fs::remove_file(&self.active) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io("remove", &self.active, e)),
        }
    }

    /// The ids of the sessions whose tier was lowered while active.
    pub(crate) fn downgraded(&self) -> Result<BTreeSet<String>, Error> {
        Ok(read_json::<BTreeSet<String>>(&self.downgraded)?.unwrap_or_default())
    }

    /// Add `session` to the downgraded sessions (written only when it is new).
    pub(crate) fn add_downgraded(&self, session: &SessionId) -> Result<(), Error> {
        let mut ids = self.downgraded()?;
        if ids.insert(session.to_string()) {
            write_json_atomic(&self.downgraded, &ids, "downgraded sessions")?;
        }
        Ok(())
    }
}
