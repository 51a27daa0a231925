//! The raw `bpf(2)` calls apiary makes: create a map of any type, read, write and walk its
//! elements, load a program, and `BPF_PROG_TEST_RUN` it. The kernel oracle uses them, and so do
//! the root crate's kernel comparison tests (maps made from an object's definitions): one set of
//! attribute layouts and one place where the unsafe code lives.
//!
//! Each call fills a `#[repr(C)]` prefix of `union bpf_attr` (the kernel zero-extends a shorter
//! attribute). The kernel reads and writes the buffers those attributes point to by the sizes
//! the map or the attribute gives, not by the length of a Rust slice, so every public function
//! checks its buffers against those sizes before the syscall ([`BufferMismatch`]).

use std::ffi::{c_long, CStr};
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use apiary_vm::insn::insns_to_bytes;
use apiary_vm::Insn;
use thiserror::Error;

/// `enum bpf_cmd` values used here.
const BPF_MAP_CREATE: c_long = 0;
const BPF_MAP_LOOKUP_ELEM: c_long = 1;
const BPF_MAP_UPDATE_ELEM: c_long = 2;
const BPF_MAP_GET_NEXT_KEY: c_long = 4;
const BPF_PROG_LOAD: c_long = 5;
const BPF_PROG_TEST_RUN: c_long = 10;
const BPF_MAP_FREEZE: c_long = 22;
const BPF_MAP_LOOKUP_BATCH: c_long = 24;
const BPF_BTF_LOAD: c_long = 18;

/// `BPF_MAP_TYPE_ARRAY`.
pub const MAP_TYPE_ARRAY: u32 = 2;
/// `BPF_PROG_TYPE_XDP`.
pub const PROG_TYPE_XDP: u32 = 6;
/// `BPF_XDP` (enum bpf_attach_type).
pub const ATTACH_XDP: u32 = 37;

/// Map types whose syscall values hold one value per possible CPU (`PERCPU_HASH`,
/// `PERCPU_ARRAY`, `LRU_PERCPU_HASH`, `PERCPU_CGROUP_STORAGE`): their element calls are refused
/// rather than sized by the CPU count.
const PER_CPU_MAP_TYPES: [u32; 4] = [5, 6, 10, 21];

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

/// The `BPF_MAP_*_ELEM` and `BPF_MAP_GET_NEXT_KEY` part (`value` is `next_key` for the latter).
#[repr(C)]
#[derive(Default)]
struct MapElemAttr {
    map_fd: u32,
    _pad: u32,
    key: u64,
    value: u64,
    flags: u64,
}

/// The `BPF_MAP_*_BATCH` part.
#[repr(C)]
#[derive(Default)]
struct MapBatchAttr {
    in_batch: u64,
    out_batch: u64,
    keys: u64,
    values: u64,
    count: u32,
    map_fd: u32,
    elem_flags: u64,
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
    prog_btf_fd: u32,
    func_info_rec_size: u32,
    func_info: u64,
    func_info_cnt: u32,
    _pad: u32,
}

/// The `BPF_BTF_LOAD` part.
#[repr(C)]
#[derive(Default)]
struct BtfLoadAttr {
    btf: u64,
    btf_log_buf: u64,
    btf_size: u32,
    btf_log_size: u32,
    btf_log_level: u32,
    _pad: u32,
}

/// One `struct bpf_func_info`: a function (the program or a subprogram) starting at slot
/// `insn_off`, of BTF type `type_id` (a `BTF_KIND_FUNC`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FuncInfo {
    pub insn_off: u32,
    pub type_id: u32,
}

/// The BTF type id of the function in [`func_btf`].
pub const FUNC_TYPE_ID: u32 = 3;

/// The smallest BTF that describes functions: `int` (1), `int (void)` (2) and a static
/// function `f` of that prototype ([`FUNC_TYPE_ID`]), for [`FuncInfo`]s of programs that
/// have no BTF of their own (the kernel wants function information for programs with
/// subprograms or callbacks).
#[must_use]
pub fn func_btf() -> Vec<u8> {
    const KIND_INT: u32 = 1;
    const KIND_FUNC: u32 = 12;
    const KIND_FUNC_PROTO: u32 = 13;
    let strings = b"\0int\0f\0";
    let words: [u32; 10] = [
        1, // "int"
        KIND_INT << 24,
        4,
        32, // encoding 0, offset 0, 32 bits
        0,
        KIND_FUNC_PROTO << 24,
        1, // returns int
        5, // "f"
        KIND_FUNC << 24,
        2,
    ];
    let types: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    let mut out = Vec::new();
    out.extend_from_slice(&0xeb9f_u16.to_le_bytes());
    out.extend_from_slice(&[1, 0]); // version, flags
    for w in [
        24,
        0,
        types.len() as u32,
        types.len() as u32,
        strings.len() as u32,
    ] {
        out.extend_from_slice(&w.to_le_bytes());
    }
    out.extend_from_slice(&types);
    out.extend_from_slice(strings);
    out
}

/// Loads BTF (`BPF_BTF_LOAD`).
///
/// # Errors
/// [`LoadFailure`] with the errno and the BTF log.
pub fn btf_load(blob: &[u8]) -> Result<OwnedFd, LoadFailure> {
    let mut log = vec![0u8; 4096];
    let mut attr = BtfLoadAttr {
        btf: blob.as_ptr() as u64,
        btf_log_buf: log.as_mut_ptr() as u64,
        btf_size: blob.len() as u32,
        btf_log_size: log.len() as u32,
        btf_log_level: 1,
        ..BtfLoadAttr::default()
    };
    // SAFETY: a `BPF_BTF_LOAD` attribute: `btf` points to `btf_size` live bytes and
    // `btf_log_buf` to a writable buffer of `btf_log_size` bytes; both outlive the call.
    let result = unsafe { bpf(BPF_BTF_LOAD, &mut attr) };
    result.and_then(owned).map_err(|error| {
        let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
        LoadFailure {
            error,
            log: String::from_utf8_lossy(&log[..end]).into_owned(),
        }
    })
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
///
/// # Safety
/// `attr` must be the `#[repr(C)]` prefix of `union bpf_attr` that `cmd` takes, and every
/// pointer stored in it must refer to a live buffer at least as large as the kernel will read
/// or write through it for `cmd` (the sizes passed alongside, or the map's key and value sizes).
unsafe fn bpf<T>(cmd: c_long, attr: &mut T) -> io::Result<i64> {
    let ptr: *mut T = attr;
    // SAFETY: `attr` is a live, exclusively borrowed attribute of exactly `size_of::<T>()`
    // bytes; the buffers it points to are valid for the command (this function's contract).
    let ret = unsafe { libc::syscall(libc::SYS_bpf, cmd, ptr, size_of::<T>()) };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

/// Wraps a file descriptor the kernel just returned.
fn owned(fd: i64) -> io::Result<OwnedFd> {
    let fd = RawFd::try_from(fd).map_err(|_| io::Error::from(io::ErrorKind::InvalidData))?;
    // SAFETY: `fd` was just returned by a successful `bpf(2)` call that creates a new file
    // descriptor; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A map or program name as the kernel takes it: at most 15 bytes and a NUL, keeping only the
/// characters it allows (`[A-Za-z0-9_.]`; an object's map names may hold others).
fn name16(name: &str) -> [u8; 16] {
    let mut out = [0u8; 16];
    let allowed = name
        .bytes()
        .filter(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'.');
    for (o, b) in out.iter_mut().zip(allowed.take(15)) {
        *o = b;
    }
    out
}

/// Which buffer of an element call [`BufferMismatch`] is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Buffer {
    /// A key (or the next key of `BPF_MAP_GET_NEXT_KEY`).
    Key,
    /// A value.
    Value,
}

/// Why an element call was refused before the syscall: the kernel would read or write the
/// map's own sizes whatever the buffer's length. Carried inside an [`io::Error`] of kind
/// [`io::ErrorKind::InvalidInput`].
#[derive(Clone, Copy, Debug, Error, PartialEq, Eq)]
pub enum BufferMismatch {
    /// The buffer's length is not the map's key or value size.
    #[error("{buffer:?} buffer of {len} bytes for a map whose {buffer:?} size is {expected}")]
    Size {
        /// Which buffer.
        buffer: Buffer,
        /// Its length.
        len: usize,
        /// The map's size for it.
        expected: u32,
    },
    /// Per-CPU maps hold one value per possible CPU in their syscall values; not supported.
    #[error("element calls on per-CPU map type {map_type} are not supported")]
    PerCpu {
        /// The map's `enum bpf_map_type`.
        map_type: u32,
    },
    /// A per-CPU read ([`KernelMap::lookup_per_cpu`]) of a map that is not per CPU.
    #[error("per-CPU read of map type {map_type}, which is not per CPU")]
    NotPerCpu {
        /// The map's `enum bpf_map_type`.
        map_type: u32,
    },
}

impl From<BufferMismatch> for io::Error {
    fn from(e: BufferMismatch) -> Self {
        Self::new(io::ErrorKind::InvalidInput, e)
    }
}

/// What `BPF_MAP_CREATE` takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapSpec<'a> {
    /// `enum bpf_map_type`.
    pub map_type: u32,
    /// Key size in bytes.
    pub key_size: u32,
    /// Value size in bytes.
    pub value_size: u32,
    /// Capacity.
    pub max_entries: u32,
    /// `map_flags`.
    pub flags: u32,
    /// A name for introspection (truncated and filtered as the kernel requires).
    pub name: &'a str,
}

/// A map in the kernel, with the sizes its element calls are checked against.
#[derive(Debug)]
pub struct KernelMap {
    fd: OwnedFd,
    map_type: u32,
    key_size: u32,
    value_size: u32,
}

impl KernelMap {
    /// Creates a map.
    ///
    /// # Errors
    /// The syscall's errno.
    pub fn create(spec: &MapSpec<'_>) -> io::Result<Self> {
        Self::create_with_inner(spec, None)
    }

    /// Creates a map; a map of maps (`ARRAY_OF_MAPS`, `HASH_OF_MAPS`) takes the template its
    /// inner maps must match as `inner` (the kernel refuses one without it).
    ///
    /// # Errors
    /// The syscall's errno.
    pub fn create_with_inner(
        spec: &MapSpec<'_>,
        inner: Option<BorrowedFd<'_>>,
    ) -> io::Result<Self> {
        let mut attr = MapCreateAttr {
            map_type: spec.map_type,
            key_size: spec.key_size,
            value_size: spec.value_size,
            max_entries: spec.max_entries,
            map_flags: spec.flags,
            inner_map_fd: inner.map_or(0, |fd| fd.as_raw_fd() as u32),
            map_name: name16(spec.name),
            ..MapCreateAttr::default()
        };
        // SAFETY: a `BPF_MAP_CREATE` attribute; it holds no pointers (the inner map is a
        // descriptor, borrowed for the call).
        let fd = owned(unsafe { bpf(BPF_MAP_CREATE, &mut attr) }?)?;
        Ok(Self {
            fd,
            map_type: spec.map_type,
            key_size: spec.key_size,
            value_size: spec.value_size,
        })
    }

    /// Checks that a buffer is exactly the map's size for it, and that the map's values are not
    /// per CPU (so that the value size is what the kernel copies).
    fn check(&self, buffer: Buffer, len: usize) -> Result<(), BufferMismatch> {
        if PER_CPU_MAP_TYPES.contains(&self.map_type) {
            return Err(BufferMismatch::PerCpu {
                map_type: self.map_type,
            });
        }
        let expected = match buffer {
            Buffer::Key => self.key_size,
            Buffer::Value => self.value_size,
        };
        if len == expected as usize {
            Ok(())
        } else {
            Err(BufferMismatch::Size {
                buffer,
                len,
                expected,
            })
        }
    }

    /// An element command on checked buffers.
    ///
    /// # Safety
    /// `key` and `value` must point to live buffers of at least the map's key and value size
    /// (`value` writable for lookups and next-key, where it is a key-sized buffer), or be 0
    /// where the command allows it.
    unsafe fn elem(&self, cmd: c_long, key: u64, value: u64, flags: u64) -> io::Result<()> {
        let mut attr = MapElemAttr {
            map_fd: self.fd.as_raw_fd() as u32,
            key,
            value,
            flags,
            ..MapElemAttr::default()
        };
        // SAFETY: an element attribute whose pointers satisfy this function's contract.
        unsafe { bpf(cmd, &mut attr) }.map(drop)
    }

    /// Reads the value at `key` into `value` (`BPF_MAP_LOOKUP_ELEM`).
    ///
    /// # Errors
    /// [`BufferMismatch`] for buffers of the wrong size; the syscall's errno (`ENOENT`: absent).
    pub fn lookup(&self, key: &[u8], value: &mut [u8]) -> io::Result<()> {
        self.check(Buffer::Key, key.len())?;
        self.check(Buffer::Value, value.len())?;
        // SAFETY: both buffers are live and exactly the map's key and value sizes; the map is
        // not per CPU, so the kernel writes `value_size` bytes into `value`.
        unsafe {
            self.elem(
                BPF_MAP_LOOKUP_ELEM,
                key.as_ptr() as u64,
                value.as_mut_ptr() as u64,
                0,
            )
        }
    }

    /// Writes `value` at `key` (`BPF_MAP_UPDATE_ELEM` with `BPF_ANY`).
    ///
    /// # Errors
    /// [`BufferMismatch`] for buffers of the wrong size; the syscall's errno.
    pub fn update(&self, key: &[u8], value: &[u8]) -> io::Result<()> {
        self.check(Buffer::Key, key.len())?;
        self.check(Buffer::Value, value.len())?;
        // SAFETY: both buffers are live and exactly the map's key and value sizes; the kernel
        // only reads them.
        unsafe {
            self.elem(
                BPF_MAP_UPDATE_ELEM,
                key.as_ptr() as u64,
                value.as_ptr() as u64,
                0,
            )
        }
    }

    /// Reads the value at `key` of a per-CPU map (`PERCPU_ARRAY`, `PERCPU_HASH`,
    /// `LRU_PERCPU_HASH`): one value per possible CPU, each padded to 8 bytes, CPU 0 first (the
    /// layout the kernel copies out, `round_up(value_size, 8) * possible CPUs` bytes).
    ///
    /// # Errors
    /// [`BufferMismatch`] for a key of the wrong size or a map that is not per CPU; the
    /// number of possible CPUs cannot be read; the syscall's errno (`ENOENT`: absent).
    pub fn lookup_per_cpu(&self, key: &[u8]) -> io::Result<Vec<u8>> {
        if !PER_CPU_MAP_TYPES.contains(&self.map_type) {
            return Err(BufferMismatch::NotPerCpu {
                map_type: self.map_type,
            }
            .into());
        }
        if key.len() != self.key_size as usize {
            return Err(BufferMismatch::Size {
                buffer: Buffer::Key,
                len: key.len(),
                expected: self.key_size,
            }
            .into());
        }
        let stride = (self.value_size as usize).next_multiple_of(8);
        let mut value = vec![0u8; stride * possible_cpus()?];
        // SAFETY: `key` is live and exactly the key size; `value` is live and writable for
        // `round_up(value_size, 8)` bytes per possible CPU, which is what the kernel copies for
        // a per-CPU map.
        unsafe {
            self.elem(
                BPF_MAP_LOOKUP_ELEM,
                key.as_ptr() as u64,
                value.as_mut_ptr() as u64,
                0,
            )
        }?;
        Ok(value)
    }

    /// Every (key, value) of the map in the kernel's order, read `BPF_MAP_LOOKUP_BATCH` at a
    /// time (one call per `chunk` elements instead of two per element). Per-CPU values come
    /// as [`KernelMap::lookup_per_cpu`] returns them.
    ///
    /// # Errors
    /// The number of possible CPUs cannot be read (per-CPU maps); the syscall's errno
    /// (`EINVAL` from kernels or map types without batch support).
    pub fn entries_batched(&self, chunk: u32) -> io::Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let key_size = self.key_size as usize;
        let value_size = if PER_CPU_MAP_TYPES.contains(&self.map_type) {
            (self.value_size as usize).next_multiple_of(8) * possible_cpus()?
        } else {
            self.value_size as usize
        };
        let chunk = chunk.max(1);
        let mut keys = vec![0u8; key_size * chunk as usize];
        let mut values = vec![0u8; value_size * chunk as usize];
        // The batch tokens: the kernel writes the position to resume from into `out_batch`.
        // Hash maps use a bucket index (u32) and arrays a key, so a key-sized (at least 8
        // bytes) token fits both.
        let token_size = key_size.max(8);
        let mut token_in = vec![0u8; token_size];
        let mut token_out = vec![0u8; token_size];
        let mut first = true;
        let mut out = Vec::new();
        loop {
            let mut attr = MapBatchAttr {
                in_batch: if first { 0 } else { token_in.as_ptr() as u64 },
                out_batch: token_out.as_mut_ptr() as u64,
                keys: keys.as_mut_ptr() as u64,
                values: values.as_mut_ptr() as u64,
                count: chunk,
                map_fd: self.fd.as_raw_fd() as u32,
                ..MapBatchAttr::default()
            };
            // SAFETY: a `BPF_MAP_LOOKUP_BATCH` attribute: `keys` and `values` are live,
            // writable buffers of `count` keys and values of the sizes the kernel copies for
            // this map (per-CPU values included), `in_batch` (after the first call) and
            // `out_batch` point to live tokens at least as large as the kernel's (a key or a
            // u32 bucket index); all outlive the call.
            let result = unsafe { bpf(BPF_MAP_LOOKUP_BATCH, &mut attr) };
            let n = (attr.count as usize).min(chunk as usize);
            for i in 0..n {
                out.push((
                    keys[i * key_size..(i + 1) * key_size].to_vec(),
                    values[i * value_size..(i + 1) * value_size].to_vec(),
                ));
            }
            match result {
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => return Ok(out),
                Err(e) => return Err(e),
            }
            std::mem::swap(&mut token_in, &mut token_out);
            first = false;
        }
    }

    /// Freezes the map (`BPF_MAP_FREEZE`): no more writes from user space, so the verifier
    /// may treat a `BPF_F_RDONLY_PROG` map's bytes as constant (constant strings).
    ///
    /// # Errors
    /// The syscall's errno.
    pub fn freeze(&self) -> io::Result<()> {
        let mut attr = MapElemAttr {
            map_fd: self.fd.as_raw_fd() as u32,
            ..MapElemAttr::default()
        };
        // SAFETY: `BPF_MAP_FREEZE` reads only `map_fd` from the attribute; no pointers.
        unsafe { bpf(BPF_MAP_FREEZE, &mut attr) }.map(drop)
    }

    /// Writes the key after `key` (the first key with `None`) into `next`
    /// (`BPF_MAP_GET_NEXT_KEY`); `false` when there is none.
    ///
    /// # Errors
    /// [`BufferMismatch`] for buffers of the wrong size; the syscall's errno other than
    /// `ENOENT`.
    pub fn next_key(&self, key: Option<&[u8]>, next: &mut [u8]) -> io::Result<bool> {
        if let Some(key) = key {
            self.check(Buffer::Key, key.len())?;
        }
        self.check(Buffer::Key, next.len())?;
        let at = key.map_or(0, |k| k.as_ptr() as u64);
        // SAFETY: `key` is absent (0: the kernel starts from the first key) or a live buffer of
        // the key size; `next` is a live, writable buffer of the key size.
        match unsafe { self.elem(BPF_MAP_GET_NEXT_KEY, at, next.as_mut_ptr() as u64, 0) } {
            Ok(()) => Ok(true),
            Err(e) if e.raw_os_error() == Some(libc::ENOENT) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

impl AsFd for KernelMap {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for KernelMap {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

/// The number of possible CPUs (`/sys/devices/system/cpu/possible`, as libbpf counts them):
/// per-CPU map values hold one value for each.
///
/// # Errors
/// The file cannot be read or does not hold a CPU list (`0-3`, `0,2-5`).
pub fn possible_cpus() -> io::Result<usize> {
    let text = std::fs::read_to_string("/sys/devices/system/cpu/possible")?;
    cpu_list_count(text.trim())
        .ok_or_else(|| io::Error::other(format!("malformed possible CPU list {text:?}")))
}

/// The highest CPU of a list such as `0-3,5` plus one (per-CPU values are indexed by CPU
/// number, so a hole still takes a slot), or `None` when malformed.
fn cpu_list_count(list: &str) -> Option<usize> {
    let mut highest = None;
    for part in list.split(',') {
        let last = part.rsplit('-').next()?;
        let n: usize = last.trim().parse().ok()?;
        highest = highest.max(Some(n));
    }
    highest.and_then(|h| h.checked_add(1))
}

/// What `BPF_PROG_LOAD` takes.
#[derive(Clone, Copy, Debug)]
pub struct ProgSpec<'a> {
    /// `enum bpf_prog_type`.
    pub prog_type: u32,
    /// `enum bpf_attach_type` (0 where the program type needs none).
    pub expected_attach_type: u32,
    /// The program's slots, map references already patched to descriptors.
    pub insns: &'a [Insn],
    /// The licence (`GPL`-compatible ones unlock GPL-only helpers).
    pub license: &'a CStr,
    /// A name for introspection (truncated and filtered as the kernel requires).
    pub name: &'a str,
}

/// A failed `BPF_PROG_LOAD`: the errno and whatever the verifier wrote to the log.
#[derive(Debug)]
pub struct LoadFailure {
    /// The errno (`EACCES`/`EINVAL` for verifier rejections, `EPERM` without privilege).
    pub error: io::Error,
    /// The verifier log (empty when no log was asked for).
    pub log: String,
}

/// Loads a program. It is loaded without a log first: a level-1 log of a long accepted program
/// can overflow any buffer and make the load fail with `ENOSPC`. If that fails and `log_size`
/// is not 0, it is loaded again with a log of that size, returned with the failure.
///
/// # Errors
/// [`LoadFailure`] with the errno and the log.
pub fn prog_load(spec: &ProgSpec<'_>, log_size: usize) -> Result<OwnedFd, LoadFailure> {
    prog_load_with_funcs(spec, None, log_size)
}

/// As [`prog_load`], with function information: `funcs` (one per function, the first at
/// slot 0) describing functions by types of the BTF `btf` (see [`func_btf`]).
///
/// # Errors
/// [`LoadFailure`] with the errno and the log.
pub fn prog_load_with_funcs(
    spec: &ProgSpec<'_>,
    funcs: Option<(&OwnedFd, &[FuncInfo])>,
    log_size: usize,
) -> Result<OwnedFd, LoadFailure> {
    let bytes = insns_to_bytes(spec.insns);
    match load_once(spec, &bytes, funcs, 0) {
        Err(_) if log_size > 0 => load_once(spec, &bytes, funcs, log_size),
        result => result,
    }
}

/// One `BPF_PROG_LOAD` of `bytes` (the encoded slots), with a log of `log_size` bytes (none
/// with 0), retried while the kernel asks to (`EAGAIN`: a signal or memory pressure).
fn load_once(
    spec: &ProgSpec<'_>,
    bytes: &[u8],
    funcs: Option<(&OwnedFd, &[FuncInfo])>,
    log_size: usize,
) -> Result<OwnedFd, LoadFailure> {
    let mut log = vec![0u8; log_size];
    let mut attr = ProgLoadAttr {
        prog_type: spec.prog_type,
        insn_cnt: (bytes.len() / 8) as u32,
        insns: bytes.as_ptr() as u64,
        license: spec.license.as_ptr() as u64,
        log_level: u32::from(log_size > 0),
        log_size: log_size as u32,
        log_buf: if log_size > 0 {
            log.as_mut_ptr() as u64
        } else {
            0
        },
        prog_name: name16(spec.name),
        expected_attach_type: spec.expected_attach_type,
        ..ProgLoadAttr::default()
    };
    if let Some((btf, funcs)) = funcs {
        attr.prog_btf_fd = btf.as_raw_fd() as u32;
        attr.func_info_rec_size = size_of::<FuncInfo>() as u32;
        attr.func_info = funcs.as_ptr() as u64;
        attr.func_info_cnt = funcs.len() as u32;
    }
    let mut tries = 0;
    let result = loop {
        // SAFETY: a `BPF_PROG_LOAD` attribute: `insns` points to `insn_cnt * 8` live bytes,
        // `license` to a NUL-terminated string, `log_buf` (when set) to a writable buffer of
        // `log_size` bytes, and `func_info` (when set) to `func_info_cnt` records of
        // `func_info_rec_size` bytes; all outlive the call.
        match unsafe { bpf(BPF_PROG_LOAD, &mut attr) } {
            Err(e) if e.raw_os_error() == Some(libc::EAGAIN) && tries < 5 => tries += 1,
            other => break other,
        }
    };
    result.and_then(owned).map_err(|error| {
        let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
        LoadFailure {
            error,
            log: String::from_utf8_lossy(&log[..end]).into_owned(),
        }
    })
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
    // SAFETY: a `BPF_PROG_TEST_RUN` attribute: `data_in` points to `data_size_in` live bytes
    // and `data_out` to `data_size_out` writable ones; the kernel copies no more than that.
    unsafe { bpf(BPF_PROG_TEST_RUN, &mut attr) }?;
    Ok(TestRun {
        retval: attr.retval,
        data_size_out: attr.data_size_out,
    })
}

#[cfg(test)]
mod tests {
    use super::cpu_list_count;

    #[test]
    fn possible_cpu_lists_count_up_to_the_highest_cpu() {
        assert_eq!(cpu_list_count("0"), Some(1));
        assert_eq!(cpu_list_count("0-3"), Some(4));
        assert_eq!(cpu_list_count("0,2-5"), Some(6));
        assert_eq!(cpu_list_count("0-1,7"), Some(8));
        assert_eq!(cpu_list_count(""), None);
        assert_eq!(cpu_list_count("0-x"), None);
        assert_eq!(cpu_list_count("18446744073709551615"), None);
    }
}
