//! The committed header is what cbindgen generates from this crate today.

use std::path::Path;

#[test]
fn committed_header_is_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let mut fresh = Vec::new();
    cbindgen::Builder::new()
        .with_crate(dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut fresh);
    let path = dir.join("include/apiary.h");
    if std::env::var_os("APIARY_BLESS").is_some() {
        std::fs::write(&path, &fresh).expect("write include/apiary.h");
        return;
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "capi/include/apiary.h is not what cbindgen generates from the sources: run \
         `APIARY_BLESS=1 cargo test -p apiary-capi committed_header` and commit it"
    );
}
