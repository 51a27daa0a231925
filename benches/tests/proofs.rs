//! How much of each benchmark program checked mode runs unchecked: the verifier's proof for
//! checked mode (complete when it accepts the program, else its partial analysis) per program,
//! as proven accesses out of all loads, stores and atomics. Every program must get a proof,
//! and the ones the verifier rejects must still have proven accesses in their partial proof
//! (the point of the partial analysis). Printed as the report's table.

use apiary_benches::verified::proof_for_checked;
use apiary_benches::{program, ALL};

#[test]
fn checked_mode_has_proofs_for_every_program() {
    println!("| program | proof | proven accesses |\n| --- | --- | ---: |");
    let mut partial_with_proofs = 0;
    for p in &ALL {
        let input = (p.input)();
        let prog = program(p);
        let v = proof_for_checked(prog.clone(), input.len())
            .unwrap_or_else(|e| panic!("{}: no proof for checked mode: {e}", p.name));
        let (proven, total) = v.verified().proven_accesses(&prog);
        let kind = if v.verified().partial {
            "partial"
        } else {
            "complete"
        };
        println!("| {} | {kind} | {proven} / {total} |", p.name);
        if v.verified().partial && proven > 0 {
            partial_with_proofs += 1;
        }
    }
    assert!(
        partial_with_proofs > 0,
        "no rejected program has a proven access in its partial proof"
    );
}
