//! Every engine the benchmarks compare, prepared from the same bytecode and run on the same
//! input: apiary's interpreter and JIT (checked, and verified: see [`crate::verified`]), the
//! native twin, and (feature `peers`) rbpf's
//! interpreter and JIT and uBPF's interpreter and JIT.
//!
//! How each peer gets the input (read from their sources):
//!
//! - rbpf 0.3 `EbpfVmRaw`: r1 = input address, but r2 is not set (0 in the interpreter, the
//!   empty mbuff's length in the JIT). The programs read the length from r2, so rbpf runs the
//!   bytecode with one prepended slot, `mov r2, <input length>` (the length is fixed per
//!   program; the slot is relative-jump neutral). rbpf's JIT writes into one fixed 4 KiB page
//!   and panics (an assertion) when the code does not fit: that is reported as "n/a".
//! - uBPF (`libubpf-sys`): `ubpf_exec` / the `ubpf_compile` function get (mem, len) as r1, r2.
//!   Interpreter with its default bounds checks on; JIT in basic mode.
//!
//! Helper id 1 is [`crate::helper`] in every engine (a Rust closure for apiary, a Rust `fn` for
//! rbpf, an `extern "C"` Rust function for uBPF, the C `helper.c` natively).

use std::fmt;

use apiary_engine::EngineKind;
use apiary_testkit_engines::{Agreement, Harness, Tally};
use std::sync::Arc;

use apiary_vm::{ExecState, Executable};

use crate::verified::VerifiedRunner;
use crate::{environment, run_native, BenchProgram};

/// One engine.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EngineId {
    /// apiary's checked interpreter.
    ApiaryInterp,
    /// apiary's x86-64 JIT (checked mode).
    ApiaryJit,
    /// apiary's interpreter in verified mode (proven accesses unchecked, confined to the
    /// sandbox window: the default).
    ApiaryInterpVerified,
    /// apiary's JIT in verified mode (proven accesses unchecked, confined to the window).
    ApiaryJitVerified,
    /// apiary's interpreter in unsandboxed verified mode (proven accesses unconfined).
    ApiaryInterpUnsandboxed,
    /// apiary's JIT in unsandboxed verified mode.
    ApiaryJitUnsandboxed,
    /// rbpf 0.3 interpreter (`EbpfVmRaw::execute_program`).
    RbpfInterp,
    /// rbpf 0.3 x86-64 JIT (`jit_compile` + `execute_program_jit`).
    RbpfJit,
    /// uBPF interpreter (`ubpf_exec`).
    UbpfInterp,
    /// uBPF JIT (`ubpf_compile`).
    UbpfJit,
    /// The program's C source compiled for the host.
    Native,
}

impl EngineId {
    /// Every engine, in report order.
    pub const ALL: [EngineId; 11] = [
        EngineId::ApiaryInterp,
        EngineId::ApiaryJit,
        EngineId::ApiaryInterpVerified,
        EngineId::ApiaryJitVerified,
        EngineId::ApiaryInterpUnsandboxed,
        EngineId::ApiaryJitUnsandboxed,
        EngineId::RbpfInterp,
        EngineId::RbpfJit,
        EngineId::UbpfInterp,
        EngineId::UbpfJit,
        EngineId::Native,
    ];

    /// The benchmark id (criterion function id).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            EngineId::ApiaryInterp => "apiary_interp",
            EngineId::ApiaryJit => "apiary_jit",
            EngineId::ApiaryInterpVerified => "apiary_interp_verified",
            EngineId::ApiaryJitVerified => "apiary_jit_verified",
            EngineId::ApiaryInterpUnsandboxed => "apiary_interp_unsandboxed",
            EngineId::ApiaryJitUnsandboxed => "apiary_jit_unsandboxed",
            EngineId::RbpfInterp => "rbpf_interp",
            EngineId::RbpfJit => "rbpf_jit",
            EngineId::UbpfInterp => "ubpf_interp",
            EngineId::UbpfJit => "ubpf_jit",
            EngineId::Native => "native",
        }
    }

    /// Whether this build includes the engine (peers need the `peers` feature).
    #[must_use]
    pub const fn built(self) -> bool {
        cfg!(feature = "peers")
            || matches!(
                self,
                EngineId::ApiaryInterp
                    | EngineId::ApiaryJit
                    | EngineId::ApiaryInterpVerified
                    | EngineId::ApiaryJitVerified
                    | EngineId::ApiaryInterpUnsandboxed
                    | EngineId::ApiaryJitUnsandboxed
                    | EngineId::Native
            )
    }

    /// The engine with this name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.name() == name)
    }
}

impl fmt::Display for EngineId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A program prepared for one engine. The benches match on it once, outside the timed loop,
/// and time each engine's own call path.
pub enum Runner {
    /// apiary's interpreter in checked mode (with the verifier's proofs, complete or partial,
    /// where it has them: `verified::checked`), with its run state.
    ApiaryInterp(Box<dyn Executable>, ExecState),
    /// apiary's JIT in checked mode, as the interpreter.
    ApiaryJit(Box<dyn Executable>, ExecState),
    /// apiary's interpreter or JIT in verified mode, with its run state.
    ApiaryVerified(VerifiedRunner, ExecState),
    /// rbpf, interpreter or JIT.
    #[cfg(feature = "peers")]
    Rbpf(peers::Rbpf),
    /// uBPF, interpreter or JIT.
    #[cfg(feature = "peers")]
    Ubpf(peers::Ubpf),
    /// The native twin.
    Native(BenchProgram),
}

impl fmt::Debug for Runner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Runner::ApiaryInterp(..) => "ApiaryInterp",
            Runner::ApiaryJit(..) => "ApiaryJit",
            Runner::ApiaryVerified(..) => "ApiaryVerified",
            #[cfg(feature = "peers")]
            Runner::Rbpf(_) => "Rbpf",
            #[cfg(feature = "peers")]
            Runner::Ubpf(_) => "Ubpf",
            Runner::Native(_) => "Native",
        };
        f.write_str(name)
    }
}

impl Runner {
    /// Runs once on `input`: r0, or the engine's error as text.
    ///
    /// # Errors
    /// The engine's fault or error.
    pub fn run(&mut self, input: &mut [u8]) -> Result<u64, String> {
        match self {
            Runner::ApiaryInterp(e, state) => e.run(state, input).result.map_err(|f| f.to_string()),
            Runner::ApiaryJit(e, state) => e.run(state, input).result.map_err(|f| f.to_string()),
            Runner::ApiaryVerified(e, state) => e.run(state, input),
            #[cfg(feature = "peers")]
            Runner::Rbpf(e) => e.run(input),
            #[cfg(feature = "peers")]
            Runner::Ubpf(e) => e.run(input),
            Runner::Native(p) => Ok(run_native(p, input)),
        }
    }
}

/// Prepares bytecode for an engine (`input_len`: the length the program will be run with; only
/// rbpf needs it). `Err` says why the engine cannot run it.
///
/// # Errors
/// The engine refused the program, or is not built in.
pub fn prepare_bytecode(
    engine: EngineId,
    name: &str,
    bytecode: &[u8],
    input_len: usize,
) -> Result<Runner, String> {
    match engine {
        EngineId::ApiaryInterp => {
            crate::verified::checked(EngineKind::Interp, crate::decode(name, bytecode), input_len)
                .map(|i| Runner::ApiaryInterp(i, ExecState::new()))
        }
        EngineId::ApiaryJit => {
            crate::verified::checked(EngineKind::Jit, crate::decode(name, bytecode), input_len)
                .map(|j| Runner::ApiaryJit(j, ExecState::new()))
        }
        EngineId::ApiaryInterpVerified
        | EngineId::ApiaryJitVerified
        | EngineId::ApiaryInterpUnsandboxed
        | EngineId::ApiaryJitUnsandboxed => {
            let kind = if matches!(
                engine,
                EngineId::ApiaryJitVerified | EngineId::ApiaryJitUnsandboxed
            ) {
                EngineKind::Jit
            } else {
                EngineKind::Interp
            };
            let sandboxed = matches!(
                engine,
                EngineId::ApiaryInterpVerified | EngineId::ApiaryJitVerified
            );
            VerifiedRunner::with_sandbox(kind, crate::decode(name, bytecode), input_len, sandboxed)
                .map(|v| Runner::ApiaryVerified(v, ExecState::new()))
        }
        #[cfg(feature = "peers")]
        EngineId::RbpfInterp => peers::Rbpf::new(bytecode, input_len, false).map(Runner::Rbpf),
        #[cfg(feature = "peers")]
        EngineId::RbpfJit => peers::Rbpf::new(bytecode, input_len, true).map(Runner::Rbpf),
        #[cfg(feature = "peers")]
        EngineId::UbpfInterp => peers::Ubpf::new(bytecode, false).map(Runner::Ubpf),
        #[cfg(feature = "peers")]
        EngineId::UbpfJit => peers::Ubpf::new(bytecode, true).map(Runner::Ubpf),
        EngineId::Native => Err("native needs a benchmark program".to_owned()),
        #[cfg(not(feature = "peers"))]
        _ => Err("not built (enable the `peers` feature)".to_owned()),
    }
}

/// Prepares a benchmark program for an engine.
///
/// # Errors
/// As [`prepare_bytecode`].
pub fn prepare(engine: EngineId, p: &BenchProgram, input_len: usize) -> Result<Runner, String> {
    match engine {
        EngineId::Native => Ok(Runner::Native(*p)),
        _ => prepare_bytecode(engine, p.name, p.bytecode, input_len),
    }
}

/// What one engine did with one program in the pre-timing check.
#[derive(Debug)]
pub struct Checked {
    /// The engine.
    pub engine: EngineId,
    /// The prepared program, when the engine can run it and agreed with native.
    pub runner: Result<Runner, String>,
}

/// apiary's engines on `p` and `input` through the engine-agreement harness: the checked
/// interpreter and JIT, metered (the instruction count compared too), and, when the verifier
/// accepts the program for this input length, both in verified mode. The whole state (r0 or
/// fault, count, input, stack) must agree; the peers and the native twin are compared by r0
/// in [`check_all`].
#[must_use]
pub fn apiary_agreement(p: &BenchProgram, input: &[u8]) -> Agreement {
    let program = crate::program(p);
    // A budget far above any benchmark's work: it only turns metering on.
    let env = environment(Some(u64::MAX));
    let harness = Harness::checked(&program, &env);
    // The complete proof when there is one, else the partial one checked mode uses.
    match crate::verified::verify(Arc::clone(&program), input.len())
        .or_else(|_| crate::verified::verify_partial(program, input.len()))
    {
        // SAFETY: `verify` and `verify_partial` prove the program on
        // `crate::verified::platform()`, whose only helper is the pure bench helper
        // `environment` registers; no maps; `input` is the length proven (and
        // `prepare_verified` checks it).
        Ok(v) => unsafe { harness.verified(&v, &env) },
        Err(_) => harness,
    }
    .run(input)
}

/// Prepares `p` for every built engine, runs each once on the program's input and compares r0
/// with the native twin. Engines that cannot prepare or run it get `Err(reason)` ("n/a").
/// apiary's engines are first compared with each other on their whole state
/// ([`apiary_agreement`]), counted in `tally`.
///
/// # Panics
/// If an engine runs the program and returns a different r0 than native, or apiary's engines
/// disagree: a wrong result is a bug to fix, not a figure to report.
#[must_use]
pub fn check_all_tallied(p: &BenchProgram, tally: &mut Tally) -> Vec<Checked> {
    let input = (p.input)();
    let expected = run_native(p, &mut input.clone());
    let agreement = apiary_agreement(p, &input);
    agreement.assert_agree(&p.name);
    tally.add(&agreement);
    assert_eq!(
        agreement.outcome().map(|o| o.result),
        Some(Ok(expected)),
        "{}: apiary against native",
        p.name
    );
    EngineId::ALL
        .into_iter()
        .filter(|e| e.built())
        .map(|engine| {
            let runner = prepare(engine, p, input.len()).and_then(|mut r| {
                let got = r.run(&mut input.clone())?;
                assert_eq!(
                    got, expected,
                    "{}: {engine} returned {got:#x}, native {expected:#x}",
                    p.name
                );
                Ok(r)
            });
            Checked { engine, runner }
        })
        .collect()
}

/// [`check_all_tallied`] without a record (the benchmarks' pre-timing check).
#[must_use]
pub fn check_all(p: &BenchProgram) -> Vec<Checked> {
    check_all_tallied(p, &mut Tally::new("benches_check_all"))
}

/// The peer runtimes (feature `peers`).
#[cfg(feature = "peers")]
pub mod peers {
    use std::ffi::{c_char, c_void, CStr};
    use std::panic::{catch_unwind, AssertUnwindSafe};

    use libubpf_sys as ubpf;

    fn rbpf_helper(a: u64, b: u64, c: u64, d: u64, e: u64) -> u64 {
        crate::helper(a, b, c, d, e)
    }

    extern "C" fn ubpf_helper(a: u64, b: u64, c: u64, d: u64, e: u64) -> u64 {
        crate::helper(a, b, c, d, e)
    }

    /// rbpf 0.3 (`EbpfVmRaw`), interpreter or JIT.
    pub struct Rbpf {
        vm: rbpf::EbpfVmRaw<'static>,
        jit: bool,
    }

    impl std::fmt::Debug for Rbpf {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("Rbpf")
                .field("jit", &self.jit)
                .finish_non_exhaustive()
        }
    }

    impl Rbpf {
        /// Loads `bytecode` behind a `mov r2, input_len` prologue (rbpf does not pass the
        /// length), registers helper 1, and JIT-compiles when `jit`.
        ///
        /// # Errors
        /// rbpf's verifier or JIT refused the program (or its JIT panicked: code too large).
        pub fn new(bytecode: &[u8], input_len: usize, jit: bool) -> Result<Self, String> {
            let len = i32::try_from(input_len).map_err(|_| "input too large for the prologue")?;
            let mut code = Vec::with_capacity(bytecode.len() + 8);
            code.extend_from_slice(&[0xb7, 0x02, 0, 0]);
            code.extend_from_slice(&len.to_le_bytes());
            code.extend_from_slice(bytecode);
            // The VM borrows its bytecode for its whole life; a benchmark prepares a handful of
            // programs, so leaking them is simpler than a self-referential struct.
            let code: &'static [u8] = Box::leak(code.into_boxed_slice());
            let mut vm = rbpf::EbpfVmRaw::new(Some(code)).map_err(|e| e.to_string())?;
            vm.register_helper(1, rbpf_helper)
                .map_err(|e| e.to_string())?;
            if jit {
                match catch_unwind(AssertUnwindSafe(|| vm.jit_compile())) {
                    Ok(r) => r.map_err(|e| e.to_string())?,
                    Err(_) => {
                        return Err(
                            "rbpf JIT panicked: the code does not fit its fixed 4 KiB buffer"
                                .to_owned(),
                        )
                    }
                }
            }
            Ok(Self { vm, jit })
        }

        /// Runs once.
        ///
        /// # Errors
        /// rbpf's run-time error (e.g. an out-of-bounds access in the interpreter).
        pub fn run<'a>(&self, input: &'a mut [u8]) -> Result<u64, String> {
            let vm: &rbpf::EbpfVmRaw<'a> = &self.vm;
            if self.jit {
                // SAFETY: the program was compiled by `jit_compile` in `new`; rbpf's JIT does no
                // bounds checks, so soundness rests on the program only touching `input` and its
                // stack, which the same bytecode proves under apiary's checked engines
                // (`check_all` runs those first, and the tests check every program).
                unsafe { vm.execute_program_jit(input) }.map_err(|e| e.to_string())
            } else {
                vm.execute_program(input).map_err(|e| e.to_string())
            }
        }
    }

    extern "C" {
        fn free(p: *mut c_void);
    }

    fn take_error(msg: *mut c_char) -> String {
        if msg.is_null() {
            return "unknown error".to_owned();
        }
        // SAFETY: uBPF returns a NUL-terminated string allocated with malloc, which we own.
        let s = unsafe { CStr::from_ptr(msg) }
            .to_string_lossy()
            .into_owned();
        // SAFETY: as above; freed once.
        unsafe { free(msg.cast()) };
        s
    }

    /// A uBPF VM with a loaded program, interpreter or JIT.
    pub struct Ubpf {
        vm: *mut ubpf::ubpf_vm,
        jitted: Option<unsafe extern "C" fn(*mut c_void, usize) -> u64>,
    }

    impl std::fmt::Debug for Ubpf {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("Ubpf")
                .field("jit", &self.jitted.is_some())
                .finish_non_exhaustive()
        }
    }

    impl Drop for Ubpf {
        fn drop(&mut self) {
            // SAFETY: `vm` came from `ubpf_create`, is destroyed once, and nothing borrows it
            // (the JIT function pointer dies with `self`).
            unsafe { ubpf::ubpf_destroy(self.vm) };
        }
    }

    impl Ubpf {
        /// Creates a VM, registers helper 1, loads `bytecode` and compiles it when `jit`
        /// (with a JIT buffer of 32 bytes per slot, at least uBPF's default 64 KiB).
        ///
        /// # Errors
        /// uBPF refused the program.
        pub fn new(bytecode: &[u8], jit: bool) -> Result<Self, String> {
            // SAFETY: plain constructor; null on failure (checked).
            let vm = unsafe { ubpf::ubpf_create() };
            if vm.is_null() {
                return Err("ubpf_create failed".to_owned());
            }
            let mut this = Self { vm, jitted: None };
            let code_len = u32::try_from(bytecode.len()).map_err(|_| "program too large")?;
            // SAFETY: `vm` is live; the name is a static C string; the helper has the
            // `external_function_t` signature.
            let rc =
                unsafe { ubpf::ubpf_register(vm, 1, c"bench_helper".as_ptr(), Some(ubpf_helper)) };
            if rc != 0 {
                return Err("ubpf_register failed".to_owned());
            }
            let mut err: *mut c_char = std::ptr::null_mut();
            // SAFETY: `vm` is live; `bytecode` is valid for `code_len` bytes (uBPF copies it).
            let rc = unsafe { ubpf::ubpf_load(vm, bytecode.as_ptr().cast(), code_len, &mut err) };
            if rc != 0 {
                return Err(take_error(err));
            }
            if jit {
                let size = (bytecode.len() * 4).max(65536);
                // SAFETY: `vm` is live.
                if unsafe { ubpf::ubpf_set_jit_code_size(vm, size) } != 0 {
                    return Err("ubpf_set_jit_code_size failed".to_owned());
                }
                // SAFETY: `vm` is live with a program loaded; errors come back in `err`.
                let f = unsafe { ubpf::ubpf_compile(vm, &mut err) };
                match f {
                    Some(f) => this.jitted = Some(f),
                    None => return Err(take_error(err)),
                }
            }
            Ok(this)
        }

        /// Runs once.
        ///
        /// # Errors
        /// The interpreter's error (uBPF prints the reason to stderr).
        pub fn run(&self, input: &mut [u8]) -> Result<u64, String> {
            let mem: *mut c_void = if input.is_empty() {
                std::ptr::null_mut()
            } else {
                input.as_mut_ptr().cast()
            };
            match self.jitted {
                // SAFETY: `f` was compiled from this VM, which lives as long as `self`; uBPF's
                // JIT does no bounds checks, so soundness rests on the program only touching
                // `input` and its stack (checked under apiary's engines, see `check_all`).
                Some(f) => Ok(unsafe { f(mem, input.len()) }),
                None => {
                    let mut r0 = 0u64;
                    // SAFETY: `vm` is live with a program loaded; `input` is valid for its length.
                    let rc = unsafe { ubpf::ubpf_exec(self.vm, mem, input.len(), &mut r0) };
                    if rc == 0 {
                        Ok(r0)
                    } else {
                        Err("ubpf_exec failed".to_owned())
                    }
                }
            }
        }
    }
}
