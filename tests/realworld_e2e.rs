//! Real-world packet programs end to end, against the Linux kernel (`BPF_PROG_TEST_RUN`):
//! Katran's XDP load balancer (`balancer_ingress`) with its maps filled as Katran's control
//! plane fills them, on mixed traffic; Katran's XDP decapsulator (`xdpdecap`) on what such a
//! balancer sends (IPIP and IPv6-in-IPv6 toward a real); and
//! libbpf-bootstrap's tc classifier (`tc_ingress`). After every packet the action, the output
//! packet and every map agree between the kernel, apiary's interpreter and JIT (checked mode),
//! and both again in verified mode when apiary's verifier accepts the program (a recorded skip
//! with its reason otherwise). Where the kernel cannot take part the apiary engines are
//! compared with each other and the kernel's absence is a recorded skip (`APIARY_REQUIRE_KERNEL=1`
//! makes it a failure). Counts: `target/apiary-coverage/realworld_e2e.*.txt`.

mod common;
mod e2e;

use e2e::katran::{Addr, ControlPlane, F_HASH_NO_SRC_PORT, F_LRU_BYPASS, NEW_CONN_RATE_CNTR};
use e2e::packets::*;
use e2e::E2e;

const PROG_TYPE_SCHED_CLS: u32 = 3;
const PROG_TYPE_XDP: u32 = 6;

const XDP_DROP: u32 = 1;
const XDP_PASS: u32 = 2;
const XDP_TX: u32 = 3;

const GATEWAY_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0xaa];

/// Clock readings in Katran's maps: `fallback_cache` values' `atime` (UDP flows) and the
/// new-connection rate window in `stats` (its start time, and its count, which restarts when
/// the window's one second passes between two sides' runs). Compared as present or absent.
fn katran_clock_fields(map: &str, key: &[u8], value: &mut [u8]) {
    let present = |b: &[u8]| u8::from(b.iter().any(|&x| x != 0));
    match map {
        "fallback_cache" => {
            let p = present(&value[8..16]);
            value[8..16].fill(0);
            value[8] = p;
        }
        "stats" if key == NEW_CONN_RATE_CNTR.to_le_bytes() => {
            let (v1, v2) = (present(&value[..8]), present(&value[8..16]));
            value.fill(0);
            value[0] = v1;
            value[8] = v2;
        }
        _ => {}
    }
}

const VIP4: [u8; 4] = [10, 200, 0, 1];
const VIP4_ANY_PORT: [u8; 4] = [10, 200, 0, 2];

fn vip6() -> [u8; 16] {
    v6([0xfc00, 0, 0, 0, 0, 0, 0, 0x100])
}

fn vip6_to_v4_reals() -> [u8; 16] {
    v6([0xfc00, 0, 0, 0, 0, 0, 0, 0x200])
}

fn client4(n: u8) -> [u8; 4] {
    [192, 168, 1, n]
}

fn client6(n: u16) -> [u8; 16] {
    v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, n])
}

fn tcp4(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, flags: u8) -> Vec<u8> {
    eth(
        ETH_IPV4,
        &ipv4(
            src,
            dst,
            TCP,
            0x4000,
            &tcp(sport, dport, flags, &payload(24, sport as u8)),
        ),
    )
}

fn udp4(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16) -> Vec<u8> {
    eth(
        ETH_IPV4,
        &ipv4(
            src,
            dst,
            UDP,
            0,
            &udp(sport, dport, &payload(40, sport as u8)),
        ),
    )
}

fn tcp6(src: [u8; 16], dst: [u8; 16], sport: u16, dport: u16, flags: u8) -> Vec<u8> {
    eth(
        ETH_IPV6,
        &ipv6(
            src,
            dst,
            TCP,
            &tcp(sport, dport, flags, &payload(32, sport as u8)),
        ),
    )
}

fn udp6(src: [u8; 16], dst: [u8; 16], sport: u16, dport: u16) -> Vec<u8> {
    eth(
        ETH_IPV6,
        &ipv6(src, dst, UDP, &udp(sport, dport, &payload(48, sport as u8))),
    )
}

/// Katran's control plane: five reals (IPv4 and IPv6), six VIPs (IPv4 and IPv6, TCP and UDP, a
/// port-wildcard VIP, hashing and LRU flags, VIPs whose reals are of the other family).
fn configure_katran(e: &mut E2e) {
    let mut cp = ControlPlane::new();
    cp.set_gateway_mac(e, GATEWAY_MAC);
    let r1 = cp.add_real(e, Addr::V4([10, 0, 1, 1]));
    let r2 = cp.add_real(e, Addr::V4([10, 0, 1, 2]));
    let r3 = cp.add_real(e, Addr::V6(v6([0xfc00, 1, 0, 0, 0, 0, 0, 1])));
    let r4 = cp.add_real(e, Addr::V6(v6([0xfc00, 1, 0, 0, 0, 0, 0, 2])));
    let r5 = cp.add_real(e, Addr::V4([10, 0, 1, 3]));
    cp.add_vip(e, Addr::V4(VIP4), 80, TCP, 0, &[r1, r2, r5]);
    cp.add_vip(e, Addr::V4(VIP4), 53, UDP, 0, &[r1, r2]);
    cp.add_vip(e, Addr::V6(vip6()), 443, TCP, 0, &[r3, r4]);
    cp.add_vip(e, Addr::V6(vip6()), 443, UDP, F_HASH_NO_SRC_PORT, &[r3, r4]);
    cp.add_vip(e, Addr::V4(VIP4_ANY_PORT), 0, TCP, F_LRU_BYPASS, &[r1, r3]);
    cp.add_vip(e, Addr::V6(vip6_to_v4_reals()), 8080, TCP, 0, &[r1, r2]);
}

/// The outer header `balancer_ingress` put in front of `inner` (IPIP toward a real): the
/// Ethernet header is toward the gateway, and the rest of the packet is the client's.
fn assert_encapsulated(out: &[u8], inner: &[u8], outer_ip: usize, what: &str) {
    assert_eq!(out[..6], GATEWAY_MAC, "{what}: not sent to the gateway");
    assert_eq!(
        out.len(),
        inner.len() + outer_ip,
        "{what}: not encapsulated"
    );
    assert_eq!(
        out[14 + outer_ip..],
        inner[14..],
        "{what}: inner packet changed"
    );
}

#[test]
fn katran_balancer_matches_the_kernel() {
    let Some(mut e) = E2e::load(
        "realworld_e2e.katran_balancer",
        "katran/balancer.o",
        "balancer_ingress",
        PROG_TYPE_XDP,
    ) else {
        return;
    };
    e.set_normalize(katran_clock_fields);
    configure_katran(&mut e);
    let mut runs = 0;
    let mut run = |e: &mut E2e, what: &str, p: &[u8], expected: u32| {
        runs += 1;
        e.expect(what, p, expected)
    };

    // IPv4 TCP to a VIP: new connections (SYN) pick a real on the ring and are remembered in
    // the LRU; established packets of the same flows find the LRU entry.
    for n in 1..=8u8 {
        let p = tcp4(client4(n), VIP4, 40_000 + u16::from(n), 80, SYN);
        let out = run(&mut e, &format!("v4 tcp syn {n}"), &p, XDP_TX);
        assert_encapsulated(&out, &p, 20, "v4 tcp syn");
        assert_eq!(out[14 + 9], 4, "IPIP");
    }
    for n in 1..=8u8 {
        let p = tcp4(client4(n), VIP4, 40_000 + u16::from(n), 80, ACK | PSH);
        run(&mut e, &format!("v4 tcp established {n}"), &p, XDP_TX);
    }
    // An established packet of a flow never seen (LRU miss: the ring decides), then a reset.
    run(
        &mut e,
        "v4 tcp lru miss",
        &tcp4(client4(50), VIP4, 999, 80, ACK),
        XDP_TX,
    );
    run(
        &mut e,
        "v4 tcp rst",
        &tcp4(client4(1), VIP4, 40_001, 80, RST | ACK),
        XDP_TX,
    );
    run(
        &mut e,
        "v4 tcp fin",
        &tcp4(client4(2), VIP4, 40_002, 80, FIN | ACK),
        XDP_TX,
    );

    // IPv4 UDP to a VIP, some flows repeated.
    for n in [1u8, 2, 3, 4, 5, 1, 3] {
        let p = udp4(client4(n), VIP4, 5000 + u16::from(n), 53);
        let out = run(&mut e, &format!("v4 udp {n}"), &p, XDP_TX);
        assert_encapsulated(&out, &p, 20, "v4 udp");
    }

    // IPv6 TCP and UDP to VIPs; the UDP VIP hashes without the source port.
    for n in 1..=4u16 {
        let p = tcp6(client6(n), vip6(), 50_000 + n, 443, SYN);
        let out = run(&mut e, &format!("v6 tcp syn {n}"), &p, XDP_TX);
        assert_encapsulated(&out, &p, 40, "v6 tcp");
    }
    for n in 1..=4u16 {
        let p = tcp6(client6(n), vip6(), 50_000 + n, 443, ACK);
        run(&mut e, &format!("v6 tcp established {n}"), &p, XDP_TX);
    }
    for sport in [7000u16, 7001, 7002, 7003] {
        let p = udp6(client6(9), vip6(), sport, 443);
        run(&mut e, &format!("v6 udp no-src-port {sport}"), &p, XDP_TX);
    }

    // The port-wildcard VIP (LRU bypass, one IPv4 and one IPv6 real: IPv4 in IPv6 encap).
    for (n, port) in [(1u8, 22u16), (2, 8443), (3, 3306), (4, 22)] {
        let p = tcp4(client4(n), VIP4_ANY_PORT, 33_000 + u16::from(n), port, SYN);
        run(&mut e, &format!("v4 wildcard port {port}"), &p, XDP_TX);
    }
    // An IPv6 VIP whose reals are IPv4 (IPv6 in IPv4 encap).
    for n in 1..=2u16 {
        let p = tcp6(client6(n + 20), vip6_to_v4_reals(), 1000 + n, 8080, SYN);
        run(&mut e, &format!("v6 vip v4 real {n}"), &p, XDP_TX);
    }

    // Not for a VIP: to the stack.
    let not_vip: [(&str, Vec<u8>); 5] = [
        (
            "v4 tcp to another host",
            tcp4(client4(1), [10, 200, 0, 9], 1, 80, SYN),
        ),
        (
            "v4 tcp to a vip's other port",
            tcp4(client4(1), VIP4, 1, 81, SYN),
        ),
        ("v4 udp to the tcp vip port", udp4(client4(1), VIP4, 1, 80)),
        (
            "v6 tcp to another host",
            tcp6(client6(1), client6(2), 1, 443, SYN),
        ),
        ("arp", eth(ETH_ARP, &[0u8; 28])),
    ];
    for (what, p) in &not_vip {
        run(&mut e, what, p, XDP_PASS);
    }
    let gre = eth(ETH_IPV4, &ipv4(client4(1), VIP4, 47, 0, &payload(20, 1)));
    run(&mut e, "v4 gre to a vip", &gre, XDP_PASS);

    // ICMP: echo requests are answered in place; "fragmentation needed" / "packet too big"
    // about a VIP's flow go to the flow's real; other ICMP to the stack.
    let echo = eth(
        ETH_IPV4,
        &ipv4(
            client4(7),
            VIP4,
            ICMP,
            0,
            &icmp(8, 0, 0x0001_0001, &payload(32, 7)),
        ),
    );
    let reply = run(&mut e, "icmp echo", &echo, XDP_TX);
    assert_eq!(reply[14 + 20], 0, "echo reply");
    assert_eq!(reply[..6], ROUTER_MAC, "reply to the sender");
    let echo6 = eth(
        ETH_IPV6,
        &ipv6(
            client6(7),
            vip6(),
            ICMPV6,
            &icmp(128, 0, 0x0001_0002, &payload(32, 8)),
        ),
    );
    let reply6 = run(&mut e, "icmpv6 echo", &echo6, XDP_TX);
    assert_eq!(reply6[14 + 40], 129, "echo reply");
    // The packet the real sent (VIP:80 → client) that a router could not forward: its IP and
    // whole TCP header (Katran reads the inner ports from a complete transport header).
    let inner = ipv4(VIP4, client4(3), TCP, 0x4000, &tcp(80, 40_003, ACK, &[]));
    let frag_needed = eth(
        ETH_IPV4,
        &ipv4([172, 16, 0, 1], VIP4, ICMP, 0, &icmp(3, 4, 1400, &inner)),
    );
    let out = run(&mut e, "icmp frag needed", &frag_needed, XDP_TX);
    assert_encapsulated(&out, &frag_needed, 20, "icmp frag needed");
    let small_mtu = eth(
        ETH_IPV4,
        &ipv4([172, 16, 0, 1], VIP4, ICMP, 0, &icmp(3, 4, 576, &inner)),
    );
    run(&mut e, "icmp frag needed, small mtu", &small_mtu, XDP_TX);
    let inner6 = ipv6(vip6(), client6(2), TCP, &tcp(443, 50_002, ACK, &[]));
    let too_big = eth(
        ETH_IPV6,
        &ipv6(
            v6([0x2001, 0xdb8, 9, 0, 0, 0, 0, 1]),
            vip6(),
            ICMPV6,
            &icmp(2, 0, 1280, &inner6),
        ),
    );
    let out = run(&mut e, "icmpv6 packet too big", &too_big, XDP_TX);
    assert_encapsulated(&out, &too_big, 40, "icmpv6 too big");
    let ttl = eth(
        ETH_IPV4,
        &ipv4(
            [172, 16, 0, 1],
            VIP4,
            ICMP,
            0,
            &icmp(11, 0, 0, &inner[..28]),
        ),
    );
    run(&mut e, "icmp time exceeded", &ttl, XDP_PASS);
    let mut optioned = inner.clone();
    optioned[0] = 0x46;
    let bad_inner = eth(
        ETH_IPV4,
        &ipv4(
            [172, 16, 0, 1],
            VIP4,
            ICMP,
            0,
            &icmp(3, 4, 1400, &optioned[..28]),
        ),
    );
    run(
        &mut e,
        "icmp with an optioned inner header",
        &bad_inner,
        XDP_DROP,
    );
    let ns = eth(
        ETH_IPV6,
        &ipv6(client6(7), vip6(), ICMPV6, &icmp(135, 0, 0, &vip6())),
    );
    run(&mut e, "icmpv6 neighbour solicitation", &ns, XDP_PASS);

    // Fragments are dropped (Katran cannot hash them to a flow).
    let seg = tcp(1234, 80, ACK, &payload(16, 3));
    let more = eth(ETH_IPV4, &ipv4(client4(9), VIP4, TCP, 0x2000, &seg));
    run(&mut e, "v4 first fragment", &more, XDP_DROP);
    let later = eth(ETH_IPV4, &ipv4(client4(9), VIP4, TCP, 0x0003, &seg));
    run(&mut e, "v4 later fragment", &later, XDP_DROP);
    let frag6 = eth(
        ETH_IPV6,
        &ipv6(
            client6(9),
            vip6(),
            IPV6_FRAGMENT,
            &ipv6_fragment(TCP, 0, true, &seg),
        ),
    );
    run(&mut e, "v6 fragment", &frag6, XDP_DROP);

    // Short and malformed packets.
    run(&mut e, "10 bytes", &[0xaa; 10], XDP_DROP);
    run(
        &mut e,
        "ethernet header only",
        &eth(ETH_IPV4, &[]),
        XDP_DROP,
    );
    run(
        &mut e,
        "truncated ipv4 header",
        &eth(ETH_IPV4, &[0x45; 12]),
        XDP_DROP,
    );
    run(
        &mut e,
        "truncated ipv6 header",
        &eth(ETH_IPV6, &[0x60; 30]),
        XDP_DROP,
    );
    let mut options = tcp4(client4(1), VIP4, 1, 80, SYN);
    options[14] = 0x46;
    run(&mut e, "ipv4 options", &options, XDP_DROP);
    let short_tcp = eth(ETH_IPV4, &ipv4(client4(1), VIP4, TCP, 0, &[0u8; 10]));
    run(&mut e, "truncated tcp header", &short_tcp, XDP_DROP);
    let short_udp = eth(ETH_IPV6, &ipv6(client6(1), vip6(), UDP, &[0u8; 4]));
    run(&mut e, "truncated udp header", &short_udp, XDP_DROP);
    let short_icmp = eth(ETH_IPV4, &ipv4(client4(1), VIP4, ICMP, 0, &[8, 0, 0]));
    run(&mut e, "truncated icmp header", &short_icmp, XDP_DROP);
    let jumbo = eth(
        ETH_IPV4,
        &ipv4(client4(4), VIP4, UDP, 0, &udp(5004, 53, &payload(1560, 4))),
    );
    run(&mut e, "frame above MAX_PCKT_SIZE", &jumbo, XDP_DROP);

    assert!(runs >= 50, "{runs} packets");
    for action in [XDP_DROP, XDP_PASS, XDP_TX] {
        assert!(
            e.actions.contains_key(&action),
            "no packet got action {action}"
        );
    }
    e.finish();
}

/// Katran's decapsulator (`decap.o`, the XDP program on the reals' side): IP-in-IP packets as
/// the balancer sends them come out as the client's packet (`XDP_PASS` after
/// `bpf_xdp_adjust_head`), counted per family in `decap_counters`; anything else passes
/// untouched; truncated headers and fragments are dropped.
#[test]
fn katran_decap_matches_the_kernel() {
    let Some(mut e) = E2e::load(
        "realworld_e2e.katran_decap",
        "katran/decap.o",
        "xdpdecap",
        PROG_TYPE_XDP,
    ) else {
        return;
    };
    // The server id this host answers TCP header option lookups with (the control plane's
    // `tpr_server_id[0]`).
    e.update(
        "tpr_server_id",
        &0u32.to_le_bytes(),
        &0x0102u32.to_le_bytes(),
    );
    let lb4 = [172, 16, 1, 1];
    let real4 = [10, 0, 1, 1];
    let lb6 = v6([0x100, 0, 0, 0, 0, 0, 0, 1]);
    let real6 = v6([0xfc00, 1, 0, 0, 0, 0, 0, 1]);
    let mut runs = 0;
    for n in 1..=6u8 {
        let inner4 = ipv4(
            client4(n),
            VIP4,
            TCP,
            0x4000,
            &tcp(40_000 + u16::from(n), 80, ACK, &payload(16, n)),
        );
        let inner6 = ipv6(
            client6(u16::from(n)),
            vip6(),
            UDP,
            &udp(7000, 443, &payload(24, n)),
        );
        let cases = [
            (
                "v4 in v4",
                eth(ETH_IPV4, &ipv4(lb4, real4, 4, 0, &inner4)),
                ETH_IPV4,
                &inner4,
            ),
            (
                "v6 in v6",
                eth(ETH_IPV6, &ipv6(lb6, real6, 41, &inner6)),
                ETH_IPV6,
                &inner6,
            ),
            (
                "v4 in v6",
                eth(ETH_IPV6, &ipv6(lb6, real6, 4, &inner4)),
                ETH_IPV4,
                &inner4,
            ),
        ];
        for (what, p, ethertype, inner) in cases {
            let out = e.expect(&format!("{what} {n}"), &p, XDP_PASS);
            assert_eq!(out[14..], inner[..], "{what}: not decapsulated");
            assert_eq!(out[12..14], ethertype.to_be_bytes(), "{what}: ethertype");
            runs += 1;
        }
    }
    // IPv6 in IPv4: Katran's decapsulator does not hand back the inner IPv6 packet as is (the
    // kernel and apiary both cut 20 bytes more than the outer header); whatever Linux does,
    // apiary must do.
    for n in 1..=2u8 {
        let inner6 = ipv6(
            client6(u16::from(n)),
            vip6(),
            UDP,
            &udp(7000, 443, &payload(24, n)),
        );
        e.run(
            &format!("v6 in v4 {n}"),
            &eth(ETH_IPV4, &ipv4(lb4, real4, 41, 0, &inner6)),
        );
    }
    let plain: [(&str, Vec<u8>, u32); 8] = [
        (
            "plain v4 tcp",
            tcp4(client4(1), real4, 1, 80, SYN),
            XDP_PASS,
        ),
        ("plain v6 udp", udp6(client6(1), real6, 1, 53), XDP_PASS),
        ("arp", eth(ETH_ARP, &[0u8; 28]), XDP_PASS),
        (
            "v4 fragment",
            eth(ETH_IPV4, &ipv4(lb4, real4, 4, 0x2000, &[0x45; 40])),
            XDP_DROP,
        ),
        (
            "v4 options",
            {
                let mut p = eth(ETH_IPV4, &ipv4(lb4, real4, 4, 0, &[0x45; 40]));
                p[14] = 0x46;
                p
            },
            XDP_DROP,
        ),
        ("truncated v4", eth(ETH_IPV4, &[0x45; 10]), XDP_DROP),
        ("truncated v6", eth(ETH_IPV6, &[0x60; 20]), XDP_DROP),
        ("ethernet header only", eth(ETH_IPV6, &[]), XDP_DROP),
    ];
    for (what, p, action) in &plain {
        e.expect(what, p, *action);
        runs += 1;
    }
    // IPIP whose inner header is cut short: whatever Linux does, apiary must do.
    e.run(
        "v4 in v4, inner cut",
        &eth(ETH_IPV4, &ipv4(lb4, real4, 4, 0, &[0x45; 8])),
    );
    e.run(
        "v6 in v6, inner cut",
        &eth(ETH_IPV6, &ipv6(lb6, real6, 41, &[0x60; 8])),
    );
    assert!(runs >= 26, "{runs} packets");
    e.finish();
}

/// libbpf-bootstrap's tc classifier (`tc.o`, `tc_ingress`): reads `__sk_buff.protocol` and the
/// IPv4 header through direct packet access, prints with `bpf_printk` (its format string in
/// `.rodata`) and lets every packet through (`TC_ACT_OK`), untouched.
#[test]
fn libbpf_bootstrap_tc_matches_the_kernel() {
    let Some(mut e) = E2e::load(
        "realworld_e2e.libbpf_bootstrap_tc",
        "libbpf-bootstrap/tc.o",
        "tc_ingress",
        PROG_TYPE_SCHED_CLS,
    ) else {
        return;
    };
    const TC_ACT_OK: u32 = 0;
    let mut packets = Vec::new();
    for n in 1..=8u8 {
        packets.push(tcp4(client4(n), VIP4, 1000 + u16::from(n), 80, SYN));
        packets.push(udp4(client4(n), VIP4, 2000, 53));
    }
    packets.push(tcp6(client6(1), vip6(), 1, 443, SYN));
    packets.push(eth(ETH_ARP, &[0u8; 28]));
    packets.push(eth(ETH_IPV4, &[0x45; 10]));
    packets.push(eth(ETH_IPV6, &[0x60; 20]));
    packets.push(eth(ETH_IPV4, &[]));
    for (i, p) in packets.iter().enumerate() {
        let out = e.expect(&format!("packet {i}"), p, TC_ACT_OK);
        assert_eq!(&out, p, "tc_ingress does not change packets");
    }
    e.finish();
}
