//! CCP-compatible device id: `base64std(sha256(hostname + "|" + GOOS + "|" + GOARCH))`.
//!
//! The hostname is read without system calls beyond file reads: `/proc/sys/kernel/hostname`
//! (what Go's `os.Hostname` reads on Linux), else `/etc/hostname`, else the output of the
//! `hostname` command (macOS, Windows). Surrounding whitespace is trimmed. When all fail the
//! hostname is empty, which still yields a (non-matching) id: a device-bound license then fails
//! closed with a device mismatch.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// This machine's device id, as CCP's shim computes it.
pub fn device_id() -> String {
    device_id_for(&hostname().unwrap_or_default(), go_os(), go_arch())
}

/// The device id for explicit inputs (Go OS/arch names).
pub fn device_id_for(hostname: &str, goos: &str, goarch: &str) -> String {
    let input = format!("{hostname}|{goos}|{goarch}");
    let digest = ring::digest::digest(&ring::digest::SHA256, input.as_bytes());
    STANDARD.encode(digest.as_ref())
}

/// The hostname (see the module docs for where it comes from).
pub fn hostname() -> Option<String> {
    for path in ["/proc/sys/kernel/hostname", "/etc/hostname"] {
        if let Ok(text) = std::fs::read_to_string(path) {
            let name = text.trim();
            if !name.is_empty() {
                return Some(name.to_owned());
            }
        }
    }
    let out = std::process::Command::new("hostname").output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let name = text.trim();
    (out.status.success() && !name.is_empty()).then(|| name.to_owned())
}

/// Go's `GOOS` for this build (`linux`, `darwin`, `windows` …).
pub fn go_os() -> &'static str {
    match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    }
}

/// Go's `GOARCH` for this build (`amd64`, `arm64` …).
pub fn go_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64",
        "loongarch64" => "loong64",
        other => other,
    }
}
