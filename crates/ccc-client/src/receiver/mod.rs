//! The OTLP/HTTP receiver for Claude Code's own telemetry (JSON or protobuf encoding):
//! `POST /v1/logs` records each `claude_code.api_request` as a v1 turn in `events.jsonl`;
//! `POST /v1/metrics` is checked and acknowledged (the same requests, aggregated: not recorded).
//!
//! One request per connection, handled in turn, each bounded: headers at most
//! [`MAX_HEADER_BYTES`], a body at most the configured limit (413 beyond it, unread), a read
//! timeout. Anything malformed gets a 4xx with a one-line reason (never the payload's text) and
//! the receiver goes on. A turn is appended only when the log has neither its id (a re-sent
//! export) nor its usage fingerprint (the same response imported from the transcript). The
//! fingerprints of the turns it appends are listed in
//! [`agentos_otel::receive::RECEIVED_FINGERPRINTS`], so a transcript import run later skips
//! them too: the dedupe holds in either order.

mod seen;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use agentos_event_schema::v1::PrivacyTier;
use camino::Utf8Path;
use serde_json::json;

use crate::Error;
use crate::eventlog::JsonlLog;
use crate::recorder::event_line;
use seen::Seen;

/// Largest request head (request line and headers).
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// Default largest body (the OpenTelemetry exporters' batches are far smaller).
pub const DEFAULT_MAX_BODY: usize = 8 * 1024 * 1024;
/// How long a client may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// What one request did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Handled {
    /// HTTP status answered.
    pub status: u16,
    /// Turns appended.
    pub recorded: usize,
    /// API requests already in the log (same id, or imported: same usage fingerprint).
    pub duplicates: usize,
    /// API request records rejected (no session, model or time).
    pub rejected: usize,
    /// Other records or metrics accepted and not recorded.
    pub ignored: usize,
    /// Why the request was refused, when it was (one line, no payload text).
    pub reason: Option<String>,
    /// The request was protobuf (answered with an empty protobuf response).
    pub protobuf: bool,
}

/// The receiver: a listening socket and the event log it records into.
#[derive(Debug)]
pub struct Receiver {
    listener: TcpListener,
    events: JsonlLog,
    received: JsonlLog,
    tier: PrivacyTier,
    max_body: usize,
    seen: Seen,
}

impl Receiver {
    /// Listen on `addr` and record into `<data_dir>/events.jsonl`; sessions first seen here
    /// are recorded in `tier`.
    pub fn bind(addr: SocketAddr, data_dir: &Utf8Path, tier: PrivacyTier) -> Result<Self, Error> {
        let listener = TcpListener::bind(addr)
            .map_err(|source| Error::Listen { addr: addr.to_string(), source })?;
        std::fs::create_dir_all(data_dir)
            .map_err(|e| Error::io("create directory", data_dir, e))?;
        let events = JsonlLog::new(data_dir.join("events.jsonl"));
        let received = JsonlLog::new(data_dir.join(agentos_otel::receive::RECEIVED_FINGERPRINTS));
        let mut seen = Seen::default();
        seen.refresh(&events)?;
        Ok(Receiver { listener, events, received, tier, max_body: DEFAULT_MAX_BODY, seen })
    }

    /// Refuse bodies larger than `bytes` (413).
    pub fn with_max_body(mut self, bytes: usize) -> Self {
        self.max_body = bytes;
        self
    }

    /// The address it listens on (the port, when bound to port 0).
    pub fn local_addr(&self) -> Result<SocketAddr, Error> {
        self.listener
            .local_addr()
            .map_err(|source| Error::Listen { addr: "the receiver socket".to_owned(), source })
    }

    /// Accept one connection and answer its request. A client that misbehaves (times out,
    /// hangs up) costs one connection, never the receiver; only a failure to record (the
    /// log cannot be written) is an error.
    pub fn serve_one(&mut self) -> Result<Handled, Error> {
        let (stream, _) = self
            .listener
            .accept()
            .map_err(|source| Error::Listen { addr: "the receiver socket".to_owned(), source })?;
        let _ = stream.set_read_timeout(Some(READ_TIMEOUT));
        let _ = stream.set_write_timeout(Some(READ_TIMEOUT));
        let mut reader = BufReader::new(&stream);
        let handled = match read_request(&mut reader, self.max_body) {
            Ok(req) => self.handle(&req.method, &req.path, &req.content_type, &req.body)?,
            Err((status, reason)) => refused(status, reason),
        };
        respond(&stream, &handled);
        Ok(handled)
    }

    /// Handle one request (the socket-free part, also for tests).
    pub fn handle(
        &mut self,
        method: &str,
        path: &str,
        content_type: &str,
        body: &[u8],
    ) -> Result<Handled, Error> {
        let path = path.split('?').next().unwrap_or_default();
        if !matches!(path, "/v1/logs" | "/v1/metrics") {
            return Ok(refused(
                404,
                format!("no such endpoint {path:?}: use /v1/logs or /v1/metrics"),
            ));
        }
        if method != "POST" {
            return Ok(refused(405, "use POST".to_owned()));
        }
        let ct = content_type.to_ascii_lowercase();
        let protobuf = ct.starts_with("application/x-protobuf");
        if !protobuf && !ct.is_empty() && !ct.starts_with("application/json") {
            return Ok(refused(415, "send application/json or application/x-protobuf".to_owned()));
        }
        if path == "/v1/metrics" {
            let counted = if protobuf {
                agentos_otel::protobuf::count_metrics(body)
            } else {
                agentos_otel::receive::metric_names(body).map(|n| n.len())
            };
            return Ok(match counted {
                Ok(n) => Handled { status: 200, ignored: n, protobuf, ..Handled::default() },
                Err(e) => refused(400, e.to_string()),
            });
        }
        let parsed = if protobuf {
            agentos_otel::protobuf::decode_logs(body)
        } else {
            agentos_otel::parse_logs(body)
        };
        let request = match parsed {
            Ok(r) => r,
            Err(e) => return Ok(refused(400, e.to_string())),
        };
        let received = agentos_otel::receive::claude_code_requests(&request);
        self.seen.refresh(&self.events)?;
        let mut handled = Handled {
            status: 200,
            protobuf,
            rejected: received.rejected,
            ignored: received.other,
            ..Handled::default()
        };
        let mut lines = String::new();
        let mut fingerprints = String::new();
        for req in &received.requests {
            if self.seen.has_id(&req.event_id()) || self.seen.has_fingerprint(&req.fingerprint()) {
                handled.duplicates += 1;
                continue;
            }
            let mut events = Vec::new();
            if !self.seen.has_session(&req.session_id) {
                events.push(req.session_event(self.tier));
            }
            events.push(req.turn_event());
            // Both lines or none: a turn out of the v1 limits (e.g. a session id outside the
            // alphabet) is rejected with its session event.
            let Ok(these) = events.iter().map(event_line).collect::<Result<Vec<_>, _>>() else {
                handled.rejected += 1;
                continue;
            };
            for (event, line) in events.iter().zip(these) {
                lines.push_str(&line);
                lines.push('\n');
                self.seen.note(event);
            }
            fingerprints.push_str(&agentos_otel::receive::fingerprint_line(&req.fingerprint()));
            handled.recorded += 1;
        }
        if !lines.is_empty() {
            // The events first: a crash in between can only let a later transcript import
            // write the same response again, never lose one.
            self.events.appender()?.append_lines(&lines)?;
            self.received.appender()?.append_lines(&fingerprints)?;
        }
        Ok(handled)
    }
}

fn refused(status: u16, reason: String) -> Handled {
    Handled { status, reason: Some(reason), ..Handled::default() }
}

struct Request {
    method: String,
    path: String,
    content_type: String,
    body: Vec<u8>,
}

/// Read one request with bounded memory; `Err((status, reason))` for what cannot be served.
fn read_request(reader: &mut impl BufRead, max_body: usize) -> Result<Request, (u16, String)> {
    let mut head = Vec::new();
    loop {
        let before = head.len();
        let n = reader
            .take((MAX_HEADER_BYTES + 1 - head.len().min(MAX_HEADER_BYTES)) as u64)
            .read_until(b'\n', &mut head)
            .map_err(|_| (408, "the request did not arrive in time".to_owned()))?;
        if head.len() > MAX_HEADER_BYTES {
            return Err((431, "request headers too large".to_owned()));
        }
        if n == 0 {
            return Err((400, "incomplete request".to_owned()));
        }
        if head[before..].iter().all(|b| matches!(b, b'\r' | b'\n')) && before > 0 {
            break;
        }
    }
    let head = String::from_utf8_lossy(&head);
    let mut lines = head.lines();
    let mut first = lines.next().unwrap_or_default().split_whitespace();
    let (method, path) = (first.next().unwrap_or_default(), first.next().unwrap_or_default());
    let mut content_type = String::new();
    let mut length = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else { continue };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-type" => content_type = value.to_owned(),
            "content-length" => {
                length = Some(
                    value.parse::<usize>().map_err(|_| (400, "bad Content-Length".to_owned()))?,
                )
            }
            "transfer-encoding" if !value.eq_ignore_ascii_case("identity") => {
                return Err((411, "send a Content-Length (no chunked encoding)".to_owned()));
            }
            "content-encoding" if !value.eq_ignore_ascii_case("identity") => {
                return Err((
                    415,
                    "compressed bodies are not supported: set OTEL_EXPORTER_OTLP_COMPRESSION=none"
                        .to_owned(),
                ));
            }
            _ => {}
        }
    }
    let length = match (method, length) {
        ("POST", None) => return Err((411, "send a Content-Length".to_owned())),
        (_, l) => l.unwrap_or(0),
    };
    if length > max_body {
        return Err((413, format!("body of {length} bytes is over the {max_body}-byte limit")));
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).map_err(|_| (400, "incomplete body".to_owned()))?;
    Ok(Request { method: method.to_owned(), path: path.to_owned(), content_type, body })
}

fn respond(mut stream: &TcpStream, h: &Handled) {
    // An empty `Export*ServiceResponse` is the empty protobuf message.
    let (content_type, body) = if h.protobuf && h.reason.is_none() {
        ("application/x-protobuf", String::new())
    } else {
        ("application/json", json_answer(h))
    };
    let text = match h.status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Payload Too Large",
        415 => "Unsupported Media Type",
        431 => "Request Header Fields Too Large",
        _ => "Error",
    };
    let head = format!(
        "HTTP/1.1 {} {text}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        h.status,
        body.len()
    );
    // The client may be gone; nothing to do about it.
    let _ = stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(body.as_bytes()));
    let _ = stream.flush();
}

fn json_answer(h: &Handled) -> String {
    match &h.reason {
        // google.rpc.Status, as OTLP/HTTP answers failures.
        Some(reason) => json!({"code": 3, "message": reason}),
        None if h.rejected > 0 => json!({"partialSuccess": {
            "rejectedLogRecords": h.rejected.to_string(),
            "errorMessage": "api_request records without session.id, model or a time, or out of range",
        }}),
        None => json!({"partialSuccess": {}}),
    }
    .to_string()
}
