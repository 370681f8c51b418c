//! Property tests: any single-byte change of a signed pack is refused (issue #17).

use proptest::prelude::*;

use super::{COMPACT, NOW, key, reason, ring_with, signed_pack, verify_pack};
use crate::VerifyOptions;

proptest! {
    // 256 cases (proptest's default): each is a parse and at most one Ed25519 check.
    #[test]
    fn any_single_byte_change_of_a_signed_pack_is_refused(at in any::<prop::sample::Index>(), to in any::<u8>()) {
        let (pack, _) = signed_pack(COMPACT);
        let ring = ring_with("k1", &key());
        let opts = VerifyOptions::at(NOW);
        // The pack as signed verifies (so a refusal below is the change's doing).
        prop_assert_eq!(reason(&verify_pack(&pack, &ring, &opts)), None);
        let i = at.index(pack.len());
        prop_assume!(pack[i] != to);
        let mut changed = pack.clone();
        changed[i] = to;
        // Whitespace around the pack's own JSON is not signed (the license bytes are): a
        // change there that leaves the license and signature intact may read back the same.
        let r = verify_pack(&changed, &ring, &opts);
        if let Ok(v) = &r {
            let same = crate::SignedLicense::from_pack_bytes(&changed)
                .is_ok_and(|s| s.license_bytes() == COMPACT.as_bytes());
            prop_assert!(same, "a changed pack verified: byte {} → {:#04x} ({:?})", i, to, v.claims().plan);
        }
    }
}
