//! Latest mode (docs/spec.md §10.6): the writer takes a slot that is neither
//! the newest nor pinned, fills and commits it; the reader pins the newest
//! slot, reads it and unpins it. The orderings are src/channel.cpp's
//! (`acquire_latest`, `slot_is_pinned`, `commit`, `try_read_latest`,
//! `release`), each taken from the table in src/sites.rs, which
//! src/agreement.rs checks against the C++ source.

use crate::channel::{seq_cst_store_then_load, Channel, KillSwitch, Killed, FRAME_LENGTH, NO_SLOT};
use crate::mutant::Mutant;
use crate::sites;
#[cfg(test)]
use loom::sync::atomic::Ordering::SeqCst;

/// §10.6 "Why a pinned frame is never overwritten": the writer's store of
/// `seq` then load of `held`, and the reader's store of `held` then load of
/// `seq`, are in one total order; the mutant takes it away.
fn pin_check_dropped() -> bool {
    Mutant::LatestPinCheckNotSeqCst.is_selected()
}

/// The writer: its own frame number and the slots by their last use, the
/// one it took last first (§10.6 Acquire; `slots_by_use_`).
pub struct Writer<'a> {
    channel: &'a Channel,
    kill: KillSwitch,
    frame: u64,
    slots_by_use: Vec<u32>,
}

impl<'a> Writer<'a> {
    pub fn new(channel: &'a Channel, kill: KillSwitch) -> Writer<'a> {
        Writer { channel, kill, frame: 0, slots_by_use: (0..channel.slot_count()).collect() }
    }

    /// §10.6 Acquire, then the payload, then Commit: one frame.
    pub fn write_frame(&mut self) -> Result<(), Killed> {
        let slot = self.acquire()?;
        self.channel.slots[slot as usize].fill(self.frame);
        self.commit(slot)
    }

    fn acquire(&mut self) -> Result<u32, Killed> {
        let ch = self.channel;
        // `acquire_latest` loads latest_slot relaxed: only this writer stores it.
        let latest = ch.latest_slot.load(sites::LATEST_ACQUIRE_NEWEST.ordering());
        let n = ch.slot_count() as usize;
        for tries in 0..4 * n {
            let rank = tries % n;
            let slot = self.slots_by_use[rank];
            if slot == latest {
                continue;
            }
            let header = &ch.slots[slot as usize];
            let old = header.seq.load(sites::LATEST_ACQUIRE_OLD_SEQ.ordering());
            // §10.6 Acquire: "store its seq = 2f + 1 (seq_cst), then scan
            // every entry's held (seq_cst)".
            self.kill.before_store()?;
            header.seq.store(2 * self.frame + 1, sites::LATEST_ACQUIRE_TAKE.ordering());
            seq_cst_store_then_load(pin_check_dropped());
            if ch.reader.held.load(sites::PIN_CHECK_HELD.ordering()) == slot + 1 {
                // "if one pins the slot, store the old seq back".
                self.kill.before_store()?;
                header.seq.store(old, sites::LATEST_ACQUIRE_PUT_BACK.ordering());
                continue;
            }
            self.slots_by_use[..=rank].rotate_right(1);
            if Mutant::LatestPublishedAtAcquire.is_selected() {
                // The mutant names the slot newest when it takes it.
                self.kill.before_store()?;
                ch.latest_slot.store(slot, sites::COMMIT_LATEST_SLOT.ordering());
            }
            return Ok(slot);
        }
        panic!("EAGAIN: every slot is the newest or pinned, although N >= R + 2");
    }

    fn commit(&mut self, slot: u32) -> Result<(), Killed> {
        let ch = self.channel;
        let header = &ch.slots[slot as usize];
        // §10.6 Commit: length, seq = 2f + 2 (release), latest_slot = the
        // slot (seq_cst), write_seq = f + 1 (seq_cst), and notify the region
        // (not modelled: the reader looks again until it finds the frame).
        self.kill.before_store()?;
        header.length.store(FRAME_LENGTH, sites::COMMIT_LENGTH.ordering());
        if Mutant::LatestSlotBeforeSeq.is_selected() {
            // The mutant names the slot newest before it is committed.
            self.kill.before_store()?;
            ch.latest_slot.store(slot, sites::COMMIT_LATEST_SLOT.ordering());
        }
        self.kill.before_store()?;
        header.seq.store(2 * self.frame + 2, sites::COMMIT_SEQ.ordering());
        if !Mutant::LatestSlotBeforeSeq.is_selected()
            && !Mutant::LatestPublishedAtAcquire.is_selected()
        {
            self.kill.before_store()?;
            ch.latest_slot.store(slot, sites::COMMIT_LATEST_SLOT.ordering());
        }
        self.kill.before_store()?;
        ch.write_seq.store(self.frame + 1, sites::COMMIT_WRITE_SEQ.ordering());
        self.frame += 1;
        Ok(())
    }
}

/// What one look of the reader found.
pub enum Look {
    /// Nothing committed yet, nothing newer, or the writer took the slot
    /// since: look again.
    Nothing,
    /// The newest frame, pinned: its number and payload.
    Frame(u64, Vec<u64>),
}

/// One attempt of `try_read_latest` (which makes up to 64 before it waits
/// for a notify; the model's reader makes as many as it takes). Damage
/// (`EBADMSG`) never happens in an honest channel: the model asserts it.
pub fn look(channel: &Channel) -> Look {
    let entry = &channel.reader;
    // §10.6 Read: "load latest_slot (seq_cst)".
    let slot = channel.latest_slot.load(sites::LATEST_READ_NEWEST.ordering());
    if slot == NO_SLOT {
        return Look::Nothing;
    }
    assert!(slot < channel.slot_count(), "EBADMSG: latest_slot {slot}");
    // "pin it (held = slot + 1, seq_cst); load its seq (seq_cst)".
    entry.held.store(slot + 1, sites::LATEST_READ_PIN.ordering());
    seq_cst_store_then_load(pin_check_dropped());
    let header = &channel.slots[slot as usize];
    let seq = header.seq.load(sites::LATEST_READ_SEQ.ordering());
    if seq == 0 || seq % 2 == 1 {
        // "the writer took the slot since: unpin and look again"
        // (`try_read_latest` unpins with release ordering).
        entry.held.store(0, sites::LATEST_READ_UNPIN_TAKEN.ordering());
        return Look::Nothing;
    }
    let frame = seq / 2 - 1;
    // "write_seq (seq_cst, loaded after seq)"; the cursor is the reader's own.
    let written = channel.write_seq.load(sites::LATEST_READ_WRITE_SEQ.ordering());
    let cursor = entry.cursor.load(sites::LATEST_READ_CURSOR.ordering());
    assert!(frame <= written, "EBADMSG: slot {slot} claims frame {frame}, write_seq {written}");
    assert!(cursor <= written + 1, "EBADMSG: cursor {cursor} past write_seq {written}");
    if frame < cursor {
        entry.held.store(0, sites::LATEST_READ_UNPIN_OLD.ordering());
        return Look::Nothing;
    }
    assert_eq!(
        header.length.load(sites::LATEST_READ_LENGTH.ordering()),
        FRAME_LENGTH,
        "frame {frame}: length"
    );
    entry.cursor.store(frame + 1, sites::LATEST_READ_ADVANCE.ordering());
    Look::Frame(frame, header.words())
}

/// `release` of the pinned frame.
pub fn release(channel: &Channel) {
    // §10.6 Release: "held = 0 (release)".
    channel.reader.held.store(0, sites::RELEASE_UNPIN.ordering());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::{explore_bounded, PAYLOAD_WORDS};
    use loom::sync::Arc;
    use loom::thread;

    /// Three slots (the least for one reader, N >= R + 2), three frames:
    /// the third goes back to slot 0, which the reader may still pin with
    /// frame 0, and then the writer takes slot 2 instead.
    #[test]
    fn pinned_slot_is_never_rewritten_and_frames_are_whole() {
        const FRAMES: u64 = 3;
        explore_bounded(|| {
            let channel = Arc::new(Channel::new(3));
            let writer = {
                let channel = channel.clone();
                thread::spawn(move || {
                    let mut writer = Writer::new(&channel, KillSwitch::never());
                    for _ in 0..FRAMES {
                        writer.write_frame().unwrap();
                    }
                })
            };
            // The reader reads until it has the last frame: it may skip
            // frames (latest mode), never go back or see a torn one.
            let mut last: Option<u64> = None;
            while last != Some(FRAMES - 1) {
                match look(&channel) {
                    Look::Nothing => thread::yield_now(),
                    Look::Frame(frame, words) => {
                        assert!(last.is_none_or(|l| frame > l), "frame {frame} after {last:?}");
                        assert_eq!(words, vec![frame; PAYLOAD_WORDS], "frame {frame} torn");
                        release(&channel);
                        last = Some(frame);
                    }
                }
            }
            writer.join().unwrap();
        });
    }

    /// A writer killed before any one of its stores leaves `latest_slot`
    /// naming no slot or a committed one, whose frame is `write_seq` - 1 or,
    /// killed between the two last commit stores, `write_seq` (§10.3, §10.6
    /// Commit order, §10.8).
    #[test]
    fn writer_killed_at_any_store_leaves_latest_slot_committed() {
        loom::model(|| {
            for budget in 0.. {
                let channel = Channel::new(3);
                let mut writer = Writer::new(&channel, KillSwitch::after_stores(budget));
                let finished = (0..3).try_for_each(|_| writer.write_frame()).is_ok();
                let written = channel.write_seq.load(SeqCst);
                let slot = channel.latest_slot.load(SeqCst);
                if slot != NO_SLOT {
                    let seq = channel.slots[slot as usize].seq.load(SeqCst);
                    assert!(
                        seq != 0 && seq.is_multiple_of(2),
                        "killed after {budget} stores: latest_slot {slot} has seq {seq}, not a committed frame"
                    );
                    let frame = seq / 2 - 1;
                    assert!(
                        frame + 1 == written || frame == written,
                        "killed after {budget} stores: latest frame {frame}, write_seq {written}"
                    );
                } else {
                    assert_eq!(written, 0, "killed after {budget} stores");
                }
                if finished {
                    break;
                }
            }
        });
    }
}
