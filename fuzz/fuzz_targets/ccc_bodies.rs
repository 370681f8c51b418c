//! CCC's `/v1/usage` and `/readyz` bodies as the read API decodes them (serde with the failing
//! pointer, trailing bytes refused), then what the CLI computes from them.
#![no_main]

use agentos_ccc_client::api::{Readiness, assemble};
use agentos_event_schema::ccp::{QuotasResponse, ReadyzResponse, UsageResponse};
use libfuzzer_sys::fuzz_target;
use serde::de::DeserializeOwned;

fn decode<T: DeserializeOwned>(body: &[u8]) -> Option<T> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value: T = match serde_path_to_error::deserialize(&mut de) {
        Ok(v) => v,
        Err(e) => {
            let _ = e.path().to_string();
            return None;
        }
    };
    de.end().ok()?;
    Some(value)
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    match pick % 3 {
        0 => {
            if let Some(usage) = decode::<UsageResponse>(body) {
                let quotas = QuotasResponse::default();
                let _ = assemble(&usage, &quotas, None);
                let _ = serde_json::to_vec(&usage);
            }
        }
        1 => {
            if let Some(body) = decode::<ReadyzResponse>(body) {
                for status in [200, 503] {
                    let r = Readiness { status, body: body.clone() };
                    let _ = (r.is_ready(), r.unreachable_providers());
                }
            }
        }
        _ => {
            if let Some(q) = decode::<QuotasResponse>(body) {
                let _ = serde_json::to_vec(&q);
            }
        }
    }
});
