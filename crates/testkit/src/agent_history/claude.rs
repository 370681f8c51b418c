//! Claude Code session files: `projects/<encoded-cwd>/<session>.jsonl`, sub-agent files under
//! `<session>/subagents/`, resumed sessions, streaming responses written as several lines.

use std::io;
use std::path::PathBuf;

use serde_json::{Map, Value, json};

use super::write::{Lines, timestamp};
use super::{Agent, ClaudeFile, History, Response, Tokens};

const MODELS: &[(&str, u64)] = &[
    ("claude-sonnet-4-5-20250929", 55),
    ("claude-opus-4-5-20251101", 22),
    ("claude-haiku-4-5-20251001", 11),
    ("claude-opus-4-1-20250805", 12),
];
const HAIKU: &str = "claude-haiku-4-5-20251001";
const CWDS: &[&str] = &[
    "/home/dev/src/acme-api",
    "/home/dev/src/widgets.rs",
    "/home/dev/src/my_app",
    "/Users/sam/code/infra.tools",
    "/home/dev/src/acme-web",
    "/srv/build/agent_os",
];
// "2.0" is not semver; the others are, one with a pre-release.
const VERSIONS: &[&str] = &["2.0.14", "2.0.31", "1.0.128", "2.0", "2.0.0-beta.3"];
const BRANCHES: &[&str] = &["main", "feat/import", "fix/login-flow", ""];
const BLOCKS: &[&str] = &["thinking", "text", "tool_use"];
const PARTIAL_OUTPUT: [u64; 3] = [1, 2, 5];

/// `/home/dev/src/my_app` → `-home-dev-src-my-app` (Claude Code's project directory name).
fn encode_cwd(cwd: &str) -> String {
    cwd.chars().map(|c| if matches!(c, '/' | '.' | '_') { '-' } else { c }).collect()
}

/// The fields a file's lines share and the running parent link.
struct Ctx {
    session: String,
    cwd: String,
    version: String,
    branch: String,
    agent_id: Option<String>,
    sidechain: bool,
    parent: Option<String>,
    main_model: &'static str,
}

impl Ctx {
    /// The common fields of a line at `ms`, with a fresh `uuid` that becomes the next parent.
    fn base(&mut self, h: &mut History, ms: i64, sidechain: bool) -> Map<String, Value> {
        let quirks = h.g.opts.quirks;
        let rng = &mut h.g.rng;
        let uuid = rng.uuid();
        let mut m = Map::new();
        m.insert("parentUuid".into(), self.parent.clone().map_or(Value::Null, Value::String));
        m.insert("isSidechain".into(), Value::Bool(sidechain || self.sidechain));
        m.insert("userType".into(), "external".into());
        // Optional fields are sometimes null.
        let cwd =
            if quirks && rng.chance(3) { Value::Null } else { Value::String(self.cwd.clone()) };
        m.insert("cwd".into(), cwd);
        m.insert("sessionId".into(), self.session.clone().into());
        m.insert("version".into(), self.version.clone().into());
        m.insert("gitBranch".into(), self.branch.clone().into());
        if let Some(id) = &self.agent_id {
            m.insert("agentId".into(), id.clone().into());
        }
        m.insert("uuid".into(), uuid.clone().into());
        m.insert("timestamp".into(), timestamp(ms).into());
        self.parent = Some(uuid);
        m
    }
}

fn pick_model(h: &mut History) -> &'static str {
    let total: u64 = MODELS.iter().map(|m| m.1).sum();
    let mut x = h.g.rng.below(total);
    for (m, w) in MODELS {
        if x < *w {
            return m;
        }
        x -= w;
    }
    MODELS[0].0
}

/// A user line carrying a tool result (1–3 KB).
fn user_line(h: &mut History, ctx: &mut Ctx, out: &mut Lines, ms: i64) -> io::Result<()> {
    let mut m = ctx.base(h, ms, false);
    let len = h.g.rng.range(300, 1600) as usize;
    let id = h.g.rng.token("toolu_01", 22);
    let text = h.g.corpus.text(&mut h.g.rng, len);
    m.insert("type".into(), "user".into());
    m.insert(
        "message".into(),
        json!({"role": "user", "content": [{"tool_use_id": id, "type": "tool_result", "content": text}]}),
    );
    out.json(&Value::Object(m))
}

/// One API response at second `sec` (or a `<synthetic>` error line). Returns the truth.
fn response(
    h: &mut History,
    ctx: &mut Ctx,
    out: &mut Lines,
    sec: i64,
) -> io::Result<Option<Response>> {
    let base_ms = sec * 1000 + h.g.rng.below(100) as i64;
    if h.g.rng.chance(3) {
        let mut m = ctx.base(h, base_ms, false);
        let id = h.g.rng.uuid();
        m.insert("type".into(), "assistant".into());
        m.insert(
            "message".into(),
            json!({"id": id, "container": null, "model": "<synthetic>", "role": "assistant",
                "stop_reason": "stop_sequence", "stop_sequence": "", "type": "message",
                "usage": {"input_tokens": 0, "output_tokens": 0, "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": 0, "server_tool_use": {"web_search_requests": 0},
                    "service_tier": null,
                    "cache_creation": {"ephemeral_1h_input_tokens": 0, "ephemeral_5m_input_tokens": 0}},
                "content": [{"type": "text", "text": "API Error: 529 {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\"}}"}]}),
        );
        m.insert("isApiErrorMessage".into(), Value::Bool(true));
        out.json(&Value::Object(m))?;
        h.stats.synthetic_lines += 1;
        return Ok(None);
    }
    let rng = &mut h.g.rng;
    let side = !ctx.sidechain && rng.chance(7);
    let model: &'static str = if (ctx.sidechain || side) && rng.chance(60) {
        HAIKU
    } else if rng.chance(12) {
        pick_model(h)
    } else {
        ctx.main_model
    };
    let rng = &mut h.g.rng;
    let input = if rng.chance(8) { rng.range(1000, 30_000) } else { rng.range(1, 40) };
    let c5 = if rng.chance(20) { 0 } else { rng.range(0, 20_000) };
    let c1h = if rng.chance(30) { rng.range(100, 12_000) } else { 0 };
    let read = rng.range(0, 160_000);
    let output = rng.range(1, 3000);
    let lines = if output == 1 { 1 } else { 1 + rng.below(4) as usize };
    let msg_id = rng.token("msg_01", 22);
    let request_id =
        if h.g.opts.quirks && rng.chance(2) { None } else { Some(rng.token("req_011CU", 18)) };
    for i in 0..lines {
        let last = i + 1 == lines;
        let out_tokens = if last { output } else { PARTIAL_OUTPUT[i.min(2)].min(output - 1) };
        let mut m = ctx.base(h, base_ms + 150 * i as i64, side);
        let rng = &mut h.g.rng;
        let kind = if last && lines > 1 { "tool_use" } else { BLOCKS[rng.below(3) as usize] };
        let len = rng.range(400, 1700) as usize;
        let text = h.g.corpus.text(rng, len);
        let block = match kind {
            "thinking" => {
                json!({"type": "thinking", "thinking": text, "signature": "EqQBCkYIBxgCKkB"})
            }
            "text" => json!({"type": "text", "text": text}),
            _ => json!({"type": "tool_use", "id": format!("toolu_{i}{msg_id}"), "name": "Edit",
                "input": {"file_path": "/src/lib.rs", "old_string": text, "new_string": ""}}),
        };
        if h.g.opts.quirks && rng.chance(10) {
            m.insert("costUSD".into(), Value::Null);
        }
        m.insert(
            "message".into(),
            json!({"id": msg_id, "type": "message", "role": "assistant", "model": model,
                "content": [block], "stop_reason": if last { Value::from("tool_use") } else { Value::Null },
                "stop_sequence": null,
                "usage": {"input_tokens": input, "cache_creation_input_tokens": c5 + c1h,
                    "cache_read_input_tokens": read,
                    "cache_creation": {"ephemeral_5m_input_tokens": c5, "ephemeral_1h_input_tokens": c1h},
                    "output_tokens": out_tokens, "service_tier": "standard"}}),
        );
        if let Some(r) = &request_id {
            m.insert("requestId".into(), r.clone().into());
        }
        m.insert("type".into(), "assistant".into());
        out.json(&Value::Object(m))?;
        if !last {
            h.stats.streaming_lines += 1;
        }
    }
    Ok(Some(Response {
        agent: Agent::ClaudeCode,
        session: ctx.session.clone(),
        model: model.to_owned(),
        at: sec,
        tokens: Tokens { input, output, cache_write_5m: c5, cache_write_1h: c1h, cache_read: read },
    }))
}

/// `n` user + response pairs from `start_ms` on; returns the time of the last one.
fn exchanges(
    h: &mut History,
    ctx: &mut Ctx,
    out: &mut Lines,
    start_ms: i64,
    n: u64,
) -> io::Result<i64> {
    let mut ms = start_ms;
    for _ in 0..n {
        user_line(h, ctx, out, ms)?;
        ms += h.g.rng.range(2, 90) as i64 * 1000;
        if let Some(r) = response(h, ctx, out, ms.div_euclid(1000))? {
            h.responses.push(r);
        }
        ms = ms.div_euclid(1000) * 1000 + 1000;
    }
    Ok(ms)
}

pub(crate) fn session(h: &mut History) -> io::Result<()> {
    h.g.sessions += 1;
    let idx = h.g.sessions;
    let resume = (idx % 10 == 3).then(|| h.g.claude_files.last().cloned()).flatten();
    let rng = &mut h.g.rng;
    let (cwd, branch, version, start_ms) = match &resume {
        Some(old) => (
            old.cwd.clone(),
            old.branch.clone(),
            old.version.clone(),
            old.last_ms + rng.range(60, 7200) as i64 * 1000,
        ),
        None => (
            CWDS[rng.below(CWDS.len() as u64) as usize].to_owned(),
            BRANCHES[rng.below(BRANCHES.len() as u64) as usize].to_owned(),
            VERSIONS[idx as usize % VERSIONS.len()].to_owned(),
            (h.g.opts.start + rng.below(u64::from(h.g.opts.days.max(1)) * 86_400) as i64) * 1000,
        ),
    };
    let session_id = rng.uuid();
    let project = h.g.claude_dir.join("projects").join(encode_cwd(&cwd));
    let path = project.join(format!("{session_id}.jsonl"));
    let mut out = Lines::create(&path)?;
    if h.g.rng.chance(25) {
        let leaf = h.g.rng.uuid();
        out.json(
            &json!({"type": "summary", "summary": "Refactor the importer", "leafUuid": leaf}),
        )?;
    }
    let mut parent = None;
    if let Some(old) = &resume {
        // A resumed session's file starts with verbatim copies of the old session's lines.
        let text = std::fs::read_to_string(&old.path)?;
        let take = h.g.rng.range(2, 12) as usize;
        for line in text.split_inclusive('\n').filter(|l| !l.contains("\"summary\"")).take(take) {
            out.raw(line)?;
            h.stats.copied_lines += 1;
        }
        parent = Some(old.last_uuid.clone());
        h.stats.resumed_sessions += 1;
    }
    let main_model = pick_model(h);
    let mut ctx = Ctx {
        session: session_id.clone(),
        cwd: cwd.clone(),
        version: version.clone(),
        branch: branch.clone(),
        agent_id: None,
        sidechain: false,
        parent,
        main_model,
    };
    let n = h.g.rng.range(6, 66);
    let end_ms = exchanges(h, &mut ctx, &mut out, start_ms, n)?;
    out.finish(&mut h.stats, true)?;
    h.stats.claude_sessions += 1;
    let last_uuid = ctx.parent.clone().unwrap_or_default();
    h.g.claude_files.push(ClaudeFile {
        path,
        session: session_id.clone(),
        cwd: cwd.clone(),
        branch: branch.clone(),
        version: version.clone(),
        last_ms: end_ms,
        last_uuid,
    });
    if idx % 8 == 1 {
        for _ in 0..h.g.rng.range(1, 2) {
            let agent = format!("{:08x}", h.g.rng.next_u64() >> 32);
            let sub: PathBuf =
                project.join(&session_id).join("subagents").join(format!("agent-{agent}.jsonl"));
            let mut out = Lines::create(&sub)?;
            let mut ctx = Ctx {
                session: session_id.clone(),
                cwd: cwd.clone(),
                version: version.clone(),
                branch: branch.clone(),
                agent_id: Some(agent),
                sidechain: true,
                parent: None,
                main_model: MODELS[0].0,
            };
            let at = start_ms + h.g.rng.below((end_ms - start_ms).max(1) as u64) as i64;
            let n = h.g.rng.range(3, 15);
            exchanges(h, &mut ctx, &mut out, at, n)?;
            out.finish(&mut h.stats, true)?;
            h.stats.subagent_files += 1;
        }
    }
    Ok(())
}

pub(crate) fn append(h: &mut History, index: usize, responses: u64) -> io::Result<u64> {
    if h.g.claude_files.is_empty() {
        return Err(io::Error::new(io::ErrorKind::NotFound, "no Claude Code session written yet"));
    }
    let i = index % h.g.claude_files.len();
    let file = h.g.claude_files[i].clone();
    let mut out = Lines::append(&file.path)?;
    let mut ctx = Ctx {
        session: file.session.clone(),
        cwd: file.cwd.clone(),
        version: file.version.clone(),
        branch: file.branch.clone(),
        agent_id: None,
        sidechain: false,
        parent: Some(file.last_uuid.clone()),
        main_model: MODELS[0].0,
    };
    let start = file.last_ms + 30_000;
    let end = exchanges(h, &mut ctx, &mut out, start, responses)?;
    let bytes = out.finish(&mut h.stats, false)?;
    let f = &mut h.g.claude_files[i];
    f.last_ms = end;
    f.last_uuid = ctx.parent.unwrap_or_default();
    Ok(bytes)
}
