//! CCP-compatible device id: `base64std(sha256(hostname + "|" + GOOS + "|" + GOARCH))`.
//!
//! The hostname is the system's node name as the `gethostname` crate reads it: `uname`'s
//! nodename on Unix (the value Go's `os.Hostname` reads from `/proc/sys/kernel/hostname` on
//! Linux and from `kern.hostname` on macOS), the DNS host name on Windows. Surrounding
//! whitespace is trimmed. A name that is empty or not UTF-8 counts as none, which still yields a
//! (non-matching) id: a device-bound license then fails closed with a device mismatch.

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
    let raw = gethostname::gethostname().into_string().ok()?;
    let name = raw.trim();
    (!name.is_empty()).then(|| name.to_owned())
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
