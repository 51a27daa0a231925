//! The kernel side of the comparison, on top of the conformance crate's `bpf(2)` calls
//! (`apiary_conformance::kernel::sys`): maps made from an object's definitions (global data
//! with its initial value), their contents walked in key order, a ring buffer read through its
//! mapping, programs loaded with their map references patched to file descriptors, and runs.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

use apiary_conformance::kernel::probe;
use apiary_conformance::kernel::sys::{self, KernelMap, MapSpec, ProgSpec};
use apiary_elf::{MapDef, Object};
use apiary_vm::maps::map_type;
use apiary_vm::opcode::{lddw_src, LDDW};
use apiary_vm::Insn;

/// Verifier log size when a load fails (a long loop's log is long).
const LOG_SIZE: usize = 1 << 22;

/// A kernel map made from an object's definition.
#[derive(Debug)]
pub struct KMap {
    pub map: KernelMap,
    pub def: MapDef,
}

impl KMap {
    /// Creates the map and writes global data's initial value.
    pub fn create(def: &MapDef) -> io::Result<Self> {
        let map = KernelMap::create(&MapSpec {
            map_type: def.map_type,
            key_size: def.key_size,
            value_size: def.value_size,
            max_entries: def.max_entries,
            flags: def.flags,
            name: &def.name,
        })?;
        let map = Self {
            map,
            def: def.clone(),
        };
        if !def.initial.is_empty() {
            let mut value = def.initial.clone();
            value.resize(def.value_size as usize, 0);
            map.map.update(&0u32.to_le_bytes(), &value)?;
        }
        Ok(map)
    }

    /// `BPF_MAP_LOOKUP_ELEM`.
    pub fn lookup(&self, key: &[u8]) -> io::Result<Vec<u8>> {
        let mut value = vec![0u8; self.def.value_size as usize];
        self.map.lookup(key, &mut value)?;
        Ok(value)
    }

    /// Every (key, value), sorted by key.
    pub fn entries(&self) -> io::Result<Vec<(Vec<u8>, Vec<u8>)>> {
        let size = self.def.key_size as usize;
        let mut out = Vec::new();
        let mut key: Option<Vec<u8>> = None;
        loop {
            let mut next = vec![0u8; size];
            if !self.map.next_key(key.as_deref(), &mut next)? {
                break;
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
        assert_eq!(self.def.map_type, map_type::RINGBUF);
        // SAFETY: sysconf has no memory-safety preconditions.
        let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as usize;
        let size = self.def.max_entries as usize;
        let fd = self.map.as_raw_fd();
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
        slot.imm = maps[index].map.as_raw_fd();
    }
    out
}

/// `BPF_PROG_LOAD` (0 for the expected attach type); on failure the error carries the
/// verifier log's tail.
pub fn prog_load(prog_type: u32, insns: &[Insn], license: &str, name: &str) -> io::Result<OwnedFd> {
    let license = CString::new(license).map_err(io::Error::other)?;
    let spec = ProgSpec {
        prog_type,
        expected_attach_type: 0,
        insns,
        license: &license,
        name,
    };
    sys::prog_load(&spec, LOG_SIZE).map_err(|f| {
        let tail: Vec<&str> = f.log.lines().rev().take(12).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        io::Error::new(
            f.error.kind(),
            format!("{}; verifier log tail:\n{}", f.error, tail.join("\n")),
        )
    })
}

/// Puts program `prog` in slot `index` of a prog array.
pub fn set_prog(array: &KMap, index: u32, prog: &OwnedFd) -> io::Result<()> {
    assert_eq!(array.def.map_type, map_type::PROG_ARRAY);
    let fd = prog.as_raw_fd() as u32;
    array.map.update(&index.to_le_bytes(), &fd.to_le_bytes())
}

/// One `BPF_PROG_TEST_RUN`: (retval, the packet afterwards).
pub fn test_run(prog: &OwnedFd, packet: &[u8]) -> io::Result<(u32, Vec<u8>)> {
    // Room for packets the program grew (an XDP frame holds up to 4 KiB).
    let mut out = vec![0u8; packet.len() + 4096];
    let run = sys::prog_test_run(prog, packet, &mut out)?;
    out.truncate(run.data_size_out as usize);
    Ok((run.retval, out))
}

/// `None` where this process can use the kernel; otherwise the reason, after a NOTICE naming
/// `test`. With `APIARY_REQUIRE_KERNEL=1` an unusable kernel fails the test instead.
pub fn unavailable(test: &str) -> Option<String> {
    match probe::usable() {
        Ok(()) => None,
        Err(e) => {
            assert!(
                !apiary_conformance::kernel::required(),
                "APIARY_REQUIRE_KERNEL=1 but {e}"
            );
            eprintln!("NOTICE: {test}: kernel comparison skipped: {e}");
            Some(e.to_string())
        }
    }
}

/// `None` where this kernel supports what `insns` needs as a program of `prog_type` (the type,
/// test runs of it, every helper it calls); otherwise why not (a skip on this host, not a
/// failure). Call after [`unavailable`].
pub fn unsupported(prog_type: u32, insns: &[Insn]) -> Option<String> {
    probe::case(prog_type, &probe::helpers_called(insns))
        .err()
        .map(|e| e.to_string())
}

/// As [`unsupported`], for map type `map_type`.
pub fn unsupported_map(map_type: u32) -> Option<String> {
    probe::map_type(map_type).err().map(|e| e.to_string())
}
