//! The recorder's event log reader (`JsonlLog`: scans with a line cap, from an offset, with a
//! needle, and its tail) over a file holding the fuzzed bytes: never a panic, every complete
//! JSON line is seen once, and the needle and offset scans see a subset.
#![no_main]

use agentos_ccc_client::JsonlLog;
use camino::Utf8PathBuf;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: &[u8]| {
    let [cap, offset, data @ ..] = input else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("agentos-fuzz-eventlog-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let Ok(path) = Utf8PathBuf::from_path_buf(dir.join("events.jsonl")) else {
        return;
    };
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let log = JsonlLog::new(path).with_max_line(usize::from(*cap) * 4 + 1);
    let mut all = Vec::new();
    let diags = match log.scan(|line, v| all.push((line, v))) {
        Ok(d) => d,
        Err(e) => panic!("scan failed: {e}"),
    };
    let lines = data.split(|&b| b == b'\n').count() as u64;
    for (line, _) in &all {
        assert!(*line >= 1 && *line <= lines, "line {line} of {lines}");
    }
    for d in &diags {
        assert!(d.line <= lines, "diagnostic line {} of {lines}", d.line);
    }
    let mut some = 0usize;
    if log.scan_containing("\"s\"", |_, _| some += 1).is_ok() {
        assert!(some <= all.len(), "a needle scan saw more");
    }
    let mut from = 0usize;
    let _ = log.scan_from(u64::from(*offset), "", |_, _| from += 1);
    let _ = log.tail(u64::from(*offset) * 8);
});
