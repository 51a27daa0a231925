//! The benchmark programs and their native twins cannot drift apart: every program gives the
//! same r0 on apiary's interpreter, apiary's JIT and natively (and on rbpf and uBPF, where they
//! can run it, with the `peers` feature). No timing here.

use apiary_benches::engines::{check_all, check_all_tallied, prepare_bytecode, EngineId};
use apiary_benches::generated::generated_program;
use apiary_benches::{by_name, helper, native_helper, program, slots, ALL, WIDER};
use apiary_testkit_engines::Tally;

/// The programs apiary's verifier accepts, so that they run in verified mode. The others
/// (parser and xdp_filter: a record offset is the previous offset plus a length read from the
/// record, a relation between three registers) are verifier precision work still to do.
const VERIFIED: [&str; 16] = [
    "call_overhead",
    "alu_loop",
    "alu32_loop",
    "bsearch",
    "helper_loop",
    "mem_loop",
    "checksum",
    "div_loop",
    "str_compare",
    "byte_copy",
    "switch64",
    "log2_array",
    "flow_table",
    "percpu_counters",
    "trial_div",
    "helper_hash",
];

#[test]
fn every_program_agrees_with_native() {
    let mut tally = Tally::new("benches_agree");
    for p in ALL {
        // `check_all_tallied` panics on any disagreement.
        let checked = check_all_tallied(&p, &mut tally);
        for c in &checked {
            let must_run = matches!(
                c.engine,
                EngineId::ApiaryInterp | EngineId::ApiaryJit | EngineId::Native
            ) || (matches!(
                c.engine,
                EngineId::ApiaryInterpVerified
                    | EngineId::ApiaryJitVerified
                    | EngineId::ApiaryInterpUnsandboxed
                    | EngineId::ApiaryJitUnsandboxed
            ) && VERIFIED.contains(&p.name))
                || (c.engine == EngineId::UbpfInterp || c.engine == EngineId::UbpfJit)
                || (c.engine == EngineId::RbpfInterp);
            if must_run {
                assert!(
                    c.runner.is_ok(),
                    "{} on {}: {:?}",
                    p.name,
                    c.engine,
                    c.runner.as_ref().err()
                );
            }
        }
    }
    println!("{}", tally.finish());
}

#[test]
fn programs_decode_and_are_nontrivial() {
    for p in ALL {
        assert_eq!(program(&p).len(), slots(&p), "{}", p.name);
        let input = (p.input)();
        if p.name != "call_overhead" {
            assert!(
                apiary_benches::executed_instructions(&p) > 1000,
                "{} does too little",
                p.name
            );
        }
        // Results depend on the input where the program reads it.
        let _ = input;
    }
}

#[test]
fn native_helper_matches_rust_helper() {
    for (a, b) in [
        (0u64, 0u64),
        (1, 2),
        (u64::MAX, 12345),
        (0xdead_beef, u64::MAX >> 3),
    ] {
        assert_eq!(
            native_helper(a, b, a >> 3, b * 3, 7),
            helper(a, b, a >> 3, b * 3, 7)
        );
    }
}

#[test]
fn generated_program_agrees_across_engines() {
    for slots in [256usize, 10_000] {
        let code = generated_program(slots, 0x5eed);
        let mut results = Vec::new();
        for engine in [
            EngineId::ApiaryInterp,
            EngineId::ApiaryJit,
            EngineId::UbpfInterp,
            EngineId::UbpfJit,
            EngineId::RbpfInterp,
            EngineId::RbpfJit,
        ] {
            if !engine.built() {
                continue;
            }
            // rbpf's JIT code must fit one fixed 4 KiB page.
            match prepare_bytecode(engine, "generated", &code, 0).and_then(|mut r| r.run(&mut [])) {
                Ok(r0) => results.push((engine, r0)),
                Err(why) => assert!(
                    matches!(engine, EngineId::RbpfInterp | EngineId::RbpfJit),
                    "{engine}: {why}"
                ),
            }
        }
        assert!(
            results.iter().all(|&(_, r)| r == results[0].1),
            "{slots}: {results:?}"
        );
    }
}

/// The wider suite (issue 15 part 1) cannot silently compute nothing: each program runs on
/// apiary's interpreter, apiary's JIT and natively (and on every peer built that can run it),
/// every engine gives native's r0 (`check_all` panics otherwise), a second run on a fresh copy
/// of the input gives it again (the in-input tables are cleared by each run), and the work is
/// real: a nonzero result from well over 10,000 executed instructions.
#[test]
fn wider_suite_agrees_on_every_engine_and_does_work() {
    for name in WIDER {
        let p = by_name(name).expect("a wider-suite program");
        let input = (p.input)();
        let expected = apiary_benches::run_native(&p, &mut input.clone());
        assert_ne!(expected, 0, "{name}: r0 is 0");
        assert!(
            apiary_benches::executed_instructions(&p) > 10_000,
            "{name} does too little"
        );
        let mut ran = Vec::new();
        for c in check_all(&p) {
            if let Ok(mut r) = c.runner {
                assert_eq!(
                    r.run(&mut input.clone()),
                    Ok(expected),
                    "{name} on {}",
                    c.engine
                );
                ran.push(c.engine);
            }
        }
        for must in [
            EngineId::ApiaryInterp,
            EngineId::ApiaryJit,
            EngineId::Native,
        ] {
            assert!(ran.contains(&must), "{name} did not run on {must}");
        }
        println!("{name}: {expected:#x} on {ran:?}");
    }
}
