//! The `apiary` binary on the C examples' committed objects (`examples/*.o` at the repository
//! root): objects run with their maps and tail calls, verified unless told otherwise.

use std::path::PathBuf;

/// The repository root, where `examples/` is.
fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// An Ethernet + IPv4 + TCP frame (source 10.0.0.1, 20 payload bytes) as hex: the root's
/// example tests' frame.
fn tcp_frame() -> String {
    let f = apiary_testkit::packet::ipv4_frame(apiary_testkit::packet::IPPROTO_TCP, 1, 20);
    f.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn cli_runs_objects_and_dumps_maps() {
    let frame = tcp_frame();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_apiary"))
        .current_dir(repo())
        .args([
            "run",
            "examples/tail_dispatch.o",
            "--function",
            "dispatch",
            "--tail-call",
            "handlers:6=handle_tcp",
            "--mem",
            &frame,
            "--dump-maps",
        ])
        .output()
        .expect("apiary runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.starts_with("r0 = 2 (0x2) XDP_PASS\n"), "{text}");
    assert!(text.contains("6: xdp:handle_tcp"), "{text}");
    assert!(
        text.contains("  01 00 00 00: 01 00 00 00 00 00 00 00"),
        "{text}"
    );

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_apiary"))
        .current_dir(repo())
        .args(["run", "examples/tail_dispatch.o", "--function", "dispatch"])
        .args([
            "--tail-call",
            "handlers:6=handle_tcp",
            "--engine",
            "all",
            "--mem",
            &frame,
        ])
        .output()
        .expect("apiary runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("jit: r0 = 2 (0x2) XDP_PASS"), "{text}");
}

#[test]
fn cli_runs_objects_verified_unless_told_otherwise() {
    let frame = tcp_frame();
    let run = |extra: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_apiary"))
            .current_dir(repo())
            .args(["run", "examples/xdp_counter.o", "--stats", "--mem", &frame])
            .args(extra)
            .output()
            .expect("apiary runs")
    };
    let out = run(&["--engine", "all"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("memory accesses run unchecked"),
        "verified by default: {text}"
    );
    let out = run(&["--unverified"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(!text.contains("unchecked"), "checked mode: {text}");
}
