//! Map definitions: legacy `maps` sections, BTF-defined `.maps`, and global data sections.
//!
//! The loader gives every map an index in [`crate::Object::maps`]; relocated `lddw`s name maps
//! by that index (`src = 5` / `src = 6`). Legacy maps come first (in section, then offset
//! order, which is also the numbering legacy `inner_map_idx` fields use), then BTF maps, then
//! global data.

use std::collections::BTreeMap;

use apiary_vm::Limits;

use crate::btf::{Btf, BtfMap};
use crate::error::ElfError;
use crate::sections::ElfFile;

/// `BPF_MAP_TYPE_ARRAY`, which backs global data.
pub use apiary_linux::map_type::ARRAY as MAP_TYPE_ARRAY;
/// `BPF_MAP_TYPE_ARRAY_OF_MAPS`.
pub use apiary_linux::map_type::ARRAY_OF_MAPS as MAP_TYPE_ARRAY_OF_MAPS;
/// `BPF_MAP_TYPE_HASH_OF_MAPS`.
pub use apiary_linux::map_type::HASH_OF_MAPS as MAP_TYPE_HASH_OF_MAPS;
/// `BPF_F_RDONLY_PROG`: the program may not write the map (set on `.rodata`).
pub const BPF_F_RDONLY_PROG: u32 = 1 << 7;
/// `BPF_F_MMAPABLE`: libbpf sets it on global data maps.
pub const BPF_F_MMAPABLE: u32 = 1 << 10;

/// Smallest legacy map record: type, key_size, value_size, max_entries.
const MIN_LEGACY_RECORD: usize = 16;
/// iproute2's `struct bpf_elf_map` (type, size_key, size_value, max_elem, flags, id, pinning,
/// inner_id, inner_idx): its pinning and inner index sit elsewhere than in `bpf_map_def`.
const IPROUTE2_RECORD: usize = 36;

/// Where a map comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MapKind {
    /// Declared by the program (legacy `maps` or BTF `.maps`).
    User,
    /// A `.data*` section: writable global variables.
    Data { section: String },
    /// A `.rodata*` section: constants; the map should be frozen after loading.
    Rodata { section: String },
    /// A `.bss*` section: zero-initialised globals (no bytes in the file).
    Bss { section: String },
}

/// One map the object declares or needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MapDef {
    /// Symbol name, or the section name for global data.
    pub name: String,
    /// Linux `enum bpf_map_type` id (ISA.md §10).
    pub map_type: u32,
    pub key_size: u32,
    pub value_size: u32,
    pub max_entries: u32,
    /// `map_flags` (`BPF_F_*`).
    pub flags: u32,
    /// Inner-map template of a map-of-maps.
    pub inner: Option<Box<MapDef>>,
    /// For a legacy map-of-maps: the index in [`crate::Object::maps`] of its inner map.
    pub inner_index: Option<usize>,
    /// Pinning mode (`LIBBPF_PIN_*` / iproute2 `PIN_*`); 0 = none.
    pub pinning: u32,
    pub kind: MapKind,
    /// Initial value of global data (`.data`, `.rodata`); empty otherwise (`.bss` is zeros).
    pub initial: Vec<u8>,
}

/// Maps plus how relocations find them.
#[derive(Debug, Default)]
pub(crate) struct MapTable {
    pub maps: Vec<MapDef>,
    /// (section index, offset of the definition in it) → map index, for symbol lookups.
    pub by_location: BTreeMap<(usize, u64), usize>,
    /// Global data section index → map index.
    pub data_sections: BTreeMap<usize, usize>,
}

/// Whether a section name is a legacy map section (`maps`, `maps/NAME`).
fn is_legacy_map_section(name: &str) -> bool {
    name == "maps" || name.starts_with("maps/")
}

fn data_kind(name: &str) -> Option<MapKind> {
    let section = name.to_string();
    if name.starts_with(".rodata") {
        Some(MapKind::Rodata { section })
    } else if name.starts_with(".data") {
        Some(MapKind::Data { section })
    } else if name.starts_with(".bss") {
        Some(MapKind::Bss { section })
    } else {
        None
    }
}

fn le_u32(bytes: &[u8], at: usize) -> u32 {
    bytes
        .get(at..at + 4)
        .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Collects every map of the object.
pub(crate) fn collect(elf: &ElfFile<'_>, limits: &Limits) -> Result<MapTable, ElfError> {
    let mut table = MapTable::default();
    legacy_maps(elf, &mut table)?;
    btf_maps(elf, &mut table)?;
    data_maps(elf, &mut table, limits)?;
    if table.maps.len() > limits.max_maps {
        return Err(ElfError::TooMany {
            what: "maps",
            count: table.maps.len(),
            limit: limits.max_maps,
        });
    }
    Ok(table)
}

/// How a legacy map-of-maps names its inner map template.
#[derive(Clone, Copy)]
enum InnerRef {
    /// By index among the legacy maps (`inner_map_idx` of samples/bpf's `bpf_map_def`).
    Index(u32),
    /// By the template's `id` field (iproute2's `inner_id`).
    Id(u32),
}

fn legacy_maps(elf: &ElfFile<'_>, table: &mut MapTable) -> Result<(), ElfError> {
    // Inner references are resolved after all legacy maps are known.
    let mut pending_inner = Vec::new();
    // (map index, iproute2 `id`) of every iproute2 record.
    let mut ids: Vec<(usize, u32)> = Vec::new();
    for (index, section) in elf.sections.iter().enumerate() {
        if !is_legacy_map_section(&section.name) || section.size == 0 {
            continue;
        }
        let bad = |reason: String| ElfError::BadMap {
            section: section.name.to_string(),
            reason,
        };
        let mut symbols: Vec<_> = elf
            .symbols
            .iter()
            .filter(|s| s.section == Some(index) && !s.is_section() && !s.name.is_empty())
            .collect();
        if symbols.is_empty() {
            return Err(bad("no symbol names the map definitions".into()));
        }
        symbols.sort_by_key(|s| s.value);
        // libbpf's inference: all records have one size, the section size over the count.
        let size = section.data.len();
        if size % symbols.len() != 0 {
            return Err(bad(format!(
                "size {size} is not a multiple of the {} map symbols",
                symbols.len()
            )));
        }
        let record = size / symbols.len();
        if record < MIN_LEGACY_RECORD {
            return Err(bad(format!(
                "map record size {record} is smaller than {MIN_LEGACY_RECORD}"
            )));
        }
        for s in symbols {
            let at = usize::try_from(s.value)
                .ok()
                .filter(|v| v % record == 0 && v + record <= size)
                .ok_or_else(|| {
                    bad(format!(
                        "map symbol {} at {:#x} is not on a {record}-byte record boundary",
                        s.name, s.value
                    ))
                })?;
            let bytes = section.data.get(at..at + record).unwrap_or_default();
            let field = |n: usize| {
                if record >= 4 * (n + 1) {
                    le_u32(bytes, 4 * n)
                } else {
                    0
                }
            };
            let map_type = field(0);
            // iproute2 names the inner map template by its `id` field (`inner_id`; its
            // `inner_idx` is the slot of the outer map an inner map is put in); the older
            // `bpf_map_def` of samples/bpf by its index (`inner_map_idx`).
            let (pinning, inner) = if record == IPROUTE2_RECORD {
                ids.push((table.maps.len(), field(5)));
                (field(6), InnerRef::Id(field(7)))
            } else {
                (0, InnerRef::Index(field(5)))
            };
            if matches!(map_type, MAP_TYPE_ARRAY_OF_MAPS | MAP_TYPE_HASH_OF_MAPS) {
                pending_inner.push((table.maps.len(), inner, section.name.to_string()));
            }
            table.by_location.insert((index, s.value), table.maps.len());
            table.maps.push(MapDef {
                name: s.name.to_string(),
                map_type,
                key_size: field(1),
                value_size: field(2),
                max_entries: field(3),
                flags: field(4),
                inner: None,
                inner_index: None,
                pinning,
                kind: MapKind::User,
                initial: Vec::new(),
            });
        }
    }
    for (outer, inner, section) in pending_inner {
        let found = match inner {
            InnerRef::Index(i) => Some(i as usize),
            // No template named: lookups in the outer map stay undescribed.
            InnerRef::Id(0) => continue,
            InnerRef::Id(id) => ids
                .iter()
                .find(|&&(m, i)| i == id && m != outer)
                .map(|&(m, _)| m),
        };
        let Some(inner) = found.filter(|&i| i != outer && i < table.maps.len()) else {
            let named = match inner {
                InnerRef::Index(i) => format!("inner map index {i}"),
                InnerRef::Id(id) => format!("inner map id {id}"),
            };
            return Err(ElfError::BadMap {
                section,
                reason: format!(
                    "map {} names {named}, which does not exist",
                    table.maps[outer].name
                ),
            });
        };
        let template = Box::new(table.maps[inner].clone());
        table.maps[outer].inner = Some(template);
        table.maps[outer].inner_index = Some(inner);
    }
    Ok(())
}

fn from_btf(name: String, def: &BtfMap) -> MapDef {
    let of_maps = matches!(def.map_type, MAP_TYPE_ARRAY_OF_MAPS | MAP_TYPE_HASH_OF_MAPS);
    // Map-of-maps and prog arrays hold 4-byte ids: libbpf fills in the value size when the
    // definition gives `values` instead.
    let value_size = def
        .value_size
        .unwrap_or(if of_maps || def.has_values { 4 } else { 0 });
    MapDef {
        name: name.clone(),
        map_type: def.map_type,
        key_size: def.key_size,
        value_size,
        max_entries: def.max_entries,
        flags: def.flags,
        inner: def
            .inner
            .as_deref()
            .map(|inner| Box::new(from_btf(format!("{name}.inner"), inner))),
        inner_index: None,
        pinning: def.pinning,
        kind: MapKind::User,
        initial: Vec::new(),
    }
}

fn btf_maps(elf: &ElfFile<'_>, table: &mut MapTable) -> Result<(), ElfError> {
    let Some((index, section)) = elf
        .sections
        .iter()
        .enumerate()
        .find(|(_, s)| s.name == ".maps")
    else {
        return Ok(());
    };
    let bad = |reason: String| ElfError::BadMap {
        section: ".maps".into(),
        reason,
    };
    let btf_section = elf
        .sections
        .iter()
        .find(|s| s.name == ".BTF")
        .ok_or_else(|| bad("no .BTF section describes the maps".into()))?;
    let btf = Btf::parse(btf_section.data)?;
    let vars = btf.datasec_vars(".maps")?;
    let mut symbols: Vec<_> = elf
        .symbols
        .iter()
        .filter(|s| s.section == Some(index) && !s.is_section() && !s.name.is_empty())
        .collect();
    symbols.sort_by_key(|s| s.value);
    for s in symbols {
        if s.value
            .checked_add(s.size)
            .is_none_or(|end| end > section.size)
        {
            return Err(bad(format!(
                "map symbol {} at {:#x} lies outside the section",
                s.name, s.value
            )));
        }
        let (_, type_id) = vars
            .iter()
            .find(|(name, _)| *name == s.name)
            .ok_or_else(|| {
                bad(format!(
                    "map {} has no BTF variable in DATASEC .maps",
                    s.name
                ))
            })?;
        let def = btf.map_def(*type_id)?;
        table.by_location.insert((index, s.value), table.maps.len());
        table.maps.push(from_btf(s.name.to_string(), &def));
    }
    Ok(())
}

fn data_maps(elf: &ElfFile<'_>, table: &mut MapTable, limits: &Limits) -> Result<(), ElfError> {
    for (index, section) in elf.sections.iter().enumerate() {
        let Some(kind) = data_kind(&section.name) else {
            continue;
        };
        if section.size == 0 || section.is_code() {
            continue;
        }
        if section.size > limits.max_data_section {
            return Err(ElfError::SectionTooLarge {
                section: section.name.to_string(),
                size: section.size,
                limit: limits.max_data_section,
            });
        }
        let value_size = u32::try_from(section.size).map_err(|_| ElfError::BadMap {
            section: section.name.to_string(),
            reason: format!("size {} does not fit a map value", section.size),
        })?;
        let mut flags = BPF_F_MMAPABLE;
        if matches!(kind, MapKind::Rodata { .. }) {
            flags |= BPF_F_RDONLY_PROG;
        }
        let initial = if matches!(kind, MapKind::Bss { .. }) {
            Vec::new()
        } else {
            section.data.to_vec()
        };
        table.data_sections.insert(index, table.maps.len());
        table.maps.push(MapDef {
            name: section.name.to_string(),
            map_type: MAP_TYPE_ARRAY,
            key_size: 4,
            value_size,
            max_entries: 1,
            flags,
            inner: None,
            inner_index: None,
            pinning: 0,
            kind,
            initial,
        });
    }
    Ok(())
}
