//! The one HTTP policy of AgentOS's clients: which URLs may carry a secret, the timeouts and
//! body caps of every request, and how the `ureq` agent is configured (no redirects, no
//! proxy from the environment, rustls with the platform's roots).
//!
//! Modules: `cleartext.rs` ([`check_url`]: plain `http://` only to loopback unless
//! [`Cleartext::Allowed`]), `limits.rs` ([`Limits`], [`caps`], [`agent`], [`read_body`]).
//! Used by `agentos-ccc-client` (uploads, the OTLP export, the read API) and
//! `agentos-licensing` (the issuer client); nothing else speaks HTTP.
#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

mod cleartext;
mod limits;

pub use cleartext::{Cleartext, ENV_ALLOW_INSECURE_HTTP, UrlError, check_url, is_loopback_host};
pub use limits::{
    BodyError, DEFAULT_CONNECT, DEFAULT_TOTAL, Limits, agent, caps, is_timeout, read_body,
};

#[cfg(test)]
mod tests;
