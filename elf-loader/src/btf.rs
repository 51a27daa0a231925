//! `.BTF`, as BTF-defined maps (`SEC(".maps")`) and CO-RE relocations ([`crate::core`]) need it.
//!
//! libbpf's `__uint(name, N)` macro declares a member `int (*name)[N]`: the value is the
//! element count of the pointed-to array. `__type(name, T)` declares `T *name`: the value is
//! the size of `T`. `__array(values, struct inner)` declares `struct inner *values[]`, the
//! template of a map-of-maps' inner map. So a map definition is read from the member types
//! alone; the `.maps` section bytes are all zero.
//!
//! The type section is parsed once into a table; every type id is checked on use, and chains
//! of modifiers (typedef, const, ...) are followed for at most [`MAX_CHAIN`] steps so a
//! reference loop cannot hang the loader.

use std::borrow::Cow;

use crate::error::ElfError;
use crate::sections::string_at;

/// BTF magic number.
const MAGIC: u16 = 0xeb9f;
/// Longest modifier chain or nesting followed before giving up (libbpf uses 32 too).
const MAX_CHAIN: usize = 32;

/// Kinds (`BTF_KIND_*`).
pub(crate) mod kind {
    pub const INT: u32 = 1;
    pub const PTR: u32 = 2;
    pub const ARRAY: u32 = 3;
    pub const STRUCT: u32 = 4;
    pub const UNION: u32 = 5;
    pub const ENUM: u32 = 6;
    pub const FWD: u32 = 7;
    pub const TYPEDEF: u32 = 8;
    pub const VOLATILE: u32 = 9;
    pub const CONST: u32 = 10;
    pub const RESTRICT: u32 = 11;
    pub const FUNC: u32 = 12;
    pub const FUNC_PROTO: u32 = 13;
    pub const VAR: u32 = 14;
    pub const DATASEC: u32 = 15;
    pub const FLOAT: u32 = 16;
    pub const DECL_TAG: u32 = 17;
    pub const TYPE_TAG: u32 = 18;
    pub const ENUM64: u32 = 19;
}

/// A struct or union member.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Member {
    pub name_off: u32,
    pub type_id: u32,
    /// Bit offset, or with the struct's kind flag: bitfield size << 24 | bit offset.
    pub offset: u32,
}

/// A DATASEC entry: a variable and its place in the section.
#[derive(Clone, Copy, Debug)]
pub(crate) struct SecInfo {
    pub type_id: u32,
}

/// The kind-specific part of a type that map parsing needs.
#[derive(Clone, Debug)]
pub(crate) enum Detail {
    /// A kind whose extra data is not needed.
    Other,
    Array {
        elem: u32,
        nelems: u32,
    },
    Members(Vec<Member>),
    Datasec(Vec<SecInfo>),
    /// An integer's encoding word (signedness, bit offset, bits).
    Int(u32),
    /// Enumerators: (name offset, value).
    Enum(Vec<(u32, i64)>),
    /// A function prototype's parameter types.
    Params(Vec<u32>),
}

/// One BTF type record.
#[derive(Clone, Debug)]
pub(crate) struct Type {
    pub name_off: u32,
    pub kind: u32,
    /// The info word's kind flag (bitfield offsets in structs; signed enums).
    pub kflag: bool,
    /// `size` for sized kinds, `type` for reference kinds.
    pub size_or_type: u32,
    pub detail: Detail,
}

/// A parsed `.BTF` section.
#[derive(Debug)]
pub(crate) struct Btf<'a> {
    /// Index 0 is `void`.
    pub types: Cow<'a, [Type]>,
    pub strings: &'a [u8],
}

/// A map definition read from a `.maps` variable's struct type.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct BtfMap {
    pub map_type: u32,
    pub key_size: u32,
    pub value_size: Option<u32>,
    pub max_entries: u32,
    pub flags: u32,
    pub pinning: u32,
    pub inner: Option<Box<BtfMap>>,
    /// Whether the struct has a `values` member (map-of-maps or prog array initialiser).
    pub has_values: bool,
}

fn bad(offset: usize, reason: impl Into<String>) -> ElfError {
    ElfError::BadBtf {
        offset,
        reason: reason.into(),
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Added to `pos` in error messages (offset of `bytes` in `.BTF`).
    base: usize,
}

impl Reader<'_> {
    fn u32(&mut self) -> Result<u32, ElfError> {
        let end = self
            .pos
            .checked_add(4)
            .ok_or_else(|| bad(self.base + self.pos, "offset overflow"))?;
        let b = self
            .bytes
            .get(self.pos..end)
            .ok_or_else(|| bad(self.base + self.pos, "type record truncated"))?;
        self.pos = end;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    /// Skips `n` records of `size` bytes, failing if they do not fit.
    fn skip(&mut self, n: usize, size: usize) -> Result<(), ElfError> {
        let end = n
            .checked_mul(size)
            .and_then(|len| self.pos.checked_add(len))
            .filter(|&end| end <= self.bytes.len())
            .ok_or_else(|| bad(self.base + self.pos, "type record truncated"))?;
        self.pos = end;
        Ok(())
    }
}

fn le_u32(bytes: &[u8], at: usize) -> Result<u32, ElfError> {
    bytes
        .get(at..at + 4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or_else(|| bad(at, "header truncated"))
}

impl<'a> Btf<'a> {
    /// Parses the header, string section bounds and the type section.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, ElfError> {
        let magic = bytes
            .get(0..2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
            .ok_or_else(|| bad(0, "header truncated"))?;
        if magic != MAGIC {
            return Err(bad(
                0,
                format!(
                    "bad magic {magic:#06x} (want {MAGIC:#06x}; big-endian BTF is not supported)"
                ),
            ));
        }
        let hdr_len = le_u32(bytes, 4)? as usize;
        if hdr_len < 24 || hdr_len > bytes.len() {
            return Err(bad(4, format!("header length {hdr_len}")));
        }
        let area = |off_at: usize| -> Result<(usize, &'a [u8]), ElfError> {
            let off = le_u32(bytes, off_at)? as usize;
            let len = le_u32(bytes, off_at + 4)? as usize;
            let start = hdr_len
                .checked_add(off)
                .ok_or_else(|| bad(off_at, "offset overflow"))?;
            let end = start
                .checked_add(len)
                .ok_or_else(|| bad(off_at, "length overflow"))?;
            let data = bytes.get(start..end).ok_or_else(|| {
                bad(
                    off_at,
                    format!("area {start:#x}..{end:#x} outside the section"),
                )
            })?;
            Ok((start, data))
        };
        let (type_start, type_bytes) = area(8)?;
        let (_, strings) = area(16)?;
        let mut types = vec![Type {
            name_off: 0,
            kind: 0,
            kflag: false,
            size_or_type: 0,
            detail: Detail::Other,
        }];
        let mut r = Reader {
            bytes: type_bytes,
            pos: 0,
            base: type_start,
        };
        while r.pos < type_bytes.len() {
            let at = type_start + r.pos;
            let name_off = r.u32()?;
            let info = r.u32()?;
            let size_or_type = r.u32()?;
            let vlen = (info & 0xffff) as usize;
            let kind = (info >> 24) & 0x1f;
            let detail = match kind {
                kind::INT => Detail::Int(r.u32()?),
                kind::PTR
                | kind::FWD
                | kind::TYPEDEF
                | kind::VOLATILE
                | kind::CONST
                | kind::RESTRICT
                | kind::FUNC
                | kind::FLOAT
                | kind::TYPE_TAG => Detail::Other,
                kind::ARRAY => {
                    let elem = r.u32()?;
                    let _index_type = r.u32()?;
                    let nelems = r.u32()?;
                    Detail::Array { elem, nelems }
                }
                kind::STRUCT | kind::UNION => {
                    // Check the whole member list fits before allocating for it.
                    let start = r.pos;
                    r.skip(vlen, 12)?;
                    r.pos = start;
                    let mut members = Vec::with_capacity(vlen);
                    for _ in 0..vlen {
                        let name_off = r.u32()?;
                        let type_id = r.u32()?;
                        let offset = r.u32()?;
                        members.push(Member {
                            name_off,
                            type_id,
                            offset,
                        });
                    }
                    Detail::Members(members)
                }
                kind::ENUM => {
                    let start = r.pos;
                    r.skip(vlen, 8)?;
                    r.pos = start;
                    let signed = info >> 31 != 0;
                    let mut values = Vec::with_capacity(vlen);
                    for _ in 0..vlen {
                        let name = r.u32()?;
                        let v = r.u32()?;
                        let v = if signed {
                            i64::from(v as i32)
                        } else {
                            i64::from(v)
                        };
                        values.push((name, v));
                    }
                    Detail::Enum(values)
                }
                kind::ENUM64 => {
                    let start = r.pos;
                    r.skip(vlen, 12)?;
                    r.pos = start;
                    let mut values = Vec::with_capacity(vlen);
                    for _ in 0..vlen {
                        let name = r.u32()?;
                        let lo = r.u32()?;
                        let hi = r.u32()?;
                        values.push((name, (u64::from(hi) << 32 | u64::from(lo)) as i64));
                    }
                    Detail::Enum(values)
                }
                kind::FUNC_PROTO => {
                    let start = r.pos;
                    r.skip(vlen, 8)?;
                    r.pos = start;
                    let mut params = Vec::with_capacity(vlen);
                    for _ in 0..vlen {
                        let _name = r.u32()?;
                        params.push(r.u32()?);
                    }
                    Detail::Params(params)
                }
                kind::VAR | kind::DECL_TAG => {
                    r.skip(1, 4)?;
                    Detail::Other
                }
                kind::DATASEC => {
                    let start = r.pos;
                    r.skip(vlen, 12)?;
                    r.pos = start;
                    let mut vars = Vec::with_capacity(vlen);
                    for _ in 0..vlen {
                        let type_id = r.u32()?;
                        let _offset = r.u32()?;
                        let _size = r.u32()?;
                        vars.push(SecInfo { type_id });
                    }
                    Detail::Datasec(vars)
                }
                other => return Err(bad(at, format!("unknown type kind {other}"))),
            };
            types.push(Type {
                name_off,
                kind,
                kflag: info >> 31 != 0,
                size_or_type,
                detail,
            });
        }
        Ok(Self {
            types: Cow::Owned(types),
            strings,
        })
    }

    pub(crate) fn get(&self, id: u32) -> Result<&Type, ElfError> {
        self.types.get(id as usize).ok_or_else(|| {
            bad(
                0,
                format!("type id {id} does not exist ({} types)", self.types.len()),
            )
        })
    }

    /// The name of a type (empty for anonymous ones).
    pub fn name(&self, name_off: u32) -> Result<Cow<'a, str>, ElfError> {
        string_at(self.strings, name_off as usize).ok_or_else(|| {
            bad(
                0,
                format!("name offset {name_off:#x} outside the string section"),
            )
        })
    }

    /// Follows typedef/const/volatile/restrict/type-tag modifiers to the underlying type id.
    pub(crate) fn skip_modifiers(&self, mut id: u32) -> Result<u32, ElfError> {
        for _ in 0..MAX_CHAIN {
            let t = self.get(id)?;
            match t.kind {
                kind::TYPEDEF | kind::VOLATILE | kind::CONST | kind::RESTRICT | kind::TYPE_TAG => {
                    id = t.size_or_type
                }
                _ => return Ok(id),
            }
        }
        Err(bad(
            0,
            format!("type {id}: modifier chain longer than {MAX_CHAIN} (loop?)"),
        ))
    }

    /// The size in bytes of type `id`, as `sizeof` would give it.
    pub fn size_of(&self, id: u32) -> Result<u64, ElfError> {
        self.size_of_depth(id, 0)
    }

    fn size_of_depth(&self, id: u32, depth: usize) -> Result<u64, ElfError> {
        if depth > MAX_CHAIN {
            return Err(bad(
                0,
                format!("type {id}: nested more than {MAX_CHAIN} deep (loop?)"),
            ));
        }
        let id = self.skip_modifiers(id)?;
        let t = self.get(id)?;
        match (t.kind, &t.detail) {
            (
                kind::INT
                | kind::STRUCT
                | kind::UNION
                | kind::ENUM
                | kind::ENUM64
                | kind::FLOAT
                | kind::DATASEC,
                _,
            ) => Ok(u64::from(t.size_or_type)),
            (kind::PTR, _) => Ok(8),
            (kind::ARRAY, Detail::Array { elem, nelems }) => self
                .size_of_depth(*elem, depth + 1)?
                .checked_mul(u64::from(*nelems))
                .ok_or_else(|| bad(0, format!("type {id}: array size overflows"))),
            _ => Err(bad(0, format!("type {id} (kind {}) has no size", t.kind))),
        }
    }

    /// The size of a `__kconfig` extern's type and whether it is a character array (a string
    /// option), as libbpf decides how to store the option's value.
    pub fn kconfig_shape(&self, id: u32) -> Result<(u64, bool), ElfError> {
        let size = self.size_of(id)?;
        let t = self.get(self.skip_modifiers(id)?)?;
        Ok((size, t.kind == kind::ARRAY))
    }

    /// The variables of the DATASEC named `section`, as (variable name, variable type id).
    pub fn datasec_vars(&self, section: &str) -> Result<Vec<(Cow<'a, str>, u32)>, ElfError> {
        let mut out = Vec::new();
        for t in self.types.iter() {
            let Detail::Datasec(vars) = &t.detail else {
                continue;
            };
            if t.kind != kind::DATASEC || self.name(t.name_off)? != section {
                continue;
            }
            for v in vars {
                let var = self.get(v.type_id)?;
                if var.kind != kind::VAR {
                    return Err(bad(
                        0,
                        format!("DATASEC {section} entry {} is not a VAR", v.type_id),
                    ));
                }
                out.push((self.name(var.name_off)?, var.size_or_type));
            }
        }
        Ok(out)
    }

    /// The value of a `__uint(name, N)` member: the element count of the pointed-to array.
    fn uint_member(&self, type_id: u32, member: &str) -> Result<u32, ElfError> {
        let ptr = self.get(self.skip_modifiers(type_id)?)?;
        if ptr.kind != kind::PTR {
            return Err(bad(
                0,
                format!("map member {member} is not a pointer (kind {})", ptr.kind),
            ));
        }
        let arr = self.get(self.skip_modifiers(ptr.size_or_type)?)?;
        match (&arr.kind, &arr.detail) {
            (&kind::ARRAY, Detail::Array { nelems, .. }) => Ok(*nelems),
            _ => Err(bad(
                0,
                format!(
                    "map member {member} does not point to an array (kind {})",
                    arr.kind
                ),
            )),
        }
    }

    /// The size of the type a `__type(name, T)` member points to.
    fn type_member_size(&self, type_id: u32, member: &str) -> Result<u32, ElfError> {
        let ptr = self.get(self.skip_modifiers(type_id)?)?;
        if ptr.kind != kind::PTR {
            return Err(bad(
                0,
                format!("map member {member} is not a pointer (kind {})", ptr.kind),
            ));
        }
        let size = self.size_of(ptr.size_or_type)?;
        u32::try_from(size).map_err(|_| {
            bad(
                0,
                format!("map member {member}: size {size} does not fit in 32 bits"),
            )
        })
    }

    /// Reads the map definition struct that a `.maps` variable (or an inner-map template) has.
    pub fn map_def(&self, type_id: u32) -> Result<BtfMap, ElfError> {
        self.map_def_depth(type_id, 0)
    }

    fn map_def_depth(&self, type_id: u32, depth: usize) -> Result<BtfMap, ElfError> {
        let id = self.skip_modifiers(type_id)?;
        let t = self.get(id)?;
        let Detail::Members(members) = &t.detail else {
            return Err(bad(
                0,
                format!("map definition type {id} is not a struct (kind {})", t.kind),
            ));
        };
        if t.kind != kind::STRUCT {
            return Err(bad(
                0,
                format!("map definition type {id} is not a struct (kind {})", t.kind),
            ));
        }
        let mut def = BtfMap::default();
        for m in members {
            let name = self.name(m.name_off)?;
            match name.as_ref() {
                "type" => def.map_type = self.uint_member(m.type_id, &name)?,
                "max_entries" => def.max_entries = self.uint_member(m.type_id, &name)?,
                "map_flags" => def.flags = self.uint_member(m.type_id, &name)?,
                "pinning" => def.pinning = self.uint_member(m.type_id, &name)?,
                "key_size" => def.key_size = self.uint_member(m.type_id, &name)?,
                "value_size" => def.value_size = Some(self.uint_member(m.type_id, &name)?),
                "key" => def.key_size = self.type_member_size(m.type_id, &name)?,
                "value" => def.value_size = Some(self.type_member_size(m.type_id, &name)?),
                "values" => {
                    def.has_values = true;
                    def.inner = self.inner_map(m.type_id, depth)?.map(Box::new);
                }
                // numa_node, map_extra and unknown members do not change the map's shape.
                _ => {}
            }
        }
        Ok(def)
    }

    /// The inner-map template of `__array(values, struct inner)`, if it names a struct
    /// (a prog array's `__array(values, int (void *))` names a function prototype: `None`).
    fn inner_map(&self, type_id: u32, depth: usize) -> Result<Option<BtfMap>, ElfError> {
        if depth >= 1 {
            return Err(bad(0, "map-of-maps nested more than one level"));
        }
        let arr = self.get(self.skip_modifiers(type_id)?)?;
        let Detail::Array { elem, .. } = arr.detail else {
            return Err(bad(0, "map member values is not an array"));
        };
        let ptr = self.get(self.skip_modifiers(elem)?)?;
        if ptr.kind != kind::PTR {
            return Err(bad(0, "map member values is not an array of pointers"));
        }
        let target = self.skip_modifiers(ptr.size_or_type)?;
        if self.get(target)?.kind != kind::STRUCT {
            return Ok(None);
        }
        self.map_def_depth(target, depth + 1).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a `.BTF` blob from raw type words and a string table.
    fn blob(types: &[u32], strings: &[u8]) -> Vec<u8> {
        let type_len = (types.len() * 4) as u32;
        let mut b = Vec::new();
        b.extend_from_slice(&MAGIC.to_le_bytes());
        b.extend_from_slice(&[1, 0]);
        for v in [24, 0, type_len, type_len, strings.len() as u32] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        for t in types {
            b.extend_from_slice(&t.to_le_bytes());
        }
        b.extend_from_slice(strings);
        b
    }

    const fn info(kind: u32, vlen: u32) -> u32 {
        (kind << 24) | vlen
    }

    #[test]
    fn reads_uint_and_type_members() {
        // strings: 0 "", 1 "int", 5 "type", 10 "key", 14 "max_entries", 26 "def"
        let strings = b"\0int\0type\0key\0max_entries\0def\0";
        let types = [
            1,
            info(kind::INT, 0),
            4,
            0x20, // 1: int
            0,
            info(kind::INT, 0),
            4,
            0x20, // 2: __ARRAY_SIZE_TYPE__ stand-in
            0,
            info(kind::ARRAY, 0),
            0,
            1,
            2,
            2, // 3: int[2]
            0,
            info(kind::PTR, 0),
            3, // 4: int (*)[2]
            0,
            info(kind::PTR, 0),
            1, // 5: int *
            0,
            info(kind::ARRAY, 0),
            0,
            1,
            2,
            64, // 6: int[64]
            0,
            info(kind::PTR, 0),
            6, // 7: int (*)[64]
            26,
            info(kind::STRUCT, 3),
            24,
            5,
            4,
            0,
            10,
            5,
            64,
            14,
            7,
            128, // 8
        ];
        let bytes = blob(&types, strings);
        let btf = Btf::parse(&bytes).expect("parses");
        let def = btf.map_def(8).expect("map def");
        assert_eq!(
            def,
            BtfMap {
                map_type: 2,
                key_size: 4,
                value_size: None,
                max_entries: 64,
                ..BtfMap::default()
            }
        );
    }

    #[test]
    fn modifier_loops_are_errors() {
        let types = [0, info(kind::TYPEDEF, 0), 2, 0, info(kind::CONST, 0), 1];
        let bytes = blob(&types, b"\0");
        let btf = Btf::parse(&bytes).expect("parses");
        assert!(matches!(btf.size_of(1), Err(ElfError::BadBtf { .. })));
        assert!(matches!(btf.size_of(99), Err(ElfError::BadBtf { .. })));
    }

    #[test]
    fn truncated_members_are_errors() {
        let types = [0, info(kind::STRUCT, 0xffff), 8];
        let bytes = blob(&types, b"\0");
        assert!(matches!(Btf::parse(&bytes), Err(ElfError::BadBtf { .. })));
    }
}
