//! Test packets, built once: Ethernet (with 802.1Q VLAN tags), IPv4 (with options), IPv6, TCP,
//! UDP, ICMP and ICMPv6, with every length and checksum filled in, so that a test says what
//! its frame is rather than spelling out bytes and a checksum routine of its own.
//!
//! A [`Packet`] is a stack of layers, outermost first. [`Packet::build`] writes them from the
//! inside out: each layer then knows the bytes it carries (for its length fields and
//! checksums), the layer inside it (for the EtherType or IP protocol when not given), and the
//! nearest IP layer outside it (for the TCP/UDP/ICMPv6 pseudo-header).
//!
//! ```
//! use apiary_testkit::packet::{Eth, Ipv4, Packet, Udp};
//! let frame = Packet::new()
//!     .eth(Eth::default())
//!     .vlan(7)
//!     .ipv4(Ipv4::default())
//!     .udp(Udp { sport: 1234, dport: 53 })
//!     .payload(b"hello")
//!     .build();
//! assert_eq!(frame.len(), 14 + 4 + 20 + 8 + 5);
//! ```

/// EtherTypes.
pub const ETH_P_IP: u16 = 0x0800;
pub const ETH_P_ARP: u16 = 0x0806;
pub const ETH_P_8021Q: u16 = 0x8100;
pub const ETH_P_IPV6: u16 = 0x86dd;
/// IP protocol numbers.
pub const IPPROTO_ICMP: u8 = 1;
pub const IPPROTO_TCP: u8 = 6;
pub const IPPROTO_UDP: u8 = 17;
pub const IPPROTO_ICMPV6: u8 = 58;
/// TCP flags.
pub const TCP_FIN: u8 = 0x01;
pub const TCP_SYN: u8 = 0x02;
pub const TCP_RST: u8 = 0x04;
pub const TCP_PSH: u8 = 0x08;
pub const TCP_ACK: u8 = 0x10;

/// The 16-bit one's complement sum of `bytes` (big-endian words, an odd last byte padded with
/// zero) added to `sum`, not folded.
#[must_use]
pub fn sum16(bytes: &[u8], mut sum: u64) -> u64 {
    let mut words = bytes.chunks_exact(2);
    for w in &mut words {
        sum += u64::from(u16::from_be_bytes([w[0], w[1]]));
    }
    if let [last] = words.remainder() {
        sum += u64::from(*last) << 8;
    }
    sum
}

/// Folds a [`sum16`] to 16 bits and complements it: the Internet checksum (RFC 1071).
#[must_use]
pub fn fold(mut sum: u64) -> u16 {
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The Internet checksum of `bytes`: 0 when `bytes` holds a correct checksum field.
#[must_use]
pub fn checksum(bytes: &[u8]) -> u16 {
    fold(sum16(bytes, 0))
}

/// An Ethernet header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Eth {
    pub dst: [u8; 6],
    pub src: [u8; 6],
    /// The EtherType; `None`: from the layer inside (IPv4, IPv6, a VLAN tag).
    pub ethertype: Option<u16>,
}

impl Default for Eth {
    /// Broadcast from 00:11:22:33:44:55.
    fn default() -> Self {
        Self {
            dst: [0xff; 6],
            src: [0x00, 0x11, 0x22, 0x33, 0x44, 0x55],
            ethertype: None,
        }
    }
}

/// An 802.1Q tag (its EtherType is from the layer inside).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vlan {
    /// Priority, DEI and VLAN id.
    pub tci: u16,
    /// The EtherType after the tag; `None`: from the layer inside.
    pub ethertype: Option<u16>,
}

/// An IPv4 header (total length and header checksum computed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ipv4 {
    pub tos: u8,
    pub id: u16,
    /// Flags (DF `0x4000`, MF `0x2000`) and fragment offset.
    pub frag: u16,
    pub ttl: u8,
    /// The protocol; `None`: from the layer inside (TCP, UDP, ICMP).
    pub proto: Option<u8>,
    pub src: [u8; 4],
    pub dst: [u8; 4],
    /// Options, padded with zeros to a multiple of 4 bytes.
    pub options: Vec<u8>,
}

impl Default for Ipv4 {
    /// 10.0.0.1 to 10.0.0.2, id 1, TTL 64, no options.
    fn default() -> Self {
        Self {
            tos: 0,
            id: 1,
            frag: 0,
            ttl: 64,
            proto: None,
            src: [10, 0, 0, 1],
            dst: [10, 0, 0, 2],
            options: Vec::new(),
        }
    }
}

/// An IPv6 header (payload length computed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ipv6 {
    /// Traffic class and flow label (the low 28 bits of the first word).
    pub flow: u32,
    /// The next header; `None`: from the layer inside (TCP, UDP, ICMPv6).
    pub next: Option<u8>,
    pub hop_limit: u8,
    pub src: [u8; 16],
    pub dst: [u8; 16],
}

impl Default for Ipv6 {
    /// fd00::1 to fd00::2, hop limit 64.
    fn default() -> Self {
        let addr = |last| {
            let mut a = [0u8; 16];
            a[0] = 0xfd;
            a[15] = last;
            a
        };
        Self {
            flow: 0,
            next: None,
            hop_limit: 64,
            src: addr(1),
            dst: addr(2),
        }
    }
}

/// A TCP header without options (checksum computed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tcp {
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub ack: u32,
    /// `TCP_SYN`, `TCP_ACK`, ...
    pub flags: u8,
    pub window: u16,
}

impl Default for Tcp {
    /// 40000 to 443, SYN, window 65535.
    fn default() -> Self {
        Self {
            sport: 40000,
            dport: 443,
            seq: 0,
            ack: 0,
            flags: TCP_SYN,
            window: 0xffff,
        }
    }
}

/// A UDP header (length and checksum computed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Udp {
    pub sport: u16,
    pub dport: u16,
}

/// An ICMP (or, inside IPv6, ICMPv6) header (checksum computed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Icmp {
    pub ty: u8,
    pub code: u8,
    /// The rest of the header (echo: identifier and sequence number).
    pub rest: [u8; 4],
}

/// One layer of a [`Packet`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Layer {
    Eth(Eth),
    Vlan(Vlan),
    Ipv4(Ipv4),
    Ipv6(Ipv6),
    Tcp(Tcp),
    Udp(Udp),
    Icmp(Icmp),
    /// Bytes as they are (a payload, or a header this module does not build).
    Raw(Vec<u8>),
}

/// A packet: layers, outermost first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Packet {
    pub layers: Vec<Layer>,
}

impl Packet {
    /// An empty packet.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `layer` inside the ones so far.
    #[must_use]
    pub fn push(mut self, layer: Layer) -> Self {
        self.layers.push(layer);
        self
    }

    #[must_use]
    pub fn eth(self, h: Eth) -> Self {
        self.push(Layer::Eth(h))
    }

    /// An 802.1Q tag with `tci`.
    #[must_use]
    pub fn vlan(self, tci: u16) -> Self {
        self.push(Layer::Vlan(Vlan {
            tci,
            ethertype: None,
        }))
    }

    #[must_use]
    pub fn ipv4(self, h: Ipv4) -> Self {
        self.push(Layer::Ipv4(h))
    }

    #[must_use]
    pub fn ipv6(self, h: Ipv6) -> Self {
        self.push(Layer::Ipv6(h))
    }

    #[must_use]
    pub fn tcp(self, h: Tcp) -> Self {
        self.push(Layer::Tcp(h))
    }

    #[must_use]
    pub fn udp(self, h: Udp) -> Self {
        self.push(Layer::Udp(h))
    }

    #[must_use]
    pub fn icmp(self, h: Icmp) -> Self {
        self.push(Layer::Icmp(h))
    }

    /// Raw bytes inside the layers so far.
    #[must_use]
    pub fn payload(self, bytes: &[u8]) -> Self {
        self.push(Layer::Raw(bytes.to_vec()))
    }

    /// The packet's bytes, lengths and checksums filled in.
    ///
    /// # Panics
    /// When a length does not fit its field (an IPv4 packet over 64 KiB, ...): a test's
    /// mistake, not an input.
    #[must_use]
    pub fn build(&self) -> Vec<u8> {
        let mut inner = Vec::new();
        for (i, layer) in self.layers.iter().enumerate().rev() {
            let next = self.layers.get(i + 1);
            let ip = self.layers[..i].iter().rev().find_map(|l| match l {
                Layer::Ipv4(h) => Some(Pseudo::V4(h.src, h.dst)),
                Layer::Ipv6(h) => Some(Pseudo::V6(h.src, h.dst)),
                _ => None,
            });
            let mut out = layer.header(&inner, next);
            out.extend_from_slice(&inner);
            layer.finish(&mut out, ip);
            inner = out;
        }
        inner
    }
}

/// The addresses of the IP layer around a transport header.
#[derive(Clone, Copy)]
enum Pseudo {
    V4([u8; 4], [u8; 4]),
    V6([u8; 16], [u8; 16]),
}

impl Pseudo {
    /// The pseudo-header's sum for `proto` carrying `len` bytes.
    fn sum(self, proto: u8, len: usize) -> u64 {
        let (addrs, len) = match self {
            Self::V4(s, d) => (sum16(&d, sum16(&s, 0)), len as u64),
            Self::V6(s, d) => (sum16(&d, sum16(&s, 0)), len as u64),
        };
        addrs + (len >> 16) + (len & 0xffff) + u64::from(proto)
    }
}

fn be16(v: usize, what: &str) -> [u8; 2] {
    u16::try_from(v)
        .unwrap_or_else(|_| panic!("{what} of {v} bytes does not fit 16 bits"))
        .to_be_bytes()
}

/// The EtherType announcing `l`.
fn ethertype_of(l: Option<&Layer>) -> u16 {
    match l {
        Some(Layer::Ipv4(_)) => ETH_P_IP,
        Some(Layer::Ipv6(_)) => ETH_P_IPV6,
        Some(Layer::Vlan(_)) => ETH_P_8021Q,
        _ => 0,
    }
}

/// The IP protocol announcing `l` (`v6`: inside IPv6, where ICMP is ICMPv6).
fn proto_of(l: Option<&Layer>, v6: bool) -> u8 {
    match l {
        Some(Layer::Tcp(_)) => IPPROTO_TCP,
        Some(Layer::Udp(_)) => IPPROTO_UDP,
        Some(Layer::Icmp(_)) if v6 => IPPROTO_ICMPV6,
        Some(Layer::Icmp(_)) => IPPROTO_ICMP,
        _ => 0xff,
    }
}

impl Layer {
    /// The header's bytes, the checksum field zero, before `inner`.
    fn header(&self, inner: &[u8], next: Option<&Layer>) -> Vec<u8> {
        let mut h = Vec::with_capacity(40);
        match self {
            Self::Eth(e) => {
                h.extend_from_slice(&e.dst);
                h.extend_from_slice(&e.src);
                h.extend_from_slice(&e.ethertype.unwrap_or(ethertype_of(next)).to_be_bytes());
            }
            Self::Vlan(v) => {
                h.extend_from_slice(&v.tci.to_be_bytes());
                h.extend_from_slice(&v.ethertype.unwrap_or(ethertype_of(next)).to_be_bytes());
            }
            Self::Ipv4(v) => {
                let opts = v.options.len().div_ceil(4) * 4;
                let ihl = 5 + opts / 4;
                assert!(
                    ihl <= 15,
                    "{} bytes of IPv4 options (at most 40)",
                    v.options.len()
                );
                h.push(0x40 | ihl as u8);
                h.push(v.tos);
                h.extend_from_slice(&be16(ihl * 4 + inner.len(), "an IPv4 packet"));
                h.extend_from_slice(&v.id.to_be_bytes());
                h.extend_from_slice(&v.frag.to_be_bytes());
                h.push(v.ttl);
                h.push(v.proto.unwrap_or(proto_of(next, false)));
                h.extend_from_slice(&[0, 0]);
                h.extend_from_slice(&v.src);
                h.extend_from_slice(&v.dst);
                h.extend_from_slice(&v.options);
                h.resize(ihl * 4, 0);
            }
            Self::Ipv6(v) => {
                h.extend_from_slice(&(0x6000_0000 | (v.flow & 0x0fff_ffff)).to_be_bytes());
                h.extend_from_slice(&be16(inner.len(), "an IPv6 payload"));
                h.push(v.next.unwrap_or(proto_of(next, true)));
                h.push(v.hop_limit);
                h.extend_from_slice(&v.src);
                h.extend_from_slice(&v.dst);
            }
            Self::Tcp(t) => {
                h.extend_from_slice(&t.sport.to_be_bytes());
                h.extend_from_slice(&t.dport.to_be_bytes());
                h.extend_from_slice(&t.seq.to_be_bytes());
                h.extend_from_slice(&t.ack.to_be_bytes());
                h.extend_from_slice(&[0x50, t.flags]);
                h.extend_from_slice(&t.window.to_be_bytes());
                h.extend_from_slice(&[0, 0, 0, 0]);
            }
            Self::Udp(u) => {
                h.extend_from_slice(&u.sport.to_be_bytes());
                h.extend_from_slice(&u.dport.to_be_bytes());
                h.extend_from_slice(&be16(8 + inner.len(), "a UDP datagram"));
                h.extend_from_slice(&[0, 0]);
            }
            Self::Icmp(c) => {
                h.extend_from_slice(&[c.ty, c.code, 0, 0]);
                h.extend_from_slice(&c.rest);
            }
            Self::Raw(b) => h.extend_from_slice(b),
        }
        h
    }

    /// Fills in the checksum of the layer at the start of `out` (header and what it carries).
    fn finish(&self, out: &mut [u8], ip: Option<Pseudo>) {
        let (at, sum) = match (self, ip) {
            (Self::Ipv4(_), _) => {
                let ihl = usize::from(out[0] & 0x0f) * 4;
                (10, fold(sum16(&out[..ihl], 0)))
            }
            (Self::Tcp(_), Some(p)) => (16, fold(sum16(out, p.sum(IPPROTO_TCP, out.len())))),
            (Self::Udp(_), Some(p)) => {
                // 0 means "no checksum" in UDP over IPv4: a computed 0 is sent as 0xffff.
                let s = fold(sum16(out, p.sum(IPPROTO_UDP, out.len())));
                (6, if s == 0 { 0xffff } else { s })
            }
            (Self::Icmp(_), Some(p @ Pseudo::V6(..))) => {
                (2, fold(sum16(out, p.sum(IPPROTO_ICMPV6, out.len()))))
            }
            (Self::Icmp(_), _) => (2, fold(sum16(out, 0))),
            _ => return,
        };
        out[at..at + 2].copy_from_slice(&sum.to_be_bytes());
    }
}

/// An Ethernet + IPv4 frame (`Eth::default()`, `Ipv4::default()` from 10.0.0.`src`) with
/// protocol `proto` and `payload` bytes of a fixed pattern (`i * 7 + 3`) after the IP header:
/// the examples' test frame.
#[must_use]
pub fn ipv4_frame(proto: u8, src: u8, payload: usize) -> Vec<u8> {
    Packet::new()
        .eth(Eth::default())
        .ipv4(Ipv4 {
            proto: Some(proto),
            src: [10, 0, 0, src],
            ..Ipv4::default()
        })
        .payload(&pattern(payload))
        .build()
}

/// An ARP request frame (42 bytes, the ARP body zero but for its fixed fields).
#[must_use]
pub fn arp_frame() -> Vec<u8> {
    Packet::new()
        .eth(Eth {
            ethertype: Some(ETH_P_ARP),
            ..Eth::default()
        })
        .payload(&[0u8; 28])
        .build()
}

/// `n` bytes of the pattern `i * 7 + 3` (mod 256).
#[must_use]
pub fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 + 3) as u8).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The header of Wikipedia's "IPv4 header checksum" example, whose checksum is 0xb861.
    #[test]
    fn ipv4_header_checksum_matches_a_known_header() {
        let f = Packet::new()
            .ipv4(Ipv4 {
                id: 0,
                frag: 0x4000,
                ttl: 64,
                proto: Some(IPPROTO_UDP),
                src: [192, 168, 0, 1],
                dst: [192, 168, 0, 199],
                ..Ipv4::default()
            })
            .payload(&[0u8; 0x73 - 20])
            .build();
        assert_eq!(&f[..4], &[0x45, 0x00, 0x00, 0x73]);
        assert_eq!(&f[10..12], &[0xb8, 0x61]);
        assert_eq!(checksum(&f[..20]), 0);
    }

    #[test]
    fn lengths_types_and_checksums_verify() {
        for (v6, vlan) in [(false, false), (false, true), (true, false), (true, true)] {
            for l4 in 0..3 {
                let mut p = Packet::new().eth(Eth::default());
                if vlan {
                    p = p.vlan(0x0123);
                }
                p = if v6 {
                    p.ipv6(Ipv6::default())
                } else {
                    p.ipv4(Ipv4 {
                        options: vec![1, 1, 1],
                        ..Ipv4::default()
                    })
                };
                p = match l4 {
                    0 => p.tcp(Tcp::default()),
                    1 => p.udp(Udp {
                        sport: 9,
                        dport: 53,
                    }),
                    _ => p.icmp(Icmp {
                        ty: 8,
                        ..Icmp::default()
                    }),
                };
                let f = p.payload(&pattern(13)).build();
                let mut at = 12;
                if vlan {
                    assert_eq!(&f[12..14], &ETH_P_8021Q.to_be_bytes());
                    assert_eq!(&f[14..16], &[0x01, 0x23]);
                    at = 16;
                }
                let et = u16::from_be_bytes([f[at], f[at + 1]]);
                let l3 = &f[at + 2..];
                let (proto, l4b, pseudo) = if v6 {
                    assert_eq!(et, ETH_P_IPV6);
                    assert_eq!(
                        usize::from(u16::from_be_bytes([l3[4], l3[5]])),
                        l3.len() - 40
                    );
                    let p = Pseudo::V6(
                        l3[8..24].try_into().expect("address"),
                        l3[24..40].try_into().expect("address"),
                    );
                    (l3[6], &l3[40..], p)
                } else {
                    assert_eq!(et, ETH_P_IP);
                    assert_eq!(l3[0], 0x46, "IHL 6 with 3 bytes of options");
                    assert_eq!(checksum(&l3[..24]), 0);
                    assert_eq!(usize::from(u16::from_be_bytes([l3[2], l3[3]])), l3.len());
                    let p = Pseudo::V4(
                        l3[12..16].try_into().expect("address"),
                        l3[16..20].try_into().expect("address"),
                    );
                    (l3[9], &l3[24..], p)
                };
                let want = [
                    IPPROTO_TCP,
                    IPPROTO_UDP,
                    if v6 { IPPROTO_ICMPV6 } else { IPPROTO_ICMP },
                ][l4];
                assert_eq!(proto, want);
                let pseudo = if proto == IPPROTO_ICMP {
                    0
                } else {
                    pseudo.sum(proto, l4b.len())
                };
                assert_eq!(fold(sum16(l4b, pseudo)), 0, "v6 {v6} vlan {vlan} l4 {l4}");
                assert!(l4b.ends_with(&pattern(13)));
            }
        }
    }

    #[test]
    fn udp_zero_checksum_is_sent_as_all_ones_and_odd_lengths_pad() {
        assert_eq!(sum16(&[0x12], 0), 0x1200);
        assert_eq!(checksum(&[0xff, 0xff]), 0);
        // Any UDP datagram: its checksum field is never 0.
        for n in 0..64 {
            let f = Packet::new()
                .ipv4(Ipv4::default())
                .udp(Udp { sport: n, dport: 0 })
                .payload(&pattern(usize::from(n)))
                .build();
            assert_ne!(&f[26..28], &[0, 0]);
        }
    }

    #[test]
    fn helper_frames_keep_their_shape() {
        let f = ipv4_frame(IPPROTO_TCP, 7, 20);
        assert_eq!(f.len(), 54);
        assert_eq!(&f[12..14], &[0x08, 0x00]);
        assert_eq!(f[23], IPPROTO_TCP);
        assert_eq!(f[29], 7);
        assert_eq!(checksum(&f[14..34]), 0);
        assert_eq!(&f[34..], &pattern(20)[..]);
        let a = arp_frame();
        assert_eq!(a.len(), 42);
        assert_eq!(&a[12..14], &[0x08, 0x06]);
    }
}
