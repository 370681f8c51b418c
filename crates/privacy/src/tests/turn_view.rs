//! The typed turn and session views against `redact_event`, the definition: every field of a
//! view equals the same field of the redacted JSON (a hashed text as its `sha256`), for ids and
//! names of every form (UUIDs pass, other text is hashed, unknown agents are `other`).

use agentos_event_schema::v1::{Event, PrivacyTier};
use proptest::prelude::*;
use serde_json::Value as Json;

use super::*;

/// A text field's upload form as the redacted JSON has it.
fn upload_text(v: &Json) -> Option<String> {
    match v {
        Json::String(s) => Some(s.clone()),
        Json::Object(o) => o.get("sha256").and_then(Json::as_str).map(str::to_owned),
        _ => None,
    }
}

fn same_as_redaction(events: &[Event]) -> Result<(), TestCaseError> {
    for event in events {
        let json = redact_event(event);
        match event {
            Event::Turn(t) => {
                let v = turn_view(Tier::Full, t).expect("full tier");
                prop_assert!(turn_view(Tier::Minimized, t).is_none());
                let turn = &json["turn"];
                prop_assert_eq!(v.event_id.map(|s| s.into_owned()), upload_text(&json["event_id"]));
                prop_assert_eq!(
                    v.ts.map(|t| t.to_string()),
                    json["ts"].as_str().map(str::to_owned)
                );
                prop_assert_eq!(Some(v.session_id.into_owned()), upload_text(&turn["session_id"]));
                prop_assert_eq!(Some(v.turn_id.into_owned()), upload_text(&turn["turn_id"]));
                prop_assert_eq!(Some(v.model.into_owned()), upload_text(&turn["model"]));
                prop_assert_eq!(Some(v.tokens_in), turn["tokens_in"].as_u64());
                prop_assert_eq!(Some(v.tokens_out), turn["tokens_out"].as_u64());
                prop_assert_eq!(v.cache_read_tokens, turn["cache_read_tokens"].as_u64());
                prop_assert_eq!(v.cache_creation_tokens, turn["cache_creation_tokens"].as_u64());
                prop_assert_eq!(
                    v.cache_creation_1h_tokens,
                    turn["cache_creation_1h_tokens"].as_u64()
                );
                prop_assert_eq!(Some(v.latency_ms), turn["latency_ms"].as_f64());
                prop_assert_eq!(v.capacity_used, turn["capacity_used"].as_f64());
                prop_assert_eq!(v.sidechain, turn["sidechain"].as_bool());
                prop_assert_eq!(
                    v.responded_at.map(|t| t.to_string()),
                    turn["responded_at"].as_str().map(str::to_owned)
                );
                prop_assert_eq!(v.revises.map(|s| s.into_owned()), upload_text(&turn["revises"]));
                prop_assert_eq!(
                    v.cost_provider.map(|s| s.into_owned()),
                    upload_text(&json["cost"]["provider"])
                );
                prop_assert_eq!(v.cost_usd, json["cost"]["estimated_usd"].as_f64());
            }
            Event::Session(s) => {
                let v = session_view(Tier::Full, s).expect("full tier");
                prop_assert!(session_view(Tier::Local, s).is_none());
                prop_assert_eq!(
                    Some(v.session_id.into_owned()),
                    upload_text(&json["session"]["session_id"])
                );
                prop_assert_eq!(v.agent, json["session"]["agent"].as_str());
            }
            _ => {}
        }
    }
    Ok(())
}

#[test]
fn the_views_of_the_sample_events_match_their_redaction() {
    same_as_redaction(&events()).unwrap();
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("0b9e3f4c-1d2a-4b5c-8d7e-6f5a4b3c2d1e".to_owned()),
        Just("claude-code".to_owned()),
        Just("codex".to_owned()),
        Just("2026-01-02T03:04:05Z".to_owned()),
        "[ -~]{0,40}",
        "\\PC{0,12}",
    ]
}

proptest! {
    #[test]
    fn the_views_match_redaction_for_any_ids_and_names(
        t in proptest::collection::vec(text(), 7),
        numbers in proptest::collection::vec(proptest::option::of(0u64..u64::MAX), 3),
        side in proptest::option::of(any::<bool>()),
    ) {
        let mut evs = events();
        if let Event::Session(s) = &mut evs[0] {
            s.session.session_id = t[0].as_str().into();
            s.session.agent = Some(t[1].clone());
            s.session.privacy_tier = PrivacyTier::Full;
        }
        if let Event::Turn(e) = &mut evs[1] {
            e.envelope.event_id = Some(t[2].as_str().into());
            e.turn.session_id = t[0].as_str().into();
            e.turn.turn_id = t[3].as_str().into();
            e.turn.model = t[4].clone();
            e.turn.revises = Some(t[5].as_str().into());
            if let Some(c) = &mut e.cost {
                c.provider = t[6].clone();
            }
            e.turn.cache_read_tokens = numbers[0];
            e.turn.cache_creation_tokens = numbers[1];
            e.turn.cache_creation_1h_tokens = numbers[2];
            e.turn.sidechain = side;
        }
        let mut bare = evs[1].clone();
        if let Event::Turn(e) = &mut bare {
            e.envelope.event_id = None;
            e.envelope.ts = None;
            e.turn.responded_at = None;
            e.turn.capacity_used = None;
            e.cost = None;
        }
        evs.push(bare);
        same_as_redaction(&evs)?;
    }
}
