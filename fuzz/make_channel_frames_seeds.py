#!/usr/bin/env python3
"""Writes the hand-made seeds of fuzz/corpus/channel_frames/seeds/, one file
per scenario, named after it (docs/spec.md sections 10.3-10.6). Inputs the
fuzzer found later (scripts/fuzz --merge) live beside them under their hash
names. Re-running this script rewrites only the hand-made seeds. Input
format: mode byte, slot-count byte, max-readers byte, slot-size byte, then
operations (fuzz/channel_frames_target.cpp, enum Op)."""

import pathlib
import struct

SEEDS = pathlib.Path(__file__).resolve().parent / "corpus" / "channel_frames" / "seeds"
LOSSLESS, LATEST = 0, 1
FREE, DEAD_ACTIVE, DEAD_CLAIMING = 0, 1, 2


def geometry(mode, slots, readers, size):
    """Bytes that decode to this geometry (slots as the target folds them)."""
    slot_byte = slots - 1 if mode == LOSSLESS else slots - readers - 2
    return bytes([mode, slot_byte, readers - 1, size - 1])


def write_seq(v):
    return b"\x00" + struct.pack("<Q", v)


def slot_seq(s, v):
    return b"\x01" + struct.pack("<BQ", s, v)


def slot_length(s, v):
    return b"\x02" + struct.pack("<BQ", s, v)


def latest_slot(v):
    return b"\x03" + struct.pack("<I", v)


def cursor(v):
    return b"\x04" + struct.pack("<Q", v)


def held(v):
    return b"\x05" + struct.pack("<I", v)


def other_entry(i, kind, cur=0, pin=0):
    return b"\x06" + struct.pack("<BBQI", i, kind, cur, pin)


READ, REJOIN, DEAD_WRITER = b"\x07", b"\x09", b"\x0a"


def writer_word(v):
    return b"\x0b" + struct.pack("<Q", v)


def write(length):
    return b"\x08" + struct.pack("<H", length)


def map_entry(i, v):
    return b"\x0c" + struct.pack("<BI", i, v)


LOSSLESS_4 = geometry(LOSSLESS, 4, 2, 64)
LATEST_5 = geometry(LATEST, 5, 2, 64)

SEEDS_BY_NAME = {
    "lossless_write_then_read": LOSSLESS_4 + write(10) + READ + write(64) + READ + READ,
    "lossless_ring_full_then_read_frees_it": LOSSLESS_4 + write(1) * 5 + READ + write(2),
    "lossless_commit_longer_than_slot": LOSSLESS_4 + write(65) + READ,
    "lossless_slot_seq_not_the_cursors_frame": LOSSLESS_4 + write(8) + slot_seq(0, 7) + READ,
    "lossless_slot_length_beyond_slot": LOSSLESS_4 + write(8) + slot_length(0, 65) + READ,
    "lossless_write_seq_jumps_ahead": LOSSLESS_4 + write_seq(1000) + READ,
    "lossless_cursor_near_2_63": LOSSLESS_4
    + cursor(2**63 - 1)
    + write_seq(2**63)
    + slot_seq(3, 2**64 - 2)
    + READ,
    # Frame numbers are exact 64-bit values and end at 2^63 - 2 (docs/spec.md
    # section 10.4): a writer resumed before 2^32 writes across it, one
    # resumed at the last frame writes it and is refused the next.
    "lossless_write_across_2_pow_32": LOSSLESS_4
    + write_seq(2**32 - 2)
    + DEAD_WRITER
    + REJOIN
    + write(8) * 4
    + READ * 4,
    "lossless_last_frame_then_refused": LOSSLESS_4
    + write_seq(2**63 - 2)
    + DEAD_WRITER
    + REJOIN
    + write(8)
    + READ
    + write(8)
    + READ,
    "latest_write_across_2_pow_32": LATEST_5
    + write_seq(2**32 - 1)
    + DEAD_WRITER
    + write(3)
    + READ
    + write(3)
    + READ,
    "latest_write_seq_beyond_2_63": LATEST_5 + write(1) + write_seq(2**63) + READ,
    "lossless_cursor_past_write_seq": LOSSLESS_4 + write(1) + cursor(50) + READ + write(1),
    "lossless_dead_reader_holds_the_ring": LOSSLESS_4
    + other_entry(1, DEAD_ACTIVE, 0)
    + READ
    + write(1) * 5,
    "lossless_dead_claiming_reader_rejoin": LOSSLESS_4 + other_entry(1, DEAD_CLAIMING) + REJOIN,
    "lossless_rejoin_starts_at_write_seq": LOSSLESS_4 + write(3) + write_seq(7) + REJOIN + READ,
    "lossless_dead_writer_taken_over": LOSSLESS_4 + write(4) + DEAD_WRITER + write(4) + READ,
    "lossless_dead_writer_after_forged_write_seq": LOSSLESS_4
    + write_seq(3)
    + DEAD_WRITER
    + write(4)
    + READ,
    "lossless_table_full_of_dead_readers": geometry(LOSSLESS, 2, 3, 16)
    + other_entry(1, DEAD_ACTIVE)
    + other_entry(2, DEAD_ACTIVE)
    + REJOIN
    + write(1),
    "lossless_active_entry_pins_beyond_slots": LOSSLESS_4
    + other_entry(1, DEAD_ACTIVE, 0, 99)
    + REJOIN,
    "lossless_warm_slot_reused_after_each_read": LOSSLESS_4 + (write(8) + READ) * 3,
    "lossless_map_entry_names_no_slot": LOSSLESS_4 + write(8) + map_entry(0, 9) + READ,
    "lossless_map_entry_names_another_frames_slot": LOSSLESS_4
    + write(8)
    + write(8)
    + map_entry(1, 0)
    + READ
    + READ,
    "lossless_dead_writer_rebuilds_from_a_forged_map": LOSSLESS_4
    + write(3)
    + write(3)
    + map_entry(0, 1)
    + DEAD_WRITER
    + write(4) * 3
    + READ * 4,
    "latest_write_then_read": LATEST_5 + write(64) + READ + write(3) + READ + READ,
    "latest_slot_out_of_range": LATEST_5 + write(1) + latest_slot(9) + READ + DEAD_WRITER,
    "latest_slot_being_written": LATEST_5 + write(1) + slot_seq(0, 3) + READ,
    "latest_slot_never_written": LATEST_5 + latest_slot(2) + READ,
    "latest_frame_older_than_cursor": LATEST_5 + write(1) + READ + cursor(10) + write(1) + READ,
    "latest_length_beyond_slot": LATEST_5 + write(1) + slot_length(0, 1000) + READ,
    "latest_every_slot_pinned_by_dead_readers": geometry(LATEST, 4, 2, 8)
    + latest_slot(0)
    + slot_seq(0, 2)
    + held(2)
    + other_entry(1, DEAD_ACTIVE, 0, 3)
    + write(1),
    "latest_dead_writer_between_its_commit_stores": LATEST_5
    + write(1)
    + slot_seq(1, 4)
    + latest_slot(1)
    + DEAD_WRITER
    + write(1)
    + READ,
    "latest_held_forged_then_read": LATEST_5 + write(1) + held(4) + READ + write(1),
    "writer_word_with_bits_above_active_then_join": LOSSLESS_4
    + writer_word((1 << 40) | (1 << 32) | 77)
    + REJOIN
    + write(1),
}


def main():
    SEEDS.mkdir(parents=True, exist_ok=True)
    for name, data in SEEDS_BY_NAME.items():
        (SEEDS / name).write_bytes(data)


if __name__ == "__main__":
    main()
