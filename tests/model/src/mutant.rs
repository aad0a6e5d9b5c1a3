//! The mutants: each puts one mistake into the model, and tests/model/run
//! checks that loom finds every one. The first three relax a release store,
//! as the patches of tests/ordering_mutants do to src/channel.cpp; the next
//! four move a commit store, as the conformance kit's mutants of the same
//! names do (tools/conformance/mutants); the last two take away the
//! sequential consistency that §10.5 and §10.6 argue from.
//!
//! A run selects at most one, by name, with the environment variable
//! `ZINC_MODEL_MUTANT` (unset or empty: the reference). It is read once, on
//! the first question, and kept outside the model: loom does not see it.
//! Each place a mutant changes says which spec rule it breaks.

use std::sync::OnceLock;

/// The environment variable that selects a mutant.
pub const VARIABLE: &str = "ZINC_MODEL_MUTANT";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mutant {
    /// Commit stores `seq`, `latest_slot` and `write_seq` relaxed.
    CommitPublishesRelaxed,
    /// The lossless release stores `cursor` relaxed.
    ReleaseCursorRelaxed,
    /// The latest release unpins (`held` = 0) relaxed.
    LatestUnpinRelaxed,
    /// Lossless commit stores `write_seq` before `seq` = 2f + 2.
    WriteSeqBeforeSeq,
    /// Lossless acquire stores `write_seq`, before the payload.
    CommitPublishesBeforePayloadStoreOrder,
    /// Latest commit stores `latest_slot` before `seq` = 2f + 2.
    LatestSlotBeforeSeq,
    /// Latest acquire stores `latest_slot`, before the payload.
    LatestPublishedAtAcquire,
    /// The writer's seq-then-pin check and the reader's pin-then-seq check
    /// without their total order.
    LatestPinCheckNotSeqCst,
    /// The held-back writer's flag-then-cursor check and the release's
    /// cursor-then-flag check without their total order.
    WriterSleepCheckNotSeqCst,
}

impl Mutant {
    pub const ALL: [Mutant; 9] = [
        Mutant::CommitPublishesRelaxed,
        Mutant::ReleaseCursorRelaxed,
        Mutant::LatestUnpinRelaxed,
        Mutant::WriteSeqBeforeSeq,
        Mutant::CommitPublishesBeforePayloadStoreOrder,
        Mutant::LatestSlotBeforeSeq,
        Mutant::LatestPublishedAtAcquire,
        Mutant::LatestPinCheckNotSeqCst,
        Mutant::WriterSleepCheckNotSeqCst,
    ];

    /// The name `ZINC_MODEL_MUTANT` gives it: the name of its patch or
    /// conformance mutant, where it has one.
    pub fn name(self) -> &'static str {
        match self {
            Mutant::CommitPublishesRelaxed => "commit_publishes_relaxed",
            Mutant::ReleaseCursorRelaxed => "release_cursor_relaxed",
            Mutant::LatestUnpinRelaxed => "latest_unpin_relaxed",
            Mutant::WriteSeqBeforeSeq => "write_seq_before_seq",
            Mutant::CommitPublishesBeforePayloadStoreOrder => {
                "commit_publishes_before_payload_store_order"
            }
            Mutant::LatestSlotBeforeSeq => "latest_slot_before_seq",
            Mutant::LatestPublishedAtAcquire => "latest_published_at_acquire",
            Mutant::LatestPinCheckNotSeqCst => "latest_pin_check_not_seq_cst",
            Mutant::WriterSleepCheckNotSeqCst => "writer_sleep_check_not_seq_cst",
        }
    }

    /// Whether this run's model carries this mistake.
    pub fn is_selected(self) -> bool {
        selected() == Some(self)
    }

    /// `mutated` when this run's model carries this mistake, else
    /// `reference`: an ordering the mutant weakens.
    pub fn pick<T>(self, mutated: T, reference: T) -> T {
        if self.is_selected() {
            mutated
        } else {
            reference
        }
    }
}

/// The mutant `ZINC_MODEL_MUTANT` names, or None for the reference. A name
/// that is no mutant's panics with the list, so that a typo never runs the
/// reference in a mutant's place.
pub fn selected() -> Option<Mutant> {
    static SELECTED: OnceLock<Option<Mutant>> = OnceLock::new();
    *SELECTED.get_or_init(|| {
        let value = std::env::var_os(VARIABLE).unwrap_or_default();
        let value = value.to_string_lossy();
        parse(&value).unwrap_or_else(|message| panic!("{message}"))
    })
}

/// `""` is the reference; any other name must be a mutant's.
fn parse(name: &str) -> Result<Option<Mutant>, String> {
    if name.is_empty() {
        return Ok(None);
    }
    match Mutant::ALL.into_iter().find(|mutant| mutant.name() == name) {
        Some(mutant) => Ok(Some(mutant)),
        None => {
            let names: Vec<&str> = Mutant::ALL.iter().map(|mutant| mutant.name()).collect();
            Err(format!(
                "{VARIABLE}={name:?} is not a mutant; the mutants are: {}",
                names.join(", ")
            ))
        }
    }
}
