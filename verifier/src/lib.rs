//! Abstract-interpretation verifier (in progress).
