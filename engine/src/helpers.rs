//! The helpers the conformance suite may call, with the ids uBPF's test plugin gives them
//! (CONFORMANCE.md §3.5, §3.7). Only id 5 is used by the official tests (`call_unwind_fail`,
//! `callx`), but our own tests exercise all six, so they are defined precisely here.

use apiary_vm::{HelperContext, HelperTable};

/// Longest string `strcmp_ext` reads before giving up on finding the NUL.
pub const STRCMP_MAX: u64 = 4096;

/// Helper ids, as registered by [`conformance_helpers`].
pub mod id {
    /// `gather_bytes(a, b, c, d, e)`.
    pub const GATHER_BYTES: u32 = 0;
    /// `memfrob(ptr, len)`.
    pub const MEMFROB: u32 = 1;
    /// `no_op()`.
    pub const NO_OP: u32 = 2;
    /// `sqrti(x)`.
    pub const SQRTI: u32 = 3;
    /// `strcmp_ext(a, b)`.
    pub const STRCMP_EXT: u32 = 4;
    /// `unwind(x)`.
    pub const UNWIND: u32 = 5;
}

/// The low bytes of the five arguments packed into one value:
/// `a<<32 | b<<24 | c<<16 | d<<8 | e`, each argument truncated to a byte.
#[must_use]
pub fn gather_bytes(args: [u64; 5]) -> u64 {
    args.iter()
        .fold(0u64, |acc, &a| (acc << 8) | u64::from(a as u8))
}

/// C `strcmp` on byte strings: the sign of the first differing byte (as unsigned char), or of
/// the length difference; returned as -1, 0 or 1.
#[must_use]
pub fn strcmp_sign(a: &[u8], b: &[u8]) -> i64 {
    match a.cmp(b) {
        std::cmp::Ordering::Less => -1,
        std::cmp::Ordering::Equal => 0,
        std::cmp::Ordering::Greater => 1,
    }
}

extern "C" fn plain_gather_bytes(a: u64, b: u64, c: u64, d: u64, e: u64) -> u64 {
    gather_bytes([a, b, c, d, e])
}

extern "C" fn plain_no_op(_: u64, _: u64, _: u64, _: u64, _: u64) -> u64 {
    0
}

extern "C" fn plain_sqrti(x: u64, _: u64, _: u64, _: u64, _: u64) -> u64 {
    x.isqrt()
}

/// A table with helpers 0–5 as uBPF's conformance plugin defines them.
#[must_use]
pub fn conformance_helpers() -> HelperTable {
    let mut t = HelperTable::new();
    // Plain helpers (engines call them directly): pure functions of r1–r5 that cannot panic.
    t.register_plain(id::GATHER_BYTES, "gather_bytes", plain_gather_bytes);
    t.register(
        id::MEMFROB,
        "memfrob",
        |ctx: &mut HelperContext<'_>, [ptr, len, ..]| {
            ctx.modify(ptr, len, |bytes| {
                for b in bytes {
                    *b ^= 42;
                }
            })?;
            Ok(0)
        },
    );
    t.register_plain(id::NO_OP, "no_op", plain_no_op);
    t.register_plain(id::SQRTI, "sqrti", plain_sqrti);
    t.register(
        id::STRCMP_EXT,
        "strcmp_ext",
        |ctx: &mut HelperContext<'_>, [a, b, ..]| {
            let sa = ctx.read_cstr(a, STRCMP_MAX)?;
            let sb = ctx.read_cstr(b, STRCMP_MAX)?;
            Ok(strcmp_sign(&sa, &sb) as u64)
        },
    );
    t.register(
        id::UNWIND,
        "unwind",
        |ctx: &mut HelperContext<'_>, [x, ..]| {
            if x == 0 {
                ctx.stop(0);
            }
            Ok(x)
        },
    );
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use apiary_vm::memory::RegionTable;
    use apiary_vm::{Access, HelperError, Region};

    /// Calls helper `id` with a context over `input` (writable) and a scratch stack.
    fn call(id: u32, input: &mut [u8], args: [u64; 5]) -> (Result<u64, HelperError>, Option<u64>) {
        let table = conformance_helpers();
        let mut stack = [0u8; 16];
        let regions = RegionTable::new(Region::writable(&mut stack), Region::writable(input), &[]);
        let mut ctx = HelperContext::new(&regions);
        let helper = table.get(id).map(|h| h.func.clone());
        let Some(func) = helper else {
            panic!("helper {id} missing")
        };
        let r = func(&mut ctx, args);
        (r, ctx.stop_requested())
    }

    #[test]
    fn ids_and_names() {
        let t = conformance_helpers();
        let names: Vec<_> = t.iter().map(|h| (h.id, h.name.as_str())).collect();
        assert_eq!(
            names,
            [
                (0, "gather_bytes"),
                (1, "memfrob"),
                (2, "no_op"),
                (3, "sqrti"),
                (4, "strcmp_ext"),
                (5, "unwind")
            ]
        );
    }

    #[test]
    fn gather_bytes_truncates_each_argument() {
        let (r, _) = call(0, &mut [], [0x101, 0x202, 0x303, 0x404, 0x505]);
        assert_eq!(r, Ok(0x01_0203_0405));
        assert_eq!(gather_bytes([0xff; 5]), 0xff_ffff_ffff);
    }

    #[test]
    fn memfrob_xors_in_place_and_checks_bounds() {
        let mut buf = *b"abc\0";
        let addr = buf.as_ptr() as u64;
        let (r, _) = call(1, &mut buf, [addr, 3, 0, 0, 0]);
        assert_eq!(r, Ok(0));
        assert_eq!(buf, [b'a' ^ 42, b'b' ^ 42, b'c' ^ 42, 0]);
        let (r, _) = call(1, &mut buf, [addr, 5, 0, 0, 0]);
        assert_eq!(
            r,
            Err(HelperError::OutOfBounds {
                addr,
                len: 5,
                access: Access::Write
            })
        );
        // A zero length touches nothing, wherever it points.
        assert_eq!(call(1, &mut buf, [0, 0, 0, 0, 0]).0, Ok(0));
    }

    #[test]
    fn no_op_returns_zero() {
        assert_eq!(call(2, &mut [], [1, 2, 3, 4, 5]), (Ok(0), None));
    }

    #[test]
    fn sqrti_is_the_integer_square_root() {
        for (x, r) in [(0, 0), (1, 1), (15, 3), (16, 4), (u64::MAX, 0xffff_ffff)] {
            assert_eq!(call(3, &mut [], [x, 0, 0, 0, 0]).0, Ok(r), "sqrti({x})");
        }
    }

    #[test]
    fn strcmp_ext_compares_c_strings() {
        let mut buf = *b"abc\0abd\0ab\0\xff\0";
        let base = buf.as_ptr() as u64;
        let cmp = |buf: &mut [u8], a: u64, b: u64| call(4, buf, [base + a, base + b, 0, 0, 0]).0;
        assert_eq!(cmp(&mut buf, 0, 0), Ok(0));
        assert_eq!(cmp(&mut buf, 0, 4), Ok(-1i64 as u64));
        assert_eq!(cmp(&mut buf, 4, 0), Ok(1));
        assert_eq!(cmp(&mut buf, 8, 0), Ok(-1i64 as u64), "prefix sorts first");
        assert_eq!(cmp(&mut buf, 11, 0), Ok(1), "bytes compare unsigned");
        // No NUL before the end of the region: the read runs out of bounds.
        let mut unterminated = *b"abc";
        let a = unterminated.as_ptr() as u64;
        let (r, _) = call(4, &mut unterminated, [a, a, 0, 0, 0]);
        assert!(matches!(r, Err(HelperError::OutOfBounds { .. })), "{r:?}");
    }

    #[test]
    fn unwind_stops_only_on_zero() {
        assert_eq!(call(5, &mut [], [7, 0, 0, 0, 0]), (Ok(7), None));
        assert_eq!(
            call(5, &mut [], [u64::MAX, 0, 0, 0, 0]),
            (Ok(u64::MAX), None)
        );
        assert_eq!(call(5, &mut [], [0, 0, 0, 0, 0]), (Ok(0), Some(0)));
    }
}
