//! End-to-end runs of real-world packet programs (`../shared/realworld`) on every apiary engine
//! and in the Linux kernel, compared after every packet: the action (r0), the output packet
//! and the maps.
//!
//! One [`E2e`] holds the program loaded several times, each copy with maps of its own: apiary's
//! interpreter and JIT in checked mode, the same in verified mode when the verifier accepts the
//! program (a recorded skip with the verifier's reason otherwise), and the kernel (maps created
//! from the object's definitions, `lddw`s patched to their descriptors, runs with
//! `BPF_PROG_TEST_RUN`) where this host can run the program (a recorded skip with the reason
//! otherwise). The control plane's writes ([`E2e::update`]) go to every copy; after each packet
//! every copy must agree with the reference (the kernel where it runs, else the checked
//! interpreter).
#![allow(dead_code)]

pub mod katran;
pub mod packets;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::os::fd::{AsFd, OwnedFd};

use apiary::object::{LoadedObject, ObjectOptions, ProgramError};
use apiary::EngineKind;
use apiary_conformance::kernel::sys::{KernelMap, MapSpec};
use apiary_elf::{MapDef, Object};
use apiary_testkit::Coverage;
use apiary_vm::maps::map_type;

use crate::common::kernel::{self, KMap};

/// Maps with more entries than this are tables the control plane owns (Katran's 33-million-slot
/// `ch_rings`, its 16-million-slot `server_id_map`): the program only reads them, and walking
/// them after every packet would take minutes, so only the keys the control plane wrote are
/// compared there.
const WALKED_ENTRIES: u32 = 1 << 16;

/// `ETH_HLEN`: the shortest frame `BPF_PROG_TEST_RUN` takes for XDP and tc.
const ETH_HLEN: usize = 14;

/// Why `BPF_PROG_TEST_RUN` refuses `packet` for a program of `prog_type` with `EINVAL`, if it
/// does: no frame shorter than an Ethernet header, and for socket-buffer programs no IPv4 or
/// IPv6 frame whose network header is cut short (`bpf_prog_test_run_skb` pulls it).
fn test_run_refuses(prog_type: u32, packet: &[u8]) -> Option<&'static str> {
    const SCHED_CLS: u32 = 3;
    const SCHED_ACT: u32 = 4;
    if packet.len() < ETH_HLEN {
        return Some("test runs need at least an Ethernet header (14 bytes)");
    }
    if !matches!(prog_type, SCHED_CLS | SCHED_ACT) {
        return None;
    }
    let l3 = packet.len() - ETH_HLEN;
    match u16::from_be_bytes([packet[12], packet[13]]) {
        0x0800 if l3 < 20 => Some("skb test runs need the whole IPv4 header"),
        0x86dd if l3 < 40 => Some("skb test runs need the whole IPv6 header"),
        _ => None,
    }
}

/// Per-CPU map types (`PERCPU_HASH`, `PERCPU_ARRAY`, `LRU_PERCPU_HASH`): compared as the sum over
/// CPUs, since which CPU a kernel test run lands on is the scheduler's choice.
const PER_CPU: [u32; 3] = [5, 6, 10];

/// Rewrites a (map name, key, value) before comparison; for fields that hold clock readings
/// (apiary's and the kernel's runs read `CLOCK_MONOTONIC` at different instants).
pub type Normalize = fn(&str, &[u8], &mut [u8]);

/// A map's contents as compared: sorted (key, value), per-CPU values summed.
type Contents = Vec<(Vec<u8>, Vec<u8>)>;

/// The kernel's copy.
struct KernelSide {
    maps: Vec<KMap>,
    prog: OwnedFd,
}

/// One program loaded on every side.
pub struct E2e {
    suite: String,
    object: Object,
    function: String,
    /// The kernel's program type.
    prog_type: u32,
    /// (label, loaded object, the program's index), checked interpreter first.
    sides: Vec<(String, LoadedObject, usize)>,
    kernel: Option<KernelSide>,
    /// Keys the control plane wrote, per map index (for the maps not walked).
    written: BTreeMap<usize, BTreeSet<Vec<u8>>>,
    normalize: Normalize,
    /// Side-against-reference comparisons of a run (action, packet and every map).
    compared: u64,
    /// Packets run.
    runs: u64,
    coverage: Coverage,
    /// The output packet of the last run.
    last: Vec<u8>,
    /// Actions seen, for the tests' own checks that the packets exercised what they meant to.
    pub actions: BTreeMap<u32, u64>,
}

/// Keeps values as they are.
pub fn identity(_: &str, _: &[u8], _: &mut [u8]) {}

impl E2e {
    /// Loads `function` of `../shared/realworld/<rel>` everywhere it can run, as a program of
    /// kernel type `prog_type`; `None` (a recorded skip) when the shared data is missing.
    pub fn load(suite: &str, rel: &str, function: &str, prog_type: u32) -> Option<Self> {
        let path = apiary_testkit::shared::corpus(&format!("realworld/{rel}"))?;
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut coverage = Coverage::new(suite).expect_comparisons(true);
        let mut sides = Vec::new();
        let mut object = None;
        for verified in [false, true] {
            for engine in [EngineKind::Interp, EngineKind::Jit] {
                let options = ObjectOptions {
                    verified,
                    ..ObjectOptions::for_engine(engine)
                };
                let loaded = LoadedObject::load(&bytes, &options)
                    .unwrap_or_else(|e| panic!("{rel}: apiary load ({engine:?}): {e}"));
                let index = loaded.program(function).expect("program exists");
                let mode = if verified { "verified" } else { "checked" };
                match loaded.program_error(index) {
                    None => {}
                    Some(ProgramError::Rejected { .. }) if verified => {
                        let why = loaded.program_error(index).map(ToString::to_string);
                        eprintln!("NOTICE: {suite}: {mode} runs skipped: {why:?}");
                        coverage.skip(format!(
                            "verified mode on {engine:?}: apiary's verifier rejects {function}: {}",
                            why.unwrap_or_default()
                        ));
                        continue;
                    }
                    Some(e) => panic!("{rel}:{function}: cannot run ({mode}, {engine:?}): {e}"),
                }
                if object.is_none() {
                    object = Some(apiary::object::parse_object(&bytes, &options).expect("parses"));
                }
                sides.push((format!("{engine:?}/{mode}"), loaded, index));
            }
        }
        let object = object.expect("the checked interpreter loads");
        let kernel = match Self::load_kernel(suite, &object, function, prog_type) {
            Ok(k) => Some(k),
            Err(why) => {
                coverage.skip(format!("kernel: {why}"));
                None
            }
        };
        Some(Self {
            suite: suite.to_owned(),
            object,
            function: function.to_owned(),
            prog_type,
            sides,
            kernel,
            written: BTreeMap::new(),
            normalize: identity,
            compared: 0,
            runs: 0,
            coverage,
            actions: BTreeMap::new(),
            last: Vec::new(),
        })
    }

    /// Whether the kernel takes part.
    pub fn has_kernel(&self) -> bool {
        self.kernel.is_some()
    }

    /// Sets the rewrite applied to map values before comparison.
    pub fn set_normalize(&mut self, f: Normalize) {
        self.normalize = f;
    }

    fn load_kernel(
        suite: &str,
        object: &Object,
        function: &str,
        prog_type: u32,
    ) -> Result<KernelSide, String> {
        if let Some(why) = kernel::unavailable(suite) {
            return Err(why);
        }
        let program = object
            .programs
            .iter()
            .find(|p| p.function == function)
            .expect("program in the object");
        for def in &object.maps {
            // The probe creates a map of maps without an inner template, which the kernel
            // refuses; for those, the inner type is probed and the creation below decides.
            let probed = def.inner.as_deref().unwrap_or(def);
            if let Some(why) = kernel::unsupported_map(probed.map_type) {
                return Err(why);
            }
        }
        if let Some(why) = kernel::unsupported(prog_type, &program.insns) {
            return Err(why);
        }
        let maps = object
            .maps
            .iter()
            .map(create_kernel_map)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("creating the maps: {e}"))?;
        let insns = kernel::patch(&program.insns, &maps);
        let license = object.license.clone().unwrap_or_else(|| "GPL".into());
        // The kernel accepts these programs (`expected.tsv`): a refusal here is a failure.
        let prog = kernel::prog_load(prog_type, &insns, &license, function)
            .unwrap_or_else(|e| panic!("{suite}: kernel load of {function}: {e}"));
        Ok(KernelSide { maps, prog })
    }

    /// Writes `key` → `value` into map `map` on every side, as the control plane does.
    pub fn update(&mut self, map: &str, key: &[u8], value: &[u8]) {
        for (label, loaded, _) in &self.sides {
            loaded
                .update(map, key, value, 0)
                .unwrap_or_else(|e| panic!("{label}: update {map}: {e}"));
        }
        let index = self
            .object
            .maps
            .iter()
            .position(|d| d.name == map)
            .unwrap_or_else(|| panic!("no map {map}"));
        if let Some(k) = &self.kernel {
            k.maps[index]
                .map
                .update(key, value)
                .unwrap_or_else(|e| panic!("kernel: update {map}: {e}"));
        }
        self.written.entry(index).or_default().insert(key.to_vec());
    }

    /// Runs the program on `packet` on every side and compares action, output packet and
    /// maps; returns the action.
    pub fn run(&mut self, what: &str, packet: &[u8]) -> u32 {
        let mut results = Vec::new();
        match &self.kernel {
            // Frames `BPF_PROG_TEST_RUN` refuses (`EINVAL`): the apiary engines are compared
            // with each other.
            Some(_) if test_run_refuses(self.prog_type, packet).is_some() => {
                let why = test_run_refuses(self.prog_type, packet).unwrap_or_default();
                self.coverage.skip(format!("kernel: {why}"));
            }
            Some(k) => {
                let (retval, data) = kernel::test_run(&k.prog, packet)
                    .unwrap_or_else(|e| panic!("{what}: kernel test run: {e}"));
                results.push(("kernel".to_owned(), retval, data));
            }
            None => {}
        }
        for (label, loaded, index) in &mut self.sides {
            let out = loaded
                .run(*index, packet)
                .unwrap_or_else(|e| panic!("{what}: {label}: {e}"));
            let r0 = out
                .outcome
                .result
                .unwrap_or_else(|f| panic!("{what}: {label} faulted: {f}"));
            results.push((label.clone(), r0 as u32, out.data));
        }
        let (reference, action, data) = &results[0];
        for (label, r0, out) in &results[1..] {
            assert_eq!(
                r0,
                action,
                "{}: {what}: action of {label} differs from {reference}'s\npacket {}",
                self.function,
                hex(packet)
            );
            assert!(
                out == data,
                "{}: {what}: output packet of {label} differs from {reference}'s\n{label}: {}\n{reference}: {}\ninput: {}",
                self.function,
                hex(out),
                hex(data),
                hex(packet)
            );
        }
        let action = *action;
        self.last = data.clone();
        *self.actions.entry(action).or_default() += 1;
        self.compare_maps(what, false);
        // Each side but the reference was compared with it.
        self.compared += results.len() as u64 - 1;
        self.runs += 1;
        action
    }

    /// Runs on `packet` and checks the action is `expected` too (the kernel's and apiary's
    /// agreement is checked by [`E2e::run`]; this checks the packet meant what the test says).
    pub fn expect(&mut self, what: &str, packet: &[u8], expected: u32) -> Vec<u8> {
        let action = self.run(what, packet);
        assert_eq!(action, expected, "{what}: unexpected action");
        self.last.clone()
    }

    /// The output packet of the last run (all sides agreed on it).
    pub fn last_packet(&self) -> &[u8] {
        &self.last
    }

    /// Every map, on every side, against the reference; the control plane's tables (not
    /// walked: see [`WALKED_ENTRIES`]) only when `all` (at the end: hundreds of thousands of
    /// ring slots per packet would dominate the test's time).
    fn compare_maps(&mut self, what: &str, all: bool) {
        let mut reference: Option<(String, Vec<Contents>)> = None;
        if let Some(k) = &self.kernel {
            let contents = (0..self.object.maps.len())
                .map(|i| self.kernel_contents(k, i, all))
                .collect();
            reference = Some(("kernel".into(), contents));
        }
        for (label, loaded, _) in &self.sides {
            let contents: Vec<Contents> = (0..self.object.maps.len())
                .map(|i| self.apiary_contents(loaded, i, all))
                .collect();
            match &reference {
                None => reference = Some((label.clone(), contents)),
                Some((ref_label, theirs)) => {
                    for (i, (ours, theirs)) in contents.iter().zip(theirs).enumerate() {
                        if ours != theirs {
                            panic!(
                                "{}: {what}: map {} of {label} differs from {ref_label}'s:\n{}",
                                self.function,
                                self.object.maps[i].name,
                                diff(ours, theirs, label, ref_label)
                            );
                        }
                    }
                }
            }
        }
    }

    /// The keys compared in map `i`: every key, or those the control plane wrote.
    fn walked(&self, i: usize) -> bool {
        self.object.maps[i].max_entries <= WALKED_ENTRIES
    }

    fn apiary_contents(&self, loaded: &LoadedObject, i: usize, all: bool) -> Contents {
        let def = &self.object.maps[i];
        if !all && !self.walked(i) {
            return Contents::new();
        }
        let table = loaded.maps();
        let keys = if self.walked(i) && is_array(def) {
            array_keys(def)
        } else if self.walked(i) {
            table.keys(i).expect("keys")
        } else {
            self.written
                .get(&i)
                .into_iter()
                .flatten()
                .cloned()
                .collect()
        };
        let mut out = Vec::new();
        for key in keys {
            let value = match def.map_type {
                map_type::ARRAY_OF_MAPS | map_type::HASH_OF_MAPS => Vec::new(),
                _ => {
                    let v = table.lookup(i, &key).expect("lookup").expect("present");
                    if PER_CPU.contains(&def.map_type) {
                        sum_per_cpu(def, &v)
                    } else {
                        v
                    }
                }
            };
            out.push(self.normalized(def, key, value));
        }
        out.sort();
        out
    }

    fn kernel_contents(&self, k: &KernelSide, i: usize, all: bool) -> Contents {
        let def = &self.object.maps[i];
        if !all && !self.walked(i) {
            return Contents::new();
        }
        let map = &k.maps[i].map;
        let of_maps = matches!(
            def.map_type,
            map_type::ARRAY_OF_MAPS | map_type::HASH_OF_MAPS
        );
        let value_of = |raw: &[u8]| {
            if of_maps {
                Vec::new()
            } else if PER_CPU.contains(&def.map_type) {
                sum_per_cpu(def, raw)
            } else {
                raw.to_vec()
            }
        };
        let mut out = Vec::new();
        if self.walked(i) && !of_maps {
            // One batch call per map: thousands of lookups per packet otherwise.
            let entries = map
                .entries_batched(def.max_entries.min(4096))
                .unwrap_or_else(|e| panic!("kernel: batch lookup of {}: {e}", def.name));
            for (key, raw) in entries {
                out.push(self.normalized(def, key, value_of(&raw)));
            }
        } else {
            let keys: Vec<Vec<u8>> = if self.walked(i) {
                let mut keys = Vec::new();
                let mut key: Option<Vec<u8>> = None;
                loop {
                    let mut next = vec![0u8; def.key_size as usize];
                    if !map.next_key(key.as_deref(), &mut next).expect("next key") {
                        break;
                    }
                    keys.push(next.clone());
                    key = Some(next);
                    assert!(keys.len() <= def.max_entries as usize, "key walk loops");
                }
                keys
            } else {
                self.written
                    .get(&i)
                    .into_iter()
                    .flatten()
                    .cloned()
                    .collect()
            };
            for key in keys {
                let raw = if of_maps {
                    Vec::new()
                } else if PER_CPU.contains(&def.map_type) {
                    map.lookup_per_cpu(&key).expect("per-CPU lookup")
                } else {
                    let mut v = vec![0u8; def.value_size as usize];
                    map.lookup(&key, &mut v).expect("lookup");
                    v
                };
                out.push(self.normalized(def, key, value_of(&raw)));
            }
        }
        out.sort();
        out
    }

    fn normalized(&self, def: &MapDef, key: Vec<u8>, mut value: Vec<u8>) -> (Vec<u8>, Vec<u8>) {
        (self.normalize)(&def.name, &key, &mut value);
        (key, value)
    }

    /// Records the counts (fails when nothing was compared and nothing skipped).
    pub fn finish(mut self) {
        self.compare_maps(
            "after the last packet, with the control plane's tables",
            true,
        );
        self.coverage.add_compared(self.compared);
        assert!(self.runs > 0, "{}: no packet was run", self.suite);
        let line = self.coverage.finish();
        eprintln!("{line}");
    }
}

/// Creates one kernel map from its definition (maps of maps with their inner template).
fn create_kernel_map(def: &MapDef) -> std::io::Result<KMap> {
    let map = match &def.inner {
        Some(inner) => {
            let template = KernelMap::create(&spec(inner))?;
            KernelMap::create_with_inner(&spec(def), Some(template.as_fd()))?
        }
        None => KernelMap::create(&spec(def))?,
    };
    let k = KMap {
        map,
        def: def.clone(),
    };
    if !def.initial.is_empty() {
        let mut value = def.initial.clone();
        value.resize(def.value_size as usize, 0);
        k.map.update(&0u32.to_le_bytes(), &value)?;
    }
    Ok(k)
}

/// Arrays hold every index, so their keys need not be walked one call at a time.
fn is_array(def: &MapDef) -> bool {
    matches!(def.map_type, map_type::ARRAY | map_type::PERCPU_ARRAY)
}

fn array_keys(def: &MapDef) -> Vec<Vec<u8>> {
    (0..def.max_entries)
        .map(|k| k.to_le_bytes().to_vec())
        .collect()
}

fn spec(d: &MapDef) -> MapSpec<'_> {
    MapSpec {
        map_type: d.map_type,
        key_size: d.key_size,
        value_size: d.value_size,
        max_entries: d.max_entries,
        flags: d.flags,
        name: &d.name,
    }
}

/// The per-CPU value `all` (one value per CPU, each padded to 8 bytes) summed CPU by CPU as
/// little-endian u64 words (counters), cut to the value size.
fn sum_per_cpu(def: &MapDef, all: &[u8]) -> Vec<u8> {
    let stride = (def.value_size as usize).next_multiple_of(8);
    let mut sum = vec![0u64; stride / 8];
    for cpu in all.chunks_exact(stride) {
        for (s, w) in sum.iter_mut().zip(cpu.chunks_exact(8)) {
            *s = s.wrapping_add(u64::from_le_bytes(w.try_into().expect("8 bytes")));
        }
    }
    let mut out: Vec<u8> = sum.iter().flat_map(|w| w.to_le_bytes()).collect();
    out.truncate(def.value_size as usize);
    out
}

/// Bytes as hex.
pub fn hex(b: &[u8]) -> String {
    b.iter().fold(String::new(), |mut s, x| {
        let _ = write!(s, "{x:02x}");
        s
    })
}

fn diff(ours: &Contents, theirs: &Contents, a: &str, b: &str) -> String {
    let ours: BTreeMap<_, _> = ours.iter().cloned().collect();
    let theirs: BTreeMap<_, _> = theirs.iter().cloned().collect();
    let mut s = String::new();
    for key in ours.keys().chain(theirs.keys()).collect::<BTreeSet<_>>() {
        let (x, y) = (ours.get(key), theirs.get(key));
        if x != y {
            let _ = writeln!(
                s,
                "  key {}: {a} {:?}, {b} {:?}",
                hex(key),
                x.map(|v| hex(v)),
                y.map(|v| hex(v))
            );
        }
    }
    s
}

#[test]
fn per_cpu_values_are_summed_cpu_by_cpu() {
    let def = MapDef {
        name: "m".into(),
        map_type: map_type::PERCPU_ARRAY,
        key_size: 4,
        value_size: 4,
        max_entries: 1,
        flags: 0,
        inner: None,
        inner_index: None,
        pinning: 0,
        kind: apiary_elf::MapKind::User,
        initial: Vec::new(),
    };
    // Two CPUs, 4-byte values padded to 8.
    let all = [1, 0, 0, 0, 0, 0, 0, 0, 2, 1, 0, 0, 0, 0, 0, 0];
    assert_eq!(sum_per_cpu(&def, &all), vec![3, 1, 0, 0]);
}

#[test]
fn the_kernel_test_run_limits_are_known() {
    const XDP: u32 = 6;
    const SCHED_CLS: u32 = 3;
    assert!(test_run_refuses(XDP, &[0; 13]).is_some());
    assert!(test_run_refuses(XDP, &[0; 14]).is_none());
    let mut v4 = vec![0u8; 14 + 19];
    v4[12..14].copy_from_slice(&[0x08, 0x00]);
    assert!(test_run_refuses(SCHED_CLS, &v4).is_some());
    assert!(test_run_refuses(XDP, &v4).is_none());
    v4.push(0);
    assert!(test_run_refuses(SCHED_CLS, &v4).is_none());
    let mut v6 = vec![0u8; 14 + 39];
    v6[12..14].copy_from_slice(&[0x86, 0xdd]);
    assert!(test_run_refuses(SCHED_CLS, &v6).is_some());
}
