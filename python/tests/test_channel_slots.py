"""Where frames live, seen from Python (docs/spec.md sections 10.5, 10.6):
the writer hands out the warmest free slot, so a pipeline whose reader keeps
up writes every frame into the same memory; and a frame's array is made only
when asked for, with the same read-only rule either way."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import NameFactory

import zinc


def address(array: np.ndarray) -> int:  # type: ignore[type-arg]
    return int(array.__array_interface__["data"][0])


def test_a_reader_that_keeps_up_gets_every_frame_in_the_same_slot(
    region_name: NameFactory,
) -> None:
    name = region_name()
    with zinc.Channel.create(name, np.uint8, (4096,), slots=4) as writer:
        with zinc.Channel.open_reader(name) as reader:
            seen: set[int] = set()
            for k in range(10):
                with writer.frame() as frame:
                    frame.array[:] = k
                    seen.add(address(frame.array))
                with reader.recv(0) as got:
                    assert got.sequence == k and int(got.array[-1]) == k
            assert len(seen) == 1, "the slot released last is the warmest"


def test_frames_in_flight_take_distinct_slots_and_the_last_released_comes_back(
    region_name: NameFactory,
) -> None:
    name = region_name()
    with zinc.Channel.create(name, np.uint8, (64,), slots=4) as writer:
        with zinc.Channel.open_reader(name) as reader:
            slots = []
            for k in range(3):
                with writer.frame() as frame:
                    frame.array[:] = k
                    slots.append(address(frame.array))
            assert len(set(slots)) == 3, "unread frames never share a slot"
            for k in range(3):
                assert reader.recv_copy(0).tolist() == [k] * 64
            with writer.frame() as frame:
                assert address(frame.array) == slots[2], "frame 2's slot, released last"


def test_a_frame_array_first_asked_for_after_the_commit_is_read_only(
    region_name: NameFactory,
) -> None:
    name = region_name()
    with zinc.Channel.create(name, np.uint8, (8,)) as writer:
        frame = writer.frame()
        frame.commit()
        assert not frame.open and not frame.array.flags.writeable
        given_up = writer.frame()
        with pytest.raises(RuntimeError):
            with given_up:
                raise RuntimeError("given up")
        assert not given_up.open
        assert not given_up.array.flags.writeable
        with writer.frame() as open_frame:
            first = open_frame.array
            assert first.flags.writeable and open_frame.array is first, "one view per frame"
        assert not first.flags.writeable
