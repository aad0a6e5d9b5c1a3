#!/usr/bin/env python3
"""Generates the channel test vectors (docs/spec.md section 10) in this folder.

    python3 spec/vectors/generate_channel.py           # rewrite the vectors
    python3 spec/vectors/generate_channel.py --check   # exit 1 if the files are stale

Two kinds, described in README.md:
  channel.tsv + channel/<id>.bin   data-area images and what validating each
                                   must return (zinc_check_channel_header)
  channel_geometry.tsv             creation arguments and the layout they give
                                   (or EINVAL)
Each vector states the result it is meant to have; the generator also computes
it with its own implementation of the spec's rules (check() and geometry()
below) and refuses to write a vector on which the two disagree. Standard
library only.
"""

from __future__ import annotations

import argparse
import struct
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

MAGIC = 0x5A494E435F43484E  # "ZINC_CHN"
LOSSLESS, LATEST = 1, 2
ACTIVE = 1 << 32
NO_SLOT = 0xFFFFFFFF
PAGE = 4096
OK, EAGAIN, EINVAL, ENOMSG, EBADMSG = 0, -11, -22, -42, -74
# Section 10.4: a committed frame f has seq 2f + 2, which must fit 64 bits
# without becoming 0, so frames end at 2^63 - 2 and write_seq at 2^63 - 1.
MAX_WRITE_SEQ = (1 << 63) - 1


def geometry(mode: int, slots: int, size: int, readers: int) -> tuple[int, int, int] | str:
    """(slots_offset, slot_stride, required_bytes), or why the arguments are invalid."""
    if mode not in (LOSSLESS, LATEST):
        return f"mode {mode} is neither lossless (1) nor latest (2)"
    if not 1 <= readers <= 64:
        return f"max_readers {readers} is not in 1..64"
    if not 1 <= slots <= 65536:
        return f"slot_count {slots} is not in 1..65536"
    if mode == LATEST and slots < readers + 2:
        return f"a latest channel needs slot_count >= max_readers + 2, not {slots}"
    if not 1 <= size <= 1 << 40:
        return f"slot_size {size} is not in 1..2^40"
    stride = 64 + (size + 63) // 64 * 64
    offset = map_offset(readers) + (4 * slots + 63) // 64 * 64
    return offset, stride, offset + slots * stride


def map_offset(readers: int) -> int:
    """Section 10.1: the slot map follows the reader table."""
    return 128 + 64 * readers


def frame_type(dtype=b"", shape=(), ndim=None, reserved=0) -> bytes:
    """The 56 bytes of section 10.2.1; shape may be longer than ndim to break a rule."""
    ndim = len(shape) if ndim is None else ndim
    return struct.pack("<8sII5Q", dtype, ndim, reserved, *(list(shape) + [0] * (5 - len(shape))))


def header(mode=LOSSLESS, slots=4, size=64, readers=2, write_seq=0, latest=NO_SLOT, writer=0,
           magic=MAGIC, version=2, flags=0, ftype=bytes(56)) -> bytes:  # fmt: skip
    return struct.pack("<QHHIIIQQIIIIQQ", magic, version, mode, flags, slots, readers, size,
                       write_seq, latest, 0, 0, 0, writer, 0) + ftype  # fmt: skip


def entry(owner=0, cursor=0, held=0, joined_at=0) -> bytes:
    return struct.pack("<QQQI36x", owner, joined_at, cursor, held)


def slot(seq=0, length=0, size=64, fill=b"\0") -> bytes:
    stride = (size + 63) // 64 * 64
    return struct.pack("<QQ48x", seq, length) + (fill * stride)[:stride]


def channel(entries=(), slot_images=(), slot_map=(), **hdr) -> bytes:
    """A data area: header, reader table, slot map (entry i: the slot of the
    frames f with f mod N = i; 0 where not given), slots."""
    readers, slots = hdr.get("readers", 2), hdr.get("slots", 4)
    table = list(entries) + [entry()] * (readers - len(entries))
    entries_of_map = list(slot_map) + [0] * (slots - len(slot_map))
    map_bytes = struct.pack(f"<{slots}I", *entries_of_map) if 0 < slots <= 65536 else b""
    map_bytes = map_bytes.ljust((len(map_bytes) + 63) // 64 * 64, b"\0")
    return header(**hdr) + b"".join(table) + map_bytes + b"".join(slot_images)


def owner_ok(word: int) -> bool:
    """Section 10.3: free (pid 0, not active, any generation) or a pid > 0."""
    pid = word & 0xFFFFFFFF
    return (pid == 0 and not word & ACTIVE) or 0 < pid < 1 << 31


ELEMENT_SIZES = {b"b": (1,), b"i": (1, 2, 4, 8), b"u": (1, 2, 4, 8), b"f": (2, 4, 8, 16),
                 b"c": (8, 16, 32)}  # fmt: skip


def frame_type_problem(ftype: bytes, size: int) -> str | None:
    """Why a frame type breaks section 10.2.1 for slots of `size` bytes, or None."""
    if ftype == bytes(56):
        return None
    dtype, ndim, reserved, *shape = struct.unpack("<8sII5Q", ftype)
    text = dtype.rstrip(b"\0")
    order, kind, digits = text[:1], text[1:2], text[2:]
    if b"\0" in text or not digits.isdigit() or digits.startswith(b"0"):
        return f"dtype {dtype!r} is not a numpy type string"
    itemsize = int(digits)
    if itemsize not in ELEMENT_SIZES.get(kind, ()):
        return f"dtype {dtype!r}: no {kind!r} element of {itemsize} bytes"
    if order not in ((b"|",) if itemsize == 1 else (b"<", b">")):
        return f"dtype {dtype!r}: byte order {order!r} for {itemsize}-byte elements"
    if ndim > 5:
        return f"ndim {ndim}"
    if reserved:
        return "reserved word set"
    if any(shape[ndim:]) or not all(shape[:ndim]):
        return f"shape {shape} does not match ndim {ndim}"
    frame = itemsize
    for extent in shape[:ndim]:
        frame *= extent
    if frame > size:
        return f"a frame of {frame} bytes in slots of {size}"
    return None


def check(area: bytes, length: int) -> tuple[int, str]:
    """What validating the first `length` bytes of data area `area` returns."""
    if len(area) < 128:
        return EBADMSG, "a data area too small for the header"
    (magic, version, mode, flags, slots, readers, size, write_seq, latest) = struct.unpack_from(
        "<QHHIIIQQI", area, 0
    )
    (writer,) = struct.unpack_from("<Q", area, 56)
    if magic == 0:
        return ENOMSG, "magic 0: the region holds no channel (creators lay it out first)"
    if magic != MAGIC:
        return EBADMSG, "bad magic"
    if version != 2:
        return EBADMSG, f"layout version {version}, not 2"
    if flags != 0:
        return EBADMSG, f"unknown flags {flags}"
    layout = geometry(mode, slots, size, readers)
    if isinstance(layout, str):
        return EBADMSG, layout
    offset, stride, required = layout
    if required > len(area):
        return EBADMSG, f"the layout needs {required} bytes, the data area has {len(area)}"
    if latest != NO_SLOT and latest >= slots:
        return EBADMSG, f"latest_slot {latest} of only {slots} slots"
    if write_seq > MAX_WRITE_SEQ:
        return EBADMSG, f"write_seq {write_seq} is beyond 2^63 - 1, where frame numbers end"
    if not owner_ok(writer):
        return EBADMSG, "a malformed writer owner word"
    problem = frame_type_problem(area[72:128], size)
    if problem:
        return EBADMSG, f"frame type: {problem}"
    if length < required:
        return OK, "a valid header"
    for i in range(readers):
        owner, _, _, held = struct.unpack_from("<QQQI", area, 128 + 64 * i)
        if not owner_ok(owner):
            return EBADMSG, f"reader entry {i} has a malformed owner word"
        if owner & ACTIVE and held > slots:
            return EBADMSG, f"reader entry {i} pins slot {held} - 1 of only {slots}"
    for i in range(slots):
        (mapped,) = struct.unpack_from("<I", area, map_offset(readers) + 4 * i)
        if mapped >= slots:
            return EBADMSG, f"slot map entry {i} names slot {mapped} of only {slots}"
    for s in range(slots):
        seq, frame_length = struct.unpack_from("<QQ", area, offset + s * stride)
        if seq != 0 and seq % 2 == 0 and frame_length > size:
            return EBADMSG, f"slot {s} holds {frame_length} bytes, more than {size}"
    return OK, "a valid channel"


def pad(area: bytes, pages: int = 1) -> bytes:
    return area.ljust(pages * PAGE, b"\0")


LOSSLESS_FULL = [slot(2 * f + 2, 64, fill=bytes([f])) for f in range(4)]
# Frames 2..5 of a writer that reused warm slots: frame 5 in slot 0, 4 in 3,
# 3 in 1, 2 in 2 (map entry f mod 4 names frame f's slot).
LOSSLESS_MAPPED = [slot(2 * f + 2, 64, fill=bytes([f])) for f in (5, 3, 2, 4)]


def ring(frames: range, slots: int = 4) -> list[bytes]:
    """Slot images holding committed frames `frames`, frame f in slot f mod `slots`."""
    images = [slot()] * slots
    for f in frames:
        images[f % slots] = slot(2 * f + 2, 64, fill=bytes([f % 251]))
    return images


# Section 10.4: frame numbers are exact 64-bit values, and end at 2^63 - 2.
P32, LAST_FRAME = 1 << 32, MAX_WRITE_SEQ - 1

# id -> (intended code, data area)
IMAGES: dict[str, tuple[int, bytes]] = {
    "lossless_fresh": (OK, pad(channel())),
    "lossless_four_frames_two_readers": (
        OK,
        pad(
            channel(
                [entry(ACTIVE | 100, 4), entry(ACTIVE | 101, 1)],
                LOSSLESS_FULL,
                slot_map=(0, 1, 2, 3),
                write_seq=4,
            )
        ),
    ),
    "lossless_frames_where_the_slot_map_says": (
        OK,
        pad(
            channel(
                [entry(ACTIVE | 100, 2)], LOSSLESS_MAPPED, slot_map=(3, 0, 2, 1), write_seq=6
            )
        ),
    ),
    "slot_map_entry_names_slot_4_of_4": (
        EBADMSG,
        pad(channel([], LOSSLESS_FULL, slot_map=(0, 1, 2, 4), write_seq=4)),
    ),
    "slot_map_entry_all_ones": (EBADMSG, pad(channel(slot_map=(0xFFFFFFFF,)))),
    "lossless_frames_across_2_pow_32": (
        OK,
        pad(
            channel(
                [entry(ACTIVE | 100, P32), entry(ACTIVE | 101, P32 + 2)],
                ring(range(P32 - 2, P32 + 2)),
                slot_map=(0, 1, 2, 3),
                write_seq=P32 + 2,
            )
        ),
    ),
    "latest_frame_2_pow_32": (
        OK,
        pad(
            channel(
                [entry(ACTIVE | 100, P32, held=1)],
                ring(range(P32 - 1, P32 + 1)),
                mode=LATEST,
                latest=P32 % 4,
                write_seq=P32 + 1,
            )
        ),
    ),
    "write_seq_2_pow_63_minus_1": (
        OK,
        pad(
            channel(
                [],
                ring(range(LAST_FRAME - 3, LAST_FRAME + 1)),
                slot_map=(0, 1, 2, 3),
                write_seq=MAX_WRITE_SEQ,
            )
        ),
    ),
    "write_seq_2_pow_63": (EBADMSG, pad(channel(write_seq=1 << 63))),
    "write_seq_all_ones": (EBADMSG, pad(channel(write_seq=(1 << 64) - 1))),
    "lossless_reader_claiming": (OK, pad(channel([entry(100)]))),
    "lossless_writer_active": (OK, pad(channel(writer=ACTIVE | 100))),
    "lossless_writer_killed_mid_frame": (
        OK,
        pad(channel([], [slot(2), slot(3)], write_seq=1, writer=ACTIVE | 100)),
    ),
    "latest_newest_in_slot_1": (
        OK,
        pad(
            channel(
                [], [slot(2, 64), slot(4, 10), slot(), slot()], mode=LATEST, latest=1, write_seq=2
            )
        ),
    ),
    "latest_reader_pins_slot_0": (
        OK,
        pad(
            channel(
                [entry(ACTIVE | 100, 1, held=1)],
                [slot(2, 1)] + [slot()] * 3,
                mode=LATEST,
                latest=0,
                write_seq=1,
            )
        ),  # fmt: skip
    ),
    "one_slot_of_one_byte": (OK, pad(channel([], [slot(size=1)], slots=1, size=1, readers=1))),
    "layout_fills_two_pages_exactly": (OK, pad(channel(slots=60, size=4), 2)),
    "layout_one_byte_too_big": (EBADMSG, pad(channel(slots=60, size=4), 2)[: 2 * PAGE - 64]),
    "no_channel_magic_0": (ENOMSG, pad(channel(magic=0))),
    "bad_magic": (EBADMSG, pad(channel(magic=MAGIC + 1))),
    "region_magic_instead": (EBADMSG, pad(channel(magic=0x5A494E435F524547))),
    "version_0": (EBADMSG, pad(channel(version=0))),
    "version_1_older_layout_without_slot_map": (EBADMSG, pad(channel(version=1))),
    "version_3": (EBADMSG, pad(channel(version=3))),
    "mode_0": (EBADMSG, pad(channel(mode=0))),
    "mode_3": (EBADMSG, pad(channel(mode=3))),
    "flags_1": (EBADMSG, pad(channel(flags=1))),
    "slot_count_0": (EBADMSG, pad(channel(slots=0))),
    "slot_count_65537": (EBADMSG, pad(header(slots=65537))),
    "latest_with_too_few_slots": (EBADMSG, pad(channel(mode=LATEST, slots=3))),
    "max_readers_0": (EBADMSG, pad(header(readers=0))),
    "max_readers_65": (EBADMSG, pad(header(readers=65))),
    "slot_size_0": (EBADMSG, pad(channel(size=0))),
    "slot_size_beyond_2_pow_40": (EBADMSG, pad(header(size=(1 << 40) + 1))),
    "latest_slot_out_of_range": (EBADMSG, pad(channel(mode=LATEST, latest=4))),
    # Owner words carry a generation in bits 33-63 (section 10.3).
    "writer_word_claiming_with_generation": (OK, pad(channel(writer=(1 << 40) | 100))),
    "writer_word_free_with_generation": (OK, pad(channel(writer=5 << 33))),
    "reader_word_active_with_generation": (OK, pad(channel([entry((7 << 33) | ACTIVE | 100)]))),
    "writer_word_pid_0_active": (EBADMSG, pad(channel(writer=ACTIVE))),
    "writer_word_negative_pid": (EBADMSG, pad(channel(writer=ACTIVE | 0x80000000))),
    "reader_word_active_without_pid": (EBADMSG, pad(channel([entry(3 << 32)]))),
    "reader_pins_slot_out_of_range": (EBADMSG, pad(channel([entry(ACTIVE | 100, held=5)]))),
    "committed_frame_longer_than_slot": (EBADMSG, pad(channel([], [slot(2, 65)], write_seq=1))),
    "frame_being_written_with_any_length": (OK, pad(channel([], [slot(1, 1 << 60)]))),
    "typed_u1_8x8": (OK, pad(channel(ftype=frame_type(b"|u1", (8, 8))))),
    "typed_f4_4x4": (OK, pad(channel(ftype=frame_type(b"<f4", (4, 4))))),
    "typed_big_endian_c16": (OK, pad(channel(ftype=frame_type(b">c16", (4,))))),
    "typed_scalar_f8": (OK, pad(channel(ftype=frame_type(b"<f8")))),
    "typed_frame_smaller_than_slot": (OK, pad(channel(ftype=frame_type(b"<i2", (3,))))),
    "typed_five_dimensions": (OK, pad(channel(ftype=frame_type(b"|b1", (1, 2, 2, 2, 8))))),
    "typed_frame_larger_than_slot": (EBADMSG, pad(channel(ftype=frame_type(b"<f8", (9,))))),
    "typed_dtype_without_byte_order": (EBADMSG, pad(channel(ftype=frame_type(b"u1", (8,))))),
    "typed_byte_order_on_one_byte": (EBADMSG, pad(channel(ftype=frame_type(b"<u1", (8,))))),
    "typed_no_byte_order_on_four_bytes": (EBADMSG, pad(channel(ftype=frame_type(b"|f4", (8,))))),
    "typed_float_of_3_bytes": (EBADMSG, pad(channel(ftype=frame_type(b"<f3", (8,))))),
    "typed_unicode_kind": (EBADMSG, pad(channel(ftype=frame_type(b"<U4", (4,))))),
    "typed_dtype_trailing_garbage": (EBADMSG, pad(channel(ftype=frame_type(b"<f4\0x", (4,))))),
    "typed_dtype_leading_zero": (EBADMSG, pad(channel(ftype=frame_type(b"<f04", (4,))))),
    "typed_untyped_with_shape": (EBADMSG, pad(channel(ftype=frame_type(b"", (4,))))),
    "typed_ndim_6": (EBADMSG, pad(channel(ftype=frame_type(b"|u1", (1, 1, 1, 1, 1), ndim=6)))),
    "typed_shape_beyond_ndim": (EBADMSG, pad(channel(ftype=frame_type(b"|u1", (4, 4), ndim=1)))),
    "typed_zero_extent": (EBADMSG, pad(channel(ftype=frame_type(b"|u1", (4, 0))))),
    "typed_reserved_set": (EBADMSG, pad(channel(ftype=frame_type(b"|u1", (4,), reserved=1)))),
    "typed_shape_overflows_64_bits": (
        EBADMSG,
        pad(channel(ftype=frame_type(b"<f8", (1 << 32, 1 << 32, 1 << 32)))),
    ),
}

# id -> (mode, slot_count, slot_size, max_readers)
GEOMETRY: dict[str, tuple[int, int, int, int]] = {
    "lossless_smallest": (LOSSLESS, 1, 1, 1),
    "lossless_camera_1080p": (LOSSLESS, 4, 1920 * 1080 * 3, 4),
    "lossless_64_readers": (LOSSLESS, 8, 64, 64),
    "latest_smallest": (LATEST, 3, 64, 1),
    "latest_payload_not_multiple_of_64": (LATEST, 6, 100, 4),
    "lossless_largest_slot_count": (LOSSLESS, 65536, 1, 1),
    "mode_0": (0, 4, 64, 1),
    "slot_count_0": (LOSSLESS, 0, 64, 1),
    "slot_count_65537": (LOSSLESS, 65537, 64, 1),
    "latest_too_few_slots": (LATEST, 3, 64, 2),
    "slot_size_0": (LOSSLESS, 4, 0, 1),
    "slot_size_beyond_2_pow_40": (LOSSLESS, 1, (1 << 40) + 1, 1),
    "max_readers_0": (LOSSLESS, 4, 64, 0),
    "max_readers_65": (LOSSLESS, 4, 64, 65),
}


def build() -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    rows = ["id\tcapacity\timage\tcode\theader_code\treason"]
    for vid, (intended, area) in IMAGES.items():
        code, reason = check(area, len(area))
        if code != intended:
            raise SystemExit(f"vector {vid}: intended {intended}, the rules say {code} ({reason})")
        header_code, _ = check(area, 128)
        rows.append(f"{vid}\t{len(area)}\tchannel/{vid}.bin\t{code}\t{header_code}\t{reason}")
        files[f"channel/{vid}.bin"] = area
    files["channel.tsv"] = ("\n".join(rows) + "\n").encode()
    rows = ["id\tmode\tslot_count\tslot_size\tmax_readers\tcode\tslots_offset\tslot_stride"
            "\trequired_bytes\tcapacity_4k\treason"]  # fmt: skip
    for gid, (mode, slots, size, readers) in GEOMETRY.items():
        layout = geometry(mode, slots, size, readers)
        if isinstance(layout, str):
            rows.append(
                f"{gid}\t{mode}\t{slots}\t{size}\t{readers}\t{EINVAL}\t-\t-\t-\t-\t{layout}"
            )
            continue
        offset, stride, required = layout
        capacity = (required + PAGE - 1) // PAGE * PAGE
        rows.append(
            f"{gid}\t{mode}\t{slots}\t{size}\t{readers}\t{OK}\t{offset}\t{stride}\t{required}"
            f"\t{capacity}\ta valid geometry"
        )
    files["channel_geometry.tsv"] = ("\n".join(rows) + "\n").encode()
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the files on disk")
    parser.add_argument("--out", type=Path, default=HERE, help="folder to write (default: here)")
    args = parser.parse_args()
    files = build()
    if args.check:
        stale = [
            p
            for p, c in files.items()
            if not (args.out / p).exists() or (args.out / p).read_bytes() != c
        ]
        stale += [
            f"channel/{t.name} (not generated)"
            for t in sorted((args.out / "channel").glob("*"))
            if f"channel/{t.name}" not in files
        ]
        if stale:
            print(
                "channel vectors are stale; run python3 spec/vectors/generate_channel.py",
                file=sys.stderr,
            )
            print("\n".join(stale), file=sys.stderr)
            return 1
        print(f"channel vectors are up to date ({len(files)} files)")
        return 0
    (args.out / "channel").mkdir(parents=True, exist_ok=True)
    for target in (args.out / "channel").glob("*"):
        if f"channel/{target.name}" not in files:
            target.unlink()
    for path, content in files.items():
        (args.out / path).write_bytes(content)
    print(f"wrote {len(files)} files to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
