//! Sandboxed verified mode on real objects (the C examples): a sandboxed object (the default of
//! verified objects) gives exactly the results, memory and maps of the unsandboxed and the
//! checked one, on every engine and program, over runs that share maps. Together with
//! `tests/sandbox_forged.rs` (wrong proofs stay in the window) this is the sandbox's contract:
//! correct programs do not notice it.

mod common;

use apiary::object::{LoadedObject, ObjectOptions};
use apiary::EngineKind;
use apiary_testkit::Coverage;
use common::{ipv4, object, TCP};

const EXAMPLES: &[&str] = &[
    "bounded_loop",
    "globals",
    "ringbuf_events",
    "socket_filter",
    "tail_dispatch",
    "xdp_counter",
];

fn inputs() -> Vec<Vec<u8>> {
    vec![
        ipv4(TCP, 1, 20),
        ipv4(17, 2, 5),
        ipv4(TCP, 3, 0),
        vec![0; 64],
        (0..96u8).collect(),
    ]
}

#[test]
fn sandboxed_objects_match_unsandboxed_and_checked() {
    let mut coverage = Coverage::new("sandbox_objects").expect_comparisons(true);
    for name in EXAMPLES {
        let bytes = object(name);
        for &engine in EngineKind::ALL {
            let setups = [(true, false), (true, true), (false, false)];
            let mut loaded: Vec<LoadedObject> = setups
                .iter()
                .map(|&(verified, unsandboxed)| {
                    let options = ObjectOptions {
                        verified,
                        unsandboxed,
                        ..ObjectOptions::for_engine(engine)
                    };
                    LoadedObject::load(&bytes, &options).expect("example loads")
                })
                .collect();
            for index in 0..loaded[0].len() {
                if loaded[0].program_error(index).is_some() {
                    continue;
                }
                for input in inputs() {
                    let seen: Vec<String> = loaded
                        .iter_mut()
                        .map(|o| format!("{:?} {:?}", o.run(index, &input), o.dump_maps()))
                        .collect();
                    assert_eq!(seen[0], seen[1], "{name}#{index} {engine}: vs unsandboxed");
                    assert_eq!(seen[0], seen[2], "{name}#{index} {engine}: vs checked");
                    coverage.compared();
                }
            }
        }
    }
    eprintln!("{}", coverage.finish());
}
