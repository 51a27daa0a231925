//! The loader's speed on the largest Cilium object of `../shared/ebpf-samples` (printed, not
//! asserted): parsing and relocation (`Object::parse`), and the whole load (maps created,
//! programs bound and prepared) on each engine. Meaningful with `--release`:
//! `cargo test --release --test loader_speed -- --nocapture`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use apiary::object::{LoadedObject, ObjectOptions};
use apiary::EngineKind;
use apiary_elf::Object;

fn largest_cilium_object() -> Option<PathBuf> {
    let dir = apiary_testkit::shared::corpus("ebpf-samples/cilium")?;
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "o"))
        .max_by_key(|e| (e.metadata().map_or(0, |m| m.len()), e.file_name()))
        .map(|e| e.path())
}

fn best_of(n: usize, mut f: impl FnMut()) -> Duration {
    (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

#[test]
fn loader_speed_on_the_largest_cilium_object() {
    let Some(path) = largest_cilium_object() else {
        return;
    };
    let bytes = std::fs::read(&path).expect("readable");
    let object = Object::parse(&bytes).expect("the object loads");
    let slots: usize = object.programs.iter().map(|p| p.insns.len()).sum();
    let parse = best_of(5, || {
        let _ = Object::parse(&bytes);
    });
    println!(
        "{}: {} bytes, {} programs, {} maps, {slots} linked slots: parse+relocate+link {:.2} ms",
        path.display(),
        bytes.len(),
        object.programs.len(),
        object.maps.len(),
        parse.as_secs_f64() * 1e3
    );
    for engine in EngineKind::ALL {
        let options = ObjectOptions::for_engine(*engine);
        let mut prepared = 0;
        let mut failures = std::collections::BTreeMap::<String, usize>::new();
        let full = best_of(3, || match LoadedObject::load(&bytes, &options) {
            Ok(o) => {
                prepared = (0..o.len())
                    .filter(|&i| o.program_error(i).is_none())
                    .count();
                failures.clear();
                for i in 0..o.len() {
                    if let Some(e) = o.program_error(i) {
                        let text = e.to_string();
                        let key = match text.rsplit_once("unknown helper ") {
                            Some((_, id)) => {
                                let name = id
                                    .parse::<u32>()
                                    .ok()
                                    .and_then(apiary_vm::linux_helpers::helper_name)
                                    .unwrap_or("?");
                                format!("helper {id} ({name}) missing")
                            }
                            None => text,
                        };
                        *failures.entry(key).or_default() += 1;
                    }
                }
            }
            Err(e) => {
                failures.insert(e.to_string(), 1);
            }
        });
        println!(
            "  full load on {engine}: {:.2} ms, {prepared}/{} programs prepared; not prepared: {failures:?}",
            full.as_secs_f64() * 1e3,
            object.programs.len()
        );
    }
}
