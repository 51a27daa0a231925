//! The packet helpers against the Linux kernel: the same small programs run in apiary (checked
//! interpreter, checked JIT, verified interpreter: they must agree) and with
//! `BPF_PROG_TEST_RUN` (tc and socket-filter programs on a socket buffer, XDP programs on an
//! XDP frame); r0 (the kernel's 32-bit `retval`) and, for tc and XDP, the packet afterwards
//! must match. Cases cover bad offsets, bad flags, sizes and the frame's limits.
//!
//! Without the kernel the engine agreement still runs and the comparison prints a NOTICE,
//! unless `APIARY_REQUIRE_KERNEL=1`. A case whose program type or helpers this kernel does not
//! support (kernels differ: some refuse `bpf_xdp_adjust_meta` for XDP) is counted as skipped
//! with the reason; the counts are in `target/apiary-coverage/` (`.ci/coverage-summary`).

mod common;

use apiary::object::{LoadedObject, ObjectOptions};
use apiary::{ContextKind, EngineKind};
use apiary_elf::{Object, ProgramSection, ProgramType};
use apiary_testkit::Coverage;
use apiary_vm::asm::assemble;
use common::kernel;
use common::{ipv4, UDP};

const PROG_TYPE_SOCKET_FILTER: u32 = 1;
const PROG_TYPE_SCHED_CLS: u32 = 3;
const PROG_TYPE_XDP: u32 = 6;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Tc,
    Socket,
    Xdp,
}

impl Kind {
    fn section(self) -> ProgramType {
        match self {
            Kind::Tc => ProgramType::SchedCls,
            Kind::Socket => ProgramType::SocketFilter,
            Kind::Xdp => ProgramType::Xdp,
        }
    }

    fn context(self) -> ContextKind {
        match self {
            Kind::Tc => ContextKind::SkBuff { l2: true },
            Kind::Socket => ContextKind::SkBuff { l2: false },
            Kind::Xdp => ContextKind::Xdp,
        }
    }

    fn prog_type(self) -> u32 {
        match self {
            Kind::Tc => PROG_TYPE_SCHED_CLS,
            Kind::Socket => PROG_TYPE_SOCKET_FILTER,
            Kind::Xdp => PROG_TYPE_XDP,
        }
    }
}

/// One program on one packet.
struct Case {
    helper: &'static str,
    kind: Kind,
    text: String,
    packet: Vec<u8>,
    /// Compare the packet afterwards (not for socket filters, whose kernel output gains a
    /// zeroed Ethernet header, nor for XDP metadata moves, whose output starts at the
    /// metadata).
    packet_out: bool,
}

/// An assembler immediate: negative values in decimal, others in hex.
fn imm(v: i64) -> String {
    if v < 0 {
        v.to_string()
    } else {
        format!("{v:#x}")
    }
}

fn udp() -> Vec<u8> {
    ipv4(UDP, 1, 16)
}

fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    let mut add = |helper, kind, text: String, packet: Vec<u8>, packet_out| {
        out.push(Case {
            helper,
            kind,
            text,
            packet,
            packet_out,
        });
    };
    // skb_load_bytes: r0 = result + the loaded word (folded to 32 bits).
    for kind in [Kind::Tc, Kind::Socket] {
        for (off, len) in [
            (0, 8),
            (12, 8),
            (30, 4),
            (42, 8),
            (43, 8),
            (49, 1),
            (50, 1),
            (0x7fff_ffff, 4),
            (-1, 4),
            (28, 8),
            (29, 8),
        ] {
            let text = format!(
                "mov %r6, %r1\nstdw [%r10-8], 0\nmov %r1, %r6\nmov %r2, {}\nmov %r3, %r10\nadd %r3, -8\nmov %r4, {len}\ncall 26\nldxdw %r1, [%r10-8]\nmov %r2, %r1\nrsh %r2, 32\nxor %r1, %r2\nadd %r0, %r1\nexit",
                imm(off)
            );
            add("skb_load_bytes", kind, text, udp(), kind == Kind::Tc);
        }
    }
    // csum_diff on the stack: from at r10-16 (or null), to at r10-8.
    for kind in [Kind::Tc, Kind::Xdp] {
        for (fs, ts, seed) in [
            (4, 4, 0i64),
            (8, 4, 0),
            (0, 8, 0x1234_5678),
            (8, 0, 0xffff_ffff),
            (4, 8, 7),
            (8, 8, 0xffff),
            (2, 4, 0),
            (4, 6, 0),
            (0, 0, 5),
        ] {
            let from = if fs == 0 {
                "mov %r1, 0".to_owned()
            } else {
                "mov %r1, %r10\nadd %r1, -16".to_owned()
            };
            let text = format!(
                "lddw %r1, 0x0b0000020a000001\nstxdw [%r10-16], %r1\nlddw %r1, 0xc0a80101ffff0000\nstxdw [%r10-8], %r1\n{from}\nmov %r2, {fs}\nmov %r3, %r10\nadd %r3, -8\nmov %r4, {ts}\nlddw %r5, {seed:#x}\ncall 28\nexit"
            );
            add("csum_diff", kind, text, udp(), true);
        }
    }
    // l3_csum_replace on the IPv4 header of a 50-byte UDP frame.
    for (off, from, to, flags) in [
        (24i64, 0x1140u64, 0x113fu64, 2u64),
        (24, 0x0100_000a, 0x0900_000a, 4),
        (24, 0, 0x1_2345, 0),
        (24, 5, 0x1_2345, 0),
        (25, 0x1140, 0x113f, 2),
        (48, 0x1140, 0x113f, 2),
        (49, 0x1140, 0x113f, 2),
        (50, 0x1140, 0x113f, 2),
        (24, 0x1140, 0x113f, 3),
        (24, 0x1140, 0x113f, 0x12),
        (0x1_0000, 0x1140, 0x113f, 2),
    ] {
        let text = format!(
            "mov %r2, {}\nlddw %r3, {from:#x}\nlddw %r4, {to:#x}\nlddw %r5, {flags:#x}\ncall 10\nexit",
            imm(off)
        );
        add("l3_csum_replace", Kind::Tc, text, udp(), true);
    }
    // l4_csum_replace on the UDP checksum (offset 40), nonzero and zero.
    let mut zero = udp();
    zero[40] = 0;
    zero[41] = 0;
    for packet in [udp(), zero] {
        for (from, to, flags) in [
            (0x1140u64, 0x113fu64, 2u64),
            (0x0100_000a, 0x0900_000a, 4),
            (0x0100_000a, 0x0900_000a, 0x14),
            (0x0100_000a, 0x0900_000a, 0x24),
            (0, 0, 0x24),
            (0, 0, 0x64),
            (0x0100_000a, 0x0900_000a, 0x84),
            (0x0100_000a, 0x0900_000a, 0x104),
            (0, 0xfedc_ba98, 0x10),
            (0, 0, 4),
        ] {
            let text = format!(
                "mov %r2, 40\nlddw %r3, {from:#x}\nlddw %r4, {to:#x}\nlddw %r5, {flags:#x}\ncall 11\nexit"
            );
            add("l4_csum_replace", Kind::Tc, text, packet.clone(), true);
        }
    }
    // skb_store_bytes of 8 stack bytes.
    for (off, len, flags) in [
        (0i64, 4, 0u64),
        (46, 4, 0),
        (47, 4, 0),
        (42, 8, 2),
        (0, 4, 1),
        (0, 4, 4),
        (0x7fff_ffff, 4, 0),
    ] {
        let text = format!(
            "lddw %r2, 0x1122334455667788\nstxdw [%r10-8], %r2\nmov %r2, {}\nmov %r3, %r10\nadd %r3, -8\nmov %r4, {len}\nmov %r5, {flags:#x}\ncall 9\nexit",
            imm(off)
        );
        add("skb_store_bytes", Kind::Tc, text, udp(), true);
    }
    // redirect: the action (tc or XDP), or the refusal of bad flags.
    for (kind, flags) in [
        (Kind::Tc, 0u64),
        (Kind::Tc, 1),
        (Kind::Tc, 2),
        (Kind::Tc, 1 << 40),
        (Kind::Xdp, 0),
        (Kind::Xdp, 1),
    ] {
        let text = format!("mov %r1, 1\nlddw %r2, {flags:#x}\ncall 23\nexit");
        add("redirect", kind, text, udp(), true);
    }
    // XDP moves: r0 = result + the new length (data_end - data) or metadata length.
    let xdp = |id: u32, delta: i64, end: u32, start: u32| {
        format!(
            "mov %r6, %r1\nmov %r2, {}\ncall {id}\nldxw %r2, [%r6+{start}]\nldxw %r3, [%r6+{end}]\nsub %r3, %r2\nadd %r0, %r3\nexit",
            imm(delta)
        )
    };
    for delta in [-20, -216, -217, -256, 0, 10, 36, 37, 0x7fff_ffff] {
        add(
            "xdp_adjust_head",
            Kind::Xdp,
            xdp(44, delta, 4, 0),
            udp(),
            true,
        );
    }
    for delta in [16, -36, -37, -50, 0, 3470, 3471, 5000] {
        add(
            "xdp_adjust_tail",
            Kind::Xdp,
            xdp(65, delta, 4, 0),
            udp(),
            true,
        );
    }
    for delta in [-4, -8, -3, -32, -36, -216, -220, 4, 0] {
        add(
            "xdp_adjust_meta",
            Kind::Xdp,
            xdp(54, delta, 0, 8),
            udp(),
            false,
        );
    }
    out
}

/// The case in apiary on `engine`: (r0 or the fault's text, the packet afterwards).
fn apiary(
    case: &Case,
    engine: EngineKind,
    verified: bool,
) -> Option<(Result<u64, String>, Vec<u8>)> {
    let insns = assemble(&case.text).unwrap_or_else(|e| panic!("{e}\n{}", case.text));
    let object = Object {
        programs: vec![ProgramSection {
            section: "test".into(),
            function: "test".into(),
            program_type: case.kind.section(),
            insns,
            maps_used: Vec::new(),
            link_error: None,
        }],
        maps: Vec::new(),
        license: Some("GPL".into()),
    };
    let options = ObjectOptions {
        verified,
        context: Some(case.kind.context()),
        ..ObjectOptions::for_engine(engine)
    };
    let mut o = LoadedObject::from_object(object, &options).expect("loads");
    if verified && o.program_error(0).is_some() {
        return None;
    }
    let out = o.run(0, &case.packet).expect("runs");
    Some((out.outcome.result.map_err(|f| f.to_string()), out.data))
}

#[test]
fn packet_helpers_agree_across_engines_and_with_the_kernel() {
    let unavailable = kernel::unavailable("packet helpers");
    let mut coverage = Coverage::new("kernel_packet_helpers").expect_comparisons(true);
    let mut unverified_only = 0;
    let cases = cases();
    let total = cases.len() as u64;
    for case in cases {
        let checked = apiary(&case, EngineKind::Interp, false).expect("checked runs");
        let jit = apiary(&case, EngineKind::Jit, false).expect("checked runs");
        assert_eq!(
            jit, checked,
            "JIT vs interpreter: {}\n{}",
            case.helper, case.text
        );
        match apiary(&case, EngineKind::Interp, true) {
            Some(verified) => assert_eq!(verified, checked, "verified: {}", case.text),
            None => unverified_only += 1,
        }
        if let Some(why) = &unavailable {
            coverage.skip(why.clone());
            continue;
        }
        let insns = assemble(&case.text).expect("assembles");
        if let Some(why) = kernel::unsupported(case.kind.prog_type(), &insns) {
            coverage.skip(why);
            continue;
        }
        let fd = kernel::prog_load(case.kind.prog_type(), &insns, "GPL", "pkt_helper")
            .unwrap_or_else(|e| panic!("kernel load: {e}\n{}", case.text));
        let (retval, data) = kernel::test_run(&fd, &case.packet).expect("test run");
        let r0 = checked
            .0
            .clone()
            .unwrap_or_else(|f| panic!("{f}\n{}", case.text));
        assert_eq!(
            r0 as u32, retval,
            "{} r0: apiary {:#x}, kernel {retval:#x}\n{}",
            case.helper, r0, case.text
        );
        if case.packet_out {
            assert_eq!(
                checked.1, data,
                "{} packet differs from the kernel's\n{}",
                case.helper, case.text
            );
        }
        coverage.compared();
    }
    coverage.finish();
    let mut verified = Coverage::new("packet_helpers_verified_mode").expect_comparisons(true);
    verified.add_compared(total - unverified_only);
    verified.add_skipped(
        "rejected by apiary's verifier (checked runs compared only)",
        unverified_only,
    );
    verified.finish();
}
