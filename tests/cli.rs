//! End-to-end tests of the `apiary` binary: the README's examples give the documented results,
//! and malformed input of every kind gets an error naming what and where, never a panic.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn apiary(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_apiary"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn apiary");
    if let Some(mut input) = child.stdin.take() {
        let _ = input.write_all(stdin);
    }
    child.wait_with_output().expect("apiary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[track_caller]
fn ok(args: &[&str]) -> String {
    let out = apiary(args, b"");
    assert!(
        out.status.success(),
        "apiary {args:?} failed: {}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Runs a command that must fail cleanly; returns its stderr.
#[track_caller]
fn fails(args: &[&str], stdin: &[u8]) -> String {
    let out = apiary(args, stdin);
    let err = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "apiary {args:?}: expected exit 1, stderr: {err}"
    );
    assert!(!err.contains("panicked"), "apiary {args:?} panicked: {err}");
    err
}

#[test]
fn readme_examples_give_documented_results() {
    assert_eq!(
        ok(&["run", "examples/sum_bytes.asm", "--mem", "01 02 03 04 05"]),
        "r0 = 15 (0xf)\n"
    );
    assert!(ok(&["run", "examples/fibonacci.asm", "--mem", "5a"])
        .starts_with("r0 = 2880067194370816120 "));
    let ipv4 = "45 00 00 1c 00 00 00 00 40 11 00 00 0a 00 00 01 0a 00 00 02";
    assert_eq!(
        ok(&["run", "examples/checksum.asm", "--mem", ipv4]),
        "r0 = 26319 (0x66cf)\n"
    );
}

#[test]
fn stats_report_the_instruction_count() {
    let out = ok(&[
        "run",
        "examples/sum_bytes.asm",
        "--mem",
        "01 02 03",
        "--stats",
    ]);
    // 2 setup + 7 per byte (jge, mov, add, ldxb, add, add, ja) + the final jge and exit.
    assert!(out.contains("instructions = 25"), "{out}");
}

#[test]
fn asm_then_run_raw_and_hex_agree() {
    let dir = std::env::temp_dir().join(format!("apiary-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let raw = dir.join("sum.bin");
    let hex = dir.join("sum.hex");
    let raw_s = raw.to_str().expect("utf-8 path");
    let hex_s = hex.to_str().expect("utf-8 path");
    ok(&["asm", "examples/sum_bytes.asm", "-o", raw_s]);
    ok(&["asm", "examples/sum_bytes.asm", "--hex", "-o", hex_s]);
    for p in [raw_s, hex_s] {
        assert_eq!(ok(&["run", p, "--mem", "0a 0b"]), "r0 = 21 (0x15)\n");
    }
    let listing = ok(&["disasm", raw_s]);
    assert!(
        listing.contains("ldxb %r5, [%r4+0]") || listing.contains("ldxb %r5, [%r4]"),
        "{listing}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn faults_name_the_instruction() {
    let err = apiary(
        &["run", "-", "--format", "asm"],
        b"ldxdw %r0, [%r1+4]\nexit\n",
    );
    assert_eq!(err.status.code(), Some(1));
    let out = text(&err.stdout);
    assert!(
        out.contains("fault: instruction 0: read of 8 bytes"),
        "{out}"
    );
    let looping = apiary(&["run", "-", "--budget", "1000"], b"ja -1\n");
    assert!(text(&looping.stdout).contains("instruction 0: instruction budget of 1000 exhausted"));
}

#[test]
fn malformed_inputs_are_errors_not_panics() {
    let e = fails(&["run", "does/not/exist.asm"], b"");
    assert!(e.contains("does/not/exist.asm"), "{e}");
    let e = fails(&["run", "-"], b"mov %r0, 1\nfrob %r1\nexit\n");
    assert!(e.contains("2:1: unknown mnemonic"), "{e}");
    let e = fails(&["run", "-", "--format", "raw"], &[0x95, 0, 0]);
    assert!(e.contains("not a multiple of 8"), "{e}");
    let e = fails(
        &["run", "-", "--format", "hex"],
        b"b7 00 00 00 01 00 00 00 zz",
    );
    assert!(e.contains("invalid character"), "{e}");
    let e = fails(&["run", "examples/sum_bytes.asm", "--mem", "0g"], b"");
    assert!(e.contains("--mem"), "{e}");
    // Reserved field: exit with a non-zero offset.
    let e = fails(&["run", "-", "--format", "hex"], b"95 00 01 00 00 00 00 00");
    assert!(e.contains("instruction 0") && e.contains("offset"), "{e}");
    // callx is an extension, off unless asked for.
    let e = fails(&["run", "-"], b"mov %r2, 5\ncallx %r2\nexit\n");
    assert!(e.contains("callx"), "{e}");
    fails(&["run", "-"], &[0x7f, b'E', b'L', b'F', 2, 1, 1, 0]);
    fails(&["run", "-"], b"");
    fails(&["disasm", "-", "--format", "raw"], &[0xff; 8]);
    fails(&["conformance", "does/not/exist"], b"");
}

#[test]
fn random_bytes_never_panic() {
    // A deterministic xorshift stream: 200 random programs as raw bytes and as text.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for i in 0..200 {
        let len = 8 * (1 + (next() % 6) as usize);
        let bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        let format = if i % 2 == 0 { "raw" } else { "auto" };
        let out = apiary(
            &["run", "-", "--format", format, "--budget", "10000"],
            &bytes,
        );
        assert!(
            !text(&out.stderr).contains("panicked"),
            "input {bytes:02x?}"
        );
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "input {bytes:02x?}"
        );
    }
}

#[cfg(target_arch = "x86_64")]
#[test]
fn disasm_jit_shows_machine_code_per_instruction() {
    let out = ok(&["disasm", "examples/sum_bytes.asm", "--jit"]);
    // The eBPF line is followed by the x86-64 code generated for it.
    let after_load = out.split("ldxb %r5").nth(1).expect("listing has the load");
    assert!(after_load.contains("movzbl"), "{out}");
    assert!(out.contains("; entry") && out.contains("; exits"), "{out}");
}

#[test]
fn engines_agree_on_the_examples() {
    let out = ok(&[
        "run",
        "examples/fibonacci.asm",
        "--mem",
        "5a",
        "--engine",
        "all",
        "--stats",
    ]);
    assert!(
        out.contains("interp: r0 = 2880067194370816120")
            && out.contains("jit: r0 = 2880067194370816120"),
        "{out}"
    );
}

/// The shared corpus, when it is there (CI has it and fails without it; a bare clone may not).
fn samples() -> Option<std::path::PathBuf> {
    apiary_testkit::shared::corpus("ebpf-samples")
}

#[test]
fn elf_objects_are_listed_selected_and_refused_clearly() {
    let Some(dir) = samples() else { return };
    let twomaps = dir.join("build/twomaps.o");
    let twomaps = twomaps.to_str().expect("utf-8 path");
    let listing = ok(&["disasm", twomaps]);
    assert!(listing.contains("lddw %r1, map_idx"), "{listing}");
    let e = fails(&["disasm", twomaps, "--section", "nope"], b"");
    assert!(e.contains("no program nope"), "{e}");
    for bad in std::fs::read_dir(dir.join("invalid"))
        .expect("invalid/")
        .flatten()
    {
        let path = bad.path();
        let out = apiary(&["disasm", path.to_str().expect("utf-8 path")], b"");
        assert!(
            !text(&out.stderr).contains("panicked"),
            "{}",
            path.display()
        );
    }
}

#[test]
fn verify_gives_one_verdict_per_program() {
    let out = apiary(&["verify", "-"], b"ja -1\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("rejected at instruction 0"),
        "{}",
        text(&out.stdout)
    );
    assert!(ok(&["verify", "examples/sum_bytes.asm"]).contains("accepted"));
    let Some(dir) = samples() else { return };
    let bad = dir.join("build/nullmapref.o");
    let out = apiary(
        &["verify", bad.to_str().expect("utf-8 path"), "--json"],
        b"",
    );
    assert_eq!(out.status.code(), Some(1));
    let json = text(&out.stdout);
    assert!(
        json.starts_with("[{\"section\":") && json.contains("\"accepted\":false"),
        "{json}"
    );
    assert!(
        json.contains("\"pc\":7") && json.contains("\"time_us\":"),
        "{json}"
    );
    let good = dir.join("linux/sockex1_kern.o");
    assert!(ok(&["verify", good.to_str().expect("utf-8 path")]).contains("socket1: accepted"));
}

#[test]
fn kernel_engine_runs_or_says_why_not() {
    let out = apiary(
        &[
            "run",
            "examples/sum_bytes.asm",
            "--mem",
            "01 02 03",
            "--engine",
            "kernel",
        ],
        b"",
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(!stderr.contains("panicked"), "{stderr}");
    if out.status.success() {
        assert_eq!(stdout, "r0 = 6 (0x6)\n");
    } else {
        assert!(stderr.contains("unavailable"), "{stderr}");
        assert!(
            std::env::var_os("APIARY_REQUIRE_KERNEL").is_none(),
            "kernel required: {stderr}"
        );
        eprintln!("NOTICE: kernel oracle unavailable; kernel CLI test not run");
    }
}
