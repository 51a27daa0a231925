//! End-to-end tests of the `apiary` binary: the README's examples give the documented results,
//! and malformed input of every kind gets an error naming what and where, never a panic.

use std::io::Write;
use std::process::{Command, Output, Stdio};

/// The repository root: the binary runs there, as the README's commands do.
fn repo() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn apiary(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_apiary"))
        .args(args)
        .current_dir(repo())
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

/// A scratch folder for one test, removed when dropped.
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("apiary-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        Scratch(dir)
    }

    /// Writes `name` and returns its path as a string.
    fn file(&self, name: &str, bytes: &[u8]) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, bytes).expect("write scratch file");
        p.to_str().expect("utf-8 path").to_owned()
    }

    /// A sparse file of `len` bytes: large on paper, nothing on disk.
    fn sparse(&self, name: &str, len: u64) -> String {
        let p = self.0.join(name);
        let f = std::fs::File::create(&p).expect("create sparse file");
        f.set_len(len).expect("set_len");
        p.to_str().expect("utf-8 path").to_owned()
    }

    fn path(&self) -> String {
        self.0.to_str().expect("utf-8 path").to_owned()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Hostile arguments and inputs: each is an error naming what and where, with exit code 1
/// (2 for clap's usage errors), never a panic, an abort or a hang.
#[test]
fn hostile_arguments_get_precise_errors() {
    let s = Scratch::new("hostile");
    let dir = s.path();
    let empty = s.file("empty.asm", b"");
    let huge_imm = s.file("huge.asm", b"mov %r0, 99999999999999999999999\nexit\n");
    let far = s.file("far.asm", b"ja +40000\nexit\n");
    let nolabel = s.file("nolabel.asm", b"ja nowhere\nexit\n");
    let mut long = b"mov %r0, ".to_vec();
    long.extend(std::iter::repeat_n(b'1', 1 << 20));
    long.extend(b"\nexit\n");
    let long = s.file("long.asm", &long);
    let non_utf8 = s.file("latin1.asm", b"mov %r0, 1 # caf\xe9\nexit\n");
    let xdp = std::fs::read(repo().join("examples/xdp_counter.o")).expect("examples/xdp_counter.o");
    let truncated = s.file("truncated.o", &xdp[..200.min(xdp.len())]);
    let big = s.sparse("big.bin", 5 << 30);
    let frame = "00 ".repeat(64);
    let skipped = Scratch::new("skipped");
    skipped.file("odd.data", b"-- asm\nexit\n-- frobnicate\n-- result\n0\n");
    let skipped_dir = skipped.path();
    let mem_dir = format!("@{dir}");
    let cases: &[(&[&str], &str)] = &[
        // --mem: file or hex, decided clearly.
        (
            &["run", "examples/sum_bytes.asm", "--mem", "/nonexistent"],
            "--mem /nonexistent: no such file",
        ),
        (
            &["run", "examples/sum_bytes.asm", "--mem", "packet.bin"],
            "--mem packet.bin: no such file",
        ),
        (
            &["run", "examples/sum_bytes.asm", "--mem", "@missing"],
            "--mem missing: no such file",
        ),
        (
            &["run", "examples/sum_bytes.asm", "--mem", "packet"],
            "neither an existing file nor hex",
        ),
        (
            &["run", "examples/sum_bytes.asm", "--mem", &dir],
            "is a directory",
        ),
        (
            &["run", "examples/sum_bytes.asm", "--mem", &mem_dir],
            "is a directory",
        ),
        // --mem larger than the program type takes: refused unread.
        (
            &["run", "examples/sum_bytes.asm", "--mem", &big],
            "5368709120 bytes is larger than the 67108864-byte limit of the input memory",
        ),
        (
            &["run", "examples/xdp_counter.o", "--mem", &big],
            "limit of the XDP packet",
        ),
        (
            &["run", "examples/xdp_counter.o", "--mem", "/dev/zero"],
            "the stream goes past the 65536-byte limit",
        ),
        (
            &["run", &big],
            "larger than the 268435456-byte limit of a program file",
        ),
        // Program files.
        (&["run", &dir], "is a directory"),
        (&["run", &empty], "program is empty"),
        (
            &["run", &huge_imm],
            "1:10: immediate 99999999999999999999999 does not fit in 64 bits",
        ),
        (
            &["run", &far],
            "1:4: displacement 40000 does not fit in 16 bits",
        ),
        (&["run", &nolabel], "unknown label \"nowhere\""),
        (
            &["run", &long],
            "1:10: immediate 1111111111111111111111111111111111111111...",
        ),
        (&["run", &non_utf8], "not UTF-8 at byte 16"),
        (&["run", &truncated], "malformed ELF"),
        (&["disasm", &truncated], "malformed ELF"),
        (&["verify", &truncated], "malformed ELF"),
        // Options that mean nothing for a raw program.
        (
            &["run", "examples/sum_bytes.asm", "--section", "xdp"],
            "--section: applies to ELF objects only",
        ),
        (
            &["run", "examples/sum_bytes.asm", "--function", "f"],
            "--function: applies to ELF objects only",
        ),
        (
            &["run", "examples/sum_bytes.asm", "--type", "xdp"],
            "--type: applies to ELF objects only",
        ),
        (
            &["run", "examples/sum_bytes.asm", "--unverified"],
            "--unverified: applies to ELF objects only",
        ),
        (
            &["run", "examples/sum_bytes.asm", "--dump-maps"],
            "--dump-maps: applies to ELF objects only",
        ),
        (
            &["run", "examples/sum_bytes.asm", "--tail-call", "m:1=p"],
            "--tail-call: applies to ELF objects only",
        ),
        (
            &["verify", "examples/sum_bytes.asm", "--section", "xdp"],
            "--section: applies to ELF objects only",
        ),
        (
            &["disasm", "examples/sum_bytes.asm", "--section", "xdp"],
            "--section: applies to ELF objects only",
        ),
        // Objects: selections and tail calls.
        (
            &["run", "examples/xdp_counter.o", "--section", "nope"],
            "no program \"nope\"",
        ),
        (
            &["run", "examples/xdp_counter.o", "--function", "nope"],
            "no program \"*:nope\"",
        ),
        (
            &["verify", "examples/xdp_counter.o", "--section", "nope"],
            "no program nope",
        ),
        (
            &["run", "examples/xdp_counter.o", "--type", "nope"],
            "--type: unknown program type \"nope\"",
        ),
        (
            &[
                "run",
                "examples/tail_dispatch.o",
                "--function",
                "dispatch",
                "--mem",
                &frame,
                "--tail-call",
                "a:b=c",
            ],
            "--tail-call \"a:b=c\": INDEX is not a number",
        ),
        (
            &[
                "run",
                "examples/tail_dispatch.o",
                "--function",
                "dispatch",
                "--mem",
                &frame,
                "--tail-call",
                "m:99999999999=x",
            ],
            "INDEX does not fit in 32 bits",
        ),
        (
            &[
                "run",
                "examples/tail_dispatch.o",
                "--function",
                "dispatch",
                "--mem",
                &frame,
                "--tail-call",
                "handlers=x",
            ],
            "no `:` before `=`",
        ),
        (
            &[
                "run",
                "examples/tail_dispatch.o",
                "--function",
                "dispatch",
                "--mem",
                &frame,
                "--tail-call",
                "nope:1=handle_tcp",
            ],
            "no map named \"nope\"",
        ),
        (
            &[
                "run",
                "examples/tail_dispatch.o",
                "--function",
                "dispatch",
                "--mem",
                &frame,
                "--tail-call",
                "handlers:99999=handle_tcp",
            ],
            "slot 99999",
        ),
        // Conformance folders where nothing runs.
        (&["conformance", &dir], "no test ran (no .data file found)"),
        (
            &["conformance", &skipped_dir],
            "no test ran (all 1 tests were skipped, odd.data: unknown directive",
        ),
        (
            &["conformance", "/dev/null"],
            "/dev/null: cannot list test files",
        ),
        // Explicit formats that do not fit the file.
        (
            &["run", "examples/xdp_counter.o", "--format", "hex"],
            "text input (assembly or hex) is not UTF-8",
        ),
        (
            &["run", "examples/sum_bytes.asm", "--format", "raw"],
            "not a multiple of 8",
        ),
        (
            &["asm", "examples/sum_bytes.asm", "-o", &dir],
            "Is a directory",
        ),
        (
            &["asm", "/dev/zero"],
            "the stream goes past the 268435456-byte limit of a program file",
        ),
        // Usage errors (clap: exit code 2).
        (
            &[
                "run",
                "examples/sum_bytes.asm",
                "--budget",
                "99999999999999999999999",
            ],
            "--budget",
        ),
        (
            &["run", "examples/sum_bytes.asm", "--engine", "warp"],
            "--engine",
        ),
        (
            &["run", "examples/sum_bytes.asm", "--budget", "-1"],
            "unexpected argument '-1'",
        ),
    ];
    for (args, expected) in cases {
        let out = apiary(args, b"");
        let err = text(&out.stderr);
        let shown: Vec<String> = args.iter().map(|a| a.chars().take(80).collect()).collect();
        assert!(
            matches!(out.status.code(), Some(1 | 2)),
            "apiary {shown:?}: exit {:?}, stderr {err}",
            out.status.code()
        );
        assert!(
            !err.contains("panicked"),
            "apiary {shown:?} panicked: {err}"
        );
        assert!(
            err.contains(expected),
            "apiary {shown:?}: expected {expected:?} in {err}"
        );
        assert!(
            err.len() < 2000,
            "apiary {shown:?}: a runaway message: {err}"
        );
    }
    // A huge file given as a test is refused unread; the verdict is in the table.
    let out = apiary(&["conformance", &big], b"");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("larger than the 16777216-byte limit of a .data file"),
        "{}",
        text(&out.stdout)
    );
    // Standard input can hold the program or the memory, not both.
    let e = fails(&["run", "-", "--mem", "-"], b"exit\n");
    assert!(
        e.contains("--mem -: standard input already holds the program"),
        "{e}"
    );
}

#[test]
fn mem_comes_from_a_file_hex_or_standard_input() {
    let s = Scratch::new("mem");
    let file = s.file("bytes", &[1, 2, 3]);
    let at_file = format!("@{file}");
    for mem in [file.as_str(), at_file.as_str(), "01 02 03", "010203"] {
        assert_eq!(
            ok(&["run", "examples/sum_bytes.asm", "--mem", mem]),
            "r0 = 6 (0x6)\n",
            "{mem}"
        );
    }
    let out = apiary(&["run", "examples/sum_bytes.asm", "--mem", "-"], &[4, 5]);
    assert_eq!(text(&out.stdout), "r0 = 9 (0x9)\n", "{}", text(&out.stderr));
    // Past the kernel oracle's input limit, `--engine all` compares the other engines.
    let big = s.file("4000", &[0; 4000]);
    let out = ok(&[
        "run",
        "examples/sum_bytes.asm",
        "--engine",
        "all",
        "--mem",
        &big,
    ]);
    assert!(out.contains("interp: r0 = 0"), "{out}");
    // `--budget 0` turns metering off; a terminating program still runs.
    assert_eq!(
        ok(&[
            "run",
            "examples/sum_bytes.asm",
            "--budget",
            "0",
            "--mem",
            "01"
        ]),
        "r0 = 1 (0x1)\n"
    );
}

/// A reader that closes the pipe early (`apiary disasm prog.o | head -1`) ends the tool
/// quietly, by `SIGPIPE`, never with a panic message.
#[test]
fn closed_stdout_pipe_is_not_a_panic() {
    use std::io::Read;
    use std::process::{Command, Stdio};
    let object = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/xdp_counter.o");
    let mut child = Command::new(env!("CARGO_BIN_EXE_apiary"))
        .args(["disasm", object])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("apiary starts");
    // Close the only read end at once: every write the tool makes meets a closed pipe.
    drop(child.stdout.take());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("piped stderr")
        .read_to_string(&mut stderr)
        .expect("reads stderr");
    let status = child.wait().expect("apiary ends");
    assert!(!stderr.contains("panicked"), "stderr: {stderr}");
    assert!(
        status.code() != Some(101),
        "exit status {status:?} is a panic's"
    );
}
