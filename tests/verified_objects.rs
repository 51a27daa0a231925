//! Verified mode for objects: what it refuses so that the verifier's proof holds for the way
//! apiary runs the program (context size, helper prototypes, tail-call contexts, rejected
//! programs), on every engine. That verified runs give the same results as checked runs is
//! shown by `examples.rs`, which runs every example both ways.

mod common;

use std::sync::Arc;

use apiary::{
    Config, ContextKind, EngineKind, Instance, Module, ObjectError, ProgramError, ProgramId,
    VerifyFailure,
};
use apiary_elf::{Object, ProgramType as SectionType};
use apiary_vm::{HelperTable, Insn};
use common::{ipv4, object, TCP};

const XDP_PASS: u64 = 2;
const XDP_TX: u64 = 3;

fn parsed(name: &str) -> Object {
    Object::parse(&object(name)).expect("example object parses")
}

fn module(config: &Config, name: &str) -> Result<Arc<Module>, ObjectError> {
    Module::from_elf(config, &object(name)).map(Arc::new)
}

fn instance(module: &Arc<Module>, engine: EngineKind) -> Instance {
    Instance::new(Arc::clone(module), engine).expect("instance")
}

#[test]
fn a_context_smaller_than_the_program_type_assumes_is_refused() {
    // An XDP program forced onto an 8-byte structure: the verifier's type for it (a raw
    // tracepoint, 96 bytes) assumes more context than apiary would build.
    let config = Config::new().with_context(ContextKind::Struct { size: 8 });
    let verified = module(&config, "xdp_counter").expect("module");
    let checked = module(&config.clone().with_verified(false), "xdp_counter").expect("module");
    let prog = ProgramId(0);
    for &engine in EngineKind::ALL {
        let i = instance(&verified, engine);
        match i.program_error(prog) {
            Some(ProgramError::ContextTooSmall { needs, has, .. }) => {
                assert_eq!((*needs, *has), (96, 8), "{engine}");
            }
            other => panic!("{engine}: expected ContextTooSmall, got {other:?}"),
        }
        let mut store = i.store().expect("store");
        assert!(matches!(
            i.run(&mut store, prog, &[0; 8]),
            Err(ObjectError::Program { .. })
        ));
        // Checked mode runs it (every access is checked at run time).
        assert_eq!(
            instance(&checked, engine).program_error(prog),
            None,
            "{engine}"
        );
    }
}

#[test]
fn host_helpers_may_add_ids_but_not_replace_linux_prototypes() {
    let mut replacing = HelperTable::new();
    replacing.register(1, "my_lookup", |_, _| Ok(0));
    let config = Config {
        helpers: replacing,
        ..Config::new()
    };
    match module(&config, "xdp_counter") {
        Err(ObjectError::HelperReplacesPrototype { id: 1, name }) => assert_eq!(name, "my_lookup"),
        other => panic!("expected HelperReplacesPrototype, got {other:?}"),
    }
    // Checked mode takes the replacement.
    assert!(module(&config.with_verified(false), "xdp_counter").is_ok());

    let config = Config::new().with_helper(0x7000, "host_extra", |_, _| Ok(7));
    let m = module(&config, "xdp_counter").expect("a new id is fine");
    assert_eq!(
        instance(&m, EngineKind::Interp).program_error(ProgramId(0)),
        None
    );
}

#[test]
fn prog_arrays_hold_programs_of_their_callers_context() {
    let mut obj = parsed("tail_dispatch");
    let tcp = obj
        .programs
        .iter()
        .position(|p| p.function == "handle_tcp")
        .expect("handle_tcp");
    // handle_tcp becomes a kprobe program: it is verified for a pt_regs context, which the
    // XDP dispatcher would not give it.
    obj.programs[tcp].program_type = SectionType::Kprobe;
    let verified = Arc::new(Module::from_object(&Config::new(), obj.clone()).expect("module"));
    let checked =
        Arc::new(Module::from_object(&Config::new().with_verified(false), obj).expect("module"));
    let tcp = verified.find("handle_tcp").expect("handle_tcp");
    let handlers = verified.map("handlers").expect("handlers");
    for &engine in EngineKind::ALL {
        let i = instance(&verified, engine);
        assert_eq!(i.program_error(tcp), None, "{engine}: verified as a kprobe");
        let slots = i.prog_array(handlers).expect("prog array");
        match slots.set(u32::from(TCP), tcp) {
            Err(ObjectError::TailCallContext(m)) => {
                assert_eq!((m.found, m.wanted), ("kprobe", "xdp"), "{engine}");
                assert!(m.caller.contains("dispatch"), "{engine}: {}", m.caller);
            }
            other => panic!("{engine}: expected TailCallContext, got {other:?}"),
        }
        assert_eq!(slots.get(u32::from(TCP)), None, "{engine}: nothing was set");
        // Programs of the dispatcher's context are fine.
        let icmp_handler = verified.find("handle_icmp").expect("handle_icmp");
        slots.set(1, icmp_handler).expect("same context");
        assert_eq!(slots.get(1), Some(icmp_handler));
        let dispatch = verified.find("dispatch").expect("dispatch");
        let mut store = i.store().expect("store");
        let out = i.run(&mut store, dispatch, &ipv4(1, 1, 8)).expect("runs");
        assert_eq!(out.r0(), Some(XDP_TX));
        // Checked mode allows the mix: the callee's accesses are checked at run time.
        instance(&checked, engine)
            .set_tail_call(handlers, u32::from(TCP), tcp)
            .expect("checked mode");
    }
}

#[test]
fn rejected_programs_cannot_run_or_be_tail_called() {
    let mut obj = parsed("tail_dispatch");
    let udp = obj
        .programs
        .iter()
        .position(|p| p.function == "handle_udp")
        .expect("handle_udp");
    // r0 = *(u64 *)(r10 + 8): above the frame.
    obj.programs[udp].insns = vec![Insn::new(0x79, 0, 10, 8, 0), Insn::new(0x95, 0, 0, 0, 0)];
    let module = Arc::new(Module::from_object(&Config::new(), obj).expect("module"));
    let udp = ProgramId(udp as u32);
    // The verdict is the module's: the same for every engine.
    match module.verify(udp) {
        Err(ObjectError::Program {
            source: ProgramError::Rejected { failure },
            ..
        }) => match failure.as_ref() {
            VerifyFailure::Rejected { rejection } => assert_eq!(rejection.pc, 0),
            other => panic!("{other:?}"),
        },
        other => panic!("expected Rejected, got {other:?}"),
    }
    let handlers = module.map("handlers").expect("handlers");
    let dispatch = module.find("dispatch").expect("dispatch");
    for &engine in EngineKind::ALL {
        let i = instance(&module, engine);
        assert!(
            matches!(i.program_error(udp), Some(ProgramError::Rejected { .. })),
            "{engine}"
        );
        assert!(matches!(
            i.set_tail_call(handlers, 17, udp),
            Err(ObjectError::Program { .. })
        ));
        // The others still run verified.
        let mut store = i.store().expect("store");
        let out = i
            .run(&mut store, dispatch, &ipv4(TCP, 1, 20))
            .expect("runs");
        assert_eq!(out.r0(), Some(XDP_PASS));
        assert!(i.proven_accesses(dispatch).is_some_and(|(n, _)| n > 0));
        assert_eq!(i.proven_accesses(udp), None);
    }
}
