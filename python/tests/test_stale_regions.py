"""Crash recovery: SharedRegion.create(replace_stale=True) and zinc.list_regions()."""

from __future__ import annotations

import errno
import os
from typing import Callable

import pytest
from conftest import NameFactory, Peer, object_path

import zinc

# A creator in another process that holds its region until killed.
HOLDER = """
import sys, zinc
region = zinc.SharedRegion.create(sys.argv[1], zinc.PAGE_SIZE)
region.as_buffer()[0] = 7
print("ready", flush=True)
sys.stdin.readline()
"""


def start_creator(peers: Callable[..., Peer], name: str) -> Peer:
    peer = peers("-c", HOLDER, name)
    assert peer.readline().strip() == "ready"
    return peer


def kill_creator(peer: Peer) -> None:
    peer.kill()  # SIGKILL: no close, so the name stays behind
    assert peer.process.returncode == -9


def by_name(prefix: str) -> dict[str, zinc.RegionInfo]:
    return {info.name: info for info in zinc.list_regions(prefix)}


def test_replace_stale_replaces_a_region_whose_creator_was_killed(
    region_name: NameFactory, peers: Callable[..., Peer]
) -> None:
    name = region_name()
    kill_creator(start_creator(peers, name))
    assert object_path(name).exists()
    with pytest.raises(FileExistsError, match="already exists"):
        zinc.SharedRegion.create(name, zinc.PAGE_SIZE)
    with zinc.SharedRegion.create(name, zinc.PAGE_SIZE, replace_stale=True) as region:
        assert region.as_buffer()[0] == 0  # a new region, not the old one
        assert by_name(name)[name].status == "live"
    assert not object_path(name).exists()


def test_replace_stale_never_replaces_a_live_creators_region(
    region_name: NameFactory, peers: Callable[..., Peer]
) -> None:
    name = region_name()
    start_creator(peers, name)
    with pytest.raises(FileExistsError, match="not replaced") as info:
        zinc.SharedRegion.create(name, zinc.PAGE_SIZE, replace_stale=True)
    assert "is still running" in str(info.value)
    with zinc.SharedRegion.open(name) as region:
        assert region.as_buffer()[0] == 7  # untouched


def test_replace_stale_leaves_an_invalid_object_alone(region_name: NameFactory) -> None:
    name = region_name()
    garbage = b"this is not a zinc region".ljust(2 * zinc.PAGE_SIZE, b"\xff")
    object_path(name).write_bytes(garbage)
    with pytest.raises(FileExistsError, match="not replaced"):
        zinc.SharedRegion.create(name, zinc.PAGE_SIZE, replace_stale=True)
    assert object_path(name).read_bytes() == garbage


def test_prefault_creates_a_usable_region(region_name: NameFactory) -> None:
    with zinc.SharedRegion.create(region_name(), 4 * zinc.PAGE_SIZE, prefault=True) as region:
        region.as_buffer()[-1] = 1
        assert region.capacity == 4 * zinc.PAGE_SIZE


def allocated_bytes(name: str) -> int:
    """Bytes of /dev/shm the region's object holds (its allocated pages)."""
    return object_path(name).stat().st_blocks * 512


def test_reserve_false_holds_only_written_pages(region_name: NameFactory) -> None:
    name = region_name()
    capacity = 64 * zinc.PAGE_SIZE
    with zinc.SharedRegion.create(name, capacity, reserve=False) as region:
        assert allocated_bytes(name) == zinc.PAGE_SIZE  # the header
        region.as_buffer()[5 * zinc.PAGE_SIZE] = 9
        assert allocated_bytes(name) == 2 * zinc.PAGE_SIZE
        assert region.capacity == capacity
    with zinc.SharedRegion.create(name, capacity) as region:
        assert allocated_bytes(name) >= zinc.PAGE_SIZE + capacity
    assert not object_path(name).exists()


def test_reserve_false_with_prefault_is_einval(region_name: NameFactory) -> None:
    name = region_name()
    with pytest.raises(OSError, match="cannot be combined") as raised:
        zinc.SharedRegion.create(name, zinc.PAGE_SIZE, prefault=True, reserve=False)
    assert raised.value.errno == errno.EINVAL
    assert not object_path(name).exists()


def test_list_regions_tells_live_stale_orphaned_and_invalid_apart(
    region_name: NameFactory, peers: Callable[..., Peer]
) -> None:
    live, stale, orphaned, invalid = (region_name(f"-{kind}") for kind in "lsoi")
    prefix = live[: live.index("-l")]  # this test's names only
    mine = zinc.SharedRegion.create(live, zinc.PAGE_SIZE)
    kill_creator(start_creator(peers, stale))
    orphan_creator = start_creator(peers, orphaned)
    reader = zinc.SharedRegion.open(orphaned)
    kill_creator(orphan_creator)
    object_path(invalid).write_bytes(bytes(2 * zinc.PAGE_SIZE - 1))
    try:
        found = by_name(prefix)
        assert sorted(found) == sorted([live, stale, orphaned, invalid])

        assert found[live].status == "live"
        assert found[live].creator == "alive"
        assert found[live].owner_pid == os.getpid()
        assert found[live].mapped_by == (os.getpid(),)
        assert found[live].capacity == zinc.PAGE_SIZE
        assert found[live].version == 2
        assert found[live].ref_count == 1
        assert found[live].problem == ""

        assert found[stale].status == "stale"
        assert found[stale].creator == "dead"
        assert found[stale].mapped_by == ()

        assert found[orphaned].status == "orphaned"
        assert found[orphaned].mapped_by == (os.getpid(),)
        assert found[orphaned].ref_count == 2  # the dead creator never closed

        assert found[invalid].status == "invalid"
        assert "two pages" in found[invalid].problem
        assert found[invalid].capacity is None
    finally:
        reader.close()
        mine.close()


def test_list_regions_reads_without_opening(region_name: NameFactory) -> None:
    name = region_name()
    with zinc.SharedRegion.create(name, zinc.PAGE_SIZE) as region:
        region.notify()
        before = by_name(name)[name]
        after = by_name(name)[name]
        assert before.ref_count == after.ref_count == 1
        assert before.notify_seq == 1
        assert region.try_wait()  # the listing consumed nothing


def test_list_regions_with_an_unmatched_prefix_is_empty(region_name: NameFactory) -> None:
    assert zinc.list_regions(region_name("-none")) == []
