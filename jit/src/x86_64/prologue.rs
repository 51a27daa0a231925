//! The entry stubs (main and callback) and the shared exit stub.

use dynasmrt::{dynasm, DynasmApi, DynasmLabelApi};

use super::*;

/// Host registers of r6–r9 (callee-saved in sysv64).
pub(super) const CALLEE_SAVED: [u8; 4] = [3, 13, 14, 15];

/// Which of r6–r9 the program may touch (conservatively: any slot naming it as dst or src,
/// from [`crate::analysis::Scan::regs_named`]).
pub(super) fn used_callee_saved(regs_named: u16) -> [bool; 4] {
    [6, 7, 8, 9].map(|r| regs_named & (1 << r) != 0)
}

impl Gen<'_> {
    /// Entry stubs and the shared exit stub. Returns the main entry's offset.
    ///
    /// The main entry is `extern "sysv64" fn(r1, r2, ctx, r10) -> Ret`: it saves only the
    /// callee-saved host registers the program uses, zeroes r0 and r3–r9, calls slot 0 and
    /// returns r0 in rax and the exit kind in rdx.
    ///
    /// The callback entry is `extern "sysv64" fn(r1, r2, r3, ctx, r5, r4, target, r10) -> Ret`:
    /// r1–r5 arrive in their own host registers (rdi, rsi, rdx, r8, r9 are argument registers),
    /// the context in rcx; it calls `target` (a function start) with r10 = `r10`, keeping the
    /// previous `saved_sp` on the host stack, so callbacks nest inside a run.
    ///
    /// Both stubs record `saved_sp` = rsp just before their `call`, followed by a 2-byte
    /// `xor edx, edx` (exit kind OK for a normal return). The exit stub restores rsp, and
    /// resumes after that `xor` (rdx holds the exit kind), whatever the depth.
    pub(super) fn stubs(&mut self) -> usize {
        let mut used = used_callee_saved(self.lw.scan.regs_named);
        if let Some(rb) = self.base_reg {
            // The window base register is saved and restored like r6–r9.
            if let Some(i) = CALLEE_SAVED.iter().position(|&r| r == rb) {
                used[i] = true;
            }
        }
        let first = self.lw.labels[0];
        // Callback entry. At entry rsp = 8 (mod 16); six pushes, the saved sp and 8 bytes of
        // padding keep it at 8, so the `call` enters with rsp = 0 (mod 16), the invariant of
        // every eBPF function body.
        let callback = self.ops.offset().0;
        x64!(self.ops
            ; push rbp
            ; push rbx
            ; push r12
            ; push r13
            ; push r14
            ; push r15
            ; mov r12, rcx
            ; push QWORD [r12 + CTX_SAVED_SP]
            ; sub rsp, 8
            ; mov [r12 + CTX_SAVED_SP], rsp
            ; mov r11, [rsp + 72]
            ; mov rbp, [rsp + 80]
            ; xor eax, eax
            ; xor ebx, ebx
            ; xor r13d, r13d
            ; xor r14d, r14d
            ; xor r15d, r15d
        );
        self.load_base_reg();
        x64!(self.ops
            ; call r11
        );
        self.resume_xor();
        x64!(self.ops
            ; add rsp, 8
            ; pop QWORD [r12 + CTX_SAVED_SP]
            ; pop r15
            ; pop r14
            ; pop r13
            ; pop r12
            ; pop rbx
            ; pop rbp
            ; ret
        );
        self.callback_entry = callback;
        // Main entry.
        let main = self.ops.offset().0;
        x64!(self.ops ; push rbp ; push r12);
        let mut pushed = 2;
        for (i, &r) in CALLEE_SAVED.iter().enumerate() {
            if used[i] {
                x64!(self.ops ; push Rq(r));
                pushed += 1;
            }
        }
        let pad = pushed % 2 == 1;
        if pad {
            x64!(self.ops ; sub rsp, 8);
        }
        x64!(self.ops
            ; mov r12, rdx
            ; mov rbp, rcx
            ; mov [r12 + CTX_SAVED_SP], rsp
        );
        // Zero r0 and r3–r9 where the program may read them before writing them.
        let init = read_before_written(self.lw.program);
        for r in [0usize, 3, 4, 5, 6, 7, 8, 9] {
            let used = r < 6 || used[r - 6];
            if used && init & (1 << r) != 0 && self.base_reg != Some(MAP[r]) {
                x64!(self.ops ; xor Rd(MAP[r]), Rd(MAP[r]));
            }
        }
        self.load_base_reg();
        x64!(self.ops ; call =>first);
        self.resume_xor();
        if pad {
            x64!(self.ops ; add rsp, 8);
        }
        for (i, &r) in CALLEE_SAVED.iter().enumerate().rev() {
            if used[i] {
                x64!(self.ops ; pop Rq(r));
            }
        }
        x64!(self.ops
            ; pop r12
            ; pop rbp
            ; ret
            ; ->leave:
            ; mov rsp, [r12 + CTX_SAVED_SP]
            ; mov r11, [rsp - 8]
            ; add r11, 2
            ; jmp r11
        );
        main
    }

    /// Loads the window base register (if any) from the run context, after the stub's zeroing.
    fn load_base_reg(&mut self) {
        if let Some(rb) = self.base_reg {
            self.needs |= needs::WINDOW;
            x64!(self.ops ; mov Rq(rb), [r12 + CTX_WINDOW_BASE]);
        }
    }

    /// The `xor edx, edx` after an entry stub's `call` (exit kind OK), which the exit stub
    /// skips: exactly 2 bytes.
    pub(super) fn resume_xor(&mut self) {
        let before = self.ops.offset().0;
        x64!(self.ops ; xor edx, edx);
        debug_assert_eq!(self.ops.offset().0 - before, 2);
    }
}
