//! The HTML page: one self-contained file (styles inline, charts as inline SVG, no script, a
//! Content-Security-Policy that forbids every fetch), readable in light and dark mode and on a
//! narrow screen.

use std::fmt::Write as _;

use super::escape;

/// Forbids loading anything: no script, no font, no image from anywhere; inline styles only.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

const STYLE: &str = r#"
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1f2328; --muted: #59636e;
  --grid: #d1d9e0; --card: #f6f8fa;
  --c0: #0969da; --c1: #bc4c00; --c2: #1a7f37; --c3: #8250df; --c4: #bf3989; --c5: #0a7d8c;
  --c6: #9a6700; --c7: #6e7781; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #0d1117; --fg: #e6edf3; --muted: #9198a1; --grid: #30363d; --card: #151b23;
    --c0: #4493f8; --c1: #f0883e; --c2: #3fb950; --c3: #ab7df8; --c4: #f778ba; --c5: #39c5cf;
    --c6: #d29922; --c7: #9198a1; } }
* { box-sizing: border-box; }
body { margin: 0 auto; max-width: 1120px; padding: 16px; background: var(--bg); color: var(--fg);
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
h1 { font-size: 1.6em; margin: 0.2em 0; } h2 { font-size: 1.25em; margin-top: 1.6em; }
.muted, .empty { color: var(--muted); }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); gap: 8px; }
.card { background: var(--card); border-radius: 6px; padding: 8px 12px; }
.card b { display: block; font-size: 1.3em; }
figure { margin: 16px 0; } figcaption { font-weight: 600; margin-bottom: 4px; }
svg { width: 100%; height: auto; display: block; }
svg .grid { stroke: var(--grid); stroke-width: 1; }
svg .axis { fill: var(--muted); font-size: 11px; }
svg .line { fill: none; stroke-width: 2; }
.s0 { fill: var(--c0); stroke: var(--c0); } .s1 { fill: var(--c1); stroke: var(--c1); }
.s2 { fill: var(--c2); stroke: var(--c2); } .s3 { fill: var(--c3); stroke: var(--c3); }
.s4 { fill: var(--c4); stroke: var(--c4); } .s5 { fill: var(--c5); stroke: var(--c5); }
.s6 { fill: var(--c6); stroke: var(--c6); } .s7 { fill: var(--c7); stroke: var(--c7); }
svg .line.s0, svg .line.s1, svg .line.s2, svg .line.s3, svg .line.s4, svg .line.s5,
svg .line.s6, svg .line.s7 { fill: none; }
.legend { list-style: none; padding: 0; margin: 4px 0; display: flex; flex-wrap: wrap; gap: 4px 14px; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px; }
.swatch.s0 { background: var(--c0); } .swatch.s1 { background: var(--c1); }
.swatch.s2 { background: var(--c2); } .swatch.s3 { background: var(--c3); }
.swatch.s4 { background: var(--c4); } .swatch.s5 { background: var(--c5); }
.swatch.s6 { background: var(--c6); } .swatch.s7 { background: var(--c7); }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 13px; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 8px; border-bottom: 1px solid var(--grid); text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
details summary { cursor: pointer; color: var(--muted); }
@media (max-width: 600px) { body { padding: 8px; font-size: 14px; } h1 { font-size: 1.3em; }
  svg .axis { font-size: 20px; } }
"#;

/// A page being written.
pub struct Page {
    html: String,
}

impl Page {
    /// The page's head and title.
    pub fn new(title: &str, subtitle: &str) -> Page {
        let mut html = String::with_capacity(64 * 1024);
        let _ = write!(
            html,
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\
             <title>{t}</title><style>{STYLE}</style></head><body><header><h1>{t}</h1>\
             <p class=\"muted\">{s}</p></header>",
            t = escape(title),
            s = escape(subtitle)
        );
        Page { html }
    }

    /// A section heading.
    pub fn section(&mut self, id: &str, title: &str) {
        let _ = write!(self.html, "<h2 id=\"{}\">{}</h2>", escape(id), escape(title));
    }

    /// Key figures as cards: (label, value).
    pub fn cards(&mut self, cards: &[(&str, String)]) {
        self.html.push_str("<div class=\"cards\">");
        for (label, value) in cards {
            let _ = write!(
                self.html,
                "<div class=\"card\"><span class=\"muted\">{}</span><b>{}</b></div>",
                escape(label),
                escape(value)
            );
        }
        self.html.push_str("</div>");
    }

    /// A paragraph of text.
    pub fn note(&mut self, text: &str) {
        let _ = write!(self.html, "<p class=\"muted\">{}</p>", escape(text));
    }

    /// Markup made elsewhere (a chart's figure).
    pub fn raw(&mut self, markup: &str) {
        self.html.push_str(markup);
    }

    /// A table, scrolling sideways on a narrow screen.
    pub fn table(&mut self, headers: &[&str], rows: &[Vec<String>]) {
        self.html.push_str("<div class=\"scroll\"><table><thead><tr>");
        for h in headers {
            let _ = write!(self.html, "<th>{}</th>", escape(h));
        }
        self.html.push_str("</tr></thead><tbody>");
        for row in rows {
            self.html.push_str("<tr>");
            for c in row {
                let _ = write!(self.html, "<td>{}</td>", escape(c));
            }
            self.html.push_str("</tr>");
        }
        self.html.push_str("</tbody></table></div>");
    }

    /// The finished document.
    pub fn finish(mut self) -> String {
        self.html.push_str("</body></html>\n");
        self.html
    }
}
