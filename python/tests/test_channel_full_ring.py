"""A full lossless ring (docs/spec.md section 10.5, zinc.h zinc_channel_acquire):
a reader that holds a frame without releasing it holds the writer back once
the writer is slot_count frames ahead. The exact codes, through the cffi-level
call (ZINC_EAGAIN at timeout 0, ZINC_ETIMEDOUT after a timeout, nothing
stored) and through the public API (None in both cases), and the room a
release makes."""

from __future__ import annotations

import os
import time
from typing import Any, Iterator

import numpy as np
import pytest
from conftest import NameFactory

import zinc
from zinc._ffi import ffi, lib

SLOTS = 2
TIMEOUT_MS = 50


class NativeChannel:
    """A channel handle of the C ABI, closed at the end of a with block."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle

    def __enter__(self) -> Any:
        return self.handle

    def __exit__(self, *exc: object) -> None:
        lib.zinc_channel_close(self.handle)


def create_writer(name: str) -> NativeChannel:
    out = ffi.new("ZincChannel *")
    assert (
        lib.zinc_channel_create(name.encode(), lib.ZINC_CHANNEL_LOSSLESS, SLOTS, 64, 1, 0, out) == 0
    )
    return NativeChannel(out[0])


def open_reader(name: str) -> NativeChannel:
    out = ffi.new("ZincChannel *")
    assert lib.zinc_channel_open_reader(name.encode(), out) == 0
    return NativeChannel(out[0])


def write_seq(handle: Any) -> int:
    info = ffi.new("ZincChannelInfo *")
    assert lib.zinc_channel_info(handle, info) == 0
    return int(info.write_seq)


def commit(writer: Any) -> int:
    frame = ffi.new("ZincChannelFrame *")
    assert lib.zinc_channel_acquire(writer, 0, frame) == 0
    assert lib.zinc_channel_commit(writer, 64) == 0
    return int(frame.sequence)


@pytest.fixture
def full_ring(region_name: NameFactory) -> Iterator[tuple[Any, Any]]:
    """A writer SLOTS frames ahead of a reader that holds frame 0."""
    name = region_name()
    with create_writer(name) as writer, open_reader(name) as reader:
        assert [commit(writer) for _ in range(SLOTS)] == list(range(SLOTS))
        held = ffi.new("ZincChannelFrame *")
        assert lib.zinc_channel_read(reader, 0, held) == 0 and held.sequence == 0
        yield writer, reader


def test_acquire_on_a_full_ring_is_eagain_at_timeout_0_and_says_who(
    full_ring: tuple[Any, Any],
) -> None:
    writer, _ = full_ring
    frame = ffi.new("ZincChannelFrame *")
    assert lib.zinc_channel_acquire(writer, 0, frame) == lib.ZINC_EAGAIN
    message = ffi.string(lib.zinc_last_error_message()).decode()
    assert "the ring is full" in message and f"reader pid {os.getpid()}" in message, message
    assert write_seq(writer) == SLOTS, "a refused acquire announced a frame"


def test_acquire_on_a_full_ring_is_etimedout_after_its_timeout(full_ring: tuple[Any, Any]) -> None:
    writer, _ = full_ring
    frame = ffi.new("ZincChannelFrame *")
    start = time.monotonic()
    assert lib.zinc_channel_acquire(writer, TIMEOUT_MS, frame) == lib.ZINC_ETIMEDOUT
    assert time.monotonic() - start >= (TIMEOUT_MS - 5) / 1000, "returned before its timeout"
    message = ffi.string(lib.zinc_last_error_message()).decode()
    assert "timed out" in message and "the ring is full" in message, message
    assert write_seq(writer) == SLOTS


def test_release_makes_room_for_exactly_the_next_frame(full_ring: tuple[Any, Any]) -> None:
    writer, reader = full_ring
    assert lib.zinc_channel_release(reader) == 0
    assert commit(writer) == SLOTS
    frame = ffi.new("ZincChannelFrame *")
    assert lib.zinc_channel_acquire(writer, 0, frame) == lib.ZINC_EAGAIN, (
        "frame 1 is still unread: the ring is full again"
    )


def test_public_api_returns_none_on_a_full_ring_until_the_release(
    region_name: NameFactory,
) -> None:
    name = region_name()
    with zinc.Channel.create(name, np.uint8, 64, slots=SLOTS, max_readers=1) as writer:
        with zinc.Channel.open_reader(name) as reader:
            assert [writer.send(np.full(64, i, np.uint8)) for i in range(SLOTS)] == [0, 1]
            held = reader.recv(0)
            assert held is not None and held.sequence == 0
            assert writer.frame(timeout_ms=0) is None
            assert writer.send(np.zeros(64, np.uint8), timeout_ms=0) is None
            start = time.monotonic()
            assert writer.frame(timeout_ms=TIMEOUT_MS) is None
            assert time.monotonic() - start >= (TIMEOUT_MS - 5) / 1000
            assert writer.info.write_seq == SLOTS
            held.release()
            assert writer.send(np.full(64, 2, np.uint8), timeout_ms=0) == SLOTS


def test_a_slow_reader_in_a_later_entry_holds_the_writer_back(region_name: NameFactory) -> None:
    # The room is the slowest reader's, whichever reader entry it holds: the
    # quick reader joined first, so it holds the first entry.
    name = region_name()
    with zinc.Channel.create(name, np.uint8, 64, slots=SLOTS, max_readers=2) as writer:
        with zinc.Channel.open_reader(name) as quick, zinc.Channel.open_reader(name) as slow:
            for i in range(SLOTS):
                assert writer.send(np.full(64, i, np.uint8)) == i
                assert quick.recv_copy(0).tolist() == [i] * 64
            assert writer.frame(timeout_ms=0) is None, "the slow reader has read none of them"
            assert [slow.recv_copy(0).tolist() for _ in range(SLOTS)] == [
                [i] * 64 for i in range(SLOTS)
            ]
            assert writer.send(np.full(64, SLOTS, np.uint8), timeout_ms=0) == SLOTS
