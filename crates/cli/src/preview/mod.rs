//! `agentos preview`: a full-screen terminal view refreshed every few seconds — today's and
//! this week's cost and tokens by model and agent, features shipped and in progress with the
//! cost per shipped feature and churn, alerts, and CCC. `q` quits, `r` refreshes, arrows
//! switch tabs. `--once` prints one plain-text frame (no escape codes) and exits.

mod ccc;
mod snapshot;
mod view;

use std::io::IsTerminal as _;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use agentos_rollup::usage::{PriceBook, data_dir_prices, load_prices};
use anyhow::Context as _;
use camino::Utf8PathBuf;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind};

use crate::Global;
pub use snapshot::Snapshot;

/// Width of a `--once` frame when stdout is not a terminal.
const ONCE_WIDTH: u16 = 100;
/// Rows a `--once` frame is drawn on (trailing blank rows are dropped).
const ONCE_HEIGHT: u16 = 80;
/// The features report reads git: at most this often.
const FEATURES_EVERY: Duration = Duration::from_secs(60);

/// Options of `agentos preview`.
#[derive(Debug, clap::Args)]
pub struct PreviewArgs {
    /// Print one plain-text frame of the overview to stdout and exit.
    #[arg(long)]
    pub once: bool,
    /// Seconds between refreshes of the live view.
    #[arg(long, value_name = "SECONDS", default_value_t = 5)]
    pub interval: u64,
    /// IANA time zone of "today" and "this week" (default: the system's).
    #[arg(long, value_name = "TZ")]
    pub timezone: Option<String>,
    /// Leave out the features panel (it reads the sessions' git repositories).
    #[arg(long)]
    pub no_features: bool,
    /// events.jsonl file(s) (repeatable). Default: <data dir>/events.jsonl.
    #[arg(long = "events", value_name = "FILE")]
    pub events: Vec<Utf8PathBuf>,
}

struct Source {
    files: Vec<Utf8PathBuf>,
    book: PriceBook,
    cache: Option<Utf8PathBuf>,
    zone: Option<String>,
    cleartext: agentos_transport::Cleartext,
}

impl Source {
    /// Length and modification time of each input: unchanged means the local figures are too.
    fn stamp(&self) -> Vec<Option<(u64, std::time::SystemTime)>> {
        self.files
            .iter()
            .map(|f| std::fs::metadata(f).ok().and_then(|m| Some((m.len(), m.modified().ok()?))))
            .collect()
    }

    fn snapshot(&self, with_features: bool) -> anyhow::Result<Snapshot> {
        let mut s = snapshot::collect(
            &self.files,
            &self.book,
            self.cache.as_deref(),
            self.zone.as_deref(),
            with_features,
        )?;
        (s.ccc, s.ccc_models) = ccc::read(self.cache.as_deref(), self.cleartext);
        Ok(s)
    }
}

/// One frame of `snap` on a `width`-column text buffer, as lines without trailing blanks.
pub fn frame_text(snap: &Snapshot, tab: usize, width: u16) -> anyhow::Result<String> {
    let mut terminal = Terminal::new(TestBackend::new(width, ONCE_HEIGHT))?;
    terminal.draw(|f| view::draw(f, snap, tab))?;
    let buf = terminal.backend().buffer();
    let mut lines: Vec<String> = (0..buf.area.height)
        .map(|y| {
            let row: String = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
            row.trim_end().to_owned()
        })
        .collect();
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    Ok(lines.join("\n") + "\n")
}

pub fn run(a: PreviewArgs, g: &Global) -> anyhow::Result<ExitCode> {
    let files = crate::cmd::rollup::inputs(&a.events, g, "events.jsonl")?;
    let book = load_prices(Some(&data_dir_prices(&g.data_dir())), None)?;
    let source = Source {
        files,
        book,
        cache: a.events.is_empty().then(|| g.data_dir()),
        zone: a.timezone.clone(),
        cleartext: g.cleartext(),
    };
    if a.once {
        let snap = source.snapshot(!a.no_features)?;
        let width = if std::io::stdout().is_terminal() {
            ratatui::crossterm::terminal::size().map(|(w, _)| w).unwrap_or(ONCE_WIDTH)
        } else {
            ONCE_WIDTH
        };
        out!("{}", frame_text(&snap, 0, width)?);
        return Ok(ExitCode::SUCCESS);
    }
    anyhow::ensure!(
        std::io::stdout().is_terminal(),
        "preview needs a terminal (--once prints one frame for scripts)"
    );
    live(&source, Duration::from_secs(a.interval.max(1)), !a.no_features)
}

fn live(source: &Source, every: Duration, features: bool) -> anyhow::Result<ExitCode> {
    let mut stamp = source.stamp();
    let mut snap = source.snapshot(features).context("cannot read the data for the first frame")?;
    let mut terminal = ratatui::init();
    let mut tab = 0usize;
    let (mut refreshed, mut features_at) = (Instant::now(), Instant::now());
    let result = (|| -> anyhow::Result<()> {
        loop {
            terminal.draw(|f| view::draw(f, &snap, tab))?;
            let wait = every.saturating_sub(refreshed.elapsed());
            let mut refresh = wait.is_zero();
            if event::poll(wait)?
                && let Event::Key(k) = event::read()?
                && k.kind == KeyEventKind::Press
            {
                match k.code {
                    KeyCode::Char('q') | KeyCode::Esc => return Ok(()),
                    KeyCode::Char('r') => refresh = true,
                    KeyCode::Right | KeyCode::Tab | KeyCode::Down => {
                        tab = (tab + 1) % view::TABS.len()
                    }
                    KeyCode::Left | KeyCode::BackTab | KeyCode::Up => {
                        tab = (tab + view::TABS.len() - 1) % view::TABS.len();
                    }
                    _ => {}
                }
            }
            let with_features = features && features_at.elapsed() >= FEATURES_EVERY;
            if refresh && !with_features && source.stamp() == stamp {
                // Nothing new locally: only CCC is asked again.
                (snap.ccc, snap.ccc_models) = ccc::read(source.cache.as_deref(), source.cleartext);
                refreshed = Instant::now();
            } else if refresh {
                stamp = source.stamp();
                match source.snapshot(with_features) {
                    Ok(mut s) => {
                        if with_features {
                            features_at = Instant::now();
                        } else {
                            s.features = std::mem::take(&mut snap.features);
                        }
                        snap = s;
                    }
                    Err(e) => snap.alerts.insert(0, format!("refresh failed: {e:#}")),
                }
                refreshed = Instant::now();
            }
        }
    })();
    ratatui::restore();
    result.map(|()| ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::ccc::CccModel;
    use super::snapshot::{Features, Snapshot, Spend};
    use super::{frame_text, view};

    fn spend(name: &str, cost_usd: f64, tokens: u64) -> Spend {
        Spend { name: name.to_owned(), cost_usd, tokens }
    }

    fn fixed() -> Snapshot {
        Snapshot {
            today: "2026-11-30".to_owned(),
            week_start: "2026-11-30".to_owned(),
            zone: "UTC".to_owned(),
            today_by_model: vec![
                spend("claude-sonnet-4-5", 3.5, 1_250_000),
                spend("gpt-5-codex", 0.25, 4_000),
            ],
            week_by_model: (0..7)
                .map(|i| spend(&format!("model-{i}"), 7.0 - f64::from(i), 1_000 * (7 - i as u64)))
                .collect(),
            week_by_agent: vec![spend("claude-code", 3.5, 1_250_000), spend("codex", 0.25, 4_000)],
            features: Features {
                shipped: 2,
                in_progress: 1,
                cost_per_shipped_usd: Some(1.75),
                unattributed_usd: 0.5,
                churn_14d_agent: Some(0.25),
                churn_14d_human: None,
                top: vec![
                    ("feat/login".to_owned(), "shipped", 2.0),
                    ("search".to_owned(), "in progress", 1.5),
                ],
            },
            alerts: vec![
                "glm: 92% of weekly capacity used (stop scheduling new windows)".to_owned(),
            ],
            ccc: "CCC at http://127.0.0.1:8082: up, 1 models".to_owned(),
            ccc_models: vec![CccModel {
                model: "glm-4.6".to_owned(),
                state: "buffer",
                reason: None,
                rolling_pct: 0.4,
                weekly_pct: 0.92,
                elr_out_tps: 61.4,
                dirty_out_tps: 38.2,
                ttft_ms_p50: 850.0,
                ttft_ms_p90: 2_100.0,
                hod: (0..24).map(|h| (h % 6 != 0).then(|| f64::from(h))).collect(),
                fallbacks: Some(3),
                status_429: Some(1),
                idle_timeouts: None,
            }],
        }
    }

    #[test]
    fn the_overview_frame_on_fixed_data() {
        let text = frame_text(&fixed(), 0, 100).unwrap_or_default();
        assert!(!text.contains('\u{1b}'), "no escape codes");
        // glm at 92 % of its weekly limit: inside the 10-point buffer, marked.
        assert!(text.contains("92%!"), "{text}");
        // 7 models this week: 5 rows and "2 more" ($2 + $1, 2k + 1k tokens).
        assert!(
            text.contains("2 more") && text.contains("$3.00") && text.contains("3.0k"),
            "{text}"
        );
        insta::assert_snapshot!(text);
    }

    #[test]
    fn every_tab_draws() {
        for (tab, marker) in [
            (1, "This week by agent"),
            (2, "feat/login · shipped · $2.00"),
            (3, "61/38"),
            (4, "92%"),
        ] {
            let text = frame_text(&fixed(), tab, 100).unwrap_or_default();
            assert!(text.contains(marker), "tab {}: {text}", view::TABS[tab]);
        }
    }
}
