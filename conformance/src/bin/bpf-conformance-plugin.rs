//! `bpf-conformance-plugin`: the executable the official `bpf_conformance_runner` starts once
//! per test (`--plugin_path`). All logic lives in `apiary_conformance::plugin`; this only
//! connects it to the process: argv, stdin, stdout/stderr and the exit code.

use std::io::{Read, Write};
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let out = apiary_conformance::plugin::run(&args, || {
        let mut buf = Vec::new();
        std::io::stdin().lock().read_to_end(&mut buf)?;
        Ok(buf)
    });
    // Write errors (a closed pipe) cannot be reported anywhere useful; the exit code still is.
    let _ = std::io::stderr().lock().write_all(out.stderr.as_bytes());
    let _ = std::io::stdout().lock().write_all(out.stdout.as_bytes());
    ExitCode::from(u8::try_from(out.code).unwrap_or(1))
}
