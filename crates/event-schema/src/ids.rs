//! Identifiers. They are opaque strings on the wire (the Python client accepted any string),
//! typed here so a session id cannot be passed where a turn id is expected.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// A fresh random id (UUID v4, lower-case, hyphenated). Feature `random`.
            #[cfg(feature = "random")]
            pub fn random() -> Self {
                $name(uuid::Uuid::new_v4().to_string())
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                $name(s)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name(s.to_owned())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

string_id!(
    /// Identifies one agent session.
    SessionId
);
string_id!(
    /// Identifies one turn (model call) of a session.
    TurnId
);
string_id!(
    /// Identifies one feature of the product being built.
    FeatureId
);
string_id!(
    /// Identifies one event line; the idempotency key of uploads.
    EventId
);
