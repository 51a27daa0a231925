//! Linux helper ids and names, from the Linux catalogue ([`apiary_linux::helpers`]).
//!
//! clang objects may call a helper through an undefined symbol (`extern` declaration) instead
//! of a constant id; the ELF loader resolves those names there. The disassembler and tools use
//! the reverse direction. Only the Linux numbering is listed: other platforms (e.g.
//! ebpf-for-windows) number helpers differently and need their own table.

pub use apiary_linux::helpers::{helper, helper_id, helper_name, Helper, HELPERS};
