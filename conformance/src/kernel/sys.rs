//! The raw `bpf(2)` calls the kernel oracle needs, and nothing else: create an ARRAY map, read
//! and write one element, load a program, and `BPF_PROG_TEST_RUN` it. Each call fills a
//! `#[repr(C)]` prefix of `union bpf_attr` (the kernel zero-extends a shorter attribute), so the
//! only unsafe code is the syscall itself, given pointers to live buffers.

use std::ffi::c_long;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// `enum bpf_cmd` values used here.
const BPF_MAP_CREATE: c_long = 0;
const BPF_MAP_LOOKUP_ELEM: c_long = 1;
const BPF_MAP_UPDATE_ELEM: c_long = 2;
const BPF_PROG_LOAD: c_long = 5;
const BPF_PROG_TEST_RUN: c_long = 10;

/// `BPF_MAP_TYPE_ARRAY`.
pub const MAP_TYPE_ARRAY: u32 = 2;
/// `BPF_PROG_TYPE_XDP`.
pub const PROG_TYPE_XDP: u32 = 6;
/// `BPF_XDP` (enum bpf_attach_type).
pub const ATTACH_XDP: u32 = 37;

/// The `BPF_MAP_CREATE` part of `union bpf_attr`.
#[repr(C)]
#[derive(Default)]
struct MapCreateAttr {
    map_type: u32,
    key_size: u32,
    value_size: u32,
    max_entries: u32,
    map_flags: u32,
    inner_map_fd: u32,
    numa_node: u32,
    map_name: [u8; 16],
}

/// The `BPF_MAP_*_ELEM` part.
#[repr(C)]
#[derive(Default)]
struct MapElemAttr {
    map_fd: u32,
    _pad: u32,
    key: u64,
    value: u64,
    flags: u64,
}

/// The `BPF_PROG_LOAD` part, up to `expected_attach_type`.
#[repr(C)]
#[derive(Default)]
struct ProgLoadAttr {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    prog_name: [u8; 16],
    prog_ifindex: u32,
    expected_attach_type: u32,
}

/// The `BPF_PROG_TEST_RUN` part.
#[repr(C)]
#[derive(Default)]
struct TestRunAttr {
    prog_fd: u32,
    retval: u32,
    data_size_in: u32,
    data_size_out: u32,
    data_in: u64,
    data_out: u64,
    repeat: u32,
    duration: u32,
    ctx_size_in: u32,
    ctx_size_out: u32,
    ctx_in: u64,
    ctx_out: u64,
    flags: u32,
    cpu: u32,
    batch_size: u32,
    _pad: u32,
}

/// `bpf(cmd, attr, sizeof *attr)`: the non-negative result, or the errno as an I/O error.
fn bpf<T>(cmd: c_long, attr: &mut T) -> io::Result<i64> {
    let ptr: *mut T = attr;
    // SAFETY: `attr` is a live, exclusively borrowed `#[repr(C)]` prefix of `union bpf_attr` of
    // exactly `size_of::<T>()` bytes; every pointer stored inside it (by the callers below)
    // refers to a buffer that outlives this call and is large enough for what the command reads
    // or writes (its size is passed alongside). The kernel reads and writes only within those.
    let ret = unsafe { libc::syscall(libc::SYS_bpf, cmd, ptr, size_of::<T>()) };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Wraps a file descriptor the kernel just returned.
fn owned(fd: i64) -> io::Result<OwnedFd> {
    let fd = i32::try_from(fd).map_err(|_| io::Error::other("bpf(2) returned a bad fd"))?;
    // SAFETY: `fd` was just returned by a successful `bpf(2)` call that creates a new file
    // descriptor; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn name16(name: &str) -> [u8; 16] {
    let mut out = [0u8; 16];
    for (o, b) in out.iter_mut().zip(name.bytes().take(15)) {
        *o = b;
    }
    out
}

/// Creates a `BPF_MAP_TYPE_ARRAY` with u32 keys.
///
/// # Errors
/// The syscall's errno.
pub fn create_array_map(value_size: u32, max_entries: u32, name: &str) -> io::Result<OwnedFd> {
    let mut attr = MapCreateAttr {
        map_type: MAP_TYPE_ARRAY,
        key_size: 4,
        value_size,
        max_entries,
        map_name: name16(name),
        ..MapCreateAttr::default()
    };
    owned(bpf(BPF_MAP_CREATE, &mut attr)?)
}

/// Reads element `key` of an ARRAY map into `value` (which must be the map's value size).
///
/// # Errors
/// The syscall's errno.
pub fn map_lookup(map: &OwnedFd, key: u32, value: &mut [u8]) -> io::Result<()> {
    let mut attr = MapElemAttr {
        map_fd: map.as_raw_fd() as u32,
        key: std::ptr::addr_of!(key) as u64,
        value: value.as_mut_ptr() as u64,
        ..MapElemAttr::default()
    };
    bpf(BPF_MAP_LOOKUP_ELEM, &mut attr).map(drop)
}

/// Writes element `key` of an ARRAY map (`value` must be the map's value size).
///
/// # Errors
/// The syscall's errno.
pub fn map_update(map: &OwnedFd, key: u32, value: &[u8]) -> io::Result<()> {
    let mut attr = MapElemAttr {
        map_fd: map.as_raw_fd() as u32,
        key: std::ptr::addr_of!(key) as u64,
        value: value.as_ptr() as u64,
        ..MapElemAttr::default()
    };
    bpf(BPF_MAP_UPDATE_ELEM, &mut attr).map(drop)
}

/// A failed `BPF_PROG_LOAD`: the errno and whatever the verifier wrote to the log.
#[derive(Debug)]
pub struct LoadFailure {
    /// The errno (`EACCES`/`EINVAL` for verifier rejections, `EPERM` without privilege).
    pub error: io::Error,
    /// The verifier log (empty when no log was asked for).
    pub log: String,
}

/// Loads raw instruction bytes (8 per slot) as a program of `prog_type`, GPL-free (`MIT`
/// licence, so GPL-only helpers are refused). With `log_size > 0` the verifier log (level 1) is
/// returned on failure.
///
/// # Errors
/// [`LoadFailure`] with the errno and the log.
pub fn prog_load(
    prog_type: u32,
    expected_attach_type: u32,
    insns: &[u8],
    name: &str,
    log_size: usize,
) -> Result<OwnedFd, LoadFailure> {
    let license = b"MIT\0";
    let mut log = vec![0u8; log_size];
    let mut attr = ProgLoadAttr {
        prog_type,
        insn_cnt: (insns.len() / 8) as u32,
        insns: insns.as_ptr() as u64,
        license: license.as_ptr() as u64,
        log_level: u32::from(log_size > 0),
        log_size: log_size as u32,
        log_buf: if log_size > 0 {
            log.as_mut_ptr() as u64
        } else {
            0
        },
        prog_name: name16(name),
        expected_attach_type,
        ..ProgLoadAttr::default()
    };
    // The kernel asks to retry a load interrupted by a signal or by memory pressure.
    let mut tries = 0;
    let result = loop {
        match bpf(BPF_PROG_LOAD, &mut attr) {
            Err(e) if e.raw_os_error() == Some(libc::EAGAIN) && tries < 5 => tries += 1,
            other => break other,
        }
    };
    match result.and_then(owned) {
        Ok(fd) => Ok(fd),
        Err(error) => {
            let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
            Err(LoadFailure {
                error,
                log: String::from_utf8_lossy(&log[..end]).into_owned(),
            })
        }
    }
}

/// What one `BPF_PROG_TEST_RUN` returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TestRun {
    /// The program's return value (32 bits).
    pub retval: u32,
    /// Bytes written to `data_out`.
    pub data_size_out: u32,
}

/// Runs a loaded program once on `data_in`, copying the resulting packet into `data_out`.
///
/// # Errors
/// The syscall's errno.
pub fn prog_test_run(prog: &OwnedFd, data_in: &[u8], data_out: &mut [u8]) -> io::Result<TestRun> {
    let mut attr = TestRunAttr {
        prog_fd: prog.as_raw_fd() as u32,
        data_size_in: data_in.len() as u32,
        data_size_out: data_out.len() as u32,
        data_in: data_in.as_ptr() as u64,
        data_out: data_out.as_mut_ptr() as u64,
        repeat: 1,
        ..TestRunAttr::default()
    };
    bpf(BPF_PROG_TEST_RUN, &mut attr)?;
    Ok(TestRun {
        retval: attr.retval,
        data_size_out: attr.data_size_out,
    })
}
