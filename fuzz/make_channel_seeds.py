#!/usr/bin/env python3
"""Writes the hand-made seeds of fuzz/corpus/channel/seeds/, one file per
scenario, named after it (the channel layout of docs/spec.md section 10).
Inputs the fuzzer found later (scripts/fuzz --merge) live beside them under
their hash names. Re-running this script rewrites only the hand-made seeds.
Input format: control byte, data-area pages - 1, the data area's bytes."""

import pathlib
import struct

MAGIC = 0x5A494E435F43484E
LOSSLESS, LATEST = 1, 2
ACTIVE = 1 << 32
NO_SLOT = 0xFFFFFFFF
SEEDS = pathlib.Path(__file__).resolve().parent / "corpus" / "channel" / "seeds"

WRITER_TAKEN = 1
JOIN_AS_WRITER = 2


def header(
    mode=LOSSLESS,
    slots=4,
    size=64,
    readers=2,
    write_seq=0,
    latest=NO_SLOT,
    writer=0,
    magic=MAGIC,
    version=2,
    flags=0,
    ftype=bytes(56),
):
    return struct.pack(
        "<QHHIIIQQIIIIQQ",
        magic,
        version,
        mode,
        flags,
        slots,
        readers,
        size,
        write_seq,
        latest,
        0,
        0,
        0,
        writer,
        0,
    ) + ftype


def frame_type(dtype, shape, ndim=None):
    ndim = len(shape) if ndim is None else ndim
    return struct.pack("<8sII5Q", dtype, ndim, 0, *(list(shape) + [0] * (5 - len(shape))))


def entry(owner=0, cursor=0, held=0):
    return struct.pack("<QQQI36x", owner, 0, cursor, held)


def slot(seq=0, length=0, size=64, fill=b"\0"):
    stride = (size + 63) // 64 * 64
    return struct.pack("<QQ48x", seq, length) + (fill * stride)[:stride]


def channel(hdr_args, entries=(), slots=(), readers=2, size=64, slot_map=()):
    """Header, reader table, slot map (section 10.1; 0 where not given), slots."""
    body = header(readers=readers, size=size, **hdr_args)
    table = list(entries) + [entry()] * (readers - len(entries))
    count = hdr_args.get("slots", 4)
    mapped = list(slot_map) + [0] * (count - len(slot_map))
    map_bytes = struct.pack(f"<{count}I", *mapped) if 0 < count <= 65536 else b""
    map_bytes = map_bytes.ljust((len(map_bytes) + 63) // 64 * 64, b"\0")
    return body + b"".join(table) + map_bytes + b"".join(slots)


def seed(area, control=JOIN_AS_WRITER, pages=1):
    return struct.pack("<BB", control, pages - 1) + area


SEEDS_BY_NAME = {
    "lossless_fresh": seed(channel({})),
    "lossless_ring_full_for_slowest_reader": seed(
        channel(
            {"write_seq": 4},
            entries=[entry(ACTIVE | 1, cursor=0)],
            slots=[slot(2 * f + 2, 64) for f in range(4)],
            slot_map=(0, 1, 2, 3),
        )
    ),
    # The slowest reader is not the first entry: every entry holds the
    # writer back, not only the first active one. (A third entry stays free:
    # the target checks the writer only after its own reader could join.)
    "lossless_slowest_reader_in_a_later_entry": seed(
        channel(
            {"write_seq": 4},
            entries=[entry(ACTIVE | 1, cursor=4), entry(ACTIVE | 1, cursor=0)],
            slots=[slot(2 * f + 2, 64) for f in range(4)],
            readers=3,
        )
    ),
    "lossless_reader_one_behind_has_room": seed(
        channel(
            {"write_seq": 4},
            entries=[entry(ACTIVE | 1, cursor=1)],
            slots=[slot(2 * f + 2, 64) for f in range(4)],
        )
    ),
    "lossless_cursor_past_write_seq": seed(
        channel({"write_seq": 2}, entries=[entry(ACTIVE | 1, cursor=99)])
    ),
    "lossless_writer_role_taken": seed(channel({}), control=WRITER_TAKEN | JOIN_AS_WRITER),
    "latest_newest_frame_readable": seed(
        channel(
            {"mode": LATEST, "slots": 4, "latest": 1, "write_seq": 2},
            slots=[slot(2), slot(4, 10, fill=b"\x07"), slot(), slot()],
        )
    ),
    "latest_slot_being_written": seed(
        channel(
            {"mode": LATEST, "slots": 4, "latest": 2, "write_seq": 3},
            slots=[slot(), slot(), slot(5), slot()],
        )
    ),
    "latest_frame_longer_than_slot": seed(
        channel({"mode": LATEST, "slots": 4, "latest": 0, "write_seq": 1}, slots=[slot(2, 65)])
    ),
    "latest_every_free_slot_pinned": seed(
        channel(
            {"mode": LATEST, "slots": 4, "latest": 0, "write_seq": 1},
            entries=[entry(ACTIVE | 1, held=2), entry(ACTIVE | 1, held=3)],
            slots=[slot(2, 1), slot(), slot(), slot()],
        )
    ),
    # Readers pin the two slots after the newest, where the writer looks
    # first; a third entry stays free so the target's own reader joins and
    # the writer is checked: it must leave both pinned slots untouched.
    "latest_writer_skips_pinned_slots": seed(
        channel(
            {"mode": LATEST, "slots": 5, "latest": 0, "write_seq": 3},
            entries=[entry(ACTIVE | 1, cursor=2, held=2), entry(ACTIVE | 1, cursor=1, held=3)],
            slots=[
                slot(6, 64),
                slot(4, 64, fill=b"\x01"),
                slot(2, 64, fill=b"\x02"),
                slot(),
                slot(),
            ],
            readers=3,
        )
    ),
    "latest_writer_killed_after_latest_before_write_seq": seed(
        channel(
            {"mode": LATEST, "slots": 4, "latest": 3, "write_seq": 5},
            slots=[slot(), slot(), slot(), slot(12, 3)],
        )
    ),
    # Frame numbers are exact 64-bit values and end at 2^63 - 2 (docs/spec.md
    # section 10.4): frames across 2^32, the last frame, and beyond it.
    "lossless_frames_across_2_pow_32": seed(
        channel(
            {"write_seq": 2**32 + 2},
            entries=[entry(ACTIVE | 1, cursor=2**32)],
            slots=[slot(2 * f + 2, 64) for f in (2**32, 2**32 + 1, 2**32 - 2, 2**32 - 1)],
        )
    ),
    "latest_frame_2_pow_32_readable": seed(
        channel(
            {"mode": LATEST, "slots": 4, "latest": 0, "write_seq": 2**32 + 1},
            slots=[slot(2 * 2**32 + 2, 5, fill=b"\x09"), slot(), slot(), slot(2 * 2**32, 64)],
        )
    ),
    "lossless_last_frame_written_writer_refused": seed(
        channel({"write_seq": 2**63 - 1}, slots=[slot(), slot(), slot(2**64 - 2, 64), slot()])
    ),
    "latest_resume_after_the_last_frame": seed(
        channel(
            {"mode": LATEST, "slots": 4, "latest": 2, "write_seq": 2**63 - 2},
            slots=[slot(), slot(), slot(2**64 - 2, 64), slot()],
        )
    ),
    "write_seq_2_pow_63": seed(channel({"write_seq": 2**63})),
    "table_full_of_live_readers": seed(
        channel({}, entries=[entry(ACTIVE | 1), entry(1)]), control=0
    ),
    "reader_entry_with_garbage_owner": seed(channel({}, entries=[entry(3 << 32)])),
    "reader_holds_slot_out_of_range": seed(channel({}, entries=[entry(ACTIVE | 1, held=9)])),
    "unpublished_magic": seed(channel({"magic": 0})),
    "bad_magic": seed(channel({"magic": MAGIC + 1})),
    "version_1_older_layout": seed(channel({"version": 1})),
    "version_3": seed(channel({"version": 3})),
    "slot_map_entry_out_of_range": seed(channel({}, slot_map=(0, 0, 7))),
    # A writer that reused warm slots: frames 2..5 in slots 2, 1, 3, 0.
    "lossless_frames_in_mapped_slots": seed(
        channel(
            {"write_seq": 6},
            entries=[entry(ACTIVE | 1, cursor=2)],
            slots=[slot(2 * f + 2, 64) for f in (5, 3, 2, 4)],
            slot_map=(3, 0, 2, 1),
        )
    ),
    "unknown_mode": seed(channel({"mode": 3})),
    "unknown_flags": seed(channel({"flags": 1})),
    "zero_slots": seed(channel({"slots": 0})),
    "latest_too_few_slots": seed(channel({"mode": LATEST, "slots": 3})),
    "layout_beyond_the_data_area": seed(channel({"slots": 100}), pages=1),
    "layout_fills_two_pages_exactly": seed(channel({"slots": 60}, size=4), pages=2),
    "slot_size_zero": seed(channel({}, size=0)),
    "slot_size_huge": seed(header(size=1 << 41)),
    "latest_slot_out_of_range": seed(channel({"mode": LATEST, "slots": 4, "latest": 4})),
    "max_readers_65": seed(header(readers=65)),
    "typed_u1_8x8": seed(channel({"ftype": frame_type(b"|u1", (8, 8))})),
    "typed_f4_frame_larger_than_slot": seed(channel({"ftype": frame_type(b"<f4", (17,))})),
    "typed_shape_beyond_ndim": seed(channel({"ftype": frame_type(b"<i2", (2, 2), ndim=1)})),
    "typed_dtype_not_numpy": seed(channel({"ftype": frame_type(b"<U4", (4,))})),
    "short_input": b"\x02",
}


def main():
    SEEDS.mkdir(parents=True, exist_ok=True)
    for name, data in SEEDS_BY_NAME.items():
        (SEEDS / name).write_bytes(data)
    print(f"wrote {len(SEEDS_BY_NAME)} seeds to {SEEDS}")


if __name__ == "__main__":
    main()
