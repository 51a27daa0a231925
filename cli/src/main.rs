//! The `apiary` command-line tool.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    restore_sigpipe();
    let args = cli::Args::parse();
    match cli::execute(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Restores the default action of `SIGPIPE` (Rust's runtime ignores it, so a write to a closed
/// pipe becomes an error that `println!` turns into a panic): `apiary disasm prog.o | head`
/// then ends quietly when `head` has read enough, as Unix tools do.
fn restore_sigpipe() {
    // SAFETY: called first thing in `main`, before any thread exists; `SIG_DFL` is a valid
    // disposition for `SIGPIPE` and installs no handler code.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
