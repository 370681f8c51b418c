//! [`FakeCcc`]: a [`TestServer`] that answers like CCP's Go shim (`ccp serve`), serving the
//! captured bodies of `fixtures/ccp/` byte for byte with CCP's status codes and content types.
//! Any route can be replaced while it runs ([`FakeCcc::set`]): a restart, a slow `/readyz`,
//! persistence off, a garbage body.

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use crate::{RecordedRequest, Reply, TestServer};

/// CCP's 404 body (Go `http.NotFound`).
pub const NOT_FOUND_BODY: &str = "404 page not found\n";

/// The capture files (relative to `fixtures/ccp/`) served on each route.
pub const CAPTURE_ROUTES: [(&str, &str); 7] = [
    ("/readyz", "readyz_ok.json"),
    ("/v1/usage", "v1_usage.json"),
    ("/v1/quotas", "v1_quotas.json"),
    ("/v1/usage/samples", "v1_usage_samples.json"),
    ("/v1/usage/rollups", "v1_usage_rollups_hour.json"),
    ("/v1/usage/rollups?granularity=day", "v1_usage_rollups_day_empty.json"),
    ("/metrics", "metrics_preemptive.prom"),
];

/// The repository's `fixtures/ccp/` directory.
pub fn captures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/ccp")
}

/// The bytes of one capture.
///
/// # Panics
/// When the file cannot be read (a broken checkout).
#[allow(clippy::panic)]
pub fn capture(name: &str) -> Vec<u8> {
    let path = captures_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// A JSON reply as CCP's `json.Encoder` sends it.
pub fn ccp_json(status: u16, body: &[u8]) -> Reply {
    Reply::Respond {
        status,
        headers: vec![("Content-Type".into(), "application/json".into())],
        body: body.to_vec(),
    }
}

/// A Go `http.Error` reply: text, `nosniff`.
pub fn ccp_error(status: u16, body: &str) -> Reply {
    Reply::text(status, body).with_header("X-Content-Type-Options", "nosniff")
}

/// A fake CCC on 127.0.0.1. Routes are keyed by path, or by path and query for a route that
/// depends on it (`/v1/usage/rollups?granularity=day`); a request whose path and query has
/// no route of its own gets its path's route; an unknown path gets CCP's 404.
pub struct FakeCcc {
    server: TestServer,
    routes: Arc<Mutex<BTreeMap<String, Reply>>>,
    sequences: Arc<Mutex<BTreeMap<String, VecDeque<Reply>>>>,
}

impl std::fmt::Debug for FakeCcc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeCcc").field("url", &self.server.url()).finish_non_exhaustive()
    }
}

impl FakeCcc {
    /// A CCC serving the captures: `/healthz` `ok`, `/readyz` 200, usage, quotas, samples,
    /// hour rollups (empty day rollups), `/metrics`, `POST /v1/quotas/reload` 204.
    pub fn from_captures() -> FakeCcc {
        let mut routes = BTreeMap::new();
        routes.insert("/healthz".to_owned(), Reply::text(200, "ok"));
        routes.insert("/v1/quotas/reload".to_owned(), Reply::empty(204));
        for (route, file) in CAPTURE_ROUTES {
            let body = capture(file);
            let reply = if route == "/metrics" {
                Reply::Respond {
                    status: 200,
                    headers: vec![("Content-Type".into(), "text/plain; version=0.0.4".into())],
                    body,
                }
            } else {
                ccp_json(200, &body)
            };
            routes.insert(route.to_owned(), reply);
        }
        FakeCcc::with_routes(routes)
    }

    /// A CCC with exactly these routes.
    pub fn with_routes(routes: BTreeMap<String, Reply>) -> FakeCcc {
        let routes = Arc::new(Mutex::new(routes));
        let sequences: Arc<Mutex<BTreeMap<String, VecDeque<Reply>>>> = Arc::default();
        let (shared, seqs) = (routes.clone(), sequences.clone());
        let server = TestServer::start(move |req: &RecordedRequest| {
            let path = req.path.split('?').next().unwrap_or_default();
            // A scripted sequence first: its replies in turn, until it runs out.
            if let Ok(mut seqs) = seqs.lock()
                && let Some(next) = seqs.get_mut(path).and_then(VecDeque::pop_front)
            {
                return next;
            }
            let routes = shared.lock().map(|r| r.clone()).unwrap_or_default();
            route_for(&routes, &req.path).unwrap_or_else(|| ccp_error(404, NOT_FOUND_BODY))
        });
        FakeCcc { server, routes, sequences }
    }

    /// Answer the next requests to `path` (any query) with these replies in turn, then with
    /// its route again: a CCC that changes between polls (a restart) without any timing.
    pub fn queue(&self, path: &str, replies: impl IntoIterator<Item = Reply>) {
        if let Ok(mut s) = self.sequences.lock() {
            s.entry(path.to_owned()).or_default().extend(replies);
        }
    }

    /// Replace (or add) the reply of a route.
    pub fn set(&self, route: &str, reply: Reply) {
        if let Ok(mut r) = self.routes.lock() {
            r.insert(route.to_owned(), reply);
        }
    }

    /// Remove a route (it then answers CCP's 404, like persistence off for the samples).
    pub fn remove(&self, route: &str) {
        if let Ok(mut r) = self.routes.lock() {
            r.remove(route);
        }
    }

    /// Base URL.
    pub fn url(&self) -> String {
        self.server.url()
    }

    /// Requests received so far.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.server.requests()
    }
}

/// The reply of the most specific route matching `target` (path and query).
fn route_for(routes: &BTreeMap<String, Reply>, target: &str) -> Option<Reply> {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let params: Vec<&str> = query.split('&').filter(|p| !p.is_empty()).collect();
    routes
        .iter()
        .filter_map(|(route, reply)| {
            let (rpath, rquery) = route.split_once('?').unwrap_or((route, ""));
            let wanted: Vec<&str> = rquery.split('&').filter(|p| !p.is_empty()).collect();
            (rpath == path && wanted.iter().all(|w| params.contains(w)))
                .then_some((wanted.len(), reply))
        })
        .max_by_key(|(n, _)| *n)
        .map(|(_, reply)| reply.clone())
}
