"""Behaviours of the core that Python users rely on, checked from Python so
that a core which breaks them fails this suite too, not only the C++ one.

SharedRegion.wait() waits in slices against its own deadline, which would
hide a core whose zinc_wait misreads its timeout or whose notify wakes only
one sleeper: the wait tests here call the C functions through zinc._ffi.lib
and bound each call themselves.
"""

from __future__ import annotations

import errno
import os
import struct
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator, List, Optional

import pytest
from conftest import NameFactory, Peer, object_path

import zinc
from zinc._ffi import ffi, lib

PAGE = zinc.PAGE_SIZE
MAGIC = 0x5A494E435F524547
SLEEPERS_OFFSET = 80  # the waiter-count block's sleepers word (docs/spec.md §9.1)


class CHandles:
    """Raw C handles (zinc_create / zinc_open), all closed at the end."""

    def __init__(self) -> None:
        self.handles: List[Any] = []

    def create(self, name: str, capacity: int = PAGE) -> Any:
        out = ffi.new("ZincHandle *")
        assert lib.zinc_create(name.encode(), capacity, out) == 0
        self.handles.append(out[0])
        return out[0]

    def open(self, name: str) -> Any:
        out = ffi.new("ZincHandle *")
        assert lib.zinc_open(name.encode(), out) == 0
        self.handles.append(out[0])
        return out[0]

    def close_all(self) -> None:
        for handle in self.handles:
            lib.zinc_close(handle)
        self.handles.clear()


@pytest.fixture
def c_handles() -> Iterator[CHandles]:
    handles = CHandles()
    yield handles
    handles.close_all()


def sleepers(owner: Any) -> int:
    """How many counted handles sleep (or are about to) in a futex wait."""
    header = lib.zinc_ptr(owner) - PAGE
    return int(ffi.cast("uint32_t *", header + SLEEPERS_OFFSET)[0])


def wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.001)
    return condition()


# --- zinc_wait, called directly -------------------------------------------


@pytest.mark.parametrize("timeout_ms", [50, 250])
def test_c_wait_times_out_after_its_own_timeout(
    region_name: NameFactory, c_handles: CHandles, timeout_ms: int
) -> None:
    owner = c_handles.create(region_name())
    start = time.monotonic()
    assert lib.zinc_wait(owner, timeout_ms) == lib.ZINC_ETIMEDOUT
    elapsed = time.monotonic() - start
    # One call, so the core's own deadline: not shorter, and not far longer.
    assert 0.9 * timeout_ms / 1000 <= elapsed < timeout_ms / 1000 + 2.0


def test_c_wait_is_woken_by_a_notify_long_before_its_timeout(
    region_name: NameFactory, c_handles: CHandles
) -> None:
    name = region_name()
    owner = c_handles.create(name)
    reader = c_handles.open(name)
    assert lib.zinc_set_spin(reader, 0) == 0  # straight to the futex
    notifier = threading.Thread(
        target=lambda: (wait_for(lambda: sleepers(owner) == 1), lib.zinc_notify(owner))
    )
    notifier.start()
    start = time.monotonic()
    assert lib.zinc_wait(reader, 20000) == 0
    assert time.monotonic() - start < 5.0
    notifier.join()


def test_one_notify_wakes_every_sleeping_c_wait_promptly(
    region_name: NameFactory, c_handles: CHandles
) -> None:
    # Each waiter sleeps in one zinc_wait(20000) on its own handle; once all
    # four are asleep, one notify must wake each within 2 s. A notify that
    # woke only one would leave the others asleep to their deadline (and
    # they would still return 0 there, since notify_seq moved).
    name = region_name()
    owner = c_handles.create(name)
    readers = [c_handles.open(name) for _ in range(4)]
    returned: List[Optional[float]] = [None] * len(readers)
    codes: List[Optional[int]] = [None] * len(readers)

    def wait(index: int) -> None:
        codes[index] = int(lib.zinc_wait(readers[index], 20000))
        returned[index] = time.monotonic()

    for reader in readers:
        assert lib.zinc_set_spin(reader, 0) == 0
    threads = [threading.Thread(target=wait, args=(i,)) for i in range(len(readers))]
    for thread in threads:
        thread.start()
    assert wait_for(lambda: sleepers(owner) == len(readers)), "the waiters never fell asleep"
    notified = time.monotonic()
    lib.zinc_notify(owner)
    for thread in threads:
        thread.join(timeout=30)
    assert codes == [0] * len(readers)
    late = [round(t - notified, 3) for t in returned if t is None or t - notified >= 2.0]
    assert not late, f"waiters woke {late} s after the notify"


def test_timed_out_c_waits_leave_the_sleeper_count_as_they_found_it(
    region_name: NameFactory, c_handles: CHandles
) -> None:
    name = region_name()
    owner = c_handles.create(name)
    reader = c_handles.open(name)
    assert lib.zinc_set_spin(reader, 0) == 0
    assert sleepers(owner) == 0
    for timeout_ms in (1, 30, 30):
        assert lib.zinc_wait(reader, timeout_ms) == lib.ZINC_ETIMEDOUT
        assert sleepers(owner) == 0, f"after a wait({timeout_ms}) timed out"


# --- ref_count ------------------------------------------------------------


def ref_count(name: str) -> Optional[int]:
    (info,) = zinc.list_regions(name)
    return info.ref_count


def test_a_readers_close_gives_its_reference_back(region_name: NameFactory) -> None:
    name = region_name()
    with zinc.SharedRegion.create(name, PAGE):
        assert ref_count(name) == 1
        readers = [zinc.SharedRegion.open(name) for _ in range(3)]
        assert ref_count(name) == 4
        readers.pop().close()
        assert ref_count(name) == 3
        for reader in readers:
            reader.close()
        assert ref_count(name) == 1
        assert object_path(name).exists()  # a reader's close never unlinks


# --- stale regions ----------------------------------------------------------

# A creator that exits right after creating, without closing (os._exit runs
# no cleanup), so its name stays behind.
EXIT_WITHOUT_CLOSE = """
import os, sys, zinc
region = zinc.SharedRegion.create(sys.argv[1], zinc.PAGE_SIZE)
region.as_buffer()[0] = 7
print("ready", flush=True)
os._exit(0)
"""

# A creator that holds its region until killed.
HOLD = """
import sys, zinc
region = zinc.SharedRegion.create(sys.argv[1], zinc.PAGE_SIZE)
print("ready", flush=True)
sys.stdin.readline()
"""


def process_state(pid: int) -> str:
    """The state letter of /proc/<pid>/stat ("Z" for a zombie)."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat[stat.rindex(")") + 2]


@pytest.mark.parametrize("locks", [True, False], ids=["liveness_locks", "pid_rule"])
def test_an_unreaped_creator_is_dead_and_its_region_removable(
    region_name: NameFactory, peers: Callable[..., Peer], locks: bool
) -> None:
    name = region_name()
    creator = peers("-c", EXIT_WITHOUT_CLOSE, name)
    assert creator.readline().strip() == "ready"
    # Not reaped (nothing polls the Popen until teardown): a zombie whose pid
    # still exists.
    assert wait_for(lambda: process_state(creator.process.pid) == "Z")
    if not locks:
        # As the original implementation makes a region: flags 0, so judges
        # read the creator's pid (docs/spec.md section 4.4), where a zombie's
        # pid still exists; with the flag its released lock says it all.
        with open(object_path(name), "r+b") as header:
            header.seek(10)  # flags, u16 (section 3.1)
            assert header.read(2) == b"\x01\x00"
            header.seek(10)
            header.write(b"\0\0")
    (info,) = zinc.list_regions(name)
    assert info.owner_pid == creator.process.pid
    assert (info.creator, info.status, info.mapped_by) == ("dead", "stale", ())
    assert lib.zinc_creator_state(name.encode()) == lib.ZINC_CREATOR_DEAD
    with zinc.SharedRegion.create(name, PAGE, replace_stale=True) as region:
        assert region.as_buffer()[0] == 0  # a new region replaced the zombie's
    assert process_state(creator.process.pid) == "Z"  # still unreaped throughout


def test_remove_stale_if_unmapped_keeps_a_region_a_reader_still_maps(
    region_name: NameFactory, peers: Callable[..., Peer]
) -> None:
    name = region_name()
    creator = peers("-c", HOLD, name)
    assert creator.readline().strip() == "ready"
    reader = zinc.SharedRegion.open(name)
    creator.kill()  # SIGKILL and reap: the creator is gone, the name stays
    try:
        (info,) = zinc.list_regions(name)
        assert (info.creator, info.status, info.mapped_by) == ("dead", "orphaned", (os.getpid(),))
        flags = lib.ZINC_REMOVE_IF_UNMAPPED
        assert lib.zinc_remove_stale(name.encode(), flags) == lib.ZINC_EBUSY
        message = ffi.string(lib.zinc_last_error_message()).decode()
        assert f"pid {os.getpid()} still maps it" in message
        assert object_path(name).exists()
    finally:
        reader.close()
    assert lib.zinc_remove_stale(name.encode(), lib.ZINC_REMOVE_IF_UNMAPPED) == 0
    assert not object_path(name).exists()


# --- the header's u64 capacity and its other fields -------------------------


def test_a_region_of_more_than_4_gib_keeps_its_whole_capacity(region_name: NameFactory) -> None:
    # Sparse (reserve=False): it costs /dev/shm the pages written, not 4 GiB.
    name = region_name()
    capacity = 2**32 + PAGE
    with zinc.SharedRegion.create(name, capacity, reserve=False) as owner:
        assert owner.capacity == capacity
        with zinc.SharedRegion.open(name) as reader:
            assert reader.capacity == capacity
            owner.as_buffer()[capacity - 1] = 0x5A
            assert reader.as_buffer()[capacity - 1] == 0x5A
        (info,) = zinc.list_regions(name)
        assert info.capacity == capacity and info.status == "live"


def plant(name: str, version: int = 2, capacity: int = PAGE, flags: int = 0) -> None:
    """A one-data-page region image written straight to /dev/shm."""
    header = struct.pack(
        "<QHHIQIiQQ",
        MAGIC,
        version,
        flags,
        0,
        capacity,
        1,
        os.getpid(),
        time.time_ns(),
        lib.zinc_name_hash(name.encode()),
    )
    object_path(name).write_bytes(header.ljust(2 * PAGE, b"\0"))


def test_a_planted_valid_header_opens(region_name: NameFactory) -> None:
    # The control for the tests below: only the damaged field differs.
    name = region_name()
    plant(name)
    with zinc.SharedRegion.open(name) as region:
        assert region.capacity == PAGE


@pytest.mark.parametrize(
    "field",
    [
        {"version": 1},
        {"version": 3},
        {"capacity": 2**32 + PAGE},
        {"capacity": 2**63 + PAGE},
        # bit 0 is ZINC_HEADER_FLAG_LOCKS (docs/spec.md section 4.5)
        *({"flags": 1 << bit} for bit in range(1, 16)),
    ],
    ids=lambda field: "-".join(f"{k}_{v:#x}" for k, v in field.items()),
)
def test_open_refuses_each_field_out_of_its_range(
    region_name: NameFactory, field: dict[str, int]
) -> None:
    name = region_name()
    plant(name, **field)
    before = object_path(name).read_bytes()
    with pytest.raises(OSError) as info:
        zinc.SharedRegion.open(name)
    assert info.value.errno == errno.EBADMSG, info.value
    assert object_path(name).read_bytes() == before  # nothing changed, ref_count too
