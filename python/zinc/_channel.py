"""zinc.Channel: one writer passes numpy frames to any number of readers
through a region, zero copy both ways (docs/spec.md section 10). Channel is
the base class of the writer (zinc._channel_writer) and the readers
(zinc._channel_reader) and holds what they share: making and joining one,
the frame type, the frames' arrays, lifetime. Those two modules import this
one and never the other way round: each role's class enters itself in
_ROLES when it is defined, and the constructors here look it up there.

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

A frame costs two C calls and no allocation beyond its frame object: the
slots lie at fixed addresses for the handle's lifetime, so each slot's numpy
array is made once (at its first frame) and kept in _slot_arrays until
close(). The calls of every frame go through the participant's gate
(zinc._frames.Gate, in C when zinc._fastpath is built).
"""

from __future__ import annotations

import errno
import math
import os
import threading
import time
from dataclasses import dataclass
from typing import (
    TYPE_CHECKING,
    Any,
    Callable,
    Dict,
    Iterator,
    Literal,
    NoReturn,
    Optional,
    Tuple,
    Type,
    cast,
    overload,
)

from . import _frame_type
from ._closeable import Closeable
from ._errors import check, checked_integer, encode_name, error, require_numpy
from ._ffi import ffi, lib
from ._frames import new_gate
from ._region import SharedRegion

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import DTypeLike, NDArray

    # For the constructors' return types only: at run time these modules
    # import this one, never the reverse.
    from ._channel_reader import ChannelReader
    from ._channel_writer import ChannelWriter


_MODES = {"lossless": int(lib.ZINC_CHANNEL_LOSSLESS), "latest": int(lib.ZINC_CHANNEL_LATEST)}
_MODE_NAMES = {value: name for name, value in _MODES.items()}

# Blocking calls run in slices of at most this long, as SharedRegion.wait()
# does. A slice that times out consumes nothing.
SLICE_MS = 100
U32_MAX = 2**32 - 1
SIZE_MAX = 2**64 - 1

EAGAIN = int(lib.ZINC_EAGAIN)
ETIMEDOUT = int(lib.ZINC_ETIMEDOUT)
ENOENT = int(lib.ZINC_ENOENT)

# A join that waits for its channel to appear tries again after this long at
# first, doubling up to the longest pause.
_JOIN_FIRST_PAUSE_S = 0.001
_JOIN_LONGEST_PAUSE_S = 0.05

# open_or_create() against a concurrent creator and a concurrent close: how
# many times it goes round open -> create -> open before it gives up.
_OPEN_OR_CREATE_ATTEMPTS = 100

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


def checked_timeout(timeout_ms: Optional[int]) -> Optional[int]:
    if timeout_ms is None:
        return None
    if type(timeout_ms) is int and 0 <= timeout_ms <= U32_MAX:
        return timeout_ms  # the common case, without checked_integer's call
    return checked_integer(timeout_ms, "timeout_ms", U32_MAX)


def slices(timeout_ms: Optional[int], longest: int) -> Iterator[int]:
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


def _own_mapping(
    name: str, channel_data: int, region: Optional[SharedRegion] = None
) -> Tuple[SharedRegion, memoryview]:
    """A region handle of this process on the channel's region `name` (the
    one opened before the join, if given), and a view of its data area;
    OSError if that is not the region whose data area the channel handle
    maps at `channel_data`."""
    if region is None:
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


def _join(name: str, role: str, timeout_ms: Optional[int]) -> Tuple[Any, SharedRegion]:
    """A ZincChannel joined to channel `name` as `role`, and a region handle
    on its region opened just before, waiting up to
    `timeout_ms` (None: for ever; 0: one try) for the channel to appear.

    Only "not there yet" is waited on: ENOENT (no such name yet) and EAGAIN
    (a creator of an older core still laying the channel out). Everything
    else, ENOMSG (a region that is not a channel) included, raises at once.
    """
    encoded = encode_name(name)
    opener = lib.zinc_channel_open_writer if role == "writer" else lib.zinc_channel_open_reader
    timeout = checked_timeout(timeout_ms)
    deadline = None if timeout is None else time.monotonic() + timeout / 1000
    pause = _JOIN_FIRST_PAUSE_S
    out: Any = ffi.new("ZincChannel *")
    while True:
        # The region first: the writer may close the channel (unlinking the
        # name) right after this reader joined, and frames already committed
        # are still the reader's to read through this second mapping.
        failure: OSError
        try:
            region = SharedRegion.open(name)
        except OSError as opening:
            # Only "not there yet" is waited on: no name, or a region still
            # being created by an older core.
            waitable = {errno.ENOENT: ENOENT, errno.EAGAIN: EAGAIN}
            code, failure = waitable.get(opening.errno or 0, 0), opening
        else:
            code = opener(encoded, out)
            if code == 0:
                return out[0], region
            failure = error(code)  # before the close can replace the message
            region.close()
        if code not in (ENOENT, EAGAIN) or timeout == 0:
            raise failure
        left = None if deadline is None else deadline - time.monotonic()
        if left is not None and left <= 0:
            raise _join_timeout(name, code, timeout)
        time.sleep(pause if left is None else min(pause, left))
        pause = min(2 * pause, _JOIN_LONGEST_PAUSE_S)


def _join_timeout(name: str, code: int, timeout_ms: Optional[int]) -> TimeoutError:
    if code == EAGAIN:
        why = (
            "its region exists but its creator has not finished laying it out (a creator "
            "that died while creating leaves it so: `zinc ls` tells, `zinc rm` removes it)"
        )
    else:
        why = "there is no channel of that name"
    return TimeoutError(
        errno.ETIMEDOUT, f"channel {name!r} did not appear within {timeout_ms} ms: {why}"
    )


# The class of each role, entered by Channel.__init_subclass__ when
# zinc._channel_writer and zinc._channel_reader define them.
_ROLES: Dict[str, Type[Channel]] = {}


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


class Channel(Closeable):
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

    def __init_subclass__(cls, role: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if role:
            cls._ROLE = role
            _ROLES[role] = cls

    def __init__(
        self, handle: Any, name: str, owner: bool, region: Optional[SharedRegion] = None
    ) -> None:
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
            self._region, data = _own_mapping(name, self._base, region)
        except BaseException:
            if region is not None:
                region.close()
            ffi.release(self._h)
            raise
        # Frames are slices of this; close() drops it, and the mapping goes
        # with the last slice.
        self._data: Optional[memoryview] = data
        # Each slot's array by the slot's address (see _slot_array).
        self._slot_arrays: Dict[int, NDArray[Any]] = {}
        self._mode = _MODE_NAMES[int(native.mode)]
        self._slot_count = int(native.slot_count)
        self._max_readers = int(native.max_readers)
        self._slot_size = int(native.slot_size)
        typed = _frame_type.decode(native.frame_type)
        self._dtype: np.dtype[Any] = numpy.dtype(numpy.uint8) if typed is None else typed[0]
        self._shape: Optional[Tuple[int, ...]] = None if typed is None else typed[1]
        self._frame_bytes = self._slot_size if typed is None else _frame_type.frame_bytes(*typed)
        # The frame calls: read and release, or acquire and commit.
        self._gate = new_gate(
            handle, self._lock, self._slot_arrays, self._frame_bytes, self._ROLE == "writer"
        )

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
    ) -> Channel:
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
                checked_integer(slots, "slots", U32_MAX),
                native_type,
                checked_integer(max_readers, "max_readers", U32_MAX),
                flags,
                out,
            )
        )
        return _ROLES[role](out[0], name, owner=True)

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
    ) -> Channel:
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
                checked_integer(slots, "slots", U32_MAX),
                checked_integer(slot_size, "slot_size", SIZE_MAX),
                checked_integer(max_readers, "max_readers", U32_MAX),
                flags,
                out,
            )
        )
        return _ROLES[role](out[0], name, owner=True)

    @staticmethod
    def open_writer(name: str, *, timeout_ms: Optional[int] = 0) -> ChannelWriter:
        """Joins channel `name` as its writer (a channel has one at a time).

        With `timeout_ms` it waits for the channel to appear: None waits as
        long as it takes, 0 (the default) tries once; TimeoutError (naming
        the channel) when it did not appear in time. Raises OSError(EBUSY)
        while a live process is the writer (a dead writer's role is taken
        over, and its unfinished frame written anew), FileNotFoundError if
        there is no such region (timeout 0), OSError(ENOMSG) if the region
        is not a channel, OSError(EBADMSG) if its channel header is invalid.
        """
        _require_channels()
        handle, region = _join(name, "writer", timeout_ms)
        writer = _ROLES["writer"](handle, name, owner=False, region=region)
        return cast("ChannelWriter", writer)

    @staticmethod
    def open_reader(name: str, *, timeout_ms: Optional[int] = 0) -> ChannelReader:
        """Joins channel `name` as a reader. Lossless: its first frame is the
        first one committed after it joined; latest: the newest frame.

        Raises OSError(EBUSY) when all max_readers entries are held by live
        readers; otherwise as :meth:`open_writer` (``timeout_ms`` too).
        """
        _require_channels()
        handle, region = _join(name, "reader", timeout_ms)
        reader = _ROLES["reader"](handle, name, owner=False, region=region)
        return cast("ChannelReader", reader)

    @staticmethod
    def open_or_create(
        name: str,
        dtype: DTypeLike,
        shape: _frame_type.ShapeLike,
        *,
        slots: int = 8,
        mode: str = "lossless",
        max_readers: int = 4,
        replace_stale: bool = False,
        prefault: bool = False,
        reserve: bool = True,
    ) -> ChannelWriter:
        """The writer of channel `name`: joins it if it exists, else creates it
        (arguments as :meth:`create`), safe against another process doing the
        same at the same moment.

        A writer that joined does not own the name (its close leaves the
        channel in place); one that created it does. Joining checks that the
        channel's frames are `dtype` and `shape` and its mode is `mode`
        (ValueError otherwise); slots and max_readers are the creator's.
        Raises OSError(EBUSY) while a live process is the writer,
        OSError(ENOMSG) if the name holds a region that is not a channel.
        """
        _require_channels()
        element, dims, _ = _frame_type.frame_type(dtype, shape)
        _choice(mode, "mode", tuple(_MODES))
        last: Optional[OSError] = None
        for _ in range(_OPEN_OR_CREATE_ATTEMPTS):
            try:
                writer = Channel.open_writer(name)
            except (FileNotFoundError, BlockingIOError) as missing:
                # BlockingIOError: an older core's creator is still laying it out.
                last = missing
                if isinstance(missing, BlockingIOError):
                    time.sleep(_JOIN_FIRST_PAUSE_S)
                    continue
            else:
                writer._require_frames(element, dims, mode)
                return writer
            try:
                return Channel.create(
                    name,
                    dtype,
                    shape,
                    slots=slots,
                    mode=mode,
                    max_readers=max_readers,
                    replace_stale=replace_stale,
                    prefault=prefault,
                    reserve=reserve,
                )
            except FileExistsError as taken:  # another process created it meanwhile
                last = taken
        assert last is not None
        raise last

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
        if handle is not None and self._generation == _generation:
            return handle
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

    def _slot_array(self, address: int, sequence: int) -> NDArray[Any]:
        """The array of the slot at `address` (where the C library put the
        frame), made at the slot's first frame and kept: the channel's dtype
        and shape (an untyped channel's: uint8 of the slot size), writable
        for the writer, read-only for a reader, over this participant's own
        mapping. Called under the lock, right after a frame call."""
        arrays = self._slot_arrays
        known = arrays.get(address)
        if known is not None:
            return known
        data = self._mapping()
        np = require_numpy("zinc.Channel")
        offset = address - self._base
        nbytes = self._frame_bytes  # an untyped channel's: the slot size
        if not 0 <= offset <= len(data) - nbytes:
            raise OSError(
                errno.EBADMSG,
                f"channel {self._name!r}: frame {sequence} of {nbytes} bytes at "
                f"offset {offset} lies outside the region's {len(data)} bytes",
            )
        view = data[offset : offset + nbytes]
        source = view if self._ROLE == "writer" else view.toreadonly()
        array: NDArray[Any] = np.frombuffer(source, self._dtype)
        if self._shape is not None:
            array = array.reshape(self._shape)
        if len(arrays) < self._slot_count:  # a slot's address never changes
            arrays[address] = array
        return array

    def _require_frames(self, dtype: np.dtype[Any], shape: Tuple[int, ...], mode: str) -> None:
        """ValueError (after closing this participant) unless the channel's
        frames are `shape` elements of `dtype` and its mode is `mode`."""
        if self._dtype == dtype and self._shape == shape and self._mode == mode:
            return
        found = f"{self._mode} frames of {self._dtype} shape {self._shape}"
        self.close()
        raise ValueError(
            f"channel {self._name!r} exists with {found}, not {mode} frames of {dtype} "
            f"shape {shape}"
        )

    def _failure(self, code: int) -> Exception:
        """The exception for a failed frame call: a close from another thread
        cancels a blocked call (ECANCELED, or EINVAL if it came first)."""
        failure = error(code)  # the message is the calling thread's, now
        return ValueError("channel is closed") if self._h is None else failure

    def _slow_path_waits(self, code: int, timeout: Optional[int]) -> bool:
        """The start of recv() or frame() after a first try that got no frame:
        raises for a handle inherited through fork() or a failure other than
        EAGAIN or ETIMEDOUT; False when `timeout` is 0 (the caller returns
        None), True when it waits in slices."""
        if self._generation != _generation:
            self._handle()  # raises: inherited through fork()
        if code != EAGAIN and code != ETIMEDOUT:
            raise self._failure(code)
        return timeout != 0

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
        # In the process that joined, the frame out is released or given up
        # with the participant; the native close does the rest.
        self._gate.close(not self._inherited)
        ffi.release(handle)  # zinc_channel_close, unless this is a fork child
        self._region.close()
        self._data = None
        self._slot_arrays = {}

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
