"""What a bridged frame carries besides its bytes: the header in the Zenoh
sample's attachment (docs/bridge.md, "On the wire").

The payload is the frame exactly as the writer committed it (its `length`
bytes). The attachment is one fixed 80-byte little-endian header:

    offset size  field
    0      4     magic b"ZNCB"
    4      1     version (1)
    5      1     mode (1 lossless, 2 latest: the channel header's values)
    6      2     reserved, 0
    8      8     sequence: the frame's sequence in the source channel
    16     8     slot_size of the source channel
    24     56    frame_type: the source channel's 56 bytes of docs/spec.md
                 section 10.2.1 (all 0: untyped)

So a receiver learns the dtype and shape the way a local reader does, from
the same 56 bytes. Everything that arrives from the network is untrusted:
parse() checks each field and raises FrameError naming the problem.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, Optional, Tuple

from .. import _frame_type
from .._ffi import ffi, lib

MAGIC = b"ZNCB"
VERSION = 1
HEADER = struct.Struct("<4sBBHQQ56s")
SEQUENCE = struct.Struct("<Q")
SEQUENCE_OFFSET = 8
TYPE_BYTES = 56

MODES = {"lossless": int(lib.ZINC_CHANNEL_LOSSLESS), "latest": int(lib.ZINC_CHANNEL_LATEST)}
_MODE_NAMES = {value: name for name, value in MODES.items()}

# docs/spec.md section 10.2: slot_size is 1..2^40.
MAX_SLOT_SIZE = 2**40


class FrameError(ValueError):
    """A bridged frame whose header or length breaks the rules above."""


@dataclass(frozen=True)
class StreamType:
    """What the frames of one bridged channel are: its mode, slot size and
    frame type (dtype and shape; both None for an untyped channel)."""

    mode: str
    slot_size: int
    dtype: Optional[str]
    shape: Optional[Tuple[int, ...]]

    @property
    def frame_bytes(self) -> Optional[int]:
        """A typed frame's exact size; None for an untyped channel."""
        return None if self.dtype is None else self.slot_size

    def describe(self) -> str:
        if self.dtype is None:
            return f"{self.mode} untyped frames of up to {self.slot_size} bytes"
        return f"{self.mode} frames of {self.dtype} shape {self.shape}"


def type_bytes(dtype: Optional[str], shape: Optional[Tuple[int, ...]]) -> bytes:
    """The 56 bytes of section 10.2.1 for a channel's frame type (dtype and
    shape as zinc.Channel reports them; None, None: untyped)."""
    if dtype is None or shape is None:
        return bytes(TYPE_BYTES)
    _, _, native = _frame_type.frame_type(dtype, shape)
    return bytes(ffi.buffer(native))


class HeaderWriter:
    """The headers of one source channel's frames: everything but the
    sequence is fixed, so a frame costs one pack."""

    def __init__(self, stream: StreamType) -> None:
        self.stream = stream
        self._template = bytearray(
            HEADER.pack(
                MAGIC,
                VERSION,
                MODES[stream.mode],
                0,
                0,
                stream.slot_size,
                type_bytes(stream.dtype, stream.shape),
            )
        )

    def header(self, sequence: int) -> bytes:
        SEQUENCE.pack_into(self._template, SEQUENCE_OFFSET, sequence)
        return bytes(self._template)


class HeaderReader:
    """Parses the headers of the frames arriving for one key expression;
    the stream type is decoded again only when its bytes change."""

    def __init__(self) -> None:
        self._known: Optional[bytes] = None
        self._stream: Optional[StreamType] = None

    def parse(self, attachment: Optional[bytes], payload_length: int) -> Tuple[int, StreamType]:
        """(sequence, stream type) of a frame whose attachment is
        `attachment` and whose payload is `payload_length` bytes."""
        if attachment is None:
            raise FrameError("a sample without an attachment is not a zinc frame")
        if len(attachment) != HEADER.size:
            raise FrameError(
                f"the attachment is {len(attachment)} bytes; a zinc frame header is {HEADER.size}"
            )
        (sequence,) = SEQUENCE.unpack_from(attachment, SEQUENCE_OFFSET)
        fixed = attachment[:SEQUENCE_OFFSET] + attachment[SEQUENCE_OFFSET + 8 :]
        if fixed != self._known or self._stream is None:
            self._stream = decode_stream(attachment)
            self._known = fixed
        stream = self._stream
        expected = stream.frame_bytes
        if expected is not None and payload_length != expected:
            raise FrameError(
                f"frame {sequence} is {payload_length} bytes, but its frame type "
                f"({stream.dtype}, shape {stream.shape}) needs {expected}"
            )
        if payload_length > stream.slot_size:
            raise FrameError(
                f"frame {sequence} is {payload_length} bytes, more than its slot size "
                f"{stream.slot_size}"
            )
        return sequence, stream


def decode_stream(attachment: bytes) -> StreamType:
    """The stream type in a header, every field checked (FrameError)."""
    magic, version, mode, reserved, _, slot_size, raw_type = HEADER.unpack(attachment)
    if magic != MAGIC:
        raise FrameError(f"bad magic {magic!r} (expected {MAGIC!r}): not a zinc frame")
    if version != VERSION:
        raise FrameError(f"frame header version {version}; this bridge reads version {VERSION}")
    if mode not in _MODE_NAMES:
        raise FrameError(f"mode {mode} is neither lossless (1) nor latest (2)")
    if reserved != 0:
        raise FrameError(f"reserved header bytes are {reserved:#x}, not 0")
    if not 1 <= slot_size <= MAX_SLOT_SIZE:
        raise FrameError(f"slot size {slot_size} is outside 1..2^40")
    dtype, shape = _decode_type(raw_type)
    if dtype is not None and shape is not None:
        element, dims, _ = _frame_type.frame_type(dtype, shape)
        if _frame_type.frame_bytes(element, dims) != slot_size:
            raise FrameError(
                f"slot size {slot_size} is not the size of a {dtype} frame of shape {shape}"
            )
    return StreamType(_MODE_NAMES[mode], slot_size, dtype, shape)


def _decode_type(raw: bytes) -> Tuple[Optional[str], Optional[Tuple[int, ...]]]:
    """dtype string and shape from the 56 bytes of section 10.2.1, or
    (None, None) for all zeros; FrameError for what the section forbids."""
    if raw == bytes(TYPE_BYTES):
        return None, None
    native: Any = ffi.new("ZincChannelFrameType *")
    ffi.memmove(native, raw, TYPE_BYTES)
    spelled = bytes(raw[:8]).rstrip(b"\0")
    ndim = int(native.ndim)
    if b"\0" in spelled or not spelled.isascii() or not spelled:
        raise FrameError(f"frame type dtype {bytes(raw[:8])!r} is not NUL-padded ASCII")
    if ndim > _frame_type.MAX_DIMS:
        raise FrameError(f"frame type has {ndim} dimensions; at most {_frame_type.MAX_DIMS}")
    if raw[12:16] != bytes(4):
        raise FrameError("frame type's reserved bytes are not 0")
    shape = tuple(int(native.shape[d]) for d in range(ndim))
    if any(int(native.shape[d]) != 0 for d in range(ndim, _frame_type.MAX_DIMS)):
        raise FrameError(f"frame type shape has extents past its {ndim} dimensions")
    dtype = spelled.decode("ascii")
    try:
        element, _, _ = _frame_type.frame_type(dtype, shape)
    except (TypeError, ValueError) as bad:
        raise FrameError(f"frame type ({dtype!r}, shape {shape}) is not valid: {bad}") from None
    if element.str != dtype:
        raise FrameError(f"frame type dtype {dtype!r} is not spelled as numpy spells it")
    return dtype, shape
