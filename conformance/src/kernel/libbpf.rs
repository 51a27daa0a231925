//! The kernel's verdict on each program of an ELF object, obtained the way users' tools get it:
//! libbpf (the vendored `libbpf-sys`) opens the object, creates its maps, CO-RE-relocates it
//! against the kernel's BTF (or `btf_custom_path`), and loads it with only one program
//! autoloaded, so one program's failure does not hide the others' verdicts
//! (`realworld/tools/kcheck.c` does the same in C; `expected.tsv` was made with it).
//!
//! A load that fails after the kernel verifier ran (libbpf printed the verifier log) is a
//! verdict, [`Outcome::Rejected`], with the log's last meaningful line. A load that fails before
//! it (no permission, no BPF trampolines for fentry/fexit/lsm, a missing attach target or kfunc,
//! a program type this kernel lacks) is [`Outcome::Environment`]: no verdict on the program.
//!
//! Map sizes that a tool's userspace sets at run time (`max_entries` 0) are filled in as kcheck
//! does, and pinning is switched off so nothing is left under `/sys/fs/bpf`.
//!
//! libbpf keeps one global print callback; every use here holds one lock, so concurrent callers
//! (test threads) take turns and each sees only its own messages.

use std::ffi::{c_char, c_int, CStr, CString};
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Mutex;

use libbpf_sys as sys;

pub use super::libbpf_types::{LibbpfOptions, Outcome, ProgramOutcome, RelocatedProgram};

/// Serialises every libbpf call made here (the print callback is process-global).
static LOCK: Mutex<()> = Mutex::new(());
/// libbpf's messages (warnings and info) since the last [`take_log`].
static LOG: Mutex<String> = Mutex::new(String::new());

extern "C" {
    /// C's `vsnprintf`, with the `va_list` type libbpf-sys's bindings give the callback.
    fn vsnprintf(
        buf: *mut c_char,
        size: usize,
        fmt: *const c_char,
        ap: *mut sys::__va_list_tag,
    ) -> c_int;
}

/// libbpf's print callback: appends warnings and info to [`LOG`] (debug output is dropped).
unsafe extern "C" fn print(
    level: sys::libbpf_print_level,
    fmt: *const c_char,
    ap: *mut sys::__va_list_tag,
) -> c_int {
    if level == sys::LIBBPF_DEBUG || fmt.is_null() {
        return 0;
    }
    let mut buf = vec![0u8; 1 << 16];
    // SAFETY: `buf` is writable for its length; `fmt` and `ap` come from libbpf, which calls
    // this as a vprintf-style function, and `ap` is used exactly once.
    let n = unsafe { vsnprintf(buf.as_mut_ptr().cast(), buf.len(), fmt, ap) };
    if n <= 0 {
        return 0;
    }
    let len = (n as usize).min(buf.len() - 1);
    let text = String::from_utf8_lossy(&buf[..len]);
    if let Ok(mut log) = LOG.lock() {
        // A verifier log can be megabytes; the reason only needs its end.
        if log.len() < 64 << 20 {
            log.push_str(&text);
        }
    }
    0
}

fn take_log() -> String {
    LOG.lock()
        .map(|mut l| std::mem::take(&mut *l))
        .unwrap_or_default()
}

/// An open `bpf_object`, closed on drop.
struct ObjectHandle(*mut sys::bpf_object);

impl Drop for ObjectHandle {
    fn drop(&mut self) {
        // SAFETY: the pointer came from a successful `bpf_object__open_file` and is closed once.
        unsafe { sys::bpf_object__close(self.0) };
    }
}

/// Owned C strings for the open options (kept alive while the object is open).
struct OpenArgs {
    path: CString,
    kconfig: Option<CString>,
    btf: Option<CString>,
}

fn c_path(p: &Path, what: &str) -> Result<CString, String> {
    CString::new(p.as_os_str().as_encoded_bytes())
        .map_err(|_| format!("{what} path {} holds a NUL byte", p.display()))
}

impl OpenArgs {
    fn new(path: &Path, options: &LibbpfOptions<'_>) -> Result<Self, String> {
        let kconfig = match options.kconfig {
            // libbpf takes the configuration's text, not its path.
            Some(p) => {
                let text = std::fs::read(p)
                    .map_err(|e| format!("cannot read kconfig file {}: {e}", p.display()))?;
                Some(
                    CString::new(text)
                        .map_err(|_| format!("kconfig file {} holds a NUL byte", p.display()))?,
                )
            }
            None => None,
        };
        Ok(Self {
            path: c_path(path, "object")?,
            kconfig,
            btf: options.btf.map(|p| c_path(p, "BTF")).transpose()?,
        })
    }

    /// Opens the object (libbpf parses it; nothing is loaded yet).
    fn open(&self) -> Result<ObjectHandle, String> {
        let opts = sys::bpf_object_open_opts {
            sz: size_of::<sys::bpf_object_open_opts>() as _,
            kconfig: self
                .kconfig
                .as_ref()
                .map_or(std::ptr::null(), |c| c.as_ptr()),
            btf_custom_path: self.btf.as_ref().map_or(std::ptr::null(), |c| c.as_ptr()),
            ..Default::default()
        };
        // SAFETY: `opts` is a zeroed, sized options struct whose strings outlive the call
        // (libbpf copies what it keeps); `path` is NUL-terminated.
        let obj = unsafe { sys::bpf_object__open_file(self.path.as_ptr(), &opts) };
        // SAFETY: libbpf_get_error reads only the pointer value (NULL or an encoded errno).
        if obj.is_null() || unsafe { sys::libbpf_get_error(obj.cast()) } != 0 {
            return Err(pre_verifier_reason(&take_log()));
        }
        Ok(ObjectHandle(obj))
    }
}

fn c_str(p: *const c_char) -> String {
    if p.is_null() {
        return String::new();
    }
    // SAFETY: libbpf returns NUL-terminated names that live as long as the object.
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

/// The programs of an open object, as (section, function, handle).
fn programs(obj: &ObjectHandle) -> Vec<(String, String, *mut sys::bpf_program)> {
    let mut out = Vec::new();
    let mut p = std::ptr::null_mut();
    loop {
        // SAFETY: `obj.0` is open; `p` is null or the previous program of the same object.
        p = unsafe { sys::bpf_object__next_program(obj.0, p) };
        if p.is_null() {
            return out;
        }
        // SAFETY: `p` is a program of the open object.
        let (section, function) = unsafe {
            (
                c_str(sys::bpf_program__section_name(p)),
                c_str(sys::bpf_program__name(p)),
            )
        };
        out.push((section, function, p));
    }
}

/// Sizes a tool's userspace would set before loading (as kcheck does), and no pinning.
fn prepare_maps(obj: &ObjectHandle) {
    let mut m: *mut sys::bpf_map = std::ptr::null_mut();
    loop {
        // SAFETY: `obj.0` is open; `m` is null or the previous map of the same object.
        m = unsafe { sys::bpf_object__next_map(obj.0, m) };
        if m.is_null() {
            return;
        }
        // SAFETY: `m` is a map of the open, not yet loaded object; the setters only change its
        // definition (their errors leave it as it was, and the load then says what is wrong).
        unsafe {
            let t = sys::bpf_map__type(m);
            sys::bpf_map__set_pin_path(m, std::ptr::null());
            if t == sys::BPF_MAP_TYPE_STACK_TRACE && sys::bpf_map__value_size(m) == 0 {
                sys::bpf_map__set_value_size(m, 127 * 8);
            }
            let sized_by_kernel = [
                sys::BPF_MAP_TYPE_PERF_EVENT_ARRAY,
                sys::BPF_MAP_TYPE_SK_STORAGE,
                sys::BPF_MAP_TYPE_INODE_STORAGE,
                sys::BPF_MAP_TYPE_TASK_STORAGE,
                sys::BPF_MAP_TYPE_CGRP_STORAGE,
                sys::BPF_MAP_TYPE_STRUCT_OPS,
            ];
            if sys::bpf_map__max_entries(m) == 0 && !sized_by_kernel.contains(&t) {
                let n = if t == sys::BPF_MAP_TYPE_RINGBUF || t == sys::BPF_MAP_TYPE_USER_RINGBUF {
                    256 * 1024
                } else {
                    10240
                };
                sys::bpf_map__set_max_entries(m, n);
            }
            let cpus = sys::libbpf_num_possible_cpus();
            if t == sys::BPF_MAP_TYPE_CPUMAP
                && cpus > 0
                && sys::bpf_map__max_entries(m) > cpus as u32
            {
                sys::bpf_map__set_max_entries(m, cpus as u32);
            }
        }
    }
}

const BEGIN: &str = "-- BEGIN PROG LOAD LOG --";
const END: &str = "-- END PROG LOAD LOG --";

/// Lines of a verifier log that say nothing about why it failed.
fn uninformative(l: &str) -> bool {
    l.is_empty()
        || l.starts_with("processed ")
        || l.starts_with("verification time")
        || l.starts_with("stack depth")
        || l.starts_with("-- END")
        || l.starts_with("-- BEGIN")
}

/// The last `n` meaningful lines of the verifier log libbpf printed, if it printed one.
#[must_use]
pub fn verifier_reason(log: &str, n: usize) -> Option<String> {
    let begin = log.find(BEGIN)?;
    let body = &log[begin + BEGIN.len()..];
    let body = body.find(END).map_or(body, |e| &body[..e]);
    let lines: Vec<&str> = body
        .lines()
        .map(str::trim)
        .take_while(|l| !l.starts_with("processed "))
        .filter(|l| !uninformative(l))
        .collect();
    let tail = lines[lines.len().saturating_sub(n)..].join(" | ");
    Some(if tail.is_empty() {
        "(empty verifier log)".to_owned()
    } else {
        tail
    })
}

/// The first line of libbpf's output that says what went wrong before the verifier ran.
fn pre_verifier_reason(log: &str) -> String {
    const NOISE: [&str; 4] = [
        "failed to load object",
        "Retrying without BTF",
        "permission error while running as root",
        "': failed to load: -",
    ];
    const SIGNS: [&str; 11] = [
        "fail",
        "error",
        "Error",
        "invalid",
        "not found",
        "unsupported",
        "missing",
        "couldn't",
        "can't",
        "unknown",
        "not supported",
    ];
    let line = log
        .lines()
        .filter(|l| !NOISE.iter().any(|n| l.contains(n)))
        .find(|l| SIGNS.iter().any(|s| l.contains(s)))
        .or_else(|| log.lines().next())
        .unwrap_or("unknown failure (libbpf said nothing)");
    let mut line = line.trim().strip_prefix("libbpf: ").unwrap_or(line.trim());
    if let Some(rest) = line.strip_prefix("prog '") {
        if let Some((_, after)) = rest.split_once("': ") {
            line = after;
        }
    }
    let mut reason = line.to_owned();
    if reason.contains("-EPERM") {
        reason.push_str(" (no verifier log: no permission, or no BPF trampolines on this kernel)");
    }
    reason
}

/// Classifies a failed load from libbpf's output.
fn failed(log: &str) -> Outcome {
    match verifier_reason(log, 2) {
        // The kernel returns ENOTSUPP (524) before verifying a trampoline program it cannot
        // attach; the log then holds only that.
        Some(reason) if !log.contains("-ENOTSUPP") && !log.contains("-524") => {
            Outcome::Rejected { reason }
        }
        _ => Outcome::Environment {
            reason: pre_verifier_reason(log),
        },
    }
}

/// The kernel's outcome for every program of the object at `path` (each loaded alone), or why
/// libbpf cannot open the object at all.
///
/// # Errors
/// The object cannot be opened by libbpf (the reason as libbpf gave it), or a path is unusable.
pub fn verdicts(path: &Path, options: &LibbpfOptions<'_>) -> Result<Vec<ProgramOutcome>, String> {
    let _guard = LOCK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // SAFETY: installs a callback with the signature libbpf expects; it stays valid forever.
    unsafe { sys::libbpf_set_print(Some(print)) };
    take_log();
    let args = OpenArgs::new(path, options)?;
    let names: Vec<(String, String)> = {
        let obj = args.open()?;
        programs(&obj).into_iter().map(|(s, f, _)| (s, f)).collect()
    };
    let mut out = Vec::with_capacity(names.len());
    for (section, function) in names {
        take_log();
        let outcome = match args.open() {
            Err(reason) => Outcome::Environment { reason },
            Ok(obj) => {
                for (s, f, p) in programs(&obj) {
                    // SAFETY: `p` is a program of the open, not yet loaded object.
                    unsafe { sys::bpf_program__set_autoload(p, s == section && f == function) };
                }
                prepare_maps(&obj);
                // SAFETY: `obj.0` is open and not loaded yet.
                let err = unsafe { sys::bpf_object__load(obj.0) };
                let log = take_log();
                if err == 0 {
                    Outcome::Accepted
                } else {
                    failed(&log)
                }
            }
        };
        out.push(ProgramOutcome {
            section,
            function,
            outcome,
        });
    }
    Ok(out)
}

/// Every program of the object at `path` as libbpf prepares it for loading
/// (`bpf_object__prepare`: relocations, CO-RE against the kernel's BTF or `options.btf`, maps
/// created, nothing loaded): an oracle for apiary's own relocation and CO-RE.
///
/// # Errors
/// libbpf cannot open or prepare the object (its reason).
pub fn relocated(
    path: &Path,
    options: &LibbpfOptions<'_>,
) -> Result<Vec<RelocatedProgram>, String> {
    let _guard = LOCK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // SAFETY: as in `verdicts`.
    unsafe { sys::libbpf_set_print(Some(print)) };
    take_log();
    let args = OpenArgs::new(path, options)?;
    let obj = args.open()?;
    prepare_maps(&obj);
    // SAFETY: `obj.0` is open and neither prepared nor loaded.
    if unsafe { sys::bpf_object__prepare(obj.0) } != 0 {
        return Err(pre_verifier_reason(&take_log()));
    }
    let mut out = Vec::new();
    for (section, function, p) in programs(&obj) {
        // SAFETY: `p` is a program of the prepared object; libbpf returns its `insn_cnt`
        // instructions (or NULL), valid until the object is closed, and they are copied here.
        let insns = unsafe {
            let n = sys::bpf_program__insn_cnt(p);
            let ptr = sys::bpf_program__insns(p);
            if ptr.is_null() {
                Vec::new()
            } else {
                std::slice::from_raw_parts(ptr.cast::<[u8; 8]>(), n as usize).to_vec()
            }
        };
        out.push(RelocatedProgram {
            section,
            function,
            insns,
        });
    }
    take_log();
    Ok(out)
}

/// Whether this process can load programs with libbpf at all (a socket filter returning 0,
/// loaded through `bpf_prog_load`), and if not, why.
///
/// # Errors
/// The reason the kernel cannot be used (no permission, BPF disabled).
pub fn usable() -> Result<(), String> {
    let _guard = LOCK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // r0 = 0; exit
    let insns = [
        sys::bpf_insn {
            code: 0xb7,
            ..Default::default()
        },
        sys::bpf_insn {
            code: 0x95,
            ..Default::default()
        },
    ];
    let license = c"GPL";
    // SAFETY: two valid instructions, a NUL-terminated license and no options.
    let fd = unsafe {
        sys::bpf_prog_load(
            sys::BPF_PROG_TYPE_SOCKET_FILTER,
            std::ptr::null(),
            license.as_ptr(),
            insns.as_ptr(),
            insns.len() as _,
            std::ptr::null_mut(),
        )
    };
    if fd < 0 {
        let mut why = String::new();
        let _ = write!(
            why,
            "BPF_PROG_LOAD of a trivial socket filter failed: {}",
            std::io::Error::from_raw_os_error(-fd)
        );
        return Err(why);
    }
    // SAFETY: `fd` is a descriptor this function owns.
    unsafe { libc::close(fd) };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reason_is_the_end_of_the_verifier_log() {
        let log = "libbpf: prog 'p': BPF program load failed: -EACCES\n\
                   libbpf: prog 'p': -- BEGIN PROG LOAD LOG --\n0: (b7) r0 = 0\n\
                   1: (61) r1 = *(u32 *)(r2 +0)\nR2 !read_ok\n\
                   processed 2 insns (limit 1000000)\n-- END PROG LOAD LOG --\n";
        assert_eq!(
            failed(log),
            Outcome::Rejected {
                reason: "1: (61) r1 = *(u32 *)(r2 +0) | R2 !read_ok".into()
            }
        );
    }

    #[test]
    fn a_failure_before_the_verifier_is_the_environment() {
        let log = "libbpf: prog 'f': failed to find kernel BTF type ID of 'dummy': -ESRCH\n\
                   libbpf: prog 'f': failed to prepare load attributes: -3\n";
        assert_eq!(
            failed(log),
            Outcome::Environment {
                reason: "failed to find kernel BTF type ID of 'dummy': -ESRCH".into()
            }
        );
        let eperm = "libbpf: prog 'f': BPF program load failed: -EPERM\n";
        assert!(
            matches!(failed(eperm), Outcome::Environment { reason } if reason.contains("no verifier log"))
        );
    }
}
