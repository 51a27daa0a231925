//! The built `bpf-conformance-plugin` binary, driven exactly as the official runner drives it:
//! memory as argv[1] in `"aa  bb  "` form (only when the test has memory), plugin options split
//! into separate arguments, the program as the same hex text on stdin, then EOF.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use apiary_conformance::data::{parse_file, Parsed};
use apiary_vm::insn::insns_to_bytes;

const PLUGIN: &str = env!("CARGO_BIN_EXE_bpf-conformance-plugin");
const OWN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");

/// The runner's hex format: each byte followed by two spaces.
fn runner_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}  ")).collect()
}

/// Runs the plugin; returns (exit code, stdout).
fn plugin(mem: Option<&[u8]>, options: &[&str], stdin: &str) -> (i32, String) {
    let mut cmd = Command::new(PLUGIN);
    if let Some(m) = mem {
        cmd.arg(runner_hex(m));
    }
    cmd.args(options)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => panic!("{PLUGIN}: {e}"),
    };
    if let Some(mut si) = child.stdin.take() {
        // The plugin may exit before reading everything; a broken pipe is not our concern here.
        let _ = si.write_all(stdin.as_bytes());
    }
    let out = match child.wait_with_output() {
        Ok(o) => o,
        Err(e) => panic!("{PLUGIN}: {e}"),
    };
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// Runs one `.data` file through the plugin as the runner would and checks r0.
fn check_file(path: &Path, options: &[&str]) {
    let case = match parse_file(path) {
        Ok(Parsed::Test(c)) => c,
        other => panic!("{}: {other:?}", path.display()),
    };
    let insns = match apiary_conformance::assemble::slots(&case.program) {
        Ok(i) => i,
        Err(e) => panic!("{}: {e}", path.display()),
    };
    let program = format!("{}\n", runner_hex(&insns_to_bytes(&insns)));
    let mem = (!case.mem.is_empty()).then_some(case.mem.as_slice());
    let (code, stdout) = plugin(mem, options, &program);
    match (case.expected.error, case.expected.result) {
        (Some(_), _) => assert_eq!(
            code,
            1,
            "{}: expected an error, got {stdout}",
            path.display()
        ),
        (None, Some(r)) => {
            assert_eq!(code, 0, "{}: {stdout}", path.display());
            // The runner: strip one '\n', then stoull(s, 16).
            let got = u64::from_str_radix(stdout.trim_end_matches('\n'), 16);
            assert_eq!(got, Ok(r), "{}: printed {stdout:?}", path.display());
        }
        (None, None) => panic!("{}: no expectation", path.display()),
    }
}

#[test]
fn official_tests_through_the_plugin() {
    let Some(dir) = apiary_testkit::shared::corpus("bpf_conformance/tests") else {
        return;
    };
    // Memory (ldxb, mem-len), raw (lddw), helper 5 (call_unwind_fail), callx, a local call.
    for name in [
        "ldxb.data",
        "mem-len.data",
        "lddw.data",
        "call_unwind_fail.data",
        "callx.data",
        "call_local.data",
    ] {
        check_file(&dir.join(name), &[]);
        check_file(&dir.join(name), &["--engine", "all"]);
    }
}

#[test]
fn own_tests_through_the_plugin() {
    for name in [
        "mem-stxw.data",
        "helper-memfrob.data",
        "fault-budget-infinite-loop.data",
        "load-write-r10.data",
    ] {
        check_file(&Path::new(OWN).join(name), &["--engine", "all"]);
    }
}

#[test]
fn protocol_edges() {
    let exit42 = "b7  00  00  00  2a  00  00  00  95  00  00  00  00  00  00  00  \n";
    assert_eq!(plugin(None, &[], exit42), (0, "2a\n".to_owned()));
    // A double space in --plugin_options gives an empty argument, which is ignored.
    assert_eq!(
        plugin(None, &["--engine", "", "interp"], exit42).0,
        1,
        "empty value for --engine"
    );
    assert_eq!(
        plugin(None, &["", "--engine", "interp"], exit42),
        (0, "2a\n".to_owned())
    );
    // --program replaces stdin.
    assert_eq!(
        plugin(
            None,
            &[
                "--program",
                "b7 00 00 00 07 00 00 00 95 00 00 00 00 00 00 00"
            ],
            ""
        ),
        (0, "7\n".to_owned())
    );
    for (opts, stdin, want) in [
        (&["--elf"][..], exit42, "ELF input is not supported yet"),
        (&["--bogus"][..], exit42, "unknown option"),
        (&[][..], "", "no instruction bytes"),
        (&[][..], "95 00 00", "not a multiple of 8"),
        (&[][..], "9g", "not a hex byte"),
        (&[][..], "b7 00 00 00 2a 00 00 00", "instruction 0"),
        (&[][..], "05 00 ff ff 00 00 00 00", "budget"),
    ] {
        let (code, out) = plugin(None, opts, stdin);
        assert_eq!(code, 1, "{opts:?} {stdin:?}: {out}");
        assert!(out.contains(want), "{opts:?} {stdin:?}: {out}");
        assert_eq!(out.lines().count(), 1, "one line: {out:?}");
    }
    // Memory that is not hex.
    let (code, out) = plugin(Some(&[]), &[], exit42);
    assert_eq!((code, out.as_str()), (0, "2a\n"), "empty memory argument");
    let mut cmd = Command::new(PLUGIN);
    let out = cmd
        .arg("zz")
        .arg("--program")
        .arg("95 00 00 00 00 00 00 00")
        .output();
    let out = match out {
        Ok(o) => o,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).contains("memory"));
}
