//! [`Limits`]: bounds on everything an object file asks apiary to allocate.
//!
//! An object file is untrusted input, and most of what it declares turns into memory: a map's
//! `max_entries × value_size`, a ring buffer's size, a `.bss` section's `sh_size`, the number of
//! programs and instructions. Every such request is checked against one [`Limits`] value
//! *before* anything is allocated, and refused with an error naming the map or section, the size
//! asked and the limit; allocation that remains is fallible (no abort on a failed allocation).
//!
//! The defaults follow Linux where Linux has a fixed bound (key and value sizes, per-CPU values,
//! instructions per program) and pick a budget where Linux relies on the memory cgroup instead
//! (total map memory per object). The map loader, the ELF loader and the object layer all take
//! the one value: [`crate::maps::MapOptions::limits`].

/// `KMALLOC_MAX_SIZE` on x86-64 and arm64 with 4 KiB pages: `1 << (MAX_PAGE_ORDER + PAGE_SHIFT)`
/// = `1 << (10 + 12)`, the largest single kernel allocation.
pub const KMALLOC_MAX_SIZE: u32 = 4 << 20;
/// `PCPU_MIN_UNIT_SIZE`: the per-CPU allocator's unit (32 KiB), Linux's bound on a per-CPU value.
pub const PCPU_MIN_UNIT_SIZE: u32 = 32 << 10;
/// `MAX_BPF_STACK`: a program's stack, where it builds the keys it looks up.
pub const MAX_BPF_STACK: u32 = 512;
/// `BPF_COMPLEXITY_LIMIT_INSNS`: the most instructions Linux accepts in one privileged program
/// (`bpf_prog_load` refuses a larger `insn_cnt` with `E2BIG`).
pub const BPF_COMPLEXITY_LIMIT_INSNS: usize = 1_000_000;

/// What an object may ask for. Every field is an inclusive maximum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest `key_size` of a hash-like map (hash, LRU, per-CPU hash, hash of maps). Default
    /// 512 = `MAX_BPF_STACK`: programs build keys on their 512-byte stack, so a larger key can
    /// never be looked up by a program (Linux refused such maps with `E2BIG` until 5.x; it now
    /// bounds `key_size + value_size` by `KMALLOC_MAX_SIZE`). LPM tries keep their own bound
    /// (4 + 256 bytes, `LPM_DATA_SIZE_MAX`).
    pub max_key_size: u32,
    /// Largest `value_size` of a hash-like map, LPM trie, queue or stack. Default 4 MiB =
    /// `KMALLOC_MAX_SIZE`, Linux's bound (`htab_map_alloc_check`: `key_size + value_size` must be
    /// below it; queue/stack and LPM likewise). Arrays (and global data) are bounded by
    /// [`Limits::max_map_memory`] only, as in Linux ≥ 5.x (`array_map_alloc_check` allows
    /// `value_size` up to `INT_MAX`).
    pub max_value_size: u32,
    /// Largest `value_size` of a per-CPU map, rounded up to 8. Default 32 KiB =
    /// `PCPU_MIN_UNIT_SIZE`, Linux's bound (`E2BIG` in both array and hash alloc checks).
    pub max_percpu_value_size: u32,
    /// Largest `max_entries` of any map except ring buffers (whose `max_entries` is bytes).
    /// Default 2^28: Linux refuses a hash whose bucket array (`roundup_pow_of_two(max_entries)`
    /// buckets of 16 bytes) passes `U32_MAX` bytes, i.e. more than 2^28 buckets; arrays are in
    /// practice bounded by memory well below this.
    pub max_entries: u32,
    /// Largest ring buffer data area in bytes. Default 256 MiB. Linux requires a power of two,
    /// page-aligned, up to 2 GiB (the largest such `u32`) and charges it to the memory cgroup;
    /// real objects ask for 4 KiB to 16 MiB, and the memory still counts against
    /// [`Limits::max_map_memory`].
    pub max_ringbuf_bytes: u32,
    /// Total bytes of map memory one object (one [`crate::MapTable`]) may reserve, summed over
    /// its maps: values (× slots for per-CPU maps), index overhead for hashes (48 bytes per
    /// entry, the size of Linux's `struct htab_elem`), ring buffers, and perf rings (rings ×
    /// ring size). Default 1 GiB. Linux has no per-object bound (it charges the memory cgroup);
    /// 1 GiB admits a legitimate 128 MiB array eight times over while keeping a hostile object
    /// from reserving more than a laptop has. Map memory is zeroed and committed lazily by the
    /// OS, so a reservation costs resident memory only as programs touch it.
    pub max_map_memory: u64,
    /// Most maps one object may declare (legacy, BTF and global data together). Default 4096.
    /// Linux bounds maps per *program* (`MAX_USED_MAPS` = 64) and has no per-object bound; the
    /// largest objects in the corpora declare a few dozen.
    pub max_maps: usize,
    /// Largest global data section (`.data*`, `.rodata*`, `.bss*`) in bytes. Default 256 MiB.
    /// Each becomes a one-element array whose value is the section (counted in
    /// [`Limits::max_map_memory`] too); this refuses an absurd `sh_size` (a `.bss` has no bytes
    /// in the file, so nothing else bounds it) by name, before any map is made. Corpora
    /// sections are at most a few KiB.
    pub max_data_section: u64,
    /// Most programs one object may hold. Default 4096. Linux loads programs one by one with no
    /// per-object bound; each apiary program costs a decoded copy and, under a JIT, code pages.
    pub max_programs: usize,
    /// Most instructions (slots) of one linked program. Default 1,000,000 =
    /// `BPF_COMPLEXITY_LIMIT_INSNS`, Linux's `insn_cnt` bound for privileged loads (4096,
    /// `BPF_MAXINSNS`, for unprivileged ones).
    pub max_insns: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_key_size: MAX_BPF_STACK,
            max_value_size: KMALLOC_MAX_SIZE,
            max_percpu_value_size: PCPU_MIN_UNIT_SIZE,
            max_entries: 1 << 28,
            max_ringbuf_bytes: 256 << 20,
            max_map_memory: 1 << 30,
            max_maps: 4096,
            max_data_section: 256 << 20,
            max_programs: 4096,
            max_insns: BPF_COMPLEXITY_LIMIT_INSNS,
        }
    }
}

impl Limits {
    /// No bound other than the machine's (for trusted inputs and tests).
    #[must_use]
    pub const fn unlimited() -> Self {
        Self {
            max_key_size: u32::MAX,
            max_value_size: u32::MAX,
            max_percpu_value_size: u32::MAX,
            max_entries: u32::MAX,
            max_ringbuf_bytes: u32::MAX,
            max_map_memory: u64::MAX,
            max_maps: usize::MAX,
            max_data_section: u64::MAX,
            max_programs: usize::MAX,
            max_insns: usize::MAX,
        }
    }
}

/// Which [`Limits`] field a request exceeded (for [`crate::maps::MapError::TooLarge`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LimitKind {
    /// [`Limits::max_key_size`].
    KeySize,
    /// [`Limits::max_value_size`].
    ValueSize,
    /// [`Limits::max_percpu_value_size`].
    PercpuValueSize,
    /// [`Limits::max_entries`].
    Entries,
    /// [`Limits::max_ringbuf_bytes`].
    RingBuf,
    /// [`Limits::max_map_memory`].
    MapMemory,
}

impl LimitKind {
    /// How messages name the limit.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            LimitKind::KeySize => "key size limit",
            LimitKind::ValueSize => "value size limit",
            LimitKind::PercpuValueSize => "per-CPU value size limit",
            LimitKind::Entries => "entry limit",
            LimitKind::RingBuf => "ring buffer size limit",
            LimitKind::MapMemory => "per-object map memory limit",
        }
    }

    /// The unit of the limit's value.
    #[must_use]
    pub const fn unit(self) -> &'static str {
        match self {
            LimitKind::Entries => "entries",
            _ => "bytes",
        }
    }
}
