//! CO-RE ("compile once, run everywhere") relocations, resolved as libbpf's `relo_core.c` does.
//!
//! clang records in `.BTF.ext` each instruction whose constant depends on a kernel type layout:
//! an access string (`0:1:2`: array index on the root type, then member or array indices)
//! against a type of the object's own BTF. Each is resolved against a target BTF (the running
//! kernel's `/sys/kernel/btf/vmlinux`, or a file given with `--btf`):
//!
//! - candidates are the target types of the same kind whose name equals the local name with its
//!   `___flavor` suffix stripped;
//! - a field access is matched member by member, by name, through anonymous members, with
//!   compatible field types (libbpf's `bpf_core_fields_are_compat`); all matching candidates
//!   must agree;
//! - the value (byte offset/size, existence, signedness, bitfield shifts, type ids, type
//!   existence/size/match, enumerator existence/value) is written into the instruction: an ALU
//!   immediate, a load/store offset (and size, when the field's size changed), or an `lddw`
//!   constant.
//!
//! A relocation that cannot be resolved is, as in libbpf, poisoned: an `*_EXISTS`/`TYPE_MATCHES`
//! one gets 0; any other turns its instruction into `call 0xbad2310`, which the verifier
//! rejects only if it is reachable, so relocations guarded by `bpf_core_field_exists()` and the
//! like cost nothing, and an unguarded one fails its program alone.

use std::collections::HashMap;
use std::sync::Arc;

use apiary_vm::insn::Insn;

use crate::btf::{kind, Btf, Detail, Type};
use crate::error::ElfError;
use crate::relocate::CodeSection;
use crate::sections::{string_at, ElfFile};

/// libbpf's poison helper id for instructions whose relocation failed.
pub const POISON: i32 = 0x0bad_2310;

/// `enum bpf_core_relo_kind`.
mod relo {
    pub const FIELD_BYTE_OFFSET: u32 = 0;
    pub const FIELD_BYTE_SIZE: u32 = 1;
    pub const FIELD_EXISTS: u32 = 2;
    pub const FIELD_SIGNED: u32 = 3;
    pub const FIELD_LSHIFT_U64: u32 = 4;
    pub const FIELD_RSHIFT_U64: u32 = 5;
    pub const TYPE_ID_LOCAL: u32 = 6;
    pub const TYPE_ID_TARGET: u32 = 7;
    pub const TYPE_EXISTS: u32 = 8;
    pub const TYPE_SIZE: u32 = 9;
    pub const ENUMVAL_EXISTS: u32 = 10;
    pub const ENUMVAL_VALUE: u32 = 11;
    pub const TYPE_MATCHES: u32 = 12;
}

/// Deepest nesting followed when comparing types.
const MAX_DEPTH: usize = 32;
/// Type visits allowed per relocation: nesting is bounded by [`MAX_DEPTH`], but fan-out (many
/// anonymous members, many prototype parameters) could make a hostile BTF exponential.
const FUEL: u32 = 100_000;

thread_local! {
    static FUEL_LEFT: std::cell::Cell<u32> = const { std::cell::Cell::new(FUEL) };
}

/// Spends one type visit of the current relocation's budget; false once it is spent.
fn burn() -> bool {
    FUEL_LEFT.with(|f| {
        let left = f.get();
        f.set(left.saturating_sub(1));
        left > 0
    })
}

/// A target BTF: the bytes, its parsed types, and the type ids by essential name.
pub struct TargetBtf {
    bytes: Arc<[u8]>,
    /// Range of the string section within `bytes`.
    strings: std::ops::Range<usize>,
    types: Vec<Type>,
    by_name: HashMap<String, Vec<u32>>,
}

impl std::fmt::Debug for TargetBtf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "TargetBtf({} types, {} bytes)",
            self.types.len(),
            self.bytes.len()
        )
    }
}

impl TargetBtf {
    /// Parses raw BTF (as `/sys/kernel/btf/vmlinux`) or an ELF file with a `.BTF` section.
    ///
    /// # Errors
    /// [`ElfError::BadBtf`] (or an ELF error) naming what is wrong.
    pub fn parse(bytes: Arc<[u8]>) -> Result<Self, ElfError> {
        let range = if bytes.starts_with(b"\x7fELF") {
            btf_section_of_elf(&bytes)?
        } else {
            0..bytes.len()
        };
        let (types, strings) = {
            let btf = Btf::parse(&bytes[range.clone()])?;
            let base = bytes.as_ptr() as usize;
            let start = btf.strings.as_ptr() as usize - base;
            (btf.types.into_owned(), start..start + btf.strings.len())
        };
        let mut by_name: HashMap<String, Vec<u32>> = HashMap::new();
        let strs = &bytes[strings.clone()];
        for (id, t) in types.iter().enumerate() {
            if t.name_off == 0 {
                continue;
            }
            if let Some(name) = string_at(strs, t.name_off as usize) {
                by_name
                    .entry(essential(&name).to_owned())
                    .or_default()
                    .push(id as u32);
            }
        }
        Ok(Self {
            bytes,
            strings,
            types,
            by_name,
        })
    }

    fn btf(&self) -> Btf<'_> {
        Btf {
            types: std::borrow::Cow::Borrowed(&self.types),
            strings: &self.bytes[self.strings.clone()],
        }
    }
}

/// The `.BTF` section of an ELF file (any machine), by its file range.
fn btf_section_of_elf(bytes: &[u8]) -> Result<std::ops::Range<usize>, ElfError> {
    let bad = |reason: &str| ElfError::BadBtf {
        offset: 0,
        reason: format!("target BTF ELF file: {reason}"),
    };
    let elf = goblin::elf::Elf::parse(bytes).map_err(|e| bad(&e.to_string()))?;
    for sh in &elf.section_headers {
        if elf.shdr_strtab.get_at(sh.sh_name) == Some(".BTF") {
            let start = sh.sh_offset as usize;
            let end = start
                .checked_add(sh.sh_size as usize)
                .filter(|&e| e <= bytes.len())
                .ok_or_else(|| bad(".BTF lies outside the file"))?;
            return Ok(start..end);
        }
    }
    Err(bad("no .BTF section"))
}

/// A name without its `___flavor` suffix (libbpf's `bpf_core_essential_name_len`).
fn essential(name: &str) -> &str {
    let b = name.as_bytes();
    let n = b.len();
    if n >= 5 {
        for i in (0..=n - 5).rev() {
            if b[i] != b'_' && &b[i + 1..i + 4] == b"___" && b[i + 4] != b'_' {
                return &name[..=i];
            }
        }
    }
    name
}

/// One `.BTF.ext` CO-RE record.
#[derive(Clone, Debug)]
struct Record {
    section: String,
    insn_off: u32,
    type_id: u32,
    access: String,
    kind: u32,
}

fn bad_ext(offset: usize, reason: impl Into<String>) -> ElfError {
    ElfError::BadBtf {
        offset,
        reason: format!(".BTF.ext: {}", reason.into()),
    }
}

fn u32_at(b: &[u8], at: usize) -> Result<u32, ElfError> {
    at.checked_add(4)
        .and_then(|end| b.get(at..end))
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or_else(|| bad_ext(at, "truncated"))
}

/// The CO-RE records of `.BTF.ext` (none when it has no CO-RE part).
fn records(ext: &[u8], local: &Btf<'_>) -> Result<Vec<Record>, ElfError> {
    if ext.len() < 8 || u32_at(ext, 0)? & 0xffff != 0xeb9f {
        return Err(bad_ext(0, "bad header"));
    }
    let hdr_len = u32_at(ext, 4)? as usize;
    if hdr_len < 32 {
        return Ok(Vec::new());
    }
    let off = u32_at(ext, 24)? as usize;
    let len = u32_at(ext, 28)? as usize;
    let start = hdr_len
        .checked_add(off)
        .ok_or_else(|| bad_ext(24, "overflow"))?;
    let area = start
        .checked_add(len)
        .and_then(|end| ext.get(start..end))
        .ok_or_else(|| bad_ext(24, "CO-RE area outside the section"))?;
    if area.is_empty() {
        return Ok(Vec::new());
    }
    let rec_size = u32_at(area, 0)? as usize;
    if rec_size < 16 {
        return Err(bad_ext(start, format!("record size {rec_size}")));
    }
    let mut out = Vec::new();
    let mut at = 4;
    while at < area.len() {
        let section = local.name(u32_at(area, at)?)?.into_owned();
        let n = u32_at(area, at + 4)? as usize;
        at += 8;
        let end = n
            .checked_mul(rec_size)
            .and_then(|l| l.checked_add(at))
            .filter(|&e| e <= area.len())
            .ok_or_else(|| bad_ext(start + at, "records outside the section"))?;
        while at < end {
            out.push(Record {
                section: section.clone(),
                insn_off: u32_at(area, at)?,
                type_id: u32_at(area, at + 4)?,
                access: local.name(u32_at(area, at + 8)?)?.into_owned(),
                kind: u32_at(area, at + 12)?,
            });
            at += rec_size;
        }
    }
    Ok(out)
}

/// A resolved field access: the field's type, its bit offset from the root, and its bitfield
/// size (0 for a whole field).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Field {
    type_id: u32,
    bit_off: u64,
    bitfield: u32,
}

/// One step of a local access, as matched on a target.
enum Step {
    /// An array index.
    Index(u64),
    /// A named member (name, its local type).
    Member(String, u32),
}

fn get<'b>(btf: &'b Btf<'_>, id: u32) -> Option<&'b Type> {
    btf.types.get(id as usize)
}

fn skip<'b>(btf: &'b Btf<'_>, id: u32) -> Option<(u32, &'b Type)> {
    let id = btf.skip_modifiers(id).ok()?;
    Some((id, get(btf, id)?))
}

fn name_of(btf: &Btf<'_>, t: &Type) -> String {
    btf.name(t.name_off)
        .map(|c| c.into_owned())
        .unwrap_or_default()
}

fn size_of(btf: &Btf<'_>, id: u32) -> Option<u64> {
    btf.size_of(id).ok()
}

fn is_composite(t: &Type) -> bool {
    t.kind == kind::STRUCT || t.kind == kind::UNION
}

/// The local access: parsed indices, the steps to match, and the local field.
fn local_field(btf: &Btf<'_>, root: u32, access: &[u64]) -> Option<(Vec<Step>, Field)> {
    let (&first, rest) = access.split_first()?;
    let mut id = root;
    let mut bit_off = first.checked_mul(size_of(btf, root)?.checked_mul(8)?)?;
    let mut bitfield = 0;
    let mut steps = vec![Step::Index(first)];
    for &i in rest {
        let (tid, t) = skip(btf, id)?;
        match &t.detail {
            Detail::Members(members) if is_composite(t) => {
                let m = members.get(usize::try_from(i).ok()?)?;
                let (off, bits) = member_offset(t, m.offset);
                bit_off = bit_off.checked_add(off)?;
                bitfield = bits;
                let name = btf.name(m.name_off).ok()?;
                if !name.is_empty() {
                    steps.push(Step::Member(name.into_owned(), m.type_id));
                }
                id = m.type_id;
            }
            Detail::Array { elem, .. } if t.kind == kind::ARRAY => {
                let _ = tid;
                bit_off =
                    bit_off.checked_add(i.checked_mul(size_of(btf, *elem)?.checked_mul(8)?)?)?;
                steps.push(Step::Index(i));
                id = *elem;
                bitfield = 0;
            }
            _ => return None,
        }
    }
    Some((
        steps,
        Field {
            type_id: id,
            bit_off,
            bitfield,
        },
    ))
}

/// A member's bit offset and bitfield size.
fn member_offset(parent: &Type, raw: u32) -> (u64, u32) {
    if parent.kflag {
        (u64::from(raw & 0x00ff_ffff), raw >> 24)
    } else {
        (u64::from(raw), 0)
    }
}

/// Finds member `name` in composite `id` of the target, through anonymous members; returns the
/// member's type, its bit offset within `id`, and its bitfield size.
fn find_member(btf: &Btf<'_>, id: u32, name: &str, depth: usize) -> Option<(u32, u64, u32)> {
    if depth > MAX_DEPTH || !burn() {
        return None;
    }
    let (_, t) = skip(btf, id)?;
    let Detail::Members(members) = &t.detail else {
        return None;
    };
    for m in members {
        let (off, bits) = member_offset(t, m.offset);
        let mname = btf.name(m.name_off).ok()?;
        if mname.is_empty() {
            if let Some((_, mt)) = skip(btf, m.type_id) {
                if is_composite(mt) {
                    if let Some((ty, inner, b)) = find_member(btf, m.type_id, name, depth + 1) {
                        return Some((ty, off + inner, b));
                    }
                }
            }
        } else if mname == name {
            return Some((m.type_id, off, bits));
        }
    }
    None
}

/// libbpf's `bpf_core_fields_are_compat`.
fn fields_compat(l: &Btf<'_>, lid: u32, t: &Btf<'_>, tid: u32, depth: usize) -> bool {
    if depth > MAX_DEPTH || !burn() {
        return false;
    }
    let (Some((_, lt)), Some((_, tt))) = (skip(l, lid), skip(t, tid)) else {
        return false;
    };
    if is_composite(lt) && is_composite(tt) {
        return true;
    }
    let enumish = |k| k == kind::ENUM || k == kind::ENUM64;
    if lt.kind != tt.kind && !(enumish(lt.kind) && enumish(tt.kind)) {
        return false;
    }
    match (lt.kind, &lt.detail, &tt.detail) {
        (kind::PTR | kind::FLOAT, _, _) => true,
        (kind::FWD | kind::ENUM | kind::ENUM64, _, _) => {
            let (a, b) = (name_of(l, lt), name_of(t, tt));
            a.is_empty() || b.is_empty() || essential(&a) == essential(&b)
        }
        (kind::INT, Detail::Int(a), Detail::Int(b)) => {
            (a >> 16) & 0xff == 0 && (b >> 16) & 0xff == 0
        }
        (kind::ARRAY, Detail::Array { elem: a, .. }, Detail::Array { elem: b, .. }) => {
            fields_compat(l, *a, t, *b, depth + 1)
        }
        _ => false,
    }
}

/// libbpf's `bpf_core_types_are_compat` (for type-based relocations).
fn types_compat(l: &Btf<'_>, lid: u32, t: &Btf<'_>, tid: u32, depth: usize) -> bool {
    if depth > MAX_DEPTH || !burn() {
        return false;
    }
    let (Some((_, lt)), Some((_, tt))) = (skip(l, lid), skip(t, tid)) else {
        return false;
    };
    let enumish = |k| k == kind::ENUM || k == kind::ENUM64;
    if lt.kind != tt.kind && !(enumish(lt.kind) && enumish(tt.kind)) {
        return false;
    }
    match (lt.kind, &lt.detail, &tt.detail) {
        (
            kind::STRUCT | kind::UNION | kind::FWD | kind::ENUM | kind::ENUM64 | kind::FLOAT,
            _,
            _,
        ) => essential(&name_of(l, lt)) == essential(&name_of(t, tt)),
        (kind::INT, Detail::Int(a), Detail::Int(b)) => {
            (a >> 16) & 0xff == 0 && (b >> 16) & 0xff == 0
        }
        (kind::PTR, _, _) => types_compat(l, lt.size_or_type, t, tt.size_or_type, depth + 1),
        (kind::ARRAY, Detail::Array { elem: a, .. }, Detail::Array { elem: b, .. }) => {
            types_compat(l, *a, t, *b, depth + 1)
        }
        (kind::FUNC_PROTO, Detail::Params(a), Detail::Params(b)) => {
            a.len() == b.len()
                && types_compat(l, lt.size_or_type, t, tt.size_or_type, depth + 1)
                && a.iter()
                    .zip(b)
                    .all(|(x, y)| types_compat(l, *x, t, *y, depth + 1))
        }
        _ => false,
    }
}

/// libbpf's `bpf_core_types_match` (TYPE_MATCHES), here: compatible, and for a composite every
/// local member exists in the target by name with a matching type.
fn types_match(l: &Btf<'_>, lid: u32, t: &Btf<'_>, tid: u32, depth: usize) -> bool {
    if !types_compat(l, lid, t, tid, depth) {
        return false;
    }
    let (Some((_, lt)), Some((ttid, tt))) = (skip(l, lid), skip(t, tid)) else {
        return false;
    };
    match (&lt.detail, &tt.detail) {
        (Detail::Members(lm), Detail::Members(_)) => lm.iter().all(|m| {
            let name = l
                .name(m.name_off)
                .map(|c| c.into_owned())
                .unwrap_or_default();
            find_member(t, ttid, &name, 0).is_some_and(|(mt, _, _)| {
                depth < MAX_DEPTH && types_match(l, m.type_id, t, mt, depth + 1)
            })
        }),
        (Detail::Enum(lv), Detail::Enum(tv)) => lv.iter().all(|(n, _)| {
            let name = l.name(*n).unwrap_or_default();
            tv.iter()
                .any(|(tn, _)| t.name(*tn).is_ok_and(|x| x == name))
        }),
        _ => true,
    }
}

/// Matches the local steps on target root `troot`: the target field, if every step matches.
fn target_field(l: &Btf<'_>, steps: &[Step], t: &Btf<'_>, troot: u32) -> Option<Field> {
    let mut id = troot;
    let mut bit_off = 0u64;
    let mut bitfield = 0;
    for (n, step) in steps.iter().enumerate() {
        match step {
            Step::Index(i) if n == 0 => {
                bit_off = i.checked_mul(size_of(t, troot)?.checked_mul(8)?)?;
            }
            Step::Index(i) => {
                let (_, tt) = skip(t, id)?;
                let Detail::Array { elem, nelems } = tt.detail else {
                    return None;
                };
                if nelems != 0 && *i >= u64::from(nelems) {
                    return None;
                }
                bit_off = bit_off.checked_add(i.checked_mul(size_of(t, elem)?.checked_mul(8)?)?)?;
                id = elem;
                bitfield = 0;
            }
            Step::Member(name, ltype) => {
                let (mt, off, bits) = find_member(t, id, name, 0)?;
                if !fields_compat(l, *ltype, t, mt, 0) {
                    return None;
                }
                bit_off = bit_off.checked_add(off)?;
                bitfield = bits;
                id = mt;
            }
        }
    }
    Some(Field {
        type_id: id,
        bit_off,
        bitfield,
    })
}

/// A field's value for a field relocation kind, and its byte size (libbpf's
/// `bpf_core_calc_field_relo`).
fn field_value(btf: &Btf<'_>, f: Field, relo_kind: u32) -> Option<(u64, u64)> {
    let (_, t) = skip(btf, f.type_id)?;
    let int_bits = match t.detail {
        Detail::Int(enc) => enc & 0xff,
        _ => 0,
    };
    let size = size_of(btf, f.type_id)?;
    let bits8 = size.checked_mul(8)?;
    let old_bitfield = int_bits != 0 && u64::from(int_bits) != bits8;
    let (byte_sz, byte_off, bit_sz) = if f.bitfield == 0 && !old_bitfield {
        (size, f.bit_off / 8, bits8)
    } else {
        // The smallest power-of-two load, from the field type's size up, holding every bit.
        let bit_sz = u64::from(if f.bitfield != 0 {
            f.bitfield
        } else {
            int_bits
        });
        let end = f.bit_off.checked_add(bit_sz)?;
        let mut byte_sz = size.max(1);
        let mut byte_off = f.bit_off / 8 / byte_sz * byte_sz;
        while end - byte_off * 8 > byte_sz.checked_mul(8)? {
            if byte_sz >= 8 {
                return None;
            }
            byte_sz *= 2;
            byte_off = f.bit_off / 8 / byte_sz * byte_sz;
        }
        (byte_sz, byte_off, bit_sz)
    };
    let end = f.bit_off.checked_add(bit_sz)?;
    let signed = match t.detail {
        Detail::Int(enc) => (enc >> 24) & 1 != 0,
        Detail::Enum(_) => t.kflag,
        _ => false,
    };
    let v = match relo_kind {
        relo::FIELD_BYTE_OFFSET => byte_off,
        relo::FIELD_BYTE_SIZE => byte_sz,
        relo::FIELD_EXISTS => 1,
        relo::FIELD_SIGNED => u64::from(signed),
        relo::FIELD_LSHIFT_U64 => 64u64.checked_sub(end - byte_off * 8)?,
        relo::FIELD_RSHIFT_U64 => 64u64.checked_sub(bit_sz)?,
        _ => return None,
    };
    Some((v, byte_sz))
}

/// The target value of one relocation, with the field's size for load/store patching; `None`
/// when it cannot be resolved.
fn resolve(l: &Btf<'_>, t: &TargetBtf, r: &Record) -> Option<(u64, Option<Resize>)> {
    FUEL_LEFT.with(|f| f.set(FUEL));
    let tb = t.btf();
    if r.kind == relo::TYPE_ID_LOCAL {
        return Some((u64::from(r.type_id), None));
    }
    let (_, lt) = skip(l, r.type_id).or_else(|| Some((r.type_id, get(l, r.type_id)?)))?;
    let lname = name_of(l, get(l, r.type_id)?);
    let lname = if lname.is_empty() {
        name_of(l, lt)
    } else {
        lname
    };
    if lname.is_empty() {
        return None;
    }
    let access: Vec<u64> = r
        .access
        .split(':')
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    let candidates = t.by_name.get(essential(&lname))?;
    let local_kind = get(l, r.type_id)?.kind;
    let mut result: Option<(u64, Option<Resize>)> = None;
    for &c in candidates {
        let Some(ct) = get(&tb, c) else { continue };
        let same_kind = ct.kind == local_kind
            || (matches!(local_kind, kind::ENUM | kind::ENUM64)
                && matches!(ct.kind, kind::ENUM | kind::ENUM64));
        if !same_kind {
            continue;
        }
        let value = match r.kind {
            relo::FIELD_BYTE_OFFSET..=relo::FIELD_RSHIFT_U64 => {
                let (steps, lf) = local_field(l, r.type_id, &access)?;
                let Some(tf) = target_field(l, &steps, &tb, c) else {
                    continue;
                };
                let (v, target) = field_value(&tb, tf, r.kind)?;
                let resize = if r.kind == relo::FIELD_BYTE_OFFSET {
                    let (_, local) = field_value(l, lf, r.kind)?;
                    Some(Resize {
                        local,
                        target,
                        adjustable: tf.bitfield != 0 || adjustable(&tb, tf.type_id),
                    })
                } else {
                    None
                };
                (v, resize)
            }
            relo::TYPE_ID_TARGET | relo::TYPE_EXISTS | relo::TYPE_SIZE => {
                if !types_compat(l, r.type_id, &tb, c, 0) {
                    continue;
                }
                match r.kind {
                    relo::TYPE_ID_TARGET => (u64::from(c), None),
                    relo::TYPE_EXISTS => (1, None),
                    _ => (size_of(&tb, c)?, None),
                }
            }
            relo::TYPE_MATCHES => {
                if !types_match(l, r.type_id, &tb, c, 0) {
                    continue;
                }
                (1, None)
            }
            relo::ENUMVAL_EXISTS | relo::ENUMVAL_VALUE => {
                let Detail::Enum(lv) = &lt.detail else {
                    return None;
                };
                let (ln, _) = lv.get(usize::try_from(*access.first()?).ok()?)?;
                let name = l.name(*ln).ok()?;
                let Detail::Enum(tv) = &ct.detail else {
                    continue;
                };
                let Some((_, v)) = tv
                    .iter()
                    .find(|(n, _)| tb.name(*n).is_ok_and(|x| x == name))
                else {
                    continue;
                };
                (
                    if r.kind == relo::ENUMVAL_EXISTS {
                        1
                    } else {
                        *v as u64
                    },
                    None,
                )
            }
            _ => return None,
        };
        match result {
            None => result = Some(value),
            // Candidates that disagree: libbpf refuses the relocation as ambiguous.
            Some(prev) if prev.0 != value.0 => return None,
            Some(_) => {}
        }
    }
    result
}

/// A field byte offset's field sizes: a load or store of the field follows a size change only
/// when it loaded the whole local field and the field is an integer, enum or pointer that can be
/// widened or narrowed without changing its value (libbpf's `fail_memsz_adjust`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Resize {
    local: u64,
    target: u64,
    adjustable: bool,
}

/// Whether a load of the field of type `id` may change size with it.
fn adjustable(btf: &Btf<'_>, id: u32) -> bool {
    skip(btf, id).is_some_and(|(_, t)| match t.detail {
        Detail::Int(enc) => (enc >> 24) & 1 == 0,
        Detail::Enum(_) => true,
        _ => t.kind == kind::PTR,
    })
}

fn size_code(bytes: u64) -> Option<u8> {
    match bytes {
        1 => Some(0x10),
        2 => Some(0x08),
        4 => Some(0x00),
        8 => Some(0x18),
        _ => None,
    }
}

/// Writes `value` into the instruction at `slot`, as libbpf's `bpf_core_patch_insn`.
fn patch(insns: &mut [Insn], slot: usize, value: u64, resize: Option<Resize>) -> bool {
    let Some(insn) = insns.get(slot).copied() else {
        return false;
    };
    let class = insn.op & 0x07;
    match class {
        // ALU / ALU64 with an immediate.
        0x04 | 0x07 if insn.op & 0x08 == 0 => {
            let Ok(v) = i32::try_from(value as i64) else {
                return false;
            };
            insns[slot].imm = v;
            true
        }
        // LDX, ST, STX: the offset (and the size when the field's size changed).
        0x01..=0x03 => {
            let Ok(off) = i16::try_from(value as i64) else {
                return false;
            };
            if let Some(r) = resize.filter(|r| r.local != r.target) {
                // Plain memory loads and stores of the whole field only (not atomics, not
                // sign-extending loads); anything else cannot follow the field (libbpf refuses).
                let whole = size_code(r.local) == Some(insn.op & 0x18);
                match size_code(r.target) {
                    Some(bits) if whole && r.adjustable && insn.op & 0xe0 == 0x60 => {
                        insns[slot].op = (insn.op & !0x18) | bits;
                    }
                    _ => return false,
                }
            }
            insns[slot].off = off;
            true
        }
        // LD: the 64-bit immediate of an lddw.
        0x00 if insn.op == 0x18 && slot + 1 < insns.len() => {
            insns[slot].imm = value as u32 as i32;
            insns[slot + 1].imm = (value >> 32) as u32 as i32;
            true
        }
        _ => false,
    }
}

/// Turns the instruction at `slot` into libbpf's poison call (both halves of an `lddw`).
fn poison(insns: &mut [Insn], slot: usize) {
    let wide = insns.get(slot).is_some_and(|i| i.op == 0x18);
    for s in slot..slot + if wide { 2 } else { 1 } {
        if let Some(i) = insns.get_mut(s) {
            *i = Insn {
                op: 0x85,
                dst: 0,
                src: 0,
                off: 0,
                imm: POISON,
            };
        }
    }
}

/// How many relocations were resolved, set to 0 (failed existence checks) and poisoned.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CoreStats {
    /// Resolved against the target.
    pub resolved: usize,
    /// Existence checks that found nothing (value 0).
    pub absent: usize,
    /// Instructions poisoned (unresolved).
    pub poisoned: usize,
}

/// Whether the object has a `.BTF.ext` with a non-empty CO-RE part (header only; a malformed
/// one is reported by [`apply`]).
pub(crate) fn has_relocations(elf: &ElfFile<'_>) -> bool {
    elf.sections
        .iter()
        .find(|s| s.name == ".BTF.ext")
        .is_some_and(|s| {
            u32_at(s.data, 4).is_ok_and(|hdr_len| hdr_len >= 32)
                && u32_at(s.data, 28).is_ok_and(|len| len > 0)
        })
}

/// Applies the object's CO-RE relocations to its code sections against `target`.
///
/// # Errors
/// A malformed `.BTF.ext` or `.BTF`.
pub(crate) fn apply(
    elf: &ElfFile<'_>,
    code: &mut std::collections::BTreeMap<usize, CodeSection>,
    target: &TargetBtf,
) -> Result<CoreStats, ElfError> {
    let mut stats = CoreStats::default();
    let (Some(btf_sec), Some(ext_sec)) = (
        elf.sections.iter().find(|s| s.name == ".BTF"),
        elf.sections.iter().find(|s| s.name == ".BTF.ext"),
    ) else {
        return Ok(stats);
    };
    let local = Btf::parse(btf_sec.data)?;
    for r in records(ext_sec.data, &local)? {
        let Some(section) = code.values_mut().find(|c| c.name == r.section) else {
            continue;
        };
        let slot = (r.insn_off / 8) as usize;
        let exists_kind = matches!(
            r.kind,
            relo::FIELD_EXISTS | relo::TYPE_EXISTS | relo::TYPE_MATCHES | relo::ENUMVAL_EXISTS
        );
        match resolve(&local, target, &r) {
            Some((v, size)) if patch(&mut section.insns, slot, v, size) => stats.resolved += 1,
            None if exists_kind && patch(&mut section.insns, slot, 0, None) => stats.absent += 1,
            _ => {
                poison(&mut section.insns, slot);
                stats.poisoned += 1;
            }
        }
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Raw BTF from type words and a string table.
    fn blob(types: &[u32], strings: &[u8]) -> Arc<[u8]> {
        let type_len = (types.len() * 4) as u32;
        let mut b = Vec::new();
        b.extend_from_slice(&0xeb9f_u16.to_le_bytes());
        b.extend_from_slice(&[1, 0]);
        for v in [24, 0, type_len, type_len, strings.len() as u32] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        for t in types {
            b.extend_from_slice(&t.to_le_bytes());
        }
        b.extend_from_slice(strings);
        b.into()
    }

    const fn info(kind: u32, vlen: u32, kflag: bool) -> u32 {
        (kflag as u32) << 31 | (kind << 24) | vlen
    }

    // Strings: 1 "int", 5 "s", 7 "a", 9 "b", 11 "c", 13 "s___old", 21 "e", 23 "E1", 26 "E2".
    const STRS: &[u8] = b"\0int\0s\0a\0b\0c\0s___old\0e\0E1\0E2\0";

    /// Local: [1] int (signed, 32 bits); [2] struct s___old { int a; int b; int c:3 (bit 64) };
    /// [3] enum e { E1 = 1, E2 = 2 }.
    fn local() -> Arc<[u8]> {
        blob(
            &[
                1,
                info(kind::INT, 0, false),
                4,
                1 << 24 | 32,
                13,
                info(kind::STRUCT, 3, true),
                12,
                7,
                1,
                0,
                9,
                1,
                32,
                11,
                1,
                3 << 24 | 64,
                21,
                info(kind::ENUM, 2, false),
                4,
                23,
                1,
                26,
                2,
            ],
            STRS,
        )
    }

    /// Target: [1] int; [2] struct s { int b; int pad; int a; int c:5 (bit 100) }, 16 bytes (no
    /// member named like the padding is matched); [3] enum e { E2 = 7 }.
    fn target() -> TargetBtf {
        TargetBtf::parse(blob(
            &[
                1,
                info(kind::INT, 0, false),
                4,
                1 << 24 | 32,
                5,
                info(kind::STRUCT, 4, true),
                16,
                9,
                1,
                0,
                0,
                1,
                32,
                7,
                1,
                64,
                11,
                1,
                5 << 24 | 100,
                21,
                info(kind::ENUM, 1, false),
                4,
                26,
                7,
            ],
            STRS,
        ))
        .expect("target BTF")
    }

    fn rec(type_id: u32, access: &str, kind: u32) -> Record {
        Record {
            section: String::new(),
            insn_off: 0,
            type_id,
            access: access.into(),
            kind,
        }
    }

    fn value(r: &Record) -> Option<u64> {
        let bytes = local();
        let l = Btf::parse(&bytes).expect("local BTF");
        resolve(&l, &target(), r).map(|(v, _)| v)
    }

    #[test]
    fn every_field_kind_follows_the_target_layout() {
        // `a`: local offset 0, target 8; the flavor `___old` is stripped to find `s`.
        assert_eq!(value(&rec(2, "0:0", relo::FIELD_BYTE_OFFSET)), Some(8));
        assert_eq!(value(&rec(2, "0:1", relo::FIELD_BYTE_OFFSET)), Some(0));
        assert_eq!(
            value(&rec(2, "1:1", relo::FIELD_BYTE_OFFSET)),
            Some(16),
            "array index on the root"
        );
        assert_eq!(value(&rec(2, "0:0", relo::FIELD_BYTE_SIZE)), Some(4));
        assert_eq!(value(&rec(2, "0:0", relo::FIELD_EXISTS)), Some(1));
        assert_eq!(value(&rec(2, "0:0", relo::FIELD_SIGNED)), Some(1));
        // Bitfield c: 5 bits at bit 100 → 4-byte load at byte 12, bits 4..9 of it.
        assert_eq!(value(&rec(2, "0:2", relo::FIELD_BYTE_OFFSET)), Some(12));
        assert_eq!(value(&rec(2, "0:2", relo::FIELD_BYTE_SIZE)), Some(4));
        assert_eq!(
            value(&rec(2, "0:2", relo::FIELD_LSHIFT_U64)),
            Some(64 - (100 + 5 - 96))
        );
        assert_eq!(value(&rec(2, "0:2", relo::FIELD_RSHIFT_U64)), Some(64 - 5));
    }

    #[test]
    fn type_and_enum_kinds_follow_the_target() {
        assert_eq!(value(&rec(2, "0", relo::TYPE_ID_LOCAL)), Some(2));
        assert_eq!(value(&rec(2, "0", relo::TYPE_ID_TARGET)), Some(2));
        assert_eq!(value(&rec(2, "0", relo::TYPE_EXISTS)), Some(1));
        assert_eq!(value(&rec(2, "0", relo::TYPE_SIZE)), Some(16));
        assert_eq!(value(&rec(2, "0", relo::TYPE_MATCHES)), Some(1));
        assert_eq!(value(&rec(3, "1", relo::ENUMVAL_VALUE)), Some(7));
        assert_eq!(value(&rec(3, "1", relo::ENUMVAL_EXISTS)), Some(1));
        // E1 is not in the target: unresolved (existence checks then read 0, others poison).
        assert_eq!(value(&rec(3, "0", relo::ENUMVAL_EXISTS)), None);
        assert_eq!(value(&rec(3, "0", relo::ENUMVAL_VALUE)), None);
        // Out-of-range access index and malformed access strings are unresolved, not panics.
        assert_eq!(value(&rec(2, "0:9", relo::FIELD_BYTE_OFFSET)), None);
        assert_eq!(value(&rec(2, "x", relo::FIELD_BYTE_OFFSET)), None);
        assert_eq!(value(&rec(99, "0", relo::TYPE_SIZE)), None);
    }

    #[test]
    fn patching_and_poison() {
        let ldx = Insn {
            op: 0x61,
            dst: 1,
            src: 2,
            off: 0,
            imm: 0,
        };
        let mut insns = vec![
            ldx,
            Insn {
                op: 0x07,
                dst: 1,
                src: 0,
                off: 0,
                imm: 0,
            },
        ];
        let grow = |adjustable| Resize {
            local: 4,
            target: 8,
            adjustable,
        };
        assert!(
            !patch(&mut insns, 0, 8, Some(grow(false))),
            "a struct or signed field"
        );
        assert_eq!(insns[0], ldx, "left for the poison");
        let mut half = insns.clone();
        half[0].op = 0x69; // a 2-byte load of the 4-byte field
        assert!(!patch(&mut half, 0, 8, Some(grow(true))), "a partial load");
        assert!(patch(&mut insns, 0, 8, Some(grow(true))));
        assert_eq!(
            (insns[0].off, insns[0].op),
            (8, 0x79),
            "offset and size follow the field"
        );
        assert!(patch(&mut insns, 1, 12, None));
        assert_eq!(insns[1].imm, 12);
        assert!(
            !patch(&mut insns, 0, 1 << 20, None),
            "an offset past 16 bits is refused"
        );
        poison(&mut insns, 1);
        assert_eq!((insns[1].op, insns[1].imm), (0x85, POISON));
    }

    #[test]
    fn flavors_are_stripped() {
        assert_eq!(essential("task_struct___x"), "task_struct");
        assert_eq!(essential("task_struct___5_10"), "task_struct");
        assert_eq!(essential("a___b___c"), "a___b");
        assert_eq!(essential("__u32"), "__u32");
        assert_eq!(essential("x____y"), "x____y");
    }
}
