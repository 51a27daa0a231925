//! Facts about the host process that Linux helpers report: clocks, ids, the process name, and a
//! fast per-thread pseudo-random generator.

use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::hash::BuildHasher;
use std::sync::OnceLock;
use std::time::Instant;

/// A clock the `ktime` helpers read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// `CLOCK_MONOTONIC` (`bpf_ktime_get_ns`).
    Monotonic,
    /// `CLOCK_BOOTTIME` (`bpf_ktime_get_boot_ns`): includes suspend.
    Boot,
    /// `CLOCK_MONOTONIC_COARSE` (`bpf_ktime_get_coarse_ns`).
    Coarse,
    /// `CLOCK_TAI` (`bpf_ktime_get_tai_ns`): international atomic time.
    Tai,
}

#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
mod sys {
    /// `struct timespec` on 64-bit Linux.
    #[repr(C)]
    pub(super) struct Timespec {
        pub tv_sec: i64,
        pub tv_nsec: i64,
    }

    extern "C" {
        /// libc's `clock_gettime(2)` wrapper (libc is always linked by std on Linux).
        pub(super) fn clock_gettime(clock: i32, tp: *mut Timespec) -> i32;
    }
}

/// Nanoseconds on `clock` (the Linux clock itself on 64-bit Linux; elsewhere nanoseconds since
/// the first call, which is still monotonic).
#[must_use]
pub fn ktime_ns(clock: Clock) -> u64 {
    #[cfg(all(target_os = "linux", target_pointer_width = "64"))]
    {
        let id = match clock {
            Clock::Monotonic => 1,
            Clock::Coarse => 6,
            Clock::Boot => 7,
            Clock::Tai => 11,
        };
        let mut ts = sys::Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable `struct timespec` for the duration of the call, and
        // `clock_gettime` writes nothing else.
        let rc = unsafe { sys::clock_gettime(id, &mut ts) };
        if rc == 0 {
            return (ts.tv_sec as u64)
                .wrapping_mul(1_000_000_000)
                .wrapping_add(ts.tv_nsec as u64);
        }
    }
    let _ = clock;
    static EPOCH: OnceLock<Instant> = OnceLock::new();
    EPOCH.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// `tgid << 32 | tid` of the calling host thread.
#[must_use]
pub fn pid_tgid() -> u64 {
    let tgid = std::process::id();
    thread_local! {
        static TID: u32 = current_tid().unwrap_or(std::process::id());
    }
    let tid = TID.with(|t| *t);
    u64::from(tgid) << 32 | u64::from(tid)
}

fn current_tid() -> Option<u32> {
    let link = std::fs::read_link("/proc/thread-self").ok()?;
    link.file_name()?.to_str()?.parse().ok()
}

/// `gid << 32 | uid` of the host process (real ids, from `/proc/self/status`; 0 elsewhere).
#[must_use]
pub fn uid_gid() -> u64 {
    static IDS: OnceLock<u64> = OnceLock::new();
    *IDS.get_or_init(|| {
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        let field = |name: &str| -> u32 {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        u64::from(field("Gid:")) << 32 | u64::from(field("Uid:"))
    })
}

/// The host process name (`/proc/self/comm`, or the executable's file name), at most 15 bytes
/// (Linux `TASK_COMM_LEN` - 1).
#[must_use]
pub fn comm() -> &'static [u8] {
    static COMM: OnceLock<Vec<u8>> = OnceLock::new();
    COMM.get_or_init(|| {
        let name = std::fs::read_to_string("/proc/self/comm")
            .map(|s| s.trim_end_matches('\n').to_owned())
            .ok()
            .or_else(|| {
                std::env::current_exe()
                    .ok()
                    .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            })
            .unwrap_or_default();
        let mut bytes = name.into_bytes();
        bytes.truncate(15);
        bytes
    })
}

/// A pseudo-random u32 from a per-thread xorshift64* generator seeded from std's random hasher
/// keys (not cryptographic, like Linux's `bpf_get_prandom_u32`).
#[must_use]
pub fn prandom_u32() -> u32 {
    thread_local! {
        static STATE: Cell<u64> = Cell::new(RandomState::new().hash_one(ktime_ns(Clock::Monotonic)) | 1);
    }
    STATE.with(|s| {
        let mut x = s.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        s.set(x);
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) as u32
    })
}

/// The tick rate `bpf_jiffies64` counts in. Linux's `CONFIG_HZ` is a build choice (100, 250,
/// 300 or 1000); apiary takes 250, the x86-64 `defconfig` and Debian value. Programs that need
/// the real rate derive it at load time (Cilium probes it), so any fixed value is consistent as
/// long as it does not change during a run.
pub const HZ: u64 = 250;

/// Linux `INITIAL_JIFFIES`: the counter starts 300 seconds before its 32-bit wrap, so that
/// wrap bugs show early.
pub const INITIAL_JIFFIES: u64 = (-300i64 * HZ as i64) as u32 as u64;

/// `bpf_jiffies64`: ticks at [`HZ`] since boot, as `get_jiffies_64` (from `CLOCK_MONOTONIC`,
/// which Linux's tick also follows, plus [`INITIAL_JIFFIES`]).
#[must_use]
pub fn jiffies64() -> u64 {
    let ns = ktime_ns(Clock::Monotonic);
    INITIAL_JIFFIES.wrapping_add(ns / (1_000_000_000 / HZ))
}
