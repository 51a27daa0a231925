//! Verifier soundness: a program the verifier accepts (program type "mem" of 16 bytes, no
//! helpers) must not fault on the checked interpreter for inputs of that size, and r0 must lie
//! in the range the verifier computed. Input: 16 bytes of memory, then the program.
#![no_main]

use std::sync::Arc;

use apiary_fuzz::accepted_mem_program;
use apiary_vm::{Environment, ExecConfig, Executable, Fault, HelperTable, Interpreter};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((verified, mem)) = accepted_mem_program(data) else {
        return;
    };
    let env = Environment::new(
        HelperTable::new(),
        ExecConfig {
            budget: Some(1_000_000),
        },
    );
    let Ok(exe) = Interpreter::new(Arc::clone(verified.program()), &env) else {
        return;
    };
    let mut input = mem.to_vec();
    let out = exe.run_once(&mut input);
    match out.result {
        Ok(r0) => {
            let range = verified
                .verified()
                .r0
                .expect("exit reached although the verifier found it unreachable");
            assert!(
                range.contains(r0),
                "r0 {r0:#x} outside the verified range {range:?}"
            );
        }
        // The verifier bounds loops, not their length: a long run may exceed the budget.
        Err(Fault::BudgetExhausted { .. }) => {}
        Err(f) => panic!("accepted program faulted: {f}\n{:?}", exe.program().insns()),
    }
});
