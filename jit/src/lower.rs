//! ISA-independent lowering shared by the backends: the per-compilation state (block
//! structure, slot labels, pending out-of-line stubs, blinding keys), the decisions that do not
//! depend on the host instruction set (which accesses are checked and how, where the budget is
//! tested, how much a run that stops mid-block gives back, which helper index a `call` uses).
//! A backend owns an assembler and a [`Lowering`]; [`crate::driver`] walks the program and
//! calls the backend, which turns each decision into its own instructions.

use apiary_vm::instruction::{Instruction, Size};
use apiary_vm::memory::{FRAME_SIZE, STACK_SIZE};
use apiary_vm::program::Program;
use apiary_vm::Access;
use dynasmrt::mmap::MutableBuffer;
use dynasmrt::relocations::Relocation;
use dynasmrt::{DynamicLabel, ExecutableBuffer, VecAssembler};

use crate::analysis::{access_of, live_args_out, size_index, Blocks, Scan, ARGS_MASK};
use crate::runtime::{Shared, CTX_INPUT_BOUND, CTX_PACKET_BOUND};
use crate::{CompileOptions, JitError};

/// Out-of-line code emitted after the body, the same set for every backend.
pub(crate) enum Cold {
    /// A fault exit: record kind and pc (and the access address when `with_addr`), fix up the
    /// count, leave.
    Fault {
        label: DynamicLabel,
        pc: usize,
        kind: u64,
        with_addr: bool,
    },
    /// The run ends at `pc` with the exit record already written (helper stop or fault).
    Leave { label: DynamicLabel, pc: usize },
    /// An out-of-bounds packet load: the run ends with r0 = 0.
    PacketEnd { label: DynamicLabel, pc: usize },
    /// Slow region check of the access address (for the environment's extra regions).
    Slow {
        label: DynamicLabel,
        ok: DynamicLabel,
        fault: DynamicLabel,
        len: u8,
        write: bool,
    },
}

/// How the memory access of one slot is checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MemCheck {
    /// Access length in bytes.
    pub len: u8,
    /// Whether the access writes (stores and atomics).
    pub write: bool,
    /// Whether the bounds are tested (false in unchecked mode for proven slots).
    pub bounds: bool,
    /// Whether the alignment is tested (checked atomics).
    pub align: bool,
    /// An access at stack offset `o` (address minus stack start) is in bounds iff
    /// `o < stack_bound` (unsigned).
    pub stack_bound: u64,
    /// Context offset of the input bound for this access size (see `RunCtx::input_bound`).
    pub input_bound_off: i32,
    /// The base register is r10 (the stack is the likely region).
    pub r10_base: bool,
    /// Sandboxed verified mode: the unchecked access goes to `confine.apply(addr)`.
    pub confine: Option<apiary_vm::Confinement>,
}

/// Context offset of the input bound for accesses of `size` bytes.
pub(crate) fn input_bound_offset(size: Size) -> i32 {
    CTX_INPUT_BOUND + 8 * size_index(size) as i32
}

/// Context offset of the packet bound for packet loads of `size` bytes.
pub(crate) fn packet_bound_offset(size: Size) -> i32 {
    CTX_PACKET_BOUND + 8 * size_index(size) as i32
}

/// The access size of a length in bytes (1, 2, 4, 8).
pub(crate) fn size_of_len(len: u8) -> Size {
    match len {
        1 => Size::B,
        2 => Size::H,
        4 => Size::W,
        _ => Size::DW,
    }
}

/// What the environment decides about code generation.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Flags {
    /// The budget is metered.
    pub metering: bool,
    /// The environment has extra regions (the slow region check is needed).
    pub extra_regions: bool,
    /// The environment has callback helpers (see [`Lowering::callbacks`]).
    pub callbacks: bool,
    /// The program's one pre-pass.
    pub scan: Scan,
}

/// Whether `[r10 + off, r10 + off + len)` lies inside the current frame. Every frame's r10 is
/// `top - d * FRAME_SIZE` for a depth `d < MAX_FRAMES` (r10 is read-only, local calls and
/// callbacks lower it by one frame, never past the limit), so such an access is inside the
/// stack region in every frame: it needs no run-time bounds check.
pub(crate) fn in_frame(off: i16, len: u8) -> bool {
    let off = i64::from(off);
    off >= -(FRAME_SIZE as i64) && off + i64::from(len) <= 0
}

/// State shared by a backend's code generator for one compilation.
pub(crate) struct Lowering<'a> {
    pub program: &'a Program,
    pub blocks: Blocks,
    /// The label of each slot that has one (its code's start): every jump or call target and
    /// slot 0 from the start, other leaders when a backend asks (see
    /// [`crate::driver::slot_label`]); the others hold [`Lowering::unused`].
    pub labels: Vec<DynamicLabel>,
    /// The placeholder label: never defined nor referenced.
    pub unused: DynamicLabel,
    /// Out-of-line stubs still to emit.
    pub cold: Vec<Cold>,
    pub shared: &'a Shared,
    pub metering: bool,
    pub extra_regions: bool,
    /// Callbacks are enabled: `lddw` code addresses load [`apiary_vm::memory::code_address`]es
    /// and helper calls end their block.
    pub callbacks: bool,
    /// The program's pre-pass.
    pub scan: Scan,
    pub opts: &'a CompileOptions,
    rng: u64,
    /// Per slot, r1–r5 possibly read later (computed when the program calls plain helpers).
    live_args: Option<Vec<u16>>,
}

impl<'a> Lowering<'a> {
    pub(crate) fn new(
        program: &'a Program,
        shared: &'a Shared,
        flags: Flags,
        opts: &'a CompileOptions,
        new_label: &mut dyn FnMut() -> DynamicLabel,
    ) -> Self {
        let blocks = Blocks::new(program, flags.callbacks, flags.metering);
        // Labels up front only for the slots code jumps or calls to (from the decoder's jump
        // targets and the function starts, bit by bit); every other slot holds a placeholder
        // that is never defined nor referenced, unless a backend asks for a leader's label
        // later ([`crate::driver::slot_label`]).
        let unused = new_label();
        let mut labels = vec![unused; program.len()];
        for (w, &word) in blocks.entries.iter().enumerate() {
            let mut bits = word;
            while bits != 0 {
                labels[w * 64 + bits.trailing_zeros() as usize] = new_label();
                bits &= bits - 1;
            }
        }
        Self {
            program,
            blocks,
            labels,
            unused,
            cold: Vec::new(),
            shared,
            metering: flags.metering,
            extra_regions: flags.extra_regions,
            callbacks: flags.callbacks,
            scan: flags.scan,
            opts,
            rng: opts.seed | 1,
            live_args: None,
        }
        .with_liveness(flags.scan.calls)
    }

    fn with_liveness(mut self, calls: bool) -> Self {
        let plain = calls
            && self.program.instructions().iter().any(|i| match *i {
                Instruction::Call { helper } => self.plain_helper(helper).is_some(),
                _ => false,
            });
        if plain {
            self.live_args = Some(live_args_out(self.program));
        }
        self
    }

    /// The plain function of helper `id`, when it was registered as one (called directly).
    pub(crate) fn plain_helper(&self, id: u32) -> Option<apiary_vm::helpers::PlainHelperFn> {
        self.shared.table.get(id).and_then(|h| h.plain)
    }

    /// Which of r1–r5 (bit `i` = `ri`) the code after slot `pc` may read before writing them
    /// (all five when unknown): what a plain helper call must preserve.
    pub(crate) fn live_args_after(&self, pc: usize) -> u16 {
        self.live_args
            .as_ref()
            .map_or(ARGS_MASK, |l| l[pc] & ARGS_MASK)
    }

    /// The instruction at `pc`.
    pub(crate) fn ins(&self, pc: usize) -> Instruction {
        self.program.instructions()[pc]
    }

    /// The next blinding key (xorshift64* over the per-compilation random seed).
    pub(crate) fn next_key(&mut self) -> i32 {
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        (self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 32) as i32
    }

    /// A 64-bit blinding key.
    pub(crate) fn next_key64(&mut self) -> u64 {
        (u64::from(self.next_key() as u32) << 32) | u64::from(self.next_key() as u32)
    }

    /// The trampoline index of helper `id` (registered by `Jit::compile`).
    pub(crate) fn helper_index(&self, id: u32) -> usize {
        self.shared
            .helpers
            .iter()
            .position(|(h, _)| *h == id)
            .unwrap_or(usize::MAX)
    }

    /// Whether the block starting at `pc` adds its cost to the counter: the cost, if any
    /// (metering; a block costs at least one, and a slot that starts none has cost 0).
    pub(crate) fn block_cost(&self, pc: usize) -> Option<u64> {
        match self.blocks.cost.get(pc) {
            Some(&c) if self.metering && c != 0 => Some(u64::from(c)),
            _ => None,
        }
    }

    /// Whether a basic block starts at slot `pc`.
    pub(crate) fn is_leader(&self, pc: usize) -> bool {
        self.blocks.is_leader(pc)
    }

    /// Whether a jump from `pc` to `target`, when taken, tests the budget first.
    pub(crate) fn checks_budget_on_jump(&self, pc: usize, target: usize) -> bool {
        self.metering && target <= pc
    }

    /// Whether a call (local or `callx`) tests the budget first.
    pub(crate) fn checks_budget_on_call(&self) -> bool {
        self.metering
    }

    /// What a run that stops at `pc` subtracts from the counter (the rest of the block was
    /// counted on entry); 0 when not metering.
    pub(crate) fn fixup(&self, pc: usize) -> u64 {
        if self.metering {
            u64::from(self.blocks.remaining[pc])
        } else {
            0
        }
    }

    /// Whether a verifier proved the access at `pc` safe (unchecked mode).
    pub(crate) fn proven(&self, pc: usize) -> bool {
        self.opts
            .proven_safe
            .as_ref()
            .is_some_and(|p| p.get(pc).copied().unwrap_or(false))
    }

    /// How the access of the instruction at `pc` is checked; `None` if it has none.
    pub(crate) fn mem_check(&self, pc: usize) -> Option<MemCheck> {
        self.mem_check_of(pc, &self.ins(pc))
    }

    /// [`Lowering::mem_check`] of `ins`, the instruction at `pc`.
    #[inline]
    pub(crate) fn mem_check_of(&self, pc: usize, ins: &Instruction) -> Option<MemCheck> {
        let ins = *ins;
        let (len, access) = access_of(&ins)?;
        let checked = !self.proven(pc);
        let (base, off) = match ins {
            Instruction::Load { src, off, .. } => (src, off),
            Instruction::Store { dst, off, .. } | Instruction::Atomic { dst, off, .. } => {
                (dst, off)
            }
            _ => return None,
        };
        let frame = base.index() == 10 && in_frame(off, len);
        // r10 is FRAME_SIZE-aligned (the stack is 16-byte aligned and FRAME_SIZE is a multiple
        // of 16), so an in-frame atomic is aligned iff its offset is.
        let aligned = frame && i64::from(off) % i64::from(len) == 0;
        Some(MemCheck {
            len,
            write: access == Access::Write,
            bounds: checked && !frame,
            align: checked && matches!(ins, Instruction::Atomic { .. }) && !aligned,
            r10_base: base.index() == 10,
            stack_bound: (STACK_SIZE + 1) as u64 - u64::from(len),
            input_bound_off: input_bound_offset(size_of_len(len)),
            // A fixed offset into the current frame cannot leave the stack (r10 is never
            // written by programs); every other unchecked access is confined.
            confine: if checked || frame {
                None
            } else {
                self.opts.confine
            },
        })
    }

    /// Registers a cold fault stub for `pc` at `label`.
    pub(crate) fn push_fault(
        &mut self,
        label: DynamicLabel,
        pc: usize,
        kind: u64,
        with_addr: bool,
    ) {
        self.cold.push(Cold::Fault {
            label,
            pc,
            kind,
            with_addr,
        });
    }
}

/// Code bytes reserved per slot up front: more than most slots take (x86-64 ALU and checked
/// loads/stores average well under this), so the assembler's buffer rarely grows.
const BYTES_PER_SLOT: usize = 24;
/// Bytes reserved for the entry/exit stubs.
const STUB_BYTES: usize = 512;

/// A fresh assembler for a program of `slots` slots, its buffers sized up front so that
/// emitting does not reallocate them as it goes.
///
/// Code is assembled into ordinary memory (`VecAssembler`, base address 0: every reference
/// the backends emit is pc-relative, so the code does not depend on where it is mapped) and
/// copied once into its executable mapping by [`map_code`]: one `mmap` and one `mprotect` per
/// compile, where `dynasmrt::Assembler` maps a first page at creation and a second mapping on
/// `commit`.
pub(crate) fn new_assembler<R: Relocation>(slots: usize) -> VecAssembler<R> {
    // Labels: one per leader (at most one per slot) plus a few per checked access.
    VecAssembler::new_with_capacity(
        0,
        STUB_BYTES + BYTES_PER_SLOT * slots,
        4,
        2,
        slots + 16,
        8,
        slots + 16,
    )
}

/// Maps `code` (finished, relocations resolved) executable: written into a fresh writable
/// mapping, which is then made read+execute (never writable and executable at once).
pub(crate) fn map_code(code: &[u8]) -> Result<ExecutableBuffer, JitError> {
    let mut buffer = MutableBuffer::new(code.len().max(1)).map_err(JitError::Memory)?;
    buffer.set_len(code.len());
    buffer.copy_from_slice(code);
    // No-op on x86-64; on aarch64 cleans the data cache and invalidates the instruction cache
    // over the new code (the mapping's address does not change with its protection).
    dynasmrt::cache_control::synchronize_icache(&buffer);
    let code = buffer.make_exec().map_err(JitError::Memory)?;
    // `isb` on aarch64 (the running thread issues its own again at entry).
    dynasmrt::cache_control::prepare_for_execution(&code);
    Ok(code)
}
