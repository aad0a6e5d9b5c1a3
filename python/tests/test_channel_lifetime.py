"""Closing channels: arrays that outlive the close, garbage collection, a
close from another thread, and channels inherited through os.fork()."""

from __future__ import annotations

import gc
import threading
import time
from typing import Any, List, Tuple

import numpy as np
import pytest
from conftest import NameFactory, object_path, run_in_child

import zinc


def test_close_twice_and_operations_after_close(region_name: NameFactory) -> None:
    name = region_name()
    writer = zinc.Channel.create(name, np.uint8, 4)
    reader = zinc.Channel.open_reader(name)
    reader.close()
    reader.close()
    writer.close()
    assert writer.closed and reader.closed and not object_path(name).exists()
    for call in (
        lambda: writer.frame(),
        lambda: writer.send(np.zeros(4, np.uint8)),
        lambda: reader.recv(0),
        lambda: reader.info,
        lambda: writer.__enter__(),
    ):
        with pytest.raises(ValueError, match="channel is closed"):
            call()
    assert writer.name == name and writer.shape == (4,), "properties stay readable"


def test_arrays_stay_valid_after_close_and_the_roles_are_freed_at_once(
    region_name: NameFactory,
) -> None:
    name = region_name()
    with zinc.Channel.create(name, np.int32, (1000,), slots=2) as writer:
        reader = zinc.Channel.open_reader(name)
        writer.send(np.arange(1000, dtype=np.int32))
        frame = reader.recv(0)
        array = frame.array[10:20]  # a slice of a frame's view
        reader.close()  # while the frame is held and its arrays exist
        assert not frame.held
        assert writer.info.readers == 0, "the reader's entry is free although arrays live"
        assert array.tolist() == list(range(10, 20))  # the mapping is still there
        # A lossless writer is not held back by the closed reader.
        for i in range(5):
            assert writer.send(np.full(1000, i, np.int32), timeout_ms=0) is not None
        written = writer.frame()
        kept = written.array
    # The writer's close unlinked the name and freed the role; its last frame's
    # array (uncommitted: given up) still shows its mapping.
    assert not object_path(name).exists()
    assert not written.open and kept.shape == (1000,) and int(kept.sum()) >= 0
    del array, frame, kept, written
    gc.collect()


def _ref_count(name: str) -> int:
    [info] = zinc.list_regions(name)
    assert info.ref_count is not None
    return info.ref_count


def test_a_closed_participant_maps_the_region_only_while_its_arrays_live(
    region_name: NameFactory,
) -> None:
    name = region_name()
    with zinc.Channel.create(name, np.uint16, 8) as writer:
        alone = _ref_count(name)
        reader = zinc.Channel.open_reader(name)
        assert _ref_count(name) == alone + 2, "the channel handle and the reader's own mapping"
        reader.close()
        assert _ref_count(name) == alone, "the closed object keeps nothing mapped"
        reader = zinc.Channel.open_reader(name)
        writer.send(np.arange(8, dtype=np.uint16))
        frame = reader.recv(0)
        pixels = frame.array
        reader.close()
        assert _ref_count(name) == alone + 1, "the array keeps the reader's own mapping"
        assert pixels.tolist() == list(range(8))
        del frame, pixels
        gc.collect()
        assert _ref_count(name) == alone


def test_garbage_collected_participants_leave_the_channel(region_name: NameFactory) -> None:
    name = region_name()
    with zinc.Channel.create(name, np.uint8, 4, max_readers=1) as writer:
        zinc.Channel.open_reader(name)  # dropped at once
        gc.collect()
        assert writer.info.readers == 0
        held = zinc.Channel.open_reader(name).recv  # the bound method keeps it
        del held
        cycle: List[Any] = [zinc.Channel.open_reader(name)]
        cycle.append(cycle)
        del cycle
        gc.collect()
        with zinc.Channel.open_reader(name):
            assert writer.info.readers == 1
    zinc.Channel.create(name, np.uint8, 4)  # the creator, dropped
    gc.collect()
    assert not object_path(name).exists()


@pytest.mark.parametrize("blocked", ["recv", "frame"])
def test_close_from_another_thread_ends_a_blocked_call(
    region_name: NameFactory, blocked: str
) -> None:
    name = region_name()
    with zinc.Channel.create(name, np.uint8, 4, slots=1) as writer:
        reader = zinc.Channel.open_reader(name)
        writer.send(np.zeros(4, np.uint8))  # the ring is full: frame() blocks
        outcome: List[BaseException] = []
        victim: Any = reader if blocked == "recv" else writer
        if blocked == "recv":
            reader.recv_copy()  # nothing left: recv() blocks

        def call() -> None:
            try:
                getattr(victim, blocked)()
            except BaseException as error:
                outcome.append(error)

        thread = threading.Thread(target=call)
        thread.start()
        time.sleep(0.1)
        start = time.monotonic()
        victim.close()
        thread.join(5)
        assert not thread.is_alive()
        assert time.monotonic() - start < 2
        assert len(outcome) == 1 and isinstance(outcome[0], ValueError)
        assert str(outcome[0]) == "channel is closed"
        reader.close()


def test_threads_sharing_a_reader_each_get_whole_frames(region_name: NameFactory) -> None:
    name = region_name()
    frames = 200
    got: List[Tuple[int, bool]] = []
    with zinc.Channel.create(name, np.uint32, 16, slots=4) as writer:
        reader = zinc.Channel.open_reader(name)

        def consume() -> None:
            while True:
                try:
                    frame = reader.recv()
                except ValueError:
                    if reader.closed:
                        return
                    time.sleep(0)  # the other thread holds a frame: try again
                    continue
                with frame:
                    got.append((frame.sequence, bool((frame.array == frame.sequence).all())))

        threads = [threading.Thread(target=consume) for _ in range(2)]
        for thread in threads:
            thread.start()
        for i in range(frames):
            writer.send(np.full(16, i, np.uint32))
        deadline = time.monotonic() + 10
        while len(got) < frames and time.monotonic() < deadline:
            time.sleep(0.01)
        reader.close()
        for thread in threads:
            thread.join(5)
    assert sorted(got) == [(i, True) for i in range(frames)]


def test_fork_child_cannot_use_inherited_channels_and_leaves_the_parents_intact(
    region_name: NameFactory,
) -> None:
    name = region_name()
    with zinc.Channel.create(name, np.uint8, 4, mode="latest", slots=4, max_readers=2) as writer:
        reader = zinc.Channel.open_reader(name)
        writer.send(np.full(4, 1, np.uint8))
        frame = reader.recv(0)  # held across the fork

        def child() -> int:
            assert "inherited" in repr(reader) and "inherited" in repr(writer)
            assert frame.array.tolist() == [1] * 4, "inherited arrays stay readable"
            for call in (lambda: reader.recv(0), lambda: writer.send(np.zeros(4, np.uint8))):
                try:
                    call()
                    return 2
                except ValueError as error:
                    if "inherited through fork()" not in str(error):
                        return 3
            frame.release()  # the parent's frame: nothing happens
            reader.close()
            writer.close()
            gc.collect()
            with zinc.Channel.open_reader(name) as own:  # a reader of its own
                return 0 if own.recv(0) is not None else 4

        assert run_in_child(child) == 0
        assert frame.held and writer.info.readers == 1
        # The parent's pin survived the child's close: the writer never
        # overwrites the held frame.
        for i in range(20):
            writer.send(np.full(4, 100 + i, np.uint8))
        assert frame.array.tolist() == [1] * 4
        frame.release()
        assert reader.recv_copy(0).tolist() == [119] * 4
        reader.close()
    assert not object_path(name).exists()
