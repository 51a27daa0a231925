//! The Linux helper profile: map, ring buffer, perf, tail-call, probe-read, time, identity,
//! formatting and packet helpers under their Linux ids and names ([`crate::linux_helpers`]), built for one
//! [`MapTable`].
//!
//! The packet helpers (socket-buffer bytes and checksums, redirects, XDP head/meta/tail moves)
//! are in [`net`]; they need the run's packet frame ([`crate::packet`]).
//!
//! Every pointer argument goes through the checked copies of [`HelperContext`]
//! ([`HelperContext::read_buf`], [`HelperContext::write_from`], ...): helpers never hold a
//! reference into program memory, which programs on other threads may write meanwhile; map
//! arguments are handles validated through the table (an invalid one is a
//! [`HelperError::InvalidArgument`] fault, since Linux's verifier would have rejected the
//! program). Operation failures are returned to the program as negative errnos, as on Linux.
//!
//! The helper closures hold an `Arc` of the table, so an [`Environment`] built by
//! [`environment`] keeps the map memory its regions describe alive for as long as any engine
//! prepared from it.

pub mod csum;
pub mod flow;
pub mod format;
pub mod host;
pub mod net;

use std::fmt;
use std::sync::{Arc, Mutex};

use crate::engine::{Environment, ExecConfig};
use crate::fault::{Access, HelperError};
use crate::helpers::{HelperContext, HelperResult, HelperTable};
use crate::linux_helpers::helper_name;
use crate::maps::{map_handle, Errno, Map, MapKind, MapTable};
use crate::memory::{FRAME_SIZE, MAX_TAIL_CALLS};
use host::Clock;

/// Most iterations of `bpf_loop` (Linux `BPF_MAX_LOOPS`).
const MAX_LOOPS: u64 = 1 << 23;

/// Longest string `%s` or a `bpf_snprintf` format reads.
const MAX_STR: u64 = 4096;
/// Most `bpf_snprintf` arguments (Linux `MAX_BPRINTF_VARARGS`).
const MAX_SNPRINTF_ARGS: u64 = 12;

/// Where `bpf_trace_printk` output goes.
#[derive(Clone)]
pub struct TraceSink(Arc<dyn Fn(&str) + Send + Sync>);

impl fmt::Debug for TraceSink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TraceSink")
    }
}

impl Default for TraceSink {
    fn default() -> Self {
        Self::stderr()
    }
}

impl TraceSink {
    /// Each message to standard error.
    #[must_use]
    pub fn stderr() -> Self {
        Self(Arc::new(|s| eprint!("{s}")))
    }

    /// Each message to `f`.
    pub fn new(f: impl Fn(&str) + Send + Sync + 'static) -> Self {
        Self(Arc::new(f))
    }

    /// Messages collected into a shared buffer (returned alongside).
    #[must_use]
    pub fn buffer() -> (Self, Arc<Mutex<Vec<String>>>) {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&buf);
        (
            Self(Arc::new(move |s| {
                sink.lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push(s.to_owned());
            })),
            buf,
        )
    }

    fn emit(&self, s: &str) {
        (self.0)(s);
    }
}

/// Host sinks and settings of the Linux helpers.
#[derive(Clone, Debug, Default)]
pub struct LinuxOptions {
    /// `bpf_trace_printk` output.
    pub trace: TraceSink,
}

/// Linux helper ids by name, from the Linux catalogue.
pub use apiary_linux::helpers::id;

/// An environment for programs bound to `table`: the Linux helpers, every map region, `config`.
#[must_use]
pub fn environment(
    table: &Arc<MapTable>,
    options: &LinuxOptions,
    config: ExecConfig,
) -> Environment {
    Environment {
        helpers: Arc::new(helpers(table, options)),
        regions: Arc::from(table.regions()),
        config,
        window: table.options().window.clone(),
    }
}

/// A helper table with the Linux helpers for `table`.
#[must_use]
pub fn helpers(table: &Arc<MapTable>, options: &LinuxOptions) -> HelperTable {
    let mut h = HelperTable::new();
    register(&mut h, table, options);
    h
}

fn r0(result: Result<(), Errno>) -> u64 {
    match result {
        Ok(()) => 0,
        Err(e) => e.to_r0(),
    }
}

fn map(table: &MapTable, handle: u64) -> Result<&Arc<dyn Map>, HelperError> {
    table
        .by_handle(handle)
        .map(|(_, m)| m)
        .ok_or(HelperError::InvalidArgument {
            index: 1,
            value: handle,
        })
}

/// A helper body: the table, the context, r1–r5.
type LinuxHelper =
    Box<dyn Fn(&MapTable, &mut HelperContext<'_>, [u64; 5]) -> HelperResult + Send + Sync>;

/// Adds the Linux helpers for `table` to `h` (replacing helpers with the same ids), and marks
/// every other helper of the Linux catalogue as not available in userspace, so that a program
/// calling one is refused at prepare time by the helper's name.
pub fn register(h: &mut HelperTable, table: &Arc<MapTable>, options: &LinuxOptions) {
    register_implemented(h, table, options);
    for helper in apiary_linux::HELPERS {
        if h.get(helper.id).is_none() {
            h.mark_unavailable(helper.id, helper.name);
        }
    }
}

fn register_implemented(h: &mut HelperTable, table: &Arc<MapTable>, options: &LinuxOptions) {
    let mut add = |id: u32, f: LinuxHelper| {
        let t = Arc::clone(table);
        let name = helper_name(id).unwrap_or("unknown");
        h.register(id, name, move |ctx, args| f(&t, ctx, args));
    };

    add(
        id::MAP_LOOKUP_ELEM,
        Box::new(|t, ctx, [m, key, ..]| {
            let map = map(t, m)?;
            let slot = ctx.worker_slot();
            ctx.with_bytes(key, u64::from(map.spec().key_size), |key| {
                if matches!(map.kind(), MapKind::OfMaps) {
                    map.inner_map(key).map_or(0, |i| map_handle(i as usize))
                } else {
                    map.lookup(key, slot).unwrap_or(0)
                }
            })
        }),
    );
    add(
        id::MAP_UPDATE_ELEM,
        Box::new(|t, ctx, [m, key, value, flags, _]| {
            let map = map(t, m)?;
            let slot = ctx.worker_slot();
            let spec = map.spec();
            ctx.with_bytes(key, u64::from(spec.key_size), |key| {
                ctx.with_bytes(value, u64::from(spec.value_size), |value| {
                    r0(map.update(key, value, flags, Some(slot)))
                })
            })?
        }),
    );
    add(
        id::MAP_DELETE_ELEM,
        Box::new(|t, ctx, [m, key, ..]| {
            let map = map(t, m)?;
            ctx.with_bytes(key, u64::from(map.spec().key_size), |key| {
                r0(map.delete(key))
            })
        }),
    );

    for probe in [id::PROBE_READ, id::PROBE_READ_USER, id::PROBE_READ_KERNEL] {
        add(
            probe,
            Box::new(|_, ctx, [dst, size, src, ..]| {
                let size = u64::from(size as u32);
                ctx.check(dst, size, Access::Write)?;
                Ok(if ctx.check(src, size, Access::Read).is_ok() {
                    ctx.copy(dst, src, size)?;
                    0
                } else {
                    ctx.fill(dst, size, 0)?;
                    Errno::Fault.to_r0()
                })
            }),
        );
    }
    for probe in [
        id::PROBE_READ_STR,
        id::PROBE_READ_USER_STR,
        id::PROBE_READ_KERNEL_STR,
    ] {
        add(
            probe,
            Box::new(|_, ctx, [dst, size, src, ..]| {
                let size = u64::from(size as u32);
                if size == 0 {
                    return Ok(0);
                }
                let data = ctx.read_cstr(src, size - 1);
                ctx.check(dst, size, Access::Write)?;
                Ok(match data {
                    Ok(mut d) => {
                        d.push(0);
                        ctx.write_from(dst, &d)?;
                        d.len() as u64
                    }
                    Err(_) => {
                        ctx.fill(dst, size, 0)?;
                        Errno::Fault.to_r0()
                    }
                })
            }),
        );
    }

    add(
        id::KTIME_GET_NS,
        Box::new(|_, _, _| Ok(host::ktime_ns(Clock::Monotonic))),
    );
    add(id::JIFFIES64, Box::new(|_, _, _| Ok(host::jiffies64())));
    for (helper, f) in net::helpers() {
        add(helper, f);
    }
    add(
        id::KTIME_GET_BOOT_NS,
        Box::new(|_, _, _| Ok(host::ktime_ns(Clock::Boot))),
    );
    add(
        id::KTIME_GET_COARSE_NS,
        Box::new(|_, _, _| Ok(host::ktime_ns(Clock::Coarse))),
    );
    add(
        id::KTIME_GET_TAI_NS,
        Box::new(|_, _, _| Ok(host::ktime_ns(Clock::Tai))),
    );
    add(
        id::GET_PRANDOM_U32,
        Box::new(|_, _, _| Ok(u64::from(host::prandom_u32()))),
    );
    add(
        id::GET_SMP_PROCESSOR_ID,
        Box::new(|_, ctx, _| Ok(u64::from(ctx.worker_slot()))),
    );
    add(
        id::GET_CURRENT_PID_TGID,
        Box::new(|_, _, _| Ok(host::pid_tgid())),
    );
    add(
        id::GET_CURRENT_UID_GID,
        Box::new(|_, _, _| Ok(host::uid_gid())),
    );
    add(
        id::GET_CURRENT_COMM,
        Box::new(|_, ctx, [buf, size, ..]| {
            let size = u64::from(size as u32);
            ctx.check(buf, size, Access::Write)?;
            // At most the comm and its NUL are written; the rest is zeroed.
            let comm = host::comm();
            let n = comm.len().min(size.saturating_sub(1) as usize);
            ctx.write_from(buf, &comm[..n])?;
            ctx.fill(buf + n as u64, size - n as u64, 0)?;
            Ok(0)
        }),
    );

    let trace = options.trace.clone();
    add(
        id::TRACE_PRINTK,
        Box::new(move |_, ctx, [fmt, size, a, b, c]| {
            let raw = ctx.read_vec(fmt, u64::from(size as u32))?;
            let fmt = raw.split(|&x| x == 0).next().unwrap_or_default().to_vec();
            Ok(match format_with(ctx, &fmt, &[a, b, c]) {
                Some(text) => {
                    let s = String::from_utf8_lossy(&text);
                    trace.emit(&s);
                    text.len() as u64
                }
                None => Errno::Invalid.to_r0(),
            })
        }),
    );
    add(
        id::SNPRINTF,
        Box::new(|_, ctx, [out, size, fmt, data, data_len]| {
            if data_len % 8 != 0 || data_len / 8 > MAX_SNPRINTF_ARGS {
                return Ok(Errno::Invalid.to_r0());
            }
            let fmt = ctx.read_cstr(fmt, MAX_STR)?;
            let args: Vec<u64> = ctx
                .read_vec(data, data_len)?
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                .collect();
            let Some(text) = format_with(ctx, &fmt, &args) else {
                return Ok(Errno::Invalid.to_r0());
            };
            let size = u64::from(size as u32);
            if size > 0 {
                let n = (text.len() as u64).min(size - 1) as usize;
                ctx.check(out, n as u64 + 1, Access::Write)?;
                ctx.write_from(out, &text[..n])?;
                ctx.write_from(out + n as u64, &[0])?;
            }
            Ok(text.len() as u64 + 1)
        }),
    );
    add(
        id::STRNCMP,
        Box::new(|_, ctx, [s1, s1_size, s2, ..]| {
            let n = u64::from(s1_size as u32);
            let a = ctx.read_vec(s1, n)?;
            for (i, &x) in a.iter().enumerate() {
                let [y] = ctx.read_array::<1>(s2.wrapping_add(i as u64))?;
                if x != y {
                    return Ok(if x < y { u64::MAX } else { 1 });
                }
                if x == 0 {
                    break;
                }
            }
            Ok(0)
        }),
    );

    add(
        id::TAIL_CALL,
        Box::new(|t, ctx, [_ctx, m, index, ..]| {
            let control = ctx
                .control()
                .ok_or(HelperError::NoRunControl { id: id::TAIL_CALL })?;
            let map = map(t, m)?;
            let MapKind::ProgArray(progs) = map.kind() else {
                return Ok(Errno::Invalid.to_r0());
            };
            let Some(target) = progs.get(index as u32) else {
                return Ok(Errno::NoEntry.to_r0());
            };
            if target >= control.programs() {
                return Ok(Errno::NoEntry.to_r0());
            }
            if control.tail_calls() >= MAX_TAIL_CALLS {
                return Ok(Errno::TooBig.to_r0());
            }
            control.request_tail_call(target);
            ctx.stop(0);
            Ok(0)
        }),
    );

    // Callbacks: need an engine with a function caller (the interpreter), else they fail with
    // `HelperError::NoRunControl`. A callback returning 1 stops the iteration.
    add(
        id::LOOP,
        Box::new(|_, ctx, [n, callback, cb_ctx, flags, _]| {
            if flags != 0 {
                return Ok(Errno::Invalid.to_r0());
            }
            let n = u64::from(n as u32);
            if n > MAX_LOOPS {
                return Ok(Errno::TooBig.to_r0());
            }
            for i in 0..n {
                if ctx.call_function(id::LOOP, callback, [i, cb_ctx, 0, 0, 0])? == 1 {
                    return Ok(i + 1);
                }
            }
            Ok(n)
        }),
    );
    add(
        id::FOR_EACH_MAP_ELEM,
        Box::new(|t, ctx, [m, callback, cb_ctx, flags, _]| {
            let map = map(t, m)?;
            if flags != 0 {
                return Ok(Errno::Invalid.to_r0());
            }
            // The key is passed in the frame below the callback's (a snapshot of the keys is
            // taken first, so callbacks may delete elements).
            let caller = ctx.caller().ok_or(HelperError::NoRunControl {
                id: id::FOR_EACH_MAP_ELEM,
            })?;
            let key_size = u64::from(map.spec().key_size);
            if key_size > FRAME_SIZE as u64 {
                return Ok(Errno::TooBig.to_r0());
            }
            let key_addr = caller.next_frame().wrapping_sub(FRAME_SIZE as u64);
            let mut keys = Vec::new();
            let mut cur = None::<Vec<u8>>;
            while keys.len() < map.spec().max_entries as usize {
                match map.next_key(cur.as_deref()) {
                    Ok(k) => {
                        keys.push(k.clone());
                        cur = Some(k);
                    }
                    Err(Errno::NoEntry) => break,
                    Err(_) => return Ok(Errno::Invalid.to_r0()),
                }
            }
            let slot = ctx.worker_slot();
            let mut done = 0;
            for key in keys {
                let Some(value) = map.lookup(&key, slot) else {
                    continue;
                };
                ctx.write_from(key_addr, &key)?;
                done += 1;
                let args = [m, key_addr, value, cb_ctx, 0];
                if ctx.call_function(id::FOR_EACH_MAP_ELEM, callback, args)? == 1 {
                    break;
                }
            }
            Ok(done)
        }),
    );

    add(
        id::PERF_EVENT_OUTPUT,
        Box::new(|t, ctx, [_ctx, m, flags, data, size]| {
            let map = map(t, m)?;
            let MapKind::PerfEvents(perf) = map.kind() else {
                return Ok(Errno::Invalid.to_r0());
            };
            let data = ctx.read_vec(data, size)?;
            Ok(r0(perf.output(flags, ctx.worker_slot(), &data)))
        }),
    );

    add(
        id::MAP_PUSH_ELEM,
        Box::new(|t, ctx, [m, value, flags, ..]| {
            let map = map(t, m)?;
            ctx.with_bytes(value, u64::from(map.spec().value_size), |value| {
                r0(map.push(value, flags))
            })
        }),
    );
    for (helper, remove) in [(id::MAP_POP_ELEM, true), (id::MAP_PEEK_ELEM, false)] {
        add(
            helper,
            Box::new(move |t, ctx, [m, value, ..]| {
                let map = map(t, m)?;
                let mut buf = vec![0; map.spec().value_size as usize];
                let result = map.pop(&mut buf, remove);
                if result.is_ok() {
                    ctx.write_from(value, &buf)?;
                }
                Ok(r0(result))
            }),
        );
    }

    add(
        id::RINGBUF_OUTPUT,
        Box::new(|t, ctx, [m, data, size, _flags, _]| {
            let map = map(t, m)?;
            let MapKind::RingBuf(rb) = map.kind() else {
                return Ok(Errno::Invalid.to_r0());
            };
            let data = ctx.read_vec(data, size)?;
            Ok(r0(rb.output(&data)))
        }),
    );
    add(
        id::RINGBUF_RESERVE,
        Box::new(|t, _, [m, size, flags, ..]| {
            let map = map(t, m)?;
            let MapKind::RingBuf(rb) = map.kind() else {
                return Ok(0);
            };
            if flags != 0 {
                return Ok(0);
            }
            Ok(rb.reserve(size).unwrap_or(0))
        }),
    );
    for (helper, discard) in [(id::RINGBUF_SUBMIT, false), (id::RINGBUF_DISCARD, true)] {
        add(
            helper,
            Box::new(move |t, _, [sample, ..]| {
                let ring = (0..t.len()).find_map(|i| t.ringbuf(i).filter(|r| r.contains(sample)));
                let bad = HelperError::InvalidArgument {
                    index: 1,
                    value: sample,
                };
                ring.ok_or(bad)?.commit(sample, discard).map_err(|_| bad)?;
                Ok(0)
            }),
        );
    }
    add(
        id::RINGBUF_QUERY,
        Box::new(|t, _, [m, flags, ..]| {
            let map = map(t, m)?;
            let MapKind::RingBuf(rb) = map.kind() else {
                return Ok(0);
            };
            Ok(rb.query(flags))
        }),
    );
}

/// Formats with `%s` arguments read through the context (empty when unreadable, as Linux).
fn format_with(ctx: &HelperContext<'_>, fmt: &[u8], args: &[u64]) -> Option<Vec<u8>> {
    let mut read_str = |addr: u64| ctx.read_cstr(addr, MAX_STR).unwrap_or_default();
    format::format(fmt, args, &mut read_str).ok()
}

#[cfg(test)]
mod catalogue_tests {
    use super::*;
    use crate::maps::MapOptions;
    use crate::{LoadError, LoadOptions, Program};

    fn calling(helper: i32) -> Program {
        let insns = crate::asm::assemble(&format!("call {helper}\nexit"))
            .unwrap_or_else(|e| panic!("assembles: {e}"));
        Program::new(insns, &LoadOptions::default()).unwrap_or_else(|e| panic!("loads: {e}"))
    }

    /// Every catalogued helper is either implemented or refused at prepare time by name.
    #[test]
    fn every_catalogued_helper_is_implemented_or_named_unavailable() {
        let table = Arc::new(MapTable::new(MapOptions::default()));
        let env = environment(&table, &LinuxOptions::default(), ExecConfig::default());
        let (mut implemented, mut unavailable) = (0, 0);
        for h in apiary_linux::HELPERS {
            match env.check_helpers(&calling(h.id as i32)) {
                Ok(()) => implemented += 1,
                Err(LoadError::HelperUnavailable { pc: 0, id, name }) => {
                    assert_eq!((id, name), (h.id, h.name));
                    let message = LoadError::HelperUnavailable { pc: 0, id, name }.to_string();
                    assert!(message.contains(h.name) && message.contains("not available"));
                    unavailable += 1;
                }
                Err(e) => panic!("{}: {e}", h.name),
            }
        }
        assert_eq!(implemented + unavailable, 211);
        assert!(implemented >= 40, "{implemented} implemented");
        // An id Linux does not have stays unknown.
        assert!(matches!(
            env.check_helpers(&calling(212)),
            Err(LoadError::UnknownHelper { id: 212, .. })
        ));
    }
}
