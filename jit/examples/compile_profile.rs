//! Compiles a 10,000-slot straight-line program with forward jumps and stack accesses `N`
//! times (default 20), for profiling the compiler (`valgrind --tool=callgrind`).

use std::sync::Arc;

use apiary_jit::Jit;
use apiary_vm::{Environment, ExecConfig, HelperTable, Insn, LoadOptions, Program};

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(20);
    let mut v = Vec::new();
    for r in 0..10u8 {
        v.push(Insn::new(0xb7, r, 0, 0, i32::from(r) * 77));
    }
    let mut k = 0u32;
    while v.len() < 9_998 {
        k = k.wrapping_mul(1_103_515_245).wrapping_add(12345);
        let d = ((k >> 8) % 10) as u8;
        let s = ((k >> 12) % 10) as u8;
        v.push(match (k >> 16) % 8 {
            0 => Insn::new(0x0f, d, s, 0, 0),
            1 => Insn::new(0x07, d, 0, 0, k as i32),
            2 => Insn::new(0x2f, d, s, 0, 0),
            3 => Insn::new(0x7b, 10, s, -8 * (1 + (k % 8) as i16), 0),
            4 => Insn::new(0x79, d, 10, -8 * (1 + (k % 8) as i16), 0),
            5 => Insn::new(0x25, d, 0, 1, k as i32),
            6 => Insn::new(0xbc, d, s, 0, 0),
            _ => Insn::new(0x67, d, 0, 0, (k % 63) as i32),
        });
    }
    v.push(Insn::new(0xb7, 0, 0, 0, 0));
    v.push(Insn::new(0x95, 0, 0, 0, 0));
    let program = Arc::new(Program::new(v, &LoadOptions::default()).expect("valid"));
    let env = Environment::new(HelperTable::new(), ExecConfig::default());
    let start = std::time::Instant::now();
    let mut size = 0;
    for _ in 0..n {
        size += Jit::new(Arc::clone(&program), &env)
            .expect("compiles")
            .code_size();
    }
    let per = start.elapsed() / n as u32;
    println!(
        "{size} bytes; {per:?} per compile of {} slots",
        program.len()
    );
}
