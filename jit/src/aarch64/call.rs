//! Helper calls (through the trampolines or direct), local calls.

use apiary_vm::memory::FRAME_SIZE;
use dynasmrt::{dynasm, DynamicLabel, DynasmApi, DynasmLabelApi};

use super::*;

impl Gen<'_> {
    pub(super) fn local_frame_call(&mut self, depth: DynamicLabel, target: DynamicLabel) {
        a64!(self.ops
            ; ldr x10, [x24, #ctx(CTX_CALL_LIMIT)]
            ; cmp x23, x10
        );
        self.branch(Test::Cond(A64Cond::Lo), depth);
        a64!(self.ops
            ; stp x19, x20, [sp, #-48]!
            ; stp x21, x22, [sp, #16]
            ; stp x23, x30, [sp, #32]
            ; sub x23, x23, #FRAME_SIZE as u32
            ; bl =>target
            ; ldp x23, x30, [sp, #32]
            ; ldp x21, x22, [sp, #16]
            ; ldp x19, x20, [sp], #48
        );
    }

    /// Calls a trampoline `(ctx, arg, pc)` with r1–r5 stored in the context (the helper's
    /// arguments), restoring them afterwards: r1–r5 survive helper calls.
    pub(super) fn trampoline_call(&mut self, pc: usize, func: usize, arg: Src) {
        let leave = self.new_label();
        self.lw.cold.push(Cold::Leave { label: leave, pc });
        a64!(self.ops
            ; stp x1, x2, [x24, #pair(CTX_ARGS)]
            ; stp x3, x4, [x24, #pair(CTX_ARGS + 16)]
            ; str x5, [x24, #ctx(CTX_ARGS + 32)]
        );
        let callbacks = self.lw.callbacks;
        if callbacks {
            // The helper may call back: the callback reads the counter and r10 from the
            // context, and its own helper calls reuse the argument area, so r1–r5 are kept on
            // the host stack.
            a64!(self.ops
                ; str x25, [x24, #ctx(CTX_COUNT)]
                ; str x23, [x24, #ctx(CTX_CUR_R10)]
                ; stp x1, x2, [sp, #-48]!
                ; stp x3, x4, [sp, #16]
                ; str x5, [sp, #32]
            );
        }
        // x1 first: the callx register may be x0 or x2, still intact here.
        match arg {
            Src::Imm(i) => self.mov_const(true, 1, i),
            Src::Reg(r) => a64!(self.ops ; mov x1, X(r)),
        }
        self.mov_const(true, 2, pc as u64);
        a64!(self.ops ; mov x0, x24);
        self.mov_const(true, FN, func as u64);
        a64!(self.ops
            ; str x30, [sp, #-16]!
            ; blr x16
            ; ldr x30, [sp], #16
        );
        if callbacks {
            a64!(self.ops
                ; ldr x25, [x24, #ctx(CTX_COUNT)]
                ; ldr x5, [sp, #32]
                ; ldp x3, x4, [sp, #16]
                ; ldp x1, x2, [sp], #48
            );
        }
        self.branch(Test::Nonzero(0), leave);
        a64!(self.ops ; ldr x0, [x24, #ctx(CTX_RET)]);
        if !callbacks {
            a64!(self.ops
                ; ldp x1, x2, [x24, #pair(CTX_ARGS)]
                ; ldp x3, x4, [x24, #pair(CTX_ARGS + 16)]
                ; ldr x5, [x24, #ctx(CTX_ARGS + 32)]
            );
        }
    }

    /// Calls a plain helper (`extern "C"`, AAPCS64) directly: r1–r5 (x1–x5) shift down to
    /// x0–x4, r0 comes back in x0. x1–x5 are caller-saved, so the ones the code after the call
    /// may read are kept in the context's argument area around it.
    pub(super) fn plain_call(&mut self, pc: usize, func: usize) {
        let live = self.lw.live_args_after(pc);
        for r in 1..=5u32 {
            if live & (1 << r) != 0 {
                a64!(self.ops ; str X(r), [x24, #ctx(CTX_ARGS + 8 * (r as i32 - 1))]);
            }
        }
        a64!(self.ops
            ; mov x0, x1
            ; mov x1, x2
            ; mov x2, x3
            ; mov x3, x4
            ; mov x4, x5
        );
        self.mov_const(true, FN, func as u64);
        a64!(self.ops
            ; str x30, [sp, #-16]!
            ; blr x16
            ; ldr x30, [sp], #16
        );
        for r in 1..=5u32 {
            if live & (1 << r) != 0 {
                a64!(self.ops ; ldr X(r), [x24, #ctx(CTX_ARGS + 8 * (r as i32 - 1))]);
            }
        }
    }
}
