//! The verifier must never panic: random slot sequences that pass `Program::new` are verified
//! under several program types; a panic would surface as the "analysis thread failed" rejection.

use apiary_verifier::platform::map_type;
use apiary_verifier::{verify, MapInfo, Platform, ProgramType};
use apiary_vm::{Insn, LoadOptions, Program};
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn never_panics(slots in prop::collection::vec((any::<u8>(), 0u8..11, 0u8..11, -8i16..8, prop_oneof![Just(0i32), Just(1), Just(-8), any::<i32>()]), 1..24)) {
        let mut insns: Vec<Insn> = slots.iter().map(|&(op, dst, src, off, imm)| Insn { op, dst, src, off, imm }).collect();
        insns.push(Insn { op: 0x95, dst: 0, src: 0, off: 0, imm: 0 });
        let Ok(p) = Program::new(insns, &LoadOptions::all()) else { return Ok(()) };
        let maps = [MapInfo { map_type: map_type::HASH, key_size: 4, value_size: 8, max_entries: 4, ..MapInfo::default() }];
        for t in [ProgramType::mem(Some(16)), ProgramType::mem(None), ProgramType::xdp(), ProgramType::kprobe()] {
            if let Err(r) = verify(&p, &Platform::linux(), &t, &maps) {
                prop_assert!(r.state != "analysis thread failed", "panic on {p:?}");
            }
        }
    }
}
