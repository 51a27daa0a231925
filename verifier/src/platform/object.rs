//! The verifier's view of an ELF object's maps. Every place that verifies a loaded object (the
//! facade, the CLI, the corpus benches and tests) needs the same conversion, so it lives next to
//! [`MapInfo`]: what makes a map read-only for programs is decided once.

use apiary_elf::maps::BPF_F_RDONLY_PROG;
use apiary_elf::{MapDef, MapKind, Object};

use super::MapInfo;

impl From<&MapDef> for MapInfo {
    /// A map definition as the verifier sees it: `.rodata` sections and maps with
    /// `BPF_F_RDONLY_PROG` are read-only; a `.rodata` section's bytes are known (constant
    /// strings may point into it).
    fn from(m: &MapDef) -> Self {
        let rodata = matches!(m.kind, MapKind::Rodata { .. });
        Self {
            map_type: m.map_type,
            key_size: m.key_size,
            value_size: m.value_size,
            max_entries: m.max_entries,
            flags: m.flags,
            readonly: rodata || m.flags & BPF_F_RDONLY_PROG != 0,
            last_nul: if rodata && m.max_entries == 1 {
                // Section bytes past the file's data are zero.
                let n = m.value_size as usize;
                if m.initial.len() < n {
                    Some(m.value_size - 1)
                } else {
                    m.initial[..n]
                        .iter()
                        .rposition(|&b| b == 0)
                        .map(|i| i as u32)
                }
            } else {
                None
            },
        }
    }
}

/// Every map of an object, in the object's map order (the index an `lddw` src 5/6 carries).
#[must_use]
pub fn map_infos(object: &Object) -> Vec<MapInfo> {
    object.maps.iter().map(MapInfo::from).collect()
}

/// For every map of maps of an object (by index in its map table), the description of the maps
/// it holds: what the verifier needs to type a lookup's result (`Options::inner_maps`).
#[must_use]
pub fn inner_maps(object: &Object) -> Vec<(u32, MapInfo)> {
    object
        .maps
        .iter()
        .enumerate()
        .filter_map(|(i, m)| Some((u32::try_from(i).ok()?, MapInfo::from(m.inner.as_deref()?))))
        .collect()
}
