//! Loom models of a zinc channel's memory orderings (docs/spec.md §10.5,
//! §10.6): one writer and one reader on a few slots, with the orderings that
//! src/channel.cpp uses written out again, each beside the spec rule it
//! models. Loom runs every interleaving (and every value a load may return
//! under the C++ memory model, as far as loom implements it) and reports:
//!
//! - a payload access that no happens-before orders against a conflicting
//!   one ("Causality violation"): a reader that reads bytes it was not
//!   published, or a writer that rewrites a slot a reader still reads;
//! - a failed assertion: a torn frame (payload words that are not all the
//!   frame's number), frames out of order or lost, a slot whose `seq` is not
//!   the committed frame's (the reader's `EBADMSG`);
//! - a deadlock: a held-back writer that sleeps through the release that
//!   made room (§10.5, "A held-back writer").
//!
//! What the models leave out, and what loom cannot check, is in
//! docs/testing.md ("Memory ordering under a model checker (loom)").
//!
//! The orderings come from one table, src/sites.rs: every atomic operation
//! of the transcribed C++ functions, in the C++ source's order, with the
//! ordering the model gives it (or why the model leaves it out).
//! src/agreement.rs checks that src/channel.cpp has exactly those
//! operations, in that order, each at least as strong as the model's, so
//! that the C++ code and the model cannot part without a test failing.
//!
//! Each mutant puts one mistake into the model, selected at run time by the
//! environment variable `ZINC_MODEL_MUTANT` (src/mutant.rs), so that one
//! build runs the reference and every mutant; tests/model/run checks that
//! loom finds every one.

pub mod agreement;
pub mod channel;
pub mod latest;
pub mod lossless;
pub mod mutant;
pub mod sites;
