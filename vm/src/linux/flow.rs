//! The flow hash of `bpf_get_hash_recalc`.
//!
//! Linux dissects the packet (`skb_flow_dissect_flow_keys`) and hashes the flow keys with
//! SipHash under a key drawn at boot, so its values differ from boot to boot and cannot be
//! reproduced. apiary keeps what programs rely on: packets of one flow hash alike, in both
//! directions (Linux orders the endpoints first, `__flow_hash_consistentify`), the hash is never
//! 0, and it is the same on every run and engine. It is the 32-bit FNV-1a hash of
//! `EtherType, IP protocol, lower endpoint (address, port), higher endpoint (address, port)`.
//!
//! Dissection: Ethernet (with up to two 802.1Q / 802.1ad tags) when the packet starts at layer
//! 2, then IPv4 (ports unless the packet is a fragment) or IPv6 (ports when the next header is
//! the transport one), ports for TCP, UDP, UDP-Lite, SCTP and DCCP. Anything else hashes the
//! parts found so far.

const ETH_P_IP: u16 = 0x0800;
const ETH_P_IPV6: u16 = 0x86dd;
const ETH_P_8021Q: u16 = 0x8100;
const ETH_P_8021AD: u16 = 0x88a8;
const PORT_PROTOCOLS: [u8; 5] = [6, 17, 33, 132, 136];

/// The flow keys found in a packet.
#[derive(Debug, Default, PartialEq, Eq)]
struct Keys {
    n_proto: u16,
    ip_proto: u8,
    src: Vec<u8>,
    dst: Vec<u8>,
    ports: [u16; 2],
}

fn be16(p: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*p.get(at)?, *p.get(at + 1)?]))
}

fn dissect(packet: &[u8], l2: bool, protocol: u16) -> Keys {
    let mut keys = Keys::default();
    let (mut proto, mut off) = (protocol, 0);
    if l2 {
        let Some(p) = be16(packet, 12) else {
            return keys;
        };
        proto = p;
        off = 14;
        for _ in 0..2 {
            if proto != ETH_P_8021Q && proto != ETH_P_8021AD {
                break;
            }
            let Some(inner) = be16(packet, off + 2) else {
                return keys;
            };
            proto = inner;
            off += 4;
        }
    }
    keys.n_proto = proto;
    let ip = packet.get(off..).unwrap_or_default();
    let transport = match proto {
        ETH_P_IP if ip.len() >= 20 => {
            let ihl = usize::from(ip[0] & 0xf) * 4;
            if ihl < 20 {
                return keys;
            }
            keys.ip_proto = ip[9];
            keys.src = ip[12..16].to_vec();
            keys.dst = ip[16..20].to_vec();
            let fragment = be16(ip, 6).is_some_and(|f| f & 0x3fff != 0);
            (!fragment).then_some(ihl)
        }
        ETH_P_IPV6 if ip.len() >= 40 => {
            keys.ip_proto = ip[6];
            keys.src = ip[8..24].to_vec();
            keys.dst = ip[24..40].to_vec();
            Some(40)
        }
        _ => None,
    };
    if let Some(at) = transport.filter(|_| PORT_PROTOCOLS.contains(&keys.ip_proto)) {
        if let (Some(s), Some(d)) = (be16(ip, at), be16(ip, at + 2)) {
            keys.ports = [s, d];
        }
    }
    keys
}

/// The flow hash of `packet` (see the module documentation). `l2`: the packet starts with
/// its Ethernet header; otherwise at the network header of EtherType `protocol`.
#[must_use]
pub fn hash(packet: &[u8], l2: bool, protocol: u16) -> u32 {
    let mut k = dissect(packet, l2, protocol);
    if (&k.dst, k.ports[1]) < (&k.src, k.ports[0]) {
        std::mem::swap(&mut k.src, &mut k.dst);
        k.ports.swap(0, 1);
    }
    let mut h: u32 = 0x811c_9dc5;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h ^= u32::from(b);
            h = h.wrapping_mul(0x0100_0193);
        }
    };
    eat(&k.n_proto.to_be_bytes());
    eat(&[k.ip_proto]);
    eat(&k.src);
    eat(&k.ports[0].to_be_bytes());
    eat(&k.dst);
    eat(&k.ports[1].to_be_bytes());
    if h == 0 {
        1
    } else {
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tcp(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16) -> Vec<u8> {
        let mut p = vec![0u8; 14 + 20 + 20];
        p[12..14].copy_from_slice(&ETH_P_IP.to_be_bytes());
        p[14] = 0x45;
        p[14 + 9] = 6;
        p[26..30].copy_from_slice(&src);
        p[30..34].copy_from_slice(&dst);
        p[34..36].copy_from_slice(&sport.to_be_bytes());
        p[36..38].copy_from_slice(&dport.to_be_bytes());
        p
    }

    #[test]
    fn both_directions_hash_alike_and_flows_differ() {
        let a = hash(&tcp([10, 0, 0, 1], [10, 0, 0, 2], 1000, 80), true, 0);
        let b = hash(&tcp([10, 0, 0, 2], [10, 0, 0, 1], 80, 1000), true, 0);
        let c = hash(&tcp([10, 0, 0, 1], [10, 0, 0, 2], 1001, 80), true, 0);
        assert_eq!(a, b);
        assert_ne!(a, c);
        // Without the Ethernet header, given the EtherType.
        let p = tcp([10, 0, 0, 1], [10, 0, 0, 2], 1000, 80);
        assert_eq!(hash(&p[14..], false, ETH_P_IP), a);
    }

    #[test]
    fn short_and_odd_packets_hash_without_panicking() {
        for len in 0..60 {
            let p = vec![0x81u8; len];
            assert_ne!(hash(&p, true, 0), 0);
            assert_ne!(hash(&p, false, ETH_P_IPV6), 0);
        }
    }
}
