//! Calls: bpf-to-bpf calls analysed per calling context (callee, entry state) with a cache,
//! helper calls checked against their prototypes, and callbacks (`bpf_loop`,
//! `bpf_for_each_map_elem`) iterated to a fixpoint over the number of invocations.

use apiary_vm::memory::MAX_FRAMES;

use crate::domain::stack::Stack;
use crate::domain::state::Frame;
use crate::domain::{Ptr, Region, Scalar, State, Val};
use crate::error::{RejectReason, Rejection};
use crate::fixpoint::Analyzer;
use crate::platform::helpers::CallbackKind;
use crate::transfer::{self, helper};

impl Analyzer<'_> {
    fn push_frame(s: &State, func: usize) -> State {
        let mut e = s.clone();
        // Guards name registers of one frame.
        e.guards.clear();
        // Relations name registers of one frame.
        e.rels.clear();
        let saved = [s.regs[6], s.regs[7], s.regs[8], s.regs[9]];
        e.frames.push(Frame {
            stack: Stack::new(),
            saved,
            cb_ctx: Val::Uninit,
            func,
        });
        let depth = e.depth() as u8;
        e.regs[0] = Val::Uninit;
        for r in 6..=9 {
            e.regs[r] = Val::Uninit;
        }
        e.regs[10] = Val::Ptr(Ptr {
            region: Region::Stack { frame: depth },
            off: Scalar::constant(512),
            null: None,
        });
        e
    }

    pub(crate) fn pop_frame(mut e: State) -> State {
        e.syms = [None; 11];
        e.guards.clear();
        e.rels.clear();
        let fr = e.frames.pop();
        let depth = e.depth() as u8;
        if let Some(fr) = fr {
            e.regs[6..10].copy_from_slice(&fr.saved);
        }
        for r in 1..=5 {
            e.regs[r] = Val::Uninit;
        }
        e.regs[10] = Val::Ptr(Ptr {
            region: Region::Stack { frame: depth },
            off: Scalar::constant(512),
            null: None,
        });
        transfer::invalidate(
            &mut e,
            |v| matches!(v, Val::Ptr(Ptr { region: Region::Stack { frame }, .. }) if *frame > depth),
        );
        e
    }

    fn callee(
        &mut self,
        pc: usize,
        target: usize,
        entry: State,
    ) -> Result<Option<State>, Rejection> {
        if entry.frames.len() > MAX_FRAMES {
            return Err(self.rejection(
                pc,
                RejectReason::CallDepth {
                    depth: entry.frames.len(),
                    max: MAX_FRAMES,
                },
                &entry,
            ));
        }
        let key = (target, entry);
        if let Some((hard, res)) = self.cache.get(&key) {
            if *hard || self.soft > 0 {
                return Ok(res.clone());
            }
        }
        if self.cache.len() >= self.limits.max_contexts {
            return Err(self.rejection(
                pc,
                RejectReason::StateLimit {
                    limit: self.limits.max_contexts,
                },
                &key.1,
            ));
        }
        let res = self.analyze(target, key.1.clone())?;
        self.cache.insert(key, (self.soft == 0, res.clone()));
        Ok(res)
    }

    pub(crate) fn call_local(
        &mut self,
        pc: usize,
        target: usize,
        s: &State,
    ) -> Result<Option<State>, Rejection> {
        let entry = Self::push_frame(s, target);
        Ok(self.callee(pc, target, entry)?.map(Self::pop_frame))
    }

    /// A helper call; `false` when the path ends (a soft failure inside a callback).
    pub(crate) fn helper_call(
        &mut self,
        pc: usize,
        id: u32,
        s: &mut State,
    ) -> Result<bool, RejectReason> {
        let proto = *self
            .env
            .platform
            .helper_for(self.env.ptype.name, id)
            .ok_or_else(|| self.env.platform.missing(id))?;
        if !self.env.platform.allowed(self.env.ptype.name, id) {
            return Err(RejectReason::HelperNotAllowed {
                id,
                helper: proto.name,
                program_type: self.env.ptype.name,
            });
        }
        let info = helper::check_args(&self.env, s, &proto)?;
        if proto.name == "tail_call" {
            if let Some(&id) = s.refs.first() {
                return Err(RejectReason::UnreleasedReference { id });
            }
        }
        if let Some(v) = proto.stops_with {
            if s.depth() == 0 && self.soft == 0 {
                self.record_exit(&Val::constant(v));
            }
        }
        if let Some((target, kind)) = info.callback {
            match self.callback(pc, target, kind, s, info.map) {
                Ok(Some(n)) => *s = n,
                Ok(None) => {}
                Err(r) => return Err(r.reason),
            }
        }
        helper::finish(&self.env, s, pc, &proto, &info)?;
        Ok(true)
    }

    fn callback(
        &mut self,
        pc: usize,
        target: usize,
        kind: CallbackKind,
        s: &State,
        map: Option<u32>,
    ) -> Result<Option<State>, Rejection> {
        // The context argument as the next invocation receives it: what one invocation does to
        // it (a record it releases, a packet it moves) is seen by the next (`Frame::cb_ctx`).
        let mut ctx_arg = s.regs[3];
        let mut cur = s.clone();
        for iter in 0..self.limits.max_loop_iterations {
            let mut entry = Self::push_frame(&cur, target);
            if let Some(f) = entry.frames.last_mut() {
                f.cb_ctx = ctx_arg;
            }
            for r in 1..=5 {
                entry.regs[r] = Val::Uninit;
            }
            match kind {
                CallbackKind::Loop => {
                    entry.regs[1] = Val::Scalar(Scalar::urange(0, 1 << 23));
                    entry.regs[2] = ctx_arg;
                }
                CallbackKind::ForEachMapElem => {
                    let m = map.unwrap_or(0);
                    entry.regs[1] = Val::MapPtr(m);
                    let region = match self.env.value_region(m) {
                        Ok(r) => r,
                        Err(e) => return Err(self.rejection(pc, e, s)),
                    };
                    entry.regs[3] = Val::Ptr(Ptr {
                        region,
                        off: Scalar::constant(0),
                        null: None,
                    });
                    entry.regs[4] = ctx_arg;
                }
            }
            let Some(exit) = self.callee(pc, target, entry)? else {
                return Ok(Some(cur));
            };
            if exit.regs[0].scalar().is_none() {
                return Err(self.rejection(
                    pc,
                    RejectReason::InvalidType {
                        reg: 0,
                        expected: "number (callback result)",
                        found: transfer::type_name(&exit.regs[0]),
                    },
                    &exit,
                ));
            }
            // The callback's effects reach the caller through everything it shares with it:
            // the caller's frames (stores through pointers it received), the references it
            // released or acquired, the packet it may have moved (pointers invalidated in every
            // frame, the proven range forgotten). The caller's r6-r9 are the callee-saved values
            // `pop_frame` restored from the frame, with those same invalidations applied; only
            // r0-r5, which the helper's own effect rewrites, are taken from before the call.
            let after = exit.frames.last().map_or(Val::Uninit, |f| f.cb_ctx);
            let before = ctx_arg;
            ctx_arg = if iter < 2 {
                ctx_arg.join(&after)
            } else {
                ctx_arg.widen(&after, &self.th)
            };
            let mut back = Self::pop_frame(exit);
            back.regs[..6].copy_from_slice(&cur.regs[..6]);
            back.regs[10] = cur.regs[10];
            let joined = cur.join_at_head(&back);
            if joined == cur && ctx_arg == before {
                return Ok(Some(cur));
            }
            cur = if iter < 2 {
                joined
            } else {
                cur.join(&joined, Some(&self.th))
            };
        }
        Err(self.rejection(
            pc,
            RejectReason::IterationLimit {
                limit: u64::from(self.limits.max_loop_iterations),
            },
            s,
        ))
    }

    /// A legacy packet load (`LD_ABS`/`LD_IND`): r6 must be the context, r0 gets the bytes,
    /// r1–r5 are clobbered, and a failed load ends the program with r0 = 0.
    pub(crate) fn legacy_packet(
        &mut self,
        s: &mut State,
        addr: apiary_vm::instruction::PacketAddr,
        size: apiary_vm::instruction::Size,
    ) -> Result<(), RejectReason> {
        if !self.env.ptype.legacy_packet {
            return Err(RejectReason::Unsupported {
                what: "legacy packet load for this program type".into(),
            });
        }
        if let crate::platform::CtxKind::Struct(_) = self.env.ptype.ctx {
            match s.regs[6] {
                Val::Ptr(Ptr {
                    region: Region::Ctx,
                    off,
                    ..
                }) if off.as_const() == Some(0) => {}
                v => {
                    return Err(RejectReason::InvalidType {
                        reg: 6,
                        expected: "ctx",
                        found: transfer::type_name(&v),
                    })
                }
            }
        }
        if let apiary_vm::instruction::PacketAddr::Ind(r) = addr {
            let v = transfer::read(s, r)?;
            if v.scalar().is_none() {
                return Err(RejectReason::InvalidType {
                    reg: r.number(),
                    expected: "number",
                    found: transfer::type_name(&v),
                });
            }
        }
        if s.depth() == 0 && self.soft == 0 {
            self.record_exit(&Val::constant(0));
        }
        for r in 1..=5 {
            s.regs[r] = Val::Uninit;
        }
        let bits = u32::from(size.bytes()) * 8;
        s.regs[0] = Val::Scalar(Scalar::urange(0, (1u64 << bits) - 1));
        Ok(())
    }
}

/// Combined stack of the frames of every call chain (callbacks count as callees of the function
/// that passes them): each frame's deepest use, rounded up to 16 bytes as Linux does for
/// JIT-compiled programs, summed along the chain, must stay within one 512-byte stack.
///
/// # Errors
/// [`RejectReason::CombinedStack`] at the first call of the deepest chain.
pub fn check_stack_chains(
    program: &apiary_vm::Program,
    stack_use: &std::collections::BTreeMap<usize, i64>,
) -> Result<(), Rejection> {
    use apiary_vm::instruction::{Instruction, Lddw};
    const MAX: i64 = 512;
    let funcs = program.functions();
    let func_of = |pc: usize| funcs.iter().position(|f| f.start <= pc && pc < f.end);
    let n = funcs.len();
    // Calls of each function: (call slot, callee).
    let mut calls: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
    for (pc, ins) in program.instructions().iter().enumerate() {
        let t = match ins {
            Instruction::CallLocal { target }
            | Instruction::LoadImm64 {
                value: Lddw::CodeAddr(target),
                ..
            } => *target,
            _ => continue,
        };
        if let (Some(f), Some(g)) = (func_of(pc), func_of(t)) {
            calls[f].push((pc, g));
        }
    }
    let own = |f: usize| {
        let d = stack_use.get(&funcs[f].start).copied().unwrap_or(0);
        (d + 15) / 16 * 16
    };
    // Deepest chain from each function, bottom up (the call graph has no cycles: checked first).
    let mut best: Vec<Option<(i64, Option<usize>)>> = vec![None; n];
    let mut work = vec![(0usize, false)];
    while let Some((f, done)) = work.pop() {
        if best[f].is_some() {
            continue;
        }
        if !done {
            work.push((f, true));
            work.extend(
                calls[f]
                    .iter()
                    .filter(|c| best[c.1].is_none())
                    .map(|c| (c.1, false)),
            );
            continue;
        }
        let mut deepest = (own(f), None);
        for &(pc, g) in &calls[f] {
            let d = own(f) + best[g].map_or(0, |b| b.0);
            if d > deepest.0 {
                deepest = (d, Some(pc));
            }
        }
        best[f] = Some(deepest);
    }
    match best.first().copied().flatten() {
        Some((bytes, pc)) if bytes > MAX => {
            let pc = pc.unwrap_or(0);
            let ins = program.instructions()[pc];
            Err(Rejection {
                pc,
                instruction: apiary_vm::disasm::format_instruction(&ins, program.insns()[pc], pc),
                reason: RejectReason::CombinedStack { bytes, max: MAX },
                state: String::new(),
            })
        }
        _ => Ok(()),
    }
}
