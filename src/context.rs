//! Program-type contexts, laid out as Linux lays them out: what r1 points at when a program of
//! an object runs, and how one run's input (a packet, or raw context bytes) becomes that.
//!
//! | kind | r1 | input is |
//! | --- | --- | --- |
//! | [`ContextKind::Mem`] | the input (r2 = its length) | the memory itself |
//! | [`ContextKind::Xdp`] | `struct xdp_md` (24 bytes) | the packet |
//! | [`ContextKind::SkBuff`] | `struct __sk_buff` (192 bytes) | the packet (an Ethernet frame) |
//! | [`ContextKind::Struct`] | the input, zero-padded to the context size | the context bytes |
//!
//! Packet contexts hold 32-bit packet addresses (`data`, `data_end`, `data_meta`), so the
//! context and packet live in a [`ContextBuffer`] below 4 GiB ([`crate::lowmem`]). The packet
//! follows [`XDP_HEADROOM`] bytes of headroom, as on Linux; the rest of the region is tailroom.
//! The run's packet frame ([`apiary_vm::packet`]) tells the engines where the packet ends (a
//! read past `data_end` faults in checked mode) and lets the packet helpers move its bounds:
//! an XDP packet may grow into the headroom (`bpf_xdp_adjust_head`) and, like the 4 KiB frames
//! of Linux's `BPF_PROG_TEST_RUN`, up to [`XDP_FRAME_SIZE`] minus [`XDP_TAIL_RESERVE`] at its
//! end (`bpf_xdp_adjust_tail`). The run's output packet is the adjusted one.

use apiary_linux::context::{sk_buff, xdp_md, RunContext};
use apiary_linux::ProgramType as LinuxType;
use apiary_vm::{ExecState, FrameKind, FrameLayout, Redirect, Region};

use crate::lowmem::LowMemory;

/// Bytes Linux reserves before an XDP packet (`XDP_PACKET_HEADROOM`).
pub const XDP_HEADROOM: usize = 256;
/// Size of the frame an XDP packet lives in (a page, as `BPF_PROG_TEST_RUN` allocates).
pub const XDP_FRAME_SIZE: usize = 4096;
/// Bytes at the end of an XDP frame the packet may not grow into (Linux's
/// `SKB_DATA_ALIGN(sizeof(struct skb_shared_info))` on x86-64).
pub const XDP_TAIL_RESERVE: usize = 320;
/// Largest packet a [`ContextBuffer`] takes.
pub const MAX_PACKET: usize = 64 * 1024;
/// Largest input of a [`ContextKind::Mem`] run (and of a [`ContextKind::Struct`] context of
/// unknown size): the memory is copied per run and per engine, so a bound keeps a mistaken
/// `--mem` (a disk image, `/dev/zero`) from exhausting the host.
pub const MAX_MEM: usize = 64 << 20;
/// Room for the context structure at the start of the buffer (the largest, a tracepoint
/// record, is bounded by a page).
const CTX_SPACE: usize = 4096;
/// Where the packet region starts in the buffer.
const PACKET_REGION_AT: usize = CTX_SPACE;
/// Length of the packet region: headroom plus the largest packet.
const PACKET_REGION_LEN: usize = XDP_HEADROOM + MAX_PACKET;

/// Ethernet header length; socket filters see the packet from the network header.
const ETH_HLEN: usize = 14;

/// The interface index test runs use (the loopback device, as `BPF_PROG_TEST_RUN`).
const LOOPBACK_IFINDEX: u32 = 1;

/// What a program receives in r1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ContextKind {
    /// r1 = the input memory, r2 = its length (raw programs, unknown section names).
    Mem,
    /// `struct xdp_md` over a packet; r0 is an XDP action.
    Xdp,
    /// `struct __sk_buff` over a packet. `l2`: the packet data starts at the Ethernet header
    /// (tc); otherwise at the network header (socket filters, cgroup skb, lwt), with the
    /// Ethernet header of the input stripped, as `BPF_PROG_TEST_RUN` does. Legacy
    /// `LD_ABS`/`LD_IND` loads read the packet data.
    SkBuff { l2: bool },
    /// A read-only context structure of `size` bytes (kprobe `pt_regs`, tracepoint records,
    /// raw tracepoint arguments, perf events): the input, zero-padded to `size`. `size` 0 takes
    /// the input as it is. (Writes are refused by the verifier; unverified runs may write the
    /// copy.)
    Struct { size: usize },
}

impl ContextKind {
    /// The context a program of Linux type `t` runs with: the catalogue's
    /// ([`apiary_linux::ProgramType::info`]), so that it is the context the verifier checked
    /// the program against.
    #[must_use]
    pub const fn for_linux(t: LinuxType) -> Self {
        match t.info().run {
            RunContext::Mem => ContextKind::Mem,
            RunContext::Xdp => ContextKind::Xdp,
            RunContext::SkBuff { l2 } => ContextKind::SkBuff { l2 },
            RunContext::Struct { size } => ContextKind::Struct {
                size: size as usize,
            },
        }
    }

    /// The verifier's program type for a program of Linux type `t` run with this context:
    /// `t` itself when this is `t`'s context ([`ContextKind::for_linux`]), else the first Linux
    /// type (in id order) that runs with this context, and for a structure no type has, a raw
    /// tracepoint's read-only arguments; [`ContextKind::Mem`] forced on a type with a context is
    /// the `mem` type. Only a
    /// context forced through [`crate::object::ObjectOptions::context`] differs from its
    /// program's; `apiary verify` and `apiary run` choose a type, not a context
    /// ([`crate::platform::choose_type`]).
    #[must_use]
    pub fn verifier_type(self, t: LinuxType) -> apiary_verifier::ProgramType {
        use apiary_verifier::ProgramType as V;
        if self == Self::for_linux(t) {
            return V::linux(t);
        }
        if self == ContextKind::Mem {
            return V::mem(None);
        }
        LinuxType::ALL
            .into_iter()
            .find(|&other| Self::for_linux(other) == self)
            .map_or_else(V::raw_tracepoint, V::linux)
    }

    /// The largest input a run of this context takes: the packet limit for packet contexts
    /// (plus the Ethernet header socket filters drop), the structure's size for a context
    /// structure (Linux's `BPF_PROG_TEST_RUN` refuses a larger `ctx_in` too), [`MAX_MEM`]
    /// otherwise. Callers reading input from files check it before reading.
    #[must_use]
    pub const fn max_input(self) -> usize {
        match self {
            ContextKind::Xdp | ContextKind::SkBuff { l2: true } => MAX_PACKET,
            ContextKind::SkBuff { l2: false } => MAX_PACKET + ETH_HLEN,
            ContextKind::Struct { size } if size > 0 => size,
            ContextKind::Mem | ContextKind::Struct { .. } => MAX_MEM,
        }
    }

    /// What a run's input is for this context, for messages.
    #[must_use]
    pub const fn input_name(self) -> &'static str {
        match self {
            ContextKind::Mem => "input memory",
            ContextKind::Xdp => "XDP packet",
            ContextKind::SkBuff { .. } => "socket buffer packet",
            ContextKind::Struct { .. } => "context structure",
        }
    }

    /// Whether the context points into a packet (and so needs a [`ContextBuffer`]).
    #[must_use]
    pub const fn has_packet(self) -> bool {
        matches!(self, ContextKind::Xdp | ContextKind::SkBuff { .. })
    }

    /// The name of the action `r0` stands for (XDP and tc), if it is one.
    #[must_use]
    pub fn action_name(self, r0: u64) -> Option<&'static str> {
        match self {
            ContextKind::Xdp => Some(match r0 as u32 {
                0 => "XDP_ABORTED",
                1 => "XDP_DROP",
                2 => "XDP_PASS",
                3 => "XDP_TX",
                4 => "XDP_REDIRECT",
                _ => return None,
            }),
            ContextKind::SkBuff { l2: true } => Some(match r0 as u32 as i32 {
                -1 => "TC_ACT_UNSPEC",
                0 => "TC_ACT_OK",
                1 => "TC_ACT_RECLASSIFY",
                2 => "TC_ACT_SHOT",
                3 => "TC_ACT_PIPE",
                4 => "TC_ACT_STOLEN",
                5 => "TC_ACT_QUEUED",
                6 => "TC_ACT_REPEAT",
                7 => "TC_ACT_REDIRECT",
                _ => return None,
            }),
            _ => None,
        }
    }
}

/// Why a run's input could not become its context.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ContextError {
    /// The packet does not fit the buffer.
    #[error("packet of {len} bytes is larger than the maximum of {max}")]
    PacketTooLarge { len: usize, max: usize },
    /// A socket-buffer program needs at least an Ethernet header.
    #[error("packet of {len} bytes is shorter than the {min}-byte Ethernet header")]
    PacketTooShort { len: usize, min: usize },
}

/// Where the current run's packet lies in a [`ContextBuffer`] when the run starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketPlace {
    /// Offset of `data` in the buffer.
    at: usize,
    /// Packet length.
    len: usize,
}

/// The context structure and packet of one runner, below 4 GiB: allocated once, reused by
/// every run. The packet region is fixed when programs are prepared
/// ([`ContextBuffer::packet_region`]).
#[derive(Debug)]
pub struct ContextBuffer {
    mem: LowMemory,
}

impl ContextBuffer {
    /// Maps the buffer.
    ///
    /// # Errors
    /// The `mmap` error when no memory below 4 GiB is available.
    pub fn new() -> std::io::Result<Self> {
        Self::new_in(None)
    }

    /// Bytes a buffer takes.
    pub const LEN: usize = CTX_SPACE + PACKET_REGION_LEN;

    /// Maps the buffer in `window` (below 4 GiB; sandboxed verified mode) or on its own.
    ///
    /// # Errors
    /// The `mmap` error, or no room in the window.
    pub fn new_in(
        window: Option<&std::sync::Arc<apiary_vm::window::Window>>,
    ) -> std::io::Result<Self> {
        Ok(Self {
            mem: match window {
                Some(w) => LowMemory::in_window(w, Self::LEN)?,
                None => LowMemory::new(Self::LEN)?,
            },
        })
    }

    /// The packet region (headroom and the largest packet), writable, for an environment.
    #[must_use]
    pub fn packet_region(&self) -> Option<Region> {
        let len = self.mem.len() - PACKET_REGION_AT;
        self.mem.region(PACKET_REGION_AT, len, true)
    }

    /// Writes `packet` after the headroom of the packet region (zeroing the headroom, which a
    /// previous run may have filled); returns where it lies.
    fn place_packet(&mut self, packet: &[u8]) -> Result<PacketPlace, ContextError> {
        let room = self.mem.len() - PACKET_REGION_AT - XDP_HEADROOM;
        if packet.len() > room.min(MAX_PACKET) {
            return Err(ContextError::PacketTooLarge {
                len: packet.len(),
                max: MAX_PACKET,
            });
        }
        let at = PACKET_REGION_AT + XDP_HEADROOM;
        self.mem.zero(PACKET_REGION_AT, XDP_HEADROOM);
        self.mem.write(at, packet);
        Ok(PacketPlace {
            at,
            len: packet.len(),
        })
    }

    /// The frame of a run over the packet at `p`: its bounds and how far it may move.
    fn layout(&self, kind: FrameKind, p: PacketPlace) -> FrameLayout {
        let base = self.mem.addr();
        let hard_start = base + PACKET_REGION_AT as u64;
        let data = base + p.at as u64;
        let data_end = data + p.len as u64;
        let limit = base + self.mem.len() as u64;
        let hard_end = match kind {
            // Packets longer than a frame's room keep their length as the limit.
            FrameKind::Xdp => {
                (hard_start + (XDP_FRAME_SIZE - XDP_TAIL_RESERVE) as u64).clamp(data_end, limit)
            }
            FrameKind::SkBuff { .. } => data_end,
        };
        FrameLayout {
            kind,
            ctx: base,
            hard_start,
            data_meta: data,
            data,
            data_end,
            hard_end,
            limit,
        }
    }

    /// Makes `layout` the frame of `state`'s runs.
    fn set_frame(&self, state: &mut ExecState, layout: FrameLayout) {
        // SAFETY: `[hard_start, limit)` is this buffer's packet region, which the owner
        // registers (writable) in the environment of every program run with `state` and keeps
        // alive for those runs; `ctx` is offset 0, where `prepare` writes the context of
        // `layout.kind`; `layout` (built by `Self::layout`) is ordered.
        unsafe { state.set_frame(Some(layout)) };
    }

    fn addr32(&self, at: usize) -> u32 {
        // The whole mapping lies below 4 GiB (checked when it was made).
        (self.mem.addr() + at as u64) as u32
    }

    /// Lays out the context of `kind` for `input` and returns the context bytes' place (for
    /// the run's input slice) and the packet's place. `state` gets the packet for legacy packet
    /// loads (socket buffers) or none.
    ///
    /// # Errors
    /// [`ContextError`] when the packet does not fit.
    pub fn prepare(
        &mut self,
        kind: ContextKind,
        input: &[u8],
        state: &mut ExecState,
    ) -> Result<(usize, Option<PacketPlace>), ContextError> {
        self.mem.clear_packet(state);
        // SAFETY: no frame: nothing is promised.
        unsafe { state.set_frame(None) };
        match kind {
            ContextKind::Xdp => {
                let p = self.place_packet(input)?;
                let layout = self.layout(FrameKind::Xdp, p);
                let mut ctx = [0u8; xdp_md::SIZE as usize];
                let data = self.addr32(p.at);
                let end = self.addr32(p.at + p.len);
                put32(&mut ctx, xdp_md::DATA, data);
                put32(&mut ctx, xdp_md::DATA_END, end);
                put32(&mut ctx, xdp_md::DATA_META, data);
                put32(&mut ctx, xdp_md::INGRESS_IFINDEX, LOOPBACK_IFINDEX);
                self.mem.write(0, &ctx);
                self.set_frame(state, layout);
                Ok((xdp_md::SIZE as usize, Some(p)))
            }
            ContextKind::SkBuff { l2 } => {
                if input.len() < ETH_HLEN {
                    return Err(ContextError::PacketTooShort {
                        len: input.len(),
                        min: ETH_HLEN,
                    });
                }
                // skb->protocol: the EtherType as it sits in the frame (network order).
                let protocol = u32::from(u16::from_ne_bytes([input[12], input[13]]));
                let data = if l2 { input } else { &input[ETH_HLEN..] };
                let p = self.place_packet(data)?;
                let ether_type = u16::from_be_bytes([input[12], input[13]]);
                let layout = self.layout(
                    FrameKind::SkBuff {
                        l2,
                        protocol: ether_type,
                    },
                    p,
                );
                let mut ctx = [0u8; sk_buff::SIZE as usize];
                let start = self.addr32(p.at);
                put32(&mut ctx, sk_buff::LEN, p.len as u32);
                put32(&mut ctx, sk_buff::PROTOCOL, protocol);
                put32(&mut ctx, sk_buff::IFINDEX, LOOPBACK_IFINDEX);
                put32(&mut ctx, sk_buff::DATA, start);
                put32(&mut ctx, sk_buff::DATA_END, self.addr32(p.at + p.len));
                put32(&mut ctx, sk_buff::DATA_META, start);
                put32(&mut ctx, sk_buff::WIRE_LEN, input.len() as u32);
                self.mem.write(0, &ctx);
                self.mem.set_packet(state, p.at, p.len);
                self.set_frame(state, layout);
                Ok((sk_buff::SIZE as usize, Some(p)))
            }
            ContextKind::Mem | ContextKind::Struct { .. } => Ok((0, None)),
        }
    }

    /// The context bytes laid out by [`ContextBuffer::prepare`], as the run's input.
    pub fn context(&mut self, len: usize) -> &mut [u8] {
        self.mem.slice_mut(0, len).unwrap_or_default()
    }

    /// The packet after a run: `data..data_end` of the run's frame (the helpers may have moved
    /// them), or the packet as placed when the run has no frame.
    #[must_use]
    pub fn packet(&self, place: PacketPlace, state: &ExecState) -> Vec<u8> {
        let base = self.mem.addr();
        let span = state
            .control()
            .frame()
            .layout()
            .and_then(|l| Some(((l.data.checked_sub(base))? as usize, l.len() as usize)));
        let (at, len) = span.unwrap_or((place.at, place.len));
        self.mem.read(at, len).unwrap_or_default()
    }

    /// The redirect target a helper recorded in the last run, if any.
    #[must_use]
    pub fn redirect(state: &ExecState) -> Option<Redirect> {
        state.control().frame().redirect()
    }

    /// Forgets the state's packet, frame and redirect after a run (read them first).
    pub fn finish(&self, state: &mut ExecState) {
        self.mem.clear_packet(state);
        // SAFETY: no frame: nothing is promised.
        unsafe { state.set_frame(None) };
    }
}

fn put32(buf: &mut [u8], at: u32, v: u32) {
    let at = at as usize;
    if let Some(b) = buf.get_mut(at..at + 4) {
        b.copy_from_slice(&v.to_le_bytes());
    }
}

/// The context bytes of a [`ContextKind::Struct`] run: the input zero-padded to `size`.
#[must_use]
pub fn struct_context(size: usize, input: &[u8]) -> Vec<u8> {
    let mut ctx = input.to_vec();
    if ctx.len() < size {
        ctx.resize(size, 0);
    }
    ctx
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get32(b: &[u8], at: usize) -> u32 {
        u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
    }

    #[test]
    fn xdp_context_points_at_the_packet() {
        let mut buf = ContextBuffer::new().expect("low memory");
        let mut state = ExecState::new();
        let packet: Vec<u8> = (0..60).collect();
        let (len, place) = buf
            .prepare(ContextKind::Xdp, &packet, &mut state)
            .expect("fits");
        let place = place.expect("packet");
        let ctx = buf.context(len).to_vec();
        let (data, end) = (get32(&ctx, 0), get32(&ctx, 4));
        assert_eq!(end - data, 60);
        assert_eq!(get32(&ctx, 8), data);
        let region = buf.packet_region().expect("region");
        assert_eq!(u64::from(data), region.start + XDP_HEADROOM as u64);
        let frame = state.control().frame().layout().expect("frame");
        assert_eq!(frame.limit, region.start + region.len);
        assert_eq!(frame.hard_start, region.start);
        assert_eq!(frame.data_end, u64::from(end));
        assert_eq!(
            frame.hard_end - frame.hard_start,
            (XDP_FRAME_SIZE - XDP_TAIL_RESERVE) as u64
        );
        assert_eq!(buf.packet(place, &state), packet);
        assert!(state.packet().is_none());
        buf.finish(&mut state);
        assert!(state.control().frame().layout().is_none());
        assert_eq!(
            buf.prepare(ContextKind::Xdp, &vec![0; MAX_PACKET + 1], &mut state),
            Err(ContextError::PacketTooLarge {
                len: MAX_PACKET + 1,
                max: MAX_PACKET
            })
        );
    }

    #[test]
    fn input_limits_follow_the_context() {
        assert_eq!(ContextKind::Xdp.max_input(), MAX_PACKET);
        assert_eq!(ContextKind::SkBuff { l2: true }.max_input(), MAX_PACKET);
        assert_eq!(
            ContextKind::SkBuff { l2: false }.max_input(),
            MAX_PACKET + ETH_HLEN
        );
        assert_eq!(
            crate::platform::TypeChoice::named("kprobe").map(|t| t.context().max_input()),
            Some(168)
        );
        assert_eq!(ContextKind::Struct { size: 0 }.max_input(), MAX_MEM);
        assert_eq!(ContextKind::Mem.max_input(), MAX_MEM);
    }

    #[test]
    fn sk_buff_strips_ethernet_for_socket_filters() {
        let mut buf = ContextBuffer::new().expect("low memory");
        let mut state = ExecState::new();
        let mut frame = vec![0u8; 34];
        frame[12] = 0x08;
        let (len, place) = buf
            .prepare(ContextKind::SkBuff { l2: false }, &frame, &mut state)
            .expect("fits");
        let ctx = buf.context(len).to_vec();
        assert_eq!(get32(&ctx, 0), 20);
        assert_eq!(get32(&ctx, 16), 0x0008);
        assert_eq!(get32(&ctx, 80) - get32(&ctx, 76), 20);
        assert_eq!(place.map(|p| p.len), Some(20));
        assert_eq!(state.packet().map(|r| r.len), Some(20));
        buf.finish(&mut state);
        assert!(state.packet().is_none());
        assert!(buf
            .prepare(ContextKind::SkBuff { l2: true }, &[0; 4], &mut state)
            .is_err());
    }
}
