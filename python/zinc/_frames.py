"""The frames a channel hands out: numpy views of slots in the shared mapping.

A frame's array is a view, never a copy. It shows the slot through the
participant's own mapping of the channel's region (not the C library's, which
goes with the channel handle), and keeps that mapping alive: an array never
outlives the memory it shows, and closing a channel frees its reader entry or
writer role at once whatever arrays remain. What an array shows after its
frame was committed or released is another matter: the writer reuses the
slot, so it is only meaningful until then.
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Any, Optional, Type

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from ._channel_reader import ChannelReader
    from ._channel_writer import ChannelWriter


class WriteFrame:
    """The writer's slot for frame number `sequence`, to fill in place.

    `array` is a writable numpy view of the slot: the channel's dtype and
    shape (uint8 of the slot size for an untyped channel). :meth:`commit`
    publishes it to the readers. Used as a context manager, the frame is
    committed when the block ends normally; when the block raises it is given
    up instead: no reader ever sees it, and the writer's next frame is the
    same slot with the same sequence. Once committed or given up, `array` is
    read-only (the writer reuses the slot).
    """

    __slots__ = ("sequence", "_writer", "_open", "_slot", "_array", "__weakref__")

    def __init__(self, writer: ChannelWriter, slot: NDArray[Any], sequence: int) -> None:
        self.sequence = sequence
        self._writer = writer
        self._open = True
        self._slot = slot  # the slot's own array, kept by the writer
        self._array: Optional[NDArray[Any]] = None

    @property
    def array(self) -> NDArray[Any]:
        """The slot as a numpy array (writable while the frame is open)."""
        array = self._array
        if array is None:
            # A view of its own, made at the first look (a frame nobody looks
            # at costs no array): read-only once the frame is closed, it stays
            # so when the slot is the writer's again.
            array = self._array = self._slot.view()
            if not self._open:
                array.setflags(False)  # type: ignore[call-arg]
        return array

    @property
    def open(self) -> bool:
        """True until the frame is committed or given up."""
        return self._open

    def commit(self, nbytes: Optional[int] = None) -> int:
        """Publishes the frame and wakes the readers; returns its sequence.

        A typed frame is always committed whole. For an untyped channel,
        `nbytes` is how many bytes of the slot the frame holds (default: the
        whole slot). ValueError if the frame was already committed or given
        up, or the channel is closed.
        """
        if not self._open:
            raise ValueError(f"frame {self.sequence} was already committed or given up")
        self._writer._commit(self, nbytes)
        return self.sequence

    def _close(self) -> None:
        self._open = False
        if self._array is not None:
            self._array.setflags(write=False)

    def __enter__(self) -> WriteFrame:
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc_value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        if not self._open:
            return
        if exc_type is not None:
            self._close()
            return
        # The commit, written out here (it runs once per frame): one Python
        # call fewer than WriteFrame.commit(). Failures go the long way.
        writer = self._writer
        handle = writer._h
        if handle is None:
            writer._commit(self, None)  # raises: closed
            return
        lock = writer._lock
        lock.acquire()
        try:
            code = writer._commit_call(handle, writer._frame_bytes)
            if code == 0:
                writer._open_frame = None
        finally:
            lock.release()
        if code != 0:
            writer._commit_failed(code)
        self._open = False
        array = self._array
        if array is not None:
            array.setflags(False)  # type: ignore[call-arg]

    def __repr__(self) -> str:
        state = "open" if self._open else "closed"
        return f"<zinc.WriteFrame sequence={self.sequence} {state}>"


class ReadFrame:
    """A committed frame that a reader holds: frame number `sequence`.

    `array` is a read-only numpy view of it: the channel's dtype and shape
    (uint8 of the committed length for an untyped channel). While the reader
    holds it the writer leaves the slot alone; :meth:`release` gives it back
    (lossless: the writer may then reuse the slot). Used as a context manager,
    it is released when the block ends. A reader holds one frame at a time.
    """

    __slots__ = ("array", "sequence", "_reader", "_held", "__weakref__")

    def __init__(self, reader: ChannelReader, array: NDArray[Any], sequence: int) -> None:
        self.array = array
        self.sequence = sequence
        self._reader = reader
        self._held = True

    @property
    def held(self) -> bool:
        """True until the frame is released (or its channel closed)."""
        return self._held

    def release(self) -> None:
        """Gives the frame back to the writer; calling it again does nothing.
        `array` must not be read afterwards: the writer reuses the slot."""
        if self._held:
            self._held = False
            self._reader._release(self)

    def __enter__(self) -> ReadFrame:
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc_value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        if not self._held:
            return
        self._held = False
        # The release, written out here (it runs once per frame): one Python
        # call fewer than ReadFrame.release().
        reader = self._reader
        handle = reader._h
        if handle is None:
            return  # closing released it
        lock = reader._lock
        lock.acquire()
        try:
            held = reader._held_frame
            if not reader._holding or held is None or held() is not self:
                return
            reader._holding = False
            code = reader._release_call(handle)
        finally:
            lock.release()
        if code != 0:
            reader._release_failed(code)

    def __repr__(self) -> str:
        state = "held" if self._held else "released"
        return f"<zinc.ReadFrame sequence={self.sequence} {state}>"
