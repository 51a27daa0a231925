//! Extern variables that libbpf resolves at load time (`libbpf.c`: `bpf_object__collect_externs`,
//! `bpf_object__resolve_externs`), so that objects built for libbpf load here too.
//!
//! - `__kconfig` externs (`extern int LINUX_KERNEL_VERSION __kconfig;`,
//!   `extern bool CONFIG_X __kconfig __weak;`): the BTF `.kconfig` DATASEC lists them (objects
//!   without BTF: names starting `LINUX_` or `CONFIG_`). Their values come from the caller's
//!   [`Kconfig`] (the host's kernel configuration, `uname`, overrides) and live in one
//!   read-only `.kconfig` array map, as libbpf builds it; each `lddw` of an extern becomes a
//!   pointer into that map's value. A weak extern without a value reads as 0, as in libbpf; a
//!   strong one fails only the programs that use it.
//! - Kernel symbols (`__ksym` variables and kfuncs) do not exist outside the kernel: a weak one
//!   is 0 (so `bpf_ksym_exists()` is false and the guarded code is dead), a strong one fails the
//!   programs that use it (see `crate::relocate`).

use std::collections::BTreeMap;

use crate::btf::Btf;
use crate::error::ElfError;
use crate::maps::{MapDef, MapKind, MapTable, BPF_F_MMAPABLE, BPF_F_RDONLY_PROG, MAP_TYPE_ARRAY};
use crate::sections::ElfFile;

/// Kernel configuration values by name (`CONFIG_BPF_SYSCALL` → `y`, `CONFIG_HZ` → `1000`,
/// `LINUX_KERNEL_VERSION` → `395776`), written as in a kernel `.config` file: `y`, `n`, `m`,
/// a decimal or `0x` hexadecimal number, or a double-quoted string.
pub type Kconfig = BTreeMap<String, String>;

/// Largest value of one `__kconfig` extern (a string option); larger ones are refused.
const MAX_KCONFIG_VALUE: u64 = 4096;

/// `STB_WEAK`.
const STB_WEAK: u8 = 2;

/// Where one `__kconfig` extern's value is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum KconfigSlot {
    /// At this byte offset of the `.kconfig` map's value.
    At(u32),
    /// No value: a strong extern the configuration lacks, or a value that does not fit.
    Missing(String),
}

/// The object's `__kconfig` externs and the map holding their values.
#[derive(Debug, Default)]
pub(crate) struct Externs {
    /// Index of the `.kconfig` map in [`MapTable::maps`], when the object has such externs.
    pub map: Option<usize>,
    /// Extern name → its slot.
    pub kconfig: BTreeMap<String, KconfigSlot>,
}

impl Externs {
    /// Whether the undefined symbol `name` is a `__kconfig` extern.
    pub fn slot(&self, name: &str) -> Option<&KconfigSlot> {
        self.kconfig.get(name)
    }
}

/// Whether a symbol is weak (`__weak`).
pub(crate) fn is_weak(bind: u8) -> bool {
    bind == STB_WEAK
}

/// Collects the `__kconfig` externs and appends the `.kconfig` map to `table`.
pub(crate) fn collect(
    elf: &ElfFile<'_>,
    values: &Kconfig,
    table: &mut MapTable,
) -> Result<Externs, ElfError> {
    // Malformed BTF was reported by the map stage if it mattered there; here it only refines
    // sizes, so an unreadable one falls back to the name rule and 8-byte values.
    let btf = elf
        .sections
        .iter()
        .find(|s| s.name == ".BTF")
        .and_then(|s| Btf::parse(s.data).ok());
    let declared: BTreeMap<String, u32> = btf
        .as_ref()
        .and_then(|b| b.datasec_vars(".kconfig").ok())
        .unwrap_or_default()
        .into_iter()
        .map(|(name, ty)| (name.into_owned(), ty))
        .collect();
    let mut externs = Externs::default();
    let mut bytes: Vec<u8> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for s in &elf.symbols {
        let name: &str = &s.name;
        let kconfig = declared.contains_key(name)
            || name.starts_with("LINUX_")
            || name.starts_with("CONFIG_");
        if s.section.is_some() || s.is_section() || !kconfig || !seen.insert(name.to_owned()) {
            continue;
        }
        let (size, string) = match (&btf, declared.get(name)) {
            (Some(b), Some(&ty)) => b.kconfig_shape(ty).unwrap_or((8, false)),
            _ => (8, false),
        };
        if size == 0 || size > MAX_KCONFIG_VALUE {
            let reason = format!("__kconfig extern of {size} bytes is not supported");
            externs
                .kconfig
                .insert(name.to_owned(), KconfigSlot::Missing(reason));
            continue;
        }
        let size = size as usize;
        let value = match values.get(name) {
            Some(text) => encode(text, size, string),
            None if is_weak(s.bind) => Ok(vec![0; size]),
            None => Err(format!(
                "no value for __kconfig extern {name}: the kernel configuration does not set it \
                 (give one with --kconfig {name}=VALUE)"
            )),
        };
        match value {
            Ok(v) => {
                let align = size.next_power_of_two().min(8);
                let at = bytes.len().div_ceil(align) * align;
                bytes.resize(at, 0);
                bytes.extend_from_slice(&v);
                let at = u32::try_from(at).unwrap_or(u32::MAX);
                externs.kconfig.insert(name.to_owned(), KconfigSlot::At(at));
            }
            Err(reason) => {
                externs
                    .kconfig
                    .insert(name.to_owned(), KconfigSlot::Missing(reason));
            }
        }
    }
    if !bytes.is_empty() {
        let value_size = u32::try_from(bytes.len()).map_err(|_| ElfError::BadMap {
            section: ".kconfig".into(),
            reason: "too many __kconfig externs".into(),
        })?;
        externs.map = Some(table.maps.len());
        table.maps.push(MapDef {
            name: ".kconfig".into(),
            map_type: MAP_TYPE_ARRAY,
            key_size: 4,
            value_size,
            max_entries: 1,
            flags: BPF_F_MMAPABLE | BPF_F_RDONLY_PROG,
            inner: None,
            inner_index: None,
            pinning: 0,
            kind: MapKind::Rodata {
                section: ".kconfig".into(),
            },
            initial: bytes,
        });
    }
    Ok(externs)
}

/// The bytes of a `size`-byte extern holding `text` (libbpf's `set_kcfg_value_*`): `y`/`n`/`m`
/// are 1/0/2 (`enum libbpf_tristate`), numbers are stored little-endian in `size` bytes,
/// strings (for `char[]` externs) NUL-terminated.
fn encode(text: &str, size: usize, string: bool) -> Result<Vec<u8>, String> {
    let text = text.trim();
    let mut out = vec![0u8; size];
    if string {
        let inner = text
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .unwrap_or(text);
        if inner.len() >= size {
            return Err(format!(
                "value {text} does not fit the {size}-byte string extern"
            ));
        }
        out[..inner.len()].copy_from_slice(inner.as_bytes());
        return Ok(out);
    }
    let number: u64 = match text {
        "y" => 1,
        "n" => 0,
        "m" => 2,
        _ => parse_number(text)
            .ok_or_else(|| format!("value {text:?} is not y, n, m or a number"))?,
    };
    let le = number.to_le_bytes();
    let n = size.min(8);
    out[..n].copy_from_slice(&le[..n]);
    Ok(out)
}

/// A decimal, `0x` hexadecimal or negative decimal number, as `strtoull(.., 0)` reads kconfig.
fn parse_number(text: &str) -> Option<u64> {
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        return u64::from_str_radix(hex, 16).ok();
    }
    if let Some(neg) = text.strip_prefix('-') {
        return neg.parse::<i64>().ok().map(|v| v.wrapping_neg() as u64);
    }
    text.parse().ok()
}

/// Parses a kernel `.config` file (`CONFIG_X=y` lines; `# CONFIG_X is not set` means `n`, as in
/// libbpf's `bpf_object__read_kconfig_file`) into `into`, keeping values already there.
pub fn parse_kconfig(text: &str, into: &mut Kconfig) {
    for line in text.lines() {
        let line = line.trim();
        if let Some(rest) = line.strip_prefix("# ") {
            if let Some(name) = rest.strip_suffix(" is not set") {
                if name.starts_with("CONFIG_") {
                    into.entry(name.to_owned()).or_insert_with(|| "n".into());
                }
            }
            continue;
        }
        if let Some((name, value)) = line.split_once('=') {
            if name.starts_with("CONFIG_") {
                into.entry(name.to_owned())
                    .or_insert_with(|| value.to_owned());
            }
        }
    }
}

/// `KERNEL_VERSION(a, b, c)` of a `uname -r` release (`6.18.44-fc` → 6.18.44), with the patch
/// level capped at 255 as libbpf does.
#[must_use]
pub fn kernel_version(release: &str) -> Option<u32> {
    let mut parts = release
        .split(|c: char| !c.is_ascii_digit())
        .filter(|p| !p.is_empty())
        .map(|p| p.parse::<u32>().ok());
    let a = parts.next()??;
    let b = parts.next().flatten().unwrap_or(0);
    let c = parts.next().flatten().unwrap_or(0);
    Some((a.min(255) << 16) | (b.min(255) << 8) | c.min(255))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_encoded_as_libbpf_does() {
        assert_eq!(encode("y", 1, false), Ok(vec![1]));
        assert_eq!(encode("m", 4, false), Ok(vec![2, 0, 0, 0]));
        assert_eq!(encode("n", 1, false), Ok(vec![0]));
        assert_eq!(encode("0x10", 4, false), Ok(vec![16, 0, 0, 0]));
        assert_eq!(encode("1000", 8, false), Ok(1000u64.to_le_bytes().to_vec()));
        assert_eq!(encode("\"ab\"", 4, true), Ok(vec![b'a', b'b', 0, 0]));
        assert!(encode("\"abcd\"", 4, true).is_err());
        assert!(encode("maybe", 4, false).is_err());
    }

    #[test]
    fn config_files_and_releases() {
        let mut k = Kconfig::new();
        k.insert("CONFIG_HZ".into(), "250".into());
        parse_kconfig(
            "# comment\nCONFIG_HZ=1000\nCONFIG_BPF=y\n# CONFIG_X is not set\nCONFIG_S=\"a b\"\n",
            &mut k,
        );
        assert_eq!(k["CONFIG_HZ"], "250", "an override wins over the file");
        assert_eq!(k["CONFIG_BPF"], "y");
        assert_eq!(k["CONFIG_X"], "n");
        assert_eq!(k["CONFIG_S"], "\"a b\"");
        assert_eq!(
            kernel_version("6.18.44-fc-v1300"),
            Some((6 << 16) | (18 << 8) | 44)
        );
        assert_eq!(kernel_version("5.4.300"), Some((5 << 16) | (4 << 8) | 255));
        assert_eq!(kernel_version("x"), None);
    }
}
