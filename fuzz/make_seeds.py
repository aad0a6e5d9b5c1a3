#!/usr/bin/env python3
"""Writes the hand-made seeds of fuzz/corpus/<target>/seeds/, one file per
scenario, named after it. Inputs the fuzzer found later (scripts/fuzz
--merge) live beside them under their hash names. Re-running this script
rewrites only the hand-made seeds. The page size is assumed to be 4096 (the
seeds still decode on other systems; they just test other branches)."""

import pathlib
import struct

PAGE = 4096
MAGIC = 0x5A494E435F524547
CORPUS = pathlib.Path(__file__).resolve().parent / "corpus"


def header(
    ring_tail=0,
    magic=MAGIC,
    version=2,
    flags=0,
    seq=0,
    capacity=PAGE,
    ref_count=1,
    pid=4242,
    created_at=1_700_000_000_000_000_000,
    name_hash=0,
):
    return struct.pack(
        "<QHHIQIiQQQQ", magic, version, flags, seq, capacity, ref_count, pid, created_at, name_hash, 0, ring_tail
    )


# --- header: control byte, object size (u32), object bytes -----------------
FIX_HASH = 1
OTHER_GEOMETRY = 2


def geometry(page_exponent):
    """Control bits that also check zinc_check_header with page 2^exponent."""
    return FIX_HASH | OTHER_GEOMETRY | page_exponent << 2


def header_seed(size, content, control=FIX_HASH):
    return struct.pack("<BI", control, size) + content


HEADER = {
    "valid_one_page_region": header_seed(2 * PAGE, header()),
    "valid_two_page_region_with_data": header_seed(
        3 * PAGE, header(capacity=2 * PAGE).ljust(PAGE, b"\0") + b"payload bytes"
    ),
    "valid_with_pending_notification": header_seed(2 * PAGE, header(seq=5)),
    "valid_notify_seq_at_wrap": header_seed(2 * PAGE, header(seq=0xFFFFFFFF)),
    "valid_ref_count_one_below_max": header_seed(2 * PAGE, header(ref_count=0xFFFFFFFE)),
    "name_hash_of_another_name": header_seed(2 * PAGE, header(name_hash=0xA2C98045CDC80BEA), control=0),
    "empty_object": header_seed(0, b""),
    "unpublished_magic": header_seed(2 * PAGE, header(magic=0)),
    "bad_magic": header_seed(2 * PAGE, header(magic=0x5A494E435F524548)),
    "format_version_1": header_seed(2 * PAGE, header(version=1)),
    "unknown_flags": header_seed(2 * PAGE, header(flags=1)),
    "capacity_larger_than_object": header_seed(2 * PAGE, header(capacity=2 * PAGE)),
    "capacity_huge": header_seed(2 * PAGE, header(capacity=0xFFFFFFFFFFFFF000)),
    "ref_count_zero": header_seed(2 * PAGE, header(ref_count=0)),
    "ref_count_max": header_seed(2 * PAGE, header(ref_count=0xFFFFFFFF)),
    "truncated_to_one_page": header_seed(PAGE, header()),
    "truncated_to_header": header_seed(64, header()),
    "truncated_mid_header": header_seed(20, header()),
    "ragged_size": header_seed(2 * PAGE + 100, header()),
    "grown_object": header_seed(3 * PAGE, header()),
    "size_beyond_cap_folds": header_seed(0xFFFFFFFF, header()),
    "geometry_16k_pages_valid": header_seed(
        2 * PAGE, header(capacity=16384, ring_tail=2 * 16384), control=geometry(14)
    ),
    "geometry_page_2_pow_63": header_seed(2 * PAGE, header(capacity=1 << 63, ring_tail=1 << 63), control=geometry(63)),
    "geometry_page_not_power_of_two": header_seed(2 * PAGE, header(ring_tail=2 * PAGE), control=geometry(3)),
    "geometry_size_beyond_ptrdiff": header_seed(
        2 * PAGE, header(capacity=(1 << 64) - 2 * PAGE, ring_tail=(1 << 64) - PAGE), control=geometry(12)
    ),
}

HEADER_DICT = [
    ("magic", struct.pack("<Q", MAGIC)),
    ("version_2", b"\x02\x00"),
    ("capacity_one_page", struct.pack("<Q", PAGE)),
    ("size_two_pages", struct.pack("<I", 2 * PAGE)),
    ("size_three_pages", struct.pack("<I", 3 * PAGE)),
    ("ref_count_one", struct.pack("<I", 1)),
    ("all_ones_32", b"\xff\xff\xff\xff"),
]

# --- name: mode byte (even: prefixed create, odd: raw open), name bytes -----
CREATE, OPEN = b"\x00", b"\x01"
NAME = {
    "create_simple_suffix": CREATE + b"abc",
    "create_all_allowed_bytes": CREATE + b"AZaz09_-",
    "create_long_suffix_at_limit": CREATE + b"x" * 240,
    "create_suffix_with_slash": CREATE + b"a/b",
    "create_suffix_with_dot": CREATE + b".hidden",
    "create_suffix_with_nul_cut": CREATE + b"ok\x00/etc",
    "open_empty": OPEN,
    "open_leading_slash": OPEN + b"/zinc_x",
    "open_path_traversal": OPEN + b"../../tmp/x",
    "open_space": OPEN + b"a b",
    "open_utf8": OPEN + "é".encode(),
    "open_250_bytes": OPEN + b"n" * 250,
    "open_251_bytes": OPEN + b"n" * 251,
    "open_high_byte": OPEN + b"\xff",
    "open_missing_valid_name": OPEN + b"zz-no-such-region_",
}

NAME_DICT = [
    ("slash", b"/"),
    ("dot", b"."),
    ("dotdot", b".."),
    ("nul", b"\x00"),
    ("underscore", b"_"),
    ("dash", b"-"),
    ("prefix", b"zinc_"),
    ("dev_shm", b"/dev/shm/"),
]

# --- api_sequence: opcode bytes and arguments -------------------------------
CREATE_OP, OPEN_OP, CLOSE, NOTIFY, TRY_WAIT, WAIT0 = 0, 1, 2, 3, 4, 5
WRITE, READ, INSPECT, SEQ_JUMP, NOTIFY_MANY, CHECK = 6, 7, 8, 9, 10, 11


def ops(*steps):
    return bytes(b for step in steps for b in step)


def create(slot, name, cap=0):
    return (CREATE_OP, slot, name, cap)


def open_(slot, name):
    return (OPEN_OP, slot, name)


def one(op, arg):
    return (op, arg)


def write(slot, offset, value):
    return (WRITE, slot, offset & 0xFF, offset >> 8, value)


def read(slot, offset):
    return (READ, slot, offset & 0xFF, offset >> 8)


API = {
    "notify_then_wait_in_two_handles": ops(
        create(0, 0),
        open_(1, 0),
        one(TRY_WAIT, 1),
        one(NOTIFY, 0),
        one(TRY_WAIT, 1),
        one(TRY_WAIT, 1),
        one(WAIT0, 0),
        one(WAIT0, 0),
    ),
    "notifications_coalesce": ops(
        create(0, 0), open_(1, 0), (NOTIFY_MANY, 0, 7), one(TRY_WAIT, 1), one(WAIT0, 1)
    ),
    "late_open_sees_one_pending": ops(
        create(0, 0), (NOTIFY_MANY, 0, 3), open_(1, 0), one(TRY_WAIT, 1), one(TRY_WAIT, 1)
    ),
    "owner_close_unlinks_reader_keeps_data": ops(
        create(0, 0, 1),
        write(0, 5000, 42),
        open_(1, 0),
        one(CLOSE, 0),
        open_(2, 0),
        one(INSPECT, 0),
        read(1, 5000),
        create(3, 0),
        read(3, 5000),
        read(1, 5000),
        one(NOTIFY, 1),
        one(TRY_WAIT, 3),
    ),
    "create_existing_and_bad_capacity": ops(create(0, 0), create(1, 0), create(2, 1, 2), create(3, 1, 3)),
    "ref_counts_follow_opens_and_closes": ops(
        create(0, 1), open_(1, 1), open_(2, 1), open_(3, 1), one(INSPECT, 1), one(CLOSE, 2), one(INSPECT, 1)
    ),
    "calls_on_closed_handles": ops(
        create(0, 0),
        one(CLOSE, 0),
        one(TRY_WAIT, 0),
        one(WAIT0, 0),
        one(NOTIFY, 0),
        one(CLOSE, 0),
        read(0, 0),
        one(CHECK, 0),
    ),
    "notify_seq_wraps_around": ops(
        create(0, 0),
        open_(1, 0),
        (SEQ_JUMP, 0, 0),
        one(TRY_WAIT, 0),
        one(NOTIFY, 0),
        one(TRY_WAIT, 0),
        one(TRY_WAIT, 1),
        one(INSPECT, 0),
    ),
    "live_handles_report_capacity_name_and_spin": ops(
        create(0, 0, 1), (CHECK, 0, 50, 0), open_(1, 0), (CHECK, 1, 0, 0), (CHECK, 1, 0xFF, 0xFF), (CHECK, 0, 0, 0)
    ),
    "wrap_to_cursor_is_missed": ops(
        create(0, 0), open_(1, 0), (SEQ_JUMP, 0, 0), one(NOTIFY, 0), one(TRY_WAIT, 1), one(INSPECT, 0)
    ),
}


def write_target(target, seeds, dictionary=None):
    folder = CORPUS / target / "seeds"
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in seeds.items():
        (folder / name).write_bytes(data)
    if dictionary:
        lines = [f"# libFuzzer dictionary for the {target} target (fuzz/make_seeds.py)"]
        for key, value in dictionary:
            escaped = "".join(f"\\x{b:02x}" for b in value)
            lines.append(f'{key}="{escaped}"')
        (CORPUS / target / f"{target}.dict").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    write_target("header", HEADER, HEADER_DICT)
    write_target("name", NAME, NAME_DICT)
    write_target("api_sequence", API)
