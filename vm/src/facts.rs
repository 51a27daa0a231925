//! Facts a verifier proved about a program, as plain data the engines consume. The engines do
//! not depend on the verifier: they only read these facts, and skip the run-time checks the
//! facts make redundant (verified mode).

/// Per-instruction facts, indexed by slot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    /// `access_in_bounds[pc]`: the load, store or atomic at `pc` was proven to stay inside a
    /// region that permits it, for every input satisfying the program type, so an engine may
    /// omit its bounds check. Always `false` for non-memory instructions.
    pub access_in_bounds: Vec<bool>,
}

impl Facts {
    /// No facts: every check stays (checked mode).
    #[must_use]
    pub fn none(len: usize) -> Self {
        Self {
            access_in_bounds: vec![false; len],
        }
    }

    /// Whether the access at `pc` needs no run-time check.
    #[must_use]
    pub fn access_proven(&self, pc: usize) -> bool {
        self.access_in_bounds.get(pc).copied().unwrap_or(false)
    }
}
