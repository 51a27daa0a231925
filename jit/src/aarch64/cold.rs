//! Out-of-line code: fault and exit stubs, the slow region check.

use dynasmrt::{dynasm, DynasmApi, DynasmLabelApi};

use super::*;

impl Gen<'_> {
    pub(super) fn emit_cold_stubs(&mut self) {
        let cold = std::mem::take(&mut self.lw.cold);
        for c in cold {
            match c {
                Cold::Fault {
                    label,
                    pc,
                    kind,
                    with_addr,
                } => {
                    a64!(self.ops ; =>label);
                    if with_addr {
                        a64!(self.ops ; str x9, [x24, #ctx(CTX_FAULT_AUX)]);
                    }
                    self.mov_const(true, T0, pc as u64);
                    a64!(self.ops ; str x10, [x24, #ctx(CTX_FAULT_PC)]);
                    self.mov_const(true, T0, kind);
                    a64!(self.ops ; str x10, [x24, #ctx(CTX_EXIT_KIND)]);
                    self.fixup(pc);
                    a64!(self.ops ; b ->leave);
                }
                Cold::Leave { label, pc } => {
                    a64!(self.ops ; =>label);
                    self.fixup(pc);
                    a64!(self.ops ; b ->leave);
                }
                Cold::PacketEnd { label, pc } => {
                    a64!(self.ops
                        ; =>label
                        ; str xzr, [x24, #ctx(CTX_RET)]
                    );
                    self.mov_const(true, T0, exit::OK);
                    a64!(self.ops ; str x10, [x24, #ctx(CTX_EXIT_KIND)]);
                    self.fixup(pc);
                    a64!(self.ops ; b ->leave);
                }
                Cold::Slow {
                    label,
                    ok,
                    fault,
                    len,
                    write,
                } => {
                    let la = u64::from(len) | if write { 0x100 } else { 0 };
                    a64!(self.ops
                        ; =>label
                        ; stp x0, x1, [x24, #pair(CTX_SAVE)]
                        ; stp x2, x3, [x24, #pair(CTX_SAVE + 16)]
                        ; stp x4, x5, [x24, #pair(CTX_SAVE + 32)]
                        ; str x9, [x24, #ctx(CTX_SAVE + 48)]
                        ; mov x0, x24
                        ; mov x1, x9
                    );
                    self.mov_const(true, 2, la);
                    self.mov_const(true, FN, check_access as *const () as usize as u64);
                    a64!(self.ops
                        ; str x30, [sp, #-16]!
                        ; blr x16
                        ; ldr x30, [sp], #16
                        ; mov x10, x0
                        ; ldp x0, x1, [x24, #pair(CTX_SAVE)]
                        ; ldp x2, x3, [x24, #pair(CTX_SAVE + 16)]
                        ; ldp x4, x5, [x24, #pair(CTX_SAVE + 32)]
                        ; ldr x9, [x24, #ctx(CTX_SAVE + 48)]
                        ; cbz x10, >denied
                        ; b =>ok
                        ; denied:
                        ; b =>fault
                    );
                }
            }
        }
    }

    pub(super) fn fixup(&mut self, pc: usize) {
        let r = self.lw.fixup(pc);
        if r != 0 {
            self.add_const(true, 25, 25, r.wrapping_neg());
        }
    }
}
