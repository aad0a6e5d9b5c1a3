"""Uses the whole public API with the types a user sees.

tests/test_typing.py runs ``mypy --strict`` on this file (against the
installed package and its py.typed marker) and also runs it, so every line
here is both type-checked and real: ``python typing_check.py NAME``.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any, Hashable, List, Optional, Tuple

import numpy as np
from numpy.typing import NDArray
from typing_extensions import assert_type

import zinc


def use_everything(name: str) -> None:
    assert_type(zinc.__version__, str)
    assert_type(zinc.PAGE_SIZE, int)
    assert_type(zinc.MAX_NAME_LEN, int)

    region = zinc.SharedRegion.create(name, zinc.PAGE_SIZE)
    assert_type(region, zinc.SharedRegion)
    with zinc.SharedRegion.open(name) as reader:
        assert_type(reader, zinc.SharedRegion)
        assert_type(reader.name, str)
        assert_type(reader.capacity, int)
        assert_type(reader.closed, bool)

        # A view keeps the mapping (and the creator's name) alive until it is
        # released: a with block releases it at once.
        with region.as_buffer() as view:
            assert_type(view, memoryview)
            view[:5] = b"hello"

        raw = assert_type(reader.as_numpy(), NDArray[np.uint8])
        floats = assert_type(reader.as_numpy(np.float64), NDArray[np.float64])
        by_dtype = assert_type(reader.as_numpy(np.dtype(np.int16), shape=(2, 3)), NDArray[np.int16])
        records = reader.as_numpy([("id", "<u4"), ("x", "<f4")], offset=64)
        assert_type(records, NDArray[Any])
        by_name = reader.as_numpy("<i4", shape=4, offset=8)
        assert_type(by_name, NDArray[Any])
        counted = assert_type(reader.as_numpy(np.uint16, count=3, offset=2), NDArray[np.uint16])
        assert counted.shape == (3,)
        assert bytes(raw[:5]) == b"hello" and floats.size == zinc.PAGE_SIZE // 8
        assert by_dtype.shape == (2, 3) and records.dtype.names == ("id", "x")

        region.notify()
        notified: bool = reader.wait(1000)
        pending: bool = reader.try_wait()
        later: bool = asyncio.run(reader.wait_async(timeout_ms=10))
        assert (notified, pending, later) == (True, False, False)
    region.close()
    assert region.closed and repr(region).endswith("closed>")

    subclassed = Frames.create(name, zinc.PAGE_SIZE, replace_stale=True, prefault=True)
    assert_type(subclassed, Frames)
    listed: List[zinc.RegionInfo] = zinc.list_regions(name)
    assert [info.name for info in listed] == [name] and listed[0].status == "live"
    assert_type(listed[0].mapped_by, Tuple[int, ...])
    assert_type(listed[0].capacity, Optional[int])
    assert_type(Frames.open(name), Frames)
    subclassed.close()
    sparse = zinc.SharedRegion.create(name, 64 * zinc.PAGE_SIZE, reserve=False)
    assert_type(sparse, zinc.SharedRegion)
    sparse.close()

    try:
        zinc.SharedRegion.open(name)
    except FileNotFoundError as error:
        assert_type(error.errno, Optional[int])


def use_channels(name: str) -> None:
    writer = zinc.Channel.create(name, np.float32, (2, 3), slots=4, mode="lossless")
    assert_type(writer, zinc.ChannelWriter)
    with zinc.Channel.open_reader(name) as reader:
        assert_type(reader, zinc.ChannelReader)
        assert_type(reader.dtype, np.dtype[Any])
        assert_type(reader.shape, Optional[Tuple[int, ...]])
        with writer.frame() as frame:
            assert_type(frame, zinc.WriteFrame)
            assert_type(frame.array, NDArray[Any])
            frame.array[...] = 1
        maybe = assert_type(writer.frame(timeout_ms=0), Optional[zinc.WriteFrame])
        assert maybe is not None and maybe.commit() == 1
        assert_type(writer.send(np.zeros((2, 3), np.float32)), int)
        assert_type(writer.send(np.zeros((2, 3), np.float32), timeout_ms=0), Optional[int])
        with reader.recv() as got:
            assert_type(got, zinc.ReadFrame)
            assert_type(got.sequence, int)
            assert float(got.array[0, 0]) == 1.0
        assert_type(reader.recv(timeout_ms=0), Optional[zinc.ReadFrame])
        assert_type(reader.recv_copy(), NDArray[Any])
        info = assert_type(reader.info, zinc.ChannelInfo)
        assert info.write_seq == 4 and info.readers == 1

        async def last() -> Optional[zinc.ReadFrame]:
            return await reader.recv_async(timeout_ms=1000)

        final = asyncio.run(last())
        assert final is not None and final.sequence == 3
        final.release()
        writer.close()
        frames: List[int] = [f.sequence for f in reader]
        assert frames == []
    bytes_first = zinc.Channel.create_untyped(name, 64, role="reader")
    assert_type(bytes_first, zinc.ChannelReader)
    with zinc.Channel.open_writer(name) as joined:
        assert_type(joined, zinc.ChannelWriter)
        assert joined.send(b"hi") == 0
    received = bytes_first.recv_copy(0)
    assert received is not None and received.tobytes() == b"hi"
    bytes_first.close()


def use_wait_sets(name: str) -> None:
    writer = zinc.Channel.create(name, "|u1", (4,))
    reader = zinc.Channel.open_reader(name)
    with zinc.WaitSet() as ws:
        assert_type(ws, zinc.WaitSet)
        ws.add(reader, key="frames")
        ws.add(writer)
        assert_type(ws.fileno(), int)
        keys = assert_type(ws.wait(0), List[Hashable])
        assert keys == [writer]  # room to write, nothing to read yet
        writer.send(np.zeros(4, np.uint8))

        async def ready() -> List[Hashable]:
            return await ws.wait_async(timeout_ms=1000)

        assert sorted(map(str, asyncio.run(ready()))) == sorted(["frames", str(writer)])
        ws.remove(writer)
        assert len(ws) == 1 and reader in ws
    assert ws.closed
    reader.close()
    writer.close()


class Frames(zinc.SharedRegion):
    pass


if __name__ == "__main__":
    use_everything(sys.argv[1])
    use_channels(sys.argv[1])
    use_wait_sets(sys.argv[1])
    print("ok")
