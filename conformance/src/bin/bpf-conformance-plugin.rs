//! `bpf-conformance-plugin`: the executable the official `bpf_conformance_runner` starts once
//! per test (`--plugin_path`). All logic lives in `apiary_conformance::plugin`; this only
//! connects it to the process: argv, stdin, stdout/stderr and the exit code.

use std::io::{Read, Write};
use std::process::ExitCode;

/// Largest program text read from stdin: three characters per byte of the largest program a
/// loader takes (2^24 slots of 8 bytes), so a runaway writer cannot exhaust memory.
const MAX_STDIN: usize = 3 * (8 << 24);

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let out = apiary_conformance::plugin::run(&args, || {
        let mut buf = Vec::new();
        std::io::stdin()
            .lock()
            .take(MAX_STDIN as u64 + 1)
            .read_to_end(&mut buf)?;
        if buf.len() > MAX_STDIN {
            return Err(std::io::Error::other(format!(
                "program text larger than {MAX_STDIN} bytes"
            )));
        }
        Ok(buf)
    });
    // Write errors (a closed pipe) cannot be reported anywhere useful; the exit code still is.
    let _ = std::io::stderr().lock().write_all(out.stderr.as_bytes());
    let _ = std::io::stdout().lock().write_all(out.stdout.as_bytes());
    ExitCode::from(u8::try_from(out.code).unwrap_or(1))
}
