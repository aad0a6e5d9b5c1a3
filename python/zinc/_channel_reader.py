"""zinc.ChannelReader: a reader of a channel (see zinc._channel)."""

from __future__ import annotations

import errno
from typing import TYPE_CHECKING, Any, AsyncIterator, Iterator, Optional, cast, overload

from . import _channel
from ._channel import (
    EAGAIN,
    ETIMEDOUT,
    SLICE_MS,
    U32_MAX,
    Channel,
    ChannelInfo,
    checked_timeout,
    slices,
)
from ._frames import ReadFrame

if TYPE_CHECKING:
    from numpy.typing import NDArray


class _WriterWatch:
    """When a reader's stream ends: a writer was there (it held the role, or
    frames were committed) and no process holds the writer role now."""

    def __init__(self) -> None:
        self.seen = False

    def left(self, info: ChannelInfo) -> bool:
        if info.writer_pid != 0:
            self.seen = True
            return False
        return self.seen or info.write_seq > 0


class ChannelReader(Channel, role="reader"):
    """A reader of a channel: gets read-only views of committed frames.

    ``with reader.recv() as frame:`` holds frame ``frame.sequence`` (its data
    in ``frame.array``) until the block ends; :meth:`recv_copy` returns a
    copy; ``for frame in reader:`` reads until the writer has left.
    """

    @overload
    def recv(self, timeout_ms: None = None) -> ReadFrame: ...

    @overload
    def recv(self, timeout_ms: int) -> Optional[ReadFrame]: ...

    def recv(self, timeout_ms: Optional[int] = None) -> Optional[ReadFrame]:
        """The next frame (lossless) or the newest frame not read yet (latest),
        held until it is released (see ReadFrame).

        Waits up to `timeout_ms` (None: as long as it takes; 0: not at all)
        and returns None if no frame came. ValueError while an earlier frame
        is still held; a frame whose ReadFrame was dropped unreleased is
        released here. OSError(EBADMSG) for a typed frame whose committed
        length does not match the frame type (the frame is skipped).
        BrokenPipeError (EPIPE) once the writer is gone, its channel was
        closed or replaced, and no frame is left to read.
        """
        if self._h is None or self._generation != _channel._generation:
            self._handle()  # raises: closed, or inherited through fork()
        timeout = timeout_ms
        if timeout is not None and not (type(timeout) is int and 0 <= timeout <= U32_MAX):
            timeout = checked_timeout(timeout)  # raises, or converts an int-like value
        # The first try does not wait: the common case has a frame now. This
        # runs per frame, so it makes as few Python calls as it can.
        frame = self._gate.read(self)
        if not isinstance(frame, int):
            return frame
        return self._recv_after(frame, timeout)

    def _recv_after(self, code: int, timeout: Optional[int]) -> Optional[ReadFrame]:
        """recv() once its first try found nothing (or failed): waits in
        slices, as long as `timeout` allows."""
        if not self._slow_path_waits(code, timeout):
            return None
        gate = self._gate
        for slice_ms in slices(timeout, SLICE_MS):
            self._handle()  # closed by another thread meanwhile
            frame = gate.wait(self, slice_ms)
            if not isinstance(frame, int):
                return cast(ReadFrame, frame)
            if frame != EAGAIN and frame != ETIMEDOUT:
                raise self._failure(frame)
        return None

    @overload
    def recv_copy(self, timeout_ms: None = None) -> NDArray[Any]: ...

    @overload
    def recv_copy(self, timeout_ms: int) -> Optional[NDArray[Any]]: ...

    def recv_copy(self, timeout_ms: Optional[int] = None) -> Optional[NDArray[Any]]:
        """recv(), copied into a new (writable) array and released at once."""
        frame = self.recv(timeout_ms)
        if frame is None:
            return None
        with frame:
            return frame.array.copy()

    async def recv_async(self, timeout_ms: Optional[int] = None) -> Optional[ReadFrame]:
        """recv() for asyncio: neither blocks the event loop nor takes a worker
        of its executor. It waits for the notify that follows every commit
        with SharedRegion.wait_async() on this reader's own region handle, so
        pending waits share the process's waiter threads. Cancelling it
        consumes no frame."""
        self._handle()
        for slice_ms in slices(checked_timeout(timeout_ms), U32_MAX):
            frame = self.recv(0)
            if frame is not None or slice_ms == 0:
                return frame
            await self._next_commit(slice_ms)
        return self.recv(0)

    def frames(self, timeout_ms: Optional[int] = None) -> Iterator[ReadFrame]:
        """Each frame in turn, held while the loop body runs.

        The iteration ends when the writer has left (a writer held the role
        or committed frames, and now none does, or the channel was closed or
        replaced: EPIPE) and no frame is left to read,
        or, with `timeout_ms`, when no frame came for that long. A writer
        killed without closing keeps the role until another writer takes it
        over, so use a timeout where that may happen. ``for frame in
        reader`` is ``reader.frames()``.
        """
        idle = checked_timeout(timeout_ms)
        writer = _WriterWatch()
        while True:
            frame = None
            try:
                for slice_ms in slices(idle, SLICE_MS):
                    frame = self.recv(slice_ms)
                    if frame is not None or writer.left(self.info):
                        break
                if frame is None:
                    frame = self.recv(0)  # a frame committed just before the writer left
            except BrokenPipeError:
                return  # the writer and its channel are gone, every frame read
            if frame is None:
                return
            with frame:
                yield frame

    def __iter__(self) -> Iterator[ReadFrame]:
        return self.frames()

    async def frames_async(self, timeout_ms: Optional[int] = None) -> AsyncIterator[ReadFrame]:
        """frames() for asyncio (``async for frame in reader``)."""
        idle = checked_timeout(timeout_ms)
        writer = _WriterWatch()
        while True:
            frame = None
            try:
                for slice_ms in slices(idle, SLICE_MS):
                    frame = await self.recv_async(slice_ms)
                    if frame is not None or writer.left(self.info):
                        break
                if frame is None:
                    frame = self.recv(0)
            except BrokenPipeError:
                return
            if frame is None:
                return
            with frame:
                yield frame

    def __aiter__(self) -> AsyncIterator[ReadFrame]:
        return self.frames_async()

    def _shorter(self, array: NDArray[Any], length: int) -> Optional[NDArray[Any]]:
        """The gate's read, for a frame of `length` bytes (not the frame
        type's): an untyped frame's first bytes of its slot's array, or None
        for a length no frame may have (the gate then skips the frame)."""
        if self._shape is None and length < self._frame_bytes:
            return array[:length]
        return None

    def _bad_length(self, length: int, sequence: int) -> OSError:
        """The error for a frame the gate skipped for its length."""
        if self._shape is None:
            problem = f"is {length} bytes, more than the slot size {self._slot_size}"
        else:
            problem = (
                f"is {length} bytes, but its frame type ({self._dtype.str}, shape "
                f"{self._shape}) needs {self._frame_bytes}"
            )
        return OSError(
            errno.EBADMSG,
            f"channel {self._name!r}: frame {sequence} {problem}; the frame was skipped",
        )

    def _release_failed(self, code: int) -> None:
        """What a failed release of this reader's frame means: nothing in a
        fork() child (which holds nothing) or once closed, else an error."""
        if self._generation == _channel._generation and self._h is not None:
            raise self._failure(code)

    async def _next_commit(self, timeout_ms: int) -> None:
        """Waits up to timeout_ms for the writer's next commit (or returns
        early: the caller looks for a frame either way)."""
        try:
            await self._region.wait_async(timeout_ms)
        except ValueError:
            self._handle()  # close() closed the region: "channel is closed"
            raise
