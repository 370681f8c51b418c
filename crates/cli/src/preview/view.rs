//! Drawing a [`Snapshot`]: a tab bar (Overview, Usage, Features, CCC, Alerts) and panels of
//! tables. Pure: the same frame on a terminal and on the `--once` text buffer.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Row, Table, Tabs, Wrap};

use super::snapshot::{Snapshot, Spend};
use crate::numbers::{compact, percent, percent_or_dash, usd};
use crate::table::{cell, sanitize};

/// The tabs, in order.
pub const TABS: [&str; 5] = ["Overview", "Usage", "Features", "CCC", "Alerts"];

/// Rows of a spend table kept on the overview.
const OVERVIEW_ROWS: usize = 5;

/// Height a spend table needs for `rows` rows (borders and header included).
fn spend_height(rows: usize) -> u16 {
    u16::try_from(rows.max(1) + 3).unwrap_or(u16::MAX)
}

fn spend_table<'a>(title: &'a str, rows: &'a [Spend], limit: usize) -> Table<'a> {
    let mut body: Vec<Row<'_>> = rows
        .iter()
        .take(limit)
        .map(|s| Row::new(vec![cell(&s.name), usd(s.cost_usd), compact(s.tokens as f64)]))
        .collect();
    if rows.len() > limit {
        let (c, t) =
            rows[limit..].iter().fold((0.0, 0u64), |(c, t), s| (c + s.cost_usd, t + s.tokens));
        body.push(Row::new(vec![
            format!("{} more", rows.len() - limit),
            usd(c),
            compact(t as f64),
        ]));
    }
    if body.is_empty() {
        body.push(Row::new(vec!["nothing yet".to_owned(), String::new(), String::new()]));
    }
    Table::new(body, [Constraint::Fill(1), Constraint::Length(11), Constraint::Length(8)])
        .header(
            Row::new(vec!["", "cost", "tokens"]).style(Style::new().add_modifier(Modifier::BOLD)),
        )
        .block(Block::bordered().title(title))
}

fn features_lines(s: &Snapshot, limit: usize) -> Vec<Line<'static>> {
    let f = &s.features;
    let mut lines = vec![
        Line::from(format!("shipped {} · in progress {}", f.shipped, f.in_progress)),
        Line::from(format!(
            "cost per shipped feature {}",
            f.cost_per_shipped_usd.map_or_else(|| "-".to_owned(), usd)
        )),
        Line::from(format!("unattributed cost {}", usd(f.unattributed_usd))),
        Line::from(format!(
            "churn 14d agent {} / human {}",
            percent_or_dash(f.churn_14d_agent),
            percent_or_dash(f.churn_14d_human)
        )),
    ];
    for (id, status, cost) in f.top.iter().take(limit) {
        lines.push(Line::from(format!("  {} · {status} · {}", cell(id), usd(*cost))));
    }
    lines
}

/// A line of free text from input, made terminal-safe but not cut (the panel wraps it).
fn text(s: &str) -> String {
    sanitize(s, usize::MAX)
}

fn text_lines(items: &[String], empty: &str) -> Vec<Line<'static>> {
    if items.is_empty() {
        return vec![Line::from(empty.to_owned())];
    }
    items.iter().map(|a| Line::from(text(a))).collect()
}

fn panel(lines: Vec<Line<'static>>, title: &'static str) -> Paragraph<'static> {
    Paragraph::new(lines).wrap(Wrap { trim: true }).block(Block::bordered().title(title))
}

fn boxed_height(lines: usize) -> u16 {
    u16::try_from(lines + 2).unwrap_or(u16::MAX)
}

/// Draw `s` with tab `tab` selected.
pub fn draw(frame: &mut Frame<'_>, s: &Snapshot, tab: usize) {
    let [head, tabs, body] =
        Layout::vertical([Constraint::Length(1), Constraint::Length(1), Constraint::Fill(1)])
            .areas(frame.area());
    frame.render_widget(
        Paragraph::new(format!(
            "AgentOS · today {} · week from {} ({})",
            s.today,
            s.week_start,
            cell(&s.zone)
        ))
        .style(Style::new().add_modifier(Modifier::BOLD)),
        head,
    );
    frame.render_widget(
        Tabs::new(TABS.to_vec())
            .select(tab)
            .highlight_style(Style::new().add_modifier(Modifier::REVERSED))
            .divider("|"),
        tabs,
    );
    match tab {
        1 => usage(frame, s, body),
        2 => frame.render_widget(panel(features_lines(s, usize::MAX), "Features (from git)"), body),
        3 => frame.render_widget(ccc_table(s, true), body),
        4 => frame.render_widget(panel(text_lines(&s.alerts, "no alerts"), "Alerts"), body),
        _ => overview(frame, s, body),
    }
}

fn usage(frame: &mut Frame<'_>, s: &Snapshot, area: Rect) {
    let [top, bottom] = Layout::vertical([
        Constraint::Length(spend_height(s.today_by_model.len().max(s.week_by_model.len()))),
        Constraint::Fill(1),
    ])
    .areas(area);
    let [l, r] = Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)]).areas(top);
    frame.render_widget(spend_table("Today by model", &s.today_by_model, usize::MAX), l);
    frame.render_widget(spend_table("This week by model", &s.week_by_model, usize::MAX), r);
    frame.render_widget(spend_table("This week by agent", &s.week_by_agent, usize::MAX), bottom);
}

fn overview(frame: &mut Frame<'_>, s: &Snapshot, area: Rect) {
    let shown =
        |rows: &[Spend]| rows.len().min(OVERVIEW_ROWS) + usize::from(rows.len() > OVERVIEW_ROWS);
    let models = shown(&s.today_by_model).max(shown(&s.week_by_model));
    let features = features_lines(s, 3);
    let agents_and_features = shown(&s.week_by_agent).max(features.len().saturating_sub(1));
    let alerts = text_lines(&s.alerts, "no alerts");
    let [a, b, c, d] = Layout::vertical([
        Constraint::Length(spend_height(models)),
        Constraint::Length(spend_height(agents_and_features)),
        Constraint::Length(boxed_height(alerts.len())),
        Constraint::Length(ccc_height(s)),
    ])
    .areas(area);
    let [al, ar] = Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)]).areas(a);
    frame.render_widget(spend_table("Today by model", &s.today_by_model, OVERVIEW_ROWS), al);
    frame.render_widget(spend_table("This week by model", &s.week_by_model, OVERVIEW_ROWS), ar);
    let [bl, br] = Layout::horizontal([Constraint::Fill(1), Constraint::Fill(1)]).areas(b);
    frame.render_widget(spend_table("This week by agent", &s.week_by_agent, OVERVIEW_ROWS), bl);
    frame.render_widget(panel(features, "Features (from git)"), br);
    frame.render_widget(panel(alerts, "Alerts"), c);
    frame.render_widget(ccc_table(s, false), d);
}

/// Rows of the CCC table: the header and a row per model (the status line is its bottom
/// border).
fn ccc_height(s: &Snapshot) -> u16 {
    boxed_height(if s.ccc_models.is_empty() { 0 } else { s.ccc_models.len() + 1 })
}

/// `▁▂▃▄▅▆▇█` of the values against their maximum; a blank where there is none.
fn sparkline(values: &[Option<f64>]) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let max = values.iter().flatten().copied().fold(0.0, f64::max);
    values
        .iter()
        .map(|v| match v {
            Some(v) if max > 0.0 => BARS[((v / max) * 7.0).round().clamp(0.0, 7.0) as usize],
            Some(_) => BARS[0],
            None => ' ',
        })
        .collect()
}

fn count(n: Option<u64>) -> String {
    n.map_or_else(|| "-".to_owned(), |n| n.to_string())
}

/// The CCC panel: its status line, then per model quota use (weekly marked `!` inside the
/// 10-point buffer), state, speeds, TTFT and (`full`) events and the hour-of-day profile.
fn ccc_table(s: &Snapshot, full: bool) -> Table<'_> {
    let mut header = vec!["model", "state", "rolling", "weekly", "ELR/dirty tps", "TTFT p50/p90"];
    if full {
        header.extend(["fallbacks", "429s", "idle t/o", "hour of day (ELR)"]);
    }
    let rows: Vec<Row<'_>> = s
        .ccc_models
        .iter()
        .map(|m| {
            let state = match &m.reason {
                Some(r) => format!("{} ({})", m.state, cell(r)),
                None => m.state.to_owned(),
            };
            let buffer =
                if m.weekly_pct >= agentos_ccc_client::api::WEEKLY_BUFFER_PCT { "!" } else { "" };
            let mut cells = vec![
                cell(&m.model),
                state,
                percent(m.rolling_pct),
                format!("{}{buffer}", percent(m.weekly_pct)),
                format!("{:.0}/{:.0}", m.elr_out_tps, m.dirty_out_tps),
                format!("{:.0}/{:.0} ms", m.ttft_ms_p50, m.ttft_ms_p90),
            ];
            if full {
                cells.extend([
                    count(m.fallbacks),
                    count(m.status_429),
                    count(m.idle_timeouts),
                    sparkline(&m.hod),
                ]);
            }
            Row::new(cells)
        })
        .collect();
    let mut widths = vec![
        Constraint::Fill(1),
        Constraint::Length(16),
        Constraint::Length(8),
        Constraint::Length(8),
        Constraint::Length(14),
        Constraint::Length(14),
    ];
    if full {
        widths.extend([
            Constraint::Length(9),
            Constraint::Length(5),
            Constraint::Length(8),
            Constraint::Length(24),
        ]);
    }
    let table = if rows.is_empty() {
        Table::new(Vec::<Row<'_>>::new(), widths)
    } else {
        Table::new(rows, widths)
            .header(Row::new(header).style(Style::new().add_modifier(Modifier::BOLD)))
    };
    table.block(Block::bordered().title("CCC").title_bottom(Line::from(text(&s.ccc))))
}
