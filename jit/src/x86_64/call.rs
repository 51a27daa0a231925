//! Helper calls (through the trampolines or direct), local calls.

use apiary_vm::memory::FRAME_SIZE;
use dynasmrt::{dynasm, DynamicLabel, DynasmApi, DynasmLabelApi};

use super::*;

/// Whether plain helpers are called directly: their `extern "C"` ABI is sysv64 on every
/// x86-64 target but Windows.
pub(super) const PLAIN_DIRECT: bool = !cfg!(windows);

impl Gen<'_> {
    pub(super) fn local_frame_call(&mut self, depth: DynamicLabel, target: DynamicLabel) {
        self.needs |= needs::CALLS;
        x64!(self.ops
            ; cmp rbp, [r12 + CTX_CALL_LIMIT]
            ; jb =>depth
            ; push rbx
            ; push r13
            ; push r14
            ; push r15
            ; push rbp
            ; sub rbp, FRAME_SIZE as i32
            ; call =>target
            ; pop rbp
            ; pop r15
            ; pop r14
            ; pop r13
            ; pop rbx
        );
    }

    /// Calls a trampoline `(r1, r2, r3, ctx, r5, r4, site) -> Ret` (see
    /// [`crate::runtime::x86_helper`]), keeping r1–r5 on the host stack: r1–r5 survive
    /// helper calls. Five pushes and the `site` argument keep rsp 16-byte aligned.
    pub(super) fn trampoline_call(&mut self, pc: usize, func: usize, site: u64) {
        let leave = self.new_label();
        self.lw.cold.push(Cold::Leave { label: leave, pc });
        if self.lw.callbacks {
            x64!(self.ops ; mov [r12 + CTX_CUR_R10], rbp);
        }
        x64!(self.ops
            ; push rdi
            ; push rsi
            ; push rdx
            ; push r9
            ; push r8
            ; mov rcx, r12
        );
        if let Ok(i) = i32::try_from(site) {
            x64!(self.ops ; push i);
        } else {
            x64!(self.ops ; mov r11, QWORD site as i64 ; push r11);
        }
        x64!(self.ops
            ; mov r11, QWORD func as i64
            ; call r11
            ; test edx, edx
            ; jnz =>leave
            ; add rsp, 8
            ; pop r8
            ; pop r9
            ; pop rdx
            ; pop rsi
            ; pop rdi
        );
    }

    /// Calls a plain helper (`extern "C"` = sysv64 here) directly: r1–r3 and r5 already sit in
    /// argument registers (rdi, rsi, rdx, r8), r4 moves from r9 to rcx; r0 comes back in rax.
    /// The argument registers are caller-saved, so the ones holding r1–r5 the code after the
    /// call may read are pushed around it (with padding to keep rsp 16-byte aligned).
    pub(super) fn plain_call(&mut self, pc: usize, func: usize) {
        let live = self.lw.live_args_after(pc);
        let saved: Vec<u8> = (1..=5usize)
            .filter(|&r| live & (1 << r) != 0)
            .map(|r| MAP[r])
            .collect();
        let pad = saved.len() % 2 == 1;
        for &r in &saved {
            x64!(self.ops ; push Rq(r));
        }
        if pad {
            x64!(self.ops ; sub rsp, 8);
        }
        x64!(self.ops
            ; mov rcx, r9
            ; mov rax, QWORD func as i64
            ; call rax
        );
        if pad {
            x64!(self.ops ; add rsp, 8);
        }
        for &r in saved.iter().rev() {
            x64!(self.ops ; pop Rq(r));
        }
    }
}
