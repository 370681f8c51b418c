//! `agentos window churn --window W …` (reference §7.3.5): the net lines of the window's
//! commit range per feature (`agentos_tracker::tracker_churn`), appended to `churn.jsonl` and
//! to the churn ledger CSV. AgentOS's own churn — the share of a feature-tagged commit's lines
//! rewritten within 7/14/28 days — is `agentos churn`.

use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::process::{Command, ExitCode};

use agentos_tracker::tracker_churn::{
    LEDGER_HEADER, Request, commit_range, latest_window_row, ledger_row, parse_numstat, record,
    summary_line,
};
use anyhow::{Context as _, bail};
use camino::{Utf8Path, Utf8PathBuf};

use agentos_tracker::store::{TrackerDir, TrackerFile};

use super::load_rows;
use crate::table::sanitize;

/// Options of `window churn`.
#[derive(Debug, clap::Args)]
pub struct ChurnArgs {
    /// The window (its latest finalize row gives the commit range and the features).
    #[arg(long, value_name = "W")]
    pub window: String,
    /// Provider credited (default: the one with features; `multi` when several).
    #[arg(long)]
    pub provider: Option<String>,
    /// Methodology (default: the window's).
    #[arg(long)]
    pub methodology: Option<String>,
    /// First commit (default: the window's commit_start).
    #[arg(long, value_name = "REF")]
    pub commit_start: Option<String>,
    /// Last commit (default: the window's commit_end, else HEAD).
    #[arg(long, value_name = "REF")]
    pub commit_end: Option<String>,
    /// Only these paths.
    #[arg(long, num_args = 1.., value_name = "PATH")]
    pub paths: Vec<String>,
    /// Features to divide by (default: the sum of the window's features).
    #[arg(long, value_name = "N")]
    pub features: Option<i64>,
    /// Notes for the record.
    #[arg(long)]
    pub notes: Option<String>,
    /// The churn ledger CSV (default: <git root>/docs/Ledgers/Churn_Ledger.csv).
    #[arg(long, value_name = "CSV")]
    pub ledger_path: Option<Utf8PathBuf>,
}

/// `git args…` in the current directory: its stdout, or `None` when git failed.
fn git(args: &[&str]) -> anyhow::Result<Option<String>> {
    let out = Command::new("git")
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .output()
        .context("cannot run git (is it installed?)")?;
    Ok(out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned()))
}

/// Python's `repr()` of a string, for `unable to resolve commit '…'`.
fn py_repr(s: &str) -> String {
    if s.contains('\'') && !s.contains('"') {
        format!("\"{s}\"")
    } else {
        format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
    }
}

fn resolve(r: &str) -> anyhow::Result<String> {
    // A ref that looks like an option is never passed to git as one.
    let out = if r.starts_with('-') {
        None
    } else {
        git(&["rev-parse", "--verify", "--quiet", &format!("{r}^{{commit}}")])?
    };
    match out.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()) {
        Some(sha) => Ok(sha),
        None => bail!("unable to resolve commit {}", py_repr(r)),
    }
}

/// Append `text` (whole CSV rows) to the ledger at `path` under an exclusive lock, the header
/// first when the file is new or empty, after a newline when the file ends in a torn line;
/// synced. (The tracker's own files are appended by the store.)
fn append_ledger(path: &Utf8Path, text: &str, header: &str) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {dir}"))?;
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .read(true)
        .open(path)
        .with_context(|| format!("cannot open {path}"))?;
    f.lock().with_context(|| format!("cannot lock {path}"))?;
    let len = f.metadata().with_context(|| format!("cannot read {path}"))?.len();
    let mut out = String::new();
    if len == 0 {
        out.push_str(header);
    } else {
        let mut last = [0u8; 1];
        f.seek(SeekFrom::Start(len - 1))
            .and_then(|_| f.read_exact(&mut last))
            .with_context(|| format!("cannot read {path}"))?;
        if last[0] != b'\n' {
            out.push('\n');
        }
    }
    out.push_str(text);
    f.write_all(out.as_bytes())
        .and_then(|()| f.sync_data())
        .with_context(|| format!("cannot write {path}"))?;
    Ok(())
}

pub fn run(a: &ChurnArgs, dir: &TrackerDir) -> anyhow::Result<ExitCode> {
    let mut diags = Vec::new();
    let rows = load_rows(dir, TrackerFile::Windows, Some(&a.window), &mut diags)?;
    let Some(row) = latest_window_row(&rows) else {
        eprintln!(
            "error: no window summary found for {} (finalize it first: agentos window finalize --window {0})",
            sanitize(&a.window, 80)
        );
        return Ok(ExitCode::from(1));
    };
    let Some(root) = git(&["rev-parse", "--show-toplevel"])?.map(|s| s.trim().to_owned()) else {
        bail!(
            "not inside a git repository (run it from the repository the window's commits are in)"
        );
    };
    let (start, end) = commit_range(row, a.commit_start.as_deref(), a.commit_end.as_deref());
    let (range, stats) = match &start {
        None => {
            outln!("warn: missing commit_start \u{2014} skipping git diff");
            (("".to_owned(), end.clone().unwrap_or_default()), None)
        }
        Some(s) => {
            let (s, e) = (resolve(s)?, resolve(end.as_deref().unwrap_or("HEAD"))?);
            let mut args = vec!["diff".to_owned(), "--numstat".to_owned(), format!("{s}..{e}")];
            if !a.paths.is_empty() {
                args.push("--".to_owned());
                args.extend(a.paths.iter().cloned());
            }
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let Some(numstat) = git(&args)? else { bail!("git diff --numstat failed") };
            ((s, e), Some(parse_numstat(&numstat)))
        }
    };
    let now = jiff::Timestamp::now();
    let captured_at = now.strftime("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string();
    let req = Request {
        window: &a.window,
        provider: a.provider.as_deref(),
        methodology: a.methodology.as_deref(),
        features: a.features,
        notes: a.notes.as_deref(),
        paths: a.paths.clone(),
    };
    let rec = record(&req, row, range, stats, captured_at);
    dir.append(TrackerFile::Churn, &rec)?;
    let ledger = a.ledger_path.clone().unwrap_or_else(|| {
        Utf8PathBuf::from(root).join("docs").join("Ledgers").join("Churn_Ledger.csv")
    });
    let date = now.strftime("%Y-%m-%d").to_string();
    append_ledger(&ledger, &ledger_row(&rec, &date), &format!("{LEDGER_HEADER}\r\n"))?;
    outln!("{}", sanitize(&summary_line(&rec, stats.is_none()), usize::MAX));
    outln!(
        "see also: agentos churn (the share of feature-tagged commits' lines rewritten within 7/14/28 days)"
    );
    Ok(ExitCode::SUCCESS)
}
