//! Differential harness: the same program and input on the interpreter and the JIT.
#![allow(dead_code)]

use std::sync::Arc;

use apiary_jit::{Jit, JitOptions};
use apiary_testkit_engines::{Harness, NoWorld, World};
use apiary_vm::fault::HelperError;
use apiary_vm::memory::Region;
use apiary_vm::{
    Environment, ExecConfig, Executable, HelperTable, Insn, Interpreter, LoadOptions, Outcome,
    Program,
};

/// Instruction builders (raw encodings, ISA.md / RFC 9669).
pub mod b {
    use apiary_vm::Insn;

    pub use apiary_vm::opcode::alu::{
        ADD, AND, ARSH, DIV, LSH, MOD, MOV, MUL, NEG, OR, RSH, SUB, XOR,
    };
    pub const ALU_OPS: [u8; 12] = [ADD, SUB, MUL, DIV, OR, AND, LSH, RSH, MOD, XOR, MOV, ARSH];

    pub use apiary_vm::opcode::jmp::{JEQ, JGE, JGT, JLE, JLT, JNE, JSET, JSGE, JSGT, JSLE, JSLT};
    pub const CONDS: [u8; 11] = [JEQ, JGT, JGE, JSET, JNE, JSGT, JSGE, JLT, JLE, JSLT, JSLE];

    /// Sizes: W, H, B, DW.
    pub const W: u8 = 0x00;
    pub const H: u8 = 0x08;
    pub const B: u8 = 0x10;
    pub const DW: u8 = 0x18;
    pub const SIZES: [u8; 4] = [W, H, B, DW];

    pub fn alu64_imm(op: u8, dst: u8, imm: i32) -> Insn {
        Insn::new(op | 0x07, dst, 0, 0, imm)
    }
    pub fn alu64_reg(op: u8, dst: u8, src: u8) -> Insn {
        Insn::new(op | 0x0f, dst, src, 0, 0)
    }
    pub fn alu32_imm(op: u8, dst: u8, imm: i32) -> Insn {
        Insn::new(op | 0x04, dst, 0, 0, imm)
    }
    pub fn alu32_reg(op: u8, dst: u8, src: u8) -> Insn {
        Insn::new(op | 0x0c, dst, src, 0, 0)
    }
    /// Signed div/mod (off = 1).
    pub fn salu(op: u8, w64: bool, dst: u8, src: Option<u8>, imm: i32) -> Insn {
        let class = if w64 { 0x07 } else { 0x04 };
        match src {
            Some(s) => Insn::new(op | class | 0x08, dst, s, 1, 0),
            None => Insn::new(op | class, dst, 0, 1, imm),
        }
    }
    pub fn movsx(w64: bool, dst: u8, src: u8, bits: i16) -> Insn {
        Insn::new(MOV | if w64 { 0x0f } else { 0x0c }, dst, src, bits, 0)
    }
    pub fn neg(w64: bool, dst: u8) -> Insn {
        Insn::new(NEG | if w64 { 0x07 } else { 0x04 }, dst, 0, 0, 0)
    }
    pub fn le(dst: u8, bits: i32) -> Insn {
        Insn::new(0xd4, dst, 0, 0, bits)
    }
    pub fn be(dst: u8, bits: i32) -> Insn {
        Insn::new(0xdc, dst, 0, 0, bits)
    }
    pub fn bswap(dst: u8, bits: i32) -> Insn {
        Insn::new(0xd7, dst, 0, 0, bits)
    }
    pub fn mov64(dst: u8, imm: i32) -> Insn {
        alu64_imm(MOV, dst, imm)
    }
    pub fn movr(dst: u8, src: u8) -> Insn {
        alu64_reg(MOV, dst, src)
    }
    pub fn lddw(dst: u8, v: u64) -> [Insn; 2] {
        [
            Insn::new(0x18, dst, 0, 0, v as u32 as i32),
            Insn::new(0, 0, 0, 0, (v >> 32) as u32 as i32),
        ]
    }
    pub fn lddw_pseudo(dst: u8, src: u8, imm: i32) -> [Insn; 2] {
        [Insn::new(0x18, dst, src, 0, imm), Insn::new(0, 0, 0, 0, 0)]
    }
    pub fn ldx(size: u8, dst: u8, src: u8, off: i16) -> Insn {
        Insn::new(0x61 | size, dst, src, off, 0)
    }
    pub fn ldxs(size: u8, dst: u8, src: u8, off: i16) -> Insn {
        Insn::new(0x81 | size, dst, src, off, 0)
    }
    pub fn st(size: u8, dst: u8, off: i16, imm: i32) -> Insn {
        Insn::new(0x62 | size, dst, 0, off, imm)
    }
    pub fn stx(size: u8, dst: u8, off: i16, src: u8) -> Insn {
        Insn::new(0x63 | size, dst, src, off, 0)
    }
    pub const A_ADD: i32 = 0x00;
    pub const A_OR: i32 = 0x40;
    pub const A_AND: i32 = 0x50;
    pub const A_XOR: i32 = 0xa0;
    pub const A_FETCH: i32 = 0x01;
    pub const A_XCHG: i32 = 0xe1;
    pub const A_CMPXCHG: i32 = 0xf1;
    pub const ATOMICS: [i32; 10] = [0, 1, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1];
    pub fn atomic(w64: bool, dst: u8, off: i16, src: u8, op: i32) -> Insn {
        Insn::new(if w64 { 0xdb } else { 0xc3 }, dst, src, off, op)
    }
    pub fn ld_abs(size: u8, imm: i32) -> Insn {
        Insn::new(0x20 | size, 0, 0, 0, imm)
    }
    pub fn ld_ind(size: u8, src: u8, imm: i32) -> Insn {
        Insn::new(0x40 | size, 0, src, 0, imm)
    }
    pub fn jmp_imm(cond: u8, w64: bool, dst: u8, imm: i32, off: i16) -> Insn {
        Insn::new(cond | if w64 { 0x05 } else { 0x06 }, dst, 0, off, imm)
    }
    pub fn jmp_reg(cond: u8, w64: bool, dst: u8, src: u8, off: i16) -> Insn {
        Insn::new(cond | if w64 { 0x0d } else { 0x0e }, dst, src, off, 0)
    }
    pub fn ja(off: i16) -> Insn {
        Insn::new(0x05, 0, 0, off, 0)
    }
    pub fn gotol(imm: i32) -> Insn {
        Insn::new(0x06, 0, 0, 0, imm)
    }
    pub fn call(id: i32) -> Insn {
        Insn::new(0x85, 0, 0, 0, id)
    }
    pub fn call_local(rel: i32) -> Insn {
        Insn::new(0x85, 0, 1, 0, rel)
    }
    pub fn kfunc(id: i32) -> Insn {
        Insn::new(0x85, 0, 2, 0, id)
    }
    pub fn callx(reg: u8) -> Insn {
        Insn::new(0x8d, reg, 0, 0, 0)
    }
    pub fn exit() -> Insn {
        Insn::new(0x95, 0, 0, 0, 0)
    }
}

pub const H_MIX: u32 = 1;
pub const H_STOP: u32 = 2;
pub const H_FAIL: u32 = 3;
pub const H_PANIC: u32 = 4;
pub const H_SUM: u32 = 5;
pub const H_FILL: u32 = 6;

extern "C" fn mix(a: u64, b: u64, c: u64, d: u64, e: u64) -> u64 {
    a ^ b.rotate_left(8) ^ c.rotate_left(16) ^ d.rotate_left(24) ^ e.rotate_left(32) ^ 0x5a5a
}

/// The test helpers.
pub fn helpers() -> HelperTable {
    let mut t = HelperTable::new();
    // A plain helper: called directly by every engine (the JITs save only the r1–r5 the code
    // after the call reads), through its wrapper by `callx`.
    t.register_plain(H_MIX, "mix", mix);
    // Stops the run with r1 when r1 is odd, else returns r1 + 1.
    t.register(H_STOP, "stop_if_odd", |ctx, a| {
        if a[0] & 1 == 1 {
            ctx.stop(a[0]);
        }
        Ok(a[0].wrapping_add(1))
    });
    // Fails when r1 is odd.
    t.register(H_FAIL, "fail_if_odd", |_, a| {
        if a[0] & 1 == 1 {
            Err(HelperError::InvalidArgument {
                index: 0,
                value: a[0],
            })
        } else {
            Ok(7)
        }
    });
    t.register(H_PANIC, "panic", |_, _| {
        panic!("test helper panics on purpose")
    });
    // Sums r2 bytes at r1.
    t.register(H_SUM, "sum", |ctx, a| {
        let bytes = ctx.read_vec(a[0], a[1] & 0xff)?;
        Ok(bytes.iter().map(|&b| u64::from(b)).sum())
    });
    // Fills r2 bytes at r1 with r3.
    t.register(H_FILL, "fill", |ctx, a| {
        let len = a[1] & 0xff;
        ctx.fill(a[0], len, a[2] as u8)?;
        Ok(len)
    });
    t
}

pub fn env(budget: Option<u64>) -> Environment {
    Environment::new(helpers(), ExecConfig { budget })
}

pub fn program(insns: &[Insn]) -> Arc<Program> {
    Arc::new(Program::new(insns.to_vec(), &LoadOptions::all()).expect("test program must load"))
}

/// Two leaked extra regions, one read-only (filled with `ro_fill`) and one writable (zeroed),
/// put back before each engine's run and compared after it (the harness's [`World`]).
pub struct Extra {
    ro: *mut u8,
    rw: *mut u8,
    len: usize,
    ro_fill: u8,
    regions: Arc<[Region]>,
}

impl Extra {
    /// Leaks the two regions of `len` bytes (they must outlive every run using them).
    pub fn new(len: usize, ro_fill: u8) -> Self {
        let ro: &'static mut [u8] = Box::leak(vec![ro_fill; len].into_boxed_slice());
        let rw: &'static mut [u8] = Box::leak(vec![0u8; len].into_boxed_slice());
        let (ro_ptr, rw_ptr) = (ro.as_mut_ptr(), rw.as_mut_ptr());
        Self {
            ro: ro_ptr,
            rw: rw_ptr,
            len,
            ro_fill,
            regions: Arc::from(vec![Region::readable(ro), Region::writable(rw)]),
        }
    }

    /// Their addresses (read-only, writable).
    pub fn addrs(&self) -> (u64, u64) {
        (self.ro as u64, self.rw as u64)
    }

    /// Their regions, for an [`Environment`].
    pub fn regions(&self) -> Arc<[Region]> {
        Arc::clone(&self.regions)
    }
}

impl World for Extra {
    fn reset(&mut self) {
        // SAFETY: both buffers were leaked by `new` (live for the rest of the process), `len`
        // bytes each, reached only through raw pointers (the regions' and these), on the test's
        // thread, and no run is under way.
        unsafe {
            std::ptr::write_bytes(self.ro, self.ro_fill, self.len);
            std::ptr::write_bytes(self.rw, 0, self.len);
        }
    }

    fn snapshot(&mut self) -> Vec<u8> {
        // SAFETY: as in `reset`; the bytes are initialised and copied out at once.
        let (ro, rw) = unsafe {
            (
                std::slice::from_raw_parts(self.ro, self.len),
                std::slice::from_raw_parts(self.rw, self.len),
            )
        };
        [ro, rw].concat()
    }
}

/// Runs `program` on the interpreter and the JIT (compiled with `options`) through the
/// engine-agreement harness (same input and stack addresses, the whole state compared, and
/// `world`: put back before each engine's run and compared after) and returns the agreed
/// outcome.
pub fn diff_with(
    program: &Arc<Program>,
    input: &[u8],
    env: &Environment,
    options: JitOptions,
    world: &mut dyn World,
) -> Option<Outcome> {
    let interp = Interpreter::new(Arc::clone(program), env).expect("interpreter accepts");
    let jit = Jit::with_options(Arc::clone(program), env, options).expect("jit compiles");
    assert_eq!(jit.engine_name(), "jit");
    let name = if options.blind_constants {
        "jit (blinded)"
    } else {
        "jit"
    };
    let agreement = Harness::new()
        .engine("interp", Ok(Box::new(interp)))
        .engine(name, Ok(Box::new(jit)))
        .run_with(input, world);
    agreement.assert_agree(&format_args!(
        "input {input:?}\nprogram {:?}",
        program.insns()
    ));
    agreement.outcome()
}

pub fn diff(insns: &[Insn], input: &[u8], env: &Environment) -> Outcome {
    let p = program(insns);
    let plain =
        diff_with(&p, input, env, JitOptions::default(), &mut NoWorld).expect("same stack address");
    // Blinded code is compared with the interpreter too (its own buffers, so pointer values
    // may differ from the plain run's).
    diff_with(
        &p,
        input,
        env,
        JitOptions {
            blind_constants: true,
        },
        &mut NoWorld,
    )
    .expect("same stack address");
    plain
}

/// Both engines, metering off and on (with a large budget), and the result.
pub fn diff_all(insns: &[Insn], input: &[u8]) -> Outcome {
    diff(insns, input, &env(Some(1 << 40)));
    diff(insns, input, &env(None))
}
