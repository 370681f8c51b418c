//! Rows laid out as Python's `json.dumps(row, ensure_ascii=False)` writes them, so a file the
//! Python tracker and AgentOS both append to reads as one: `", "` between items, `": "` after
//! keys, non-ASCII text as it is, floats as Python's `repr` (`118.0`, `1e-05`, `1e+16`).
//! Differences: NaN and infinities (which Python writes as the non-JSON `NaN`/`Infinity`)
//! are written as `null`.

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::Formatter;

/// Python's default separators and float `repr`; everything else is serde_json's compact
/// output, whose string escapes match Python's with `ensure_ascii=False`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PyFormatter;

impl Formatter for PyFormatter {
    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if first { Ok(()) } else { w.write_all(b", ") }
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(b": ")
    }

    fn write_f64<W: ?Sized + Write>(&mut self, w: &mut W, value: f64) -> io::Result<()> {
        w.write_all(py_float_repr(value).as_bytes())
    }

    fn write_f32<W: ?Sized + Write>(&mut self, w: &mut W, value: f32) -> io::Result<()> {
        w.write_all(py_float_repr(f64::from(value)).as_bytes())
    }
}

/// Python's `json.dumps(value, indent=2, ensure_ascii=False)`: serde_json's pretty layout
/// (two spaces, `": "`, `[]`/`{}` when empty) with Python's float `repr`.
#[derive(Debug, Default)]
pub(crate) struct PyPrettyFormatter(serde_json::ser::PrettyFormatter<'static>);

macro_rules! delegate {
    ($($name:ident($($arg:ident: $ty:ty),*);)*) => {$(
        fn $name<W: ?Sized + Write>(&mut self, w: &mut W $(, $arg: $ty)*) -> io::Result<()> {
            self.0.$name(w $(, $arg)*)
        }
    )*};
}

impl Formatter for PyPrettyFormatter {
    delegate! {
        begin_array();
        end_array();
        begin_array_value(first: bool);
        end_array_value();
        begin_object();
        end_object();
        begin_object_key(first: bool);
        begin_object_value();
        end_object_value();
    }

    fn write_f64<W: ?Sized + Write>(&mut self, w: &mut W, value: f64) -> io::Result<()> {
        w.write_all(py_float_repr(value).as_bytes())
    }

    fn write_f32<W: ?Sized + Write>(&mut self, w: &mut W, value: f32) -> io::Result<()> {
        w.write_all(py_float_repr(f64::from(value)).as_bytes())
    }
}

/// `value` as Python's indented JSON (no trailing newline).
pub(crate) fn to_py_json_pretty<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(256);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, PyPrettyFormatter::default());
    value.serialize(&mut ser)?;
    Ok(out)
}

/// `value` as one line of Python-style JSON (no newline).
pub(crate) fn to_py_json<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(256);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, PyFormatter);
    value.serialize(&mut ser)?;
    Ok(out)
}

/// Python's `repr(float)` of a finite value: the shortest digits that read back as `value`,
/// fixed notation for decimal exponents −4 to 15 (always with a fraction: `118.0`), else
/// scientific with a signed, at least two-digit exponent (`1e-05`, `1.5e+16`).
pub(crate) fn py_float_repr(value: f64) -> String {
    if !value.is_finite() {
        return "null".to_owned();
    }
    // Rust's `{:e}` is the shortest round-trip representation: `-1.5e-7`, `1e16`, `0e0`.
    let sci = format!("{value:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    if (-4..16).contains(&exp) {
        if exp >= 0 {
            let point = exp as usize + 1;
            let mut int_part = digits.clone();
            while int_part.len() < point {
                int_part.push('0');
            }
            let (int, frac) = int_part.split_at(point);
            let frac = if frac.is_empty() { "0" } else { frac };
            format!("{sign}{int}.{frac}")
        } else {
            let zeros = "0".repeat((-exp - 1) as usize);
            format!("{sign}0.{zeros}{digits}")
        }
    } else {
        let (first, rest) = digits.split_at(1.min(digits.len()));
        let frac = if rest.is_empty() { String::new() } else { format!(".{rest}") };
        let esign = if exp < 0 { '-' } else { '+' };
        format!("{sign}{first}{frac}e{esign}{:02}", exp.abs())
    }
}
