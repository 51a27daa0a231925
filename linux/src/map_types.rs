//! Linux map types (`enum bpf_map_type`, ids 0..=33) and the properties of each that the
//! loader, verifier and runtime read.

/// Map type ids by name (`map_type::HASH` = 1).
pub mod map_type {
    #[doc = "`BPF_MAP_TYPE_UNSPEC`."]
    pub const UNSPEC: u32 = 0;
    #[doc = "`BPF_MAP_TYPE_HASH`."]
    pub const HASH: u32 = 1;
    #[doc = "`BPF_MAP_TYPE_ARRAY`."]
    pub const ARRAY: u32 = 2;
    #[doc = "`BPF_MAP_TYPE_PROG_ARRAY`."]
    pub const PROG_ARRAY: u32 = 3;
    #[doc = "`BPF_MAP_TYPE_PERF_EVENT_ARRAY`."]
    pub const PERF_EVENT_ARRAY: u32 = 4;
    #[doc = "`BPF_MAP_TYPE_PERCPU_HASH`."]
    pub const PERCPU_HASH: u32 = 5;
    #[doc = "`BPF_MAP_TYPE_PERCPU_ARRAY`."]
    pub const PERCPU_ARRAY: u32 = 6;
    #[doc = "`BPF_MAP_TYPE_STACK_TRACE`."]
    pub const STACK_TRACE: u32 = 7;
    #[doc = "`BPF_MAP_TYPE_CGROUP_ARRAY`."]
    pub const CGROUP_ARRAY: u32 = 8;
    #[doc = "`BPF_MAP_TYPE_LRU_HASH`."]
    pub const LRU_HASH: u32 = 9;
    #[doc = "`BPF_MAP_TYPE_LRU_PERCPU_HASH`."]
    pub const LRU_PERCPU_HASH: u32 = 10;
    #[doc = "`BPF_MAP_TYPE_LPM_TRIE`."]
    pub const LPM_TRIE: u32 = 11;
    #[doc = "`BPF_MAP_TYPE_ARRAY_OF_MAPS`."]
    pub const ARRAY_OF_MAPS: u32 = 12;
    #[doc = "`BPF_MAP_TYPE_HASH_OF_MAPS`."]
    pub const HASH_OF_MAPS: u32 = 13;
    #[doc = "`BPF_MAP_TYPE_DEVMAP`."]
    pub const DEVMAP: u32 = 14;
    #[doc = "`BPF_MAP_TYPE_SOCKMAP`."]
    pub const SOCKMAP: u32 = 15;
    #[doc = "`BPF_MAP_TYPE_CPUMAP`."]
    pub const CPUMAP: u32 = 16;
    #[doc = "`BPF_MAP_TYPE_XSKMAP`."]
    pub const XSKMAP: u32 = 17;
    #[doc = "`BPF_MAP_TYPE_SOCKHASH`."]
    pub const SOCKHASH: u32 = 18;
    #[doc = "`BPF_MAP_TYPE_CGROUP_STORAGE`."]
    pub const CGROUP_STORAGE: u32 = 19;
    #[doc = "`BPF_MAP_TYPE_REUSEPORT_SOCKARRAY`."]
    pub const REUSEPORT_SOCKARRAY: u32 = 20;
    #[doc = "`BPF_MAP_TYPE_PERCPU_CGROUP_STORAGE`."]
    pub const PERCPU_CGROUP_STORAGE: u32 = 21;
    #[doc = "`BPF_MAP_TYPE_QUEUE`."]
    pub const QUEUE: u32 = 22;
    #[doc = "`BPF_MAP_TYPE_STACK`."]
    pub const STACK: u32 = 23;
    #[doc = "`BPF_MAP_TYPE_SK_STORAGE`."]
    pub const SK_STORAGE: u32 = 24;
    #[doc = "`BPF_MAP_TYPE_DEVMAP_HASH`."]
    pub const DEVMAP_HASH: u32 = 25;
    #[doc = "`BPF_MAP_TYPE_STRUCT_OPS`."]
    pub const STRUCT_OPS: u32 = 26;
    #[doc = "`BPF_MAP_TYPE_RINGBUF`."]
    pub const RINGBUF: u32 = 27;
    #[doc = "`BPF_MAP_TYPE_INODE_STORAGE`."]
    pub const INODE_STORAGE: u32 = 28;
    #[doc = "`BPF_MAP_TYPE_TASK_STORAGE`."]
    pub const TASK_STORAGE: u32 = 29;
    #[doc = "`BPF_MAP_TYPE_BLOOM_FILTER`."]
    pub const BLOOM_FILTER: u32 = 30;
    #[doc = "`BPF_MAP_TYPE_USER_RINGBUF`."]
    pub const USER_RINGBUF: u32 = 31;
    #[doc = "`BPF_MAP_TYPE_CGRP_STORAGE`."]
    pub const CGRP_STORAGE: u32 = 32;
    #[doc = "`BPF_MAP_TYPE_ARENA`."]
    pub const ARENA: u32 = 33;
}

/// What apiary needs to know of one map type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MapTypeInfo {
    /// The `enum bpf_map_type` value.
    pub id: u32,
    /// libbpf's name (`libbpf_bpf_map_type_str`): `hash`, `array`, `ringbuf`, ...
    pub name: &'static str,
    /// Each CPU has its own value (a lookup sees the current CPU's).
    pub per_cpu: bool,
    /// Values are maps (a lookup returns an inner map).
    pub of_maps: bool,
    /// Programs pass no key (queues, stacks, bloom filters, ring buffers, arenas).
    pub keyless: bool,
}

/// Every map type, in id order (entry `i` is type `i`).
pub static MAP_TYPES: &[MapTypeInfo] = &[
    MapTypeInfo {
        id: map_type::UNSPEC,
        name: "unspec",
        per_cpu: false,
        of_maps: false,
        keyless: false,
    },
    MapTypeInfo {
        id: map_type::HASH,
        name: "hash",
        per_cpu: false,
        of_maps: false,
        keyless: false,
    },
    MapTypeInfo {
        id: map_type::ARRAY,
        name: "array",
        per_cpu: false,
        of_maps: false,
        keyless: false,
    },
    MapTypeInfo {
        id: map_type::PROG_ARRAY,
        name: "prog_array",
        per_cpu: false,
        of_maps: false,
        keyless: false,
    },
    MapTypeInfo {
        id: map_type::PERF_EVENT_ARRAY,
        name: "perf_event_array",
        per_cpu: false,
        of_maps: false,
        keyless: false,
    },
    MapTypeInfo {
        id: map_type::PERCPU_HASH,
        name: "percpu_hash",
        per_cpu: true,
        of_maps: false,
        keyless: false,
    },
    MapTypeInfo {
        id: map_type::PERCPU_ARRAY,
        name: "percpu_array",
        per_cpu: true,
        of_maps: false,
        keyless: false,
    },
    MapTypeInfo {
        id: map_type::STACK_TRACE,
        name: "stack_trace",
        per_cpu: false,
        of_maps: false,
        keyless: false,
    },
    MapTypeInfo {
        id: map_type::CGROUP_ARRAY,
        name: "cgroup_array",
        per_cpu: false,
        of_maps: false,
        keyless: false,
    },
    MapTypeInfo {
        id: map_type::LRU_HASH,
        name: "lru_hash",
        per_cpu: false,
        of_maps: false,
        keyless: false,
    },
    MapTypeInfo {
        id: map_type::LRU_PERCPU_HASH,
        name: "lru_percpu_hash",
        per_cpu: true,
        of_maps: false,
        keyless: false,
    },
    MapTypeInfo {
        id: map_type::LPM_TRIE,
        name: "lpm_trie",
        per_cpu: false,
        of_maps: false,
        keyless: false,
    },
    MapTypeInfo {
        id: map_type::ARRAY_OF_MAPS,
        name: "array_of_maps",
        per_cpu: false,
        of_maps: true,
        keyless: false,
    },
    MapTypeInfo {
        id: map_type::HASH_OF_MAPS,
        name: "hash_of_maps",
        per_cpu: false,
        of_maps: true,
        keyless: false,
    },
    MapTypeInfo {
        id: map_type::DEVMAP,
        name: "devmap",
        per_cpu: false,
        of_maps: false,
        keyless: false,
    },
    MapTypeInfo {
        id: map_type::SOCKMAP,
        name: "sockmap",
        per_cpu: false,
        of_maps: false,
        keyless: false,
    },
    MapTypeInfo {
        id: map_type::CPUMAP,
        name: "cpumap",
        per_cpu: false,
        of_maps: false,
        keyless: false,
    },
    MapTypeInfo {
        id: map_type::XSKMAP,
        name: "xskmap",
        per_cpu: false,
        of_maps: false,
        keyless: false,
    },
    MapTypeInfo {
        id: map_type::SOCKHASH,
        name: "sockhash",
        per_cpu: false,
        of_maps: false,
        keyless: false,
    },
    MapTypeInfo {
        id: map_type::CGROUP_STORAGE,
        name: "cgroup_storage",
        per_cpu: false,
        of_maps: false,
        keyless: false,
    },
    MapTypeInfo {
        id: map_type::REUSEPORT_SOCKARRAY,
        name: "reuseport_sockarray",
        per_cpu: false,
        of_maps: false,
        keyless: false,
    },
    MapTypeInfo {
        id: map_type::PERCPU_CGROUP_STORAGE,
        name: "percpu_cgroup_storage",
        per_cpu: true,
        of_maps: false,
        keyless: false,
    },
    MapTypeInfo {
        id: map_type::QUEUE,
        name: "queue",
        per_cpu: false,
        of_maps: false,
        keyless: true,
    },
    MapTypeInfo {
        id: map_type::STACK,
        name: "stack",
        per_cpu: false,
        of_maps: false,
        keyless: true,
    },
    MapTypeInfo {
        id: map_type::SK_STORAGE,
        name: "sk_storage",
        per_cpu: false,
        of_maps: false,
        keyless: false,
    },
    MapTypeInfo {
        id: map_type::DEVMAP_HASH,
        name: "devmap_hash",
        per_cpu: false,
        of_maps: false,
        keyless: false,
    },
    MapTypeInfo {
        id: map_type::STRUCT_OPS,
        name: "struct_ops",
        per_cpu: false,
        of_maps: false,
        keyless: false,
    },
    MapTypeInfo {
        id: map_type::RINGBUF,
        name: "ringbuf",
        per_cpu: false,
        of_maps: false,
        keyless: true,
    },
    MapTypeInfo {
        id: map_type::INODE_STORAGE,
        name: "inode_storage",
        per_cpu: false,
        of_maps: false,
        keyless: false,
    },
    MapTypeInfo {
        id: map_type::TASK_STORAGE,
        name: "task_storage",
        per_cpu: false,
        of_maps: false,
        keyless: false,
    },
    MapTypeInfo {
        id: map_type::BLOOM_FILTER,
        name: "bloom_filter",
        per_cpu: false,
        of_maps: false,
        keyless: true,
    },
    MapTypeInfo {
        id: map_type::USER_RINGBUF,
        name: "user_ringbuf",
        per_cpu: false,
        of_maps: false,
        keyless: true,
    },
    MapTypeInfo {
        id: map_type::CGRP_STORAGE,
        name: "cgrp_storage",
        per_cpu: false,
        of_maps: false,
        keyless: false,
    },
    MapTypeInfo {
        id: map_type::ARENA,
        name: "arena",
        per_cpu: false,
        of_maps: false,
        keyless: true,
    },
];

/// The type with id `id`.
#[must_use]
pub fn map_type_info(id: u32) -> Option<&'static MapTypeInfo> {
    MAP_TYPES.get(usize::try_from(id).ok()?)
}

/// libbpf's name of map type `id`.
#[must_use]
pub fn map_type_name(id: u32) -> Option<&'static str> {
    map_type_info(id).map(|m| m.name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dense_and_named() {
        for (i, m) in MAP_TYPES.iter().enumerate() {
            assert_eq!(m.id as usize, i, "{}", m.name);
        }
        assert_eq!(map_type_name(map_type::RINGBUF), Some("ringbuf"));
        assert_eq!(map_type_name(34), None);
        assert!(map_type_info(map_type::HASH_OF_MAPS).is_some_and(|m| m.of_maps));
        assert!(map_type_info(map_type::PERCPU_ARRAY).is_some_and(|m| m.per_cpu));
    }
}
