"""zinc.ChannelReader: a reader of a channel (see zinc._channel)."""

from __future__ import annotations

import errno
import weakref
from typing import TYPE_CHECKING, Any, AsyncIterator, Iterator, Optional, overload

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
from ._ffi import lib
from ._frames import ReadFrame

_weak_ref = weakref.ref
_new = object.__new__

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from ._region import SharedRegion


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

    def __init__(
        self, handle: Any, name: str, owner: bool, region: Optional[SharedRegion] = None
    ) -> None:
        super().__init__(handle, name, owner, region)
        self._held_frame: Optional[weakref.ref[ReadFrame]] = None
        self._holding = False  # the C library holds a frame for this reader
        # The two calls of every frame, looked up once.
        self._read = lib.zinc_channel_read
        self._release_call = lib.zinc_channel_release

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
        handle = self._h
        if handle is None or self._generation != _channel._generation:
            handle = self._handle()  # raises: closed, or inherited through fork()
        timeout = timeout_ms
        if timeout is not None and not (type(timeout) is int and 0 <= timeout <= U32_MAX):
            timeout = checked_timeout(timeout)  # raises, or converts an int-like value
        # The first try does not wait: the common case has a frame now. This
        # and ReadFrame.__exit__ run per frame and make as few Python calls
        # as they can (see ChannelWriter.frame).
        lock = self._lock
        lock.acquire()
        try:
            if self._holding:
                self._release_dropped_frame(handle)
            code = self._read(handle, 0, self._native)
            if code == 0:
                self._holding = True
                address, length, sequence = self._fields.tolist()
                array = self._slot_arrays.get(address)
                if array is None:
                    array = self._slot_array(address, sequence)
                if length != self._frame_bytes:
                    array = self._shorter(handle, array, length, sequence)
                frame = _new(ReadFrame)
                frame.array = array
                frame.sequence = sequence
                frame._reader = self
                frame._held = True
                self._held_frame = _weak_ref(frame)
                return frame
        finally:
            lock.release()
        return self._recv_after(code, handle, timeout)

    def _recv_after(self, code: int, handle: Any, timeout: Optional[int]) -> Optional[ReadFrame]:
        """recv() once its first try found nothing (or failed): waits in
        slices, as long as `timeout` allows."""
        if not self._slow_path_waits(code, timeout):
            return None
        lock = self._lock
        for slice_ms in slices(timeout, SLICE_MS):
            self._handle()  # closed by another thread meanwhile
            lock.acquire()
            try:
                if self._holding:
                    self._release_dropped_frame(handle)
                code = self._read(handle, slice_ms, self._native)
                if code == 0:
                    self._holding = True
                    address, length, sequence = self._fields.tolist()
                    array = self._slot_arrays.get(address)
                    if array is None:
                        array = self._slot_array(address, sequence)
                    if length != self._frame_bytes:
                        array = self._shorter(handle, array, length, sequence)
                    frame = ReadFrame(self, array, sequence)
                    self._held_frame = _weak_ref(frame)
                    return frame
                if code != EAGAIN and code != ETIMEDOUT:
                    raise self._failure(code)
            finally:
                lock.release()
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

    def _shorter(
        self, handle: Any, array: NDArray[Any], length: int, sequence: int
    ) -> NDArray[Any]:
        """An untyped frame of `length` bytes: the first bytes of its slot's
        array. Any other length is a bad frame: it is released and skipped
        (OSError EBADMSG)."""
        if self._shape is None and length < self._frame_bytes:
            return array[:length]
        self._holding = False
        lib.zinc_channel_release(handle)
        if self._shape is None:
            problem = f"is {length} bytes, more than the slot size {self._slot_size}"
        else:
            problem = (
                f"is {length} bytes, but its frame type ({self._dtype.str}, shape "
                f"{self._shape}) needs {self._frame_bytes}"
            )
        raise OSError(
            errno.EBADMSG,
            f"channel {self._name!r}: frame {sequence} {problem}; the frame was skipped",
        )

    def _release_dropped_frame(self, handle: Any) -> None:
        """Under the lock, before a read: a held frame must have been released,
        or its ReadFrame dropped (then it is released now)."""
        if not self._holding:
            return
        frame = self._held_frame() if self._held_frame is not None else None
        if frame is not None and frame.held:
            raise ValueError(
                f"frame {frame.sequence} is still held: release it (or leave its with block) "
                "before receiving the next"
            )
        self._holding = False
        code = lib.zinc_channel_release(handle)
        if code != 0:
            raise self._failure(code)

    def _release(self, frame: ReadFrame) -> None:
        """ReadFrame.release(): gives the frame back if it is the one held."""
        handle = self._h
        if handle is None or self._generation != _channel._generation:
            return  # closing released it; a fork child holds nothing
        lock = self._lock  # acquire() and release(), as in recv()
        lock.acquire()
        try:
            held = self._held_frame
            if not self._holding or held is None or held() is not frame:
                return
            self._holding = False
            code = lib.zinc_channel_release(handle)
        finally:
            lock.release()
        if code != 0 and self._h is not None:
            raise self._failure(code)

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

    def _leave(self) -> None:
        # The native close releases the held frame with the reader's entry.
        held = self._held_frame() if self._held_frame is not None else None
        if held is not None:
            held._held = False
        self._holding = False
