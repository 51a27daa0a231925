//! The logic of the `bpf-conformance-plugin` binary, which the official `bpf_conformance_runner`
//! starts once per test (protocol: CONFORMANCE.md §3.2–3.3):
//!
//! ```text
//! bpf-conformance-plugin [MEM] [--engine interp|all] [--program HEX] [--debug] [--elf]
//! ```
//! `MEM` is `argv[1]` iff it does not start with `--`; the program comes from `--program` or
//! stdin, as whitespace-separated hex bytes (`"b7  00  00  ..."`). On success r0 is printed as
//! `{:x}` and the exit code is 0; a load error, fault or engine disagreement prints one line and
//! exits 1. Everything is in the library so it can be tested without spawning processes.

use std::fmt::Write as _;
use std::sync::Arc;

use apiary_vm::{Outcome, Program};
use thiserror::Error;

use crate::engine::EngineSelection;
use crate::runner::{disagreement, execute, Observation, RunConfig};

/// The parsed command line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Input memory hex (`argv[1]` when it does not start with `--`).
    pub memory: Option<String>,
    /// Engines to run.
    pub engines: EngineSelection,
    /// Program hex given with `--program` (otherwise stdin is read).
    pub program: Option<String>,
    /// Print diagnostics on stderr.
    pub debug: bool,
    /// The input is an ELF file (not supported yet).
    pub elf: bool,
}

/// A command-line or input error. The plugin prints it and exits 1.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum PluginError {
    /// An option the plugin does not know.
    #[error("unknown option {0:?} (usage: bpf-conformance-plugin [MEM] [--engine interp|all] [--program HEX] [--debug] [--elf])")]
    UnknownOption(String),
    /// An option that needs a value came last.
    #[error("option {0} needs a value")]
    MissingValue(&'static str),
    /// A bad `--engine` value.
    #[error(transparent)]
    Engine(#[from] crate::engine::UnknownEngine),
    /// A token of the memory or program hex is not hex.
    #[error("{what}: token {index} {token:?} is not a hex byte (two hex digits)")]
    BadHex {
        /// `memory` or `program`.
        what: &'static str,
        /// 0-based token index.
        index: usize,
        /// The token.
        token: String,
    },
    /// No program bytes at all.
    #[error("program: no instruction bytes given")]
    EmptyProgram,
    /// `--elf` was given.
    #[error("ELF input is not supported yet")]
    ElfUnsupported,
    /// Reading stdin failed.
    #[error("cannot read the program from stdin: {0}")]
    Stdin(String),
}

/// Parses argv (without the program name).
///
/// # Errors
/// [`PluginError::UnknownOption`], [`PluginError::MissingValue`] or [`PluginError::Engine`].
pub fn parse_args(args: &[String]) -> Result<Options, PluginError> {
    let mut opts = Options::default();
    let mut rest = args;
    if let Some(first) = rest.first() {
        if !first.starts_with("--") {
            opts.memory = Some(first.clone());
            rest = &rest[1..];
        }
    }
    let mut it = rest.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            // `--plugin_options` is split on single spaces, so a double space gives "".
            "" => {}
            "--engine" => {
                let v = it.next().ok_or(PluginError::MissingValue("--engine"))?;
                opts.engines = v.parse()?;
            }
            "--interpret" => opts.engines = "interp".parse()?,
            "--jit" => opts.engines = "jit".parse()?,
            "--program" => {
                opts.program = Some(
                    it.next()
                        .ok_or(PluginError::MissingValue("--program"))?
                        .clone(),
                )
            }
            "--debug" => opts.debug = true,
            "--elf" => opts.elf = true,
            other => {
                if let Some(v) = other.strip_prefix("--engine=") {
                    opts.engines = v.parse()?;
                } else {
                    return Err(PluginError::UnknownOption(other.to_owned()));
                }
            }
        }
    }
    Ok(opts)
}

/// Decodes whitespace-separated hex bytes, each token exactly two hex digits: the runner's
/// `"aa  bb  "` format (CONFORMANCE.md §3.2). A token of another length is a malformed
/// input, not a guess (`abc` could be `ab 0c` or `0a bc`).
///
/// # Errors
/// [`PluginError::BadHex`] naming the token.
pub fn decode_hex(what: &'static str, text: &str) -> Result<Vec<u8>, PluginError> {
    let mut out = Vec::with_capacity(text.len() / 3 + 1);
    for (index, token) in text.split_whitespace().enumerate() {
        let byte = match token.as_bytes() {
            [hi, lo] if hi.is_ascii_hexdigit() && lo.is_ascii_hexdigit() => {
                u8::from_str_radix(token, 16).ok()
            }
            _ => None,
        };
        out.push(byte.ok_or_else(|| PluginError::BadHex {
            what,
            index,
            token: token.chars().take(40).collect(),
        })?);
    }
    Ok(out)
}

/// What the plugin prints and returns.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Output {
    /// Text for stdout.
    pub stdout: String,
    /// Text for stderr (diagnostics with `--debug`).
    pub stderr: String,
    /// Process exit code.
    pub code: i32,
}

impl Output {
    fn error(stderr: String, message: impl std::fmt::Display) -> Self {
        Output {
            stdout: format!("{message}\n"),
            stderr,
            code: 1,
        }
    }
}

/// Runs the plugin: `args` without the program name; `read_stdin` is called only when the
/// program is not given with `--program`.
pub fn run(args: &[String], read_stdin: impl FnOnce() -> std::io::Result<Vec<u8>>) -> Output {
    let opts = match parse_args(args) {
        Ok(o) => o,
        Err(e) => return Output::error(String::new(), e),
    };
    let program_text = match &opts.program {
        Some(p) => p.clone(),
        // Always drain stdin (even for --elf), so the runner never blocks writing it.
        None => match read_stdin() {
            Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
            Err(e) => return Output::error(String::new(), PluginError::Stdin(e.to_string())),
        },
    };
    if opts.elf {
        return Output::error(String::new(), PluginError::ElfUnsupported);
    }
    match run_hex(&opts, &program_text) {
        Ok(out) => out,
        Err(e) => Output::error(String::new(), e),
    }
}

fn run_hex(opts: &Options, program_text: &str) -> Result<Output, PluginError> {
    let mem = decode_hex("memory", opts.memory.as_deref().unwrap_or(""))?;
    let bytes = decode_hex("program", program_text)?;
    if bytes.is_empty() {
        return Err(PluginError::EmptyProgram);
    }
    let config = RunConfig::with_engines(opts.engines);
    let mut debug = String::new();
    if opts.debug {
        let _ = writeln!(debug, "memory: {} bytes: {:02x?}", mem.len(), mem);
        for (pc, slot) in bytes.chunks(8).enumerate() {
            let _ = writeln!(debug, "{pc:5}: {slot:02x?}");
        }
    }
    let program = match Program::from_bytes(&bytes, &config.load_options) {
        Ok(p) => Arc::new(p),
        Err(e) => return Ok(Output::error(debug, format_args!("load error: {e}"))),
    };
    if opts.debug {
        for (pc, ins) in program.instructions().iter().enumerate() {
            let _ = writeln!(debug, "{pc:5}: {ins:?}");
        }
    }
    let observations = execute(
        &program,
        &mem,
        &opts.engines.engines(),
        &config.environment(),
    );
    if opts.debug {
        for (k, o) in &observations {
            let _ = writeln!(debug, "{k}: {o}");
        }
    }
    if let Some(details) = disagreement(&observations) {
        return Ok(Output::error(
            debug,
            format_args!("engines disagree: {details}"),
        ));
    }
    Ok(match observations.first().map(|(_, o)| o) {
        Some(Observation::Ran(Outcome { result: Ok(r0), .. })) => Output {
            stdout: format!("{r0:x}\n"),
            stderr: debug,
            code: 0,
        },
        Some(Observation::Ran(Outcome {
            result: Err(fault), ..
        })) => Output::error(debug, format_args!("fault: {fault}")),
        Some(Observation::Refused(e)) => Output::error(debug, format_args!("load error: {e}")),
        None => Output::error(debug, "no engine selected"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_owned()).collect()
    }

    fn no_stdin() -> std::io::Result<Vec<u8>> {
        Err(std::io::Error::other("stdin must not be read"))
    }

    #[test]
    fn memory_only_when_first_and_not_an_option() {
        let o = parse_args(&args(&["aa  bb  ", "--debug"])).unwrap_or_default();
        assert_eq!(o.memory.as_deref(), Some("aa  bb  "));
        assert!(o.debug);
        let o = parse_args(&args(&["--engine", "all", "", "--elf"])).unwrap_or_default();
        assert_eq!(
            (o.memory, o.engines, o.elf),
            (None, EngineSelection::All, true)
        );
        assert_eq!(
            parse_args(&args(&["--frob"])),
            Err(PluginError::UnknownOption("--frob".into()))
        );
        assert_eq!(
            parse_args(&args(&["--engine"])),
            Err(PluginError::MissingValue("--engine"))
        );
        assert!(matches!(
            parse_args(&args(&["--engine", "warp"])),
            Err(PluginError::Engine(_))
        ));
        // A second non-option argument is not memory.
        assert!(matches!(
            parse_args(&args(&["aa", "bb"])),
            Err(PluginError::UnknownOption(_))
        ));
    }

    #[test]
    fn hex_formats() {
        assert_eq!(decode_hex("m", "aa  bb  00  \n"), Ok(vec![0xaa, 0xbb, 0]));
        assert_eq!(decode_hex("m", "AA\tbb"), Ok(vec![0xaa, 0xbb]));
        for bad in ["0", "b7000000", "0x1", "aaa"] {
            assert!(
                matches!(
                    decode_hex("m", bad),
                    Err(PluginError::BadHex { index: 0, .. })
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            decode_hex("m", "aa xz"),
            Err(PluginError::BadHex { index: 1, .. })
        ));
        assert!(matches!(
            decode_hex("m", "abc"),
            Err(PluginError::BadHex { index: 0, .. })
        ));
        assert!(matches!(
            decode_hex("m", "é"),
            Err(PluginError::BadHex { .. })
        ));
    }

    #[test]
    fn runs_and_reports() {
        let prog = "b7  00  00  00  2a  00  00  00  95  00  00  00  00  00  00  00  \n";
        let out = run(&args(&[]), || Ok(prog.as_bytes().to_vec()));
        assert_eq!((out.stdout.as_str(), out.code), ("2a\n", 0));
        // r0 = r2 = memory length.
        let out = run(
            &args(&[
                "aa  bb  cc  ",
                "--engine",
                "all",
                "--program",
                "bf 20 00 00 00 00 00 00 95 00 00 00 00 00 00 00",
            ]),
            no_stdin,
        );
        assert_eq!((out.stdout.as_str(), out.code), ("3\n", 0));
        // Load error names the instruction.
        let out = run(&args(&["--program", "b7 00 00 00 2a 00 00 00"]), no_stdin);
        assert_eq!(out.code, 1);
        assert!(
            out.stdout.starts_with("load error: instruction 0:"),
            "{}",
            out.stdout
        );
        // Fault: ldxb r0, [r1+0] with no memory.
        let out = run(
            &args(&[
                "--program",
                "71 10 00 00 00 00 00 00 95 00 00 00 00 00 00 00",
            ]),
            no_stdin,
        );
        assert_eq!(out.code, 1);
        assert!(
            out.stdout.starts_with("fault: instruction 0:"),
            "{}",
            out.stdout
        );
        // Infinite loop: budget.
        let out = run(&args(&["--program", "05 00 ff ff 00 00 00 00"]), no_stdin);
        assert_eq!(out.code, 1);
        assert!(out.stdout.contains("budget"), "{}", out.stdout);
    }

    #[test]
    fn input_errors_exit_one() {
        for (a, stdin, want) in [
            (
                vec!["--elf"],
                "95 00 00 00 00 00 00 00",
                "ELF input is not supported yet",
            ),
            (vec![], "", "no instruction bytes"),
            (vec![], "95 00 00", "not a multiple of 8"),
            (vec![], "95 zz", "not a hex byte"),
            (vec!["zz"], "95 00 00 00 00 00 00 00", "memory: token 0"),
            (vec!["--what"], "", "unknown option"),
        ] {
            let out = run(&args(&a), || Ok(stdin.as_bytes().to_vec()));
            assert_eq!(out.code, 1, "{a:?}");
            assert!(out.stdout.contains(want), "{a:?}: {}", out.stdout);
        }
    }

    #[test]
    fn debug_goes_to_stderr() {
        let out = run(
            &args(&[
                "--debug",
                "--program",
                "b7 00 00 00 07 00 00 00 95 00 00 00 00 00 00 00",
            ]),
            no_stdin,
        );
        assert_eq!(out.stdout, "7\n");
        assert!(out.stderr.contains("interp: r0 = 0x7"), "{}", out.stderr);
    }
}
