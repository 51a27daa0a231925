//! The packet helpers of the Linux profile: socket-buffer bytes and checksums, redirects, and
//! the XDP helpers that move the packet's bounds, with the semantics of `net/core/filter.c`
//! (same argument checks in the same order, same return values and error numbers).
//!
//! They work on the run's packet frame ([`crate::packet`]), which the host describes before
//! the run: offsets count from `data` (socket filters: the network header; tc and XDP: the
//! Ethernet header), moves keep the frame inside its headroom and tailroom, and the context
//! structure's `data`, `data_end`, `data_meta` (and `__sk_buff.len`) are rewritten after each
//! move, so the program's next context loads see the new packet, as on Linux. Without a frame
//! of the right kind, or when r1 is not the run's context, they fail with
//! [`HelperError::NoPacket`] (Linux's verifier rejects such programs).
//!
//! apiary models an `sk_buff` whose checksum state is `CHECKSUM_NONE` (as the ones
//! `BPF_PROG_TEST_RUN` builds): `BPF_F_RECOMPUTE_CSUM`, `BPF_F_PSEUDO_HDR` and `BPF_F_IPV6`
//! are accepted and change only `skb->csum` in Linux, which apiary does not keep.

use crate::fault::HelperError;
use crate::helpers::HelperContext;
use crate::maps::{Errno, MapTable};
use crate::packet::{FrameKind, FrameLayout, PacketFrame, Redirect};

use super::{csum, flow, map, LinuxHelper};

use super::id;

/// Flags of `bpf_skb_store_bytes`.
const BPF_F_RECOMPUTE_CSUM: u64 = 1 << 0;
const BPF_F_INVALIDATE_HASH: u64 = 1 << 1;
/// Flags of the checksum-replace helpers: the field size in the low nibble, then modifiers.
const BPF_F_HDR_FIELD_MASK: u64 = 0xf;
const BPF_F_PSEUDO_HDR: u64 = 1 << 4;
const BPF_F_MARK_MANGLED_0: u64 = 1 << 5;
const BPF_F_MARK_ENFORCE: u64 = 1 << 6;
const BPF_F_IPV6: u64 = 1 << 7;
/// `CSUM_MANGLED_0`: how a UDP checksum that computes to 0 is sent.
const CSUM_MANGLED_0: u16 = 0xffff;
/// `bpf_redirect` flag: to the interface's ingress.
const BPF_F_INGRESS: u64 = 1;
/// `bpf_redirect_map` flags beside the fallback action in the low bits.
const BPF_F_BROADCAST: u64 = 1 << 3;
const BPF_F_EXCLUDE_INGRESS: u64 = 1 << 4;
/// XDP actions the low bits of `bpf_redirect_map` flags may name.
const XDP_ACTION_MASK: u64 = 3;

const XDP_ABORTED: u64 = 0;
const XDP_REDIRECT: u64 = 4;
const TC_ACT_SHOT: u64 = 2;
const TC_ACT_REDIRECT: u64 = 7;

/// Ethernet header length: the smallest packet the XDP moves leave.
const ETH_HLEN: i64 = 14;
/// `sizeof(struct xdp_frame)`: Linux keeps it at the start of the headroom, so neither the
/// packet nor its metadata may move into it.
const XDP_FRAME_SIZE: u64 = 40;
/// Largest XDP metadata (`skb_shared_info.meta_len` is a u8).
const MAX_META: u64 = 255;

/// Offsets in the context structures (the Linux catalogue's, widened for address arithmetic).
mod ctx_off {
    use apiary_linux::context::{sk_buff, xdp_md};
    pub const XDP_DATA: u64 = xdp_md::DATA as u64;
    pub const XDP_DATA_END: u64 = xdp_md::DATA_END as u64;
    pub const XDP_DATA_META: u64 = xdp_md::DATA_META as u64;
    pub const SKB_LEN: u64 = sk_buff::LEN as u64;
    pub const SKB_HASH: u64 = sk_buff::HASH as u64;
    pub const SKB_DATA: u64 = sk_buff::DATA as u64;
    pub const SKB_DATA_END: u64 = sk_buff::DATA_END as u64;
    pub const SKB_DATA_META: u64 = sk_buff::DATA_META as u64;
}

/// The frame of a run whose context (`r1`) is `ctx_arg`, if it is of kind `want`.
fn frame<'a>(
    ctx: &HelperContext<'a>,
    id: u32,
    ctx_arg: u64,
    want: fn(FrameKind) -> bool,
) -> Result<(&'a PacketFrame, FrameLayout), HelperError> {
    let frame = ctx
        .control()
        .ok_or(HelperError::NoRunControl { id })?
        .frame();
    match frame.layout() {
        Some(l) if l.ctx == ctx_arg && want(l.kind) => Ok((frame, l)),
        _ => Err(HelperError::NoPacket { id }),
    }
}

fn is_skb(kind: FrameKind) -> bool {
    matches!(kind, FrameKind::SkBuff { .. })
}

fn is_xdp(kind: FrameKind) -> bool {
    kind == FrameKind::Xdp
}

fn put32(ctx: &HelperContext<'_>, addr: u64, value: u64) -> Result<(), HelperError> {
    // Packet addresses in context structures are 32 bits wide (the host keeps the frame below
    // 4 GiB when programs read them).
    ctx.write_from(addr, &(value as u32).to_le_bytes())
}

/// Makes `layout` the frame's and rewrites the context's packet fields to match.
fn commit(
    ctx: &mut HelperContext<'_>,
    frame: &PacketFrame,
    layout: FrameLayout,
) -> Result<(), HelperError> {
    frame.set_layout(Some(layout));
    let c = layout.ctx;
    match layout.kind {
        FrameKind::Xdp => {
            put32(ctx, c + ctx_off::XDP_DATA, layout.data)?;
            put32(ctx, c + ctx_off::XDP_DATA_END, layout.data_end)?;
            put32(ctx, c + ctx_off::XDP_DATA_META, layout.data_meta)
        }
        FrameKind::SkBuff { .. } => {
            put32(ctx, c + ctx_off::SKB_LEN, layout.len())?;
            put32(ctx, c + ctx_off::SKB_DATA, layout.data)?;
            put32(ctx, c + ctx_off::SKB_DATA_END, layout.data_end)?;
            put32(ctx, c + ctx_off::SKB_DATA_META, layout.data_meta)
        }
    }
}

/// `[offset, offset + len)` of the packet as an address, if it lies inside the packet.
fn packet_span(l: &FrameLayout, offset: u64, len: u64) -> Option<u64> {
    let end = offset.checked_add(len)?;
    (end <= l.len()).then_some(l.data + offset)
}

/// The helpers of this module, for [`super::register`].
pub(super) fn helpers() -> Vec<(u32, LinuxHelper)> {
    vec![
        (id::SKB_LOAD_BYTES, Box::new(skb_load_bytes)),
        (id::SKB_STORE_BYTES, Box::new(skb_store_bytes)),
        (id::CSUM_DIFF, Box::new(csum_diff)),
        (id::L3_CSUM_REPLACE, Box::new(l3_csum_replace)),
        (id::L4_CSUM_REPLACE, Box::new(l4_csum_replace)),
        (id::GET_HASH_RECALC, Box::new(get_hash_recalc)),
        (id::REDIRECT, Box::new(redirect)),
        (id::REDIRECT_MAP, Box::new(redirect_map)),
        (id::XDP_ADJUST_HEAD, Box::new(xdp_adjust_head)),
        (id::XDP_ADJUST_META, Box::new(xdp_adjust_meta)),
        (id::XDP_ADJUST_TAIL, Box::new(xdp_adjust_tail)),
    ]
}

type Result64 = Result<u64, HelperError>;

/// `bpf_skb_load_bytes(skb, offset, to, len)`: copies packet bytes; out of range, `to` is
/// zeroed and the result is `-EFAULT`.
fn skb_load_bytes(
    _: &MapTable,
    ctx: &mut HelperContext<'_>,
    [skb, offset, to, len, _]: [u64; 5],
) -> Result64 {
    let (_, l) = frame(ctx, id::SKB_LOAD_BYTES, skb, is_skb)?;
    let (offset, len) = (u64::from(offset as u32), u64::from(len as u32));
    Ok(match packet_span(&l, offset, len) {
        Some(addr) if offset <= i32::MAX as u64 => {
            ctx.copy(to, addr, len)?;
            0
        }
        _ => {
            ctx.fill(to, len, 0)?;
            Errno::Fault.to_r0()
        }
    })
}

/// `bpf_skb_store_bytes(skb, offset, from, len, flags)`: flags `BPF_F_RECOMPUTE_CSUM` (no
/// effect on a `CHECKSUM_NONE` buffer) and `BPF_F_INVALIDATE_HASH` (clears `__sk_buff.hash`).
fn skb_store_bytes(
    _: &MapTable,
    ctx: &mut HelperContext<'_>,
    [skb, offset, from, len, flags]: [u64; 5],
) -> Result64 {
    let (_, l) = frame(ctx, id::SKB_STORE_BYTES, skb, is_skb)?;
    if flags & !(BPF_F_RECOMPUTE_CSUM | BPF_F_INVALIDATE_HASH) != 0 {
        return Ok(Errno::Invalid.to_r0());
    }
    let (offset, len) = (u64::from(offset as u32), u64::from(len as u32));
    if offset > i32::MAX as u64 {
        return Ok(Errno::Fault.to_r0());
    }
    let Some(addr) = packet_span(&l, offset, len) else {
        return Ok(Errno::Fault.to_r0());
    };
    ctx.copy(addr, from, len)?;
    if flags & BPF_F_INVALIDATE_HASH != 0 {
        put32(ctx, l.ctx + ctx_off::SKB_HASH, 0)?;
    }
    Ok(0)
}

/// `bpf_csum_diff(from, from_size, to, to_size, seed)`: `seed + sum(to) - sum(from)` in
/// one's-complement arithmetic, folded to 16 bits, for any sizes, as Linux 6.13 and later
/// ([`csum::diff`]; earlier kernels returned `-EINVAL` for sizes that are not multiples of 4).
fn csum_diff(
    _: &MapTable,
    ctx: &mut HelperContext<'_>,
    [from, from_size, to, to_size, seed]: [u64; 5],
) -> Result64 {
    let (fs, ts) = (u64::from(from_size as u32), u64::from(to_size as u32));
    let from = ctx.read_vec(from, fs)?;
    let to = ctx.read_vec(to, ts)?;
    Ok(u64::from(csum::diff(&from, &to, seed as u32)))
}

/// The checksum field a replace helper updates: its address, or the error to return.
fn csum_field(l: &FrameLayout, offset: u64) -> Result<u64, u64> {
    let offset = u64::from(offset as u32);
    if offset > 0xffff || offset & 1 != 0 {
        return Err(Errno::Fault.to_r0());
    }
    packet_span(l, offset, 2).ok_or(Errno::Fault.to_r0())
}

/// The new checksum for a replace of size `flags & BPF_F_HDR_FIELD_MASK`, or `None` (`-EINVAL`).
fn replaced(check: u16, from: u64, to: u64, flags: u64) -> Option<u16> {
    match flags & BPF_F_HDR_FIELD_MASK {
        0 if from == 0 => Some(csum::replace_by_diff(check, to as u32)),
        2 => Some(csum::replace2(check, from as u16, to as u16)),
        4 => Some(csum::replace4(check, from as u32, to as u32)),
        _ => None,
    }
}

fn read16(ctx: &HelperContext<'_>, addr: u64) -> Result<u16, HelperError> {
    Ok(u16::from_le_bytes(ctx.read_array(addr)?))
}

fn write16(ctx: &HelperContext<'_>, addr: u64, v: u16) -> Result<(), HelperError> {
    ctx.write_from(addr, &v.to_le_bytes())
}

/// `bpf_l3_csum_replace(skb, offset, from, to, flags)`: updates the 16-bit checksum at
/// `offset` for a field changed `from` → `to` (size 2 or 4 in the flags, or 0: `to` is a
/// difference from `bpf_csum_diff` and `from` must be 0).
fn l3_csum_replace(
    _: &MapTable,
    ctx: &mut HelperContext<'_>,
    [skb, offset, from, to, flags]: [u64; 5],
) -> Result64 {
    let (_, l) = frame(ctx, id::L3_CSUM_REPLACE, skb, is_skb)?;
    if flags & !BPF_F_HDR_FIELD_MASK != 0 {
        return Ok(Errno::Invalid.to_r0());
    }
    let addr = match csum_field(&l, offset) {
        Ok(a) => a,
        Err(r0) => return Ok(r0),
    };
    let Some(new) = replaced(read16(ctx, addr)?, from, to, flags) else {
        return Ok(Errno::Invalid.to_r0());
    };
    write16(ctx, addr, new)?;
    Ok(0)
}

/// `bpf_l4_csum_replace(skb, offset, from, to, flags)`: as [`l3_csum_replace`], plus
/// `BPF_F_MARK_MANGLED_0` (leave a zero checksum alone unless `BPF_F_MARK_ENFORCE`, and send a
/// result of 0 as `0xffff`, UDP's rule) and `BPF_F_PSEUDO_HDR` / `BPF_F_IPV6` (accepted; they
/// only change `skb->csum`, which a `CHECKSUM_NONE` buffer does not have).
fn l4_csum_replace(
    _: &MapTable,
    ctx: &mut HelperContext<'_>,
    [skb, offset, from, to, flags]: [u64; 5],
) -> Result64 {
    let (_, l) = frame(ctx, id::L4_CSUM_REPLACE, skb, is_skb)?;
    let known = BPF_F_MARK_MANGLED_0
        | BPF_F_MARK_ENFORCE
        | BPF_F_PSEUDO_HDR
        | BPF_F_IPV6
        | BPF_F_HDR_FIELD_MASK;
    if flags & !known != 0 {
        return Ok(Errno::Invalid.to_r0());
    }
    let addr = match csum_field(&l, offset) {
        Ok(a) => a,
        Err(r0) => return Ok(r0),
    };
    let check = read16(ctx, addr)?;
    let mangled_0 = flags & BPF_F_MARK_MANGLED_0 != 0;
    if mangled_0 && flags & BPF_F_MARK_ENFORCE == 0 && check == 0 {
        return Ok(0);
    }
    let Some(mut new) = replaced(check, from, to, flags) else {
        return Ok(Errno::Invalid.to_r0());
    };
    if mangled_0 && new == 0 {
        new = CSUM_MANGLED_0;
    }
    write16(ctx, addr, new)?;
    Ok(0)
}

/// `bpf_get_hash_recalc(skb)`: the packet's flow hash ([`flow::hash`], deterministic unlike
/// Linux's boot-keyed one), also stored in `__sk_buff.hash`.
fn get_hash_recalc(_: &MapTable, ctx: &mut HelperContext<'_>, [skb, ..]: [u64; 5]) -> Result64 {
    let (_, l) = frame(ctx, id::GET_HASH_RECALC, skb, is_skb)?;
    let FrameKind::SkBuff { l2, protocol } = l.kind else {
        return Err(HelperError::NoPacket {
            id: id::GET_HASH_RECALC,
        });
    };
    let hash = flow::hash(&ctx.read_vec(l.data, l.len())?, l2, protocol);
    put32(ctx, l.ctx + ctx_off::SKB_HASH, u64::from(hash))?;
    Ok(u64::from(hash))
}

/// `bpf_redirect(ifindex, flags)`: records the target for the host and returns the redirect
/// action: in XDP runs `XDP_REDIRECT` (any flag: `XDP_ABORTED`), otherwise (tc)
/// `TC_ACT_REDIRECT` (a flag other than `BPF_F_INGRESS`: `TC_ACT_SHOT`).
fn redirect(_: &MapTable, ctx: &mut HelperContext<'_>, [ifindex, flags, ..]: [u64; 5]) -> Result64 {
    let frame = ctx
        .control()
        .ok_or(HelperError::NoRunControl { id: id::REDIRECT })?
        .frame();
    let xdp = frame.layout().is_some_and(|l| l.kind == FrameKind::Xdp);
    let (bad, action) = if xdp {
        (flags != 0, (XDP_ABORTED, XDP_REDIRECT))
    } else {
        (flags & !BPF_F_INGRESS != 0, (TC_ACT_SHOT, TC_ACT_REDIRECT))
    };
    if bad {
        return Ok(action.0);
    }
    frame.set_redirect(Some(Redirect::Ifindex {
        ifindex: ifindex as u32,
        flags,
    }));
    Ok(action.1)
}

/// `bpf_redirect_map(map, key, flags)` (XDP): `XDP_REDIRECT` when `key` has an entry (apiary
/// has no device, CPU or socket maps, so any map with 4-byte keys serves as the target table;
/// the map and key are recorded for the host), else the action in the low two bits of `flags`.
/// Unknown flags: `XDP_ABORTED`.
fn redirect_map(
    t: &MapTable,
    ctx: &mut HelperContext<'_>,
    [m, key, flags, ..]: [u64; 5],
) -> Result64 {
    let map = map(t, m)?;
    let frame = ctx
        .control()
        .ok_or(HelperError::NoRunControl {
            id: id::REDIRECT_MAP,
        })?
        .frame();
    if flags & !(XDP_ACTION_MASK | BPF_F_BROADCAST | BPF_F_EXCLUDE_INGRESS) != 0 {
        return Ok(XDP_ABORTED);
    }
    let key = key as u32;
    let found =
        map.spec().key_size == 4 && map.lookup(&key.to_le_bytes(), ctx.worker_slot()).is_some();
    if !found && flags & BPF_F_BROADCAST == 0 {
        return Ok(flags & XDP_ACTION_MASK);
    }
    frame.set_redirect(Some(Redirect::Map { map: m, key }));
    Ok(XDP_REDIRECT)
}

/// `bpf_xdp_adjust_head(xdp, delta)`: moves `data` by `delta` (negative: grows the packet into
/// the headroom), keeping the metadata just before it; at least 14 bytes must remain, and
/// neither may enter the `xdp_frame` area at the start of the headroom (`-EINVAL`).
fn xdp_adjust_head(
    _: &MapTable,
    ctx: &mut HelperContext<'_>,
    [xdp, delta, ..]: [u64; 5],
) -> Result64 {
    let (frame, mut l) = frame(ctx, id::XDP_ADJUST_HEAD, xdp, is_xdp)?;
    let delta = i64::from(delta as i32);
    let metalen = l.data - l.data_meta;
    let data_start = (l.hard_start + XDP_FRAME_SIZE + metalen) as i64;
    let data = l.data as i64 + delta;
    if data < data_start || data > l.data_end as i64 - ETH_HLEN {
        return Ok(Errno::Invalid.to_r0());
    }
    let meta = (l.data_meta as i64 + delta) as u64;
    if metalen > 0 {
        ctx.copy(meta, l.data_meta, metalen)?;
    }
    l.data_meta = meta;
    l.data = data as u64;
    commit(ctx, frame, l)?;
    Ok(0)
}

/// `bpf_xdp_adjust_meta(xdp, delta)`: moves `data_meta` by `delta`; it must stay between the
/// `xdp_frame` area and `data` (`-EINVAL`), and the metadata length must be a multiple of 4 of
/// at most 255 bytes (`-EACCES`).
fn xdp_adjust_meta(
    _: &MapTable,
    ctx: &mut HelperContext<'_>,
    [xdp, delta, ..]: [u64; 5],
) -> Result64 {
    let (frame, mut l) = frame(ctx, id::XDP_ADJUST_META, xdp, is_xdp)?;
    let meta = l.data_meta as i64 + i64::from(delta as i32);
    if meta < (l.hard_start + XDP_FRAME_SIZE) as i64 || meta > l.data as i64 {
        return Ok(Errno::Invalid.to_r0());
    }
    let metalen = l.data - meta as u64;
    if metalen & 3 != 0 || metalen > MAX_META {
        return Ok(Errno::Access.to_r0());
    }
    l.data_meta = meta as u64;
    commit(ctx, frame, l)?;
    Ok(0)
}

/// `bpf_xdp_adjust_tail(xdp, delta)`: moves `data_end` by `delta` within the tailroom (up to
/// the frame's hard end, `-EINVAL` beyond) leaving at least 14 bytes (`-EINVAL`); grown bytes
/// are zeroed.
fn xdp_adjust_tail(
    _: &MapTable,
    ctx: &mut HelperContext<'_>,
    [xdp, delta, ..]: [u64; 5],
) -> Result64 {
    let (frame, mut l) = frame(ctx, id::XDP_ADJUST_TAIL, xdp, is_xdp)?;
    let delta = i64::from(delta as i32);
    let end = l.data_end as i64 + delta;
    if end > l.hard_end as i64 || end < l.data as i64 + ETH_HLEN {
        return Ok(Errno::Invalid.to_r0());
    }
    let old_end = l.data_end;
    l.data_end = end as u64;
    commit(ctx, frame, l)?;
    if delta > 0 {
        ctx.fill(old_end, delta as u64, 0)?;
    }
    Ok(0)
}
