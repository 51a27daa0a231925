//! The Linux packet helpers on the interpreter, over a packet frame laid out as the root
//! crate's context buffer lays it out (256 bytes of headroom, a 4 KiB XDP frame): results,
//! error numbers, flag checks, bounds, and the packet and context afterwards.

use std::sync::Arc;

use apiary_testkit::packet::{self, checksum, Eth, Ipv4, Packet};
use apiary_vm::asm::assemble;
use apiary_vm::linux::{self, host, LinuxOptions};
use apiary_vm::maps::{bind, map_type, MapOptions, MapSpec, MapTable};
use apiary_vm::{
    Environment, ExecConfig, ExecState, Executable, Fault, FrameKind, FrameLayout, HelperError,
    Interpreter, LoadOptions, Program, Redirect, Region,
};

const HEADROOM: usize = 256;
const FRAME: usize = 4096;
const TAIL_RESERVE: usize = 320;
const EFAULT: u64 = -14i64 as u64;
const EINVAL: u64 = -22i64 as u64;
const EACCES: u64 = -13i64 as u64;

/// One packet run: the packet buffer (headroom, packet, tailroom) and the context.
struct Run {
    buf: Vec<u8>,
    ctx: Vec<u8>,
    state: ExecState,
    result: Result<u64, Fault>,
}

impl Run {
    fn layout(&self) -> FrameLayout {
        self.state.control().frame().layout().expect("frame")
    }

    fn packet(&self) -> Vec<u8> {
        let l = self.layout();
        let at = (l.data - self.buf.as_ptr() as u64) as usize;
        self.buf[at..at + l.len() as usize].to_vec()
    }

    fn ctx32(&self, at: usize) -> u32 {
        u32::from_le_bytes(self.ctx[at..at + 4].try_into().expect("4 bytes"))
    }

    fn r0(&self) -> u64 {
        self.result.expect("runs")
    }
}

fn table() -> Arc<MapTable> {
    let spec = MapSpec {
        map_type: map_type::ARRAY,
        key_size: 4,
        value_size: 4,
        max_entries: 4,
        ..MapSpec::default()
    };
    Arc::new(MapTable::from_specs(&[spec], MapOptions::default()).expect("maps"))
}

/// Runs `text` with r1 = a context of `kind` over `packet`.
fn run(text: &str, kind: FrameKind, packet: &[u8]) -> Run {
    let table = table();
    let insns = assemble(text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let program = Program::new(insns, &LoadOptions::all()).expect("loads");
    let bound = bind(&program, &table).expect("binds");
    let mut buf = vec![0xeeu8; HEADROOM + packet.len().max(FRAME)];
    buf[HEADROOM..HEADROOM + packet.len()].copy_from_slice(packet);
    let mut ctx = vec![0u8; 192];
    let base = buf.as_ptr() as u64;
    let data = base + HEADROOM as u64;
    let data_end = data + packet.len() as u64;
    let limit = base + buf.len() as u64;
    let layout = FrameLayout {
        kind,
        ctx: ctx.as_ptr() as u64,
        hard_start: base,
        data_meta: data,
        data,
        data_end,
        hard_end: match kind {
            FrameKind::Xdp => (base + (FRAME - TAIL_RESERVE) as u64).max(data_end),
            FrameKind::SkBuff { .. } => data_end,
        },
        limit,
    };
    let mut regions = table.regions().to_vec();
    regions.push(Region::writable(&mut buf));
    let env = Environment {
        window: None,
        helpers: Arc::new(linux::helpers(&table, &LinuxOptions::default())),
        regions: Arc::from(regions),
        config: ExecConfig {
            budget: Some(100_000),
        },
    };
    let interp = Interpreter::new(Arc::new(bound.program), &env).expect("prepares");
    let mut state = ExecState::new();
    // SAFETY: `buf` and `ctx` outlive the run; the packet region is registered writable.
    unsafe { state.set_frame(Some(layout)) };
    let result = interp.run(&mut state, &mut ctx).result;
    Run {
        buf,
        ctx,
        state,
        result,
    }
}

const TC: FrameKind = FrameKind::SkBuff {
    l2: true,
    protocol: 0x0800,
};

/// An immediate the assembler takes: negative values in decimal, others in hex.
fn imm(v: i64) -> String {
    if v < 0 {
        v.to_string()
    } else {
        format!("{v:#x}")
    }
}

fn frame_bytes(n: usize) -> Vec<u8> {
    (0..n).map(|i| i as u8).collect()
}

/// `r0 = helper(r1 = ctx, r2..r5)` then the program returns r0; `pre` runs first.
fn call(pre: &str, id: u32, args: &str) -> String {
    format!("mov %r6, %r1\n{pre}\nmov %r1, %r6\n{args}\ncall {id}\nexit")
}

#[test]
fn skb_load_bytes_copies_or_zeroes() {
    let p = frame_bytes(60);
    // 8 bytes at offset 12 into [r10-8], returned as r0 after the call's own result is 0.
    let text = |off: i64, len: u32| {
        format!(
            "mov %r6, %r1\nstdw [%r10-8], -1\nmov %r1, %r6\nmov %r2, {}\nmov %r3, %r10\nadd %r3, -8\nmov %r4, {len}\ncall 26\nldxdw %r1, [%r10-8]\nstxdw [%r6+48], %r1\nexit",
            imm(off)
        )
    };
    let r = run(&text(12, 8), TC, &p);
    assert_eq!(r.r0(), 0);
    assert_eq!(&r.ctx[48..56], &p[12..20]);
    // The last byte exactly, then one past the end: -EFAULT and a zeroed buffer.
    let r = run(&text(52, 8), TC, &p);
    assert_eq!(r.r0(), 0);
    let r = run(&text(53, 8), TC, &p);
    assert_eq!(r.r0(), EFAULT);
    assert_eq!(&r.ctx[48..56], &[0; 8]);
    // Offsets above INT_MAX and "negative" ones.
    assert_eq!(run(&text(0x8000_0000, 4), TC, &p).r0(), EFAULT);
    assert_eq!(run(&text(-1, 4), TC, &p).r0(), EFAULT);
    // Zero length: nothing to copy.
    assert_eq!(run(&text(60, 0), TC, &p).r0(), 0);
    assert_eq!(run(&text(61, 0), TC, &p).r0(), EFAULT);
    // A destination outside every region is a fault, not an errno.
    let bad = call("", 26, "mov %r2, 0\nmov %r3, 16\nmov %r4, 4");
    assert!(matches!(
        run(&bad, TC, &p).result,
        Err(Fault::Helper {
            error: HelperError::OutOfBounds { .. },
            ..
        })
    ));
    // Without the context in r1, or in an XDP run: the program has no socket buffer.
    let no_ctx = "mov %r1, 0\nmov %r2, 0\nmov %r3, %r10\nadd %r3, -8\nmov %r4, 4\ncall 26\nexit";
    assert!(matches!(
        run(no_ctx, TC, &p).result,
        Err(Fault::Helper {
            error: HelperError::NoPacket { id: 26 },
            ..
        })
    ));
    assert!(matches!(
        run(&text(0, 4), FrameKind::Xdp, &p).result,
        Err(Fault::Helper {
            error: HelperError::NoPacket { id: 26 },
            ..
        })
    ));
}

#[test]
fn skb_store_bytes_flags_and_bounds() {
    let p = frame_bytes(40);
    let text = |off: i64, len: u32, flags: u64| {
        call(
            "lddw %r1, 0x1122334455667788\nstxdw [%r10-8], %r1\nstw [%r6+68], 77",
            9,
            &format!(
                "mov %r2, {}\nmov %r3, %r10\nadd %r3, -8\nmov %r4, {len}\nlddw %r5, {flags:#x}",
                imm(off)
            ),
        )
    };
    let r = run(&text(36, 4, 0), TC, &p);
    assert_eq!(r.r0(), 0);
    assert_eq!(&r.packet()[36..], &[0x88, 0x77, 0x66, 0x55]);
    assert_eq!(r.ctx32(68), 77);
    // BPF_F_INVALIDATE_HASH clears __sk_buff.hash; BPF_F_RECOMPUTE_CSUM is accepted.
    let r = run(&text(0, 8, 3), TC, &p);
    assert_eq!(r.r0(), 0);
    assert_eq!(r.ctx32(68), 0);
    assert_eq!(&r.packet()[..8], &0x1122_3344_5566_7788u64.to_le_bytes());
    // Unknown flags, past the end, above INT_MAX.
    assert_eq!(run(&text(0, 4, 4), TC, &p).r0(), EINVAL);
    assert_eq!(run(&text(0, 4, 1 << 32), TC, &p).r0(), EINVAL);
    let r = run(&text(37, 4, 0), TC, &p);
    assert_eq!(r.r0(), EFAULT);
    assert_eq!(r.packet(), p);
    assert_eq!(run(&text(0x8000_0000, 4, 0), TC, &p).r0(), EFAULT);
    assert_eq!(run(&text(40, 0, 0), TC, &p).r0(), 0);
}

#[test]
fn csum_diff_sizes_and_values() {
    // from = [a], to = [b] on the stack; seed in r5.
    let text = |fs: u32, ts: u32, seed: u32| {
        format!(
            "stw [%r10-8], 0x0a000001\nstw [%r10-4], 0x0b000002\nmov %r1, %r10\nadd %r1, -8\nmov %r2, {fs}\nmov %r3, %r10\nadd %r3, -4\nmov %r4, {ts}\nmov %r5, {seed}\ncall 28\nexit"
        )
    };
    let a: u32 = 0x0a00_0001;
    let b: u32 = 0x0b00_0002;
    let expect = linux::csum::diff(&a.to_le_bytes(), &b.to_le_bytes(), 0);
    assert_eq!(
        linux::csum::from32to16(linux::csum::partial(&[!a, b], 0)),
        expect
    );
    assert_eq!(run(&text(4, 4, 0), TC, &[0; 14]).r0(), u64::from(expect));
    assert_eq!(
        run(&text(0, 4, 5), TC, &[0; 14]).r0(),
        u64::from(linux::csum::diff(&[], &b.to_le_bytes(), 5))
    );
    assert_eq!(run(&text(0, 0, 9), TC, &[0; 14]).r0(), 9);
    // Any sizes (Linux 6.13 and later): short words are zero-padded.
    let a2 = a.to_le_bytes();
    let b3 = b.to_le_bytes();
    assert_eq!(
        run(&text(2, 3, 0), TC, &[0; 14]).r0(),
        u64::from(linux::csum::diff(&a2[..2], &b3[..3], 0))
    );
    // Sizes beyond the memory given are faults.
    assert!(run(&text(256, 260, 0), TC, &[0; 14]).result.is_err());
    // It needs no packet at all: the same with a null context.
    assert_eq!(
        run(&text(4, 4, 0), FrameKind::Xdp, &[0; 14]).r0(),
        u64::from(expect)
    );
}

/// A 20-byte IPv4 header (UDP, DF, id 0x1c46) after an Ethernet header, with a correct
/// checksum, and 8 bytes of zeros.
fn ipv4_frame() -> Vec<u8> {
    Packet::new()
        .eth(Eth {
            dst: [0; 6],
            src: [0; 6],
            ethertype: None,
        })
        .ipv4(Ipv4 {
            id: 0x1c46,
            frag: 0x4000,
            proto: Some(packet::IPPROTO_UDP),
            ..Ipv4::default()
        })
        .payload(&[0; 8])
        .build()
}

#[test]
fn l3_csum_replace_keeps_the_header_valid() {
    let p = ipv4_frame();
    // Rewrite the TTL/protocol word (offset 22) from its value to 0x3f11, then fix the sum.
    let text = |size: u64, off: i64| {
        format!(
            "mov %r6, %r1\nmov %r1, %r6\nmov %r2, {}\nmov %r3, 0x1140\nmov %r4, 0x113f\nmov %r5, {size}\ncall 10\nexit",
            imm(off)
        )
    };
    let r = run(&text(2, 24), TC, &p);
    assert_eq!(r.r0(), 0);
    let mut q = r.packet();
    q[22] = 0x3f;
    assert_eq!(checksum(&q[14..34]), 0);
    // Odd and too-large offsets, past the end, bad sizes, unknown flags.
    assert_eq!(run(&text(2, 25), TC, &p).r0(), EFAULT);
    assert_eq!(run(&text(2, 0x10000), TC, &p).r0(), EFAULT);
    assert_eq!(run(&text(2, 42), TC, &p).r0(), EFAULT);
    assert_eq!(run(&text(2, 40), TC, &p).r0(), 0);
    assert_eq!(run(&text(3, 24), TC, &p).r0(), EINVAL);
    assert_eq!(run(&text(8, 24), TC, &p).r0(), EINVAL);
    assert_eq!(run(&text(0x12, 24), TC, &p).r0(), EINVAL);
    // Size 0 takes a difference, and `from` must be 0.
    assert_eq!(run(&text(0, 24), TC, &p).r0(), EINVAL);
    // Size 4: an address change 10.0.0.1 -> 10.0.0.9.
    let addr = "mov %r6, %r1\nmov %r1, %r6\nmov %r2, 24\nmov %r3, 0x0100000a\nmov %r4, 0x0900000a\nmov %r5, 4\ncall 10\nexit";
    let r = run(addr, TC, &p);
    assert_eq!(r.r0(), 0);
    let mut q = r.packet();
    q[29] = 9;
    assert_eq!(checksum(&q[14..34]), 0);
}

#[test]
fn l4_csum_replace_mangled_zero() {
    // A UDP checksum field at offset 40 of the frame.
    let mut p = ipv4_frame();
    let text = |flags: u64| {
        format!(
            "mov %r6, %r1\nmov %r1, %r6\nmov %r2, 40\nmov %r3, 0\nmov %r4, 0\nlddw %r5, {flags:#x}\ncall 11\nexit"
        )
    };
    // A zero checksum with BPF_F_MARK_MANGLED_0 (0x20) is left alone...
    p[40] = 0;
    p[41] = 0;
    let diff0 = text(0x20 | 0x10 | 4);
    let r = run(&diff0, TC, &p);
    assert_eq!(r.r0(), 0);
    assert_eq!(&r.packet()[40..42], &[0, 0]);
    // ...unless BPF_F_MARK_ENFORCE (0x40): then a result of 0 is sent as 0xffff.
    let r = run(&text(0x20 | 0x40 | 4), TC, &p);
    assert_eq!(r.r0(), 0);
    assert_eq!(&r.packet()[40..42], &[0xff, 0xff]);
    // Without it, the same replace leaves the 0 that one's-complement arithmetic gives.
    let r = run(&text(4), TC, &p);
    assert_eq!(&r.packet()[40..42], &[0, 0]);
    assert_eq!(run(&text(0x100 | 4), TC, &p).r0(), EINVAL);
    assert_eq!(run(&text(0x80 | 4), TC, &p).r0(), 0);
}

#[test]
fn get_hash_recalc_is_deterministic_and_stored() {
    let p = ipv4_frame();
    let r = run(&call("", 34, ""), TC, &p);
    let h = r.r0();
    assert_ne!(h, 0);
    assert_eq!(u64::from(r.ctx32(68)), h);
    assert_eq!(h, u64::from(linux::flow::hash(&p, true, 0x0800)));
    // Socket filters see the packet from the network header: same flow, same hash.
    let sf = FrameKind::SkBuff {
        l2: false,
        protocol: 0x0800,
    };
    assert_eq!(run(&call("", 34, ""), sf, &p[14..]).r0(), h);
}

#[test]
fn redirect_actions_and_records() {
    let text = |flags: u64| format!("mov %r1, 7\nlddw %r2, {flags:#x}\ncall 23\nexit");
    let r = run(&text(0), FrameKind::Xdp, &[0; 14]);
    assert_eq!(r.r0(), 4);
    assert_eq!(
        r.state.control().frame().redirect(),
        Some(Redirect::Ifindex {
            ifindex: 7,
            flags: 0
        })
    );
    assert_eq!(run(&text(1), FrameKind::Xdp, &[0; 14]).r0(), 0);
    let r = run(&text(1), TC, &[0; 14]);
    assert_eq!(r.r0(), 7);
    assert_eq!(
        r.state.control().frame().redirect(),
        Some(Redirect::Ifindex {
            ifindex: 7,
            flags: 1
        })
    );
    let r = run(&text(2), TC, &[0; 14]);
    assert_eq!(r.r0(), 2);
    assert_eq!(r.state.control().frame().redirect(), None);
    // redirect_map: an array has every key below max_entries; others fall back to flags & 3.
    let map = |key: u32, flags: u64| {
        format!("lddw %r1, map_idx 0\nmov %r2, {key}\nlddw %r3, {flags:#x}\ncall 51\nexit")
    };
    let r = run(&map(1, 0), FrameKind::Xdp, &[0; 14]);
    assert_eq!(r.r0(), 4);
    assert!(matches!(
        r.state.control().frame().redirect(),
        Some(Redirect::Map { key: 1, .. })
    ));
    assert_eq!(run(&map(9, 2), FrameKind::Xdp, &[0; 14]).r0(), 2);
    assert_eq!(run(&map(9, 0), FrameKind::Xdp, &[0; 14]).r0(), 0);
    assert_eq!(run(&map(9, 0x20), FrameKind::Xdp, &[0; 14]).r0(), 0);
    assert_eq!(run(&map(9, 8), FrameKind::Xdp, &[0; 14]).r0(), 4);
}

#[test]
fn xdp_adjust_head_bounds_and_context() {
    let p = frame_bytes(64);
    let text = |delta: i64| call("", 44, &format!("mov %r2, {}", imm(delta)));
    let r = run(&text(-20), FrameKind::Xdp, &p);
    assert_eq!(r.r0(), 0);
    let l = r.layout();
    assert_eq!(l.len(), 84);
    assert_eq!(&r.packet()[20..], &p[..]);
    assert_eq!(r.ctx32(0), l.data as u32);
    assert_eq!(r.ctx32(4), l.data_end as u32);
    assert_eq!(r.ctx32(8), l.data as u32);
    let r = run(&text(50), FrameKind::Xdp, &p);
    assert_eq!(r.r0(), 0);
    assert_eq!(r.packet(), &p[50..]);
    // Down to 14 bytes; not into the 40-byte xdp_frame area.
    assert_eq!(run(&text(51), FrameKind::Xdp, &p).r0(), EINVAL);
    assert_eq!(run(&text(-216), FrameKind::Xdp, &p).r0(), 0);
    assert_eq!(run(&text(-217), FrameKind::Xdp, &p).r0(), EINVAL);
    assert_eq!(run(&text(0x8000_0000), FrameKind::Xdp, &p).r0(), EINVAL);
    // The moved head is readable, and the context follows.
    let read = "mov %r6, %r1\nmov %r2, -4\ncall 44\nldxw %r2, [%r6+4]\nldxw %r3, [%r6+0]\nsub %r2, %r3\nmov %r0, %r2\nexit";
    assert_eq!(run(read, FrameKind::Xdp, &p).r0(), 68);
    // Metadata moves with the data.
    let meta = "mov %r6, %r1\nmov %r2, -8\ncall 54\nmov %r1, %r6\nmov %r2, -10\ncall 44\nexit";
    let r = run(meta, FrameKind::Xdp, &p);
    assert_eq!(r.r0(), 0);
    let l = r.layout();
    assert_eq!(l.data - l.data_meta, 8);
    assert_eq!(r.ctx32(8), l.data_meta as u32);
    assert_eq!(run(&text(-209), FrameKind::Xdp, &p).r0(), 0);
    let meta_full =
        "mov %r6, %r1\nmov %r2, -8\ncall 54\nmov %r1, %r6\nmov %r2, -209\ncall 44\nexit";
    assert_eq!(run(meta_full, FrameKind::Xdp, &p).r0(), EINVAL);
    // Not in a socket-buffer run.
    assert!(run(&text(0), TC, &p).result.is_err());
}

#[test]
fn xdp_adjust_meta_rules() {
    let p = frame_bytes(64);
    let text = |delta: i64| call("", 54, &format!("mov %r2, {delta}"));
    assert_eq!(run(&text(-4), FrameKind::Xdp, &p).r0(), 0);
    assert_eq!(run(&text(-252), FrameKind::Xdp, &p).r0(), EINVAL);
    assert_eq!(run(&text(-216), FrameKind::Xdp, &p).r0(), 0);
    assert_eq!(run(&text(-3), FrameKind::Xdp, &p).r0(), EACCES);
    assert_eq!(run(&text(4), FrameKind::Xdp, &p).r0(), EINVAL);
    assert_eq!(run(&text(0), FrameKind::Xdp, &p).r0(), 0);
    // The metadata area becomes writable for the program.
    let write = "mov %r6, %r1\nmov %r2, -4\ncall 54\nldxw %r2, [%r6+8]\nldxw %r3, [%r6+0]\nsub %r3, %r2\nmov %r0, %r3\nexit";
    assert_eq!(run(write, FrameKind::Xdp, &p).r0(), 4);
}

#[test]
fn xdp_adjust_tail_grows_with_zeroes_and_shrinks() {
    let p = frame_bytes(64);
    let text = |delta: i64| call("", 65, &format!("mov %r2, {delta}"));
    let r = run(&text(16), FrameKind::Xdp, &p);
    assert_eq!(r.r0(), 0);
    let q = r.packet();
    assert_eq!(&q[..64], &p[..]);
    assert_eq!(&q[64..], &[0; 16]);
    let r = run(&text(-50), FrameKind::Xdp, &p);
    assert_eq!(r.r0(), 0);
    assert_eq!(r.packet(), &p[..14]);
    assert_eq!(run(&text(-51), FrameKind::Xdp, &p).r0(), EINVAL);
    // Up to the frame's end less the shared-info reserve.
    let room = (FRAME - TAIL_RESERVE - HEADROOM - 64) as i64;
    assert_eq!(run(&text(room), FrameKind::Xdp, &p).r0(), 0);
    assert_eq!(run(&text(room + 1), FrameKind::Xdp, &p).r0(), EINVAL);
}

#[test]
fn checked_accesses_follow_the_packet_end() {
    let p = frame_bytes(64);
    // Read the last byte through ctx->data_end after shrinking: it is gone.
    let shrink = "mov %r6, %r1\nmov %r2, -10\ncall 65\nldxw %r0, [%r6+4]\nexit";
    let r = run(shrink, FrameKind::Xdp, &p);
    let end = r.r0();
    assert_eq!(end, u64::from(r.ctx32(4)));
    // The byte just past the new end faults (the engine reads host addresses; use the frame's).
    let l = r.layout();
    let past = format!(
        "mov %r6, %r1\nmov %r2, -10\ncall 65\nlddw %r1, {:#x}\nldxb %r0, [%r1+0]\nexit",
        l.data_end
    );
    assert!(matches!(
        run(&past, FrameKind::Xdp, &p).result,
        Err(Fault::OutOfBounds { .. })
    ));
}

#[test]
fn jiffies_count_at_250_hz() {
    let a = host::jiffies64();
    let r = run("call 118\nexit", FrameKind::Xdp, &[0; 14]).r0();
    let b = host::jiffies64();
    assert!(a <= r && r <= b);
    assert_eq!(host::HZ, 250);
}
