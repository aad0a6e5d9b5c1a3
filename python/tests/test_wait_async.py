"""wait_async(): results, the event loop keeps running, cancellation, errors."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from typing import Any, List, Tuple

import pytest
from conftest import NameFactory

import zinc

PAGE = zinc.PAGE_SIZE


def test_wait_async_returns_true_when_notified_and_false_on_timeout(
    region_name: NameFactory,
) -> None:
    name = region_name()

    async def scenario() -> Tuple[bool, bool]:
        with zinc.SharedRegion.create(name, PAGE) as owner, zinc.SharedRegion.open(name) as reader:
            timed_out = await reader.wait_async(50)
            owner.notify()
            notified = await reader.wait_async(5000)
            return timed_out, notified

    assert asyncio.run(scenario()) == (False, True)


def test_event_loop_runs_while_wait_async_blocks(region_name: NameFactory) -> None:
    # The notify comes from a coroutine on the same loop: if wait_async
    # blocked the loop, it could only run after the wait timed out (False).
    name = region_name()
    ticks: List[int] = []

    async def notify_later(owner: zinc.SharedRegion) -> None:
        for tick in range(3):
            await asyncio.sleep(0.02)
            ticks.append(tick)
        owner.notify()

    async def scenario() -> bool:
        with zinc.SharedRegion.create(name, PAGE) as owner, zinc.SharedRegion.open(name) as reader:
            notified, _ = await asyncio.gather(reader.wait_async(20000), notify_later(owner))
            return notified

    assert asyncio.run(scenario()) is True
    assert ticks == [0, 1, 2]


def test_wait_async_calls_the_module_level_wait_at_call_time(
    region_name: NameFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: List[Tuple[Any, int, str]] = []

    def fake_wait(handle: Any, timeout_ms: int) -> bool:
        calls.append((handle, timeout_ms, threading.current_thread().name))
        return True

    monkeypatch.setattr(zinc, "_wait", fake_wait)
    with zinc.SharedRegion.create(region_name(), PAGE) as region:
        assert asyncio.run(region.wait_async(1234)) is True
        assert region.wait(99) is True
    assert [(c[1]) for c in calls] == [1234, 99]
    assert calls[0][2] != threading.main_thread().name  # ran in a worker thread
    assert calls[1][2] == threading.main_thread().name


def test_cancelled_wait_async_stops_its_worker_and_leaves_later_notifications(
    region_name: NameFactory,
) -> None:
    name = region_name()

    async def scenario(reader: zinc.SharedRegion) -> None:
        task = asyncio.create_task(reader.wait_async(600000))
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    with zinc.SharedRegion.create(name, PAGE) as owner, zinc.SharedRegion.open(name) as reader:
        start = time.monotonic()
        # asyncio.run waits for the worker thread at shutdown: it returns only
        # once the cancelled wait stopped, long before its 600 s timeout.
        asyncio.run(scenario(reader))
        assert time.monotonic() - start < 10
        owner.notify()
        assert reader.try_wait() is True  # not consumed by a leftover wait


def test_close_ends_a_pending_wait_async_with_value_error(region_name: NameFactory) -> None:
    async def scenario(region: zinc.SharedRegion) -> None:
        asyncio.get_running_loop().call_later(0.1, region.close)
        with pytest.raises(ValueError, match="region is closed"):
            await region.wait_async(600000)

    region = zinc.SharedRegion.create(region_name(), PAGE)
    start = time.monotonic()
    asyncio.run(scenario(region))
    assert time.monotonic() - start < 10


def test_wait_async_on_a_closed_region_raises_value_error_when_awaited(
    region_name: NameFactory,
) -> None:
    region = zinc.SharedRegion.create(region_name(), PAGE)
    region.close()
    pending = region.wait_async()  # no error yet: a coroutine
    with pytest.raises(ValueError, match="region is closed"):
        asyncio.run(pending)


@pytest.mark.parametrize("timeout", [-1, 2**32])
def test_wait_async_timeout_outside_the_c_range_raises_overflow_error(
    region_name: NameFactory, timeout: int
) -> None:
    with zinc.SharedRegion.create(region_name(), PAGE) as region:
        with pytest.raises(OverflowError):
            asyncio.run(region.wait_async(timeout))


def test_wait_async_is_woken_by_another_process(region_name: NameFactory) -> None:
    name = region_name()

    async def scenario(reader: zinc.SharedRegion) -> bool:
        waiting = asyncio.create_task(reader.wait_async(30000))
        notifier = await asyncio.create_subprocess_exec(
            sys.executable, "-c", f"import zinc\nzinc.SharedRegion.open({name!r}).notify()\n"
        )
        assert await notifier.wait() == 0
        return await waiting

    with zinc.SharedRegion.create(name, PAGE), zinc.SharedRegion.open(name) as reader:
        assert asyncio.run(scenario(reader)) is True
