//! The CLI's sandbox modes: verified objects run sandboxed by default and the same as with
//! `--unsandboxed`; `--forge-proofs` (a testing switch) runs a raw program whose wild accesses
//! would fault in checked mode, on both engines, and the process survives with them confined.

use std::path::PathBuf;
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn apiary(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_apiary"))
        .current_dir(repo())
        .args(args)
        .output()
        .expect("runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Writes to near-null, reads near the top of the address space, writes 50 MB below the stack
/// and reads back the first write.
const WILD: &str = "lddw %r1, 0x10\nstdw [%r1+0], 5\nlddw %r2, 0xffffffffffff0000\n\
                    ldxdw %r0, [%r2+0]\nmov %r3, %r10\nsub %r3, 50000000\n\
                    stxdw [%r3+0], %r1\nldxdw %r0, [%r1+0]\nexit\n";

#[test]
fn forged_proofs_are_confined_on_every_engine() {
    let dir = std::env::temp_dir().join(format!("apiary-sandbox-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("wild.asm");
    std::fs::write(&file, WILD).expect("written");
    let path = file.to_string_lossy().into_owned();
    // Checked mode faults at the first wild store.
    let (ok, out, _) = apiary(&["run", &path]);
    assert!(!ok && out.contains("out of bounds"), "{out}");
    for engine in ["interp", "jit"] {
        let (ok, out, err) = apiary(&["run", "--forge-proofs", "--engine", engine, &path]);
        assert!(ok, "{engine}: {out}{err}");
        assert_eq!(
            out.trim(),
            "r0 = 5 (0x5)",
            "{engine}: the confined store is read back"
        );
    }
    // Objects have no forged mode.
    let (ok, _, err) = apiary(&["run", "--forge-proofs", "examples/globals.o"]);
    assert!(!ok && err.contains("raw programs"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sandboxed_and_unsandboxed_objects_agree() {
    for engine in ["interp", "jit"] {
        for (object, extra) in [
            ("examples/globals.o", vec![]),
            ("examples/bounded_loop.o", vec![]),
            (
                "examples/xdp_counter.o",
                vec!["--mem", "ffffffffffff001122334455080045"],
            ),
        ] {
            let base = [
                vec!["run", object, "--engine", engine, "--dump-maps"],
                extra,
            ]
            .concat();
            let sandboxed = apiary(&base);
            let unsandboxed = apiary(&[base.clone(), vec!["--unsandboxed"]].concat());
            assert_eq!(sandboxed, unsandboxed, "{object} on {engine}");
            assert!(sandboxed.0, "{object} on {engine}: {sandboxed:?}");
        }
    }
    // A raw program has no verified mode to unsandbox.
    let (ok, _, err) = apiary(&["run", "--unsandboxed", "examples/fibonacci.asm"]);
    assert!(!ok && err.contains("ELF objects only"), "{err}");
}
