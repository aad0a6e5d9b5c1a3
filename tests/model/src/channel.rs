//! The shared part of a channel that the models touch (docs/spec.md §10.2,
//! §10.3, §10.4, §10.5's slot map), a futex, and the kill switch of the
//! crash models.

use loom::cell::UnsafeCell;
use loom::sync::atomic::{fence, AtomicU32, AtomicU64, Ordering};
use loom::sync::{Condvar, Mutex};
use std::cell::Cell;

/// `latest_slot` before the first commit (§10.2).
pub const NO_SLOT: u32 = u32::MAX;

/// Payload words per slot: two, so that a frame half old and half new (torn)
/// is visible as two different numbers.
pub const PAYLOAD_WORDS: usize = 2;

/// The `length` every model frame commits (§10.4), in bytes.
pub const FRAME_LENGTH: u64 = 8 * PAYLOAD_WORDS as u64;

/// A slot (§10.4): its header's atomic words, then the payload, which is
/// plain memory. Loom's `UnsafeCell` checks every payload access against
/// every conflicting one: unordered, it is a causality violation.
pub struct Slot {
    /// 0 never written; 2f + 1 frame f being written; 2f + 2 committed.
    pub seq: AtomicU64,
    pub length: AtomicU64,
    payload: Vec<UnsafeCell<u64>>,
}

impl Slot {
    fn new() -> Slot {
        Slot {
            seq: AtomicU64::new(0),
            length: AtomicU64::new(0),
            payload: (0..PAYLOAD_WORDS).map(|_| UnsafeCell::new(0)).collect(),
        }
    }

    /// The writer fills the payload in place between acquire and commit:
    /// every word holds the frame's number.
    pub fn fill(&self, frame: u64) {
        for word in &self.payload {
            // SAFETY: plain writes; loom reports any that races a read.
            word.with_mut(|p| unsafe { *p = frame });
        }
    }

    /// A reader's view of the payload it holds.
    pub fn words(&self) -> Vec<u64> {
        // SAFETY: plain reads; loom reports any that races a write.
        self.payload.iter().map(|word| word.with(|p| unsafe { *p })).collect()
    }
}

/// A reader entry (§10.3), the fields the models use. Its `owner` word is
/// left out: the reader joined before the model starts and stays active.
pub struct ReaderEntry {
    /// lossless: the next frame to read; latest: the last frame read + 1.
    pub cursor: AtomicU64,
    /// latest: slot + 1 of the slot the reader pins, 0 none.
    pub held: AtomicU32,
}

/// A futex on one word with its only sleeper, as the kernel gives it: a
/// sleeper sleeps only while the word holds the value it expects, compared
/// under the lock that a waker takes, so no wake between the compare and
/// the sleep is lost. No timeout: a writer that sleeps through the release
/// that made room deadlocks, which loom reports (the 50 ms look of §10.5 is
/// for dead readers, not for missed releases).
pub struct Futex {
    lock: Mutex<()>,
    woken: Condvar,
}

impl Futex {
    fn new() -> Futex {
        Futex { lock: Mutex::new(()), woken: Condvar::new() }
    }

    pub fn wait(&self, word: &AtomicU32, expected: u32) {
        let guard = self.lock.lock().unwrap();
        if word.load(Ordering::SeqCst) == expected {
            drop(self.woken.wait(guard).unwrap());
        }
    }

    pub fn wake_all(&self) {
        let _guard = self.lock.lock().unwrap();
        self.woken.notify_all();
    }
}

/// The channel's header fields (§10.2), one reader entry, the slot map
/// (§10.1) and the slots. The region's notify and wait (§5, §10.7) are not
/// modelled: a reader with nothing to read looks again.
pub struct Channel {
    pub write_seq: AtomicU64,
    pub latest_slot: AtomicU32,
    pub release_seq: AtomicU32,
    pub writer_sleeping: AtomicU32,
    pub reader: ReaderEntry,
    pub map: Vec<AtomicU32>,
    pub slots: Vec<Slot>,
    /// The futex on `release_seq`.
    pub release_futex: Futex,
}

impl Channel {
    pub fn new(slot_count: u32) -> Channel {
        Channel {
            write_seq: AtomicU64::new(0),
            latest_slot: AtomicU32::new(NO_SLOT),
            release_seq: AtomicU32::new(0),
            writer_sleeping: AtomicU32::new(0),
            reader: ReaderEntry { cursor: AtomicU64::new(0), held: AtomicU32::new(0) },
            map: (0..slot_count).map(|_| AtomicU32::new(0)).collect(),
            slots: (0..slot_count).map(|_| Slot::new()).collect(),
            release_futex: Futex::new(),
        }
    }

    pub fn slot_count(&self) -> u32 {
        self.slots.len() as u32
    }
}

/// Where the spec argues from the single total order of seq_cst operations
/// (a store, then a load of another word, on each side: §10.5 "A held-back
/// writer", §10.6 "Why a pinned frame is never overwritten"). Loom treats a
/// SeqCst access as AcqRel (its README, "Unsupported features"), which
/// would let both loads miss both stores; a SeqCst fence between the store
/// and the load gives the order the spec's argument uses. `dropped` is a
/// mutant's: the pair without it.
pub fn seq_cst_store_then_load(dropped: bool) {
    if !dropped {
        fence(Ordering::SeqCst);
    }
}

/// How many preemptions loom explores in the two models of a whole stream
/// (`ring_of_two_slots_...`, `pinned_slot_...`): every interleaving with at
/// most this many is about 4 s each; with no bound they run for more than 5
/// minutes. The smaller models are explored without a bound.
/// LOOM_MAX_PREEMPTIONS overrides it.
pub const PREEMPTION_BOUND: usize = 5;

/// Runs a model under loom with the preemption bound above.
pub fn explore_bounded<F>(model: F)
where
    F: Fn() + Sync + Send + 'static,
{
    let mut builder = loom::model::Builder::new();
    if builder.preemption_bound.is_none() {
        builder.preemption_bound = Some(PREEMPTION_BOUND);
    }
    builder.check(model);
}

/// The writer was killed: the crash models stop it before one of its
/// shared stores and look at what it left behind (§10.8).
#[derive(Debug)]
pub struct Killed;

/// Counts the writer's shared stores and kills it before the one its budget
/// ends at; the concurrent models give it no end.
pub struct KillSwitch {
    stores_left: Cell<Option<usize>>,
}

impl KillSwitch {
    pub fn never() -> KillSwitch {
        KillSwitch { stores_left: Cell::new(None) }
    }

    pub fn after_stores(count: usize) -> KillSwitch {
        KillSwitch { stores_left: Cell::new(Some(count)) }
    }

    /// Called before each shared store of the writer.
    pub fn before_store(&self) -> Result<(), Killed> {
        match self.stores_left.get() {
            None => Ok(()),
            Some(0) => Err(Killed),
            Some(n) => {
                self.stores_left.set(Some(n - 1));
                Ok(())
            }
        }
    }
}
