//! Values for the `__kconfig` externs of libbpf objects, found as libbpf finds them
//! (`libbpf.c`: `bpf_object__read_kconfig_file`, `bpf_object__resolve_externs`): the host's
//! kernel configuration (`/proc/config.gz`, else `/boot/config-$(uname -r)`), and the `LINUX_*`
//! values libbpf computes itself, here for apiary as the runtime the programs run on.
//!
//! | extern | value |
//! | --- | --- |
//! | `LINUX_KERNEL_VERSION` | `KERNEL_VERSION(a, b, c)` of the host's `uname -r` |
//! | `LINUX_HAS_BPF_COOKIE` | `n`: apiary does not implement `bpf_get_attach_cookie` (tools then take their cookie-less path) |
//! | `LINUX_HAS_SYSCALL_WRAPPER` | `y`: x86-64 and arm64 kernels since 4.17 wrap syscalls, as libbpf probes |
//! | `CONFIG_*` | the host's kernel configuration |
//!
//! Overrides ([`crate::ObjectOptions::kconfig`], `--kconfig NAME=VALUE`) win over all of these.

use std::io::Read;

use apiary_elf::externs::{kernel_version, parse_kconfig};
use apiary_elf::Kconfig;

/// Largest kernel configuration read (a full distribution config is about 300 KiB).
const MAX_CONFIG: usize = 16 << 20;

/// The host's values, with `overrides` taking precedence.
#[must_use]
pub fn host_with(overrides: &Kconfig) -> Kconfig {
    let mut k = overrides.clone();
    let release = release();
    if let Some(v) = release.as_deref().and_then(kernel_version) {
        k.entry("LINUX_KERNEL_VERSION".into())
            .or_insert_with(|| v.to_string());
    }
    k.entry("LINUX_HAS_BPF_COOKIE".into())
        .or_insert_with(|| "n".into());
    k.entry("LINUX_HAS_SYSCALL_WRAPPER".into())
        .or_insert_with(|| "y".into());
    if let Some(text) = config_text(release.as_deref()) {
        parse_kconfig(&text, &mut k);
    }
    k
}

/// The host's values alone.
#[must_use]
pub fn host() -> Kconfig {
    host_with(&Kconfig::new())
}

/// `uname -r`.
fn release() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// The kernel configuration text: `/proc/config.gz` (gzip), else `/boot/config-<release>`.
fn config_text(release: Option<&str>) -> Option<String> {
    if let Ok(gz) = read_bounded("/proc/config.gz") {
        if let Some(text) = gunzip(&gz) {
            return Some(text);
        }
    }
    let release = release?;
    read_bounded(&format!("/boot/config-{release}"))
        .ok()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
}

fn read_bounded(path: &str) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_CONFIG as u64)
        .read_to_end(&mut out)?;
    Ok(out)
}

/// The text of a gzip member (RFC 1952), or `None` if it is not one.
fn gunzip(bytes: &[u8]) -> Option<String> {
    const FHCRC: u8 = 2;
    const FEXTRA: u8 = 4;
    const FNAME: u8 = 8;
    const FCOMMENT: u8 = 16;
    if bytes.len() < 18 || bytes[0] != 0x1f || bytes[1] != 0x8b || bytes[2] != 8 {
        return None;
    }
    let flags = bytes[3];
    let mut at = 10usize;
    if flags & FEXTRA != 0 {
        let n = usize::from(u16::from_le_bytes([*bytes.get(at)?, *bytes.get(at + 1)?]));
        at = at.checked_add(2 + n)?;
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            at = at.checked_add(bytes.get(at..)?.iter().position(|&b| b == 0)? + 1)?;
        }
    }
    if flags & FHCRC != 0 {
        at = at.checked_add(2)?;
    }
    let data =
        miniz_oxide::inflate::decompress_to_vec_with_limit(bytes.get(at..)?, MAX_CONFIG).ok()?;
    Some(String::from_utf8_lossy(&data).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_win_and_linux_values_exist() {
        let mut o = Kconfig::new();
        o.insert("LINUX_KERNEL_VERSION".into(), "1".into());
        let k = host_with(&o);
        assert_eq!(k["LINUX_KERNEL_VERSION"], "1");
        assert_eq!(k["LINUX_HAS_BPF_COOKIE"], "n");
        assert_eq!(k["LINUX_HAS_SYSCALL_WRAPPER"], "y");
    }

    #[test]
    fn gzip_members_decompress() {
        // `printf 'CONFIG_A=y\n' | gzip -n`
        let gz = [
            0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x73, 0xf6, 0xf7, 0x73,
            0xf3, 0x74, 0x8f, 0x77, 0xb4, 0xad, 0xe4, 0x02, 0x00, 0x8e, 0xb1, 0x80, 0xda, 0x0b,
            0x00, 0x00, 0x00,
        ];
        assert_eq!(gunzip(&gz).as_deref(), Some("CONFIG_A=y\n"));
        assert_eq!(gunzip(b"not gzip at all, clearly"), None);
    }
}
