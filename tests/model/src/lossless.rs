//! Lossless mode (docs/spec.md §10.5): the writer's acquire and commit, the
//! reader's read and release, with the orderings of src/channel.cpp
//! (`acquire_lossless`, `ring_has_room`, `commit`, `try_read_lossless`,
//! `release`, `wake_writer`), each taken from the table in src/sites.rs,
//! which src/agreement.rs checks against the C++ source.

use crate::channel::{seq_cst_store_then_load, Channel, KillSwitch, Killed, FRAME_LENGTH, NO_SLOT};
use crate::mutant::Mutant;
use crate::sites;
#[cfg(test)]
use loom::sync::atomic::Ordering::SeqCst;

/// §10.5 "A held-back writer": the writer's store of `writer_sleeping` then
/// load of the cursors, and the release's store of `cursor` then load of
/// `writer_sleeping`, are in one total order; the mutant takes it away.
fn sleep_check_dropped() -> bool {
    Mutant::WriterSleepCheckNotSeqCst.is_selected()
}

/// The writer: its own copy of `write_seq`, and the stack of free slots it
/// keeps (§10.5 Acquire: the warmest free slot on top).
pub struct Writer<'a> {
    channel: &'a Channel,
    kill: KillSwitch,
    frame: u64,
    free_slots: Vec<u32>,
    slot_of_frame: Vec<u32>,
    released_below: u64,
}

impl<'a> Writer<'a> {
    /// A new channel's writer: every slot free, the lowest index on top.
    pub fn new(channel: &'a Channel, kill: KillSwitch) -> Writer<'a> {
        let n = channel.slot_count();
        Writer {
            channel,
            kill,
            frame: 0,
            free_slots: (0..n).rev().collect(),
            slot_of_frame: vec![NO_SLOT; n as usize],
            released_below: 0,
        }
    }

    /// `ring_has_room`: every active reader has released frame f - N. Also
    /// gives `oldest`, the lowest cursor (f if it is beyond f).
    fn ring_has_room(&self) -> (bool, u64) {
        let n = u64::from(self.channel.slot_count());
        // §10.5 Acquire: "every active entry has cursor > f - N", the
        // cursors loaded seq_cst (acquire: a cursor seen moved orders that
        // reader's reads of the frame before our writes into its slot).
        let cursor = self.channel.reader.cursor.load(sites::RING_CURSOR.ordering());
        let oldest = cursor.min(self.frame);
        (cursor > self.frame || self.frame - cursor < n, oldest)
    }

    /// §10.5 Acquire, then the payload, then Commit: one frame.
    pub fn write_frame(&mut self) -> Result<(), Killed> {
        let slot = self.acquire()?;
        self.channel.slots[slot as usize].fill(self.frame);
        self.commit(slot)
    }

    fn acquire(&mut self) -> Result<u32, Killed> {
        let ch = self.channel;
        let mut room = self.ring_has_room();
        while !room.0 {
            // §10.5 "A held-back writer": load release_seq (v), store
            // writer_sleeping = 1, check the cursors again (all seq_cst),
            // then futex-wait on release_seq while it equals v.
            let seen = ch.release_seq.load(sites::ACQUIRE_RELEASE_SEQ.ordering());
            self.kill.before_store()?;
            ch.writer_sleeping.store(1, sites::SLEEPING_SET.ordering());
            seq_cst_store_then_load(sleep_check_dropped());
            room = self.ring_has_room();
            if !room.0 {
                ch.release_futex.wait(&ch.release_seq, seen);
            }
            // ... and stores writer_sleeping = 0 as soon as the wait returns.
            self.kill.before_store()?;
            ch.writer_sleeping.store(0, sites::SLEEPING_CLEARED.ordering());
            room = self.ring_has_room();
        }
        // Push the slots of the frames every reader released, oldest first,
        // and pop the warmest (§10.5 Acquire; `return_released_slots`).
        let n = ch.slot_count() as u64;
        while self.released_below < room.1 {
            let entry = &mut self.slot_of_frame[(self.released_below % n) as usize];
            if *entry != NO_SLOT {
                self.free_slots.push(*entry);
            }
            *entry = NO_SLOT;
            self.released_below += 1;
        }
        let slot = self.free_slots.pop().expect("a free slot once the readers made room");
        self.slot_of_frame[(self.frame % n) as usize] = slot;
        // §10.5 Acquire: "Store the map entry f mod N = the slot (atomic;
        // relaxed suffices), then the slot's seq = 2f + 1".
        self.kill.before_store()?;
        ch.map[(self.frame % n) as usize].store(slot, sites::ACQUIRE_MAP.ordering());
        self.kill.before_store()?;
        ch.slots[slot as usize].seq.store(2 * self.frame + 1, sites::ACQUIRE_SEQ.ordering());
        if Mutant::CommitPublishesBeforePayloadStoreOrder.is_selected() {
            // The mutant publishes the frame when it hands out the slot.
            self.kill.before_store()?;
            ch.write_seq.store(self.frame + 1, sites::COMMIT_WRITE_SEQ.ordering());
        }
        Ok(slot)
    }

    fn commit(&mut self, slot: u32) -> Result<(), Killed> {
        let ch = self.channel;
        let header = &ch.slots[slot as usize];
        // §10.5 Commit: store length, then seq = 2f + 2 (release), then
        // write_seq = f + 1 (seq_cst), then notify the region
        // (not modelled: the reader looks again until it finds the frame).
        self.kill.before_store()?;
        header.length.store(FRAME_LENGTH, sites::COMMIT_LENGTH.ordering());
        if Mutant::WriteSeqBeforeSeq.is_selected() {
            // The mutant publishes the frame before its slot is committed.
            self.kill.before_store()?;
            ch.write_seq.store(self.frame + 1, sites::COMMIT_WRITE_SEQ.ordering());
        }
        self.kill.before_store()?;
        header.seq.store(2 * self.frame + 2, sites::COMMIT_SEQ.ordering());
        if !Mutant::WriteSeqBeforeSeq.is_selected()
            && !Mutant::CommitPublishesBeforePayloadStoreOrder.is_selected()
        {
            self.kill.before_store()?;
            ch.write_seq.store(self.frame + 1, sites::COMMIT_WRITE_SEQ.ordering());
        }
        self.frame += 1;
        Ok(())
    }
}

/// A frame a reader holds.
pub struct Held {
    pub frame: u64,
    pub words: Vec<u64>,
}

/// `try_read_lossless`: the next frame if it is committed, else None. A
/// slot whose `seq` is not the frame's is the reader's `EBADMSG`, which
/// never happens in an honest channel: the model asserts it.
pub fn try_read(channel: &Channel) -> Option<Held> {
    // The reader's own cursor: only it stores it.
    let frame = channel.reader.cursor.load(sites::READ_CURSOR.ordering());
    // §10.5 Read: "if cursor < write_seq (acquire)".
    let written = channel.write_seq.load(sites::READ_WRITE_SEQ.ordering());
    if frame >= written {
        return None;
    }
    // §10.5 Read: "load map entry cursor mod N (after that acquire load)".
    let n = u64::from(channel.slot_count());
    let slot = channel.map[(frame % n) as usize].load(sites::READ_MAP.ordering());
    assert!(slot < channel.slot_count(), "EBADMSG: the map names slot {slot}");
    let header = &channel.slots[slot as usize];
    // `try_read_lossless` loads the slot's seq with acquire ordering.
    let seq = header.seq.load(sites::READ_SEQ.ordering());
    assert_eq!(
        seq,
        2 * frame + 2,
        "EBADMSG: frame {frame} below write_seq {written} is not committed in slot {slot}"
    );
    let length = header.length.load(sites::READ_LENGTH.ordering());
    assert_eq!(length, FRAME_LENGTH, "frame {frame}: length");
    Some(Held { frame, words: header.words() })
}

/// `release` of the frame the reader holds, and `wake_writer`.
pub fn release(channel: &Channel, held: &Held) {
    // §10.5 Release: cursor += 1 (seq_cst), release_seq += 1 (seq_cst),
    // and if writer_sleeping (seq_cst) is set, wake every waiter.
    channel.reader.cursor.store(held.frame + 1, sites::RELEASE_CURSOR.ordering());
    channel.release_seq.fetch_add(1, sites::WAKE_RELEASE_SEQ.ordering());
    seq_cst_store_then_load(sleep_check_dropped());
    if channel.writer_sleeping.load(sites::WAKE_SLEEPING.ordering()) != 0 {
        channel.release_futex.wake_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::{explore_bounded, PAYLOAD_WORDS};
    use loom::sync::Arc;
    use loom::thread;

    /// Two slots, three frames: the third goes into a slot the reader
    /// released, and the writer is held back until it does.
    #[test]
    fn ring_of_two_slots_delivers_every_frame_whole_and_in_order() {
        const FRAMES: u64 = 3;
        explore_bounded(|| {
            let channel = Arc::new(Channel::new(2));
            let writer = {
                let channel = channel.clone();
                thread::spawn(move || {
                    let mut writer = Writer::new(&channel, KillSwitch::never());
                    for _ in 0..FRAMES {
                        writer.write_frame().unwrap();
                    }
                })
            };
            for expected in 0..FRAMES {
                // `read`: look until there is a frame.
                let held = loop {
                    match try_read(&channel) {
                        Some(held) => break held,
                        None => thread::yield_now(),
                    }
                };
                assert_eq!(held.frame, expected, "frames in order, none lost");
                assert_eq!(held.words, vec![expected; PAYLOAD_WORDS], "frame {expected} torn");
                release(&channel, &held);
            }
            writer.join().unwrap();
        });
    }

    /// One slot, two frames: the writer is held back at frame 1 until the
    /// reader releases frame 0, and that release must wake it (§10.5, "A
    /// held-back writer"). A lost wake leaves the writer asleep for good
    /// after the reader is gone, which loom reports as a deadlock.
    #[test]
    fn held_back_writer_is_woken_by_the_release_that_makes_room() {
        loom::model(|| {
            let channel = Arc::new(Channel::new(1));
            let writer = {
                let channel = channel.clone();
                thread::spawn(move || {
                    let mut writer = Writer::new(&channel, KillSwitch::never());
                    writer.write_frame().unwrap();
                    writer.write_frame().unwrap();
                })
            };
            let held = loop {
                match try_read(&channel) {
                    Some(held) => break held,
                    None => thread::yield_now(),
                }
            };
            release(&channel, &held);
            writer.join().unwrap();
            let next = try_read(&channel).expect("frame 1 is committed");
            assert_eq!((next.frame, next.words), (1, vec![1; PAYLOAD_WORDS]));
        });
    }

    /// A writer killed before any one of its stores leaves every frame
    /// below `write_seq` committed in the slot its map entry names (§10.5
    /// Commit order; §10.8). A reader at cursor 0 that never reads keeps
    /// both frames in flight.
    #[test]
    fn writer_killed_at_any_store_leaves_only_committed_frames_below_write_seq() {
        loom::model(|| {
            for budget in 0.. {
                let channel = Channel::new(2);
                let mut writer = Writer::new(&channel, KillSwitch::after_stores(budget));
                let finished = (0..2).try_for_each(|_| writer.write_frame()).is_ok();
                let written = channel.write_seq.load(SeqCst);
                for frame in 0..written {
                    let slot = channel.map[frame as usize].load(SeqCst) as usize;
                    assert_eq!(
                        channel.slots[slot].seq.load(SeqCst),
                        2 * frame + 2,
                        "killed after {budget} stores: write_seq {written} but frame {frame} is not committed"
                    );
                }
                if finished {
                    break;
                }
            }
        });
    }
}
