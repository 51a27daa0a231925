//! Unsafe programs, each with its safe twin (the smallest change that makes it safe), one data
//! file a case under `tests/unsafe/<table>/` (the format: `common/twins.rs`). Every unsafe
//! program must be rejected with the expected [`RejectReason`](apiary_verifier::RejectReason)
//! variant (the variant is compared, not the message), every safe twin must be accepted.
//!
//! Tables (a table is a set of maps the cases see):
//! - `mem`: the hand-written table of memory, pointer, packet, reference, call and loop
//!   safety (classes `uninit-reg`, `ptr-arith`, `relational`, ...);
//! - `issue13`: programs `apiary verify` once accepted although they are unsafe: `callback-effects`
//!   (what a `bpf_loop` / `bpf_for_each_map_elem` callback does to state it shares with its
//!   caller must reach the caller), `ctx-as-mem`, `const-str`, `null-size`, `ref-var-off` (a
//!   reference is never dropped on the null edge of a copy that may be 0 while the reservation
//!   is live) and `pointer-leak` (unprivileged types put no address where the host can read it).
//!
//! - `loops`: ordinary loops in verified mode (issue 15, item 3): loop bounds the body reloads or
//!   recomputes, each rule with the twins that break it (a bound that may reach the top of the
//!   counter's range, `<=` for `<`, a 32-bit counter that wraps, a `!=` test on a moving bound).
//!
//! Cases the verifier gets wrong stay with a `# flag:` header: `known_unsound` (the unsafe
//! program is accepted or rejected for an unrelated reason), `known_gap` (the safe twin is
//! rejected). Flagged cases are printed loudly and do not fail the test; a flagged case that now
//! behaves as it should is reported as fixed (remove the flag). Unflagged cases that misbehave
//! fail it. A table with fewer files than its floor fails: cases are not lost silently.

mod common;

use common::twins;

/// Runs a table that must hold at least `floor` cases, at most `max_known_gaps` of them
/// flagged `known_gap`.
fn table(name: &str, floor: usize, max_known_gaps: usize) {
    let cases = twins::load_table(name);
    assert!(
        cases.len() >= floor,
        "table {name}: only {} cases in {} (want >= {floor})",
        cases.len(),
        twins::table_dir(name).display()
    );
    twins::check(&cases, max_known_gaps);
}

#[test]
fn mem_table_unsafe_rejected_safe_twins_accepted() {
    table("mem", 216, 0);
}

#[test]
fn issue13_table_unsafe_rejected_safe_twins_accepted() {
    table("issue13", 60, 0);
}

#[test]
fn loops_table_unsafe_rejected_safe_twins_accepted() {
    table("loops", 15, 0);
}

/// The format's reader and writer agree, and a broken file is an error naming what is wrong
/// (the runner must not skip or misread a case).
#[test]
fn case_files_round_trip_and_bad_files_are_errors() {
    let cases = twins::load_table("issue13");
    let maps = twins::parse_maps(
        &std::fs::read_to_string(twins::table_dir("issue13").join("maps")).expect("maps"),
    )
    .expect("maps parse");
    assert_eq!(maps.len(), 7);
    assert_eq!(maps[3].last_nul, Some(7));
    for c in &cases {
        assert_eq!(twins::parse(&c.to_text(), &maps).as_ref(), Ok(c));
    }
    let text = cases[0].to_text();
    for (bad, want) in [
        (text.replace("# safe:\n", ""), "no `# safe:`"),
        (text.replace("# unsafe:\n", ""), "no `# unsafe:`"),
        (text.replace("# expect: ", "# expected: "), "no `# expect:`"),
        (
            text.replacen("# class:", "# flag: wrong\n# class:", 1),
            "flag",
        ),
        (text.replacen("# type: ", "# type: mem x ", 1), "mem size"),
        (text.replacen("# name: ", "# nom: ", 1), "no `# name:`"),
    ] {
        let e = twins::parse(&bad, &maps).expect_err(want);
        assert!(e.contains(want), "{e} (want {want})");
    }
    assert!(twins::parse_maps("HASH 4 8").is_err());
    assert!(twins::parse_maps("TRIE 4 8 1").is_err());
    assert!(twins::parse_maps("HASH 4 8 1 sticky").is_err());
}
