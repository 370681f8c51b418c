//! CCP's routing enums as carried by a `decision` (`reroute_mode`, `reroute_decision`): the
//! values CCP's contract lists, plus an `Other` bucket that keeps any other text, so a line
//! with a value this version does not know still reads (and round-trips locally). On the wire
//! each is a plain JSON string, exactly as in the Python v1 schema.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

macro_rules! open_enum {
    (
        $(#[$doc:meta])* $name:ident, $what:literal,
        { $($(#[$vdoc:meta])* $variant:ident = $text:literal,)+ }
    ) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
            /// A value CCP's contract does not list, kept as written (never sent in clear).
            Other(String),
        }

        impl $name {
            /// The values CCP's contract lists, as written on the wire.
            pub const KNOWN: &'static [&'static str] = &[$($text,)+];

            /// The value as written on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $text,)+
                    $name::Other(s) => s,
                }
            }

            /// Whether the value is one CCP's contract lists.
            pub fn is_known(&self) -> bool {
                !matches!(self, $name::Other(_))
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $($text => $name::$variant,)+
                    other => $name::Other(other.to_owned()),
                }
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                match $name::from(s.as_str()) {
                    $name::Other(_) => $name::Other(s),
                    known => known,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer).map($name::from)
            }
        }

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }

            fn inline_schema() -> bool {
                true
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                let known = $name::KNOWN.join("`, `");
                json_schema!({
                    "type": "string",
                    "description": format!(
                        "{}: `{known}`; any other text is read too (an unknown value)",
                        $what
                    )
                })
            }
        }
    };
}

open_enum!(
    /// CCP's `reroute_mode`.
    RerouteMode, "CCP's reroute mode",
    {
        /// Route by quota, warn before the limit.
        Hybrid = "hybrid",
        /// Reroute before the limit is reached.
        Preemptive = "preemptive",
        /// Run to the cap, then reroute.
        Run2cap = "run2cap",
    }
);

open_enum!(
    /// CCP's `reroute_decision` (the quota decision of one request).
    RerouteDecision, "CCP's quota decision",
    {
        /// Within quota.
        QuotaPass = "quota_pass",
        /// Warn threshold reached, preferred lane attempted.
        QuotaWarnAttempt = "quota_warn_attempt",
        /// Cooling down after a limit.
        QuotaCooldown = "quota_cooldown",
        /// Blocked by quota.
        QuotaBlock = "quota_block",
        /// Preemptive mode, warn threshold reached.
        QuotaPreemptiveWarn = "quota_preemptive_warn",
        /// Preemptive mode, ordinary request.
        QuotaPreemptivePass = "quota_preemptive_pass",
        /// Run-to-cap mode.
        QuotaRunToLimit = "quota_run_to_limit",
        /// Fell back to the other lane.
        Fallback = "fallback",
        /// Quota overshot.
        QuotaOvershoot = "quota_overshoot",
        /// Network fallback.
        NetFallback = "net_fallback",
    }
);
