//! Integration tests of agentos-licensing: the issuer client against a local fake `licissuer`.

mod issuer;
