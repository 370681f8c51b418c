//! The repeated short strings of a CCP request (model, lane, upstream, op, error type,
//! decision fields), interned: a request holds a reference to the one copy of each distinct
//! value instead of a `String` of its own, and a short value of its own (a rid: 8 hex
//! characters) is held inline, so joining a request allocates for no string and the threads
//! that join and render requests share no reference counts.
//!
//! The copies live for the rest of the process in one table shared by every run; it is
//! bounded ([`MAX_SHARED`] strings of at most [`MAX_SHARED_LEN`] bytes, under 1 MiB in all).
//! A value past the bound, or longer, gets a copy of its own, as any [`Sym::new`] does (inline
//! up to 24 bytes). Each run's [`Interner`] keeps the values it met in a local map (at most
//! [`MAX_INTERNED`]), so the shared table is locked only for a value new to the run.

use std::collections::HashSet;
use std::sync::Mutex;

use compact_str::CompactString;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::join::FxHasher;

/// Most distinct values one interner keeps in its local map.
pub(crate) const MAX_INTERNED: usize = 4096;
/// Most values the process-wide table holds.
pub(crate) const MAX_SHARED: usize = 16_384;
/// Longest value the process-wide table takes (bytes).
pub(crate) const MAX_SHARED_LEN: usize = 48;

/// An immutable string shared between requests; the empty string holds no allocation.
#[derive(Clone, Default)]
pub(crate) struct Sym(Repr);

#[derive(Clone, Default)]
enum Repr {
    #[default]
    Empty,
    /// From the process-wide table.
    Shared(&'static str),
    /// Inline up to 24 bytes, on the heap beyond.
    Own(CompactString),
}

impl Sym {
    /// `s` on its own (not interned).
    pub fn new(s: &str) -> Sym {
        Sym(if s.is_empty() { Repr::Empty } else { Repr::Own(CompactString::new(s)) })
    }

    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Empty => "",
            Repr::Shared(s) => s,
            Repr::Own(s) => s,
        }
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
        Sym::new(&s)
    }
}

impl std::fmt::Debug for Sym {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

/// Equal, ordered and hashed as its text (however it is held), so a map keyed by `Sym` is
/// looked up by `&str`.
impl PartialEq for Sym {
    fn eq(&self, other: &Sym) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Sym {}

impl PartialOrd for Sym {
    fn partial_cmp(&self, other: &Sym) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Sym {
    fn cmp(&self, other: &Sym) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

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

type StrSet = HashSet<&'static str, std::hash::BuildHasherDefault<FxHasher>>;

/// The process-wide table (see the module doc).
static SHARED: Mutex<Option<StrSet>> = Mutex::new(None);

/// The one process-wide copy of `s`, when the table has (or makes) room for it.
fn shared(s: &str) -> Option<&'static str> {
    if s.len() > MAX_SHARED_LEN {
        return None;
    }
    // A poisoned lock only means another thread panicked while holding it: the set is whole.
    let mut table = SHARED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let table = table.get_or_insert_with(StrSet::default);
    if let Some(t) = table.get(s) {
        return Some(t);
    }
    if table.len() >= MAX_SHARED {
        return None;
    }
    let leaked: &'static str = Box::leak(Box::<str>::from(s));
    table.insert(leaked);
    Some(leaked)
}

/// The distinct values seen in a run.
#[derive(Debug, Default)]
pub(crate) struct Interner(StrSet);

impl Interner {
    /// The shared copy of `s`.
    pub fn get(&mut self, s: &str) -> Sym {
        if s.is_empty() {
            return Sym(Repr::Empty);
        }
        if let Some(t) = self.0.get(s) {
            return Sym(Repr::Shared(t));
        }
        match shared(s) {
            Some(t) => {
                if self.0.len() < MAX_INTERNED {
                    self.0.insert(t);
                }
                Sym(Repr::Shared(t))
            }
            None => Sym::new(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_shared(s: &Sym) -> bool {
        matches!(s.0, Repr::Shared(_))
    }

    #[test]
    fn equal_values_share_one_copy_and_serialize_as_strings() {
        let mut i = Interner::default();
        let (a, b) = (i.get("glm-4.6"), i.get(&String::from("glm-4.6")));
        assert_eq!(a, b);
        assert!(is_shared(&a) && std::ptr::eq(a.as_str(), b.as_str()));
        // Another run (another interner) gets the same copy.
        let c = Interner::default().get("glm-4.6");
        assert!(std::ptr::eq(a.as_str(), c.as_str()));
        assert!(matches!(i.get("").0, Repr::Empty));
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"glm-4.6\"");
        let back: Sym = serde_json::from_str("\"glm\\u002d4.6\"").unwrap();
        assert_eq!(back, a);
        assert_eq!(&*back, "glm-4.6");
        // Held differently, equal all the same, in maps too.
        let own = Sym::new("glm-4.6");
        assert!(!is_shared(&own));
        assert_eq!(own, a);
        let map: std::collections::HashMap<Sym, u8> = [(own, 1)].into();
        assert_eq!(map.get("glm-4.6"), Some(&1));
    }

    #[test]
    fn the_interner_stops_growing_at_its_bound() {
        let mut i = Interner::default();
        for n in 0..MAX_INTERNED + 10 {
            let s = format!("bound-{n}");
            assert_eq!(i.get(&s).as_str(), s);
        }
        assert_eq!(i.0.len(), MAX_INTERNED);
        // Past the local bound a value still comes from the shared table.
        let (a, b) = (i.get("bound-fresh"), i.get("bound-fresh"));
        assert_eq!(a, b);
        assert!(std::ptr::eq(a.as_str(), b.as_str()));
    }

    #[test]
    fn long_values_get_their_own_copy() {
        let long = "m".repeat(MAX_SHARED_LEN + 1);
        let mut i = Interner::default();
        let (a, b) = (i.get(&long), i.get(&long));
        assert_eq!(a, b);
        assert!(!is_shared(&a) && !std::ptr::eq(a.as_str(), b.as_str()));
    }
}
