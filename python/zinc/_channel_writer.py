"""zinc.ChannelWriter: the writer of a channel (see zinc._channel)."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any, NoReturn, Optional, cast, overload

from . import _channel
from ._channel import (
    EAGAIN,
    ETIMEDOUT,
    SIZE_MAX,
    SLICE_MS,
    U32_MAX,
    Channel,
    checked_timeout,
    slices,
)
from ._errors import checked_integer, require_numpy
from ._ffi import ffi, lib
from ._frames import WriteFrame

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray


# The slices of the acquire that frame_async() runs in a thread: short,
# because the writer's next call from the event loop waits for the slice.
_THREAD_SLICE_MS = 20


class ChannelWriter(Channel, role="writer"):
    """The writer of a channel: fills the next slot in place and commits it.

    ``with writer.frame() as frame: frame.array[...] = ...`` writes a frame
    without a copy; :meth:`send` copies an array in. In lossless mode both
    wait while the ring is full (the slowest reader is ``slot_count`` frames
    behind); a reader that died is judged and dropped within about 50 ms.
    """

    @overload
    def frame(self, timeout_ms: None = None) -> WriteFrame: ...

    @overload
    def frame(self, timeout_ms: int) -> Optional[WriteFrame]: ...

    def frame(self, timeout_ms: Optional[int] = None) -> Optional[WriteFrame]:
        """The slot of the next frame, to fill in place (see WriteFrame).

        Lossless: waits up to `timeout_ms` for room (None: as long as it
        takes; 0: not at all) and returns None if the ring stayed full.
        Latest: never waits. ValueError while an earlier frame of this writer
        is still open (neither committed nor given up).
        """
        if self._h is None or self._generation != _channel._generation:
            self._handle()  # raises: closed, or inherited through fork()
        timeout = timeout_ms
        if timeout is not None and not (type(timeout) is int and 0 <= timeout <= U32_MAX):
            timeout = checked_timeout(timeout)  # raises, or converts an int-like value
        # The first try does not wait: the common case has room now. This
        # runs per frame, so it makes as few Python calls as it can.
        frame = self._gate.acquire(self)
        if not isinstance(frame, int):
            return frame
        return self._frame_after(frame, timeout)

    def _frame_after(self, code: int, timeout: Optional[int]) -> Optional[WriteFrame]:
        """frame() once its first try found no room (or failed): waits in
        slices, as long as `timeout` allows."""
        if not self._slow_path_waits(code, timeout):
            return None
        gate = self._gate
        previous_ms = 0
        for slice_ms in slices(timeout, SLICE_MS):
            if code == EAGAIN and previous_ms > 0:
                # Latest mode only: every slot was pinned or newest for a moment.
                time.sleep(0.001)
            previous_ms = slice_ms
            self._handle()  # closed by another thread meanwhile
            frame = gate.wait(self, slice_ms)
            if not isinstance(frame, int):
                return cast(WriteFrame, frame)
            code = frame
            if code != EAGAIN and code != ETIMEDOUT:
                raise self._failure(code)
        return None

    async def frame_async(self, timeout_ms: Optional[int] = None) -> Optional[WriteFrame]:
        """frame() for asyncio: waiting for room (lossless) blocks neither the
        event loop nor a worker of its executor (a thread of its own waits).
        Cancelling it gives up the wait; a slot it acquired meanwhile is the
        next frame()'s."""
        import asyncio

        from ._async_wait import ThreadWait

        timeout = checked_timeout(timeout_ms)
        frame = self.frame(0)
        if frame is not None or timeout == 0:
            return frame
        handle = self._handle()
        stop = threading.Event()
        pending = ThreadWait(
            asyncio.get_running_loop(), lambda: self._wait_for_room(handle, timeout, stop), stop
        )
        try:
            acquired = await pending.future
        except BaseException:
            pending.cancel()
            raise
        if not acquired:
            self._handle()  # closed meanwhile: ValueError
            return None
        return self.frame(0)  # the slot the thread acquired, at once

    @overload
    def send(self, data: ArrayLike, timeout_ms: None = None) -> int: ...

    @overload
    def send(self, data: ArrayLike, timeout_ms: int) -> Optional[int]: ...

    def send(self, data: ArrayLike, timeout_ms: Optional[int] = None) -> Optional[int]:
        """Copies `data` into the next frame and commits it; returns the frame's
        sequence, or None if the ring stayed full for `timeout_ms` (as frame()).

        A typed channel takes an array of exactly its shape and dtype (else
        ValueError; convert with ``.astype``). An untyped one takes any
        C-contiguous bytes-like object of at most slot_size bytes.
        """
        source = self._source(data)
        frame = self.frame(timeout_ms)
        return None if frame is None else self._fill(frame, source)

    async def send_async(self, data: ArrayLike, timeout_ms: Optional[int] = None) -> Optional[int]:
        """send() for asyncio (see frame_async)."""
        source = self._source(data)
        frame = await self.frame_async(timeout_ms)
        return None if frame is None else self._fill(frame, source)

    def _wait_for_room(self, handle: Any, timeout: Optional[int], stop: threading.Event) -> bool:
        """In frame_async()'s thread: acquires the next slot (the C library
        keeps it for the next frame() call); False on timeout, stop or close."""
        native: Any = ffi.new("ZincChannelFrame *")
        for slice_ms in slices(timeout, _THREAD_SLICE_MS):
            if stop.is_set() or self._h is None:
                return False
            with self._lock:
                code = lib.zinc_channel_acquire(handle, slice_ms, native)
                if code not in (0, EAGAIN, ETIMEDOUT):
                    raise self._failure(code)
            if code == 0:
                return True
            if code == EAGAIN:
                time.sleep(0.001)
        return False

    def _commit_failed(self, code: int) -> NoReturn:
        """Raises what a failed commit of this writer means."""
        if self._generation != _channel._generation:
            self._handle()  # raises: inherited through fork()
        raise self._failure(code)

    def _length(self, nbytes: int) -> int:
        """The length to commit for commit(nbytes)."""
        if self._shape is None:
            length = checked_integer(nbytes, "nbytes", SIZE_MAX)
            if length > self._slot_size:
                raise ValueError(f"nbytes {length} is more than the slot size {self._slot_size}")
            return length
        if nbytes != self._frame_bytes:
            raise ValueError(
                f"a frame of this channel is {self._frame_bytes} bytes ({self._dtype}, shape "
                f"{self._shape}); commit() cannot change that"
            )
        return self._frame_bytes

    def _source(self, data: ArrayLike) -> NDArray[Any]:
        """`data` checked against the channel's frames, as an array to copy."""
        np = require_numpy("zinc.Channel")
        if self._shape is not None:
            array: NDArray[Any] = np.asarray(data)
            if array.shape != self._shape:
                raise ValueError(
                    f"cannot send an array of shape {array.shape}: this channel's frames "
                    f"have shape {self._shape}"
                )
            if array.dtype != self._dtype:
                raise ValueError(
                    f"cannot send an array of dtype {array.dtype} ({array.dtype.str!r}): this "
                    f"channel's frames hold {self._dtype} ({self._dtype.str!r}); convert it "
                    "with .astype()"
                )
            return array
        try:
            view = memoryview(data)  # type: ignore[arg-type]
        except TypeError:
            raise TypeError(
                "an untyped channel sends bytes-like objects (bytes, bytearray, a "
                f"contiguous array...), not {type(data).__name__}"
            ) from None
        if not view.c_contiguous:
            raise ValueError("cannot send data that is not C-contiguous; copy it first")
        if view.nbytes > self._slot_size:
            raise ValueError(
                f"cannot send {view.nbytes} bytes: a slot of this channel holds {self._slot_size}"
            )
        bytes_view: NDArray[Any] = np.frombuffer(view, dtype=np.uint8)
        return bytes_view

    def _fill(self, frame: WriteFrame, source: NDArray[Any]) -> int:
        with frame:  # an exception while copying gives the frame up
            if self._shape is None:
                frame.array[: source.size] = source
                frame.commit(source.size)
            else:
                frame.array[...] = source
        return frame.sequence
