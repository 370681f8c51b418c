//! The key ring: which Ed25519 public keys are trusted, under which ids.

use agentos_event_schema::ccp::PubkeyBundle;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use camino::Utf8Path;

use crate::Error;

/// Id of the key embedded in CCP's shim.
pub const EMBEDDED_KID: &str = "default";
/// CCP's embedded public key (standard base64 of 32 raw bytes).
pub const EMBEDDED_PUBKEY_B64: &str = "N8hXyQ0B2dS6b0wfbjr5SyYwXf8T3I4QjTg1mGSe4P0=";

/// A key that could not be used, reported by id (it never stops the other keys).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyProblem {
    /// The key's id.
    pub id: String,
    /// What is wrong (`not standard base64`, `32 bytes expected, got 31` …).
    pub problem: String,
}

impl std::fmt::Display for KeyProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "public key `{}`: {}", self.id, self.problem)
    }
}

/// Trusted Ed25519 public keys in a fixed order (embedded, then bundle, then environment).
/// Malformed entries are kept aside as [`KeyProblem`]s.
#[derive(Clone, Debug, Default)]
pub struct KeyRing {
    keys: Vec<(String, [u8; 32])>,
    problems: Vec<KeyProblem>,
}

impl KeyRing {
    /// A ring with no keys.
    pub fn empty() -> KeyRing {
        KeyRing::default()
    }

    /// A ring with CCP's embedded `default` key.
    pub fn embedded() -> KeyRing {
        let mut ring = KeyRing::empty();
        ring.add_key(EMBEDDED_KID, EMBEDDED_PUBKEY_B64);
        ring
    }

    /// Add one key (standard base64 of 32 bytes, whitespace trimmed). An empty value is
    /// skipped (as CCP does); a malformed one is recorded as a problem under `id`.
    pub fn add_key(&mut self, id: &str, b64: &str) {
        let b64 = b64.trim();
        if b64.is_empty() {
            return;
        }
        match decode_key(b64) {
            Ok(key) => self.keys.push((id.to_owned(), key)),
            Err(problem) => self.problems.push(KeyProblem { id: id.to_owned(), problem }),
        }
    }

    /// Add every key of a `PUBKEYS.json` bundle; keys whose `type` is not `ed25519` are
    /// reported as problems.
    pub fn add_bundle(&mut self, bundle: &PubkeyBundle) {
        for entry in &bundle.keys {
            if !entry.key_type.eq_ignore_ascii_case("ed25519") {
                self.problems.push(KeyProblem {
                    id: entry.id.clone(),
                    problem: format!(
                        "unsupported key type `{}` (ed25519 expected)",
                        entry.key_type
                    ),
                });
                continue;
            }
            self.add_key(&entry.id, &entry.base64);
        }
    }

    /// Read and add a `PUBKEYS.json` bundle file.
    pub fn add_bundle_file(&mut self, path: &Utf8Path) -> Result<(), Error> {
        let bytes = crate::store::read_small_file(path)
            .map_err(|e| Error::io("read public key bundle", path, e))?;
        let levels: [crate::gokeys::Level<'_>; 2] = [
            (&[], crate::gokeys::BUNDLE_FIELDS),
            (&["keys", "*"], crate::gokeys::BUNDLE_KEY_FIELDS),
        ];
        if let Some(problem) = crate::gokeys::key_problem(&bytes, &levels) {
            return Err(Error::malformed(
                format!("public key bundle {path}"),
                problem,
                "get the bundle again from your issuer",
            ));
        }
        let bundle: PubkeyBundle = serde_json::from_slice(&bytes).map_err(|e| {
            Error::malformed(
                format!("public key bundle {path}"),
                e.to_string(),
                "expected {\"version\":…,\"keys\":[{\"id\",\"type\",\"base64\"}]}",
            )
        })?;
        self.add_bundle(&bundle);
        Ok(())
    }

    /// Add the entries of a `CCP_LICENSE_PUBKEY_B64` value: comma-separated `kid=<b64>` or bare
    /// `<b64>` (id `env_<n>`, n = keys in the ring so far). Unlike CCP, a bare key that ends in
    /// `=` is never mis-split: an entry that is itself a valid 32-byte key is taken as bare.
    pub fn add_env(&mut self, value: &str) {
        for entry in value.split(',') {
            let entry = entry.trim();
            if entry.is_empty() {
                continue;
            }
            let bare_id = format!("env_{}", self.keys.len() + self.problems.len());
            if decode_key(entry).is_ok() {
                self.add_key(&bare_id, entry);
                continue;
            }
            match entry.split_once('=') {
                Some((kid, b64)) if !kid.is_empty() && !kid.contains(['+', '/']) => {
                    let kid = kid.trim().to_owned();
                    if b64.trim().is_empty() {
                        self.problems.push(KeyProblem { id: kid, problem: "empty key".into() });
                    } else {
                        self.add_key(&kid, b64);
                    }
                }
                _ => self.add_key(&bare_id, entry),
            }
        }
    }

    /// The usable keys' ids, in ring order.
    pub fn ids(&self) -> Vec<&str> {
        self.keys.iter().map(|(id, _)| id.as_str()).collect()
    }

    /// The malformed entries.
    pub fn problems(&self) -> &[KeyProblem] {
        &self.problems
    }

    /// Whether no usable key is present.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub(crate) fn keys(&self) -> &[(String, [u8; 32])] {
        &self.keys
    }

    /// `" (skipped malformed keys: a, b)"` or empty.
    pub(crate) fn ignored_note(&self) -> String {
        if self.problems.is_empty() {
            return String::new();
        }
        let list: Vec<String> = self.problems.iter().map(ToString::to_string).collect();
        format!(" (skipped {})", list.join("; "))
    }
}

fn decode_key(b64: &str) -> Result<[u8; 32], String> {
    let bytes = STANDARD.decode(b64.trim()).map_err(|_| "not standard base64".to_owned())?;
    <[u8; 32]>::try_from(bytes.as_slice())
        .map_err(|_| format!("32 bytes expected, got {}", bytes.len()))
}
