//! Terminal text from untrusted values: [`cell`] makes one value safe to print (control
//! characters, ANSI escapes and bidi controls shown escaped, cut by display width with `…`),
//! and [`table`] renders aligned tables of such cells. Any string may be given: a model name
//! from another writer or a commit subject can neither panic the renderer nor print a fake
//! line.
//!
//! Hand-written on purpose: table crates (`comfy-table`, `tabled`) pass ESC and bidi controls
//! through to the terminal and read `\n` as a line break inside a cell, so [`sanitize`] would
//! still have to run first; comfy-table wraps long cells instead of cutting them with `…`;
//! both would change the plain layout and add dependencies for the few lines of [`table`].

use unicode_width::UnicodeWidthChar as _;

/// Widest cell, in terminal columns, before it is cut with `…`.
pub const MAX_CELL_WIDTH: usize = 60;

/// Whether `c` must be shown escaped: C0 controls (incl. tab, CR, LF, ESC), DEL, C1
/// controls, and the Unicode bidi controls that can reorder what the terminal shows.
fn must_escape(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}')
        || matches!(c, '\u{2066}'..='\u{2069}')
}

/// Display width of one character after [`cell`]'s escaping (0 for combining marks).
fn width_of(c: char) -> usize {
    c.width().unwrap_or(0)
}

/// One character as shown: itself, or its escape (`\n`, `\r`, `\t`, `\u{1b}`, …).
fn escaped(c: char) -> String {
    match c {
        '\n' => "\\n".to_owned(),
        '\r' => "\\r".to_owned(),
        '\t' => "\\t".to_owned(),
        c if must_escape(c) => format!("\\u{{{:x}}}", c as u32),
        c => c.to_string(),
    }
}

/// `s` made safe to print on one line: dangerous characters escaped (`\n`, `\u{1b}`, …), then
/// cut to at most `max_width` display columns, the last one `…` when anything was cut. Reads
/// no more of `s` than it shows.
pub fn sanitize(s: &str, max_width: usize) -> String {
    let mut out = String::new();
    let mut width = 0usize;
    for e in s.chars().flat_map(|c| escaped(c).chars().collect::<Vec<_>>()) {
        let w = width_of(e);
        if width + w > max_width {
            // Too wide: make room for the ellipsis.
            while width + 1 > max_width {
                match out.pop() {
                    Some(last) => width -= width_of(last),
                    None => break,
                }
            }
            out.push('…');
            return out;
        }
        width += w;
        out.push(e);
    }
    out
}

/// [`sanitize`] with [`MAX_CELL_WIDTH`].
pub fn cell(s: &str) -> String {
    sanitize(s, MAX_CELL_WIDTH)
}

/// Display width of an already sanitized cell.
fn display_width(s: &str) -> usize {
    s.chars().map(width_of).sum()
}

/// Render an aligned table: first column left-aligned, the others right-aligned. Every
/// header and cell goes through [`cell`]; a row shorter than the header is padded with empty
/// cells, extra cells are dropped.
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> String {
    table_left_aligned(headers, rows, 1)
}

/// [`table`] with the first `left` columns left-aligned (names and lists), the rest
/// right-aligned (numbers).
pub fn table_left_aligned(headers: &[&str], rows: &[Vec<String>], left: usize) -> String {
    let headers: Vec<String> = headers.iter().map(|h| cell(h)).collect();
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            (0..headers.len()).map(|i| r.get(i).map(|c| cell(c)).unwrap_or_default()).collect()
        })
        .collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| display_width(h)).collect();
    for row in &rows {
        for (w, c) in widths.iter_mut().zip(row) {
            *w = (*w).max(display_width(c));
        }
    }
    let line = |cells: &[String]| -> String {
        let mut out = String::new();
        for (i, (c, w)) in cells.iter().zip(&widths).enumerate() {
            let pad = " ".repeat(w.saturating_sub(display_width(c)));
            if i > 0 {
                out.push_str("  ");
            }
            if i < left {
                out.push_str(c);
                out.push_str(&pad);
            } else {
                out.push_str(&pad);
                out.push_str(c);
            }
        }
        out.trim_end().to_owned()
    };
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    let mut out = line(&headers);
    out.push('\n');
    out.push_str(&line(&rule));
    out.push('\n');
    for row in &rows {
        out.push_str(&line(row));
        out.push('\n');
    }
    out
}
