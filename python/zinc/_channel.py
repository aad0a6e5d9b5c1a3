"""zinc.Channel: one writer passes numpy frames to any number of readers
through a region, zero copy both ways (docs/spec.md section 10).

The writer fills the next slot in place and commits it; a reader gets a
read-only view of a committed frame and releases it. This module is a thin
layer over the zinc_channel_* functions of the C ABI: their codes become
OSErrors (zinc._errors), their frames numpy arrays (zinc._frames) over a
mapping of the region that each participant holds besides the C library's
(a SharedRegion opened by name at the join; a frame is at the same offset
from zinc_channel_ptr() in both). That second mapping outlives the channel
handle for as long as arrays use it, and its notifications wake
recv_async() (docs/spec.md section 10.7).

A channel handle is for one thread at a time in C; a lock here serializes the
calls that change a participant's state, so sharing one object between
threads is safe (if rarely useful). Blocking calls run in slices so that
Ctrl-C takes effect within 100 ms; close() from another thread cancels them
at once.
"""

from __future__ import annotations

import asyncio
import errno
import math
import os
import threading
import time
import weakref
from dataclasses import dataclass
from types import TracebackType
from typing import (
    TYPE_CHECKING,
    Any,
    AsyncIterator,
    Callable,
    Iterator,
    Literal,
    NoReturn,
    Optional,
    Tuple,
    Type,
    TypeVar,
    Union,
    overload,
)

from . import _async_wait, _frame_type
from ._errors import check, checked_integer, encode_name, error, require_numpy
from ._ffi import ffi, lib
from ._frames import ReadFrame, WriteFrame

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import ArrayLike, DTypeLike, NDArray

    from . import SharedRegion

_C = TypeVar("_C", bound="Channel")

_MODES = {"lossless": int(lib.ZINC_CHANNEL_LOSSLESS), "latest": int(lib.ZINC_CHANNEL_LATEST)}
_MODE_NAMES = {value: name for name, value in _MODES.items()}

# Blocking calls run in slices of at most this long, as SharedRegion.wait()
# does. A slice that times out consumes nothing.
_SLICE_MS = 100
# The slices of the acquire that frame_async() runs in a thread: short,
# because the writer's next call from the event loop waits for the slice.
_THREAD_SLICE_MS = 20
_U32_MAX = 2**32 - 1
_SIZE_MAX = 2**64 - 1

_EAGAIN = int(lib.ZINC_EAGAIN)
_ETIMEDOUT = int(lib.ZINC_ETIMEDOUT)

# How many fork()s separate this process from the one that started the
# program: a channel made in an earlier generation was inherited.
_generation = 0


def _count_fork() -> None:
    global _generation
    _generation += 1


os.register_at_fork(after_in_child=_count_fork)


def _native_close(pid: int) -> Callable[[Any], None]:
    """The destructor of a channel handle made by process `pid`."""

    def close(handle: Any) -> None:
        # A fork child never closes its parent's participant: the native
        # close clears the reader's pin, which would let the writer overwrite
        # a frame the parent is reading. The child's mapping goes at its exit.
        if os.getpid() == pid:
            lib.zinc_channel_close(handle)

    return close


def _timeout(timeout_ms: Optional[int]) -> Optional[int]:
    if timeout_ms is None:
        return None
    return checked_integer(timeout_ms, "timeout_ms", _U32_MAX)


def _slices(timeout_ms: Optional[int], longest: int) -> Iterator[int]:
    """The timeouts of the calls that together wait `timeout_ms` (None:
    forever), each at most `longest`; a single 0 for a timeout of 0."""
    if timeout_ms == 0:
        yield 0
        return
    end = None if timeout_ms is None else time.monotonic() + timeout_ms / 1000
    while True:
        if end is None:
            yield longest
            continue
        left = math.ceil((end - time.monotonic()) * 1000)
        if left <= 0:
            return
        yield min(left, longest)


def _require_channels() -> None:
    """NotImplementedError unless the loaded library has the channel layer."""
    if getattr(lib, "zinc_channel_ptr", None) is None:
        from ._ffi import library_path

        raise NotImplementedError(
            f"zinc.Channel needs the channel functions of libzinc_core (zinc_channel_*), which "
            f"the loaded library {library_path} does not have; install a newer one"
        )


def _choice(value: str, what: str, choices: Tuple[str, ...]) -> str:
    if value not in choices:
        allowed = " or ".join(repr(c) for c in choices)
        raise ValueError(f"{what} must be {allowed}, not {value!r}")
    return value


def _create_flags(role: str, replace_stale: bool, prefault: bool, reserve: bool) -> int:
    _choice(role, "role", ("writer", "reader"))
    return (
        (int(lib.ZINC_CHANNEL_CREATE_READER) if role == "reader" else 0)
        | (int(lib.ZINC_CREATE_REPLACE_STALE) if replace_stale else 0)
        | (int(lib.ZINC_CREATE_PREFAULT) if prefault else 0)
        | (0 if reserve else int(lib.ZINC_CREATE_NORESERVE))
    )


def _address(pointer: Any) -> int:
    return int(ffi.cast("uintptr_t", pointer))


def _region_identity(data_address: int) -> bytes:
    """capacity, created_at and name_hash from the region header one page
    before the data area (docs/spec.md section 3.1): together they tell a
    region from a later one of the same name."""
    page_size = int(lib.zinc_page_size())
    header = ffi.buffer(ffi.cast("uint8_t *", data_address - page_size), 48)
    return bytes(header[16:24]) + bytes(header[32:48])


def _own_mapping(name: str, channel_data: int) -> Tuple[SharedRegion, memoryview]:
    """A region handle of this process on the channel's region `name`, and a
    view of its data area; OSError if the name no longer leads to the region
    whose data area the channel handle maps at `channel_data`."""
    from . import SharedRegion  # zinc imports this module before it defines SharedRegion

    region = SharedRegion.open(name)
    data = region.as_buffer()
    if _region_identity(_address(ffi.from_buffer(data))) != _region_identity(channel_data):
        data.release()
        region.close()
        raise FileNotFoundError(
            errno.ENOENT,
            f"channel {name!r} was removed while joining (the name is another region's now)",
        )
    return region, data


@dataclass(frozen=True)
class ChannelInfo:
    """A channel's header now (:attr:`Channel.info`).

    ``dtype`` and ``shape`` are what a frame holds; ``shape`` is None for an
    untyped channel, whose frames are uint8 arrays of the committed length.
    ``write_seq`` is the number of frames committed so far (the next frame's
    sequence), ``readers`` the readers that have joined, ``writer_pid`` the
    process that holds the writer role (0: none).
    """

    name: str
    mode: str
    dtype: np.dtype[Any]
    shape: Optional[Tuple[int, ...]]
    slot_count: int
    slot_size: int
    max_readers: int
    readers: int
    write_seq: int
    writer_pid: int


class Channel:
    """A participant in a channel: its writer (:class:`ChannelWriter`) or one
    of its readers (:class:`ChannelReader`).

    Make one with :meth:`create` (typed numpy frames), :meth:`create_untyped`
    (byte frames), :meth:`open_writer` or :meth:`open_reader`. The creator
    owns the name: its close unlinks it. Close a participant with
    :meth:`close`, a ``with`` block, or by letting it be garbage-collected;
    arrays taken from its frames keep the mapping alive, so closing never
    leaves one dangling. Needs numpy.
    """

    _ROLE = ""

    def __init__(self, handle: Any, name: str, owner: bool) -> None:
        """Wraps a raw ``ZincChannel``; use the static constructors."""
        if handle == ffi.NULL:
            raise ValueError("handle is NULL")
        numpy = require_numpy("zinc.Channel")
        self._pid = os.getpid()
        self._generation = _generation
        # zinc_channel_close runs at close(), or when the object is collected.
        self._h: Any = ffi.gc(handle, _native_close(self._pid))
        self._name = name
        self._owner = owner
        self._lock = threading.Lock()
        native: Any = ffi.new("ZincChannelInfo *")
        check(lib.zinc_channel_info(handle, native))
        self._base = _address(lib.zinc_channel_ptr(handle))
        try:
            self._region, data = _own_mapping(name, self._base)
        except BaseException:
            ffi.release(self._h)
            raise
        # Frames are slices of this; close() drops it, and the mapping goes
        # with the last slice.
        self._data: Optional[memoryview] = data
        self._mode = _MODE_NAMES[int(native.mode)]
        self._slot_count = int(native.slot_count)
        self._max_readers = int(native.max_readers)
        self._slot_size = int(native.slot_size)
        typed = _frame_type.decode(native.frame_type)
        self._dtype: np.dtype[Any] = numpy.dtype(numpy.uint8) if typed is None else typed[0]
        self._shape: Optional[Tuple[int, ...]] = None if typed is None else typed[1]
        self._frame_bytes = self._slot_size if typed is None else _frame_type.frame_bytes(*typed)

    # ---- making one --------------------------------------------------------

    @overload
    @staticmethod
    def create(
        name: str,
        dtype: DTypeLike,
        shape: _frame_type.ShapeLike,
        *,
        slots: int = ...,
        mode: str = ...,
        max_readers: int = ...,
        role: Literal["writer"] = ...,
        replace_stale: bool = ...,
        prefault: bool = ...,
        reserve: bool = ...,
    ) -> ChannelWriter: ...

    @overload
    @staticmethod
    def create(
        name: str,
        dtype: DTypeLike,
        shape: _frame_type.ShapeLike,
        *,
        slots: int = ...,
        mode: str = ...,
        max_readers: int = ...,
        role: Literal["reader"],
        replace_stale: bool = ...,
        prefault: bool = ...,
        reserve: bool = ...,
    ) -> ChannelReader: ...

    @staticmethod
    def create(
        name: str,
        dtype: DTypeLike,
        shape: _frame_type.ShapeLike,
        *,
        slots: int = 8,
        mode: str = "lossless",
        max_readers: int = 4,
        role: str = "writer",
        replace_stale: bool = False,
        prefault: bool = False,
        reserve: bool = True,
    ) -> Union[ChannelWriter, ChannelReader]:
        """Creates channel `name` for frames of `shape` elements of `dtype`.

        The dtype and shape are recorded in the channel's header, so readers
        in any language learn them there. Elements are bool, integers, floats
        or complex numbers (numpy kinds b, i, u, f, c, either byte order); a
        shape has at most 5 dimensions, each at least 1, and ``()`` is a
        frame of one element. Anything else is a ValueError naming it.

        `mode` is ``"lossless"`` (every reader sees every frame committed
        after it joined, in order; the writer waits while the slowest reader
        is `slots` frames behind) or ``"latest"`` (a reader gets the newest
        frame; the writer never waits; needs ``slots >= max_readers + 2``).
        The creator is the channel's writer, or with ``role="reader"`` its
        first reader (a writer then joins with :meth:`open_writer`); it owns
        the name. ``replace_stale``, ``prefault`` and ``reserve`` are as in
        :meth:`SharedRegion.create`.

        Raises FileExistsError if the name is taken, OSError(EINVAL) for an
        invalid name or out-of-range slots or max_readers (the message says
        which), ValueError for a bad dtype, shape, mode or role.
        """
        _require_channels()
        encoded = encode_name(name)
        flags = _create_flags(role, replace_stale, prefault, reserve)
        mode_value = _MODES[_choice(mode, "mode", tuple(_MODES))]
        _, _, native_type = _frame_type.frame_type(dtype, shape)
        out: Any = ffi.new("ZincChannel *")
        check(
            lib.zinc_channel_create_typed(
                encoded,
                mode_value,
                checked_integer(slots, "slots", _U32_MAX),
                native_type,
                checked_integer(max_readers, "max_readers", _U32_MAX),
                flags,
                out,
            )
        )
        participant = ChannelWriter if role == "writer" else ChannelReader
        return participant(out[0], name, owner=True)

    @overload
    @staticmethod
    def create_untyped(
        name: str,
        slot_size: int,
        *,
        slots: int = ...,
        mode: str = ...,
        max_readers: int = ...,
        role: Literal["writer"] = ...,
        replace_stale: bool = ...,
        prefault: bool = ...,
        reserve: bool = ...,
    ) -> ChannelWriter: ...

    @overload
    @staticmethod
    def create_untyped(
        name: str,
        slot_size: int,
        *,
        slots: int = ...,
        mode: str = ...,
        max_readers: int = ...,
        role: Literal["reader"],
        replace_stale: bool = ...,
        prefault: bool = ...,
        reserve: bool = ...,
    ) -> ChannelReader: ...

    @staticmethod
    def create_untyped(
        name: str,
        slot_size: int,
        *,
        slots: int = 8,
        mode: str = "lossless",
        max_readers: int = 4,
        role: str = "writer",
        replace_stale: bool = False,
        prefault: bool = False,
        reserve: bool = True,
    ) -> Union[ChannelWriter, ChannelReader]:
        """Creates channel `name` for frames of up to `slot_size` bytes, of
        any length each (a reader's frame is a uint8 array of the length the
        writer committed). Otherwise as :meth:`create`."""
        _require_channels()
        encoded = encode_name(name)
        flags = _create_flags(role, replace_stale, prefault, reserve)
        mode_value = _MODES[_choice(mode, "mode", tuple(_MODES))]
        out: Any = ffi.new("ZincChannel *")
        check(
            lib.zinc_channel_create(
                encoded,
                mode_value,
                checked_integer(slots, "slots", _U32_MAX),
                checked_integer(slot_size, "slot_size", _SIZE_MAX),
                checked_integer(max_readers, "max_readers", _U32_MAX),
                flags,
                out,
            )
        )
        participant = ChannelWriter if role == "writer" else ChannelReader
        return participant(out[0], name, owner=True)

    @staticmethod
    def open_writer(name: str) -> ChannelWriter:
        """Joins channel `name` as its writer (a channel has one at a time).

        Raises OSError(EBUSY) while a live process is the writer (a dead
        writer's role is taken over, and its unfinished frame written anew),
        FileNotFoundError if there is no such region, OSError(EBADMSG) if it
        holds no valid channel, BlockingIOError if it is not laid out yet.
        """
        _require_channels()
        encoded = encode_name(name)
        out: Any = ffi.new("ZincChannel *")
        check(lib.zinc_channel_open_writer(encoded, out))
        return ChannelWriter(out[0], name, owner=False)

    @staticmethod
    def open_reader(name: str) -> ChannelReader:
        """Joins channel `name` as a reader. Lossless: its first frame is the
        first one committed after it joined; latest: the newest frame.

        Raises OSError(EBUSY) when all max_readers entries are held by live
        readers; otherwise as :meth:`open_writer`.
        """
        _require_channels()
        encoded = encode_name(name)
        out: Any = ffi.new("ZincChannel *")
        check(lib.zinc_channel_open_reader(encoded, out))
        return ChannelReader(out[0], name, owner=False)

    # ---- what it is ----------------------------------------------------------

    @property
    def name(self) -> str:
        """The channel's name (also after close)."""
        return self._name

    @property
    def role(self) -> str:
        """``"writer"`` or ``"reader"``."""
        return self._ROLE

    @property
    def mode(self) -> str:
        """``"lossless"`` or ``"latest"``."""
        return self._mode

    @property
    def dtype(self) -> np.dtype[Any]:
        """The dtype of a frame's elements (uint8 for an untyped channel)."""
        return self._dtype

    @property
    def shape(self) -> Optional[Tuple[int, ...]]:
        """The shape of a frame; None for an untyped channel."""
        return self._shape

    @property
    def slot_count(self) -> int:
        return self._slot_count

    @property
    def slot_size(self) -> int:
        """Bytes per slot: a typed frame's size, an untyped frame's maximum."""
        return self._slot_size

    @property
    def max_readers(self) -> int:
        return self._max_readers

    @property
    def closed(self) -> bool:
        """True once close() was called."""
        return self._h is None

    @property
    def info(self) -> ChannelInfo:
        """The channel's header now: frames committed, readers, the writer."""
        native: Any = ffi.new("ZincChannelInfo *")
        # Not under the lock: zinc_channel_info only loads shared atomics and
        # the geometry fixed at open, so it may run beside a blocked read.
        code = lib.zinc_channel_info(self._handle(), native)
        if code != 0:
            raise self._failure(code)
        return ChannelInfo(
            name=self._name,
            mode=self._mode,
            dtype=self._dtype,
            shape=self._shape,
            slot_count=self._slot_count,
            slot_size=self._slot_size,
            max_readers=self._max_readers,
            readers=int(native.readers),
            write_seq=int(native.write_seq),
            writer_pid=int(native.writer_pid),
        )

    # ---- lifetime ------------------------------------------------------------

    @property
    def _inherited(self) -> bool:
        return self._generation != _generation

    def _handle(self) -> Any:
        handle = self._h
        if handle is None:
            raise ValueError("channel is closed")
        if self._inherited:
            raise ValueError(
                f"channel {self._name!r} was inherited through fork() from process "
                f"{self._pid}; a writer or reader is a process: join the channel in this "
                "one with Channel.open_reader() or Channel.open_writer()"
            )
        return handle

    def _mapping(self) -> memoryview:
        """This participant's view of the region's data area, taken before a
        frame call (a close() from another thread may drop the attribute)."""
        data = self._data
        if data is None:
            raise ValueError("channel is closed")
        return data

    def _array(self, data: memoryview, frame: Any, nbytes: int, writable: bool) -> NDArray[Any]:
        """The frame the C library handed out, viewed through this
        participant's own mapping (`data`, taken before the call)."""
        np = require_numpy("zinc.Channel")
        offset = _address(frame.data) - self._base
        if not 0 <= offset <= len(data) - nbytes:
            raise OSError(
                errno.EBADMSG,
                f"channel {self._name!r}: frame {int(frame.sequence)} of {nbytes} bytes at "
                f"offset {offset} lies outside the region's {len(data)} bytes",
            )
        view = data[offset : offset + nbytes]
        array: NDArray[Any] = np.frombuffer(view if writable else view.toreadonly(), self._dtype)
        return array if self._shape is None else array.reshape(self._shape)

    def _failure(self, code: int) -> Exception:
        """The exception for a failed frame call: a close from another thread
        cancels a blocked call (ECANCELED, or EINVAL if it came first)."""
        failure = error(code)  # the message is the calling thread's, now
        return ValueError("channel is closed") if self._h is None else failure

    def _leave(self) -> None:
        """What close() does to the open frame objects (in the process that
        joined); the native close does the rest."""

    def close(self) -> None:
        """Leaves the channel at once; calling it again does nothing.

        The reader's entry (with the frame it holds) or the writer's role is
        freed, and the creator's close unlinks the name. Arrays taken from
        frames stay valid: they keep this process's mapping of the region
        until the last of them is gone. A blocking call in another thread
        ends with ValueError("channel is closed"). In a fork() child an
        inherited channel's close only drops the child's references.
        """
        handle = self._h
        if handle is None:
            return
        self._h = None
        if not self._inherited:
            self._leave()
        ffi.release(handle)  # zinc_channel_close, unless this is a fork child
        self._region.close()
        self._data = None

    def __enter__(self: _C) -> _C:
        self._handle()
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc_value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        if self._shape is None:
            frames = f"untyped slot_size={self._slot_size}"
        else:
            frames = f"dtype={self._dtype} shape={self._shape}"
        if self._inherited:
            origin = "inherited"
        else:
            origin = "created" if self._owner else "opened"
        state = " closed" if self._h is None else ""
        return (
            f"<zinc.{type(self).__name__} name={self._name!r} mode={self._mode} {frames} "
            f"slots={self._slot_count} {origin}{state}>"
        )

    def __reduce__(self) -> NoReturn:
        raise TypeError(
            f"a {type(self).__name__} cannot be pickled; pass the channel's name to the "
            "other process and join it there with Channel.open_reader() or open_writer()"
        )


class ChannelWriter(Channel):
    """The writer of a channel: fills the next slot in place and commits it.

    ``with writer.frame() as frame: frame.array[...] = ...`` writes a frame
    without a copy; :meth:`send` copies an array in. In lossless mode both
    wait while the ring is full (the slowest reader is ``slot_count`` frames
    behind); a reader that died is judged and dropped within about 50 ms.
    """

    _ROLE = "writer"

    def __init__(self, handle: Any, name: str, owner: bool) -> None:
        super().__init__(handle, name, owner)
        self._open_frame: Optional[weakref.ref[WriteFrame]] = None

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
        handle = self._handle()
        timeout = _timeout(timeout_ms)
        with self._lock:
            self._refuse_second_frame()
        for slice_ms in _slices(timeout, _SLICE_MS):
            frame = self._acquire(handle, slice_ms)
            if frame is not None:
                return frame
            self._handle()  # closed by another thread meanwhile
        return None

    async def frame_async(self, timeout_ms: Optional[int] = None) -> Optional[WriteFrame]:
        """frame() for asyncio: waiting for room (lossless) blocks neither the
        event loop nor a worker of its executor (a thread of its own waits).
        Cancelling it gives up the wait; a slot it acquired meanwhile is the
        next frame()'s."""
        timeout = _timeout(timeout_ms)
        frame = self.frame(0)
        if frame is not None or timeout == 0:
            return frame
        handle = self._handle()
        stop = threading.Event()
        pending = _async_wait.ThreadWait(
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

    def _refuse_second_frame(self) -> None:
        frame = self._open_frame() if self._open_frame is not None else None
        if frame is not None and frame.open:
            raise ValueError(
                f"frame {frame.sequence} is still open: commit it (or leave its with block) "
                "before taking the next"
            )

    def _acquire(self, handle: Any, timeout_ms: int) -> Optional[WriteFrame]:
        native: Any = ffi.new("ZincChannelFrame *")
        data = self._mapping()
        with self._lock:
            code = lib.zinc_channel_acquire(handle, timeout_ms, native)
            if code == 0:
                array = self._array(data, native, self._frame_bytes, writable=True)
                frame = WriteFrame(self, array, int(native.sequence))
                self._open_frame = weakref.ref(frame)
                return frame
            if code not in (_EAGAIN, _ETIMEDOUT):
                raise self._failure(code)
        if code == _EAGAIN and timeout_ms > 0:
            # Latest mode only: every slot was pinned or newest for a moment.
            time.sleep(0.001)
        return None

    def _wait_for_room(self, handle: Any, timeout: Optional[int], stop: threading.Event) -> bool:
        """In frame_async()'s thread: acquires the next slot (the C library
        keeps it for the next frame() call); False on timeout, stop or close."""
        native: Any = ffi.new("ZincChannelFrame *")
        for slice_ms in _slices(timeout, _THREAD_SLICE_MS):
            if stop.is_set() or self._h is None:
                return False
            with self._lock:
                code = lib.zinc_channel_acquire(handle, slice_ms, native)
                if code not in (0, _EAGAIN, _ETIMEDOUT):
                    raise self._failure(code)
            if code == 0:
                return True
            if code == _EAGAIN:
                time.sleep(0.001)
        return False

    def _commit(self, nbytes: Optional[int]) -> None:
        """WriteFrame.commit(): publishes the open frame."""
        handle = self._handle()
        if self._shape is None:
            length = (
                self._slot_size if nbytes is None else checked_integer(nbytes, "nbytes", _SIZE_MAX)
            )
            if length > self._slot_size:
                raise ValueError(f"nbytes {length} is more than the slot size {self._slot_size}")
        else:
            length = self._frame_bytes
            if nbytes is not None and nbytes != length:
                raise ValueError(
                    f"a frame of this channel is {length} bytes ({self._dtype}, shape "
                    f"{self._shape}); commit() cannot change that"
                )
        with self._lock:
            code = lib.zinc_channel_commit(handle, length)
            if code != 0:
                raise self._failure(code)

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

    def _leave(self) -> None:
        frame = self._open_frame() if self._open_frame is not None else None
        if frame is not None and frame.open:
            frame._close()  # given up: the channel's next writer rewrites that frame


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


class ChannelReader(Channel):
    """A reader of a channel: gets read-only views of committed frames.

    ``with reader.recv() as frame:`` holds frame ``frame.sequence`` (its data
    in ``frame.array``) until the block ends; :meth:`recv_copy` returns a
    copy; ``for frame in reader:`` reads until the writer has left.
    """

    _ROLE = "reader"

    def __init__(self, handle: Any, name: str, owner: bool) -> None:
        super().__init__(handle, name, owner)
        self._held_frame: Optional[weakref.ref[ReadFrame]] = None
        self._holding = False  # the C library holds a frame for this reader

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
        """
        handle = self._handle()
        for slice_ms in _slices(_timeout(timeout_ms), _SLICE_MS):
            frame = self._read(handle, slice_ms)
            if frame is not None:
                return frame
            self._handle()  # closed by another thread meanwhile
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
        for slice_ms in _slices(_timeout(timeout_ms), _U32_MAX):
            frame = self.recv(0)
            if frame is not None or slice_ms == 0:
                return frame
            await self._next_commit(slice_ms)
        return self.recv(0)

    def frames(self, timeout_ms: Optional[int] = None) -> Iterator[ReadFrame]:
        """Each frame in turn, held while the loop body runs.

        The iteration ends when the writer has left (a writer held the role
        or committed frames, and now none does) and no frame is left to read,
        or, with `timeout_ms`, when no frame came for that long. A writer
        killed without closing keeps the role until another writer takes it
        over, so use a timeout where that may happen. ``for frame in
        reader`` is ``reader.frames()``.
        """
        idle = _timeout(timeout_ms)
        writer = _WriterWatch()
        while True:
            frame = None
            for slice_ms in _slices(idle, _SLICE_MS):
                frame = self.recv(slice_ms)
                if frame is not None or writer.left(self.info):
                    break
            if frame is None:
                frame = self.recv(0)  # a frame committed just before the writer left
                if frame is None:
                    return
            with frame:
                yield frame

    def __iter__(self) -> Iterator[ReadFrame]:
        return self.frames()

    async def frames_async(self, timeout_ms: Optional[int] = None) -> AsyncIterator[ReadFrame]:
        """frames() for asyncio (``async for frame in reader``)."""
        idle = _timeout(timeout_ms)
        writer = _WriterWatch()
        while True:
            frame = None
            for slice_ms in _slices(idle, _SLICE_MS):
                frame = await self.recv_async(slice_ms)
                if frame is not None or writer.left(self.info):
                    break
            if frame is None:
                frame = self.recv(0)
                if frame is None:
                    return
            with frame:
                yield frame

    def __aiter__(self) -> AsyncIterator[ReadFrame]:
        return self.frames_async()

    def _read(self, handle: Any, timeout_ms: int) -> Optional[ReadFrame]:
        native: Any = ffi.new("ZincChannelFrame *")
        data = self._mapping()
        with self._lock:
            self._release_dropped_frame(handle)
            code = lib.zinc_channel_read(handle, timeout_ms, native)
            if code in (_EAGAIN, _ETIMEDOUT):
                return None
            if code != 0:
                raise self._failure(code)
            self._holding = True
            length = int(native.length)
            if self._shape is not None and length != self._frame_bytes:
                self._holding = False
                lib.zinc_channel_release(handle)
                raise OSError(
                    errno.EBADMSG,
                    f"channel {self._name!r}: frame {int(native.sequence)} is {length} bytes, "
                    f"but its frame type ({self._dtype.str}, shape {self._shape}) needs "
                    f"{self._frame_bytes}; the frame was skipped",
                )
            array = self._array(data, native, length, writable=False)
            frame = ReadFrame(self, array, int(native.sequence))
            self._held_frame = weakref.ref(frame)
            return frame

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
        if handle is None or self._inherited:
            return  # closing released it; a fork child holds nothing
        with self._lock:
            held = self._held_frame() if self._held_frame is not None else None
            if self._holding and held is frame:
                self._holding = False
                code = lib.zinc_channel_release(handle)
                if code != 0 and self._h is not None:
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
