//! Sandboxed verified mode: verified code whose unchecked accesses are confined to a window.
//!
//! A wrong proof (a verifier bug) lets verified code access an address no region allows. The
//! engines, prepared with a [`Confinement`](apiary_vm::Confinement), send every unchecked load, store and atomic to
//! `base | (addr & mask)`: inside the window whatever the address. [`Sandboxed`] makes sure
//! every run's stack and input are in that window too (the maps, global data and packet
//! buffer were allocated there by the loader), so correct programs behave exactly as
//! unsandboxed, and wrong ones can only touch their own instance's memory.

use std::sync::Arc;

use apiary_vm::memory::STACK_SIZE;
use apiary_vm::window::{Placement, Window};
use apiary_vm::{Environment, ExecState, Executable, Fault, Instruction, Outcome, Program, Reg};

use crate::PrepareError;

/// Size of the private window of a program whose environment has no regions (raw programs):
/// virtual only (`MAP_NORESERVE`); room for many threads' stacks and input copies. 4 GiB on
/// x86-64, where a 32-bit `lea` of the address is then the whole mask; elsewhere the backend
/// masks with an `and` at any size, so the window stays small (resetting a dropped 4 GiB range
/// is a million-page operation under qemu-user, which made the arm64 forged test crawl).
pub const PRIVATE_WINDOW: usize = if cfg!(target_arch = "x86_64") {
    1 << 32
} else {
    PRIVATE_WINDOW_FALLBACK
};

/// The private window's size when [`PRIVATE_WINDOW`] cannot be mapped: a host with strict
/// overcommit (`vm.overcommit_memory=2`) or an address-space limit charges `MAP_NORESERVE`
/// mappings in full. Confinement works at any power-of-two size; only the x86-64 one-`lea`
/// mask needs 4 GiB.
pub const PRIVATE_WINDOW_FALLBACK: usize = 1 << 26;

/// The window `env`'s verified programs are confined to: the environment's, if every region
/// lies in it; a fresh private window when the environment has no regions.
///
/// # Errors
/// [`PrepareError::Sandbox`] when a region lies outside the window, or there are regions but no
/// window (maps allocated on the heap: allocate them through `MapOptions::window`, or use the
/// unsandboxed variant), or the private window cannot be mapped.
pub fn window_for(env: &Environment) -> Result<Arc<Window>, PrepareError> {
    match &env.window {
        Some(w) => {
            if let Some(r) = env.regions.iter().find(|r| !w.contains(r.start, r.len)) {
                return Err(PrepareError::Sandbox {
                    reason: format!(
                        "region {:#x}+{} lies outside the sandbox window {:#x}+{}",
                        r.start,
                        r.len,
                        w.base(),
                        w.size()
                    ),
                });
            }
            Ok(Arc::clone(w))
        }
        None if env.regions.is_empty() => Window::sandbox(PRIVATE_WINDOW, Placement::Anywhere)
            .or_else(|_| Window::sandbox(PRIVATE_WINDOW_FALLBACK, Placement::Anywhere))
            .map_err(|e| PrepareError::Sandbox {
                reason: format!("cannot map a sandbox window: {e}"),
            }),
        None => Err(PrepareError::Sandbox {
            reason: format!(
                "the environment has {} regions but no sandbox window (allocate maps through \
                 MapOptions::window, or prepare unsandboxed)",
                env.regions.len()
            ),
        }),
    }
}

/// An engine prepared with its accesses confined to `window`, whose runs have their stack and
/// input in the window: the state's stack is moved there before the first run, and an input
/// outside the window is copied into a buffer of the state in it (and back after the run, if
/// the program may write it). An input already in the window costs no copy: embedders that
/// care allocate their buffers there (`Window::alloc`).
///
/// It also refuses inputs of another length than a proof for one length holds for (as
/// [`crate::ForInputLength`] does for unsandboxed engines): one wrapper instead of two keeps
/// the per-run cost of the sandbox to a few compares (`callgrind.sh sandbox`, `call_overhead`).
pub struct Sandboxed {
    inner: Box<dyn Executable>,
    window: Arc<Window>,
    /// The window's base and size, read on every run without going through the `Arc`.
    base: u64,
    size: u64,
    /// The only input length runs may have, when the proof is for one length.
    input_len: Option<u64>,
    /// The program may write its input (see [`may_write_input`]): only then is a copied input
    /// copied back after the run.
    writes_input: bool,
}

/// Whether `program` may write its input: it stores (or runs an atomic) through a register
/// other than the read-only frame pointer, or calls a helper, kfunc or `callx` target (which
/// may write through a pointer argument). A program with neither leaves the input as it found
/// it, so a copy of it need not be copied back (half the per-run copying, for the many
/// programs that only read their input).
pub(crate) fn may_write_input(program: &Program) -> bool {
    program.instructions().iter().any(|ins| match ins {
        Instruction::Store { dst, .. } | Instruction::Atomic { dst, .. } => *dst != Reg::R10,
        Instruction::Call { .. } | Instruction::CallKfunc { .. } | Instruction::CallX { .. } => {
            true
        }
        _ => false,
    })
}

impl Sandboxed {
    /// Wraps `inner`, prepared confined to `window` (which this keeps alive: the engine's code
    /// holds its address).
    #[must_use]
    pub fn new(inner: Box<dyn Executable>, window: Arc<Window>) -> Self {
        let writes_input = may_write_input(inner.program());
        Self {
            inner,
            base: window.base(),
            size: window.size() as u64,
            window,
            input_len: None,
            writes_input,
        }
    }

    /// As [`Sandboxed::new`], for facts that hold only for inputs of `len` bytes: runs with any
    /// other length are refused unrun with [`Fault::InputLength`].
    #[must_use]
    pub fn for_input_len(inner: Box<dyn Executable>, window: Arc<Window>, len: u64) -> Self {
        Self {
            input_len: Some(len),
            ..Self::new(inner, window)
        }
    }

    /// The window.
    #[must_use]
    pub fn window(&self) -> &Arc<Window> {
        &self.window
    }
}

impl std::fmt::Debug for Sandboxed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandboxed")
            .field("engine", &self.inner.engine_name())
            .field("base", &format_args!("{:#x}", self.window.base()))
            .field("size", &self.window.size())
            .finish()
    }
}

fn full(len: usize) -> Outcome {
    Outcome {
        result: Err(Fault::SandboxFull { len: len as u64 }),
        instructions: None,
    }
}

impl Executable for Sandboxed {
    fn engine_name(&self) -> &'static str {
        self.inner.engine_name()
    }

    fn program(&self) -> &Program {
        self.inner.program()
    }

    fn window(&self) -> Option<&Arc<Window>> {
        Some(&self.window)
    }

    /// The common case (right length, stack and input in the window) is a few compares and a
    /// tail call of the engine; everything else is out of line, so this frame saves no
    /// registers.
    fn run(&self, state: &mut ExecState, input: &mut [u8]) -> Outcome {
        let len = input.len() as u64;
        if self.input_len.is_some_and(|expected| expected != len) {
            return self.wrong_length(len);
        }
        // `Window::contains` on the cached base and size (overflow-free).
        let offset = (input.as_ptr() as u64).wrapping_sub(self.base);
        let in_window = len == 0 || (offset < self.size && len <= self.size - offset);
        if !in_window || !state.stack_in(&self.window) {
            return self.run_moved(state, input);
        }
        self.inner.run(state, input)
    }
}

impl Sandboxed {
    #[cold]
    #[inline(never)]
    fn wrong_length(&self, actual: u64) -> Outcome {
        Outcome {
            result: Err(Fault::InputLength {
                expected: self.input_len.unwrap_or_default(),
                actual,
            }),
            instructions: None,
        }
    }

    /// A run whose stack (first run on this state) or input (a heap buffer) is outside the
    /// window: the stack is moved in, the input copied in and, if the program may write it,
    /// back out.
    #[inline(never)]
    fn run_moved(&self, state: &mut ExecState, input: &mut [u8]) -> Outcome {
        if state.move_stack_to(&self.window).is_err() {
            return full(STACK_SIZE);
        }
        let len = input.len();
        if len == 0 || self.window.contains(input.as_ptr() as u64, len as u64) {
            return self.inner.run(state, input);
        }
        let Ok(addr) = state.window_input(&self.window, len) else {
            return full(len);
        };
        // SAFETY: `addr..addr + len` is a committed block of the window owned by `state` (its
        // input buffer), which the state never reads or writes itself and keeps until the next
        // `window_input` call: it lives through this run and is used by nothing else meanwhile.
        // It is distinct from `input` (which lies outside the window).
        let copy = unsafe { std::slice::from_raw_parts_mut(addr as *mut u8, len) };
        copy.copy_from_slice(input);
        let out = self.inner.run(state, copy);
        if self.writes_input {
            input.copy_from_slice(copy);
        }
        out
    }
}
