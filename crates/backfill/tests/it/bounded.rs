//! Bounded memory: a 300 MB line is read through, not held, and reported with its number.

use std::io::Write;

use agentos_backfill::lines::{Line, LineReader};

use crate::common::{Env, Totals, claude_line, totals};

/// Peak resident memory of this process so far (kB), from `/proc/self/status`.
fn vm_hwm_kb() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let l = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    l.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn a_300_mb_line_is_skipped_with_bounded_memory() {
    const BIG: usize = 300 << 20;
    const PREFIX: &[u8] =
        br#"{"type":"assistant","usage":1,"message":{"content":[{"type":"text","text":""#;
    const SUFFIX: &[u8] = br#""}]}}"#;
    let env = Env::new();
    let p = env.project("-home-dev-proj");
    let s = "dddddddd-0000-4000-8000-000000000001";
    let f = p.join(format!("{s}.jsonl"));
    {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&f).unwrap());
        let m = "claude-sonnet-4-5";
        writeln!(w, "{}", claude_line(s, "2026-02-01T10:00:00Z", "m1", Some("r1"), m, 1, 2, 0, 0))
            .unwrap();
        // A valid-looking assistant line with usage and a 300 MB text block, written in chunks.
        w.write_all(PREFIX).unwrap();
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..BIG >> 20 {
            w.write_all(&chunk).unwrap();
        }
        w.write_all(SUFFIX).unwrap();
        w.write_all(b"\n").unwrap();
        writeln!(w, "{}", claude_line(s, "2026-02-01T10:01:00Z", "m2", Some("r2"), m, 3, 4, 0, 0))
            .unwrap();
    }
    let before = vm_hwm_kb();
    let (report, events) = env.import();
    let after = vm_hwm_kb();
    std::fs::remove_file(&f).unwrap();
    assert_eq!(totals(&events), Totals::new(2, 1 + 3, 2 + 4, 0, 0, 0));
    assert_eq!(report.malformed_lines, 1);
    assert!(
        report.malformed[0].ends_with(&format!(
            "{s}.jsonl:2: line of {} bytes is over the limit, skipped",
            PREFIX.len() + BIG + SUFFIX.len()
        )),
        "{:?}",
        report.malformed
    );
    if let (Some(b), Some(a)) = (before, after) {
        // The line reader holds at most its cap (16 MiB) plus a chunk; other tests in this
        // process allocate little. 300 MB held would show as ~300,000 kB.
        assert!(a.saturating_sub(b) < 100 * 1024, "peak RSS grew by {} kB", a - b);
    }
}

#[test]
fn the_line_reader_numbers_lines_and_resumes_from_an_offset() {
    let data = b"a\n\nbb\r\nccc";
    let mut r = LineReader::with_cap(&data[3..], 3, 3, 3);
    assert_eq!(r.next_line().unwrap(), Some(Line::Full { no: 3, bytes: b"bb" }));
    assert_eq!(r.consumed(), 7);
    assert_eq!(r.next_line().unwrap(), Some(Line::Torn { no: 4, len: 3 }));
    assert_eq!(r.next_line().unwrap(), None);
    assert_eq!((r.consumed(), r.next_line_no()), (7, 4));
    let long = b"12345\nok\n";
    let mut r = LineReader::with_cap(&long[..], 0, 1, 3);
    assert_eq!(r.next_line().unwrap(), Some(Line::TooLong { no: 1, len: 5 }));
    assert_eq!(r.next_line().unwrap(), Some(Line::Full { no: 2, bytes: b"ok" }));
    assert_eq!(r.consumed(), 9);
}
