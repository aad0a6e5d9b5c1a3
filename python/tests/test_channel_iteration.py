"""``for frame in reader``: frames in turn, each held while the body runs,
until the writer has left (or an idle timeout passes)."""

from __future__ import annotations

import threading
import time
from typing import List

import numpy as np
from conftest import NameFactory

import zinc


def test_iteration_reads_every_frame_then_ends_when_the_writer_leaves(
    region_name: NameFactory,
) -> None:
    name = region_name()
    writer = zinc.Channel.create(name, np.int64, 3, slots=2)
    with zinc.Channel.open_reader(name) as reader:

        def produce() -> None:
            with writer:
                for i in range(10):
                    writer.send(np.full(3, i, np.int64))

        thread = threading.Thread(target=produce)
        thread.start()
        seen = []
        for frame in reader:
            assert frame.held
            seen.append((frame.sequence, frame.array.tolist()))
        thread.join()
        assert seen == [(i, [i] * 3) for i in range(10)]
        assert not frame.held, "the last frame is released when the loop ends"


def test_iteration_after_the_writer_left_drains_what_is_left(region_name: NameFactory) -> None:
    name = region_name()
    writer = zinc.Channel.create(name, np.uint8, 1, slots=4)
    reader = zinc.Channel.open_reader(name)
    for i in range(3):
        writer.send(np.array([i], np.uint8))
    writer.close()
    assert [int(f.array[0]) for f in reader] == [0, 1, 2]
    assert list(reader) == [], "a finished stream stays finished"
    reader.close()


def test_latest_iteration_after_the_writer_left_gives_the_newest_frame(
    region_name: NameFactory,
) -> None:
    name = region_name()
    writer = zinc.Channel.create(name, np.uint8, 1, mode="latest")
    with zinc.Channel.open_reader(name) as reader:
        for i in range(5):
            writer.send(np.array([i], np.uint8))
        writer.close()
        assert [f.sequence for f in reader] == [4]


def test_idle_timeout_ends_the_iteration_while_the_writer_stays(region_name: NameFactory) -> None:
    name = region_name()
    with zinc.Channel.create(name, np.uint8, 1) as writer:
        with zinc.Channel.open_reader(name) as reader:
            writer.send(np.array([7], np.uint8))
            start = time.monotonic()
            assert [f.sequence for f in reader.frames(timeout_ms=150)] == [0]
            assert 0.14 < time.monotonic() - start < 5


def test_reader_created_channel_waits_for_its_first_writer(region_name: NameFactory) -> None:
    name = region_name()
    with zinc.Channel.create(name, np.uint8, 1, role="reader") as reader:

        def produce() -> None:
            time.sleep(0.3)  # the reader iterates before any writer exists
            with zinc.Channel.open_writer(name) as writer:
                for i in range(3):
                    writer.send(np.array([i], np.uint8))

        thread = threading.Thread(target=produce)
        thread.start()
        assert [int(f.array[0]) for f in reader.frames(timeout_ms=5000)] == [0, 1, 2]
        thread.join()


def test_breaking_out_releases_the_frame(region_name: NameFactory) -> None:
    name = region_name()
    with zinc.Channel.create(name, np.uint8, 1, slots=1) as writer:
        with zinc.Channel.open_reader(name) as reader:
            writer.send(np.array([1], np.uint8))
            held: List[zinc.ReadFrame] = []
            for frame in reader:
                held.append(frame)
                break
            assert not held[0].held
            assert writer.send(np.array([2], np.uint8), timeout_ms=0) == 1, "the slot is free"
            assert reader.recv_copy(0).tolist() == [2]
