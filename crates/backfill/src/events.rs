//! Building the v1 events an import writes, with ids derived from the source identity: the
//! same response always yields the same `event_id` and `turn_id` (UUID-shaped hex of a
//! SHA-256), so importing it again can only repeat an id, which every reader drops.

use std::collections::BTreeMap;

use agentos_event_schema::prices::{PriceTable, Tokens};
use agentos_event_schema::provider::provider_for_model;
use agentos_event_schema::v1::{
    Cost, Envelope, Event, InputKind, PrivacyTier, SCHEMA_VERSION, Session, SessionEvent, Turn,
    TurnEvent,
};
use agentos_event_schema::{EventId, Extra, Timestamp};

use crate::Agent;
use crate::record::Usage;

/// SHA-256 over the parts, each length-prefixed (so `("ab","c")` and `("a","bc")` differ).
pub(crate) fn sha256(parts: &[&[u8]]) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    // Short inputs (ids, keys) are framed in one buffer and hashed in one call.
    let framed: usize = parts.iter().map(|p| 8 + p.len()).sum();
    let mut small = [0u8; 256];
    let digest = match small.get_mut(..framed) {
        Some(buf) => {
            let mut at = 0;
            for p in parts {
                buf[at..at + 8].copy_from_slice(&(p.len() as u64).to_le_bytes());
                buf[at + 8..at + 8 + p.len()].copy_from_slice(p);
                at += 8 + p.len();
            }
            Sha256::digest(buf)
        }
        None => {
            let mut ctx = Sha256::new();
            for p in parts {
                ctx.update((p.len() as u64).to_le_bytes());
                ctx.update(p);
            }
            ctx.finalize()
        }
    };
    digest.into()
}

/// The first 128 bits of [`sha256`]: a dedupe key.
pub(crate) fn key128(parts: &[&[u8]]) -> u128 {
    let h = sha256(parts);
    let mut k = [0u8; 16];
    k.copy_from_slice(&h[..16]);
    u128::from_le_bytes(k)
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// A UUID-shaped id (`8-4-4-4-12` hex) from the parts.
pub(crate) fn uuid_of(parts: &[&[u8]]) -> String {
    uuid(parts).as_str().to_owned()
}

/// [`uuid_of`] without an allocation.
pub(crate) fn uuid(parts: &[&[u8]]) -> Uuid {
    uuid_from(&sha256(parts)[..16])
}

/// The UUID-shaped hex of 16 bytes.
fn uuid_from(h: &[u8]) -> Uuid {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = [b'-'; 36];
    let mut at = 0;
    for (i, b) in h.iter().take(16).enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            at += 1;
        }
        s[at] = DIGITS[(b >> 4) as usize];
        s[at + 1] = DIGITS[(b & 15) as usize];
        at += 2;
    }
    Uuid(s)
}

/// Two UUID-shaped ids from one digest of the parts: its first and its last 128 bits.
pub(crate) fn uuid_pair(parts: &[&[u8]]) -> (Uuid, Uuid) {
    let h = sha256(parts);
    (uuid_from(&h[..16]), uuid_from(&h[16..]))
}

/// A UUID's 36 characters.
pub(crate) struct Uuid([u8; 36]);

impl Uuid {
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// The `event_id` of the turn a key first produced.
pub(crate) fn turn_event_id(key: u128) -> String {
    uuid_of(&[b"agentos-import/turn-event", &key.to_le_bytes()])
}

/// A session id the recorder would accept: the agent's own when it is in the alphabet,
/// else a stable derived one.
pub(crate) fn session_id(agent: Agent, raw: &str) -> String {
    if agentos_event_schema::v1::limits::check_session_id(raw).is_ok() {
        raw.to_owned()
    } else {
        format!("{}-{}", agent.as_str(), &hex(&sha256(&[raw.as_bytes()])[..12]))
    }
}

/// The repository identifier of a working directory: its last path component.
pub(crate) fn repo_id(cwd: Option<&str>) -> String {
    cwd.map(|c| c.trim_end_matches(['/', '\\']))
        .and_then(|c| c.rsplit(['/', '\\']).next())
        .filter(|c| !c.is_empty())
        .unwrap_or("unknown")
        .to_owned()
}

/// A time the readers parsed (so always in range); the epoch otherwise.
pub(crate) fn ts(micros: i64) -> Timestamp {
    Timestamp::from_unix_micros(micros)
        .or_else(|| Timestamp::from_unix_micros(0))
        .unwrap_or_else(Timestamp::now)
}

fn envelope(event_id: String, at: Timestamp) -> Envelope {
    Envelope {
        event_id: Some(EventId::from(event_id)),
        ts: Some(at),
        schema_version: Some(SCHEMA_VERSION.to_owned()),
        extra: Extra::new(),
    }
}

/// What a session event says.
#[derive(Debug)]
pub(crate) struct SessionFacts<'a> {
    pub agent: Agent,
    pub id: &'a str,
    pub cwd: Option<&'a str>,
    pub branch: Option<&'a str>,
    pub version: Option<&'a str>,
    pub commit: Option<&'a str>,
    pub first: i64,
    pub last: i64,
    pub tier: PrivacyTier,
}

/// A session event; its id changes with its time span, so a grown session is written again
/// and readers take the latest.
pub(crate) fn session_event(f: &SessionFacts<'_>) -> Event {
    let id = uuid_of(&[
        b"agentos-import/session-event",
        f.agent.as_str().as_bytes(),
        f.id.as_bytes(),
        &f.first.to_le_bytes(),
        &f.last.to_le_bytes(),
    ]);
    Event::Session(SessionEvent {
        envelope: envelope(id, ts(f.last)),
        session: Session {
            session_id: f.id.into(),
            repo_id: repo_id(f.cwd),
            branch: f.branch.unwrap_or_default().to_owned(),
            commit: f.commit.unwrap_or_default().to_owned(),
            license_id: "import".to_owned(),
            privacy_tier: f.tier,
            created_at: ts(f.first),
            metadata: BTreeMap::new(),
            agent: Some(f.agent.as_str().to_owned()),
            cwd: f.cwd.map(str::to_owned),
            cli_version: f.version.map(str::to_owned),
            last_active_at: Some(ts(f.last)),
            extra: Extra::new(),
        },
    })
}

/// What a turn event says.
#[derive(Debug)]
pub(crate) struct TurnFacts<'a> {
    pub key: u128,
    pub session: &'a str,
    pub model: &'a str,
    pub subagent: &'a str,
    pub usage: Usage,
    pub sidechain: bool,
    pub at: i64,
    pub cost: Option<f64>,
    /// For a correction: the usage already imported (the event carries the increase).
    pub revises: Option<Usage>,
    /// The table that estimates the cost when the transcript recorded none.
    pub prices: Option<&'a PriceTable>,
}

/// A turn event's ids and numbers: event id, turn id, the usage it carries and, for a
/// correction, the event it revises.
pub(crate) fn turn_parts(f: &TurnFacts<'_>) -> (String, String, Usage, Option<String>) {
    let original = turn_event_id(f.key);
    match &f.revises {
        None => (original, uuid_of(&[b"agentos-import/turn", &f.key.to_le_bytes()]), f.usage, None),
        Some(before) => {
            let total = f.usage.total().to_le_bytes();
            let id = uuid_of(&[b"agentos-import/correction", &f.key.to_le_bytes(), &total]);
            let turn = uuid_of(&[b"agentos-import/correction-turn", &f.key.to_le_bytes(), &total]);
            (id, turn, f.usage.increase_over(before), Some(original))
        }
    }
}

/// A turn's cost: what the transcript recorded (`costUSD`; none on a correction, whose
/// response's recorded cost was counted with it), else the price table's estimate for the
/// tokens the event carries (`price_table` names the table), else none (unpriced).
pub(crate) fn turn_cost(f: &TurnFacts<'_>) -> Option<Cost> {
    let cost = |usd: f64, price_table: Option<String>| Cost {
        provider: provider_for_model(f.model).to_owned(),
        unit_costs: BTreeMap::new(),
        estimated_usd: usd.min(agentos_event_schema::v1::limits::ESTIMATED_USD.max),
        price_table,
        extra: Extra::new(),
    };
    if let Some(usd) = f.cost {
        return f.revises.is_none().then(|| cost(usd, None));
    }
    let table = f.prices?;
    let (_, price) = table.lookup(f.model)?;
    let u = turn_parts(f).2;
    let usd = price.cost(&Tokens {
        input: u.input,
        output: u.output,
        cache_write: u.cache_write,
        cache_write_1h: u.cache_write_1h,
        cache_read: u.cache_read,
    });
    Some(cost(usd, Some(table.id.clone())))
}

/// A turn event: one API response, or a correction of one ([`TurnFacts::revises`]). The
/// import writes the same bytes by hand (`line::write_turn`); this is their reference.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn turn_event(f: &TurnFacts<'_>) -> Event {
    let (event_id, turn_id, usage, revises) = turn_parts(f);
    let at = ts(f.at);
    Event::Turn(TurnEvent {
        envelope: envelope(event_id, at),
        turn: Turn {
            turn_id: turn_id.into(),
            session_id: f.session.into(),
            model: f.model.to_owned(),
            subagent: f.subagent.to_owned(),
            tokens_in: usage.input,
            tokens_out: usage.output,
            input_kind: InputKind::Text,
            latency_ms: 0.0,
            attribution: BTreeMap::new(),
            capacity_used: None,
            cache_creation_tokens: Some(usage.cache_write),
            cache_creation_1h_tokens: Some(usage.cache_write_1h),
            cache_read_tokens: Some(usage.cache_read),
            sidechain: Some(f.sidechain),
            responded_at: Some(at),
            revises: revises.map(EventId::from),
            extra: Extra::new(),
        },
        measurement: None,
        feature: None,
        cost: turn_cost(f),
        value: None,
        decision: None,
        outcome: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hashed in one call or streamed, the framing and the digest are the same, at the edge
    /// of the short buffer and past it, and the digest is another implementation's (ring's).
    #[test]
    fn short_and_streamed_hashes_agree() {
        let streamed = |parts: &[&[u8]]| {
            let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
            for p in parts {
                ctx.update(&(p.len() as u64).to_le_bytes());
                ctx.update(p);
            }
            ctx.finish().as_ref().to_vec()
        };
        let bytes: Vec<u8> = (0..400u32).map(|i| (i * 7 + 3) as u8).collect();
        for split in [0, 1, 31, 120, 239, 240, 241, 300] {
            for rest in [0, 8, 16, 100] {
                let parts: [&[u8]; 2] = [&bytes[..split], &bytes[split..split + rest]];
                assert_eq!(sha256(&parts).to_vec(), streamed(&parts), "{split} {rest}");
            }
        }
        assert_eq!(sha256(&[]).to_vec(), streamed(&[]));
    }
}
