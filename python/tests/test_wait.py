"""notify/wait/try_wait: results, timeouts, threads, Ctrl-C and close() while waiting."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Callable, List

import pytest
from conftest import NameFactory, Peer, object_path
from hypothesis import given
from hypothesis import strategies as st

import zinc

PAGE = zinc.PAGE_SIZE


def test_wait_returns_true_after_notify_and_false_on_timeout(region_name: NameFactory) -> None:
    name = region_name()
    with zinc.SharedRegion.create(name, PAGE) as owner, zinc.SharedRegion.open(name) as reader:
        assert reader.wait(0) is False
        assert reader.wait(50) is False
        owner.notify()
        assert reader.wait(1000) is True
        assert reader.wait(0) is False


def test_try_wait_consumes_one_coalesced_notification(region_name: NameFactory) -> None:
    name = region_name()
    with zinc.SharedRegion.create(name, PAGE) as owner, zinc.SharedRegion.open(name) as reader:
        assert reader.try_wait() is False
        owner.notify()
        owner.notify()
        assert reader.try_wait() is True
        assert reader.try_wait() is False


def test_a_handle_sees_its_own_notifications(region_name: NameFactory) -> None:
    with zinc.SharedRegion.create(region_name(), PAGE) as region:
        region.notify()
        assert region.try_wait() is True


@given(notifies=st.lists(st.booleans(), max_size=20))
def test_wait_and_try_wait_share_one_cursor(region_name: NameFactory, notifies: List[bool]) -> None:
    # A model: after any sequence of notify / consume steps, a handle has
    # something pending exactly when a notify came after its last consume.
    name = region_name()
    with zinc.SharedRegion.create(name, PAGE) as owner, zinc.SharedRegion.open(name) as reader:
        pending = False
        for step, notify in enumerate(notifies):
            if notify:
                owner.notify()
                pending = True
            else:
                consume = reader.try_wait if step % 2 else (lambda: reader.wait(0))
                assert consume() is pending
                pending = False


def test_timed_out_wait_returns_within_a_generous_bound(region_name: NameFactory) -> None:
    with zinc.SharedRegion.create(region_name(), PAGE) as region:
        start = time.monotonic()
        assert region.wait(250) is False
        elapsed = time.monotonic() - start
        assert 0.2 <= elapsed < 5.0


def test_long_wait_wakes_on_a_notify_from_another_thread(region_name: NameFactory) -> None:
    name = region_name()
    with zinc.SharedRegion.create(name, PAGE) as owner, zinc.SharedRegion.open(name) as reader:
        notifier = threading.Timer(0.05, owner.notify)
        notifier.start()
        start = time.monotonic()
        assert reader.wait(30000) is True
        assert time.monotonic() - start < 10
        notifier.join()


def test_wait_releases_the_gil_for_other_threads(
    region_name: NameFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One slice for the whole wait: the notifying thread can only run Python
    # code while the native wait holds no GIL. If it held the GIL, the wait
    # would time out (False) instead of being woken (True).
    monkeypatch.setattr(zinc._region, "_WAIT_SLICE_MS", 20000)
    name = region_name()
    with zinc.SharedRegion.create(name, PAGE) as owner, zinc.SharedRegion.open(name) as reader:
        started = threading.Event()

        def notify_once_the_wait_started() -> None:
            started.wait()
            time.sleep(0.05)
            owner.notify()

        thread = threading.Thread(target=notify_once_the_wait_started)
        thread.start()
        started.set()
        assert reader.wait(20000) is True
        thread.join()


def test_close_from_another_thread_ends_a_wait_with_value_error(region_name: NameFactory) -> None:
    region = zinc.SharedRegion.create(region_name(), PAGE)
    closer = threading.Timer(0.1, region.close)
    closer.start()
    start = time.monotonic()
    with pytest.raises(ValueError, match="region is closed"):
        region.wait(30000)
    assert time.monotonic() - start < 10
    closer.join()


def test_many_threads_waiting_on_one_region_all_wake(region_name: NameFactory) -> None:
    # Each waiter must return soon after the notify, not at its deadline.
    # (wait() sleeps in 100 ms slices, so this bound alone cannot tell a
    # notify that woke only one sleeper; test_core_behaviours.py checks that
    # with zinc_wait itself.)
    name = region_name()
    results: List[bool] = []
    woke: List[float] = []

    def wait(reader: zinc.SharedRegion) -> None:
        results.append(reader.wait(30000))
        woke.append(time.monotonic())

    with zinc.SharedRegion.create(name, PAGE) as owner:
        readers = [zinc.SharedRegion.open(name) for _ in range(4)]
        threads = [threading.Thread(target=wait, args=(r,)) for r in readers]
        for thread in threads:
            thread.start()
        notified = time.monotonic()
        owner.notify()
        for thread in threads:
            thread.join(timeout=30)
        assert results == [True] * 4
        assert max(woke) - notified < 2.0, f"a waiter woke {max(woke) - notified:.2f} s late"
        for reader in readers:
            reader.close()


@pytest.mark.parametrize("timeout", [-1, 2**32, 2**64])
def test_timeout_outside_the_c_range_raises_overflow_error(
    region_name: NameFactory, timeout: int
) -> None:
    with zinc.SharedRegion.create(region_name(), PAGE) as region:
        with pytest.raises(OverflowError, match="timeout_ms must be between 0 and 4294967295"):
            region.wait(timeout)


@pytest.mark.parametrize("timeout", [0.5, "100", None])
def test_timeout_that_is_not_an_int_raises_type_error(
    region_name: NameFactory, timeout: object
) -> None:
    with zinc.SharedRegion.create(region_name(), PAGE) as region:
        with pytest.raises(TypeError):
            region.wait(timeout)  # type: ignore[arg-type]


def test_largest_timeout_is_accepted(region_name: NameFactory) -> None:
    name = region_name()
    with zinc.SharedRegion.create(name, PAGE) as region:
        region.notify()
        assert region.wait(2**32 - 1) is True


def wait_until_blocked_in_futex(pid: int) -> None:
    """Waits until process `pid` sleeps in the kernel (its wait), at most 10 s."""
    wchan = Path(f"/proc/{pid}/wchan")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if "futex" in wchan.read_text():
                return
        except OSError:
            pass
        time.sleep(0.01)


def ctrl_c_ends_the_wait(waiter: Peer, finish_timeout: float) -> None:
    """Once `waiter` prints "waiting" and sleeps in the kernel, sends it
    SIGINT: within 5 s it must print "interrupted" (its KeyboardInterrupt
    handler ran) and exit 0. `finish_timeout` bounds the wait for its exit
    when it does not."""
    assert waiter.readline() == "waiting\n", waiter.finish().stderr
    wait_until_blocked_in_futex(waiter.process.pid)
    sent = time.monotonic()
    os.kill(waiter.process.pid, signal.SIGINT)
    result = waiter.finish(timeout=finish_timeout)
    assert time.monotonic() - sent < 5, "Ctrl-C was not honoured promptly"
    assert result.returncode == 0, result.stderr
    assert result.stdout == "interrupted\n"


def test_ctrl_c_during_a_long_wait_raises_keyboard_interrupt_promptly(
    region_name: NameFactory, peers: Callable[..., Peer]
) -> None:
    name = region_name()
    waiter = peers(
        "-c",
        "import zinc\n"
        f"with zinc.SharedRegion.create({name!r}, zinc.PAGE_SIZE) as region:\n"
        "    print('waiting', flush=True)\n"
        "    try:\n"
        "        region.wait(600000)\n"
        "    except KeyboardInterrupt:\n"
        "        print('interrupted', flush=True)\n",
    )
    ctrl_c_ends_the_wait(waiter, finish_timeout=30)
    assert not object_path(name).exists()  # the with block ran: unlinked
