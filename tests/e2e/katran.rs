//! Katran's control plane, as far as `balancer_ingress` needs it: the byte layouts of
//! `katran/lib/bpf/balancer_structs.h` and the map writes `KatranLb` makes when a VIP and its
//! reals are added (`vip_map`, `reals`, `ch_rings`, `ctl_array`).
//!
//! What mirrors Katran and what does not:
//! - VIPs get numbers from 0 in the order they are added, reals from 1 (`balancer_ingress`
//!   treats real 0 as "ring not initialised" and drops); a VIP's ring is the `RING_SIZE`
//!   (65,537) slots from `vip_num * RING_SIZE` in `ch_rings`, each holding a real's number.
//! - Rings are filled by Maglev hashing, Katran's default (`CHHelpers`, `MaglevV2` with equal
//!   weights); the per-real hashes here are a splitmix of the real's number, not Katran's
//!   MurmurHash3 of it, so the rings are Maglev rings but not byte-identical to Katran's.
//! - `ctl_array[0]` is the default gateway's MAC (`KatranLb::changeMac`).
//! - `lru_mapping` stays empty, as `katran_tester` runs it (`testing = true`): every CPU uses
//!   `fallback_cache`, so the LRU does not depend on which CPU a kernel test run lands on.

use super::E2e;

/// `RING_SIZE` (balancer_consts.h).
pub const RING_SIZE: u32 = 65_537;
/// `MAX_VIPS`: the global counters of `stats` sit at `MAX_VIPS + CNTR`.
pub const MAX_VIPS: u32 = 512;
/// `F_IPV6` in `real_definition.flags`.
pub const F_IPV6: u8 = 1;
/// VIP flags (`vip_meta.flags`).
pub const F_HASH_NO_SRC_PORT: u32 = 1 << 0;
pub const F_LRU_BYPASS: u32 = 1 << 1;
/// `stats` index of the new-connection rate counter (`v2` holds a `bpf_ktime_get_ns` reading).
pub const NEW_CONN_RATE_CNTR: u32 = MAX_VIPS + 2;

/// A VIP or real address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Addr {
    V4([u8; 4]),
    V6([u8; 16]),
}

impl Addr {
    /// The 16-byte union (`__be32 vip; __be32 vipv6[4]`), IPv4 in the first 4 bytes.
    fn bytes16(self) -> [u8; 16] {
        let mut b = [0u8; 16];
        match self {
            Self::V4(a) => b[..4].copy_from_slice(&a),
            Self::V6(a) => b = a,
        }
        b
    }
}

/// `struct vip_definition` (20 bytes: address, port in network order, protocol, padding).
pub fn vip_definition(addr: Addr, port: u16, proto: u8) -> Vec<u8> {
    let mut k = addr.bytes16().to_vec();
    k.extend_from_slice(&port.to_be_bytes());
    k.extend_from_slice(&[proto, 0]);
    k
}

/// `struct vip_meta` (flags, vip_num).
pub fn vip_meta(flags: u32, vip_num: u32) -> Vec<u8> {
    let mut v = flags.to_le_bytes().to_vec();
    v.extend_from_slice(&vip_num.to_le_bytes());
    v
}

/// `struct real_definition` (20 bytes: address, flags, padding).
pub fn real_definition(addr: Addr) -> Vec<u8> {
    let mut v = addr.bytes16().to_vec();
    v.push(if matches!(addr, Addr::V6(_)) {
        F_IPV6
    } else {
        0
    });
    v.extend_from_slice(&[0, 0, 0]);
    v
}

/// splitmix64: the per-real hash inputs of the Maglev permutation.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A Maglev lookup table of `size` slots (a prime) over `reals` (their numbers), equal
/// weights: each real walks its own permutation (`offset + j * skip`) and takes the next free
/// slot in turn until every slot is taken.
pub fn maglev_ring(reals: &[u32], size: u32) -> Vec<u32> {
    assert!(!reals.is_empty());
    let n = u64::from(size);
    let perms: Vec<(u64, u64)> = reals
        .iter()
        .map(|&r| {
            let offset = mix(u64::from(r)) % n;
            let skip = mix(u64::from(r) ^ 0xdead_beef) % (n - 1) + 1;
            (offset, skip)
        })
        .collect();
    let mut next = vec![0u64; reals.len()];
    let mut ring = vec![u32::MAX; size as usize];
    let mut filled = 0;
    'fill: loop {
        for (i, &(offset, skip)) in perms.iter().enumerate() {
            let mut c = (offset + next[i] * skip) % n;
            while ring[c as usize] != u32::MAX {
                next[i] += 1;
                c = (offset + next[i] * skip) % n;
            }
            ring[c as usize] = reals[i];
            next[i] += 1;
            filled += 1;
            if filled == size as usize {
                break 'fill;
            }
        }
    }
    ring
}

/// The control plane of one Katran instance over an [`E2e`].
pub struct ControlPlane {
    next_vip: u32,
    next_real: u32,
}

impl Default for ControlPlane {
    fn default() -> Self {
        Self::new()
    }
}

impl ControlPlane {
    pub fn new() -> Self {
        Self {
            next_vip: 0,
            next_real: 1,
        }
    }

    /// `changeMac`: the default gateway's MAC in `ctl_array[0]`.
    pub fn set_gateway_mac(&self, e: &mut E2e, mac: [u8; 6]) {
        let mut v = mac.to_vec();
        v.extend_from_slice(&[0, 0]);
        e.update("ctl_array", &0u32.to_le_bytes(), &v);
    }

    /// `addReal`: the real's number.
    pub fn add_real(&mut self, e: &mut E2e, addr: Addr) -> u32 {
        let num = self.next_real;
        self.next_real += 1;
        e.update("reals", &num.to_le_bytes(), &real_definition(addr));
        num
    }

    /// `addVip` + `modifyRealsForVip`: the VIP's number; its ring over `reals` written to
    /// `ch_rings`.
    pub fn add_vip(
        &mut self,
        e: &mut E2e,
        addr: Addr,
        port: u16,
        proto: u8,
        flags: u32,
        reals: &[u32],
    ) -> u32 {
        let num = self.next_vip;
        self.next_vip += 1;
        e.update(
            "vip_map",
            &vip_definition(addr, port, proto),
            &vip_meta(flags, num),
        );
        for (i, real) in maglev_ring(reals, RING_SIZE).into_iter().enumerate() {
            let slot = num * RING_SIZE + i as u32;
            e.update("ch_rings", &slot.to_le_bytes(), &real.to_le_bytes());
        }
        num
    }
}

#[test]
fn maglev_rings_are_full_and_balanced() {
    let ring = maglev_ring(&[1, 2, 5], 65_537);
    for r in [1u32, 2, 5] {
        let n = ring.iter().filter(|&&x| x == r).count();
        // Maglev's equal-weight imbalance is at most one slot per real per round.
        assert!((21_845..=21_846).contains(&n), "real {r}: {n} slots");
    }
    assert!(ring.iter().all(|x| [1, 2, 5].contains(x)));
}
