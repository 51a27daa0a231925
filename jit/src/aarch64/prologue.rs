//! The entry stubs (main and callback) and the shared exit stub.

use dynasmrt::{dynasm, DynasmApi, DynasmLabelApi};

use super::*;

impl Gen<'_> {
    /// Opens an entry stub's 112-byte frame: the frame record and x19–x28 (undone by
    /// [`Gen::restore_frame`]); x24 = the run context (x0).
    pub(super) fn save_frame(&mut self) {
        a64!(self.ops
            ; stp x29, x30, [sp, #-112]!
            ; mov x29, sp
            ; stp x19, x20, [sp, #16]
            ; stp x21, x22, [sp, #32]
            ; stp x23, x24, [sp, #48]
            ; stp x25, x26, [sp, #64]
            ; stp x27, x28, [sp, #80]
            ; mov x24, x0
        );
    }

    /// Records this frame as the run's `saved_sp` (where the exit stub unwinds to) and loads
    /// the counter, the budget and both region starts from the context into x25–x28.
    pub(super) fn enter_run(&mut self) {
        a64!(self.ops
            ; mov x9, sp
            ; str x9, [x24, #ctx(CTX_SAVED_SP)]
            ; ldr x25, [x24, #ctx(CTX_COUNT)]
            ; ldr x26, [x24, #ctx(CTX_BUDGET)]
            ; ldr x27, [x24, #ctx(CTX_STACK_START)]
            ; ldr x28, [x24, #ctx(CTX_INPUT_START)]
        );
    }

    /// Restores x19–x28 and the frame record of an entry stub's frame and returns.
    pub(super) fn restore_frame(&mut self) {
        a64!(self.ops
            ; ldp x27, x28, [sp, #80]
            ; ldp x25, x26, [sp, #64]
            ; ldp x23, x24, [sp, #48]
            ; ldp x21, x22, [sp, #32]
            ; ldp x19, x20, [sp, #16]
            ; ldp x29, x30, [sp], #112
            ; ret
        );
    }

    /// The callback entry `fn(ctx, target, r10, r1, r2, r3, r4, r5)`: calls the function at
    /// `target` on the run in progress (counter, budget and region starts from the context,
    /// which the calling code stored before its helper call), one frame below the caller.
    pub(super) fn callback_stub(&mut self) {
        self.callback_entry = self.ops.offset().0;
        let resume = self.new_label();
        self.save_frame();
        a64!(self.ops
            ; ldr x9, [x24, #ctx(CTX_SAVED_SP)]
            ; str x9, [sp, #104]
            ; adr x9, =>resume
            ; str x9, [sp, #96]
        );
        self.enter_run();
        a64!(self.ops
            ; mov x16, x1
            ; mov x23, x2
            ; mov x1, x3
            ; mov x2, x4
            ; mov x3, x5
            ; mov x4, x6
            ; mov x5, x7
            ; movz x0, #0
            ; movz x19, #0
            ; movz x20, #0
            ; movz x21, #0
            ; movz x22, #0
        );
        self.load_base_reg();
        a64!(self.ops
            ; blr x16
            ; str x0, [x24, #ctx(CTX_RET)]
            ; movz x9, #exit::OK as u32
            ; str x9, [x24, #ctx(CTX_EXIT_KIND)]
            ; =>resume
            ; str x25, [x24, #ctx(CTX_COUNT)]
            ; ldr x9, [sp, #104]
            ; str x9, [x24, #ctx(CTX_SAVED_SP)]
        );
        self.restore_frame();
    }

    /// Loads the window base register (if any) from the run context (written by every run).
    fn load_base_reg(&mut self) {
        if let Some(rb) = self.base_reg {
            a64!(self.ops ; ldr X(rb), [x24, #ctx(CTX_WINDOW_BASE)]);
        }
    }

    /// Entry stubs and the shared exit stub. Returns the main entry's offset.
    ///
    /// The main entry is `fn(*mut RunCtx)` (AAPCS64): r1, r2 and r10 come from the context.
    /// The callback entry (see [`Gen::callback_stub`]) is
    /// `fn(*mut RunCtx, target, r10, r1, r2, r3, r4, r5)`. Both keep a 112-byte frame: the
    /// frame record, x19–x28, the address of the stub's epilogue (at 96) and, for callbacks,
    /// the previous `saved_sp` (at 104, so callbacks nest). The exit stub restores sp from
    /// `saved_sp` and branches to the epilogue recorded in that frame, which stores the
    /// counter and returns to the stub's caller.
    pub(super) fn stubs(&mut self) -> usize {
        self.callback_stub();
        let start = self.ops.offset().0;
        let first = self.lw.labels[0];
        let resume = self.new_label();
        self.save_frame();
        a64!(self.ops
            ; adr x9, =>resume
            ; str x9, [sp, #96]
        );
        self.enter_run();
        a64!(self.ops
            ; movz x0, #0
            ; ldr x1, [x24, #ctx(CTX_INIT_R1)]
            ; ldr x2, [x24, #ctx(CTX_INIT_R2)]
            ; movz x3, #0
            ; movz x4, #0
            ; movz x5, #0
            ; movz x19, #0
            ; movz x20, #0
            ; movz x21, #0
            ; movz x22, #0
            ; ldr x23, [x24, #ctx(CTX_INIT_R10)]
        );
        self.load_base_reg();
        a64!(self.ops
            ; bl =>first
            ; str x0, [x24, #ctx(CTX_RET)]
            ; movz x9, #exit::OK as u32
            ; str x9, [x24, #ctx(CTX_EXIT_KIND)]
            ; =>resume
            ; str x25, [x24, #ctx(CTX_COUNT)]
        );
        self.restore_frame();
        a64!(self.ops
            ; ->leave:
            ; ldr x9, [x24, #ctx(CTX_SAVED_SP)]
            ; mov sp, x9
            ; ldr x9, [sp, #96]
            ; br x9
        );
        start
    }
}
