"""Joining a channel without a retry loop: open_reader/open_writer with a
timeout that waits for the channel to appear, Channel.open_or_create, and
how a reader learns that its channel is gone (EPIPE), was never one
(ENOMSG) or has a damaged frame type (EBADMSG)."""

from __future__ import annotations

import errno
import struct
import threading
from typing import Any, Dict, List, Optional, Union

import numpy as np
import pytest
from conftest import NameFactory, object_path

import zinc


def test_open_reader_with_a_timeout_waits_for_the_channel_to_appear(
    region_name: NameFactory,
) -> None:
    name = region_name()
    joining = threading.Event()
    joined: List[Union[zinc.ChannelReader, BaseException]] = []

    def join() -> None:
        joining.set()
        try:
            joined.append(zinc.Channel.open_reader(name, timeout_ms=10_000))
        except BaseException as error:
            joined.append(error)

    thread = threading.Thread(target=join)
    thread.start()
    joining.wait()  # the reader is joining (or about to): create the channel now
    with zinc.Channel.create(name, np.uint16, 4, slots=2) as writer:
        thread.join(20)
        assert not thread.is_alive()
        [reader] = joined
        assert isinstance(reader, zinc.ChannelReader), reader
        with reader:
            writer.send(np.arange(4, dtype=np.uint16))
            assert reader.recv_copy(timeout_ms=1000).tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize("role", ["reader", "writer"])
def test_join_timeout_zero_tries_once_and_an_expired_one_names_the_channel(
    region_name: NameFactory, role: str
) -> None:
    name = region_name()
    join = zinc.Channel.open_reader if role == "reader" else zinc.Channel.open_writer
    with pytest.raises(FileNotFoundError):
        join(name)  # the default: one try, as before
    with pytest.raises(FileNotFoundError):
        join(name, timeout_ms=0)
    with pytest.raises(TimeoutError) as expired:
        join(name, timeout_ms=30)
    assert expired.value.errno == errno.ETIMEDOUT
    assert str(expired.value) == (
        f"[Errno {errno.ETIMEDOUT}] channel {name!r} did not appear within 30 ms: "
        "there is no channel of that name"
    )
    with pytest.raises(OverflowError):
        join(name, timeout_ms=-1)
    assert not object_path(name).exists()


def test_joining_a_region_that_is_not_a_channel_fails_at_once_with_enomsg(
    region_name: NameFactory,
) -> None:
    name = region_name()
    with zinc.SharedRegion.create(name, zinc.PAGE_SIZE):
        # Only "not there yet" is waited on: the answer comes at once, not in 2 s.
        for join in (zinc.Channel.open_reader, zinc.Channel.open_writer):
            with pytest.raises(OSError) as not_a_channel:
                join(name, timeout_ms=2000)
            assert not_a_channel.value.errno == errno.ENOMSG, not_a_channel.value
        with pytest.raises(OSError) as not_a_channel:
            zinc.Channel.open_or_create(name, np.uint8, 4)
        assert not_a_channel.value.errno == errno.ENOMSG, not_a_channel.value


# The frame type's fields in the channel header (docs/spec.md section 10.2.1).
DTYPE_AT, NDIM_AT, SHAPE_AT = 72, 80, 88


def plant_frame_type(name: str, fields: Dict[str, Any]) -> None:
    """Overwrites fields of channel `name`'s frame type, as another local
    user with write access to the object could."""
    with zinc.SharedRegion.open(name) as region:
        data = region.as_buffer()
        if "dtype" in fields:
            data[DTYPE_AT : DTYPE_AT + 8] = fields["dtype"].ljust(8, b"\0")
        if "ndim" in fields:
            data[NDIM_AT : NDIM_AT + 4] = struct.pack("<I", fields["ndim"])
        if "shape0" in fields:
            data[SHAPE_AT : SHAPE_AT + 8] = struct.pack("<Q", fields["shape0"])
        data.release()


@pytest.mark.parametrize(
    "fields, message",
    [
        ({}, None),  # the control: only the damaged field differs
        ({"shape0": 65}, "a frame is 65 bytes, the slot only 64"),
        ({"ndim": 6}, "ndim 6"),
        ({"dtype": b"u1"}, "is not a numpy type string"),
    ],
    ids=["control", "frame_larger_than_its_slot", "ndim_6", "dtype_without_byte_order"],
)
def test_joining_a_channel_whose_frame_type_was_damaged_fails_with_ebadmsg(
    region_name: NameFactory, fields: Dict[str, Any], message: Optional[str]
) -> None:
    # The adapter views frames through the frame type the library checked at
    # the join: a frame larger than its slot would be a view into the next one.
    name = region_name()
    with zinc.Channel.create(name, np.uint8, 64, slots=2, role="reader"):
        plant_frame_type(name, fields)
        if message is None:
            with zinc.Channel.open_writer(name) as writer:
                assert writer.shape == (64,)
            return
        for join in (zinc.Channel.open_reader, zinc.Channel.open_writer):
            with pytest.raises(OSError, match=message) as refused:
                join(name)
            assert refused.value.errno == errno.EBADMSG, refused.value


def test_open_or_create_creates_then_joins_and_checks_the_frames(
    region_name: NameFactory,
) -> None:
    name = region_name()
    with zinc.Channel.open_or_create(name, np.float32, (2, 3), slots=2) as created:
        assert "created" in repr(created) and created.shape == (2, 3)
        with pytest.raises(OSError) as busy:
            zinc.Channel.open_or_create(name, np.float32, (2, 3))
        assert busy.value.errno == errno.EBUSY
    assert not object_path(name).exists(), "the writer that created it owned the name"

    with zinc.Channel.create(name, np.float32, (2, 3), slots=2, role="reader") as reader:
        with zinc.Channel.open_or_create(name, np.float32, (2, 3), slots=7) as joined:
            assert "opened" in repr(joined)
            assert joined.slot_count == 2, "the creator's geometry"
            joined.send(np.ones((2, 3), np.float32))
            assert reader.recv_copy(timeout_ms=1000).sum() == 6
        assert object_path(name).exists(), "a writer that joined leaves the name"
        for dtype, shape, mode in [
            (np.float64, (2, 3), "lossless"),
            (np.float32, (3, 2), "lossless"),
            (np.float32, (2, 3), "latest"),
        ]:
            with pytest.raises(ValueError, match=f"channel {name!r} exists with lossless"):
                zinc.Channel.open_or_create(name, dtype, shape, mode=mode, slots=4)
        assert reader.info.writer_pid == 0, "a refused join leaves the role free"


def test_concurrent_open_or_create_yields_one_writer(region_name: NameFactory) -> None:
    name = region_name()
    start = threading.Barrier(4)
    outcomes: List[Union[zinc.ChannelWriter, BaseException]] = []
    lock = threading.Lock()

    def race() -> None:
        start.wait()
        try:
            writer: Union[zinc.ChannelWriter, BaseException] = zinc.Channel.open_or_create(
                name, np.uint8, 16
            )
        except BaseException as error:
            writer = error
        with lock:
            outcomes.append(writer)

    threads = [threading.Thread(target=race) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    writers = [o for o in outcomes if isinstance(o, zinc.ChannelWriter)]
    refused = [o for o in outcomes if not isinstance(o, zinc.ChannelWriter)]
    assert len(writers) == 1, outcomes
    assert all(isinstance(e, OSError) and e.errno == errno.EBUSY for e in refused), refused
    writers[0].close()


def test_a_reader_gets_epipe_once_its_channel_is_closed_and_read(
    region_name: NameFactory,
) -> None:
    name = region_name()
    writer = zinc.Channel.create(name, np.int32, 2, slots=4)
    with zinc.Channel.open_reader(name) as reader:
        writer.send(np.array([1, 2], np.int32))
        writer.send(np.array([3, 4], np.int32))
        writer.close()  # the creator: the channel is gone with its writer
        assert [frame.array.tolist() for frame in reader] == [[1, 2], [3, 4]]
        with pytest.raises(BrokenPipeError):
            reader.recv(timeout_ms=2000)


def test_iteration_ends_when_the_channel_was_replaced(region_name: NameFactory) -> None:
    name = region_name()
    first = zinc.Channel.create(name, np.uint8, 1)
    reader = zinc.Channel.open_reader(name)
    first.send(np.array([7], np.uint8))
    first.close()
    with zinc.Channel.create(name, np.uint8, 1) as second, reader:
        second.send(np.array([8], np.uint8))  # the new channel's: not this reader's
        assert [int(frame.array[0]) for frame in reader] == [7]
