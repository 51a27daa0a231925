//! Out-of-line code: secondary region tests, the slow region check, fault and exit stubs.

use dynasmrt::{dynasm, DynasmApi, DynasmLabelApi};

use super::*;

impl Gen<'_> {
    pub(super) fn fixup(&mut self, pc: usize) {
        let r = self.lw.fixup(pc);
        if r != 0 {
            self.needs |= needs::METER;
            x64!(self.ops ; sub QWORD [r12 + CTX_COUNT], r as i32);
        }
    }

    pub(super) fn emit_cold_stubs(&mut self) {
        for c in std::mem::take(&mut self.checks) {
            x64!(self.ops ; =>c.label);
            if let Some((b, off)) = c.addr {
                x64!(self.ops ; lea r11, [Rq(b) + off]);
            }
            x64!(self.ops ; mov r10, r11);
            if c.stack {
                x64!(self.ops
                    ; sub r10, [r12 + CTX_STACK_START]
                    ; cmp r10, c.stack_bound
                );
            } else {
                x64!(self.ops
                    ; sub r10, [r12 + CTX_INPUT_START]
                    ; cmp r10, [r12 + c.input_bound_off]
                );
            }
            let ok = c.ok;
            let bad = c.slow.unwrap_or(c.fault);
            x64!(self.ops ; jb =>ok ; jmp =>bad);
        }
        let cold = std::mem::take(&mut self.lw.cold);
        for c in cold {
            match c {
                Cold::Fault {
                    label,
                    pc,
                    kind,
                    with_addr,
                } => {
                    x64!(self.ops ; =>label);
                    if with_addr {
                        x64!(self.ops ; mov [r12 + CTX_FAULT_AUX], r11);
                    }
                    x64!(self.ops
                        ; mov QWORD [r12 + CTX_FAULT_PC], pc as i32
                        ; mov edx, kind as i32
                    );
                    self.fixup(pc);
                    x64!(self.ops ; jmp ->leave);
                }
                Cold::Leave { label, pc } => {
                    // r0 (a stop value) in rax; the trampoline wrote the exit kind.
                    x64!(self.ops ; =>label ; mov rdx, [r12 + CTX_EXIT_KIND]);
                    self.fixup(pc);
                    x64!(self.ops ; jmp ->leave);
                }
                Cold::PacketEnd { label, pc } => {
                    x64!(self.ops
                        ; =>label
                        ; xor eax, eax
                        ; xor edx, edx
                    );
                    self.fixup(pc);
                    x64!(self.ops ; jmp ->leave);
                }
                Cold::Slow {
                    label,
                    ok,
                    fault,
                    len,
                    write,
                } => {
                    let la = i32::from(len) | if write { 0x100 } else { 0 };
                    let f = check_access as *const () as usize;
                    x64!(self.ops
                        ; =>label
                        ; mov [r12 + CTX_SAVE], rax
                        ; mov [r12 + CTX_SAVE + 8], rdi
                        ; mov [r12 + CTX_SAVE + 16], rsi
                        ; mov [r12 + CTX_SAVE + 24], rdx
                        ; mov [r12 + CTX_SAVE + 32], r9
                        ; mov [r12 + CTX_SAVE + 40], r8
                        ; mov [r12 + CTX_SAVE + 48], r11
                        ; mov rdi, r12
                        ; mov rsi, r11
                        ; mov edx, la
                        ; mov rax, QWORD f as i64
                        ; call rax
                        ; mov rcx, rax
                        ; mov rax, [r12 + CTX_SAVE]
                        ; mov rdi, [r12 + CTX_SAVE + 8]
                        ; mov rsi, [r12 + CTX_SAVE + 16]
                        ; mov rdx, [r12 + CTX_SAVE + 24]
                        ; mov r9, [r12 + CTX_SAVE + 32]
                        ; mov r8, [r12 + CTX_SAVE + 40]
                        ; mov r11, [r12 + CTX_SAVE + 48]
                        ; test ecx, ecx
                        ; jnz =>ok
                        ; jmp =>fault
                    );
                }
            }
        }
    }
}
