//! Interpreter behaviour that the `.data` suites cannot express: fault kinds and pcs,
//! instruction counts, helper contracts, region permissions.

use std::sync::Arc;

use apiary_vm::instruction::Size;
use apiary_vm::opcode::*;
use apiary_vm::{
    Access, Environment, ExecConfig, ExecState, Executable, Fault, HelperError, HelperTable, Insn,
    Interpreter, LoadOptions, Outcome, Program, Region,
};

fn mov64(dst: u8, imm: i32) -> Insn {
    Insn::new(CLASS_ALU64 | alu::MOV, dst, 0, 0, imm)
}
fn add64(dst: u8, imm: i32) -> Insn {
    Insn::new(CLASS_ALU64 | alu::ADD, dst, 0, 0, imm)
}
fn exit() -> Insn {
    Insn::new(EXIT, 0, 0, 0, 0)
}

fn run_with(
    insns: Vec<Insn>,
    helpers: HelperTable,
    budget: Option<u64>,
    input: &mut [u8],
) -> Outcome {
    let program = Arc::new(Program::new(insns, &LoadOptions::all()).expect("valid program"));
    let env = Environment::new(helpers, ExecConfig { budget });
    let interp = Interpreter::new(program, &env).expect("prepared");
    interp.run(&mut ExecState::new(), input)
}

fn run(insns: Vec<Insn>) -> Outcome {
    run_with(insns, HelperTable::new(), Some(1_000), &mut [])
}

#[test]
fn straight_line_counts_every_instruction() {
    let out = run(vec![mov64(0, 1), add64(0, 41), exit()]);
    assert_eq!(
        out,
        Outcome {
            result: Ok(42),
            instructions: Some(3)
        }
    );
}

#[test]
fn metering_off_reports_no_count() {
    let out = run_with(vec![mov64(0, 7), exit()], HelperTable::new(), None, &mut []);
    assert_eq!(
        out,
        Outcome {
            result: Ok(7),
            instructions: None
        }
    );
}

#[test]
fn infinite_loop_exhausts_budget_at_the_back_edge() {
    // 0: mov r0, 0; 1: add r0, 1; 2: ja -2
    let out = run_with(
        vec![mov64(0, 0), add64(0, 1), Insn::new(JA, 0, 0, -2, 0)],
        HelperTable::new(),
        Some(10),
        &mut [],
    );
    // Counts: 1 + 2 per iteration; the check at pc 2 fires when the count first exceeds 10 (11).
    assert_eq!(
        out.result,
        Err(Fault::BudgetExhausted { pc: 2, budget: 10 })
    );
    assert_eq!(out.instructions, Some(11));
}

#[test]
fn out_of_bounds_load_names_pc_address_and_length() {
    let mut input = [1u8, 2, 3, 4];
    let base = input.as_ptr() as u64;
    // ldxw r0, [r1+2] reads bytes 2..6 of a 4-byte input.
    let out = run_with(
        vec![Insn::new(CLASS_LDX | MODE_MEM | SIZE_W, 0, 1, 2, 0), exit()],
        HelperTable::new(),
        Some(100),
        &mut input,
    );
    assert_eq!(
        out.result,
        Err(Fault::OutOfBounds {
            pc: 0,
            addr: base + 2,
            len: Size::W.bytes(),
            access: Access::Read
        })
    );
    assert_eq!(out.instructions, Some(1));
}

#[test]
fn stack_below_the_frames_is_out_of_bounds() {
    // stdw [r10-4104], 1: one byte past the bottom of the 4096-byte stack.
    let out = run(vec![
        Insn::new(CLASS_ST | MODE_MEM | SIZE_DW, 10, 0, -4104, 1),
        exit(),
    ]);
    assert!(matches!(
        out.result,
        Err(Fault::OutOfBounds {
            pc: 0,
            len: 8,
            access: Access::Write,
            ..
        })
    ));
}

#[test]
fn address_wraparound_is_not_an_access() {
    // r1 = -1 (all ones); ldxdw r0, [r1+0] would wrap past the end of the address space.
    let out = run(vec![
        mov64(1, -1),
        Insn::new(CLASS_LDX | MODE_MEM | SIZE_DW, 0, 1, 0, 0),
        exit(),
    ]);
    assert!(matches!(
        out.result,
        Err(Fault::OutOfBounds {
            pc: 1,
            addr: u64::MAX,
            ..
        })
    ));
}

#[test]
fn read_only_region_refuses_stores() {
    static TABLE: [u8; 8] = [9; 8];
    let program = Arc::new(
        Program::new(
            vec![
                Insn::new(LDDW, 1, 0, 0, TABLE.as_ptr() as u64 as i32),
                Insn::new(0, 0, 0, 0, ((TABLE.as_ptr() as u64) >> 32) as i32),
                Insn::new(CLASS_LDX | MODE_MEM | SIZE_B, 0, 1, 7, 0),
                Insn::new(CLASS_ST | MODE_MEM | SIZE_B, 1, 0, 0, 5),
                exit(),
            ],
            &LoadOptions::default(),
        )
        .expect("valid"),
    );
    let mut env = Environment::new(HelperTable::new(), ExecConfig { budget: Some(10) });
    env.regions = Arc::from(vec![Region::readable(&TABLE)]);
    let out = Interpreter::new(program, &env)
        .expect("prepared")
        .run_once(&mut []);
    assert_eq!(
        out.result,
        Err(Fault::OutOfBounds {
            pc: 3,
            addr: TABLE.as_ptr() as u64,
            len: 1,
            access: Access::Write
        })
    );
}

#[test]
fn local_calls_preserve_callee_saved_and_limit_depth() {
    // main: r6 = 6; call f; r0 += r6; exit.   f: r6 = 100; r0 = 1; exit.
    let out = run(vec![
        mov64(6, 6),
        Insn::new(CALL, 0, 1, 0, 3),
        add64(0, 0),
        Insn::new(CLASS_ALU64 | alu::ADD | SOURCE_X, 0, 6, 0, 0),
        exit(),
        mov64(6, 100),
        mov64(0, 1),
        exit(),
    ]);
    assert_eq!(out.result, Ok(7));
    // A function that calls itself forever runs out of frames at the 8th call.
    let out = run(vec![Insn::new(CALL, 0, 1, 0, -1), exit()]);
    assert_eq!(out.result, Err(Fault::CallDepthExceeded { pc: 0, max: 8 }));
    assert_eq!(out.instructions, Some(8));
}

#[test]
fn helpers_see_arguments_and_report_errors_and_panics() {
    let mut helpers = HelperTable::new();
    helpers.register(1, "sum", |_, a| Ok(a.iter().sum()));
    helpers.register(2, "bad", |_, a| {
        Err(HelperError::InvalidArgument {
            index: 0,
            value: a[0],
        })
    });
    helpers.register(3, "boom", |_, _| panic!("helper panic is caught"));
    helpers.register(4, "stop", |ctx, a| {
        ctx.stop(a[0]);
        Ok(0)
    });
    let call = |id| Insn::new(CALL, 0, 0, 0, id);
    let args = vec![
        mov64(1, 1),
        mov64(2, 2),
        mov64(3, 3),
        mov64(4, 4),
        mov64(5, 5),
    ];
    let mut p = args.clone();
    p.extend([
        call(1),
        Insn::new(CLASS_ALU64 | alu::ADD | SOURCE_X, 0, 5, 0, 0),
        exit(),
    ]);
    // r1–r5 survive the helper call: 15 + r5.
    assert_eq!(
        run_with(p, helpers.clone(), Some(100), &mut []).result,
        Ok(20)
    );
    let mut p = args.clone();
    p.extend([call(2), exit()]);
    assert_eq!(
        run_with(p, helpers.clone(), Some(100), &mut []).result,
        Err(Fault::Helper {
            pc: 5,
            id: 2,
            error: HelperError::InvalidArgument { index: 0, value: 1 }
        })
    );
    let prev = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let out = run_with(vec![call(3), exit()], helpers.clone(), Some(100), &mut []);
    std::panic::set_hook(prev);
    assert_eq!(out.result, Err(Fault::HelperPanicked { pc: 0, id: 3 }));
    let out = run_with(
        vec![mov64(1, 77), call(4), mov64(0, 1), exit()],
        helpers,
        Some(100),
        &mut [],
    );
    assert_eq!(
        out,
        Outcome {
            result: Ok(77),
            instructions: Some(2)
        }
    );
}

#[test]
fn unknown_helper_is_a_load_error() {
    let program = Arc::new(
        Program::new(
            vec![Insn::new(CALL, 0, 0, 0, 99), exit()],
            &LoadOptions::default(),
        )
        .expect("valid"),
    );
    let env = Environment::default();
    assert_eq!(
        Interpreter::new(program, &env).err(),
        Some(apiary_vm::LoadError::UnknownHelper { pc: 0, id: 99 })
    );
}

#[test]
fn atomics_are_checked_for_alignment() {
    // r1 = r10 - 6 (misaligned for 4 bytes); lock add32 [r1], r0
    let out = run(vec![
        Insn::new(CLASS_ALU64 | alu::MOV | SOURCE_X, 1, 10, 0, 0),
        add64(1, -6),
        Insn::new(CLASS_STX | MODE_ATOMIC | SIZE_W, 1, 0, 0, 0),
        exit(),
    ]);
    assert!(matches!(
        out.result,
        Err(Fault::MisalignedAtomic { pc: 2, len: 4, .. })
    ));
}

#[test]
fn legacy_packet_load_out_of_bounds_returns_zero() {
    let mut input = [0x12u8, 0x34, 0x56, 0x78];
    let ldabs_h = |imm| Insn::new(CLASS_LD | MODE_ABS | SIZE_H, 0, 0, 0, imm);
    let out = run_with(
        vec![ldabs_h(1), exit()],
        HelperTable::new(),
        None,
        &mut input,
    );
    assert_eq!(out.result, Ok(0x3456));
    let out = run_with(
        vec![mov64(0, 5), ldabs_h(3), exit()],
        HelperTable::new(),
        None,
        &mut input,
    );
    assert_eq!(out.result, Ok(0));
}

#[test]
fn state_is_reusable_across_runs() {
    let program =
        Arc::new(Program::new(vec![mov64(0, 3), exit()], &LoadOptions::default()).expect("valid"));
    let interp = Interpreter::new(program, &Environment::default()).expect("prepared");
    let mut state = ExecState::new();
    for _ in 0..3 {
        assert_eq!(interp.run(&mut state, &mut []).result, Ok(3));
    }
}

#[test]
fn lddw_counts_as_one_instruction() {
    let out = run(vec![
        Insn::new(LDDW, 0, 0, 0, 5),
        Insn::new(0, 0, 0, 0, 1),
        exit(),
    ]);
    assert_eq!(
        out,
        Outcome {
            result: Ok((1 << 32) | 5),
            instructions: Some(2)
        }
    );
}

#[test]
fn unsupported_forms_fault_where_reached() {
    // lddw r1, map_idx 0 (src 5) has no map bound in a plain environment.
    let out = run(vec![
        mov64(0, 1),
        Insn::new(LDDW, 1, 5, 0, 0),
        Insn::new(0, 0, 0, 0, 0),
        exit(),
    ]);
    assert_eq!(
        out.result,
        Err(Fault::Unsupported {
            pc: 1,
            what: apiary_vm::fault::Unsupported::LddwPseudo { src: 5, imm: 0 }
        })
    );
}
