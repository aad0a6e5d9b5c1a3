"""wait_async(): results, the event loop keeps running, cancellation, errors,
in both of its modes (the shared waiter threads, and a thread per wait where
futex_waitv is missing); many concurrent waits; the sleepers count."""

from __future__ import annotations

import asyncio
import sys
import threading
import time
from typing import Any, List, Tuple

import pytest
from conftest import NameFactory, run_python

import zinc
import zinc._async_wait  # imported by the first async call; these tests reach into it first
import zinc._region

PAGE = zinc.PAGE_SIZE


@pytest.fixture(params=["waiter", "threads"])
def wait_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs a test with the shared waiter threads (futex_waitv) and with the
    fallback, a dedicated thread per wait."""
    if request.param == "threads":
        monkeypatch.setattr(zinc._async_wait, "shared_waiter", lambda make_error: None)
    elif zinc._async_wait.shared_waiter(zinc._errors.error) is None:
        pytest.skip("futex_waitv is not available here")
    return str(request.param)


def test_wait_async_returns_true_when_notified_and_false_on_timeout(
    region_name: NameFactory, wait_mode: str
) -> None:
    name = region_name()

    async def scenario() -> Tuple[bool, bool]:
        with zinc.SharedRegion.create(name, PAGE) as owner, zinc.SharedRegion.open(name) as reader:
            timed_out = await reader.wait_async(50)
            owner.notify()
            notified = await reader.wait_async(5000)
            return timed_out, notified

    assert asyncio.run(scenario()) == (False, True)


def test_event_loop_runs_while_wait_async_blocks(region_name: NameFactory, wait_mode: str) -> None:
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


def test_fallback_thread_runs_the_module_level_wait_outside_the_default_executor(
    region_name: NameFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: List[Tuple[Any, int, str]] = []

    def fake_wait(handle: Any, timeout_ms: int) -> bool:
        calls.append((handle, timeout_ms, threading.current_thread().name))
        return True

    monkeypatch.setattr(zinc._async_wait, "shared_waiter", lambda make_error: None)
    monkeypatch.setattr(zinc._region, "_wait", fake_wait)
    with zinc.SharedRegion.create(region_name(), PAGE) as region:
        region.try_wait()  # the creator's cursor starts behind: nothing pending now
        assert asyncio.run(region.wait_async(1234)) is True
        assert region.wait(99) is True
    assert [c[1] for c in calls] == [1234, 99]
    assert calls[0][2] == "zinc-wait-async-thread"  # its own thread, not asyncio's executor
    assert calls[1][2] == threading.main_thread().name


def test_cancelled_wait_async_stops_its_worker_and_leaves_later_notifications(
    region_name: NameFactory, wait_mode: str
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
        asyncio.run(scenario(reader))
        # The waiter forgets a cancelled wait at once; the fallback's thread
        # stops at the end of its current 100 ms slice (documented: a
        # notification in that window is consumed), long before 600 s.
        for thread in threading.enumerate():
            if thread.name == "zinc-wait-async-thread":
                thread.join(5)
        assert time.monotonic() - start < 10
        owner.notify()
        assert reader.try_wait() is True  # not consumed by a leftover wait


def test_close_ends_a_pending_wait_async_with_value_error(
    region_name: NameFactory, wait_mode: str
) -> None:
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


def test_wait_async_is_woken_by_another_process(region_name: NameFactory, wait_mode: str) -> None:
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


def sleepers(name: str) -> int:
    """The region's sleepers word (docs/spec.md 9.1), read from /dev/shm."""
    with open(f"/dev/shm/zinc_{name}", "rb") as region_file:
        region_file.seek(80)
        return int.from_bytes(region_file.read(4), sys.byteorder)


def test_pending_wait_async_counts_as_a_sleeper_so_notifiers_wake_it(
    region_name: NameFactory, wait_mode: str
) -> None:
    # Every handle here is counted (spec 9.3): a notifier skips the futex
    # wake when the sleepers word is 0, so an unregistered waiter would sleep
    # through the notification until its timeout.
    name = region_name()

    async def scenario(owner: zinc.SharedRegion, reader: zinc.SharedRegion) -> Tuple[int, bool]:
        waiting = asyncio.create_task(reader.wait_async(30000))
        during = 0
        for _ in range(20):  # the fallback's wait() leaves the count between its slices
            await asyncio.sleep(0.02)
            during = max(during, sleepers(name))
        start = time.monotonic()
        owner.notify()
        notified = await waiting
        assert time.monotonic() - start < 5  # woken, not timed out
        return during, notified

    with zinc.SharedRegion.create(name, PAGE) as owner, zinc.SharedRegion.open(name) as reader:
        assert sleepers(name) == 0
        during, notified = asyncio.run(scenario(owner, reader))
        assert notified is True
        assert during >= 1
        assert sleepers(name) == 0  # left again once the wait is over


def test_thousand_concurrent_waits_on_thousand_regions_all_complete(
    region_name: NameFactory,
) -> None:
    waiter = zinc._async_wait.shared_waiter(zinc._errors.error)
    if waiter is None:
        pytest.skip("futex_waitv is not available here")
    count = 1000
    names = [region_name(f"-{i}") for i in range(count)]

    async def scenario(owners: List[zinc.SharedRegion], readers: List[zinc.SharedRegion]) -> None:
        tasks = [asyncio.create_task(r.wait_async(60000)) for r in readers]
        await asyncio.sleep(0.5)
        assert not any(task.done() for task in tasks)
        # The default executor is free: the application's to_thread() runs.
        assert await asyncio.wait_for(asyncio.to_thread(lambda: 42), 5) == 42
        for owner in owners:
            owner.notify()
        done, pending = await asyncio.wait(tasks, timeout=30)
        assert not pending
        assert all(task.result() is True for task in done)

    owners = [zinc.SharedRegion.create(name, PAGE) for name in names]
    readers = [zinc.SharedRegion.open(name) for name in names]
    try:
        for reader in readers:
            reader.try_wait()  # nothing pending
        asyncio.run(scenario(owners, readers))
        # One thread per 127 regions (futex_waitv's 128 words, one its own).
        assert waiter.thread_count <= -(-count // zinc._async_wait.REGIONS_PER_THREAD) + 1
        assert all(sleepers(name) == 0 for name in names)
    finally:
        for region in readers + owners:
            region.close()


def test_pending_wait_async_calls_leave_the_default_executor_free(
    region_name: NameFactory, wait_mode: str
) -> None:
    # Before, every pending wait held a worker of asyncio's default executor
    # (min(32, CPUs + 4) of them): twelve long waits starved to_thread().
    names = [region_name(f"-{i}") for i in range(40)]

    async def scenario(readers: List[zinc.SharedRegion]) -> None:
        tasks = [asyncio.create_task(r.wait_async(600000)) for r in readers]
        await asyncio.sleep(0.2)
        assert await asyncio.wait_for(asyncio.to_thread(lambda: "ran"), 5) == "ran"
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    owners = [zinc.SharedRegion.create(name, PAGE) for name in names]
    readers = [zinc.SharedRegion.open(name) for name in names]
    try:
        asyncio.run(scenario(readers))
    finally:
        for region in readers + owners:
            region.close()


def test_waits_with_different_timeouts_each_end_at_their_own_deadline(
    region_name: NameFactory, wait_mode: str
) -> None:
    names = [region_name(f"-{i}") for i in range(3)]

    async def timed(region: zinc.SharedRegion, timeout_ms: int) -> Tuple[bool, float]:
        start = time.monotonic()
        result = await region.wait_async(timeout_ms)
        return result, time.monotonic() - start

    async def scenario(regions: List[zinc.SharedRegion]) -> List[Tuple[bool, float]]:
        return list(await asyncio.gather(*(timed(r, 100 * (i + 1)) for i, r in enumerate(regions))))

    regions = [zinc.SharedRegion.create(name, PAGE) for name in names]
    try:
        results = asyncio.run(scenario(regions))
    finally:
        for region in regions:
            region.close()
    for i, (notified, elapsed) in enumerate(results):
        assert notified is False
        assert 0.1 * (i + 1) <= elapsed < 0.1 * (i + 1) + 2


def test_waits_on_one_region_share_its_cursor_one_notification_each(
    region_name: NameFactory, wait_mode: str
) -> None:
    # The waits of one region object share its cursor (spec 5.5): each
    # notification is reported to one of them, as with threads in wait().
    name = region_name()

    async def scenario(owner: zinc.SharedRegion, reader: zinc.SharedRegion) -> List[int]:
        tasks = [asyncio.create_task(reader.wait_async(30000)) for _ in range(3)]
        finished = []
        for _ in range(3):
            await asyncio.sleep(0.2)  # every pending wait is asleep again
            owner.notify()
            waiting = [task for task in tasks if not task.done()]
            await asyncio.wait(waiting, timeout=10, return_when=asyncio.FIRST_COMPLETED)
            await asyncio.sleep(0.2)  # time for a wrong second completion
            finished.append(sum(task.done() for task in tasks))
        assert all(task.result() is True for task in tasks)
        return finished

    with zinc.SharedRegion.create(name, PAGE) as owner, zinc.SharedRegion.open(name) as reader:
        assert asyncio.run(scenario(owner, reader)) == [1, 2, 3]
        assert reader.try_wait() is False


def test_pending_notification_and_zero_timeout_answer_without_a_thread(
    region_name: NameFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_waiter(make_error: Any) -> None:
        raise AssertionError("wait_async went to a waiter thread")

    monkeypatch.setattr(zinc._async_wait, "shared_waiter", no_waiter)
    with zinc.SharedRegion.create(region_name(), PAGE) as region:
        region.notify()
        assert asyncio.run(region.wait_async(1000)) is True
        assert asyncio.run(region.wait_async(0)) is False


def test_without_futex_waitv_wait_async_falls_back_to_a_thread_per_wait(
    region_name: NameFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(zinc._async_wait, "futex_waitv_available", lambda: False)
    monkeypatch.setattr(zinc._async_wait, "_shared", None)
    assert zinc._async_wait.shared_waiter(zinc._errors.error) is None
    name = region_name()

    async def scenario(owner: zinc.SharedRegion, reader: zinc.SharedRegion) -> bool:
        waiting = asyncio.create_task(reader.wait_async(30000))
        await asyncio.sleep(0.05)
        assert "zinc-wait-async-thread" in [t.name for t in threading.enumerate()]
        owner.notify()
        return await waiting

    with zinc.SharedRegion.create(name, PAGE) as owner, zinc.SharedRegion.open(name) as reader:
        assert asyncio.run(scenario(owner, reader)) is True
    monkeypatch.setattr(zinc._async_wait, "_shared", None)  # the next test probes again


def test_zinc_wait_async_threads_in_the_environment_selects_the_fallback(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ZINC_WAIT_ASYNC", "threads")
    monkeypatch.setattr(zinc._async_wait, "_shared", None)
    assert zinc._async_wait.shared_waiter(zinc._errors.error) is None
    monkeypatch.setattr(zinc._async_wait, "_shared", None)


def test_forked_child_gets_waiter_threads_of_its_own(region_name: NameFactory) -> None:
    if zinc._async_wait.shared_waiter(zinc._errors.error) is None:
        pytest.skip("futex_waitv is not available here")
    name = region_name()
    code = f"""
import asyncio, os, zinc
owner = zinc.SharedRegion.create({name!r}, zinc.PAGE_SIZE)
reader = zinc.SharedRegion.open({name!r})
reader.try_wait()
assert asyncio.run(reader.wait_async(10)) is False   # the parent's waiter threads exist
pid = os.fork()
if pid == 0:
    async def child():
        task = asyncio.create_task(reader.wait_async(20000))
        await asyncio.sleep(0.1)
        owner.notify()
        return await task
    os._exit(0 if asyncio.run(child()) else 3)
_, status = os.waitpid(pid, 0)
print(os.waitstatus_to_exitcode(status))
"""
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "0"
