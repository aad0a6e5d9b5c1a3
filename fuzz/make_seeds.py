#!/usr/bin/env python3
"""Writes the hand-made seeds of fuzz/corpus/<target>/seeds/, one file per
scenario, named after it. Inputs the fuzzer found later (scripts/fuzz
--merge) live beside them under their hash names. Re-running this script
rewrites only the hand-made seeds. The page size is assumed to be 4096 (the
seeds still decode on other systems; they just test other branches).

    fuzz/make_seeds.py           write the seeds
    fuzz/make_seeds.py --check   fail if a seed is stale or a header field
                                 boundary (FIELD_BOUNDARIES) has no seed"""

import pathlib
import struct
import sys

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
        "<QHHIQIiQQQQ",
        magic,
        version,
        flags,
        seq,
        capacity,
        ref_count,
        pid,
        created_at,
        name_hash,
        0,
        ring_tail,
    )


# --- header: control byte, object size (u32), object bytes -----------------
FIX_HASH = 1
OTHER_GEOMETRY = 2


def geometry(page_exponent):
    """Control bits that also check zinc_check_header with page 2^exponent."""
    return FIX_HASH | OTHER_GEOMETRY | page_exponent << 2


def header_seed(size, content, control=FIX_HASH):
    return struct.pack("<BI", control, size) + content


WAITER_COUNT_MAGIC = 0x5A494E435F574354
CREATED_AT = 1_700_000_000_000_000_000


def waiter_count(counted=0, sleepers=0, tag=WAITER_COUNT_MAGIC ^ CREATED_AT):
    """The waiter-count block (docs/spec.md section 9) after a header made
    with the default created_at: in force with the right tag."""
    return struct.pack("<QQI", tag, counted, sleepers).ljust(64, b"\0")


HEADER = {
    "valid_one_page_region": header_seed(2 * PAGE, header()),
    "waiter_count_in_force_one_counted_handle": header_seed(
        2 * PAGE, header() + waiter_count(counted=1)
    ),
    "waiter_count_sleepers_impossible": header_seed(
        2 * PAGE, header() + waiter_count(counted=(7 << 32) | 3, sleepers=1 << 24)
    ),
    "waiter_count_counted_handles_at_wrap": header_seed(
        2 * PAGE, header() + waiter_count(counted=0xFFFFFFFFFFFFFFFF, sleepers=0xFFFFFFFF)
    ),
    "waiter_count_tag_of_another_creation": header_seed(
        2 * PAGE, header() + waiter_count(counted=2, tag=WAITER_COUNT_MAGIC)
    ),
    "valid_two_page_region_with_data": header_seed(
        3 * PAGE, header(capacity=2 * PAGE).ljust(PAGE, b"\0") + b"payload bytes"
    ),
    "valid_with_pending_notification": header_seed(2 * PAGE, header(seq=5)),
    "valid_notify_seq_at_wrap": header_seed(2 * PAGE, header(seq=0xFFFFFFFF)),
    "valid_ref_count_one_below_max": header_seed(
        2 * PAGE, header(ref_count=0xFFFFFFFE)
    ),
    "name_hash_of_another_name": header_seed(
        2 * PAGE, header(name_hash=0xA2C98045CDC80BEA), control=0
    ),
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
    "geometry_page_2_pow_63": header_seed(
        2 * PAGE, header(capacity=1 << 63, ring_tail=1 << 63), control=geometry(63)
    ),
    "geometry_page_not_power_of_two": header_seed(
        2 * PAGE, header(ring_tail=2 * PAGE), control=geometry(3)
    ),
    "geometry_size_beyond_ptrdiff": header_seed(
        2 * PAGE,
        header(capacity=(1 << 64) - 2 * PAGE, ring_tail=(1 << 64) - PAGE),
        control=geometry(12),
    ),
    # Every field at its boundaries (FIELD_BOUNDARIES below checks they stay).
    "format_version_3": header_seed(2 * PAGE, header(version=3)),
    "format_version_max": header_seed(2 * PAGE, header(version=0xFFFF)),
    # The capacity is a u64: right in its low 32 bits, wrong in its high ones.
    "capacity_off_by_2_pow_32": header_seed(
        2 * PAGE, header(capacity=(1 << 32) + PAGE)
    ),
    "capacity_off_by_2_pow_63": header_seed(
        2 * PAGE, header(capacity=(1 << 63) + PAGE)
    ),
    # Objects too large to plant, checked by zinc_check_header alone.
    "geometry_capacity_2_pow_32_valid": header_seed(
        2 * PAGE,
        header(capacity=1 << 32, ring_tail=(1 << 32) + PAGE),
        control=geometry(12),
    ),
    "geometry_capacity_above_2_pow_32_valid": header_seed(
        2 * PAGE,
        header(capacity=(1 << 32) + PAGE, ring_tail=(1 << 32) + 2 * PAGE),
        control=geometry(12),
    ),
    "geometry_capacity_2_pow_32_for_one_page": header_seed(
        2 * PAGE,
        header(capacity=(1 << 32) + PAGE, ring_tail=2 * PAGE),
        control=geometry(12),
    ),
    **{
        f"flag_bit_{bit}": header_seed(2 * PAGE, header(flags=1 << bit))
        for bit in range(1, 16)
    },
}

# The boundary of each header field that the replay of the seeds must reach
# (a parser that accepts version 3, or reads the capacity as 32 bits, fails
# the replay): (what, predicate over (control, object size, header fields)).
HEADER_FIELDS = (
    "magic",
    "version",
    "flags",
    "seq",
    "capacity",
    "ref_count",
    "pid",
    "created_at",
    "name_hash",
)
FIELD_BOUNDARIES = [
    ("version 1", lambda c, size, f: f["version"] == 1),
    ("version 2", lambda c, size, f: f["version"] == 2),
    ("version 3", lambda c, size, f: f["version"] == 3),
    (
        "capacity at 2^32 (other geometry)",
        lambda c, size, f: c & OTHER_GEOMETRY and f["capacity"] == 1 << 32,
    ),
    (
        "capacity above 2^32 (other geometry)",
        lambda c, size, f: c & OTHER_GEOMETRY and f["capacity"] > 1 << 32,
    ),
    (
        "capacity right in its low 32 bits only",
        lambda c, size, f: (
            f["capacity"] > 1 << 32 and f["capacity"] % (1 << 32) == size - PAGE
        ),
    ),
    ("ref_count 0", lambda c, size, f: f["ref_count"] == 0),
    ("ref_count 2^32-1", lambda c, size, f: f["ref_count"] == 0xFFFFFFFF),
    ("ref_count 2^32-2", lambda c, size, f: f["ref_count"] == 0xFFFFFFFE),
    ("magic 0", lambda c, size, f: f["magic"] == 0),
    ("notify_seq 2^32-1", lambda c, size, f: f["seq"] == 0xFFFFFFFF),
    *(
        (f"flag bit {bit}", lambda c, size, f, bit=bit: f["flags"] == 1 << bit)
        for bit in range(16)
    ),
]


def decode_header_seed(data):
    """(control, object size, header fields) of a header seed."""
    control, size = struct.unpack_from("<BI", data)
    content = data[5:69].ljust(64, b"\0")
    values = struct.unpack("<QHHIQIiQQ", content[:48])
    return control, size, dict(zip(HEADER_FIELDS, values))


def missing_boundaries(folder):
    """The FIELD_BOUNDARIES no seed in `folder` reaches."""
    seeds = [
        decode_header_seed(p.read_bytes())
        for p in sorted(folder.iterdir())
        if p.is_file()
    ]
    return [
        what
        for what, reached in FIELD_BOUNDARIES
        if not any(reached(*s) for s in seeds)
    ]


HEADER_DICT = [
    ("magic", struct.pack("<Q", MAGIC)),
    ("version_2", b"\x02\x00"),
    ("capacity_one_page", struct.pack("<Q", PAGE)),
    ("size_two_pages", struct.pack("<I", 2 * PAGE)),
    ("size_three_pages", struct.pack("<I", 3 * PAGE)),
    ("ref_count_one", struct.pack("<I", 1)),
    ("all_ones_32", b"\xff\xff\xff\xff"),
    # The waiter-count block right after the header (docs/spec.md section 9):
    # its tag is this magic XOR created_at, so the plain magic is the tag
    # where created_at is 0.
    ("waiter_count_magic", struct.pack("<Q", 0x5A494E435F574354)),
    ("created_at_zero", struct.pack("<Q", 0)),
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
        create(0, 0),
        (NOTIFY_MANY, 0, 3),
        open_(1, 0),
        one(TRY_WAIT, 1),
        one(TRY_WAIT, 1),
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
    "create_existing_and_bad_capacity": ops(
        create(0, 0), create(1, 0), create(2, 1, 2), create(3, 1, 3)
    ),
    "ref_counts_follow_opens_and_closes": ops(
        create(0, 1),
        open_(1, 1),
        open_(2, 1),
        open_(3, 1),
        one(INSPECT, 1),
        one(CLOSE, 2),
        one(INSPECT, 1),
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
        create(0, 0, 1),
        (CHECK, 0, 50, 0),
        open_(1, 0),
        (CHECK, 1, 0, 0),
        (CHECK, 1, 0xFF, 0xFF),
        (CHECK, 0, 0, 0),
    ),
    "wrap_to_cursor_is_missed": ops(
        create(0, 0),
        open_(1, 0),
        (SEQ_JUMP, 0, 0),
        one(NOTIFY, 0),
        one(TRY_WAIT, 1),
        one(INSPECT, 0),
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


def stale_seeds():
    """Hand-made seeds whose file differs from (or lacks) what this script writes."""
    stale = []
    for target, seeds in (("header", HEADER), ("name", NAME), ("api_sequence", API)):
        for name, data in seeds.items():
            path = CORPUS / target / "seeds" / name
            if not path.is_file() or path.read_bytes() != data:
                stale.append(f"{target}/seeds/{name}")
    return stale


def check():
    """--check: the committed seeds are this script's, and they reach every
    header field boundary. Returns the exit status."""
    problems = [
        f"{seed} is missing or stale: run fuzz/make_seeds.py" for seed in stale_seeds()
    ]
    problems += [
        f"no header seed reaches {what}"
        for what in missing_boundaries(CORPUS / "header" / "seeds")
    ]
    for problem in problems:
        print(problem)
    if not problems:
        print(
            f"seeds up to date; the header seeds reach all {len(FIELD_BOUNDARIES)} field boundaries"
        )
    return 1 if problems else 0


if __name__ == "__main__":
    if sys.argv[1:] == ["--check"]:
        sys.exit(check())
    write_target("header", HEADER, HEADER_DICT)
    write_target("name", NAME, NAME_DICT)
    write_target("api_sequence", API)
