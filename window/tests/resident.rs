//! Resident memory stays what programs touch (issue 17), natively and under qemu-user (where
//! `.ci/arm64.sh` runs this file too): making and dropping many windows, and allocating,
//! touching and freeing regions of one window, must not grow the process's resident set.
//!
//! One test function on purpose: the resident set is the whole process's, so nothing else may
//! run beside it in this binary.
//!
//! What it catches: windows whose reservation is not reused (under qemu-user each fresh one
//! costs the emulator ~770 KiB of page bookkeeping for a 64 MiB window, measured +1.5 GB over
//! 2,000 windows before the pool), kept reservations whose touched pages are not returned (24
//! kept windows × 1 MiB touched each stays resident), freed regions not returned.

use apiary_window::{kept_reservations, Placement, Window, GRAIN};

/// The process's resident set in KiB (`VmRSS` of `/proc/self/status`; under qemu-user, the
/// emulator's own, which is what the machine pays).
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}

/// Writes one byte in every 4 KiB page of `[addr, addr + len)`.
fn touch(addr: u64, len: usize) {
    for off in (0..len).step_by(4096) {
        // SAFETY: the tests touch only live read-write (read-zero) windows' ranges.
        unsafe { std::ptr::write_volatile((addr + off as u64) as *mut u8, 0x5a) };
    }
}

/// Growth allowed over a phase, in KiB: allocator and stdio noise, far below what any of the
/// leaks above costs in its phase (≥ 16 MiB).
const SLACK_KIB: u64 = 6 * 1024;

fn phase(name: &str, base: u64) {
    let now = rss_kib();
    let grown = now.saturating_sub(base);
    eprintln!("{name}: resident {now} KiB, +{grown} KiB over the start");
    assert!(
        grown <= SLACK_KIB,
        "{name}: resident set grew by {grown} KiB (limit {SLACK_KIB} KiB)"
    );
}

#[test]
#[cfg_attr(miri, ignore)]
fn resident_memory_stays_what_is_touched() {
    // Warm up: the first window of each kind, the allocator, stderr.
    for placement in [Placement::Anywhere, Placement::Below4G] {
        let w = Window::sandbox(1 << 24, placement).expect("window");
        touch(w.alloc(GRAIN).expect("room").addr(), GRAIN);
    }
    let w = Window::sandbox(1 << 26, Placement::Anywhere).expect("window");
    drop(w);
    let base = rss_kib();
    eprintln!("start: resident {base} KiB");

    // Many windows made and dropped one after another (a sandboxed raw program's private
    // window per preparation), each touched in an allocation and in a gap.
    for _ in 0..1000 {
        let w = Window::sandbox(1 << 26, Placement::Anywhere).expect("window");
        let a = w.alloc(8 * GRAIN).expect("room");
        touch(a.addr(), 8 * GRAIN);
        touch(w.base() + (1 << 25), GRAIN);
    }
    phase("1000 windows in turn", base);

    // Many alive at once, each touched by 1 MiB, then all dropped, twice: the first round maps
    // fresh ranges (under qemu-user that costs its bookkeeping once) and fills the pool; the
    // second reuses them, touching other pages, and must end where it began: kept reservations
    // do not keep their pages.
    let at_once = |round: u64| {
        let many: Vec<_> = (0..24)
            .map(|_| {
                let w = Window::sandbox(1 << 26, Placement::Anywhere).expect("window");
                touch(w.base() + (round + 1) * (4 << 20), 1 << 20);
                w
            })
            .collect();
        drop(many);
    };
    at_once(0);
    let round = rss_kib();
    at_once(1);
    assert!(kept_reservations() <= 256, "the pool is bounded");
    phase("24 windows at once", round);

    // Low windows (packet contexts), in turn.
    let base = rss_kib();
    for _ in 0..200 {
        let w = Window::sandbox(1 << 24, Placement::Below4G).expect("low window");
        touch(w.alloc(4 * GRAIN).expect("room").addr(), 4 * GRAIN);
    }
    phase("200 low windows", base);

    // One window, regions allocated, touched and freed: freed pages go back.
    let base = rss_kib();
    let w = Window::sandbox(1 << 26, Placement::Anywhere).expect("window");
    for _ in 0..1000 {
        let a = w.alloc(16 * GRAIN).expect("room");
        touch(a.addr(), 16 * GRAIN);
    }
    let held: Vec<_> = (0..32).map(|_| w.alloc(GRAIN).expect("room")).collect();
    for a in &held {
        touch(a.addr(), GRAIN);
    }
    drop(held);
    phase("regions of one window", base);
}
