"""The machinery of ``SharedRegion.wait_async()``: waiter threads that wait on
many regions at once, so that pending waits neither block the event loop nor
hold a worker of its default executor.

Every pending wait_async() of the process is an entry of one waiter thread.
A waiter thread sleeps in the C library's wait set (zinc_wait_set_wait,
docs/spec.md section 11) on up to 127 regions, which is one futex_waitv
system call (Linux 5.16+), so 1,000 regions cost 8 threads. The set
registers the thread as a sleeper on each region's ``notify_seq`` exactly
as zinc_wait does, so a notifier never skips the wake. When the set reports
a region, the thread consumes the notification with zinc_try_wait() and
completes the future of that region's oldest wait on its event loop
(``call_soon_threadsafe``). Registering a wait, cancelling it and closing
its region interrupt the set's wait (zinc_wait_set_interrupt), which wakes
the thread at once.

Where futex_waitv is missing (an older kernel, a seccomp filter), or with
``ZINC_WAIT_ASYNC=threads`` in the environment, shared_waiter() returns None
and every wait_async() gets a dedicated thread of its own (ThreadWait)
instead.
"""

from __future__ import annotations

import asyncio
import ctypes
import errno
import math
import os
import platform
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

from ._ffi import ffi, lib

# futex_waitv's limit on the number of words; one is the wait set's own.
FUTEX_WAITV_MAX = 128
REGIONS_PER_THREAD = FUTEX_WAITV_MAX - 1

_SYS_FUTEX_WAITV = 449  # the same number on every architecture
_FUTEX2_SIZE_U32 = 0x02
_FUTEX2_PRIVATE = 128
_CLOCK_MONOTONIC = 1

ENVIRONMENT = "ZINC_WAIT_ASYNC"


class _FutexWaitv(ctypes.Structure):
    _fields_ = [
        ("val", ctypes.c_uint64),
        ("uaddr", ctypes.c_uint64),
        ("flags", ctypes.c_uint32),
        ("reserved", ctypes.c_uint32),
    ]


_libc = ctypes.CDLL(None, use_errno=True)
_syscall = _libc.syscall
_syscall.restype = ctypes.c_long


def futex_waitv_available() -> bool:
    """True if this kernel has futex_waitv, this process may call it, and the
    loaded library has wait sets."""
    if platform.machine() not in ("x86_64", "aarch64"):
        return False
    if getattr(lib, "zinc_wait_set_interrupt", None) is None:
        return False
    word = ctypes.c_uint32(0)
    vector = (_FutexWaitv * 1)()
    vector[0].uaddr = ctypes.addressof(word)
    vector[0].val = 1  # differs from the word: the call returns EAGAIN at once
    vector[0].flags = _FUTEX2_SIZE_U32 | _FUTEX2_PRIVATE
    result = int(
        _syscall(
            ctypes.c_long(_SYS_FUTEX_WAITV),
            ctypes.c_long(ctypes.addressof(vector)),
            ctypes.c_long(1),
            ctypes.c_long(0),
            ctypes.c_long(0),
            ctypes.c_long(_CLOCK_MONOTONIC),
        )
    )
    return result < 0 and ctypes.get_errno() == errno.EAGAIN


Result = Union[bool, BaseException]


def _settle(outcomes: List[Tuple[asyncio.Future[bool], Result]]) -> None:
    """On the event loop: completes the futures that are still pending."""
    for future, result in outcomes:
        if future.done():
            continue
        if isinstance(result, BaseException):
            future.set_exception(result)
        else:
            future.set_result(result)


def settle_all(
    outcomes: List[Tuple[asyncio.AbstractEventLoop, asyncio.Future[bool], Result]],
) -> None:
    """From any thread: completes futures on their loops, one call per loop."""
    by_loop: Dict[asyncio.AbstractEventLoop, List[Tuple[asyncio.Future[bool], Result]]] = {}
    for loop, future, result in outcomes:
        by_loop.setdefault(loop, []).append((future, result))
    for loop, items in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle, items)
        except RuntimeError:  # the loop is closed: nobody awaits these any more
            pass


class AsyncWait:
    """One pending wait_async() served by a waiter thread."""

    __slots__ = ("loop", "future", "deadline", "done", "_thread", "_slot")

    def __init__(
        self,
        thread: _WaiterThread,
        slot: _Slot,
        loop: asyncio.AbstractEventLoop,
        deadline: float,
    ) -> None:
        self.loop = loop
        self.future: asyncio.Future[bool] = loop.create_future()
        self.deadline = deadline
        self.done = False  # guarded by the thread's lock
        self._thread = thread
        self._slot = slot

    def set(self) -> None:
        """The region was closed: the wait ends with False (wait_async then
        raises ValueError). Any thread."""
        self._thread.finish(self, self._slot, False)

    def cancel(self) -> None:
        """The awaiting task was cancelled: forget the wait. Once this returns
        the waiter thread consumes no notification for it."""
        self._thread.finish(self, self._slot, None)


class _Slot:
    """A region with pending waits in one waiter thread (a member of its set)."""

    __slots__ = ("key", "handle", "waits")

    def __init__(self, key: int, handle: Any) -> None:
        self.key = key  # the handle's value: also its key in the wait set
        # Holding the handle keeps the region (and the set's member) alive.
        self.handle = handle
        self.waits: List[AsyncWait] = []


Outcomes = List[Tuple[asyncio.AbstractEventLoop, asyncio.Future[bool], Result]]


class _WaiterThread:
    """A daemon thread that waits on up to REGIONS_PER_THREAD regions at once,
    in a wait set of its own. A wake looks only at what can have changed:
    the regions the set reported, the slots that add() and finish() marked,
    and every slot's deadlines when the earliest one passed.
    """

    _KEYS = 128

    def __init__(self, make_error: Callable[[int], OSError]) -> None:
        self._make_error = make_error
        self._lock = threading.Lock()
        out = ffi.new("ZincWaitSet *")
        code = lib.zinc_wait_set_create(out)
        if code != 0:
            raise make_error(code)
        self._set = out[0]  # closed by the thread when it ends (never, today)
        self._keys = ffi.new("uint64_t[]", self._KEYS)
        self._slots: Dict[int, _Slot] = {}  # by handle value
        self._marked: Dict[int, _Slot] = {}  # slots to look at on the next wake
        self._earliest: Optional[float] = None  # no wait ends before; may be early
        self.broken = False
        self._thread = threading.Thread(target=self._run, name="zinc-wait-async", daemon=True)
        self._thread.start()

    def add(
        self,
        key: int,
        handle: Any,
        loop: asyncio.AbstractEventLoop,
        deadline: float,
        new_region: bool,
    ) -> Optional[AsyncWait]:
        """A wait on the region of `handle`, or None if this thread does not
        serve that region (new_region=False) or has no room (new_region=True)."""
        with self._lock:
            if self.broken:
                return None
            slot = self._slots.get(key)
            if slot is None:
                if not new_region or len(self._slots) >= REGIONS_PER_THREAD:
                    return None
                if lib.zinc_wait_set_add_region(self._set, handle, key) != 0:
                    return None  # closed meanwhile: the caller's own thread reports it
                slot = _Slot(key, handle)
                self._slots[key] = slot
            wait = AsyncWait(self, slot, loop, deadline)
            slot.waits.append(wait)
            if self._earliest is None or deadline < self._earliest:
                self._earliest = deadline
            self._marked[key] = slot
            lib.zinc_wait_set_interrupt(self._set)
        return wait

    def finish(self, wait: AsyncWait, slot: _Slot, result: Optional[bool]) -> None:
        with self._lock:
            if wait.done:
                return
            wait.done = True
            self._marked[slot.key] = slot
            lib.zinc_wait_set_interrupt(self._set)
        if result is not None:
            settle_all([(wait.loop, wait.future, result)])

    def _run(self) -> None:
        reported: Optional[List[int]] = None  # keys the set reported; None: look at all
        while True:
            outcomes: Outcomes = []
            with self._lock:
                self._look(reported, outcomes)
                deadline = self._earliest
            settle_all(outcomes)
            del outcomes
            if deadline is None:
                timeout = int(lib.ZINC_WAIT_FOREVER)
            else:
                # Rounded up, so the thread never wakes before the deadline it serves.
                left_ms = math.ceil((deadline - time.monotonic()) * 1000)
                timeout = min(max(left_ms, 0), int(lib.ZINC_WAIT_FOREVER) - 1)
            code = int(lib.zinc_wait_set_wait(self._set, timeout, self._keys, self._KEYS))
            if code > 0:
                reported = [int(self._keys[i]) for i in range(code)]
            elif code == lib.ZINC_EAGAIN:
                reported = []  # interrupted: the marked slots
            elif code == lib.ZINC_ETIMEDOUT:
                reported = None  # a deadline passed: everything
            else:
                self._fail(self._make_error(code))
                return

    def _look(self, reported: Optional[List[int]], outcomes: Outcomes) -> None:
        """Under the lock: completes what is due."""
        now = time.monotonic()
        if reported is None:
            candidates = list(self._slots.values())
            self._earliest = None
        else:
            candidates = [self._slots[k] for k in reported if k in self._slots]
        candidates += self._marked.values()
        self._marked = {}
        for slot in candidates:
            if self._slots.get(slot.key) is slot:  # not released earlier in this pass
                self._check(slot, now, outcomes)
        if reported is None:
            for slot in self._slots.values():
                soonest = min(w.deadline for w in slot.waits)
                if self._earliest is None or soonest < self._earliest:
                    self._earliest = soonest

    def _check(self, slot: _Slot, now: float, outcomes: Outcomes) -> None:
        waits = [w for w in slot.waits if not w.done]
        while waits:
            code = int(lib.zinc_try_wait(slot.handle))
            if code == lib.ZINC_EAGAIN:
                break
            if code == 0:
                # The waits of one region object share its cursor: each
                # notification goes to one of them (spec 5.5), the oldest.
                first = waits.pop(0)
                first.done = True
                outcomes.append((first.loop, first.future, True))
                continue
            error = self._make_error(code)
            for wait in waits:
                wait.done = True
                outcomes.append((wait.loop, wait.future, error))
            waits = []
        for wait in waits:
            if wait.deadline <= now:
                wait.done = True
                outcomes.append((wait.loop, wait.future, False))
        slot.waits = [w for w in waits if not w.done]
        if not slot.waits:
            self._remove(slot)

    def _remove(self, slot: _Slot) -> None:
        del self._slots[slot.key]
        # ENOENT: the region was closed and the set dropped it already.
        lib.zinc_wait_set_remove(self._set, slot.handle)
        slot.handle = None

    def _fail(self, error: OSError) -> None:
        outcomes: Outcomes = []
        with self._lock:
            self.broken = True
            for slot in self._slots.values():
                for wait in slot.waits:
                    if not wait.done:
                        wait.done = True
                        outcomes.append((wait.loop, wait.future, error))
                slot.handle = None
            self._slots.clear()
        settle_all(outcomes)


class Waiter:
    """This process's waiter threads; shared_waiter() gives the one to use."""

    def __init__(self, make_error: Callable[[int], OSError]) -> None:
        self._make_error = make_error
        self._lock = threading.Lock()
        self._threads: List[_WaiterThread] = []

    @property
    def thread_count(self) -> int:
        return len(self._threads)

    def add(
        self, handle: Any, loop: asyncio.AbstractEventLoop, deadline: float
    ) -> Optional[AsyncWait]:
        """A pending wait on `handle` until the monotonic `deadline`; None if
        the handle is closed (then the caller falls back to a thread of its
        own, which reports it)."""
        if lib.zinc_ptr(handle) == ffi.NULL:
            return None
        key = int(ffi.cast("uintptr_t", handle))
        with self._lock:
            self._threads = [t for t in self._threads if not t.broken]
            for new_region in (False, True):
                for thread in self._threads:
                    wait = thread.add(key, handle, loop, deadline, new_region)
                    if wait is not None:
                        return wait
            thread = _WaiterThread(self._make_error)
            self._threads.append(thread)
            return thread.add(key, handle, loop, deadline, True)


_shared: Optional[Tuple[int, Optional[Waiter]]] = None
_shared_lock = threading.Lock()


def shared_waiter(make_error: Callable[[int], OSError]) -> Optional[Waiter]:
    """The process's Waiter, made on first use; None where futex_waitv cannot
    be used or ZINC_WAIT_ASYNC=threads. A forked child gets its own (the
    parent's threads do not exist there)."""
    global _shared
    pid = os.getpid()
    with _shared_lock:
        if _shared is None or _shared[0] != pid:
            wanted = os.environ.get(ENVIRONMENT, "")
            usable = wanted != "threads" and futex_waitv_available()
            _shared = (pid, Waiter(make_error) if usable else None)
        return _shared[1]


class ThreadWait:
    """The fallback: a dedicated daemon thread runs one blocking wait. Never a
    worker of asyncio's default executor, so the application's own
    to_thread() calls are not starved."""

    def __init__(self, loop: asyncio.AbstractEventLoop, run: Callable[[], bool], stop: Any) -> None:
        self.future: asyncio.Future[bool] = loop.create_future()
        self._stop = stop
        threading.Thread(
            target=self._main, args=(loop, run), name="zinc-wait-async-thread", daemon=True
        ).start()

    def _main(self, loop: asyncio.AbstractEventLoop, run: Callable[[], bool]) -> None:
        try:
            result: Result = run()
        except BaseException as error:  # delivered to the awaiting task
            result = error
        settle_all([(loop, self.future, result)])

    def set(self) -> None:
        """The region was closed: the wait stops at its next slice (100 ms)."""
        self._stop.set()

    def cancel(self) -> None:
        self._stop.set()
