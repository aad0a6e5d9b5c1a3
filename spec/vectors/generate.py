#!/usr/bin/env python3
"""Generates the zinc test vectors in this folder from the rules of docs/spec.md.

    python3 spec/vectors/generate.py           # rewrite the vectors
    python3 spec/vectors/generate.py --check   # exit 1 if the files on disk are stale

Each vector states the result it is meant to have; the generator also computes
the result with its own implementation of the spec's rules (validate() below)
and refuses to write a vector on which the two disagree. The format of the
files is described in README.md. Standard library only.
"""

from __future__ import annotations

import argparse
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent

MAGIC = 0x5A494E435F524547
FLAG_LOCKS = 0x0001  # ZINC_HEADER_FLAG_LOCKS (section 4.5)
VERSION = 2
HEADER_SIZE = 64
MAX_NAME_LEN = 250
NAME_BYTES = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-"
PAGE = 4096
PAGE_16K = 16384
DEFAULT_NAME = "vector"  # the name whose FNV-1a the open images carry

OK, EAGAIN, EINVAL, EBADMSG = 0, -11, -22, -74
RESULT_OF_CODE = {OK: "ok", EAGAIN: "not_ready", EBADMSG: "corrupted", EINVAL: "invalid"}


def fnv1a64(data: bytes) -> int:
    value = 0xCBF29CE484222325
    for byte in data:
        value ^= byte
        value = (value * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return value


@dataclass
class Header:
    magic: int = MAGIC
    version: int = VERSION
    flags: int = 0
    notify_seq: int = 0
    capacity: int = PAGE
    ref_count: int = 1
    owner_pid: int = 4242
    created_at: int = 1_700_000_000_000_000_000
    name_hash: int = fnv1a64(DEFAULT_NAME.encode())
    ring_head: int = 0
    ring_tail: int = 0

    def pack(self) -> bytes:
        return struct.pack(
            "<QHHIQIiQQQQ",
            self.magic,
            self.version,
            self.flags,
            self.notify_seq,
            self.capacity,
            self.ref_count,
            self.owner_pid,
            self.created_at,
            self.name_hash,
            self.ring_head,
            self.ring_tail,
        )


def validate(image: bytes, object_size: int, page: int, name: bytes | None) -> tuple[int, str]:
    """What opening this object must return (docs/spec.md §4.2), with why.

    `image` is the start of the object; the object is `image` resized to
    `object_size` (zero-filled). `name` is the name it is opened under (None:
    name_hash is not checked, as zinc_check_header does).
    """
    if object_size == 0:
        return EAGAIN, "the object is empty: its creator has not sized it yet"
    if object_size < 2 * page:
        return EBADMSG, f"object size {object_size} is less than two pages ({2 * page})"
    if object_size % page:
        return EBADMSG, f"object size {object_size} is not a multiple of the page size {page}"
    if object_size > 2**63 - 1:
        return EBADMSG, f"object size {object_size} is larger than any address space"
    data = (image + bytes(HEADER_SIZE))[:HEADER_SIZE]
    magic, version, flags, _seq, capacity, ref_count = struct.unpack_from("<QHHIQI", data)
    name_hash = struct.unpack_from("<Q", data, 40)[0]
    if magic == 0:
        return EAGAIN, "magic is 0: the header is not published yet"
    if magic != MAGIC:
        return EBADMSG, f"magic {magic:#018x} is not {MAGIC:#018x}"
    if version != VERSION:
        return EBADMSG, f"version {version} is not {VERSION}"
    if flags & ~FLAG_LOCKS:
        return EBADMSG, f"flags {flags:#06x}: only bit 0 (ZINC_HEADER_FLAG_LOCKS) is defined [reference]"
    if capacity != object_size - page:
        return EBADMSG, f"capacity {capacity} is not object size - page ({object_size - page})"
    if name is not None and name_hash != fnv1a64(name):
        return EBADMSG, "name_hash is not FNV-1a 64 of the name [reference]"
    if ref_count in (0, 0xFFFFFFFF):
        return EBADMSG, f"ref_count {ref_count} is impossible for a live region"
    return OK, "a valid region"


@dataclass
class OpenVector:
    id: str
    klass: str  # "required" or "extension"
    expected: int
    image: bytes
    object_size: int
    page_size: int = PAGE
    name_hash: str = "fix"  # "fix": rewrite to the name opened under; "keep": leave as is
    also_accepted: tuple[int, ...] = ()


@dataclass
class CreateVector:
    id: str
    name: bytes
    capacity: int
    expected: int
    page_size: int = PAGE
    reason: str = ""
    varies: list[str] = field(default_factory=list)


def header(**fields: int) -> bytes:
    return Header(**fields).pack()


def open_vectors() -> list[OpenVector]:
    P = PAGE
    padded_page = bytearray(header(capacity=P) + bytes(P - HEADER_SIZE))
    for i in range(HEADER_SIZE, P):
        padded_page[i] = 0xA5
    original = (EBADMSG,)  # what the original implementation returned instead of -11
    return [
        # Valid regions.
        OpenVector("ok_one_data_page", "required", OK, header(capacity=P), 2 * P),
        OpenVector("ok_three_data_pages", "required", OK, header(capacity=3 * P), 4 * P),
        OpenVector(
            "ok_diagnostic_fields_ignored",
            "required",
            OK,
            header(
                capacity=P,
                notify_seq=0xFFFFFFFE,
                owner_pid=-1,
                created_at=2**64 - 1,
                ring_head=1,
                ring_tail=2,
            ),
            2 * P,
        ),
        OpenVector("ok_nonzero_padding", "required", OK, bytes(padded_page), 2 * P),
        # A creator that holds liveness locks (section 4.5) sets flag bit 0;
        # every port opens such a region (the original never reads flags).
        OpenVector("ok_flag_liveness_locks", "required", OK, header(capacity=P, flags=0x0001), 2 * P),
        OpenVector(
            "ok_ref_count_high", "required", OK, header(capacity=P, ref_count=0xFFFFFFFE), 2 * P
        ),
        OpenVector(
            "ok_16k_pages",
            "required",
            OK,
            header(capacity=PAGE_16K),
            2 * PAGE_16K,
            page_size=PAGE_16K,
        ),
        # Not ready yet: the creator is between shm_open and publishing the magic.
        OpenVector("not_ready_empty_object", "required", EAGAIN, b"", 0, also_accepted=original),
        OpenVector(
            "not_ready_magic_zero",
            "required",
            EAGAIN,
            header(magic=0),
            2 * P,
            also_accepted=original,
        ),
        OpenVector(
            "not_ready_all_zero",
            "required",
            EAGAIN,
            bytes(HEADER_SIZE),
            2 * P,
            also_accepted=original,
        ),
        # Corrupted: magic and version.
        OpenVector(
            "corrupt_bad_magic", "required", EBADMSG, header(magic=0x0123456789ABCDEF), 2 * P
        ),
        OpenVector(
            "corrupt_magic_big_endian",
            "required",
            EBADMSG,
            header(magic=int.from_bytes(MAGIC.to_bytes(8, "little"), "big")),
            2 * P,
        ),
        OpenVector("corrupt_magic_one_bit", "required", EBADMSG, header(magic=MAGIC ^ 1), 2 * P),
        OpenVector("corrupt_version_0", "required", EBADMSG, header(version=0), 2 * P),
        OpenVector("corrupt_version_1", "required", EBADMSG, header(version=1), 2 * P),
        OpenVector("corrupt_version_3", "required", EBADMSG, header(version=3), 2 * P),
        OpenVector(
            "corrupt_version_big_endian", "required", EBADMSG, header(version=0x0200), 2 * P
        ),
        # Corrupted: capacity against the object size.
        OpenVector("corrupt_capacity_zero", "required", EBADMSG, header(capacity=0), 2 * P),
        OpenVector(
            "corrupt_capacity_too_large", "required", EBADMSG, header(capacity=2 * P), 2 * P
        ),
        OpenVector("corrupt_capacity_too_small", "required", EBADMSG, header(capacity=P), 3 * P),
        OpenVector(
            "corrupt_capacity_big_endian",
            "required",
            EBADMSG,
            header(capacity=int.from_bytes(P.to_bytes(8, "little"), "big")),
            2 * P,
        ),
        # The capacity is a u64: right in its low 32 bits, wrong in its high ones.
        OpenVector(
            "corrupt_capacity_off_by_2_pow_32",
            "required",
            EBADMSG,
            header(capacity=2**32 + P),
            2 * P,
        ),
        # Corrupted: ref_count values only corruption produces.
        OpenVector("corrupt_ref_count_zero", "required", EBADMSG, header(ref_count=0), 2 * P),
        OpenVector(
            "corrupt_ref_count_max", "required", EBADMSG, header(ref_count=0xFFFFFFFF), 2 * P
        ),
        # Corrupted: object sizes (checked before anything is mapped).
        OpenVector("corrupt_one_page_object", "required", EBADMSG, header(capacity=0), P),
        OpenVector("corrupt_one_byte_object", "required", EBADMSG, header(capacity=P)[:1], 1),
        OpenVector("corrupt_truncated_header", "required", EBADMSG, header(capacity=P)[:40], 40),
        OpenVector("corrupt_header_only", "required", EBADMSG, header(capacity=P), HEADER_SIZE),
        OpenVector(
            "corrupt_size_not_whole_pages",
            "required",
            EBADMSG,
            header(capacity=P + 100),
            2 * P + 100,
        ),
        OpenVector(
            "corrupt_size_one_byte_short", "required", EBADMSG, header(capacity=P - 1), 2 * P - 1
        ),
        OpenVector(
            "corrupt_magic_zero_with_bad_size",
            "required",
            EBADMSG,
            header(magic=0, capacity=P + 1),
            2 * P + 1,
        ),
        OpenVector(
            "corrupt_unaddressable_size", "required", EBADMSG, header(capacity=2**63 - P), 2**63
        ),
        # The page size is not in the header: every participant must use the same one.
        OpenVector(
            "corrupt_16k_region_with_4k_pages",
            "required",
            EBADMSG,
            header(capacity=PAGE_16K),
            2 * PAGE_16K,
        ),
        OpenVector(
            "corrupt_4k_region_with_16k_pages",
            "required",
            EBADMSG,
            header(capacity=P),
            2 * P,
            page_size=PAGE_16K,
        ),
        # What only the reference refuses.
        OpenVector("corrupt_flags_bit_1", "extension", EBADMSG, header(flags=0x0002), 2 * P),
        OpenVector("corrupt_flags_locks_and_bit_15", "extension", EBADMSG, header(flags=0x8001), 2 * P),
        OpenVector("corrupt_flags_bit_15", "extension", EBADMSG, header(flags=0x8000), 2 * P),
        OpenVector(
            "corrupt_name_hash_mismatch",
            "extension",
            EBADMSG,
            header(name_hash=fnv1a64(b"another-region")),
            2 * P,
            name_hash="keep",
        ),
    ]


def valid_name(name: bytes) -> bool:
    return 0 < len(name) <= MAX_NAME_LEN and all(b in NAME_BYTES for b in name)


def create_result(name: bytes, capacity: int, page: int) -> tuple[int, str]:
    """What zinc_create(name, capacity) must return (docs/spec.md §2, §4.1)."""
    if not valid_name(name):
        return EINVAL, "the name breaks the name rule ([A-Za-z0-9_-], 1..250 bytes)"
    if page + capacity > 2**63 - 1:
        return EINVAL, "page + capacity overflows or exceeds the largest signed size"
    if capacity == 0:
        return EINVAL, "capacity is 0"
    if capacity % page:
        return EINVAL, f"capacity {capacity} is not a multiple of the page size {page}"
    return OK, "a new region"


def create_vectors() -> list[CreateVector]:
    P = PAGE
    # flags: 0, or ZINC_HEADER_FLAG_LOCKS from a creator that holds the
    # liveness locks (section 4.5); the kit checks which, and the locks.
    varies = ["owner_pid", "created_at", "flags"]
    return [
        CreateVector("create_one_page", b"my-data", P, OK, varies=varies),
        CreateVector("create_three_pages", b"test", 3 * P, OK, varies=varies),
        CreateVector("create_one_byte_name", b"a", P, OK, varies=varies),
        CreateVector("create_every_name_byte", NAME_BYTES, P, OK, varies=varies),
        CreateVector("create_250_byte_name", b"n" * 250, P, OK, varies=varies),
        CreateVector(
            "create_16k_pages", b"my-data", PAGE_16K, OK, page_size=PAGE_16K, varies=varies
        ),
        CreateVector("reject_capacity_zero", b"my-data", 0, EINVAL),
        CreateVector("reject_capacity_page_minus_one", b"my-data", P - 1, EINVAL),
        CreateVector("reject_capacity_page_plus_one", b"my-data", P + 1, EINVAL),
        CreateVector("reject_capacity_half_page", b"my-data", P // 2, EINVAL),
        CreateVector("reject_capacity_5000", b"my-data", 5000, EINVAL),
        CreateVector("reject_capacity_overflowing", b"my-data", 2**64 - P, EINVAL),
        CreateVector("reject_capacity_max", b"my-data", 2**64 - 1, EINVAL),
        CreateVector("reject_capacity_past_signed", b"my-data", 2**63, EINVAL),
        CreateVector("reject_name_empty", b"", P, EINVAL),
        CreateVector("reject_name_leading_slash", b"/my-data", P, EINVAL),
        CreateVector("reject_name_slash", b"my/data", P, EINVAL),
        CreateVector("reject_name_dot", b"my.data", P, EINVAL),
        CreateVector("reject_name_dot_dot", b"..", P, EINVAL),
        CreateVector("reject_name_space", b"my data", P, EINVAL),
        CreateVector("reject_name_non_ascii", "café".encode(), P, EINVAL),
        CreateVector("reject_name_invalid_utf8", b"\xff\xfe", P, EINVAL),
        CreateVector("reject_name_251_bytes", b"n" * 251, P, EINVAL),
    ]


def escape_name(name: bytes) -> str:
    """Printable ASCII as is; backslash, tab, controls and bytes >= 0x7f as \\xNN."""
    out = []
    for byte in name:
        if 0x20 <= byte < 0x7F and byte != 0x5C:
            out.append(chr(byte))
        else:
            out.append(f"\\x{byte:02x}")
    return "".join(out)


def build() -> dict[str, bytes]:
    """Every file of the vector set, by path relative to this folder."""
    files: dict[str, bytes] = {}

    columns = [
        "id",
        "class",
        "page_size",
        "object_size",
        "image",
        "name_hash",
        "result",
        "code",
        "also_accepted",
        "header_code",
        "reason",
    ]
    rows = ["\t".join(columns)]
    for v in open_vectors():
        opened_as = b"some-name" if v.name_hash == "keep" else None
        image = v.image
        if v.name_hash == "fix" and len(image) >= 48:
            opened_as = DEFAULT_NAME.encode()
        code, reason = validate(image, v.object_size, v.page_size, opened_as)
        if code != v.expected:
            raise SystemExit(f"vector {v.id}: meant {v.expected}, the rules give {code} ({reason})")
        # zinc_check_header has no name to compare name_hash with.
        header_code, _ = validate(image, v.object_size, v.page_size, None)
        path = f"open/{v.id}.bin"
        files[path] = image
        also = ",".join(str(c) for c in v.also_accepted) or "-"
        rows.append(
            f"{v.id}\t{v.klass}\t{v.page_size}\t{v.object_size}\t{path}\t{v.name_hash}\t"
            f"{RESULT_OF_CODE[code]}\t{code}\t{also}\t{header_code}\t{reason}"
        )
    files["open.tsv"] = ("\n".join(rows) + "\n").encode()

    rows = [
        "id\tclass\tpage_size\tname\tcapacity\tresult\tcode\theader\tobject_size\tvaries\treason"
    ]
    for v in create_vectors():
        code, reason = create_result(v.name, v.capacity, v.page_size)
        if code != v.expected:
            raise SystemExit(f"vector {v.id}: meant {v.expected}, the rules give {code} ({reason})")
        header_path, object_size = "-", "-"
        if code == OK:
            header_path = f"create/{v.id}.bin"
            # owner_pid and created_at vary per run: 0 here, listed in `varies`.
            files[header_path] = Header(
                capacity=v.capacity, owner_pid=0, created_at=0, name_hash=fnv1a64(v.name)
            ).pack()
            object_size = str(v.page_size + v.capacity)
        rows.append(
            f"{v.id}\trequired\t{v.page_size}\t{escape_name(v.name)}\t{v.capacity}\t"
            f"{RESULT_OF_CODE[code]}\t{code}\t{header_path}\t{object_size}\t"
            f"{','.join(v.varies) or '-'}\t{reason}"
        )
    files["create.tsv"] = ("\n".join(rows) + "\n").encode()

    names = [b"my-data", b"test", b"a", b"", b"vector", b"another-region", NAME_BYTES, b"n" * 250]
    rows = ["name\tfnv1a64"] + [f"{escape_name(n)}\t{fnv1a64(n):016x}" for n in names]
    files["names.tsv"] = ("\n".join(rows) + "\n").encode()
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the files on disk")
    parser.add_argument("--out", type=Path, default=HERE, help="folder to write (default: here)")
    args = parser.parse_args()
    files = build()
    generated_dirs = ("open", "create")
    if args.check:
        stale = []
        for path, content in files.items():
            target = args.out / path
            if not target.exists():
                stale.append(f"missing: {path}")
            elif target.read_bytes() != content:
                stale.append(f"differs: {path}")
        for folder in generated_dirs:
            for target in sorted((args.out / folder).glob("*")):
                if f"{folder}/{target.name}" not in files:
                    stale.append(f"not generated: {folder}/{target.name}")
        if stale:
            print("spec/vectors is stale; run python3 spec/vectors/generate.py", file=sys.stderr)
            print("\n".join(stale), file=sys.stderr)
            return 1
        print(f"spec/vectors is up to date ({len(files)} files)")
        return 0
    for folder in generated_dirs:
        (args.out / folder).mkdir(parents=True, exist_ok=True)
        for target in (args.out / folder).glob("*"):
            if f"{folder}/{target.name}" not in files:
                target.unlink()
    for path, content in files.items():
        (args.out / path).write_bytes(content)
    print(f"wrote {len(files)} files to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
