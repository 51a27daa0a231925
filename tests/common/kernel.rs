//! The `bpf(2)` calls the kernel comparison needs, for maps of any type and keys of any size
//! (the conformance crate's module only makes u32-keyed arrays): create maps, read and write
//! elements, walk keys, read a ring buffer through its mapping, load programs with their map
//! references patched to file descriptors, and `BPF_PROG_TEST_RUN` them.

use std::ffi::c_long;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use apiary_elf::{MapDef, Object};
use apiary_vm::opcode::{lddw_src, LDDW};
use apiary_vm::Insn;

const BPF_MAP_CREATE: c_long = 0;
const BPF_MAP_LOOKUP_ELEM: c_long = 1;
const BPF_MAP_UPDATE_ELEM: c_long = 2;
const BPF_MAP_GET_NEXT_KEY: c_long = 4;
const BPF_PROG_LOAD: c_long = 5;
const BPF_PROG_TEST_RUN: c_long = 10;
const MAP_TYPE_RINGBUF: u32 = 27;
const MAP_TYPE_PROG_ARRAY: u32 = 3;

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

#[repr(C)]
#[derive(Default)]
struct ElemAttr {
    map_fd: u32,
    _pad: u32,
    key: u64,
    value: u64,
    flags: u64,
}

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

fn bpf<T>(cmd: c_long, attr: &mut T) -> io::Result<i64> {
    let ptr: *mut T = attr;
    // SAFETY: `attr` is a live `#[repr(C)]` prefix of `union bpf_attr` of `size_of::<T>()`
    // bytes; every pointer the callers store in it refers to a live buffer at least as large as
    // the size passed alongside (or implied by the map's key/value sizes, which the callers
    // size their buffers by).
    let ret = unsafe { libc::syscall(libc::SYS_bpf, cmd, ptr, size_of::<T>()) };
    if ret < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(ret)
    }
}

fn owned(fd: i64) -> io::Result<OwnedFd> {
    let fd = i32::try_from(fd).map_err(|_| io::Error::other("bad fd"))?;
    // SAFETY: a fresh descriptor just returned by `bpf(2)`; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn name16(name: &str) -> [u8; 16] {
    let mut out = [0u8; 16];
    // Map names allow only [A-Za-z0-9_.].
    for (o, b) in out.iter_mut().zip(
        name.bytes()
            .filter(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'.')
            .take(15),
    ) {
        *o = b;
    }
    out
}

/// A kernel map made from an object's definition.
#[derive(Debug)]
pub struct KMap {
    pub fd: OwnedFd,
    pub def: MapDef,
}

impl KMap {
    /// Creates the map and writes global data's initial value.
    pub fn create(def: &MapDef) -> io::Result<Self> {
        let mut attr = MapCreateAttr {
            map_type: def.map_type,
            key_size: def.key_size,
            value_size: def.value_size,
            max_entries: def.max_entries,
            map_flags: def.flags,
            map_name: name16(&def.name),
            ..MapCreateAttr::default()
        };
        let fd = owned(bpf(BPF_MAP_CREATE, &mut attr)?)?;
        let map = Self {
            fd,
            def: def.clone(),
        };
        if !def.initial.is_empty() {
            let mut value = def.initial.clone();
            value.resize(def.value_size as usize, 0);
            map.update(&0u32.to_le_bytes(), &value)?;
        }
        Ok(map)
    }

    fn elem(&self, cmd: c_long, key: u64, value: u64) -> io::Result<()> {
        let mut attr = ElemAttr {
            map_fd: self.fd.as_raw_fd() as u32,
            key,
            value,
            ..ElemAttr::default()
        };
        bpf(cmd, &mut attr).map(drop)
    }

    /// `BPF_MAP_UPDATE_ELEM` (BPF_ANY).
    pub fn update(&self, key: &[u8], value: &[u8]) -> io::Result<()> {
        assert_eq!(key.len(), self.def.key_size as usize);
        assert_eq!(value.len(), self.def.value_size as usize);
        self.elem(
            BPF_MAP_UPDATE_ELEM,
            key.as_ptr() as u64,
            value.as_ptr() as u64,
        )
    }

    /// `BPF_MAP_LOOKUP_ELEM`.
    pub fn lookup(&self, key: &[u8]) -> io::Result<Vec<u8>> {
        assert_eq!(key.len(), self.def.key_size as usize);
        let mut value = vec![0u8; self.def.value_size as usize];
        self.elem(
            BPF_MAP_LOOKUP_ELEM,
            key.as_ptr() as u64,
            value.as_mut_ptr() as u64,
        )?;
        Ok(value)
    }

    /// Every (key, value), sorted by key.
    pub fn entries(&self) -> io::Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let size = self.def.key_size as usize;
        let mut out = Vec::new();
        let mut key: Option<Vec<u8>> = None;
        loop {
            let mut next = vec![0u8; size];
            let at = key.as_ref().map_or(0, |k| k.as_ptr() as u64);
            match self.elem(BPF_MAP_GET_NEXT_KEY, at, next.as_mut_ptr() as u64) {
                Ok(()) => {}
                Err(e) if e.raw_os_error() == Some(libc::ENOENT) => break,
                Err(e) => return Err(e),
            }
            out.push((next.clone(), self.lookup(&next)?));
            key = Some(next);
            if out.len() > self.def.max_entries as usize {
                break;
            }
        }
        out.sort();
        Ok(out)
    }

    /// The submitted records of a ring buffer, oldest first (consumed).
    pub fn ringbuf_records(&self) -> io::Result<Vec<Vec<u8>>> {
        assert_eq!(self.def.map_type, MAP_TYPE_RINGBUF);
        // SAFETY: sysconf has no memory-safety preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        let size = self.def.max_entries as usize;
        let fd = self.fd.as_raw_fd();
        // SAFETY: maps the ring buffer's consumer page (read-write) and its producer page plus
        // the data area twice (read-only), as the ring buffer's mmap interface defines; both
        // mappings are unmapped below and only read through the bounds computed from `size`.
        let cons = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                page,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED,
                fd,
                0,
            )
        };
        if cons == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: as above.
        let prod = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                page + 2 * size,
                libc::PROT_READ,
                libc::MAP_SHARED,
                fd,
                page as libc::off_t,
            )
        };
        if prod == libc::MAP_FAILED {
            let e = io::Error::last_os_error();
            // SAFETY: unmaps the consumer page mapped above.
            unsafe { libc::munmap(cons, page) };
            return Err(e);
        }
        let mut records = Vec::new();
        // SAFETY: the positions are u64s at the start of each page; the data area is
        // double-mapped, so a record starting in it can be read contiguously up to `size` bytes
        // past its start; lengths are bounded by `size` before reading.
        unsafe {
            let cons_pos = cons.cast::<u64>();
            let prod_pos = std::ptr::read_volatile(prod.cast::<u64>());
            let data = prod.cast::<u8>().add(page);
            let mut pos = std::ptr::read_volatile(cons_pos);
            while pos < prod_pos {
                let at = data.add((pos as usize) & (size - 1));
                let header = std::ptr::read_volatile(at.cast::<u32>());
                if header & (1 << 31) != 0 {
                    break;
                }
                let len = (header & !(3 << 30)) as usize;
                if len > size {
                    break;
                }
                if header & (1 << 30) == 0 {
                    records.push(std::slice::from_raw_parts(at.add(8), len).to_vec());
                }
                pos += (len + 8).next_multiple_of(8) as u64;
            }
            std::ptr::write_volatile(cons_pos, pos);
            libc::munmap(prod, page + 2 * size);
            libc::munmap(cons, page);
        }
        Ok(records)
    }
}

/// Every map of an object, created in the kernel in the object's order.
pub fn create_maps(object: &Object) -> io::Result<Vec<KMap>> {
    object.maps.iter().map(KMap::create).collect()
}

/// A program's slots with map references patched to the kernel maps' descriptors:
/// `lddw` src 5 (map index) → src 1 (`BPF_PSEUDO_MAP_FD`), src 6 (global data) → src 2
/// (`BPF_PSEUDO_MAP_VALUE`, the offset stays in the second slot).
pub fn patch(insns: &[Insn], maps: &[KMap]) -> Vec<Insn> {
    let mut out = insns.to_vec();
    for slot in &mut out {
        if slot.op != LDDW {
            continue;
        }
        let new_src = match slot.src {
            lddw_src::MAP_IDX => lddw_src::MAP_FD,
            lddw_src::MAP_IDX_VALUE => lddw_src::MAP_VALUE,
            _ => continue,
        };
        let index = usize::try_from(slot.imm).expect("map index");
        slot.src = new_src;
        slot.imm = maps[index].fd.as_raw_fd();
    }
    out
}

/// `BPF_PROG_LOAD`; on failure the error carries the verifier log's tail (the load is retried
/// with a log: a successful load of a long loop can overflow any log buffer).
pub fn prog_load(prog_type: u32, insns: &[Insn], license: &str, name: &str) -> io::Result<OwnedFd> {
    match load_with_log(prog_type, insns, license, name, 0) {
        Ok(fd) => Ok(fd),
        Err(_) => load_with_log(prog_type, insns, license, name, 1 << 22),
    }
}

fn load_with_log(
    prog_type: u32,
    insns: &[Insn],
    license: &str,
    name: &str,
    log_size: usize,
) -> io::Result<OwnedFd> {
    let bytes: Vec<u8> = insns.iter().flat_map(|i| i.to_bytes()).collect();
    let license = format!("{license}\0");
    let mut log = vec![0u8; log_size];
    let mut attr = ProgLoadAttr {
        prog_type,
        insn_cnt: insns.len() as u32,
        insns: bytes.as_ptr() as u64,
        license: license.as_ptr() as u64,
        log_level: u32::from(log_size > 0),
        log_size: log_size as u32,
        log_buf: if log_size > 0 {
            log.as_mut_ptr() as u64
        } else {
            0
        },
        prog_name: name16(name),
        ..ProgLoadAttr::default()
    };
    let mut tries = 0;
    loop {
        match bpf(BPF_PROG_LOAD, &mut attr) {
            Ok(fd) => return owned(fd),
            Err(e) if e.raw_os_error() == Some(libc::EAGAIN) && tries < 5 => tries += 1,
            Err(e) => {
                let end = log.iter().position(|&b| b == 0).unwrap_or(log.len());
                let text = String::from_utf8_lossy(&log[..end]);
                let tail: Vec<&str> = text.lines().rev().take(12).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                return Err(io::Error::new(
                    e.kind(),
                    format!("{e}; verifier log tail:\n{}", tail.join("\n")),
                ));
            }
        }
    }
}

/// Puts program `prog` in slot `index` of a prog array.
pub fn set_prog(array: &KMap, index: u32, prog: &OwnedFd) -> io::Result<()> {
    assert_eq!(array.def.map_type, MAP_TYPE_PROG_ARRAY);
    let fd = prog.as_raw_fd() as u32;
    array.update(&index.to_le_bytes(), &fd.to_le_bytes())
}

/// One `BPF_PROG_TEST_RUN`: (retval, the packet afterwards).
pub fn test_run(prog: &OwnedFd, packet: &[u8]) -> io::Result<(u32, Vec<u8>)> {
    // Room for packets the program grew (an XDP frame holds up to 4 KiB).
    let mut out = vec![0u8; packet.len() + 4096];
    let mut attr = TestRunAttr {
        prog_fd: prog.as_raw_fd() as u32,
        data_size_in: packet.len() as u32,
        data_size_out: out.len() as u32,
        data_in: packet.as_ptr() as u64,
        data_out: out.as_mut_ptr() as u64,
        repeat: 1,
        ..TestRunAttr::default()
    };
    bpf(BPF_PROG_TEST_RUN, &mut attr)?;
    out.truncate(attr.data_size_out as usize);
    Ok((attr.retval, out))
}
