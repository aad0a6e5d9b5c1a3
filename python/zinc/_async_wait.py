"""The machinery of ``SharedRegion.wait_async()``: waiter threads that wait on
many regions at once, so that pending waits neither block the event loop nor
hold a worker of its default executor.

Every pending wait_async() of the process is an entry of one waiter thread.
A waiter thread sleeps in a single futex_waitv system call (Linux 5.16+) on
the ``notify_seq`` words of up to 127 regions and on a control word of its
own (futex_waitv takes at most 128 words), so 1,000 regions cost 8 threads.
When a word changes, the thread consumes the notification with
zinc_try_wait() and completes the future of that region's oldest wait on
its event loop (``call_soon_threadsafe``). Registering a wait, cancelling it and
closing its region change the control word, which wakes the thread at once.

The words are read where docs/spec.md puts them: ``notify_seq`` at byte 12 of
the mapping, one page before ``zinc_ptr()``. A region that carries the
waiter-count block (spec section 9) counts its sleepers, and a notifier
skips the futex wake when nobody sleeps: while a region has pending waits
here, its ``sleepers`` word (byte 80) holds one more, added and removed
atomically by the kernel (FUTEX_WAKE_OP with a wake count of 0, the one
atomic read-modify-write on shared memory the ABI mode can reach), so no
wake is lost. A process that dies registered leaves the count too high,
which only costs notifiers a system call (spec 9.5).

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

# futex_waitv's limit on the number of words; one is the control word.
FUTEX_WAITV_MAX = 128
REGIONS_PER_THREAD = FUTEX_WAITV_MAX - 1

_SYS_FUTEX = {"x86_64": 202, "aarch64": 98}.get(platform.machine())
_SYS_FUTEX_WAITV = 449  # the same number on every architecture
_FUTEX_WAKE_PRIVATE = 1 | 128
_FUTEX_WAKE_OP = 5
_FUTEX_OP_ADD = 1
_FUTEX_OP_CMP_EQ = 0
_FUTEX2_SIZE_U32 = 0x02
_FUTEX2_PRIVATE = 128
_CLOCK_MONOTONIC = 1

# The header (docs/spec.md sections 3 and 9), as offsets into the mapping.
_MAGIC_OFFSET = 0
_NOTIFY_SEQ_OFFSET = 12
_CREATED_AT_OFFSET = 32
_WCT_TAG_OFFSET = 64
_SLEEPERS_OFFSET = 80
_MAGIC = 0x5A494E435F524547
_MAGIC_WCT = 0x5A494E435F574354

ENVIRONMENT = "ZINC_WAIT_ASYNC"

_zinc_page_size = getattr(lib, "zinc_page_size", None)
if _zinc_page_size is not None:
    _PAGE_SIZE = int(_zinc_page_size())
else:  # pragma: no cover - only with an original core library
    import mmap

    _PAGE_SIZE = mmap.PAGESIZE


class _FutexWaitv(ctypes.Structure):
    _fields_ = [
        ("val", ctypes.c_uint64),
        ("uaddr", ctypes.c_uint64),
        ("flags", ctypes.c_uint32),
        ("reserved", ctypes.c_uint32),
    ]


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


_libc = ctypes.CDLL(None, use_errno=True)
_syscall = _libc.syscall
_syscall.restype = ctypes.c_long


def _call(*args: int) -> Tuple[int, int]:
    """syscall(args...): (result, errno). ctypes releases the GIL meanwhile."""
    result = int(_syscall(*(ctypes.c_long(a) for a in args)))
    return result, (ctypes.get_errno() if result < 0 else 0)


def futex_waitv(vector: Any, count: int, deadline: Optional[float], timeout: Any) -> int:
    """Sleeps until one of the first `count` words of `vector` differs from its
    expected value, is woken, or the monotonic `deadline` passes (None: no
    deadline). 0 or an errno (EAGAIN: a word already differed; ETIMEDOUT;
    EINTR)."""
    timeout_address = 0
    if deadline is not None:
        seconds = math.floor(deadline)
        timeout.tv_sec = seconds
        # Rounded up, so the thread never wakes before the deadline it serves.
        timeout.tv_nsec = min(999_999_999, math.ceil((deadline - seconds) * 1e9))
        timeout_address = ctypes.addressof(timeout)
    result, error = _call(
        _SYS_FUTEX_WAITV, ctypes.addressof(vector), count, 0, timeout_address, _CLOCK_MONOTONIC
    )
    return 0 if result >= 0 else error


def atomic_add(address: int, amount: int) -> None:
    """Adds `amount` (-2048..2047) to the u32 at `address`, atomically and with
    a full barrier: FUTEX_WAKE_OP performs the add and wakes no one."""
    operation = (_FUTEX_OP_ADD << 28) | (_FUTEX_OP_CMP_EQ << 24) | ((amount & 0xFFF) << 12)
    assert _SYS_FUTEX is not None
    result, error = _call(_SYS_FUTEX, address, _FUTEX_WAKE_OP, 0, 0, address, operation)
    if result < 0:
        raise OSError(error, f"futex(FUTEX_WAKE_OP) on the sleepers word: {os.strerror(error)}")


def _wake_private(address: int) -> None:
    assert _SYS_FUTEX is not None
    _call(_SYS_FUTEX, address, _FUTEX_WAKE_PRIVATE, 1, 0, 0, 0)


def futex_waitv_available() -> bool:
    """True if this kernel has futex_waitv and this process may call it."""
    if _SYS_FUTEX is None:
        return False
    word = ctypes.c_uint32(0)
    vector = (_FutexWaitv * 1)()
    vector[0].uaddr = ctypes.addressof(word)
    vector[0].val = 1  # differs from the word: the call returns EAGAIN at once
    vector[0].flags = _FUTEX2_SIZE_U32 | _FUTEX2_PRIVATE
    return futex_waitv(vector, 1, None, None) == errno.EAGAIN


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
    """A region with pending waits in one waiter thread."""

    __slots__ = (
        "key",
        "handle",
        "seq",
        "seq_address",
        "sleepers_address",
        "expected",
        "waits",
        "index",
    )

    def __init__(self, key: int, handle: Any, base: int, sleepers_address: Optional[int]) -> None:
        self.key = key
        # Holding the handle keeps the mapping, and so the words, in place.
        self.handle = handle
        self.seq_address = base + _NOTIFY_SEQ_OFFSET
        self.seq: Any = ffi.cast("uint32_t *", self.seq_address)
        self.sleepers_address = sleepers_address
        self.expected: Optional[int] = None  # notify_seq when last found unchanged
        self.waits: List[AsyncWait] = []
        self.index = -1  # position in the thread's vector, less one; -1: not in it


Outcomes = List[Tuple[asyncio.AbstractEventLoop, asyncio.Future[bool], Result]]


class _WaiterThread:
    """A daemon thread that waits on up to REGIONS_PER_THREAD regions at once.

    Its vector holds the control word, then one word per region (the slots in
    _order). A wake looks only at what can have changed: the region whose
    word woke it, the slots that add() and finish() marked, every word that
    differs from its expected value when futex_waitv found one that did
    (EAGAIN), and every slot's deadlines when the earliest one passed.
    """

    def __init__(self, make_error: Callable[[int], OSError]) -> None:
        self._make_error = make_error
        self._lock = threading.Lock()
        self._control = ctypes.c_uint32(0)
        self._slots: Dict[int, _Slot] = {}  # by handle address
        self._order: List[_Slot] = []  # the slot of vector entry i + 1 is _order[i]
        self._marked: Dict[int, _Slot] = {}  # slots to look at on the next wake
        self._earliest: Optional[float] = None  # no wait ends before; may be early
        self._vector = (_FutexWaitv * FUTEX_WAITV_MAX)()
        self._vector[0].uaddr = ctypes.addressof(self._control)
        self._vector[0].flags = _FUTEX2_SIZE_U32 | _FUTEX2_PRIVATE
        for entry in self._vector[1:]:
            entry.flags = _FUTEX2_SIZE_U32  # shared: the words are in other processes too
        self._timeout = _Timespec()
        self.broken = False
        self._thread = threading.Thread(target=self._run, name="zinc-wait-async", daemon=True)
        self._thread.start()

    def add(
        self,
        key: int,
        handle: Any,
        base: int,
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
                slot = _Slot(key, handle, base, _sleepers_word(base))
                if slot.sleepers_address is not None:
                    atomic_add(slot.sleepers_address, 1)
                self._slots[key] = slot
            wait = AsyncWait(self, slot, loop, deadline)
            slot.waits.append(wait)
            if self._earliest is None or deadline < self._earliest:
                self._earliest = deadline
            self._marked[key] = slot
            self._poke()
        return wait

    def finish(self, wait: AsyncWait, slot: _Slot, result: Optional[bool]) -> None:
        with self._lock:
            if wait.done:
                return
            wait.done = True
            self._marked[slot.key] = slot
            self._poke()
        if result is not None:
            settle_all([(wait.loop, wait.future, result)])

    def _poke(self) -> None:
        # Under the lock: the thread reads the control word under it too,
        # before it looks at the slots, so it cannot sleep past this change.
        self._control.value = (self._control.value + 1) & 0xFFFFFFFF
        _wake_private(ctypes.addressof(self._control))

    def _run(self) -> None:
        woken: Optional[int] = None  # what the last futex_waitv said; None: look at all
        while True:
            outcomes: Outcomes = []
            with self._lock:
                self._vector[0].val = self._control.value
                self._look(woken, outcomes)
                count = len(self._order) + 1
                deadline = self._earliest
            settle_all(outcomes)
            del outcomes
            result, error = _call(
                _SYS_FUTEX_WAITV,
                ctypes.addressof(self._vector),
                count,
                0,
                self._set_timeout(deadline),
                _CLOCK_MONOTONIC,
            )
            if result >= 0:
                woken = result
            elif error == errno.EAGAIN:
                woken = -1
            elif error in (errno.ETIMEDOUT, errno.EINTR):
                woken = None
            else:
                self._fail(OSError(error, f"futex_waitv failed: {os.strerror(error)}"))
                return

    def _set_timeout(self, deadline: Optional[float]) -> int:
        if deadline is None:
            return 0
        seconds = math.floor(deadline)
        self._timeout.tv_sec = seconds
        # Rounded up, so the thread never wakes before the deadline it serves.
        self._timeout.tv_nsec = min(999_999_999, math.ceil((deadline - seconds) * 1e9))
        return ctypes.addressof(self._timeout)

    def _look(self, woken: Optional[int], outcomes: Outcomes) -> None:
        """Under the lock: completes what is due and updates the vector."""
        now = time.monotonic()
        if woken is None:  # a deadline passed (or a signal): everything
            candidates = list(self._order)
            self._earliest = None
        elif woken == -1:  # some word differed from its expected value
            candidates = [s for s in self._order if int(s.seq[0]) != s.expected]
        elif woken > 0:
            candidates = [self._order[woken - 1]]
        else:
            candidates = []
        candidates += self._marked.values()
        self._marked = {}
        for slot in candidates:
            if self._slots.get(slot.key) is slot:  # not released earlier in this pass
                self._check(slot, now, outcomes)
        if woken is None:
            for slot in self._order:
                soonest = min(w.deadline for w in slot.waits)
                if self._earliest is None or soonest < self._earliest:
                    self._earliest = soonest

    def _check(self, slot: _Slot, now: float, outcomes: Outcomes) -> None:
        waits = [w for w in slot.waits if not w.done]
        while waits:
            # notify_seq is read before zinc_try_wait: if that finds nothing
            # pending, the cursor equals what it read, which is this value or
            # a later one; a later one makes futex_waitv return at once.
            seq = int(slot.seq[0])
            if seq == slot.expected:
                break
            code = int(lib.zinc_try_wait(slot.handle))
            if code == lib.ZINC_EAGAIN:
                slot.expected = seq
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
            return
        if slot.index < 0:
            slot.index = len(self._order)
            self._order.append(slot)
            self._vector[slot.index + 1].uaddr = slot.seq_address
        self._vector[slot.index + 1].val = slot.expected

    def _remove(self, slot: _Slot) -> None:
        if slot.index >= 0:
            last = self._order.pop()
            if last is not slot:
                self._order[slot.index] = last
                last.index = slot.index
                self._vector[last.index + 1].uaddr = last.seq_address
                self._vector[last.index + 1].val = last.expected
            slot.index = -1
        del self._slots[slot.key]
        self._release(slot)

    def _release(self, slot: _Slot) -> None:
        if slot.sleepers_address is not None:
            try:
                atomic_add(slot.sleepers_address, -1)
            except OSError:
                pass  # a count left too high only costs notifiers a wake
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
                self._release(slot)
            self._slots.clear()
            self._order.clear()
        settle_all(outcomes)


def _sleepers_word(base: int) -> Optional[int]:
    """The address of the region's sleepers count, or None if the region has
    no waiter-count block in force (then every notify wakes)."""
    tag = int(ffi.cast("uint64_t *", base + _WCT_TAG_OFFSET)[0])
    created_at = int(ffi.cast("uint64_t *", base + _CREATED_AT_OFFSET)[0])
    if tag != _MAGIC_WCT ^ created_at:
        return None
    return base + _SLEEPERS_OFFSET


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
        the mapping does not start with a zinc header (then the caller falls
        back to a thread of its own)."""
        data = lib.zinc_ptr(handle)
        if data == ffi.NULL:
            return None
        base = int(ffi.cast("uintptr_t", data)) - _PAGE_SIZE
        if int(ffi.cast("uint64_t *", base + _MAGIC_OFFSET)[0]) != _MAGIC:
            return None
        key = int(ffi.cast("uintptr_t", handle))
        with self._lock:
            self._threads = [t for t in self._threads if not t.broken]
            for new_region in (False, True):
                for thread in self._threads:
                    wait = thread.add(key, handle, base, loop, deadline, new_region)
                    if wait is not None:
                        return wait
            thread = _WaiterThread(self._make_error)
            self._threads.append(thread)
            return thread.add(key, handle, base, loop, deadline, True)


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
