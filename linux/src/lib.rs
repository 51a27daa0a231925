//! The Linux eBPF ABI as apiary needs it, written once: program types with libbpf's section
//! names ([`program_type`]), the context each type receives ([`context`]), Linux's whole helper
//! list with the program types the kernel lets call each helper ([`helpers`]), and map types
//! ([`map_types`]).
//!
//! Why a crate of its own, below all others: the ELF loader resolves helper names and section
//! types, the verifier checks contexts and helper permissions, the runtime builds contexts and
//! registers helpers, and the CLI names types. When each kept its own table they drifted apart
//! (`apiary verify` and `apiary run` chose different types for one program). This crate has no
//! dependencies and no behaviour beyond lookups, so every layer can read it.

pub mod context;
pub mod helpers;
pub mod map_types;
pub mod program_type;

pub use context::{CtxDescriptor, RunContext, TypeInfo};
pub use helpers::{helper, helper_id, helper_name, id as helper_ids, Helper, HELPERS};
pub use map_types::{map_type, map_type_info, map_type_name, MapTypeInfo, MAP_TYPES};
pub use program_type::{Match, ProgramType, SectionDef, TypeSet, SECTION_DEFS};
