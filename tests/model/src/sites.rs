//! Every atomic operation of the functions of src/channel.cpp that the
//! models transcribe, in the order the C++ source has them, with the
//! ordering the model gives it. The models take their orderings from here
//! (`Site::ordering`), and `agreement` checks this table against the C++
//! source: so the model cannot drift from the table, and the table cannot
//! drift from src/channel.cpp without a test failing.
//!
//! A site is one atomic load, store or read-modify-write on a field, one
//! futex wait or wake, or one call of another function in this table (so
//! that the order of the calls is checked too). An operation the models
//! leave out is listed all the same, with the reason, so that one added or
//! moved in the C++ source is noticed; only its place is checked, not its
//! ordering.

use crate::mutant::Mutant;
use loom::sync::atomic::Ordering::{self, Acquire, Relaxed, Release, SeqCst};

/// What a site does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum What {
    /// `field.load(order)`.
    Load(&'static str),
    /// `field.store(value, order)`.
    Store(&'static str),
    /// `field.fetch_add(value, order)`.
    FetchAdd(&'static str),
    /// `futex::wait_until(&header_->field, ...)`.
    FutexWait(&'static str),
    /// `futex::wake_all(&header_->field)`.
    FutexWake(&'static str),
    /// A call of another function of the table.
    Call(&'static str),
}

/// What the model makes of a site.
#[derive(Clone, Copy, Debug)]
pub enum Model {
    /// The model performs the operation with this ordering: the C++
    /// operation must be at least as strong.
    Ordered(Ordering),
    /// A futex call or a call of another function of the table, which the
    /// model makes in the same place: no ordering of its own.
    Step,
    /// The model has no such operation, for this reason; only the site's
    /// place in its function is checked.
    Left(&'static str),
}

/// One site of the table.
#[derive(Debug)]
pub struct Site {
    /// The C++ function, `Channel::<function>`.
    pub function: &'static str,
    pub what: What,
    pub model: Model,
    /// The rule of docs/spec.md it carries out.
    pub spec: &'static str,
    /// The mutant of the model that weakens this site, and to what.
    pub weakened_by: Option<(Mutant, Ordering)>,
}

impl Site {
    /// The ordering the model uses here in this run: the reference's, or the
    /// selected mutant's.
    pub fn ordering(&self) -> Ordering {
        let reference = match self.model {
            Model::Ordered(ordering) => ordering,
            Model::Step => panic!("{self:?} has no ordering"),
            Model::Left(why) => panic!("{self:?} is not modelled ({why})"),
        };
        match self.weakened_by {
            Some((mutant, weaker)) => mutant.pick(weaker, reference),
            None => reference,
        }
    }
}

const fn site(function: &'static str, what: What, ordering: Ordering, spec: &'static str) -> Site {
    Site { function, what, model: Model::Ordered(ordering), spec, weakened_by: None }
}

const fn step(function: &'static str, what: What, spec: &'static str) -> Site {
    Site { function, what, model: Model::Step, spec, weakened_by: None }
}

const fn left(function: &'static str, what: What, why: &'static str) -> Site {
    Site { function, what, model: Model::Left(why), spec: "", weakened_by: None }
}

const fn weakened(site: Site, mutant: Mutant, weaker: Ordering) -> Site {
    Site { weakened_by: Some((mutant, weaker)), ..site }
}

const HANDLE_FLAG: &str = "the handle's own flag, in its private memory";
const NO_OWNER_WORD: &str =
    "the model's reader joined before it starts and never leaves: it has no owner word";

// ---- the writer ----------------------------------------------------------------

pub const RING_OWNER: Site = left("ring_has_room", What::Load("owner"), NO_OWNER_WORD);
pub const RING_CURSOR: Site =
    site("ring_has_room", What::Load("cursor"), SeqCst, "§10.5 Acquire: cursor > f - N");

pub const PIN_CHECK_HELD: Site = site(
    "slot_is_pinned",
    What::Load("held"),
    SeqCst,
    "§10.6 Why a pinned frame is never overwritten: the writer's load of held",
);

pub const SLEEPING_SET: Site = site(
    "add_writer_sleeper",
    What::Store("writer_sleeping"),
    SeqCst,
    "§10.5 A held-back writer: writer_sleeping = 1",
);
pub const SLEEPING_CLEARED: Site = site(
    "remove_writer_sleeper",
    What::Store("writer_sleeping"),
    SeqCst,
    "§10.5 A held-back writer: writer_sleeping = 0 when the wait returns",
);

pub const WAKE_RELEASE_SEQ: Site =
    site("wake_writer", What::FetchAdd("release_seq"), SeqCst, "§10.5 Release: release_seq += 1");
pub const WAKE_SLEEPING: Site = site(
    "wake_writer",
    What::Load("writer_sleeping"),
    SeqCst,
    "§10.5 Release: if writer_sleeping, wake",
);
pub const WAKE_FUTEX: Site = step(
    "wake_writer",
    What::FutexWake("release_seq"),
    "§10.5 Release: wake every waiter on release_seq",
);

const ACQUIRE_LOSSLESS: &str = "acquire_lossless";
pub const ACQUIRE_ROOM: Site =
    step(ACQUIRE_LOSSLESS, What::Call("ring_has_room"), "§10.5 Acquire: wait for room");
pub const ACQUIRE_CANCELLED: Site = left(ACQUIRE_LOSSLESS, What::Load("cancelled_"), HANDLE_FLAG);
pub const ACQUIRE_RELEASE_SEQ: Site = site(
    ACQUIRE_LOSSLESS,
    What::Load("release_seq"),
    SeqCst,
    "§10.5 A held-back writer: v = release_seq",
);
pub const ACQUIRE_SLEEPING: Site = step(
    ACQUIRE_LOSSLESS,
    What::Call("add_writer_sleeper"),
    "§10.5 A held-back writer: writer_sleeping = 1",
);
pub const ACQUIRE_ROOM_AGAIN: Site = step(
    ACQUIRE_LOSSLESS,
    What::Call("ring_has_room"),
    "§10.5 A held-back writer: check the cursors again",
);
pub const ACQUIRE_CANCELLED_AGAIN: Site =
    left(ACQUIRE_LOSSLESS, What::Load("cancelled_"), HANDLE_FLAG);
pub const ACQUIRE_FUTEX: Site = step(
    ACQUIRE_LOSSLESS,
    What::FutexWait("release_seq"),
    "§10.5 A held-back writer: futex-wait while release_seq == v",
);
pub const ACQUIRE_AWAKE_ON_ERROR: Site = left(
    ACQUIRE_LOSSLESS,
    What::Call("remove_writer_sleeper"),
    "a failed futex wait, which the model's futex never has",
);
pub const ACQUIRE_AWAKE: Site = step(
    ACQUIRE_LOSSLESS,
    What::Call("remove_writer_sleeper"),
    "§10.5 A held-back writer: writer_sleeping = 0 when the wait returns",
);
pub const ACQUIRE_MAP: Site = site(
    ACQUIRE_LOSSLESS,
    What::Store("map_entry"),
    Relaxed,
    "§10.5 Acquire: map entry f mod N = the slot (relaxed suffices)",
);
pub const ACQUIRE_SEQ: Site =
    site(ACQUIRE_LOSSLESS, What::Store("seq"), Relaxed, "§10.5 Acquire: the slot's seq = 2f + 1");

const ACQUIRE_LATEST: &str = "acquire_latest";
pub const LATEST_ACQUIRE_NEWEST: Site = site(
    ACQUIRE_LATEST,
    What::Load("latest_slot"),
    Relaxed,
    "§10.6 Acquire: not the newest slot (only the writer stores latest_slot)",
);
pub const LATEST_ACQUIRE_OLD_SEQ: Site = site(
    ACQUIRE_LATEST,
    What::Load("seq"),
    Relaxed,
    "§10.6 Acquire: the slot's seq, to put back if it is pinned",
);
pub const LATEST_ACQUIRE_TAKE: Site = site(
    ACQUIRE_LATEST,
    What::Store("seq"),
    SeqCst,
    "§10.6 Acquire: seq = 2f + 1 (seq_cst), then scan the pins",
);
pub const LATEST_ACQUIRE_PINS: Site = step(
    ACQUIRE_LATEST,
    What::Call("slot_is_pinned"),
    "§10.6 Acquire: scan every entry's held (seq_cst)",
);
pub const LATEST_ACQUIRE_PUT_BACK: Site = site(
    ACQUIRE_LATEST,
    What::Store("seq"),
    SeqCst,
    "§10.6 Acquire: a pinned slot gets its old seq back",
);

const COMMIT: &str = "commit";
pub const COMMIT_LENGTH: Site =
    site(COMMIT, What::Store("length"), Relaxed, "§10.5/§10.6 Commit: the frame's length");
pub const COMMIT_SEQ: Site = weakened(
    site(COMMIT, What::Store("seq"), Release, "§10.5/§10.6 Commit: seq = 2f + 2 (release)"),
    Mutant::CommitPublishesRelaxed,
    Relaxed,
);
pub const COMMIT_LATEST_SLOT: Site = weakened(
    site(COMMIT, What::Store("latest_slot"), SeqCst, "§10.6 Commit: latest_slot = the slot"),
    Mutant::CommitPublishesRelaxed,
    Relaxed,
);
pub const COMMIT_WRITE_SEQ: Site = weakened(
    site(COMMIT, What::Store("write_seq"), SeqCst, "§10.5/§10.6 Commit: write_seq = f + 1"),
    Mutant::CommitPublishesRelaxed,
    Relaxed,
);
pub const COMMIT_NEXT_FRAME: Site = left(
    COMMIT,
    What::Store("next_frame_"),
    "the handle's own count of frames, in its private memory, for zinc_channel_info",
);

// ---- readers ---------------------------------------------------------------------

const READ_LOSSLESS: &str = "try_read_lossless";
pub const READ_CURSOR: Site =
    site(READ_LOSSLESS, What::Load("cursor"), Relaxed, "§10.5 Read: the reader's own cursor");
pub const READ_WRITE_SEQ: Site = site(
    READ_LOSSLESS,
    What::Load("write_seq"),
    Acquire,
    "§10.5 Read: cursor < write_seq (acquire)",
);
pub const READ_MAP: Site = site(
    READ_LOSSLESS,
    What::Load("map_entry"),
    Relaxed,
    "§10.5 Read: the map entry, after that acquire load",
);
pub const READ_SEQ: Site =
    site(READ_LOSSLESS, What::Load("seq"), Acquire, "§10.5 Read: the slot's seq = 2 cursor + 2");
pub const READ_LENGTH: Site =
    site(READ_LOSSLESS, What::Load("length"), Relaxed, "§10.5 Read: the frame's length");

const READ_LATEST: &str = "try_read_latest";
pub const LATEST_READ_NEWEST: Site =
    site(READ_LATEST, What::Load("latest_slot"), SeqCst, "§10.6 Read: latest_slot (seq_cst)");
pub const LATEST_READ_PIN: Site =
    site(READ_LATEST, What::Store("held"), SeqCst, "§10.6 Read: pin it (held = slot + 1, seq_cst)");
pub const LATEST_READ_SEQ: Site =
    site(READ_LATEST, What::Load("seq"), SeqCst, "§10.6 Read: then its seq (seq_cst)");
pub const LATEST_READ_UNPIN_TAKEN: Site = site(
    READ_LATEST,
    What::Store("held"),
    Release,
    "§10.6 Read: the writer took the slot since: unpin and look again",
);
pub const LATEST_READ_WRITE_SEQ: Site =
    site(READ_LATEST, What::Load("write_seq"), SeqCst, "§10.6 Read: write_seq, loaded after seq");
pub const LATEST_READ_CURSOR: Site =
    site(READ_LATEST, What::Load("cursor"), Relaxed, "§10.6 Read: the reader's own cursor");
pub const LATEST_READ_UNPIN_OLD: Site = site(
    READ_LATEST,
    What::Store("held"),
    Release,
    "§10.6 Read: nothing newer than the cursor: unpin",
);
pub const LATEST_READ_LENGTH: Site =
    site(READ_LATEST, What::Load("length"), Relaxed, "§10.6 Read: the frame's length");
pub const LATEST_READ_UNPIN_DAMAGED: Site = left(
    READ_LATEST,
    What::Store("held"),
    "a length past the slot's size, which the model's honest writer never stores",
);
pub const LATEST_READ_ADVANCE: Site = site(
    READ_LATEST,
    What::Store("cursor"),
    Relaxed,
    "§10.6 Read: cursor = the frame + 1 (the reader's own)",
);

const RELEASE: &str = "release";
pub const RELEASE_UNPIN: Site = weakened(
    site(RELEASE, What::Store("held"), Release, "§10.6 Release: held = 0 (release)"),
    Mutant::LatestUnpinRelaxed,
    Relaxed,
);
pub const RELEASE_CURSOR: Site = weakened(
    site(RELEASE, What::Store("cursor"), SeqCst, "§10.5 Release: cursor += 1 (seq_cst)"),
    Mutant::ReleaseCursorRelaxed,
    Relaxed,
);
pub const RELEASE_WAKE: Site =
    step(RELEASE, What::Call("wake_writer"), "§10.5 Release: wake a held-back writer");

/// The table: each transcribed function of src/channel.cpp and its sites in
/// the order of the C++ source. The names are the constants' above, which
/// the agreement check looks for in the models' sources.
pub const FUNCTIONS: &[(&str, &[(&str, &Site)])] = &[
    ("ring_has_room", &[("RING_OWNER", &RING_OWNER), ("RING_CURSOR", &RING_CURSOR)]),
    ("slot_is_pinned", &[("PIN_CHECK_HELD", &PIN_CHECK_HELD)]),
    ("add_writer_sleeper", &[("SLEEPING_SET", &SLEEPING_SET)]),
    ("remove_writer_sleeper", &[("SLEEPING_CLEARED", &SLEEPING_CLEARED)]),
    (
        "wake_writer",
        &[
            ("WAKE_RELEASE_SEQ", &WAKE_RELEASE_SEQ),
            ("WAKE_SLEEPING", &WAKE_SLEEPING),
            ("WAKE_FUTEX", &WAKE_FUTEX),
        ],
    ),
    (
        ACQUIRE_LOSSLESS,
        &[
            ("ACQUIRE_ROOM", &ACQUIRE_ROOM),
            ("ACQUIRE_CANCELLED", &ACQUIRE_CANCELLED),
            ("ACQUIRE_RELEASE_SEQ", &ACQUIRE_RELEASE_SEQ),
            ("ACQUIRE_SLEEPING", &ACQUIRE_SLEEPING),
            ("ACQUIRE_ROOM_AGAIN", &ACQUIRE_ROOM_AGAIN),
            ("ACQUIRE_CANCELLED_AGAIN", &ACQUIRE_CANCELLED_AGAIN),
            ("ACQUIRE_FUTEX", &ACQUIRE_FUTEX),
            ("ACQUIRE_AWAKE_ON_ERROR", &ACQUIRE_AWAKE_ON_ERROR),
            ("ACQUIRE_AWAKE", &ACQUIRE_AWAKE),
            ("ACQUIRE_MAP", &ACQUIRE_MAP),
            ("ACQUIRE_SEQ", &ACQUIRE_SEQ),
        ],
    ),
    (
        ACQUIRE_LATEST,
        &[
            ("LATEST_ACQUIRE_NEWEST", &LATEST_ACQUIRE_NEWEST),
            ("LATEST_ACQUIRE_OLD_SEQ", &LATEST_ACQUIRE_OLD_SEQ),
            ("LATEST_ACQUIRE_TAKE", &LATEST_ACQUIRE_TAKE),
            ("LATEST_ACQUIRE_PINS", &LATEST_ACQUIRE_PINS),
            ("LATEST_ACQUIRE_PUT_BACK", &LATEST_ACQUIRE_PUT_BACK),
        ],
    ),
    (
        COMMIT,
        &[
            ("COMMIT_LENGTH", &COMMIT_LENGTH),
            ("COMMIT_SEQ", &COMMIT_SEQ),
            ("COMMIT_LATEST_SLOT", &COMMIT_LATEST_SLOT),
            ("COMMIT_WRITE_SEQ", &COMMIT_WRITE_SEQ),
            ("COMMIT_NEXT_FRAME", &COMMIT_NEXT_FRAME),
        ],
    ),
    (
        READ_LOSSLESS,
        &[
            ("READ_CURSOR", &READ_CURSOR),
            ("READ_WRITE_SEQ", &READ_WRITE_SEQ),
            ("READ_MAP", &READ_MAP),
            ("READ_SEQ", &READ_SEQ),
            ("READ_LENGTH", &READ_LENGTH),
        ],
    ),
    (
        READ_LATEST,
        &[
            ("LATEST_READ_NEWEST", &LATEST_READ_NEWEST),
            ("LATEST_READ_PIN", &LATEST_READ_PIN),
            ("LATEST_READ_SEQ", &LATEST_READ_SEQ),
            ("LATEST_READ_UNPIN_TAKEN", &LATEST_READ_UNPIN_TAKEN),
            ("LATEST_READ_WRITE_SEQ", &LATEST_READ_WRITE_SEQ),
            ("LATEST_READ_CURSOR", &LATEST_READ_CURSOR),
            ("LATEST_READ_UNPIN_OLD", &LATEST_READ_UNPIN_OLD),
            ("LATEST_READ_LENGTH", &LATEST_READ_LENGTH),
            ("LATEST_READ_UNPIN_DAMAGED", &LATEST_READ_UNPIN_DAMAGED),
            ("LATEST_READ_ADVANCE", &LATEST_READ_ADVANCE),
        ],
    ),
    (
        RELEASE,
        &[
            ("RELEASE_UNPIN", &RELEASE_UNPIN),
            ("RELEASE_CURSOR", &RELEASE_CURSOR),
            ("RELEASE_WAKE", &RELEASE_WAKE),
        ],
    ),
];
