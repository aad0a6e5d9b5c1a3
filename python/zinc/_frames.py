"""The frames a channel hands out: numpy views of slots in the shared mapping.

A frame's array is a view, never a copy. It shows the slot through the
participant's own mapping of the channel's region (not the C library's, which
goes with the channel handle), and keeps that mapping alive: an array never
outlives the memory it shows, and closing a channel frees its reader entry or
writer role at once whatever arrays remain. What an array shows after its
frame was committed or released is another matter: the writer reuses the
slot, so it is only meaningful until then.

A participant's frame calls go through its Gate: under the participant's
lock, the library's read or acquire, the slot's array and a new frame, and
back the other way the release or commit. This module holds the Python
classes; zinc._fastpath (a C extension built with the package) has the same
three classes with the same behaviour, a frame then costing its two C calls
and little else. It is used when it imports, unless ZINC_NO_FASTPATH=1;
FASTPATH says which. Both serve the same tests (docs/testing.md).
"""

from __future__ import annotations

import os
import threading
import weakref
from types import TracebackType
from typing import TYPE_CHECKING, Any, Dict, Optional, Type, Union

from ._ffi import ffi, lib

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from ._channel_reader import ChannelReader
    from ._channel_writer import ChannelWriter

_new = object.__new__
_weak_ref = weakref.ref

# fork()s since this module was loaded: a gate made in an earlier generation
# was inherited, and its frames hold nothing in this process.
_generation = 0


def _count_fork() -> None:
    global _generation
    _generation += 1


os.register_at_fork(after_in_child=_count_fork)


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

    __slots__ = ("sequence", "_gate", "_writer", "_open", "_slot", "_array", "__weakref__")

    sequence: int
    _gate: Gate
    _writer: ChannelWriter
    _open: bool
    _slot: NDArray[Any]  # the slot's own array, kept by the writer
    _array: Optional[NDArray[Any]]

    def __new__(cls, *args: Any, **kwargs: Any) -> WriteFrame:
        raise TypeError("WriteFrame objects come from a channel's recv() or frame()")

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
        gate = self._gate
        length = gate._frame_bytes if nbytes is None else self._writer._length(nbytes)
        gate._commit(self, length)
        return self.sequence

    def _close(self) -> None:
        self._open = False
        if self._array is not None:
            # Positional: numpy takes it so, at a quarter of the keyword form's
            # cost (its type stubs know only the keyword).
            self._array.setflags(False)  # type: ignore[call-arg]

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
        gate = self._gate
        gate._commit(self, gate._frame_bytes)

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

    __slots__ = ("array", "sequence", "_gate", "_reader", "_held", "__weakref__")

    array: NDArray[Any]
    sequence: int
    _gate: Gate
    _reader: ChannelReader
    _held: bool

    def __new__(cls, *args: Any, **kwargs: Any) -> ReadFrame:
        raise TypeError("ReadFrame objects come from a channel's recv() or frame()")

    @property
    def held(self) -> bool:
        """True until the frame is released (or its channel closed)."""
        return self._held

    def release(self) -> None:
        """Gives the frame back to the writer; calling it again does nothing.
        `array` must not be read afterwards: the writer reuses the slot."""
        self._gate._release(self)

    def __enter__(self) -> ReadFrame:
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc_value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        self._gate._release(self)

    def __repr__(self) -> str:
        state = "held" if self._held else "released"
        return f"<zinc.ReadFrame sequence={self.sequence} {state}>"


# The Python classes, for the Python Gate whatever the names above become.
_PythonReadFrame = ReadFrame
_PythonWriteFrame = WriteFrame


class Gate:
    """A participant's frame calls: a reader's read and release, a writer's
    acquire and commit, each under the participant's `lock` (shared with its
    other calls), and the one frame it has out (held or open).

    read(owner) and acquire(owner) try once without waiting, wait(owner,
    timeout_ms) waits up to timeout_ms; each returns the new frame, or the
    library's code (an int) when there is none. The frame's array is the
    slot's array from `arrays` (address -> array), or owner._slot_array() at
    the slot's first frame. close(leave) ends the frame calls; with `leave`
    (close() in the process that joined) the frame out is released or given
    up with the participant.

    A reader's earlier frame must be released before the next read; one
    whose ReadFrame was dropped unreleased is released then. A writer's frame
    dropped uncommitted is written anew by the next acquire.
    """

    __slots__ = (
        "_handle",
        "_lock",
        "_arrays",
        "_frame_bytes",
        "_generation",
        "_writer",
        "_holding",
        "_frame",
        "_native",
        "_fields",
        "_call",
    )

    def __init__(
        self,
        handle: Any,
        lock: threading.Lock,
        arrays: Dict[int, NDArray[Any]],
        frame_bytes: int,
        writer: bool,
    ) -> None:
        self._handle: Any = handle  # None once closed
        self._lock = lock
        self._arrays: Optional[Dict[int, NDArray[Any]]] = arrays
        self._frame_bytes = frame_bytes
        self._generation = _generation
        self._writer = writer
        self._holding = False  # reader: the C library holds a frame for it
        self._frame: Optional[weakref.ref[Any]] = None  # the held or open frame
        # What the frame calls fill in: data, length, sequence (under the lock).
        self._native: Any = ffi.new("ZincChannelFrame *")
        self._fields = memoryview(ffi.buffer(self._native)).cast("Q")
        self._call = lib.zinc_channel_acquire if writer else lib.zinc_channel_read

    def read(self, owner: ChannelReader) -> Union[ReadFrame, int]:
        return self._read(owner, 0)

    def acquire(self, owner: ChannelWriter) -> Union[WriteFrame, int]:
        return self._acquire(owner, 0)

    def wait(self, owner: Any, timeout_ms: int) -> Union[ReadFrame, WriteFrame, int]:
        if self._writer:
            return self._acquire(owner, timeout_ms)
        return self._read(owner, timeout_ms)

    def close(self, leave: bool) -> None:
        self._handle = None
        reference = self._frame
        frame = reference() if reference is not None else None
        self._frame = None
        self._holding = False
        self._arrays = None
        if not leave or frame is None:
            return
        if self._writer:
            if frame._open:
                frame._close()  # given up: the channel's next writer rewrites it
        else:
            frame._held = False  # the native close frees the entry with its frame

    def _open_handle(self) -> Any:
        """Under the lock: the handle; ValueError once closed."""
        handle = self._handle
        if handle is None:
            raise ValueError("channel is closed")
        return handle

    def _read(self, owner: ChannelReader, timeout_ms: int) -> Union[ReadFrame, int]:
        lock = self._lock
        lock.acquire()
        try:
            handle = self._open_handle()
            if self._holding:
                reference = self._frame
                held = reference() if reference is not None else None
                if held is not None and held._held:
                    raise ValueError(
                        f"frame {held.sequence} is still held: release it (or leave its with "
                        "block) before receiving the next"
                    )
                self._holding = False
                self._frame = None
                code = lib.zinc_channel_release(handle)
                if code != 0:
                    return int(code)
            code = self._call(handle, timeout_ms, self._native)
            if code != 0:
                return int(code)
            self._holding = True
            address, length, sequence = self._fields.tolist()
            arrays = self._arrays
            array = arrays.get(address) if arrays is not None else None
            if array is None:
                array = owner._slot_array(address, sequence)
            if length != self._frame_bytes:
                shorter = owner._shorter(array, length)
                if shorter is None:
                    self._holding = False
                    lib.zinc_channel_release(handle)
                    raise owner._bad_length(length, sequence)
                array = shorter
            frame = _new(_PythonReadFrame)
            frame.array = array
            frame.sequence = sequence
            frame._gate = self
            frame._reader = owner
            frame._held = True
            self._frame = _weak_ref(frame)
            return frame
        finally:
            lock.release()

    def _release(self, frame: ReadFrame) -> None:
        if not frame._held:
            return
        frame._held = False
        if self._handle is None or self._generation != _generation:
            return  # closing released it; a fork child holds nothing
        lock = self._lock
        lock.acquire()
        try:
            handle = self._handle
            reference = self._frame
            if handle is None or not self._holding or reference is None or reference() is not frame:
                return
            self._holding = False
            self._frame = None
            code = lib.zinc_channel_release(handle)
        finally:
            lock.release()
        if code != 0:
            frame._reader._release_failed(int(code))

    def _acquire(self, owner: ChannelWriter, timeout_ms: int) -> Union[WriteFrame, int]:
        lock = self._lock
        lock.acquire()
        try:
            handle = self._open_handle()
            reference = self._frame
            opened = reference() if reference is not None else None
            if opened is not None and opened._open:
                raise ValueError(
                    f"frame {opened.sequence} is still open: commit it (or leave its with "
                    "block) before taking the next"
                )
            self._frame = None  # a frame dropped uncommitted: this acquire rewrites it
            code = self._call(handle, timeout_ms, self._native)
            if code != 0:
                return int(code)
            fields = self._fields
            address, sequence = fields[0], fields[2]
            arrays = self._arrays
            slot = arrays.get(address) if arrays is not None else None
            if slot is None:
                slot = owner._slot_array(address, sequence)
            frame = _new(_PythonWriteFrame)
            frame.sequence = sequence
            frame._gate = self
            frame._writer = owner
            frame._open = True
            frame._slot = slot  # its own view is made when asked for (.array)
            frame._array = None
            self._frame = _weak_ref(frame)
            return frame
        finally:
            lock.release()

    def _commit(self, frame: WriteFrame, length: int) -> None:
        if self._handle is None or self._generation != _generation:
            frame._writer._handle()  # raises: closed, or inherited through fork()
            raise ValueError("channel is closed")
        lock = self._lock
        lock.acquire()
        try:
            handle = self._open_handle()
            code = lib.zinc_channel_commit(handle, length)
            if code == 0:
                self._frame = None  # the next acquire need not look at this frame
        finally:
            lock.release()
        if code != 0:
            frame._writer._commit_failed(int(code))
        frame._close()


def _load_fastpath() -> Any:
    """zinc._fastpath; None when it does not import (FASTPATH_ERROR says
    why) or ZINC_NO_FASTPATH is set."""
    global FASTPATH_ERROR
    if os.environ.get("ZINC_NO_FASTPATH", "") not in ("", "0"):
        FASTPATH_ERROR = "ZINC_NO_FASTPATH is set"
        return None
    try:
        from . import _fastpath  # type: ignore[attr-defined]
    except ImportError as failure:
        FASTPATH_ERROR = f"zinc._fastpath did not import: {failure}"
        return None
    os.register_at_fork(after_in_child=_fastpath.forked)
    return _fastpath


def _bind_fastpath() -> None:
    """Hands zinc._fastpath the library's frame functions, at the first
    channel (a library without channels still imports)."""
    global _fastpath_bound
    functions = (
        lib.zinc_channel_read,
        lib.zinc_channel_release,
        lib.zinc_channel_acquire,
        lib.zinc_channel_commit,
    )
    _fastpath_module.bind(*(int(ffi.cast("uintptr_t", function)) for function in functions))
    _fastpath_bound = True


# Why the C classes are not in use (None when they are).
FASTPATH_ERROR: Optional[str] = None
_fastpath_module = _load_fastpath()
# True when frames are zinc._fastpath's C classes, False for the Python ones.
FASTPATH = _fastpath_module is not None
_fastpath_bound = False

if not TYPE_CHECKING and FASTPATH:
    ReadFrame = _fastpath_module.ReadFrame  # noqa: F811
    WriteFrame = _fastpath_module.WriteFrame  # noqa: F811


def new_gate(
    handle: Any,
    lock: threading.Lock,
    arrays: Dict[int, NDArray[Any]],
    frame_bytes: int,
    writer: bool,
) -> Gate:
    """The gate of a participant whose C handle is `handle` (a cffi pointer)."""
    if _fastpath_module is None:
        return Gate(handle, lock, arrays, frame_bytes, writer)
    if not _fastpath_bound:
        _bind_fastpath()
    address = int(ffi.cast("uintptr_t", handle))
    gate: Gate = _fastpath_module.Gate(address, lock, arrays, frame_bytes, writer)
    return gate
