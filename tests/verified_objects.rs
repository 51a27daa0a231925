//! Verified mode for objects: what it refuses so that the verifier's proof holds for the way
//! apiary runs the program (context size, helper prototypes, tail-call contexts, rejected
//! programs), on every engine. That verified runs give the same results as checked runs is
//! shown by `examples.rs`, which runs every example both ways.

mod common;

use apiary::object::{LoadedObject, ObjectError, ObjectOptions, ProgramError, VerifyFailure};
use apiary::{ContextKind, EngineKind};
use apiary_elf::{Object, ProgramType as SectionType};
use apiary_vm::{HelperTable, Insn};
use common::{ipv4, object, TCP};

const XDP_PASS: u64 = 2;
const XDP_TX: u64 = 3;

fn verified(engine: EngineKind) -> ObjectOptions {
    ObjectOptions {
        verified: true,
        ..ObjectOptions::for_engine(engine)
    }
}

fn parsed(name: &str) -> Object {
    Object::parse(&object(name)).expect("example object parses")
}

#[test]
fn a_context_smaller_than_the_program_type_assumes_is_refused() {
    for &engine in EngineKind::ALL {
        // An XDP program forced onto an 8-byte structure: the verifier's type for it (a raw
        // tracepoint, 96 bytes) assumes more context than apiary would build.
        let options = ObjectOptions {
            context: Some(ContextKind::Struct { size: 8 }),
            ..verified(engine)
        };
        let o = LoadedObject::load(&object("xdp_counter"), &options).expect("loads");
        match o.program_error(0) {
            Some(ProgramError::ContextTooSmall { needs, has, .. }) => {
                assert_eq!((*needs, *has), (96, 8), "{engine}");
            }
            other => panic!("{engine}: expected ContextTooSmall, got {other:?}"),
        }
        assert!(matches!(
            LoadedObject::load(&object("xdp_counter"), &options)
                .expect("loads")
                .run(0, &[0; 8]),
            Err(ObjectError::Program { .. })
        ));
        // Checked mode runs it (every access is checked at run time).
        let checked = ObjectOptions {
            verified: false,
            ..options
        };
        let o = LoadedObject::load(&object("xdp_counter"), &checked).expect("loads");
        assert_eq!(o.program_error(0), None, "{engine}");
    }
}

#[test]
fn host_helpers_may_add_ids_but_not_replace_linux_prototypes() {
    let mut replacing = HelperTable::new();
    replacing.register(1, "my_lookup", |_, _| Ok(0));
    let options = ObjectOptions {
        helpers: replacing,
        ..verified(EngineKind::Interp)
    };
    match LoadedObject::load(&object("xdp_counter"), &options) {
        Err(ObjectError::HelperReplacesPrototype { id: 1, name }) => assert_eq!(name, "my_lookup"),
        other => panic!("expected HelperReplacesPrototype, got {other:?}"),
    }
    // Checked mode takes the replacement.
    let checked = ObjectOptions {
        verified: false,
        ..options
    };
    assert!(LoadedObject::load(&object("xdp_counter"), &checked).is_ok());

    let mut adding = HelperTable::new();
    adding.register(0x7000, "host_extra", |_, _| Ok(7));
    let options = ObjectOptions {
        helpers: adding,
        ..verified(EngineKind::Interp)
    };
    let o = LoadedObject::load(&object("xdp_counter"), &options).expect("a new id is fine");
    assert_eq!(o.program_error(0), None);
}

#[test]
fn prog_arrays_hold_programs_of_their_callers_context() {
    for &engine in EngineKind::ALL {
        let mut obj = parsed("tail_dispatch");
        let tcp = obj
            .programs
            .iter()
            .position(|p| p.function == "handle_tcp")
            .expect("handle_tcp");
        // handle_tcp becomes a kprobe program: it is verified for a pt_regs context, which the
        // XDP dispatcher would not give it.
        obj.programs[tcp].program_type = SectionType::Kprobe;
        let mut o = LoadedObject::from_object(obj.clone(), &verified(engine)).expect("loads");
        assert_eq!(o.program_error(tcp), None, "{engine}: verified as a kprobe");
        match o.set_tail_call("handlers", u32::from(TCP), "handle_tcp") {
            Err(ObjectError::TailCallContext(m)) => {
                assert_eq!((m.found, m.wanted), ("kprobe", "xdp"), "{engine}");
                assert!(m.caller.contains("dispatch"), "{engine}: {}", m.caller);
            }
            other => panic!("{engine}: expected TailCallContext, got {other:?}"),
        }
        // Programs of the dispatcher's context are fine.
        o.set_tail_call("handlers", 1, "handle_icmp")
            .expect("same context");
        let index = o.program("dispatch").expect("dispatch");
        let icmp = ipv4(1, 1, 8);
        assert_eq!(o.run(index, &icmp).expect("runs").r0(), Some(XDP_TX));
        // Checked mode allows the mix: the callee's accesses are checked at run time.
        let checked = ObjectOptions::for_engine(engine);
        let o = LoadedObject::from_object(obj, &checked).expect("loads");
        o.set_tail_call("handlers", u32::from(TCP), "handle_tcp")
            .expect("checked mode");
    }
}

#[test]
fn rejected_programs_cannot_run_or_be_tail_called() {
    for &engine in EngineKind::ALL {
        let mut obj = parsed("tail_dispatch");
        let udp = obj
            .programs
            .iter()
            .position(|p| p.function == "handle_udp")
            .expect("handle_udp");
        // r0 = *(u64 *)(r10 + 8): above the frame.
        obj.programs[udp].insns = vec![Insn::new(0x79, 0, 10, 8, 0), Insn::new(0x95, 0, 0, 0, 0)];
        let mut o = LoadedObject::from_object(obj, &verified(engine)).expect("loads");
        match o.program_error(udp) {
            Some(ProgramError::Rejected { failure }) => match failure.as_ref() {
                VerifyFailure::Rejected { rejection } => assert_eq!(rejection.pc, 0),
                other => panic!("{engine}: {other:?}"),
            },
            other => panic!("{engine}: expected Rejected, got {other:?}"),
        }
        assert!(matches!(
            o.set_tail_call("handlers", 17, "handle_udp"),
            Err(ObjectError::Program { .. })
        ));
        // The others still run verified.
        let index = o.program("dispatch").expect("dispatch");
        assert_eq!(
            o.run(index, &ipv4(TCP, 1, 20)).expect("runs").r0(),
            Some(XDP_PASS)
        );
        assert!(o.proven_accesses(index).is_some_and(|(n, _)| n > 0));
        assert_eq!(o.proven_accesses(udp), None);
    }
}
