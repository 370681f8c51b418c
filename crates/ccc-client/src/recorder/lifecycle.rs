//! A session's life in one data dir: start, turns, end.
//!
//! One session is active per data dir at a time. Start, every turn and end take the
//! data-dir session lock (`state/session.lock`) and re-read `state/active_session.json` under
//! it, so across processes: of concurrent `start`s exactly one succeeds and the others fail
//! with [`Error::SessionActive`]; of concurrent `end`s exactly one ends the session and the
//! others find [`Error::NoActiveSession`]; no turn lands after its session's end.
//!
//! The state records where the session began in `events.jsonl`, `windows.jsonl` and
//! `glm_counts.jsonl` (byte offsets), so ending it streams only the session's own stretch of
//! the log (bounded in memory: over-long lines are skipped with a diagnostic), matching lines
//! by their parsed `session_id`.
//!
//! Nothing is recorded twice when a command fails part-way and is retried:
//! - start writes the state first and removes it again when the append fails;
//! - a turn logged with [`Recorder::log_turn_as`] under an id already in the session is not
//!   appended again (only a missing GLM count is added);
//! - end looks for this session's `session_end` and window record in the session's stretch
//!   of `events.jsonl` / `windows.jsonl`, appends each only if missing, refreshes the summary,
//!   and clears the state last.

use std::fs::{File, OpenOptions};

use agentos_event_schema::catalog::SchemaKind;
use agentos_event_schema::v1::limits;
use agentos_event_schema::v1::{
    Event, GlmCount, Session, SessionEndEvent, SessionEvent, Turn, TurnEvent, WindowRecord,
};
use agentos_event_schema::{Extra, SessionId, Timestamp, TurnId};
use agentos_privacy::{Tier, TierPolicy};
use camino::Utf8Path;
use serde_json::Value as Json;

use super::{
    Recorder, SessionReport, SessionStart, TurnInput, UploadGate, append_validated, envelope_at,
    is_glm,
};
use crate::Error;
use crate::eventlog::LogDiagnostic;
use crate::metrics::WindowFold;
use crate::state::{ActiveSession, StateFiles};

/// The lock file (in `state/`) that serialises session start, turns and end.
const SESSION_LOCK: &str = "session.lock";

/// What one pass over the session's stretch of `events.jsonl` found.
struct SessionScan {
    /// The session's turns, folded into its window by the [`crate::Metrics`] engine.
    window: Box<dyn WindowFold>,
    /// `ended_at` of a `session_end` of this session already in the log.
    prior_end: Option<Timestamp>,
    diagnostics: Vec<LogDiagnostic>,
}

/// An id as it appears inside a JSON string written by serde_json (escapes included), for
/// cheap line filtering before parsing.
fn json_text(id: &str) -> String {
    let quoted = serde_json::to_string(id).unwrap_or_default();
    quoted.get(1..quoted.len().saturating_sub(1)).unwrap_or_default().to_owned()
}

fn file_len(path: &Utf8Path) -> Result<u64, Error> {
    match std::fs::metadata(path) {
        Ok(m) => Ok(m.len()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(Error::io("stat", path, e)),
    }
}

impl Recorder {
    /// Take the data dir's session lock (released when the file is dropped).
    fn lock_session(&self) -> Result<File, Error> {
        let dir = self.config.data_dir.join("state");
        std::fs::create_dir_all(&dir).map_err(|e| Error::io("create directory", &dir, e))?;
        let path = dir.join(SESSION_LOCK);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io("open", &path, e))?;
        file.lock().map_err(|e| Error::io("lock", &path, e))?;
        Ok(file)
    }

    /// Re-read the active session (another process may have started or ended one).
    fn reload_active(&mut self) -> Result<(), Error> {
        self.active = self.state().active()?;
        Ok(())
    }

    /// Start a session: validate, remember it in `state/active_session.json`, append it to
    /// `events.jsonl`. Fails with [`Error::SessionActive`] while another session is active in
    /// this data dir (whatever its id), and with [`Error::SessionId`] for an id outside the
    /// safe alphabet ([`limits::check_session_id`]). A denied license never blocks recording.
    pub fn start_session(&mut self, start: SessionStart) -> Result<SessionId, Error> {
        if let Some(id) = &start.session_id {
            limits::check_session_id(id.as_str())?;
        }
        let _lock = self.lock_session()?;
        self.reload_active()?;
        if let Some(active) = &self.active {
            return Err(Error::SessionActive(active.session_id.to_string()));
        }
        let license_id = match self.upload_gate() {
            UploadGate::LocalOnly => "local".to_owned(),
            UploadGate::Denied { .. } => "unlicensed".to_owned(),
            UploadGate::Allowed { plan, kid, .. } => format!("{kid}:{plan}"),
        };
        let session_id = start.session_id.unwrap_or_else(SessionId::random);
        let created_at = start.started_at.unwrap_or_else(Timestamp::now);
        let event = Event::Session(SessionEvent {
            envelope: envelope_at(created_at),
            session: Session {
                session_id: session_id.clone(),
                repo_id: start.repo_id,
                branch: start.branch,
                commit: start.commit,
                license_id,
                privacy_tier: self.config.tier,
                created_at,
                metadata: start.metadata.into_iter().map(|(k, v)| (k, Json::String(v))).collect(),
                agent: None,
                cwd: None,
                cli_version: None,
                last_active_at: None,
                extra: Extra::new(),
            },
        });
        let active = ActiveSession {
            session_id: session_id.clone(),
            started_at: created_at,
            tier: Some(self.config.tier),
            events_offset: Some(file_len(self.events.path())?),
            windows_offset: Some(file_len(self.windows.path())?),
            glm_offset: Some(file_len(self.glm.path())?),
        };
        // State first: when the append then fails, the state goes again, so a retry starts
        // cleanly instead of leaving an orphaned session event behind.
        let state = self.state();
        state.set_active(&active)?;
        if let Err(e) = self.record(&event) {
            let _ = state.clear_active();
            return Err(e);
        }
        self.active = Some(active);
        Ok(session_id)
    }

    /// The tier may only go down during a session: when this recorder's tier is more private
    /// than the one the active session runs under, the session takes the lower tier from now
    /// on, and its id joins `state/downgraded_sessions.json`, so none of its later events is
    /// ever uploaded as full-tier (the outbox checks that list before anything else).
    fn honour_tier_downgrade(&mut self) -> Result<(), Error> {
        let now = self.config.tier;
        let Some(active) = self.active.as_mut() else { return Ok(()) };
        // State from older versions names no tier: such a session counts as `full`.
        let was = active.tier.unwrap_or(Tier::Full);
        if was.is_at_least_as_private_as(&now) {
            return Ok(());
        }
        let files = StateFiles::in_data_dir(&self.config.data_dir);
        files.add_downgraded(&active.session_id)?;
        active.tier = Some(now);
        files.set_active(active)
    }

    /// Log one turn of the active session under a fresh turn id. Never touches the network.
    /// Numbers outside the v1 limits are refused ([`Error::OutOfRange`]); nothing is written.
    pub fn log_turn(&mut self, input: TurnInput) -> Result<TurnId, Error> {
        self.log_turn_inner(None, input)
    }

    /// [`Recorder::log_turn`] under the caller's turn id, safe to retry: when the session
    /// already holds a turn with this id (an earlier attempt got that far), it is not
    /// appended again; only its GLM count is added if that is what was missing.
    pub fn log_turn_as(&mut self, turn_id: TurnId, input: TurnInput) -> Result<TurnId, Error> {
        self.log_turn_inner(Some(turn_id), input)
    }

    fn log_turn_inner(&mut self, given: Option<TurnId>, input: TurnInput) -> Result<TurnId, Error> {
        let _lock = self.lock_session()?;
        self.reload_active()?;
        self.honour_tier_downgrade()?;
        let active = self.active.clone().ok_or(Error::NoActiveSession)?;
        let session_id = active.session_id.clone();
        let turn_id = given.clone().unwrap_or_else(TurnId::random);
        let at = input.at.unwrap_or_else(Timestamp::now);
        let event = TurnEvent {
            envelope: envelope_at(at),
            turn: Turn {
                turn_id: turn_id.clone(),
                session_id: session_id.clone(),
                model: input.model,
                subagent: input.subagent,
                tokens_in: input.tokens_in,
                tokens_out: input.tokens_out,
                input_kind: input.input_kind,
                latency_ms: input.latency_ms,
                attribution: input.attribution,
                capacity_used: input.capacity_used,
                cache_creation_tokens: None,
                cache_creation_1h_tokens: None,
                cache_read_tokens: None,
                sidechain: None,
                responded_at: None,
                revises: None,
                extra: Extra::new(),
            },
            measurement: input.measurement,
            feature: input.feature,
            cost: input.cost,
            value: input.value,
            decision: input.decision,
            outcome: input.outcome,
        };
        let provider = agentos_event_schema::provider::provider_of_turn(
            &event.turn.model,
            event.cost.as_ref().map(|c| c.provider.as_str()),
        );
        limits::check_turn(&event, provider)?;
        let glm = is_glm(&event.turn.model).then(|| GlmCount {
            session_id,
            turn_id: turn_id.clone(),
            model: event.turn.model.clone(),
            tokens_in: event.turn.tokens_in,
            tokens_out: event.turn.tokens_out,
            ts: at,
            count_source: "trace".to_owned(),
            extra: Extra::new(),
        });
        let (turn_logged, glm_logged) = match &given {
            Some(id) => self.turn_already_logged(&active, id)?,
            None => (false, false),
        };
        if !turn_logged {
            self.record(&Event::Turn(event))?;
        }
        if let Some(glm) = glm.filter(|_| !glm_logged) {
            append_validated(&self.glm, SchemaKind::V1GlmCount, "glm count", &glm)?;
        }
        Ok(turn_id)
    }

    /// Whether the session's stretch of `events.jsonl` holds a turn `id` of this session, and
    /// whether `glm_counts.jsonl` holds its GLM count.
    fn turn_already_logged(
        &self,
        active: &ActiveSession,
        id: &TurnId,
    ) -> Result<(bool, bool), Error> {
        let sid = active.session_id.as_str();
        let tid = id.as_str();
        let mut turn = false;
        self.events.scan_from(active.events_offset.unwrap_or(0), &json_text(tid), |_, v| {
            turn |= v["type"] == "turn"
                && v["turn"]["turn_id"] == tid
                && v["turn"]["session_id"] == sid;
        })?;
        let mut glm = false;
        self.glm.scan_from(active.glm_offset.unwrap_or(0), &json_text(tid), |_, v| {
            glm |= v["turn_id"] == tid && v["session_id"] == sid;
        })?;
        Ok((turn, glm))
    }

    /// End the active session (see [`Recorder::finish_session`] for what it produces).
    pub fn end_session(&mut self, notes: Option<String>) -> Result<(), Error> {
        self.finish_session(notes).map(|_| ())
    }

    /// [`Recorder::finish_session`] for a session recorded after the fact: it ended at `at`.
    pub fn finish_session_at(
        &mut self,
        notes: Option<String>,
        at: Timestamp,
    ) -> Result<SessionReport, Error> {
        self.finish(notes, Some(at))
    }

    /// End the active session: append `session_end`, the window record to `windows.jsonl`,
    /// refresh `metrics_summary.json`, clear the state, and (minimized/full, licensed) queue
    /// the summary upload and try one bounded delivery.
    ///
    /// Happens once: under the session lock, so of concurrent calls one ends the session and
    /// the others get [`Error::NoActiveSession`]. Idempotent across a failure part-way
    /// through: the session's stretch of `events.jsonl` is searched for its `session_end`
    /// (then no second one is appended and its `ended_at` is reused) and that of
    /// `windows.jsonl` for its window record (then that record is reported); the state is
    /// cleared only after the summary is written.
    pub fn finish_session(&mut self, notes: Option<String>) -> Result<SessionReport, Error> {
        self.finish(notes, None)
    }

    fn finish(
        &mut self,
        notes: Option<String>,
        at: Option<Timestamp>,
    ) -> Result<SessionReport, Error> {
        let lock = self.lock_session()?;
        self.reload_active()?;
        self.honour_tier_downgrade()?;
        let active = self.active.clone().ok_or(Error::NoActiveSession)?;
        let scan = self.scan_session(&active)?;
        let ended_at = match scan.prior_end {
            Some(ended_at) => {
                // Ended by an interrupted earlier attempt: queue it if that attempt could not.
                if self.uploads_events() {
                    let _ = self.outbox.catch_up();
                }
                ended_at
            }
            None => {
                let ended_at = at.unwrap_or_else(Timestamp::now);
                let event = Event::SessionEnd(SessionEndEvent {
                    envelope: envelope_at(ended_at),
                    session_id: active.session_id.clone(),
                    ended_at,
                    notes: notes.unwrap_or_default(),
                });
                self.record(&event)?;
                ended_at
            }
        };
        let sid = active.session_id.as_str();
        let mut prior_window = None;
        self.windows.scan_from(active.windows_offset.unwrap_or(0), &json_text(sid), |_, v| {
            if v["session_id"] == sid
                && let Ok(w) = serde_json::from_value::<WindowRecord>(v)
            {
                prior_window = Some(w);
            }
        })?;
        let diagnostics = scan.diagnostics.clone();
        let window = match prior_window {
            Some(window) => window,
            None => {
                let window = scan.window.finish(&active.session_id, active.started_at, ended_at);
                append_validated(&self.windows, SchemaKind::V1Window, "window", &window)?;
                window
            }
        };
        let summary = self.refresh_summary()?;
        self.state().clear_active()?;
        self.active = None;
        drop(lock);
        let upload = self.queue_summary(&summary)?;
        Ok(SessionReport { session_id: active.session_id, window, summary, upload, diagnostics })
    }

    /// One streamed pass over the session's stretch of `events.jsonl`: its turns' window
    /// aggregates and any `session_end` of it already written.
    fn scan_session(&self, active: &ActiveSession) -> Result<SessionScan, Error> {
        let sid = active.session_id.as_str();
        let mut scan =
            SessionScan { window: self.metrics.window(), prior_end: None, diagnostics: Vec::new() };
        let mut unreadable = Vec::new();
        let path = self.events.path().to_owned();
        let found = self.events.scan_from(
            active.events_offset.unwrap_or(0),
            &json_text(sid),
            |offset, line| match line["type"].as_str() {
                Some("session_end") if line["session_id"] == sid => {
                    if let Ok(Event::SessionEnd(end)) = serde_json::from_value::<Event>(line) {
                        scan.prior_end = Some(end.ended_at);
                    }
                }
                Some("turn") if line["turn"]["session_id"] == sid => {
                    match serde_json::from_value::<TurnEvent>(line) {
                        Ok(turn) => scan.window.add_turn(&turn),
                        Err(e) => unreadable.push(LogDiagnostic {
                            file: path.clone(),
                            line: 0,
                            offset,
                            message: format!(
                                "turn of this session is not a valid v1 turn ({e}); left out of the window"
                            ),
                        }),
                    }
                }
                _ => {}
            },
        )?;
        scan.diagnostics = found;
        scan.diagnostics.extend(unreadable);
        scan.diagnostics.sort_by_key(|d| d.offset);
        Ok(scan)
    }
}
