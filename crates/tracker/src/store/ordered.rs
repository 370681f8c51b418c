//! A JSON value that keeps its objects' key order (serde_json's `Value` sorts keys without
//! the workspace-wide `preserve_order` feature): for rows copied whole into another document,
//! such as the records `audit --json` lists.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// A JSON value with objects in the order their keys were read.
#[derive(Debug, Clone, PartialEq)]
pub enum OrderedValue {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number.
    Number(serde_json::Number),
    /// A string.
    String(String),
    /// An array.
    Array(Vec<OrderedValue>),
    /// An object, keys in order (a repeated key is kept twice, as written).
    Object(Vec<(String, OrderedValue)>),
}

impl OrderedValue {
    /// Parse JSON text.
    ///
    /// # Errors
    /// serde_json's error when `text` is not JSON.
    pub fn parse(text: &str) -> serde_json::Result<OrderedValue> {
        serde_json::from_str(text)
    }
}

impl Serialize for OrderedValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            OrderedValue::Null => s.serialize_unit(),
            OrderedValue::Bool(b) => s.serialize_bool(*b),
            OrderedValue::Number(n) => n.serialize(s),
            OrderedValue::String(t) => s.serialize_str(t),
            OrderedValue::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            OrderedValue::Object(entries) => {
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

struct OrderedVisitor;

impl<'de> Visitor<'de> for OrderedVisitor {
    type Value = OrderedValue;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_unit<E>(self) -> Result<OrderedValue, E> {
        Ok(OrderedValue::Null)
    }
    fn visit_none<E>(self) -> Result<OrderedValue, E> {
        Ok(OrderedValue::Null)
    }
    fn visit_bool<E>(self, b: bool) -> Result<OrderedValue, E> {
        Ok(OrderedValue::Bool(b))
    }
    fn visit_i64<E>(self, n: i64) -> Result<OrderedValue, E> {
        Ok(OrderedValue::Number(n.into()))
    }
    fn visit_u64<E>(self, n: u64) -> Result<OrderedValue, E> {
        Ok(OrderedValue::Number(n.into()))
    }
    fn visit_f64<E>(self, n: f64) -> Result<OrderedValue, E> {
        Ok(serde_json::Number::from_f64(n).map_or(OrderedValue::Null, OrderedValue::Number))
    }
    fn visit_str<E>(self, s: &str) -> Result<OrderedValue, E> {
        Ok(OrderedValue::String(s.to_owned()))
    }
    fn visit_string<E>(self, s: String) -> Result<OrderedValue, E> {
        Ok(OrderedValue::String(s))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OrderedValue, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(OrderedValue::Array(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<OrderedValue, A::Error> {
        let mut entries = Vec::new();
        while let Some((k, v)) = map.next_entry::<String, OrderedValue>()? {
            entries.push((k, v));
        }
        Ok(OrderedValue::Object(entries))
    }
}

impl<'de> Deserialize<'de> for OrderedValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<OrderedValue, D::Error> {
        d.deserialize_any(OrderedVisitor)
    }
}
