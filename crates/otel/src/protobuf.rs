//! OTLP/HTTP protobuf (`application/x-protobuf`) for the receiver: a small hand-written reader
//! of the wire format for `ExportLogsServiceRequest` (the fields `docs/otel.md` lists) into the
//! same types the JSON path reads, and a well-formedness walk for metrics requests. Unknown
//! fields are skipped, as protobuf requires; every length is checked against what is left, so
//! any input ends in a value or an error, never a panic or an allocation beyond the input.
//! Array and key-value-list attribute values are skipped (AgentOS reads scalars only).

use crate::Error;
use crate::model::{
    AnyValue, ExportLogsServiceRequest, KeyValue, LogRecord, Resource, ResourceLogs, Scope,
    ScopeLogs,
};

/// A field's value as the wire format carries it.
enum Wire<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32,
}

struct Reader<'a> {
    buf: &'a [u8],
}

fn bad(reason: &str) -> Error {
    Error::Decode { what: "protobuf request", reason: reason.to_owned() }
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Result<u64, Error> {
        let mut v = 0u64;
        for i in 0..10 {
            let (&b, rest) = self.buf.split_first().ok_or_else(|| bad("truncated varint"))?;
            self.buf = rest;
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(bad("varint longer than 10 bytes"))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], Error> {
        if n > self.buf.len() {
            return Err(bad("a length runs past the end"));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    /// The next field: its number and value; `None` at the end.
    fn field(&mut self) -> Result<Option<(u64, Wire<'a>)>, Error> {
        if self.buf.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        let (number, kind) = (key >> 3, key & 7);
        if number == 0 {
            return Err(bad("field number 0"));
        }
        let value = match kind {
            0 => Wire::Varint(self.varint()?),
            1 => {
                let b = self.take(8)?;
                Wire::Fixed64(u64::from_le_bytes(b.try_into().map_err(|_| bad("fixed64"))?))
            }
            2 => {
                let n = usize::try_from(self.varint()?).map_err(|_| bad("length too large"))?;
                Wire::Bytes(self.take(n)?)
            }
            5 => {
                self.take(4)?;
                Wire::Fixed32
            }
            _ => return Err(bad("unsupported wire type (groups are not used by OTLP)")),
        };
        Ok(Some((number, value)))
    }
}

/// Walk a message's fields, calling `f` for each.
fn fields<'a>(
    buf: &'a [u8],
    mut f: impl FnMut(u64, Wire<'a>) -> Result<(), Error>,
) -> Result<(), Error> {
    let mut r = Reader { buf };
    while let Some((n, v)) = r.field()? {
        f(n, v)?;
    }
    Ok(())
}

fn string(v: &Wire<'_>) -> Result<String, Error> {
    match v {
        Wire::Bytes(b) => {
            std::str::from_utf8(b).map(str::to_owned).map_err(|_| bad("a string is not UTF-8"))
        }
        _ => Err(bad("a string field of the wrong wire type")),
    }
}

fn bytes<'a>(v: &Wire<'a>) -> Result<&'a [u8], Error> {
    match v {
        Wire::Bytes(b) => Ok(b),
        _ => Err(bad("a message field of the wrong wire type")),
    }
}

fn any_value(buf: &[u8]) -> Result<Option<AnyValue>, Error> {
    let mut out = None;
    fields(buf, |n, v| {
        out = match (n, &v) {
            (1, _) => Some(AnyValue::String(string(&v)?)),
            (2, Wire::Varint(b)) => Some(AnyValue::Bool(*b != 0)),
            // int64 is two's complement on the wire.
            (3, Wire::Varint(i)) => Some(AnyValue::Int(*i as i64)),
            (4, Wire::Fixed64(d)) => Some(AnyValue::Double(f64::from_bits(*d))),
            _ => out.take(),
        };
        Ok(())
    })?;
    Ok(out)
}

fn key_value(buf: &[u8]) -> Result<Option<KeyValue>, Error> {
    let (mut key, mut value) = (String::new(), None);
    fields(buf, |n, v| {
        match n {
            1 => key = string(&v)?,
            2 => value = any_value(bytes(&v)?)?,
            _ => {}
        }
        Ok(())
    })?;
    Ok(value.map(|value| KeyValue { key, value }))
}

fn attributes_into(out: &mut Vec<KeyValue>, v: &Wire<'_>) -> Result<(), Error> {
    if let Some(kv) = key_value(bytes(v)?)? {
        out.push(kv);
    }
    Ok(())
}

fn log_record(buf: &[u8]) -> Result<LogRecord, Error> {
    let mut rec = LogRecord::default();
    fields(buf, |n, v| {
        match (n, &v) {
            (1, Wire::Fixed64(t)) => rec.time_unix_nano = *t,
            (11, Wire::Fixed64(t)) => rec.observed_time_unix_nano = *t,
            (2, Wire::Varint(s)) => rec.severity_number = i32::try_from(*s).unwrap_or(0),
            (3, _) => rec.severity_text = string(&v)?,
            (5, _) => rec.body = any_value(bytes(&v)?)?,
            (6, _) => attributes_into(&mut rec.attributes, &v)?,
            (12, _) => rec.event_name = string(&v)?,
            _ => {}
        }
        Ok(())
    })?;
    Ok(rec)
}

/// Read an `ExportLogsServiceRequest` from its protobuf encoding.
pub fn decode_logs(buf: &[u8]) -> Result<ExportLogsServiceRequest, Error> {
    let mut req = ExportLogsServiceRequest::default();
    fields(buf, |n, v| {
        if n != 1 {
            return Ok(());
        }
        let mut rl = ResourceLogs::default();
        fields(bytes(&v)?, |n, v| {
            match n {
                1 => {
                    let mut res = Resource::default();
                    fields(bytes(&v)?, |n, v| {
                        if n == 1 {
                            attributes_into(&mut res.attributes, &v)?;
                        }
                        Ok(())
                    })?;
                    rl.resource = res;
                }
                2 => {
                    let mut sl = ScopeLogs::default();
                    fields(bytes(&v)?, |n, v| {
                        match n {
                            1 => {
                                let mut scope = Scope::default();
                                fields(bytes(&v)?, |n, v| {
                                    match n {
                                        1 => scope.name = string(&v)?,
                                        2 => scope.version = string(&v)?,
                                        _ => {}
                                    }
                                    Ok(())
                                })?;
                                sl.scope = scope;
                            }
                            2 => sl.log_records.push(log_record(bytes(&v)?)?),
                            _ => {}
                        }
                        Ok(())
                    })?;
                    rl.scope_logs.push(sl);
                }
                _ => {}
            }
            Ok(())
        })?;
        req.resource_logs.push(rl);
        Ok(())
    })?;
    Ok(req)
}

/// Check a protobuf `ExportMetricsServiceRequest` is well-formed down to its metrics and count
/// them (AgentOS records no metric it receives).
pub fn count_metrics(buf: &[u8]) -> Result<usize, Error> {
    let mut n = 0;
    fields(buf, |f, v| {
        if f == 1 {
            fields(bytes(&v)?, |f, v| {
                if f == 2 {
                    fields(bytes(&v)?, |f, v| {
                        if f == 2 {
                            fields(bytes(&v)?, |_, _| Ok(()))?;
                            n += 1;
                        }
                        Ok(())
                    })?;
                }
                Ok(())
            })?;
        }
        Ok(())
    })?;
    Ok(n)
}
