"""recv_async(), frame_async(), send_async() and ``async for``: waits that
neither block the event loop nor consume a frame when cancelled. Readers are
run with the shared waiter threads (futex_waitv) and with the thread-per-wait
fallback."""

from __future__ import annotations

import asyncio
import time
from typing import Iterator, List

import numpy as np
import pytest
from conftest import NameFactory

import zinc
import zinc._async_wait  # imported by the first async call; these tests reach into it first


@pytest.fixture(params=["waiter", "threads"])
def wait_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if request.param == "threads":
        monkeypatch.setattr(zinc._async_wait, "shared_waiter", lambda make_error: None)
    elif zinc._async_wait.shared_waiter(zinc._errors.error) is None:
        pytest.skip("futex_waitv is not available here")
    yield request.param


def test_recv_async_gets_a_frame_committed_while_it_waits(
    region_name: NameFactory, wait_mode: str
) -> None:
    name = region_name()
    with zinc.Channel.create(name, np.float64, 2) as writer:
        with zinc.Channel.open_reader(name) as reader:

            async def main() -> float:
                loop = asyncio.get_running_loop()
                loop.call_later(0.1, writer.send, np.array([1.5, 2.5]))
                ticks = 0

                async def ticker() -> None:
                    nonlocal ticks
                    while True:
                        await asyncio.sleep(0.01)
                        ticks += 1

                tick = asyncio.ensure_future(ticker())
                start = time.monotonic()
                frame = await reader.recv_async(timeout_ms=5000)
                elapsed = time.monotonic() - start
                tick.cancel()
                assert frame is not None and frame.sequence == 0
                with frame:
                    assert frame.array.tolist() == [1.5, 2.5]
                # The loop ran meanwhile (the send itself is a callback of it).
                assert ticks >= 1, "the event loop kept running"
                return elapsed

            elapsed = asyncio.run(main())
            assert 0.05 < elapsed < 5, elapsed


def test_recv_async_timeouts(region_name: NameFactory, wait_mode: str) -> None:
    name = region_name()
    with zinc.Channel.create(name, np.uint8, 1) as writer:
        with zinc.Channel.open_reader(name) as reader:

            async def main() -> None:
                assert await reader.recv_async(timeout_ms=0) is None
                start = time.monotonic()
                assert await reader.recv_async(timeout_ms=100) is None
                assert 0.09 < time.monotonic() - start < 5
                writer.send(np.array([3], np.uint8))
                frame = await reader.recv_async(timeout_ms=0)
                assert frame is not None and int(frame.array[0]) == 3
                frame.release()

            asyncio.run(main())


def test_cancelled_recv_async_consumes_no_frame(region_name: NameFactory, wait_mode: str) -> None:
    name = region_name()
    with zinc.Channel.create(name, np.uint8, 1) as writer:
        with zinc.Channel.open_reader(name) as reader:

            async def main() -> None:
                task = asyncio.ensure_future(reader.recv_async(timeout_ms=5000))
                await asyncio.sleep(0.05)
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                writer.send(np.array([9], np.uint8))
                frame = await reader.recv_async(timeout_ms=5000)
                assert frame is not None and frame.sequence == 0
                frame.release()

            asyncio.run(main())


def test_close_ends_a_pending_recv_async(region_name: NameFactory, wait_mode: str) -> None:
    name = region_name()
    with zinc.Channel.create(name, np.uint8, 1):
        reader = zinc.Channel.open_reader(name)

        async def main() -> None:
            asyncio.get_running_loop().call_later(0.05, reader.close)
            with pytest.raises(ValueError, match="channel is closed"):
                await reader.recv_async(timeout_ms=5000)

        asyncio.run(main())


def test_frame_async_waits_for_room_without_blocking_the_loop(region_name: NameFactory) -> None:
    name = region_name()
    with zinc.Channel.create(name, np.uint8, 4, slots=1) as writer:
        with zinc.Channel.open_reader(name) as reader:

            async def main() -> None:
                assert await writer.send_async(np.zeros(4, np.uint8)) == 0
                frame = reader.recv(0)
                assert frame is not None
                asyncio.get_running_loop().call_later(0.1, frame.release)
                start = time.monotonic()
                slot = await writer.frame_async(timeout_ms=5000)
                assert slot is not None and slot.sequence == 1
                assert 0.05 < time.monotonic() - start < 5
                slot.array[:] = 1
                slot.commit()
                assert await writer.frame_async(timeout_ms=0) is None, "full again"
                assert await writer.send_async(np.ones(4, np.uint8), timeout_ms=50) is None

            asyncio.run(main())


def test_cancelled_frame_async_leaves_the_slot_for_the_next_frame(
    region_name: NameFactory,
) -> None:
    name = region_name()
    with zinc.Channel.create(name, np.uint8, 4, slots=1) as writer:
        with zinc.Channel.open_reader(name) as reader:

            async def main() -> None:
                writer.send(np.zeros(4, np.uint8))
                task = asyncio.ensure_future(writer.frame_async(timeout_ms=5000))
                await asyncio.sleep(0.05)
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                assert reader.recv_copy(0) is not None  # room now
                frame = writer.frame(timeout_ms=1000)
                assert frame is not None and frame.sequence == 1
                frame.commit()
                assert reader.recv_copy(1000) is not None

            asyncio.run(main())


def test_async_for_ends_when_the_writer_leaves(region_name: NameFactory, wait_mode: str) -> None:
    name = region_name()
    writer = zinc.Channel.create(name, np.int32, 2, slots=2)
    with zinc.Channel.open_reader(name) as reader:

        async def produce() -> None:
            with writer:
                for i in range(6):
                    await writer.send_async(np.full(2, i, np.int32))
                    await asyncio.sleep(0.001)

        async def main() -> List[int]:
            producer = asyncio.ensure_future(produce())
            got = [int(frame.array[0]) async for frame in reader]
            await producer
            return got

        assert asyncio.run(main()) == list(range(6))


def test_pending_recv_async_on_many_channels_share_waiter_threads(
    region_name: NameFactory,
) -> None:
    waiter = zinc._async_wait.shared_waiter(zinc._errors.error)
    if waiter is None:
        pytest.skip("futex_waitv is not available here")
    names = [region_name() for _ in range(20)]
    # Threads an earlier test in this process made stay, and serve these too.
    threads_before = waiter.thread_count
    writers = [zinc.Channel.create(n, np.uint8, 1) for n in names]
    readers = [zinc.Channel.open_reader(n) for n in names]
    try:

        async def main() -> List[int]:
            tasks = [asyncio.ensure_future(r.recv_async(timeout_ms=5000)) for r in readers]
            await asyncio.sleep(0.1)
            assert waiter.thread_count <= max(threads_before, 2)
            for i, writer in enumerate(writers):
                writer.send(np.array([i], np.uint8))
            frames = await asyncio.gather(*tasks)
            values = []
            for frame in frames:
                assert frame is not None
                with frame:
                    values.append(int(frame.array[0]))
            return values

        assert asyncio.run(main()) == list(range(20))
    finally:
        for channel in readers + writers:
            channel.close()
