//! Test support for AgentOS: [`TestServer`], a scriptable HTTP/1.1 server bound to
//! `127.0.0.1` (never any other address) that records every request and answers with whatever
//! the test's handler says — a response, a delay, or a dropped connection.
//!
//! It is not a general web server: one request per connection (`Connection: close`),
//! `Content-Length` or chunked request bodies, bounded reads (5 s timeout, 16 MiB body).
//! Used by the licensing, ccc-client, xtask and acceptance tests as a fake CCC or license
//! issuer; [`FakeCcc`] is a fake CCC serving CCP's captured answers byte for byte.
//!
//! ```
//! use agentos_testkit::{Reply, TestServer};
//! let server = TestServer::start(|req| Reply::json(200, &format!("{{\"path\":\"{}\"}}", req.path)));
//! assert!(server.url().starts_with("http://127.0.0.1:"));
//! ```
#![deny(missing_docs)]

pub mod agent_history;
pub mod ccp_logs;
pub mod fake_ccc;
pub mod git_repo;
pub mod recorded;

pub use fake_ccc::FakeCcc;

/// A benchmark's size: the number after `flag` on its command line (`-- --events 100000`),
/// else the environment variable `env`, else `default`; `_` separators allowed (`1_000_000`).
pub fn bench_size(flag: &str, env: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == flag)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .or_else(|| std::env::var(env).ok())
        .and_then(|s| s.replace('_', "").parse().ok())
        .unwrap_or(default)
}

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

const MAX_BODY: usize = 16 * 1024 * 1024;
const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// A request the server received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    /// `GET`, `POST` …
    pub method: String,
    /// Path and query, e.g. `/v1/usage?x=1`.
    pub path: String,
    /// Headers in arrival order, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Vec<u8>,
}

impl RecordedRequest {
    /// The first header with this (case-insensitive) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    }

    /// The body as UTF-8 text (lossy).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// What the server does with a request.
#[derive(Clone, Debug)]
pub enum Reply {
    /// Send this response.
    Respond {
        /// HTTP status code.
        status: u16,
        /// Extra headers (`Content-Length` and `Connection` are added).
        headers: Vec<(String, String)>,
        /// Body bytes.
        body: Vec<u8>,
    },
    /// Wait, then do the inner reply (a slow server).
    Delay(Duration, Box<Reply>),
    /// Close the connection without answering (a dropped connection).
    Drop,
    /// Send `status` and headers, then the body `chunk` by `chunk`, `times` times with
    /// `every` between (a server that drips its body; bounded, ends with the connection).
    Drip {
        /// HTTP status code.
        status: u16,
        /// One piece of the body.
        chunk: Vec<u8>,
        /// The pause before each piece.
        every: Duration,
        /// How many pieces.
        times: usize,
    },
}

impl Reply {
    /// A JSON response.
    pub fn json(status: u16, body: &str) -> Reply {
        Reply::Respond {
            status,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    /// A plain-text response (Go `http.Error` style: body plus newline).
    pub fn text(status: u16, body: &str) -> Reply {
        Reply::Respond {
            status,
            headers: vec![("Content-Type".into(), "text/plain; charset=utf-8".into())],
            body: body.as_bytes().to_vec(),
        }
    }

    /// An empty response.
    pub fn empty(status: u16) -> Reply {
        Reply::Respond { status, headers: Vec::new(), body: Vec::new() }
    }

    /// Add a header to a response (no effect on `Drop`).
    pub fn with_header(mut self, name: &str, value: &str) -> Reply {
        match &mut self {
            Reply::Respond { headers, .. } => headers.push((name.into(), value.into())),
            Reply::Delay(_, inner) => **inner = inner.as_ref().clone().with_header(name, value),
            Reply::Drop | Reply::Drip { .. } => {}
        }
        self
    }
}

type Handler = dyn Fn(&RecordedRequest) -> Reply + Send + Sync + 'static;

/// A fake HTTP server on `127.0.0.1:<ephemeral port>`. Stops when dropped.
pub struct TestServer {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
    connections: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    accept_thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for TestServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestServer").field("addr", &self.addr).finish_non_exhaustive()
    }
}

impl TestServer {
    /// Start a server answering every request with `handler`.
    ///
    /// # Panics
    /// When no loopback port can be bound (a broken test machine).
    #[allow(clippy::expect_used)]
    pub fn start(
        handler: impl Fn(&RecordedRequest) -> Reply + Send + Sync + 'static,
    ) -> TestServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let connections = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        let accept_thread = {
            let (requests, connections, stop) =
                (requests.clone(), connections.clone(), stop.clone());
            std::thread::spawn(move || {
                for stream in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    connections.fetch_add(1, Ordering::SeqCst);
                    let (requests, handler) = (requests.clone(), handler.clone());
                    std::thread::spawn(move || serve(stream, &requests, handler.as_ref()));
                }
            })
        };
        TestServer { addr, requests, connections, stop, accept_thread: Some(accept_thread) }
    }

    /// A server that answers every request with the same reply.
    pub fn always(reply: Reply) -> TestServer {
        TestServer::start(move |_| reply.clone())
    }

    /// Base URL, `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// TCP connections accepted so far (including ones that sent no request).
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop; the connection is not counted once stop is set.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.accept_thread.take() {
            let _ = t.join();
        }
    }
}

/// A `http://127.0.0.1:<port>` URL where nothing listens (connections are refused).
///
/// # Panics
/// When no loopback port can be bound.
#[allow(clippy::expect_used)]
pub fn refused_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    drop(listener);
    format!("http://{addr}")
}

fn serve(stream: TcpStream, requests: &Mutex<Vec<RecordedRequest>>, handler: &Handler) {
    let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
    let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
    let Ok(read_half) = stream.try_clone() else { return };
    let mut reader = BufReader::new(read_half);
    let Some(request) = read_request(&mut reader) else { return };
    if let Ok(mut r) = requests.lock() {
        r.push(request.clone());
    }
    let mut reply = handler(&request);
    loop {
        match reply {
            Reply::Delay(d, inner) => {
                std::thread::sleep(d);
                reply = *inner;
            }
            Reply::Drop => {
                let _ = stream.shutdown(Shutdown::Both);
                return;
            }
            Reply::Respond { status, headers, body } => {
                write_response(stream, status, &headers, &body);
                return;
            }
            Reply::Drip { status, chunk, every, times } => {
                drip(stream, status, &chunk, every, times);
                return;
            }
        }
    }
}

fn read_request(reader: &mut impl BufRead) -> Option<RecordedRequest> {
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_owned();
    let path = parts.next()?.to_owned();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
    }
    let find = |name: &str| headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let body = if find("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        read_chunked(reader)?
    } else {
        let len: usize = find("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
        if len > MAX_BODY {
            return None;
        }
        let mut body = vec![0; len];
        reader.read_exact(&mut body).ok()?;
        body
    };
    Some(RecordedRequest { method, path, headers, body })
}

fn read_chunked(reader: &mut impl BufRead) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size_line = String::new();
        reader.read_line(&mut size_line).ok()?;
        let size = usize::from_str_radix(size_line.trim().split(';').next()?, 16).ok()?;
        if size == 0 {
            let mut trailer = String::new();
            reader.read_line(&mut trailer).ok()?;
            return Some(body);
        }
        if body.len() + size > MAX_BODY {
            return None;
        }
        let start = body.len();
        body.resize(start + size, 0);
        reader.read_exact(&mut body[start..]).ok()?;
        let mut crlf = [0; 2];
        reader.read_exact(&mut crlf).ok()?;
    }
}

fn write_response(mut stream: TcpStream, status: u16, headers: &[(String, String)], body: &[u8]) {
    let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\nConnection: close\r\n\r\n", body.len()));
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Write);
}

fn drip(mut stream: TcpStream, status: u16, chunk: &[u8], every: Duration, times: usize) {
    let head = format!("HTTP/1.1 {status} {}\r\nConnection: close\r\n\r\n", reason(status));
    if stream.write_all(head.as_bytes()).and_then(|()| stream.flush()).is_err() {
        return;
    }
    for _ in 0..times {
        std::thread::sleep(every);
        // The client gave up (its timeout ran out): stop dripping.
        if stream.write_all(chunk).and_then(|()| stream.flush()).is_err() {
            return;
        }
    }
    let _ = stream.shutdown(Shutdown::Write);
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        410 => "Gone",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}
