//! `open_enum!`: a wire enum whose known values are listed, plus one variant that keeps any
//! other text as written, so a value this version does not know still reads, validates and
//! round-trips unchanged (the v1 evolution rule). On the wire it is a plain JSON string; its
//! JSON Schema accepts any string and lists the known values in its description.

macro_rules! open_enum {
    (
        $(#[$doc:meta])* $name:ident, $what:literal,
        $(#[$odoc:meta])* $other:ident,
        { $($(#[$vdoc:meta])* $variant:ident = $text:literal,)+ }
    ) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
            $(#[$odoc])*
            $other(String),
        }

        impl $name {
            /// The values this version knows, as written on the wire.
            pub const KNOWN: &'static [&'static str] = &[$($text,)+];

            /// The value as written on the wire.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $text,)+
                    $name::$other(s) => s,
                }
            }

            /// Whether the value is one this version knows.
            pub fn is_known(&self) -> bool {
                !matches!(self, $name::$other(_))
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                match s {
                    $($text => $name::$variant,)+
                    other => $name::$other(other.to_owned()),
                }
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                match $name::from(s.as_str()) {
                    $name::$other(_) => $name::$other(s),
                    known => known,
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct V;
                impl ::serde::de::Visitor<'_> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        f.write_str("a string")
                    }
                    // A known value borrows nothing and allocates nothing.
                    fn visit_str<E: ::serde::de::Error>(self, s: &str) -> Result<$name, E> {
                        Ok($name::from(s))
                    }
                    fn visit_string<E: ::serde::de::Error>(self, s: String) -> Result<$name, E> {
                        Ok($name::from(s))
                    }
                }
                deserializer.deserialize_str(V)
            }
        }

        impl ::schemars::JsonSchema for $name {
            fn schema_name() -> ::std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }

            fn inline_schema() -> bool {
                true
            }

            fn json_schema(_: &mut ::schemars::SchemaGenerator) -> ::schemars::Schema {
                let known = $name::KNOWN.join("`, `");
                ::schemars::json_schema!({
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

pub(crate) use open_enum;
