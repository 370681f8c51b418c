//! `agentos window advise [--json] [--no-ccc]`: the providers ranked for what to run next
//! (`agentos_tracker::advise`, the rule in docs/tracker.md), with the inputs it used and their
//! age. Advice only: nothing is written, CCC's configuration is never changed.

use std::process::ExitCode;

use agentos_event_schema::provider::{PROVIDER_ALIASES, canonical_provider, provider_for_model};
use agentos_tracker::advise::{Advice, CccUse, Reading, Verdict, WEEKLY_BUFFER_PP, advise};
use agentos_tracker::preview::ProviderFigures;
use agentos_tracker::pyfmt::fmtnum;
use agentos_tracker::store::{Fields, TrackerDir, TrackerFile};
use serde_json::{Value, json};

use super::preview::{efficiency, figures};
use super::{ccc, load_rows};
use crate::Global;
use crate::table::sanitize;

/// Options of `window advise`.
#[derive(Debug, clap::Args)]
pub struct AdviseArgs {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
    /// Do not ask CCC (snapshots only).
    #[arg(long)]
    pub no_ccc: bool,
    /// The time ages are counted to (RFC 3339; default now). For reproducible output.
    #[arg(long, hide = true, value_name = "TIME")]
    pub now: Option<jiff::Timestamp>,
}

/// The canonical provider of a CCC model: its configured provider when that is a known one,
/// else the model's provider by the event schema's table.
fn ccc_provider(m: &agentos_ccc_client::api::ModelSnapshot) -> String {
    let known = |p: &str| PROVIDER_ALIASES.iter().any(|(_, c)| *c == p);
    match m.provider.as_deref().map(canonical_provider) {
        Some(p) if known(p) => p.to_owned(),
        _ => provider_for_model(&m.model).to_owned(),
    }
}

/// `3h 5m`, `2d 4h`, `45s`; `in the future` for a time after `now`.
fn age(at: &str, now: jiff::Timestamp) -> String {
    let Ok(t) = at.parse::<jiff::Timestamp>() else { return "age unknown".to_owned() };
    let s = now.as_second() - t.as_second();
    if s < 0 {
        return "in the future".to_owned();
    }
    let (d, h, m) = (s / 86_400, s % 86_400 / 3_600, s % 3_600 / 60);
    if d > 0 {
        format!("{d}d {h}h ago")
    } else if h > 0 {
        format!("{h}h {m}m ago")
    } else if m > 0 {
        format!("{m}m ago")
    } else {
        format!("{s}s ago")
    }
}

fn pp(x: f64) -> String {
    fmtnum(x, 1)
}

fn value(a: &Advice) -> String {
    let ci = a.ci.map_or_else(|| "n/a".to_owned(), |(lo, hi)| format!("[{lo:.2}, {hi:.2}]"));
    match a.efficiency {
        Some(e) => format!("{e:.2} features/{} (ci {ci}, n={})", a.unit, a.n),
        None => format!("efficiency n/a (n={})", a.n),
    }
}

/// The advice line of one provider.
fn line(rank: usize, a: &Advice) -> String {
    let room = a.weekly_room_pp.map(|r| format!("{} pp left before the buffer", pp(r)));
    let fiveh = a.fiveh_room_pp.map(|r| format!(", 5h: {} pp left", pp(r))).unwrap_or_default();
    let why = match a.verdict {
        Verdict::Schedule => format!("{}{fiveh}", room.unwrap_or_default()),
        Verdict::Wait if a.blocked => format!("{}, blocked by CCC", room.unwrap_or_default()),
        Verdict::Wait => format!("{}, 5-hour window used up", room.unwrap_or_default()),
        Verdict::Measure => "no capacity reading".to_owned(),
        Verdict::Hold => format!(
            "weekly {} pp used: inside the buffer",
            pp(a.weekly_used_pp.unwrap_or(WEEKLY_BUFFER_PP))
        ),
    };
    format!("  {rank}. {}: {}, {why} — {}", a.provider, value(a), a.verdict.word())
}

/// The inputs: windows, each provider's reading with its age, CCC.
fn inputs(
    windows: &[Fields],
    advice: &[Advice],
    o: Option<&ccc::Overlay>,
    now: jiff::Timestamp,
) -> Vec<String> {
    let mut out = vec![format!("Inputs (as of {now}):")];
    let latest = windows
        .iter()
        .filter_map(|r| r.get("finalized_at").and_then(Value::as_str))
        .max()
        .unwrap_or("");
    out.push(format!(
        "  - windows: {} finalized{}",
        windows.len(),
        if latest.is_empty() {
            String::new()
        } else {
            format!(", latest {latest} ({})", age(latest, now))
        }
    ));
    for a in advice {
        let used = |w: Option<f64>, f: Option<f64>| {
            let f = f.map(|f| format!(", 5h {} pp", pp(f))).unwrap_or_default();
            w.map(|w| format!(": weekly {} pp{f}", pp(w))).unwrap_or_default()
        };
        let what = match &a.reading {
            Reading::Snapshot { window, phase, captured_at } => format!(
                "snapshot {window} {phase} of {captured_at} ({}){}",
                age(captured_at, now),
                used(a.weekly_used_pp, a.fiveh_used_pp)
            ),
            Reading::Ccc { models } => format!(
                "CCC now ({}){}",
                models.join(", "),
                used(a.weekly_used_pp, a.fiveh_used_pp)
            ),
            Reading::None => "no snapshot with a weekly reading, no CCC model".to_owned(),
        };
        out.push(format!("  - {}: {what}", a.provider));
    }
    match o {
        None => out.push("  - CCC: not asked".to_owned()),
        Some(o) => match &o.error {
            Some(_) => out.extend(ccc::lines(o).into_iter().map(|l| format!("  - {l}"))),
            None => out.push(format!(
                "  - CCC at {}: {} models, asked {}",
                o.base_url,
                o.models.len(),
                o.asked_at
            )),
        },
    }
    out
}

pub fn run(a: &AdviseArgs, dir: &TrackerDir, g: &Global) -> anyhow::Result<ExitCode> {
    let now = a.now.unwrap_or_else(jiff::Timestamp::now);
    let mut diags = Vec::new();
    let windows = load_rows(dir, TrackerFile::Windows, None, &mut diags)?;
    let snapshots = load_rows(dir, TrackerFile::Snapshots, None, &mut diags)?;
    let glm = load_rows(dir, TrackerFile::GlmCounts, None, &mut diags)?;
    let figs: Vec<ProviderFigures> =
        efficiency(&windows, &glm, &mut diags).iter().map(figures).collect();
    let overlay = (!a.no_ccc).then(|| ccc::read(&g.data_dir(), g.cleartext()));
    let uses: Option<Vec<CccUse>> = overlay.as_ref().filter(|o| o.error.is_none()).map(|o| {
        o.models
            .iter()
            .map(|m| CccUse {
                provider: ccc_provider(m),
                model: m.model.clone(),
                weekly_pp: 100.0 * m.weekly_pct,
                rolling_pp: 100.0 * m.rolling_pct,
                block: m.flags.block,
            })
            .collect()
    });
    let advice = advise(&figs, &snapshots, uses.as_deref());
    if a.json {
        let doc = json!({
            "as_of": now.to_string(),
            "weekly_buffer_pp": WEEKLY_BUFFER_PP,
            "windows": windows.len(),
            "advice": advice,
            "ccc": overlay,
            "diagnostics": diags,
        });
        outln!("{}", serde_json::to_string_pretty(&doc)?);
        return Ok(ExitCode::SUCCESS);
    }
    for l in inputs(&windows, &advice, overlay.as_ref(), now) {
        outln!("{}", sanitize(&l, usize::MAX));
    }
    outln!(
        "Advice (10-point weekly buffer from {WEEKLY_BUFFER_PP} pp; advice only, CCC's configuration is not changed):"
    );
    if advice.is_empty() {
        outln!("  no provider measured yet: no finalized window and no snapshot");
    }
    for (i, a) in advice.iter().enumerate() {
        outln!("{}", sanitize(&line(i + 1, a), usize::MAX));
    }
    Ok(ExitCode::SUCCESS)
}
