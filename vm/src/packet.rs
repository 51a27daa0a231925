//! The run's packet frame: where the packet of an XDP or socket-buffer run lies, so that the
//! packet helpers (`bpf_skb_load_bytes`, `bpf_xdp_adjust_head`, ...) can find it, move its
//! bounds, and keep the context structure (`xdp_md`, `__sk_buff`) in step, and so that checked
//! accesses follow the packet's current end.
//!
//! The host describes the frame before a run ([`crate::ExecState::set_frame`]); it lives in the
//! run's [`crate::RunControl`], so helpers reach it through their context and the driver reads
//! the adjusted packet back after the run. Every cell is a [`Cell`]: a run is single-threaded.
//!
//! Layout (addresses grow to the right), as in Linux's `struct xdp_buff`:
//!
//! ```text
//! hard_start ... data_meta ... data ...packet... data_end ...tailroom... hard_end ... limit
//! ```
//!
//! `[data_end, limit)` is the packet region's unused tail: no load or store may touch it
//! ([`PacketFrame::allows`]), so a read past the packet's end faults in checked mode even after
//! `bpf_xdp_adjust_tail` shrank the packet.

use std::cell::Cell;

/// Which context structure a frame belongs to (helpers with one id and two behaviours, such as
/// `bpf_redirect`, pick XDP's or tc's by it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameKind {
    /// `struct xdp_md`: `data` at 0, `data_end` at 4, `data_meta` at 8.
    Xdp,
    /// `struct __sk_buff`: `len` at 0, `hash` at 68, `data` at 76, `data_end` at 80,
    /// `data_meta` at 140. `protocol` is the EtherType (host order) of the frame, needed when
    /// the packet data starts at the network header (`l2 == false`, socket filters).
    SkBuff { l2: bool, protocol: u16 },
}

/// Where a run's packet and context lie (host addresses).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameLayout {
    /// The context structure's kind.
    pub kind: FrameKind,
    /// Address of the context structure (r1 at entry).
    pub ctx: u64,
    /// First byte of the headroom (Linux `data_hard_start`).
    pub hard_start: u64,
    /// Start of the metadata (equal to `data` when there is none).
    pub data_meta: u64,
    /// First packet byte.
    pub data: u64,
    /// One past the last packet byte.
    pub data_end: u64,
    /// How far `data_end` may grow (Linux `xdp_data_hard_end`).
    pub hard_end: u64,
    /// End of the packet region: `[data_end, limit)` is inaccessible.
    pub limit: u64,
}

impl FrameLayout {
    /// Whether the pointers are ordered as the frame requires
    /// (`hard_start <= data_meta <= data <= data_end <= hard_end <= limit`).
    #[must_use]
    pub const fn is_ordered(&self) -> bool {
        self.hard_start <= self.data_meta
            && self.data_meta <= self.data
            && self.data <= self.data_end
            && self.data_end <= self.hard_end
            && self.hard_end <= self.limit
    }

    /// Packet length (`data_end - data`).
    #[must_use]
    pub const fn len(&self) -> u64 {
        self.data_end.saturating_sub(self.data)
    }

    /// Whether the packet is empty.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Where a redirecting helper sent the packet (Linux keeps this in `bpf_redirect_info`; apiary
/// hands it to the host after the run).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Redirect {
    /// `bpf_redirect`: an interface index and the flags (`BPF_F_INGRESS`).
    Ifindex { ifindex: u32, flags: u64 },
    /// `bpf_redirect_map`: the map's handle and the key.
    Map { map: u64, key: u32 },
}

/// The frame cells of one run (see the module documentation).
#[derive(Debug, Default)]
pub struct PacketFrame {
    layout: Cell<Option<FrameLayout>>,
    redirect: Cell<Option<Redirect>>,
}

impl PacketFrame {
    /// The current layout, if the run has a packet.
    #[must_use]
    pub fn layout(&self) -> Option<FrameLayout> {
        self.layout.get()
    }

    /// Replaces the layout. Only for [`crate::ExecState::set_frame`] and for helpers, which
    /// keep it ordered and inside the bounds the host gave.
    pub(crate) fn set_layout(&self, layout: Option<FrameLayout>) {
        self.layout.set(layout);
    }

    /// The redirect the last redirecting helper of the run recorded.
    #[must_use]
    pub fn redirect(&self) -> Option<Redirect> {
        self.redirect.get()
    }

    /// Records (or clears) the run's redirect target.
    pub fn set_redirect(&self, redirect: Option<Redirect>) {
        self.redirect.set(redirect);
    }

    /// Whether `[addr, addr + len)` avoids the unused tail `[data_end, limit)` of the packet
    /// region (always true without a packet). Callers have checked the range lies in a region,
    /// so `addr + len` does not overflow; it saturates anyway.
    #[inline]
    #[must_use]
    pub fn allows(&self, addr: u64, len: u64) -> bool {
        match self.layout.get() {
            None => true,
            Some(l) => addr >= l.limit || addr.saturating_add(len) <= l.data_end,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_is_out_of_reach() {
        let frame = PacketFrame::default();
        assert!(frame.allows(0, 100));
        frame.set_layout(Some(FrameLayout {
            kind: FrameKind::Xdp,
            ctx: 0,
            hard_start: 1000,
            data_meta: 1256,
            data: 1256,
            data_end: 1300,
            hard_end: 2000,
            limit: 3000,
        }));
        assert!(frame.allows(1000, 300));
        assert!(!frame.allows(1299, 2));
        assert!(!frame.allows(2999, 1));
        assert!(frame.allows(3000, 8));
        assert!(frame.allows(900, 8));
    }
}
