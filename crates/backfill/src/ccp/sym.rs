//! The repeated short strings of a CCP request (model, lane, upstream, op, error type,
//! decision fields), interned per run: a request holds a shared pointer to the one copy of
//! each distinct value instead of a `String` of its own, so joining a request allocates for
//! its rid only. The interner is bounded: past [`MAX_INTERNED`] distinct values a new one is
//! allocated on its own, as before.

use std::collections::HashSet;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::join::RidHasher;

/// Most distinct values one interner keeps.
pub(crate) const MAX_INTERNED: usize = 4096;

/// An immutable string shared between requests; the empty string holds no allocation.
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Sym(Option<Arc<str>>);

impl Sym {
    /// `s` on its own (not interned).
    pub fn new(s: &str) -> Sym {
        Sym((!s.is_empty()).then(|| Arc::from(s)))
    }

    pub fn as_str(&self) -> &str {
        self.0.as_deref().unwrap_or("")
    }
}

impl std::ops::Deref for Sym {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl From<String> for Sym {
    fn from(s: String) -> Sym {
        Sym((!s.is_empty()).then(|| Arc::from(s)))
    }
}

impl std::fmt::Debug for Sym {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

/// Hashed as its text, so a map keyed by `Sym` is looked up by `&str`.
impl std::hash::Hash for Sym {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.as_str().hash(h);
    }
}

impl std::borrow::Borrow<str> for Sym {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl PartialEq<str> for Sym {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Sym {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Serialize for Sym {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Sym {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Sym, D::Error> {
        let s = std::borrow::Cow::<'de, str>::deserialize(d)?;
        Ok(Sym::new(&s))
    }
}

/// The distinct values seen in a run.
#[derive(Debug, Default)]
pub(crate) struct Interner(HashSet<Arc<str>, std::hash::BuildHasherDefault<RidHasher>>);

impl Interner {
    /// The shared copy of `s`.
    pub fn get(&mut self, s: &str) -> Sym {
        if s.is_empty() {
            return Sym(None);
        }
        if let Some(a) = self.0.get(s) {
            return Sym(Some(Arc::clone(a)));
        }
        let a: Arc<str> = Arc::from(s);
        if self.0.len() < MAX_INTERNED {
            self.0.insert(Arc::clone(&a));
        }
        Sym(Some(a))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_share_one_copy_and_serialize_as_strings() {
        let mut i = Interner::default();
        let (a, b) = (i.get("glm-4.6"), i.get(&String::from("glm-4.6")));
        assert_eq!(a, b);
        assert!(Arc::ptr_eq(a.0.as_ref().unwrap(), b.0.as_ref().unwrap()));
        assert_eq!(i.get("").0, None);
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"glm-4.6\"");
        let back: Sym = serde_json::from_str("\"glm\\u002d4.6\"").unwrap();
        assert_eq!(back, a);
        assert_eq!(&*back, "glm-4.6");
    }

    #[test]
    fn the_interner_stops_growing_at_its_bound() {
        let mut i = Interner::default();
        for n in 0..MAX_INTERNED + 10 {
            assert_eq!(i.get(&n.to_string()).as_str(), n.to_string());
        }
        assert_eq!(i.0.len(), MAX_INTERNED);
        let (a, b) = (i.get("fresh"), i.get("fresh"));
        assert_eq!(a, b);
        assert!(!Arc::ptr_eq(a.0.as_ref().unwrap(), b.0.as_ref().unwrap()));
    }
}
