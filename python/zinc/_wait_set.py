"""WaitSet: one thread (or one asyncio task) waits for any of many regions and
channel participants (docs/spec.md section 11).

    with zinc.WaitSet() as ws:
        ws.add(camera)                 # a ChannelReader: its key is itself
        ws.add(commands, key="cmd")    # a SharedRegion, under a key of our own
        for key in ws.wait(100):       # [] after 100 ms with nothing ready
            ...

The C library does the waiting (zinc_wait_set_*): it sleeps in one
futex_waitv on every member's futex word, registered as a sleeper the way the
member's own wait is, and its ``fileno()`` is an eventfd that is readable
while a member is ready, which is what ``wait_async()`` hands to the event
loop's ``add_reader``.
"""

from __future__ import annotations

import threading
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    Hashable,
    List,
    Optional,
    Tuple,
    Union,
)

from ._channel import checked_timeout, slices
from ._channel_reader import ChannelReader
from ._channel_writer import ChannelWriter
from ._closeable import Closeable
from ._errors import error
from ._ffi import ffi, lib
from ._region import SharedRegion

if TYPE_CHECKING:
    import asyncio

Member = Union[SharedRegion, ChannelReader, ChannelWriter]

# A blocking wait() on the main thread, where Python runs signal handlers,
# sleeps in zinc_wait_set_wait_interruptible: a signal ends the sleep, its
# handler runs (Ctrl-C raises KeyboardInterrupt) and the wait goes on. A
# signal that lands after the handlers were last looked at and before the
# sleep began cannot end it; the wait looks again after this long at the
# latest. Other threads wait in one call: a close() from another thread ends
# it at once.
_SLICE_MS = 1000
_U32_MAX = 2**32 - 1
# Keys one native wait reports at most; more ready members come next time.
_KEYS_PER_WAIT = 256


def _address(handle: Any) -> int:
    return int(ffi.cast("uintptr_t", handle))


class WaitSet(Closeable):
    """Waits for any of many SharedRegion, ChannelReader and ChannelWriter
    members and tells which are ready.

    A member is ready when: a region's notification came since the set last
    reported it (the region's own ``try_wait()`` still consumes it); a reader
    has a frame to ``recv()`` (or its ``recv()`` would fail at once: the
    writer is gone for good, the entry was taken over); a lossless writer has
    room to ``acquire()`` a slot (a latest writer always does). Readers and
    writers stay ready until they read or write; a member closed while in
    the set is reported once and leaves it.
    """

    def __init__(self) -> None:
        if getattr(lib, "zinc_wait_set_create", None) is None:
            from ._ffi import library_path

            raise NotImplementedError(
                f"zinc.WaitSet needs the wait set functions of libzinc_core "
                f"(zinc_wait_set_*), which the loaded library {library_path} does not have; "
                "install a newer one"
            )
        out = ffi.new("ZincWaitSet *")
        code = lib.zinc_wait_set_create(out)
        if code != 0:
            raise error(code)
        self._h: Any = ffi.gc(out[0], lib.zinc_wait_set_close)
        self._lock = threading.Lock()
        self._next_id = 1
        # Native key -> (member, caller's key); member -> native key.
        self._by_id: Dict[int, Tuple[Member, Hashable]] = {}
        self._ids: Dict[int, int] = {}  # id(member) -> native key
        self._handles: Dict[int, int] = {}  # native key -> member's handle value
        # The pending wait_async(): how close() ends it (from any thread).
        self._async_stop: Optional[Callable[[], None]] = None

    def _handle(self) -> Any:
        handle = self._h
        if handle is None:
            raise ValueError("wait set is closed")
        return handle

    def add(self, member: Member, key: Optional[Hashable] = None) -> None:
        """Adds `member` under `key` (default: the member itself).

        ValueError if the member is closed or is in the set already;
        TypeError for anything but a SharedRegion, ChannelReader or
        ChannelWriter.
        """
        if isinstance(member, SharedRegion):
            add = lib.zinc_wait_set_add_region
        elif isinstance(member, (ChannelReader, ChannelWriter)):
            add = lib.zinc_wait_set_add_channel
        else:
            raise TypeError(
                "a WaitSet member is a SharedRegion, ChannelReader or ChannelWriter, "
                f"not {type(member).__name__}"
            )
        handle = self._handle()
        member_handle = member._handle()  # ValueError when closed
        with self._lock:
            if id(member) in self._ids:
                raise ValueError(f"{member!r} is in the wait set already")
            native = self._next_id
            self._next_id += 1
            code = add(handle, member_handle, native)
            if code != 0:
                raise error(code)
            self._by_id[native] = (member, member if key is None else key)
            self._ids[id(member)] = native
            self._handles[native] = _address(member_handle)

    def remove(self, member: Member) -> None:
        """Removes `member`; KeyError if it is not in the set."""
        handle = self._handle()
        with self._lock:
            native = self._ids.pop(id(member), None)
            if native is None:
                raise KeyError(member)
            self._by_id.pop(native, None)
            value = self._handles.pop(native)
            code = lib.zinc_wait_set_remove(handle, ffi.cast("void *", value))
        if code not in (0, lib.ZINC_ENOENT):  # ENOENT: it was closed and dropped
            raise error(code)

    def __len__(self) -> int:
        return len(self._by_id)

    def __contains__(self, member: object) -> bool:
        return id(member) in self._ids

    def _keys(self, native_keys: Any, count: int) -> List[Hashable]:
        """The callers' keys of `count` native keys; members found closed
        leave the set (the library reported them once and dropped them)."""
        keys: List[Hashable] = []
        with self._lock:
            for i in range(count):
                entry = self._by_id.get(int(native_keys[i]))
                if entry is None:
                    continue  # removed meanwhile
                member, key = entry
                if member.closed:
                    native = self._ids.pop(id(member))
                    del self._by_id[native]
                    del self._handles[native]
                keys.append(key)
        return keys

    def wait(self, timeout_ms: Optional[int] = None) -> List[Hashable]:
        """The keys of the members that are ready, waiting up to `timeout_ms`
        (None: until one is; 0: look only); [] on timeout.

        Other threads run meanwhile and Ctrl-C interrupts it (on the main
        thread a signal ends the sleep, its handler runs, and the wait goes on
        unless the handler raised); a close() from another thread ends it with
        ValueError("wait set is closed").
        """
        timeout = checked_timeout(timeout_ms)
        native_keys = ffi.new("uint64_t[]", _KEYS_PER_WAIT)
        main = threading.current_thread() is threading.main_thread()
        native_wait = lib.zinc_wait_set_wait_interruptible if main else lib.zinc_wait_set_wait
        for slice_ms in slices(timeout, _SLICE_MS if main else _U32_MAX - 1):
            handle = self._handle()
            code = native_wait(handle, slice_ms, native_keys, _KEYS_PER_WAIT)
            if code > 0:
                return self._keys(native_keys, code)
            if code == lib.ZINC_ETIMEDOUT or (main and code == lib.ZINC_EAGAIN):
                continue  # after a signal: its handler runs here, between two calls
            if code == lib.ZINC_ECANCELED or self._h is None:
                raise ValueError("wait set is closed")
            raise error(code)
        return []

    def fileno(self) -> int:
        """A descriptor that is readable while a member is ready (an eventfd
        the set owns: do not close it), for selectors, epoll or an event
        loop's add_reader. A wait() clears it; it may be readable spuriously,
        then wait(0) returns []."""
        code = lib.zinc_wait_set_fd(self._handle())
        if code < 0:
            raise error(code)
        return int(code)

    async def wait_async(self, timeout_ms: Optional[int] = None) -> List[Hashable]:
        """wait() for asyncio: the event loop watches fileno() (add_reader),
        so no thread is blocked. One wait_async() at a time per set
        (RuntimeError otherwise); cancelling it ends it at once, and a close()
        ends it with ValueError("wait set is closed")."""
        import asyncio  # by the first async call, as the rest of the package does

        timeout = checked_timeout(timeout_ms)
        keys = self.wait(0)
        if keys or timeout == 0:
            return keys
        if self._async_stop is not None:
            raise RuntimeError("another wait_async() is pending on this wait set")
        loop = asyncio.get_running_loop()
        fd = self.fileno()
        deadline = None if timeout is None else loop.time() + timeout / 1000
        readable: asyncio.Future[None] = loop.create_future()

        def on_readable() -> None:
            if not readable.done():
                readable.set_result(None)

        def on_close() -> None:
            if not readable.done():
                readable.set_exception(ValueError("wait set is closed"))

        def stop() -> None:
            loop.call_soon_threadsafe(on_close)

        self._async_stop = stop
        loop.add_reader(fd, on_readable)
        try:
            while True:
                left = None if deadline is None else deadline - loop.time()
                if left is not None and left <= 0:
                    return []
                try:
                    await asyncio.wait_for(asyncio.shield(readable), left)
                except asyncio.TimeoutError:
                    return self.wait(0)
                readable = loop.create_future()
                keys = self.wait(0)  # clears the descriptor
                if keys:
                    return keys
        finally:
            self._async_stop = None
            loop.remove_reader(fd)

    @property
    def closed(self) -> bool:
        """True once close() was called."""
        return self._h is None

    def close(self) -> None:
        """Closes the set (and its descriptor); calling it again does nothing.

        The members stay open. A wait() in another thread ends with
        ValueError("wait set is closed").
        """
        handle = self._h
        if handle is None:
            return
        self._h = None
        stop = self._async_stop
        if stop is not None:
            stop()
        ffi.release(handle)  # zinc_wait_set_close
        with self._lock:
            self._by_id.clear()
            self._ids.clear()
            self._handles.clear()

    def __repr__(self) -> str:
        state = " closed" if self._h is None else ""
        return f"<zinc.WaitSet members={len(self._by_id)}{state}>"
