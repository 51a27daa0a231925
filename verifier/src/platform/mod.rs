//! What the verifier is told about the world outside the program: the program type (its context
//! layout and privilege), the helpers (prototypes by id), and the maps.

pub mod helpers;
pub mod linux;
pub mod types;

use std::collections::{BTreeMap, BTreeSet};

pub use helpers::{Arg, HelperProto, Ret};

use crate::RejectReason;
pub use types::{CtxDescriptor, CtxKind, ProgramType};

/// Linux map type ids (the catalogue's, [`apiary_linux::map_types`]).
pub use apiary_linux::map_type;

/// A map, as the caller describes it. Indexed by the `lddw` map index (src 5/6), or by the
/// `imm` of a src 1 "map fd" load, which is treated as an index into the same table.
/// Global data sections are single-element array maps (value_size = section size).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct MapInfo {
    /// Linux map type id.
    pub map_type: u32,
    /// Key size in bytes.
    pub key_size: u32,
    /// Value size in bytes.
    pub value_size: u32,
    /// Maximum number of entries.
    pub max_entries: u32,
    /// Map flags (informational).
    pub flags: u32,
    /// Whether the program may not write map values (`.rodata`, frozen maps).
    pub readonly: bool,
    /// For a read-only map of one value whose bytes are known when the program is verified
    /// (`.rodata`): the offset of the last NUL byte of that value. A constant-string helper
    /// argument (`bpf_strncmp`, `bpf_snprintf`'s format) must point into such a value at or
    /// before it, so that the helper, which reads up to a NUL, stays inside the value. `None`:
    /// no constant strings in this map.
    pub last_nul: Option<u32>,
}

/// A helper table by id, plus platform-wide settings.
#[derive(Clone, Debug, Default)]
pub struct Platform {
    helpers: BTreeMap<u32, HelperProto>,
    /// Linux's per-program-type helper rules apply (to the helpers not set by the embedder).
    linux: bool,
    /// Helpers set with [`Platform::set_helper`]: callable from every type.
    custom: BTreeSet<u32>,
    /// Linux prototypes that BTF-typed program types see instead ([`linux::btf_typed_table`]).
    btf_typed: BTreeMap<u32, HelperProto>,
}

impl Platform {
    /// A platform with no helpers.
    #[must_use]
    pub fn empty() -> Self {
        Self::default()
    }

    /// Linux helper ids and prototypes (the subset in [`linux::helper_table`]).
    #[must_use]
    pub fn linux() -> Self {
        let mut p = Self::empty();
        for (id, proto) in linux::helper_table() {
            p.helpers.insert(id, proto);
        }
        p.btf_typed = linux::btf_typed_table().into_iter().collect();
        p.linux = true;
        p
    }

    /// The helpers of the bpf_conformance suite (uBPF ids 0–5).
    #[must_use]
    pub fn conformance() -> Self {
        let mut p = Self::empty();
        for (id, proto) in linux::conformance_table() {
            p.helpers.insert(id, proto);
        }
        p
    }

    /// Adds or replaces a helper.
    pub fn set_helper(&mut self, id: u32, proto: HelperProto) -> &mut Self {
        self.helpers.insert(id, proto);
        self.custom.insert(id);
        self
    }

    /// Whether a program of type `ptype` (its name) may call helper `id`: on the Linux
    /// platform, as the catalogue's helper list says for a Linux type name
    /// ([`apiary_linux::Helper::allowed`]); types of other names (`mem`, an embedder's) may
    /// call every helper, as may every type the helpers set with [`Platform::set_helper`].
    #[must_use]
    pub fn allowed(&self, ptype: &str, id: u32) -> bool {
        if !self.linux || self.custom.contains(&id) {
            return true;
        }
        match apiary_linux::ProgramType::from_name(ptype) {
            Some(t) => apiary_linux::helper(id).is_some_and(|h| h.allowed_for(t)),
            None => true,
        }
    }

    /// Why a call to helper `id`, which has no prototype here, is refused: a Linux helper
    /// apiary has no prototype for is named ([`RejectReason::NoPrototype`]); any other id is
    /// unknown.
    #[must_use]
    pub fn missing(&self, id: u32) -> RejectReason {
        match apiary_linux::helper(id).filter(|_| self.linux) {
            Some(h) => RejectReason::NoPrototype { id, helper: h.name },
            None => RejectReason::UnknownHelper { id },
        }
    }

    /// The prototype of helper `id`.
    #[must_use]
    pub fn helper(&self, id: u32) -> Option<&HelperProto> {
        self.helpers.get(&id)
    }

    /// The prototype of helper `id` as a program of type `ptype` (its name) sees it: Linux
    /// gives a few helpers another prototype in BTF-typed types (`tracing`, `lsm`), where they
    /// take a kernel object instead of the context ([`linux::btf_typed_table`]). A helper the
    /// embedder set keeps its one prototype.
    #[must_use]
    pub fn helper_for(&self, ptype: &str, id: u32) -> Option<&HelperProto> {
        if !self.custom.contains(&id) && matches!(ptype, "tracing" | "lsm" | "struct_ops" | "ext") {
            if let Some(p) = self.btf_typed.get(&id) {
                return Some(p);
            }
        }
        self.helper(id)
    }
}
