#!/usr/bin/env python3
"""Writes the hand-made seeds of fuzz/corpus/stale/seeds/, one file per
scenario, named after it (docs/spec.md section 4.4). Inputs the fuzzer found
later (scripts/fuzz --merge) live beside them under their hash names.
Re-running this script rewrites only the hand-made seeds. Input format:
control byte, remove_stale flags, size byte, the object's first bytes (see
fuzz/stale_target.cpp)."""

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from make_seeds import header, waiter_count  # noqa: E402

SEEDS = pathlib.Path(__file__).resolve().parent / "corpus" / "stale" / "seeds"

VALID = 1
LIVE, DEAD, UNKNOWN = 0 << 1, 1 << 1, 2 << 1
MAPPED = 8
LONG_AGO, NOW, FUTURE, AS_GIVEN = 0 << 4, 1 << 4, 2 << 4, 3 << 4
IF_UNMAPPED, DRY_RUN, INVALID, FORCE = 1, 2, 4, 8
EMPTY, TWO_PAGES, TWO_PAGES_AND_100 = 0, 2, 7


def seed(control, flags=0, size=TWO_PAGES, content=header()):
    return bytes([control, flags, size]) + content


SEEDS_BY_NAME = {
    "dead_creator_removed": seed(VALID | DEAD | NOW),
    "dead_creator_dry_run_keeps_it": seed(VALID | DEAD | NOW, DRY_RUN),
    "dead_creator_mapped_if_unmapped_refused": seed(VALID | DEAD | NOW | MAPPED, IF_UNMAPPED),
    "dead_creator_mapped_removed_by_default": seed(VALID | DEAD | NOW | MAPPED),
    "live_creator_refused": seed(VALID | LIVE | NOW),
    "live_creator_forced": seed(VALID | LIVE | NOW, FORCE),
    "live_creator_forced_but_mapped_if_unmapped": seed(
        VALID | LIVE | NOW | MAPPED, FORCE | IF_UNMAPPED
    ),
    "own_pid_created_long_ago_is_reused": seed(VALID | LIVE | LONG_AGO),
    "own_pid_created_long_ago_mapped_is_alive": seed(VALID | LIVE | LONG_AGO | MAPPED),
    "own_pid_created_in_the_future": seed(VALID | LIVE | FUTURE),
    "owner_pid_negative_unknown": seed(VALID | UNKNOWN | NOW, 0, TWO_PAGES, header(pid=-5)),
    "owner_pid_zero_unknown_forced": seed(VALID | UNKNOWN | NOW, FORCE, TWO_PAGES, header(pid=0)),
    "unfinished_empty_object": seed(DEAD, 0, EMPTY, b""),
    "unfinished_empty_object_held_open_remove_invalid": seed(DEAD | MAPPED, INVALID, EMPTY, b""),
    "unfinished_magic_zero": seed(DEAD | NOW, 0, TWO_PAGES, header(magic=0)),
    "unfinished_magic_zero_remove_invalid": seed(DEAD | NOW, INVALID, TWO_PAGES, header(magic=0)),
    "corrupted_version_3_mapped_remove_invalid": seed(
        DEAD | NOW | MAPPED, INVALID, TWO_PAGES, header(version=3)
    ),
    "size_not_a_page_multiple": seed(VALID | DEAD | NOW, 0, TWO_PAGES_AND_100),
    "unknown_flags": seed(VALID | DEAD | NOW, 16),
    "dead_creator_with_waiter_count_block": seed(
        VALID | DEAD | AS_GIVEN, 0, TWO_PAGES, header() + waiter_count(counted=1)
    ),
}


def main():
    SEEDS.mkdir(parents=True, exist_ok=True)
    for name, data in SEEDS_BY_NAME.items():
        (SEEDS / name).write_bytes(data)


if __name__ == "__main__":
    main()
