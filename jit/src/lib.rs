//! apiary's JIT compilers: eBPF programs to host machine code, implementing
//! [`apiary_vm::Executable`] with exactly the interpreter's semantics (results, faults with
//! their pc, instruction counts).
//!
//! Layout: `analysis` (blocks, metering costs, fault-site facts), `lower` (the per-compilation
//! lowering state and the ISA-independent decisions), `driver` (the one `match` over
//! instructions, calling a backend's `driver::Target` per operation) and `runtime` (the run
//! context, the trampolines generated code calls — `extern "sysv64"` on x86-64, `extern "C"`
//! on aarch64 — and exit records → outcomes) are shared by every backend. `x86_64` and
//! `aarch64` are the backends (dynasm). Both code generators are compiled on every host (so
//! each host's tests also check the other backend's encodings); the host's own backend runs
//! the code. On any other architecture [`Jit::new`] returns [`JitError::UnsupportedArch`].
//!
//! Machine code per eBPF slot, for `apiary disasm --jit`: [`Jit::code`] and
//! [`Jit::instruction_offsets`] (or [`Jit::instruction_code`]). The register maps are
//! documented on the backend modules (x86-64: r0→rax, r1→rdi, r2→rsi, r3→rdx, r4→r9, r5→r8,
//! r6→rbx, r7→r13, r8→r14, r9→r15, r10→rbp, r12 = run context; aarch64: r0–r5→x0–x5,
//! r6–r9→x19–x22, r10→x23, x24 = run context, x18 never used).
//!
//! Generated code is W^X: it is assembled into ordinary memory (a `dynasmrt::VecAssembler`)
//! and copied once into a fresh mapping that is then made executable and never writable
//! (`lower::map_code`: one mapping per compile); on aarch64 the data cache is cleaned and the
//! instruction cache invalidated over the code before it runs.

// Without a backend for the host, the shared machinery is compiled but unused.
#![cfg_attr(
    not(any(target_arch = "x86_64", target_arch = "aarch64")),
    allow(dead_code, unused_mut, unused_imports)
)]

#[cfg_attr(not(target_arch = "aarch64"), allow(dead_code))]
mod aarch64;
mod analysis;
mod driver;
mod lower;
mod runtime;
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
mod x86_64;

#[cfg(test)]
mod cross_tests;
#[cfg(test)]
mod layout_tests;

use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::Arc;

use apiary_vm::engine::{Environment, ExecConfig, Executable, Outcome};
use apiary_vm::error::LoadError;
use apiary_vm::instruction::Instruction;
use apiary_vm::memory::{ExecState, Region, RegionTable};
use apiary_vm::program::Program;
use dynasmrt::ExecutableBuffer;
use thiserror::Error;

use crate::lower::Flags;
use crate::runtime::{Ret, RunCtx, Shared};

/// Why a program could not be compiled.
#[derive(Debug, Error)]
pub enum JitError {
    /// Input error (neither a bug nor a limit): the program does not fit the environment,
    /// e.g. it calls a helper the environment lacks.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// Limit: no backend for this host architecture.
    #[error("the JIT has no backend for this architecture")]
    UnsupportedArch,
    /// Limit: the operating system refused executable memory.
    #[error("cannot map executable memory: {0}")]
    Memory(std::io::Error),
    /// Bug: the assembler could not finalize the code (unresolved label or mapping failure).
    #[error("internal error: could not finalize generated code")]
    Finalize,
}

/// Compile-time options.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JitOptions {
    /// XOR every ALU, move, store, jump and `lddw` immediate with a random key and undo it at
    /// run time, so attacker-chosen constants never appear verbatim in executable memory.
    pub blind_constants: bool,
}

/// Options the backends see: the public ones plus test-only facts.
#[derive(Clone, Debug, Default)]
pub(crate) struct CompileOptions {
    pub blind_constants: bool,
    /// Seed for blinding keys.
    pub seed: u64,
    /// Unchecked mode: `proven_safe[pc]` means a verifier proved the access at `pc` in bounds,
    /// permitted and (for atomics) aligned, so no check is emitted. Reached through
    /// [`Jit::with_facts`] (which never marks atomics) and this crate's tests.
    pub proven_safe: Option<Vec<bool>>,
    /// Sandboxed verified mode: proven accesses outside the current frame go to
    /// `confine.apply(addr)` ([`apiary_vm::Confinement`]); `None` (or the identity): as computed.
    pub confine: Option<apiary_vm::Confinement>,
}

/// Generated code and where each slot's code starts.
pub(crate) struct Compiled {
    pub code: ExecutableBuffer,
    pub entry: usize,
    /// The callback entry stub.
    pub callback_entry: usize,
    pub offsets: Vec<usize>,
    /// The context fields the code reads ([`runtime::needs`] bits).
    pub needs: u8,
    /// The program's pre-pass, reused by [`Jit::compile`].
    pub scan: analysis::Scan,
}

/// A program compiled to host machine code.
pub struct Jit {
    program: Arc<Program>,
    shared: Box<Shared>,
    regions: Arc<[Region]>,
    config: ExecConfig,
    compiled: Compiled,
    /// Address of the entry stub.
    entry: usize,
    /// Address of slot 0's code.
    body: u64,
    /// Runs need a region table: the program calls helpers or the environment has regions.
    needs_table: bool,
    /// The program has legacy packet loads.
    packet_loads: bool,
    /// Callbacks are enabled.
    callbacks: bool,
    /// The context fields a run must write ([`runtime::needs`] bits).
    needs: u8,
    /// The sandbox window's base, for the context (0 unconfined).
    window_base: u64,
}

impl std::fmt::Debug for Jit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jit")
            .field("slots", &self.program.len())
            .field("code_size", &self.code_size())
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl Jit {
    /// Compiles `program` for `env` with default options.
    ///
    /// # Errors
    /// [`JitError::Load`] when the program calls a helper `env` lacks; otherwise a limit.
    pub fn new(program: Arc<Program>, env: &Environment) -> Result<Self, JitError> {
        Self::with_options(program, env, JitOptions::default())
    }

    /// Compiles `program` for `env` with `options`.
    ///
    /// # Errors
    /// As [`Jit::new`].
    pub fn with_options(
        program: Arc<Program>,
        env: &Environment,
        options: JitOptions,
    ) -> Result<Self, JitError> {
        let seed = RandomState::new().hash_one(0x006a_6974_u64);
        let opts = CompileOptions {
            blind_constants: options.blind_constants,
            seed,
            proven_safe: None,
            confine: None,
        };
        Self::compile(program, env, &opts)
    }

    /// Compiles `program` in verified mode: the loads and stores that `facts` mark as proven in
    /// bounds get no run-time check. Atomics keep theirs (the facts say nothing of alignment).
    ///
    /// # Errors
    /// As [`Jit::new`].
    ///
    /// # Safety
    /// `facts` must come from a sound verifier run on this very `program` for an environment
    /// whose regions, program type and helpers are those of `env` and of every run's input. A
    /// wrong fact lets generated code read or write outside the program's regions.
    pub unsafe fn with_facts(
        program: Arc<Program>,
        env: &Environment,
        facts: &apiary_vm::Facts,
    ) -> Result<Self, JitError> {
        // SAFETY: the caller's contract; the identity confinement adds nothing to it.
        unsafe { Self::with_facts_confined(program, env, facts, apiary_vm::Confinement::NONE) }
    }

    /// [`Jit::with_facts`] with every unchecked access confined: a proven load or store whose
    /// address is not a fixed offset into the current stack frame accesses
    /// `confine.apply(addr)` (two instructions), so a wrong fact reaches only the window.
    /// Atomics stay checked, as in [`Jit::with_facts`].
    ///
    /// # Errors
    /// As [`Jit::new`].
    ///
    /// # Safety
    /// As [`Jit::with_facts`] for the program's correctness; for memory safety it is enough that
    /// `[base, base + mask + 1 + 7)` is mapped read-write while the code lives (an
    /// `apiary_window::Window` with the read-zero policy, kept alive by the caller).
    pub unsafe fn with_facts_confined(
        program: Arc<Program>,
        env: &Environment,
        facts: &apiary_vm::Facts,
        confine: apiary_vm::Confinement,
    ) -> Result<Self, JitError> {
        let proven = program
            .instructions()
            .iter()
            .enumerate()
            .map(|(pc, ins)| facts.access_proven(pc) && !matches!(ins, Instruction::Atomic { .. }))
            .collect();
        let opts = CompileOptions {
            blind_constants: false,
            seed: 0,
            proven_safe: Some(proven),
            confine: (!confine.is_none()).then_some(confine),
        };
        Self::compile(program, env, &opts)
    }

    pub(crate) fn compile(
        program: Arc<Program>,
        env: &Environment,
        opts: &CompileOptions,
    ) -> Result<Self, JitError> {
        env.check_helpers(&program)?;
        let shared = Box::new(shared_for(&program, env));
        let compiled = backend_compile(&program, &shared, env, opts)?;
        let needs = compiled.needs
            | if env.config.budget.is_some() {
                runtime::needs::METER
            } else {
                0
            };
        let entry = compiled.code.ptr(dynasmrt::AssemblyOffset(compiled.entry)) as usize;
        let body = compiled
            .code
            .ptr(dynasmrt::AssemblyOffset(compiled.offsets[0])) as u64;
        let analysis::Scan {
            calls,
            packet_loads,
            ..
        } = compiled.scan;
        let needs_table = !env.regions.is_empty() || calls;
        Ok(Self {
            program,
            shared,
            regions: Arc::clone(&env.regions),
            config: env.config,
            compiled,
            entry,
            body,
            needs_table,
            packet_loads,
            callbacks: callbacks_enabled(env),
            needs,
            window_base: opts.confine.map_or(0, |c| c.base),
        })
    }

    /// Size of the generated code in bytes (entry/exit stubs, body and out-of-line stubs).
    #[must_use]
    pub fn code_size(&self) -> usize {
        self.compiled.code.len()
    }

    /// The generated machine code.
    #[must_use]
    pub fn code(&self) -> &[u8] {
        &self.compiled.code
    }

    /// Host code offset of each slot, plus one final entry: the end of the body. The code of
    /// slot `pc` is `code()[offsets[pc]..offsets[pc + 1]]` (empty for an `lddw` tail); the
    /// entry/exit stubs come before slot 0, out-of-line fault stubs after the body.
    #[must_use]
    pub fn instruction_offsets(&self) -> &[usize] {
        &self.compiled.offsets
    }

    /// The machine code generated for slot `pc` (empty past the end).
    #[must_use]
    pub fn instruction_code(&self, pc: usize) -> &[u8] {
        match (
            self.compiled.offsets.get(pc),
            self.compiled.offsets.get(pc + 1),
        ) {
            (Some(&a), Some(&b)) => &self.compiled.code[a..b],
            _ => &[],
        }
    }
}

/// The helpers a program calls by id, resolved for the trampolines.
pub(crate) fn shared_for(program: &Program, env: &Environment) -> Shared {
    let mut helpers: Vec<(u32, Arc<apiary_vm::helpers::HelperFn>)> = Vec::new();
    // The decoding pass found whether there is any call to resolve.
    let calls = if program.summary().helper_calls {
        program.instructions()
    } else {
        &[]
    };
    for ins in calls {
        if let Instruction::Call { helper } = *ins {
            if !helpers.iter().any(|(id, _)| *id == helper) {
                if let Some(h) = env.helpers.get(helper) {
                    helpers.push((helper, Arc::clone(&h.func)));
                }
            }
        }
    }
    Shared {
        helpers,
        table: Arc::clone(&env.helpers),
    }
}

/// Linux helper ids that take callbacks (`bpf_for_each_map_elem`, `bpf_loop`): with one of
/// them in the environment, code addresses are loadable and helpers may call functions back
/// (as in the interpreter).
const CALLBACK_HELPERS: [u32; 2] = [164, 181];

fn callbacks_enabled(env: &Environment) -> bool {
    CALLBACK_HELPERS
        .iter()
        .any(|&id| env.helpers.get(id).is_some())
}

/// The instruction sets apiary can generate code for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Arch {
    X86_64,
    Aarch64,
}

impl Arch {
    /// The host's instruction set, if it has a backend.
    pub(crate) const HOST: Option<Arch> = if cfg!(target_arch = "x86_64") {
        Some(Arch::X86_64)
    } else if cfg!(target_arch = "aarch64") {
        Some(Arch::Aarch64)
    } else {
        None
    };
}

/// Generates code for `arch` (which need not be the host's: such code is only inspected).
pub(crate) fn compile_for(
    arch: Arch,
    program: &Program,
    shared: &Shared,
    env: &Environment,
    opts: &CompileOptions,
) -> Result<Compiled, JitError> {
    let flags = Flags {
        metering: env.config.budget.is_some(),
        extra_regions: !env.regions.is_empty(),
        callbacks: callbacks_enabled(env),
        scan: analysis::scan(program),
    };
    match arch {
        Arch::X86_64 => x86_64::compile(program, shared, flags, opts),
        Arch::Aarch64 => aarch64::compile(program, shared, flags, opts),
    }
}

fn backend_compile(
    program: &Program,
    shared: &Shared,
    env: &Environment,
    opts: &CompileOptions,
) -> Result<Compiled, JitError> {
    match Arch::HOST {
        Some(arch) => compile_for(arch, program, shared, env, opts),
        None => Err(JitError::UnsupportedArch),
    }
}

impl Executable for Jit {
    fn engine_name(&self) -> &'static str {
        "jit"
    }

    fn program(&self) -> &Program {
        &self.program
    }

    // Always inlined: the lean path is a handful of instructions around the call into the
    // generated code, and the per-call overhead is what embedders calling tiny programs pay
    // (an out-of-line copy costs ~13 host instructions per run, measured with callgrind).
    #[inline(always)]
    fn run(&self, state: &mut ExecState, input: &mut [u8]) -> Outcome {
        if !self.needs_table && !self.packet_loads {
            // The common lean path: no table, no packet.
            let stack = state.stack_region();
            let input = Region::writable(input);
            let mut ctx = RunCtx::new(
                stack,
                input,
                self.config.budget,
                self.window_base,
                self.needs,
            );
            let ret = self.enter(&mut ctx, stack, input);
            return self.outcome(&ctx, ret);
        }
        self.run_full(state, input)
    }
}

impl Jit {
    /// A run with a region table (helpers, extra regions) or a packet.
    #[inline(never)]
    fn run_full(&self, state: &mut ExecState, input: &mut [u8]) -> Outcome {
        let packet = state.packet();
        let (stack, control) = state.split();
        let input = Region::writable(input);
        let mut ctx = RunCtx::new(
            stack,
            input,
            self.config.budget,
            self.window_base,
            self.needs,
        );
        if self.packet_loads {
            ctx.set_packet(packet.unwrap_or(input));
        }
        if !self.needs_table {
            let ret = self.enter(&mut ctx, stack, input);
            return self.outcome(&ctx, ret);
        }
        let caller = runtime::JitCaller::new(self);
        let mut table =
            RegionTable::with_control(stack, input, &self.regions, control).with_packet(packet);
        if self.callbacks {
            table = table.with_caller(&caller);
        }
        ctx.set_table(&table, &self.shared, stack.start);
        caller.bind(&mut ctx);
        let ret = self.enter(&mut ctx, stack, input);
        self.outcome(&ctx, ret)
    }

    #[inline(always)]
    fn outcome(&self, ctx: &RunCtx, ret: Ret) -> Outcome {
        let instructions = if self.config.budget.is_some() {
            Some(ctx.count())
        } else {
            None
        };
        if ret.leave == runtime::exit::OK {
            return Outcome {
                result: Ok(ret.r0),
                instructions,
            };
        }
        self.fault_outcome(ctx, ret.leave, instructions)
    }

    #[cold]
    #[inline(never)]
    fn fault_outcome(&self, ctx: &RunCtx, leave: u64, instructions: Option<u64>) -> Outcome {
        Outcome {
            result: ctx.result(leave, 0, &self.program),
            instructions,
        }
    }

    /// Runs the program from slot 0 on `ctx`: returns r0 and the exit kind.
    #[inline(always)]
    fn enter(&self, ctx: &mut RunCtx, stack: Region, input: Region) -> Ret {
        let r1 = if input.len == 0 { 0 } else { input.start };
        let top = stack.start + apiary_vm::memory::STACK_SIZE as u64;
        #[cfg(target_arch = "x86_64")]
        {
            let _ = (self.compiled.entry, self.body);
            // SAFETY: `self.entry` is this Jit's main entry stub, compiled for the host with
            // `self.shared`'s helpers; `ctx` describes this run's live stack, input and
            // registered regions (the region contract of apiary_vm::memory), which outlive the
            // call.
            unsafe { x86_64::enter(self.entry, ctx, r1, input.len, top) }
        }
        #[cfg(target_arch = "aarch64")]
        {
            let _ = (top, self.body);
            ctx.set_entry(r1, input.len, top);
            // SAFETY: as above, for the aarch64 backend (which reads r1, r2 and r10 from `ctx`).
            unsafe {
                aarch64::enter(self.entry as *const u8, ctx);
            }
            // SAFETY: the aarch64 stubs write `exit_kind` on every exit, and `ret` on every
            // exit of kind OK (normal exit, helper stop, packet end).
            let leave = unsafe { ctx.exit_kind.assume_init() };
            let r0 = if leave == runtime::exit::OK {
                // SAFETY: as above.
                unsafe { ctx.ret.assume_init() }
            } else {
                0
            };
            Ret { r0, leave }
        }
        #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
        {
            let _ = (r1, top, self.body, self.entry);
            Ret { r0: 0, leave: 0 }
        }
    }

    /// Calls the function whose code starts at slot `target` on `ctx` with r1–r5 = `args` and
    /// r10 = `r10` (a callback). Returns r0 and the exit kind.
    #[cfg_attr(
        not(any(target_arch = "x86_64", target_arch = "aarch64")),
        allow(dead_code, unused_variables)
    )]
    pub(crate) fn call_back(
        &self,
        ctx: &mut RunCtx,
        target: usize,
        args: [u64; 5],
        r10: u64,
    ) -> Ret {
        let addr = self
            .compiled
            .code
            .ptr(dynasmrt::AssemblyOffset(self.compiled.offsets[target])) as u64;
        let entry = self
            .compiled
            .code
            .ptr(dynasmrt::AssemblyOffset(self.compiled.callback_entry));
        #[cfg(target_arch = "x86_64")]
        {
            // SAFETY: `target` is a function start of this Jit's code; `ctx` is the context of
            // the run in progress (a helper of it is calling back), `r10` a frame inside its
            // stack.
            unsafe { x86_64::call_back(entry as usize, ctx, args, addr, r10) }
        }
        #[cfg(target_arch = "aarch64")]
        {
            // SAFETY: as for x86-64.
            unsafe { aarch64::call_back(entry, ctx, addr, r10, args) };
            // SAFETY: the callback stub writes `exit_kind` on every exit, and `ret` on every
            // exit of kind OK.
            let leave = unsafe { ctx.exit_kind.assume_init() };
            let r0 = if leave == runtime::exit::OK {
                // SAFETY: as above.
                unsafe { ctx.ret.assume_init() }
            } else {
                0
            };
            Ret { r0, leave }
        }
        #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
        {
            let _ = (entry, addr);
            unreachable!("no backend for this architecture")
        }
    }
}

#[cfg(test)]
mod unchecked_tests;
