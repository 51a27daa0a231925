//! The private sandbox window of a raw program (an environment without regions) is 4 GiB of
//! address space (`MAP_NORESERVE`). A host that charges such mappings in full (strict
//! overcommit, an address-space limit) must still run verified programs: the window falls back
//! to [`apiary_engine::sandbox::PRIVATE_WINDOW_FALLBACK`]. The limit is set in a child process
//! (this test binary run again), so the rest of the suite is not constrained.

use std::process::Command;

use apiary_engine::sandbox::{window_for, PRIVATE_WINDOW, PRIVATE_WINDOW_FALLBACK};
use apiary_vm::{Environment, ExecConfig, HelperTable};

const CHILD: &str = "APIARY_PRIVATE_WINDOW_CHILD";

/// The address space this process has mapped now, from `/proc/self/status` (`VmSize`, KiB).
fn mapped_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("reads /proc/self/status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmSize:"))
        .expect("VmSize line");
    let kib: u64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("VmSize value");
    kib * 1024
}

#[test]
#[cfg_attr(miri, ignore = "spawns a process and maps GiBs")]
fn the_private_window_falls_back_under_an_address_space_limit() {
    let env = Environment::new(HelperTable::new(), ExecConfig::default());
    if std::env::var_os(CHILD).is_some() {
        // 1 GiB of room over what is mapped: the 4 GiB window cannot fit, the fallback can.
        let limit = mapped_bytes() + (1 << 30);
        let rlim = libc::rlimit {
            rlim_cur: limit,
            rlim_max: limit,
        };
        // SAFETY: setrlimit reads the struct passed by reference; it only lowers this (child)
        // process's own address-space limit.
        assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_AS, &rlim) }, 0);
        let w = window_for(&env).expect("a window under the limit");
        assert_eq!(w.size(), PRIVATE_WINDOW_FALLBACK);
        return;
    }
    // Unconstrained, the full window.
    assert_eq!(window_for(&env).expect("a window").size(), PRIVATE_WINDOW);
    let out = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "the_private_window_falls_back_under_an_address_space_limit",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output()
        .expect("runs the child");
    assert!(
        out.status.success(),
        "child failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("1 passed"),
        "the child ran the test: {stdout}"
    );
}
