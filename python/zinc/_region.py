"""zinc.SharedRegion: a named shared-memory region, its mapping and its
notify cursor (docs/spec.md sections 3 to 5), and the blocking wait that
Ctrl-C and close() can interrupt. wait_async() imports the asyncio machinery
(zinc._async_wait) on its first call, not before.
"""

from __future__ import annotations

import contextvars
import math
import operator
import os
import time
from typing import (
    TYPE_CHECKING,
    Any,
    NoReturn,
    Optional,
    Set,
    Tuple,
    Type,
    TypeVar,
    Union,
    overload,
)

from ._closeable import Closeable
from ._errors import check as _check
from ._errors import checked_integer as _integer
from ._errors import encode_name as _name
from ._errors import error as _error
from ._errors import require_numpy
from ._errors import text as _text
from ._ffi import ffi, lib

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import DTypeLike, NDArray

    from ._async_wait import AsyncWait, ThreadWait

    _ScalarT = TypeVar("_ScalarT", bound=np.generic)

_R = TypeVar("_R", bound="SharedRegion")


def _optional(name: str) -> Any:
    # The additions to the original nine functions; None when the loaded
    # library is an original zinc core without them.
    return getattr(lib, name, None)


_zinc_page_size = _optional("zinc_page_size")
_zinc_name = _optional("zinc_name")
_zinc_create_ex = _optional("zinc_create_ex")

if _zinc_page_size is not None:
    PAGE_SIZE: int = int(_zinc_page_size())
    """The page size: region capacities are multiples of it."""
else:  # pragma: no cover - only with an original core library
    import mmap

    PAGE_SIZE = mmap.PAGESIZE

MAX_NAME_LEN = 250
"""The longest region name, in bytes."""

# wait() blocks in slices of at most this long so that Ctrl-C, close() from
# another thread and the cancellation of wait_async() take effect promptly. A
# slice that times out consumes nothing, so slicing does not change what a
# wait observes.
_WAIT_SLICE_MS = 100

_TIMEOUT_MAX = 2**32 - 1
_SIZE_MAX = 2**64 - 1


class _StopFlag:
    """Tells a wait to stop at its next slice; set by close() and by the
    cancellation of wait_async().

    A bare flag rather than a threading.Event: a wait polls it between native
    slices and never blocks on it, and an Event (a Condition and a lock) cost
    more than the rest of wait() together (about 1.6 us of 3 us per call).
    Setting and reading one attribute is atomic under the GIL.
    """

    __slots__ = ("_set",)

    def __init__(self) -> None:
        self._set = False

    def set(self) -> None:
        self._set = True

    def is_set(self) -> bool:
        return self._set


# The stop flag of the wait running in this context. A context variable, so
# that _wait keeps its (handle, timeout_ms) signature and asyncio.to_thread
# carries the flag into the worker thread.
_stop_waiting: contextvars.ContextVar[Optional[_StopFlag]] = contextvars.ContextVar(
    "zinc_stop_waiting", default=None
)


def _wait(handle: Any, timeout_ms: int) -> bool:
    """Blocks on `handle` up to timeout_ms; True if a notification came.

    Module-level so that tests can replace it; wait() and wait_async() look it
    up at call time.
    """
    stop = _stop_waiting.get()
    deadline = time.monotonic() + timeout_ms / 1000
    remaining = timeout_ms
    while True:
        code = lib.zinc_wait(handle, min(remaining, _WAIT_SLICE_MS))
        if code == 0:
            return True
        if code != lib.ZINC_ETIMEDOUT:
            raise _error(code)
        if stop is not None and stop.is_set():
            return False
        remaining = math.ceil((deadline - time.monotonic()) * 1000)
        if remaining <= 0:
            return False


def _numpy() -> Any:
    return require_numpy("SharedRegion.as_numpy()")


class SharedRegion(Closeable):
    """A named shared-memory region: a mapping of its data and a notify cursor.

    Make one with :meth:`create` (the creator; its close unlinks the name) or
    :meth:`open`. Close it with :meth:`close`, a ``with`` block, or by letting
    it be garbage-collected. Views taken from it stay valid after the close:
    the mapping lives until the last view is released.
    """

    def __init__(self, handle: Any) -> None:
        """Wraps a raw ``ZincHandle``; use :meth:`create` or :meth:`open`."""
        if handle == ffi.NULL:
            raise ValueError("handle is NULL")
        # zinc_close runs when the last reference to this cdata goes: the
        # region's own (dropped by close()) or those held by views and waits.
        self._h: Any = ffi.gc(handle, lib.zinc_close)
        self._capacity = int(lib.zinc_capacity(handle))
        name = _zinc_name(handle) if _zinc_name is not None else ffi.NULL
        self._name = "" if name == ffi.NULL else _text(name)
        self._owner = False
        # The process that made the handle. In a fork() child the region is
        # inherited: usable, but its close only drops the child's mapping
        # (the native close checks the process too).
        self._pid = os.getpid()
        # What close() stops: the stop flags of wait() and the pending wait_async().
        self._waits: Set[Union[_StopFlag, AsyncWait, ThreadWait]] = set()

    @classmethod
    def create(
        cls: Type[_R],
        name: str,
        capacity: int,
        *,
        replace_stale: bool = False,
        prefault: bool = False,
        reserve: bool = True,
    ) -> _R:
        """Creates region `name` with `capacity` bytes (a multiple of PAGE_SIZE).

        Raises FileExistsError if the name is taken, OSError with errno EINVAL
        for an invalid name or capacity, ValueError for a NUL in the name.

        With ``replace_stale=True`` a region left behind by a creator that has
        died (see :func:`list_regions`) is unlinked and created anew; processes
        still mapping the old one keep their mapping. A region whose creator is
        alive, or an object that is not a valid region, is never replaced: that
        is still FileExistsError, saying why. ``prefault=True`` maps the pages
        populated so the first writes do not fault them in.

        By default every page is reserved in /dev/shm at create, so a full
        /dev/shm raises OSError(ENOSPC) here. ``reserve=False`` skips that: the
        create costs the same for any capacity and only written pages take
        memory, but a write that /dev/shm has no room for kills the process
        with SIGBUS. It cannot be combined with ``prefault=True``.
        """
        encoded = _name(name)
        size = operator.index(capacity)
        if not 0 <= size <= _SIZE_MAX:
            # 0 is in the C type's range, and the library refuses it (EINVAL).
            raise OverflowError(
                f"capacity must be a positive multiple of the page size ({PAGE_SIZE}) "
                f"below 2**64, got {size}"
            )
        out = ffi.new("ZincHandle *")
        flags = (
            (int(lib.ZINC_CREATE_REPLACE_STALE) if replace_stale else 0)
            | (int(lib.ZINC_CREATE_PREFAULT) if prefault else 0)
            | (0 if reserve else int(lib.ZINC_CREATE_NORESERVE))
        )
        if flags == 0:
            _check(lib.zinc_create(encoded, size, out))
        elif _zinc_create_ex is None:  # pragma: no cover - only with an original core library
            raise NotImplementedError(
                "replace_stale, prefault and reserve=False need zinc_create_ex, which the loaded "
                "libzinc_core (an original zinc core) does not have"
            )
        else:
            _check(_zinc_create_ex(encoded, size, flags, out))
        region = cls(out[0])
        region._name = name
        region._owner = True
        return region

    @classmethod
    def open(cls: Type[_R], name: str) -> _R:
        """Opens the existing region `name`.

        Raises FileNotFoundError if there is none, OSError with errno EBADMSG
        if its header is not a valid zinc header, BlockingIOError if its
        creator has not finished creating it (retry).
        """
        encoded = _name(name)
        out = ffi.new("ZincHandle *")
        _check(lib.zinc_open(encoded, out))
        region = cls(out[0])
        region._name = name
        return region

    def _handle(self) -> Any:
        handle = self._h
        if handle is None:
            raise ValueError("region is closed")
        return handle

    @property
    def name(self) -> str:
        """The name given to create() or open() (also after close)."""
        return self._name

    @property
    def capacity(self) -> int:
        """Usable bytes in the region (also after close)."""
        return self._capacity

    @property
    def closed(self) -> bool:
        """True once close() was called."""
        return self._h is None

    def as_buffer(self) -> memoryview:
        """A writable memoryview of the region's data (no copy).

        The view keeps the mapping alive: it stays valid after close().
        """
        handle = self._handle()

        # The buffer keeps `pointer` alive, and `pointer`'s destructor keeps
        # the handle (and so the mapping) alive until the buffer goes.
        def keep_handle(_pointer: Any, _handle: Any = handle) -> None:
            pass

        pointer = ffi.gc(lib.zinc_ptr(handle), keep_handle)
        return memoryview(ffi.buffer(pointer, self._capacity))

    @overload
    def as_numpy(
        self,
        dtype: None = ...,
        *,
        shape: Union[int, Tuple[int, ...], None] = ...,
        offset: int = ...,
        count: Optional[int] = ...,
    ) -> NDArray[np.uint8]: ...

    @overload
    def as_numpy(
        self,
        dtype: Type[_ScalarT],
        *,
        shape: Union[int, Tuple[int, ...], None] = ...,
        offset: int = ...,
        count: Optional[int] = ...,
    ) -> NDArray[_ScalarT]: ...

    @overload
    def as_numpy(
        self,
        dtype: np.dtype[_ScalarT],
        *,
        shape: Union[int, Tuple[int, ...], None] = ...,
        offset: int = ...,
        count: Optional[int] = ...,
    ) -> NDArray[_ScalarT]: ...

    @overload
    def as_numpy(
        self,
        dtype: DTypeLike,
        *,
        shape: Union[int, Tuple[int, ...], None] = ...,
        offset: int = ...,
        count: Optional[int] = ...,
    ) -> NDArray[Any]: ...

    def as_numpy(
        self,
        dtype: Optional[DTypeLike] = None,
        *,
        shape: Union[int, Tuple[int, ...], None] = None,
        offset: int = 0,
        count: Optional[int] = None,
    ) -> NDArray[Any]:
        """A numpy array over the region's data (no copy).

        By default uint8 of shape (capacity,). With `dtype` (any numpy dtype
        without Python objects: structured, subarray, strings...) the array
        holds as many items as fit after `offset` bytes, or `count` items, or
        has `shape`. `offset` must be a multiple of the dtype's alignment. A
        subarray dtype such as ``("<f4", (3,))`` adds its shape to the array's,
        as numpy does. Writes through the array are writes to the shared
        memory. Bad arguments raise ValueError saying what does not fit. Needs
        numpy (an ImportError says so).
        """
        buffer = self.as_buffer()
        np = _numpy()
        item = np.dtype(np.uint8 if dtype is None else dtype)
        if item.hasobject:
            raise TypeError(
                f"dtype {item} holds Python objects, which cannot live in shared memory"
            )
        if item.itemsize == 0:
            raise ValueError(f"dtype {item} has no size")
        start = operator.index(offset)
        if not 0 <= start <= self._capacity:
            raise ValueError(f"offset {start} is outside the region (capacity {self._capacity})")
        # The data starts on a page boundary, so an offset's alignment is its
        # address's alignment.
        if start % item.alignment:
            raise ValueError(
                f"offset {start} is not a multiple of the alignment of {item} "
                f"({item.alignment} bytes)"
            )
        if shape is not None and count is not None:
            raise ValueError("give shape or count, not both")
        if count is not None:
            dims: Tuple[int, ...] = (operator.index(count),)
        elif shape is None:
            dims = ((self._capacity - start) // item.itemsize,)
        elif isinstance(shape, tuple):
            dims = tuple(operator.index(n) for n in shape)
        else:
            dims = (operator.index(shape),)
        if count is not None and dims[0] < 0:
            raise ValueError(f"count {dims[0]} is negative")
        if any(n < 0 for n in dims):
            raise ValueError(f"shape {dims} has a negative dimension")
        nbytes = math.prod(dims) * item.itemsize
        if start + nbytes > self._capacity:
            what = f"count {dims[0]}" if count is not None else f"shape {dims}"
            raise ValueError(
                f"{what} of {item} needs {nbytes} bytes at offset {start}, "
                f"but the region has {self._capacity - start} bytes there "
                f"(capacity {self._capacity})"
            )
        # A subarray dtype is its base dtype with its shape appended, nested
        # ones outermost first (as in np.empty(dims, dtype)); frombuffer alone
        # would not reshape to dims.
        base, tail = item, ()
        while base.subdtype is not None:
            base, subshape = base.subdtype
            tail += subshape
        array: NDArray[Any] = np.frombuffer(buffer[start : start + nbytes], dtype=base)
        return array.reshape(dims + tail)

    def notify(self) -> None:
        """Wakes every waiter on this region, in every process."""
        lib.zinc_notify(self._handle())

    def _begin_wait(self) -> Tuple[_StopFlag, contextvars.Token[Optional[_StopFlag]]]:
        stop = _StopFlag()
        self._waits.add(stop)
        return stop, _stop_waiting.set(stop)

    def _end_wait(
        self,
        stop: _StopFlag,
        token: contextvars.Token[Optional[_StopFlag]],
    ) -> None:
        _stop_waiting.reset(token)
        self._waits.discard(stop)

    def wait(self, timeout_ms: int = 1000) -> bool:
        """Blocks until a notification this region has not seen yet, or timeout.

        True if notified, False if `timeout_ms` passed. Notifications coalesce:
        several notifies before a wait are one. Other threads run meanwhile,
        and Ctrl-C interrupts it. A close() from another thread ends it with
        ValueError("region is closed").
        """
        handle = self._handle()
        timeout = _integer(timeout_ms, "timeout_ms", _TIMEOUT_MAX)
        stop, token = self._begin_wait()
        try:
            notified = _wait(handle, timeout)
        finally:
            self._end_wait(stop, token)
        if not notified and self._h is None:
            raise ValueError("region is closed")
        return notified

    async def wait_async(self, timeout_ms: int = 1000) -> bool:
        """wait() for asyncio: neither blocks the event loop nor takes a worker
        of its default executor.

        All pending wait_async() calls of a process are served by one waiter
        thread per 127 regions, sleeping in futex_waitv (Linux 5.16+); where
        that is missing, or with ZINC_WAIT_ASYNC=threads, each pending call
        has a thread of its own. Cancelling it ends it at once without
        consuming a later notification; a close() ends it with ValueError.
        """
        handle = self._handle()
        timeout = _integer(timeout_ms, "timeout_ms", _TIMEOUT_MAX)
        code = lib.zinc_try_wait(handle)
        if code == 0:
            return True
        if code != lib.ZINC_EAGAIN:
            raise _error(code)
        if timeout == 0:
            return False
        import asyncio

        from . import _async_wait  # asyncio and ctypes: imported by the first async call

        loop = asyncio.get_running_loop()
        deadline = time.monotonic() + timeout / 1000
        waiter = _async_wait.shared_waiter(_error)
        pending: Optional[Union[AsyncWait, ThreadWait]] = None
        if waiter is not None:
            pending = waiter.add(handle, loop, deadline)
        if pending is None:
            stop = _StopFlag()
            context = contextvars.copy_context()
            context.run(_stop_waiting.set, stop)
            # _wait is looked up when the thread runs it, so tests can replace it.
            pending = _async_wait.ThreadWait(
                loop, lambda: context.run(_wait, handle, timeout), stop
            )
        self._waits.add(pending)
        try:
            notified = await pending.future
        except BaseException:
            pending.cancel()
            raise
        finally:
            self._waits.discard(pending)
        if not notified and self._h is None:
            raise ValueError("region is closed")
        return notified

    def try_wait(self) -> bool:
        """Consumes a pending notification without blocking; True if there was one."""
        code = lib.zinc_try_wait(self._handle())
        if code == lib.ZINC_EAGAIN:
            return False
        _check(code)
        return True

    def close(self) -> None:
        """Closes the region; calling it again does nothing.

        Views taken before stay valid: the mapping (and, for the creator, the
        name) goes when the last of them is released. Waits in other threads
        end with ValueError("region is closed").
        """
        self._h = None
        for stop in list(self._waits):
            stop.set()

    def __repr__(self) -> str:
        if self._pid != os.getpid():
            role = "inherited"
        else:
            role = "creator" if self._owner else "opener"
        state = " closed" if self._h is None else ""
        return (
            f"<zinc.{type(self).__name__} name={self._name!r} capacity={self._capacity} "
            f"role={role}{state}>"
        )

    def __reduce__(self) -> NoReturn:
        raise TypeError(
            "a SharedRegion cannot be pickled; pass its name to the other process "
            "and SharedRegion.open() it there"
        )
