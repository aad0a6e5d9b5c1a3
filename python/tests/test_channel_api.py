"""zinc.Channel in one process: creating and joining, typed and untyped
frames, send/recv, timeouts, and every error a caller can run into."""

from __future__ import annotations

import errno
import pickle
import zlib
from typing import Any

import numpy as np
import pytest
from conftest import NameFactory, object_path

import zinc
import zinc._errors
import zinc._frame_type
from zinc._ffi import ffi, lib


def test_writer_frame_is_a_writable_view_and_the_reader_sees_it_read_only(
    region_name: NameFactory,
) -> None:
    name = region_name()
    with zinc.Channel.create(name, np.float32, (2, 3)) as writer:
        with zinc.Channel.open_reader(name) as reader:
            with writer.frame() as frame:
                assert frame.sequence == 0 and frame.open
                assert frame.array.shape == (2, 3) and frame.array.dtype == np.float32
                assert frame.array.flags.writeable and frame.array.flags.c_contiguous
                frame.array[...] = np.arange(6).reshape(2, 3)
            assert not frame.open and not frame.array.flags.writeable
            with reader.recv() as got:
                assert got.sequence == 0 and got.held
                np.testing.assert_array_equal(got.array, np.arange(6).reshape(2, 3))
                assert not got.array.flags.writeable
                with pytest.raises(ValueError, match="read-only"):
                    got.array[0, 0] = 1
            assert not got.held


def test_frames_are_views_of_the_shared_slot_not_copies(region_name: NameFactory) -> None:
    name = region_name()
    with zinc.Channel.create(name, np.uint8, (64,), slots=1) as writer:
        with zinc.Channel.open_reader(name) as reader:
            with writer.frame() as written:
                written.array[:] = 0
            with reader.recv() as frame:
                # A byte stored through the reader's view of the slot shows in
                # the writer's: both are the same shared pages.
                address = frame.array.__array_interface__["data"][0]
                ffi.cast("uint8_t *", address)[5] = 99
                assert written.array[5] == 99


def test_send_copies_and_returns_sequences_and_recv_copy_copies(region_name: NameFactory) -> None:
    name = region_name()
    with zinc.Channel.create(name, "<i8", (4,), slots=4) as writer:
        with zinc.Channel.open_reader(name) as reader:
            sent = [writer.send(np.full(4, i, "<i8")) for i in range(3)]
            assert sent == [0, 1, 2]
            copies = [reader.recv_copy() for _ in range(3)]
            assert [int(c[0]) for c in copies] == [0, 1, 2]
            assert copies[0].flags.writeable and copies[0].flags.owndata
            writer.send(np.full(4, 9, "<i8"))
            assert int(copies[0][0]) == 0, "a copy does not change with the slot"


def test_send_accepts_any_array_of_the_frame_type_even_non_contiguous(
    region_name: NameFactory,
) -> None:
    name = region_name()
    with zinc.Channel.create(name, np.int16, (3, 2)) as writer:
        with zinc.Channel.open_reader(name) as reader:
            source = np.arange(6, dtype=np.int16).reshape(2, 3).T  # Fortran order
            writer.send(source)
            np.testing.assert_array_equal(reader.recv_copy(), source)


@pytest.mark.parametrize(
    "data, message",
    [
        (np.zeros((3, 2), np.float64), r"dtype float64 \('<f8'\).*hold int16 \('<i2'\).*astype"),
        (np.zeros((2, 3), np.int16), r"shape \(2, 3\): this channel's frames have shape \(3, 2\)"),
        (np.zeros((3, 2), ">i2"), r"dtype >i2"),
        (5, r"shape \(\)"),
    ],
)
def test_send_refuses_arrays_of_another_shape_or_dtype(
    region_name: NameFactory, data: Any, message: str
) -> None:
    with zinc.Channel.create(region_name(), np.int16, (3, 2)) as writer:
        with pytest.raises(ValueError, match=message):
            writer.send(data)
        assert writer.info.write_seq == 0, "nothing was committed"


def test_reader_learns_dtype_and_shape_from_the_header(region_name: NameFactory) -> None:
    name = region_name()
    with zinc.Channel.create(name, ">c8", (2, 1, 3), mode="latest", slots=6) as writer:
        with zinc.Channel.open_reader(name) as reader:
            assert reader.dtype == np.dtype(">c8") and reader.shape == (2, 1, 3)
            assert (reader.mode, reader.slot_count, reader.max_readers) == ("latest", 6, 4)
            assert reader.slot_size == 8 * 6 == writer.slot_size
            assert reader.role == "reader" and writer.role == "writer"
            value = (np.arange(6) + 1j).astype(">c8").reshape(2, 1, 3)
            writer.send(value)
            got = reader.recv_copy()
            assert got.dtype == np.dtype(">c8")
            np.testing.assert_array_equal(got, value)


@pytest.mark.parametrize(
    "dtype, shape, frame_dtype, frame_shape",
    [
        (np.bool_, 5, "|b1", (5,)),
        ("u1", (), "|u1", ()),
        (np.float16, (1, 2, 3, 4, 5), "<f2", (1, 2, 3, 4, 5)),
        (np.dtype(("<f4", (3,))), (4,), "<f4", (4, 3)),
        (np.clongdouble, 1, np.dtype(np.clongdouble).str, (1,)),
        ("=u8", [2, 2], "<u8", (2, 2)),
    ],
)
def test_allowed_frame_types(
    region_name: NameFactory, dtype: Any, shape: Any, frame_dtype: str, frame_shape: Any
) -> None:
    if isinstance(shape, list):
        shape = tuple(shape)
    with zinc.Channel.create(region_name(), dtype, shape) as writer:
        assert writer.dtype.str == frame_dtype and writer.shape == frame_shape
        with writer.frame() as frame:
            assert frame.array.dtype.str == frame_dtype and frame.array.shape == frame_shape


@pytest.mark.parametrize(
    "dtype",
    [
        "U4",
        "S3",
        "O",
        "M8[ns]",
        "m8[s]",
        "V8",
        [("a", "<i4"), ("b", "<f4")],
    ],
)
def test_frame_types_the_spec_does_not_allow_are_value_errors_naming_the_dtype(
    region_name: NameFactory, dtype: Any
) -> None:
    name = region_name()
    item = np.dtype(dtype)
    with pytest.raises(ValueError, match=r"cannot be a channel's frame type") as caught:
        zinc.Channel.create(name, dtype, (2,))
    assert repr(item.str) in str(caught.value)
    assert not object_path(name).exists()


@pytest.mark.parametrize(
    "shape, message",
    [
        ((1, 2, 3, 4, 5, 6), r"6 dimensions; a frame has at most 5"),
        ((3, 0), r"extent below 1"),
        (-1, r"extent below 1"),
    ],
)
def test_shapes_the_spec_does_not_allow(region_name: NameFactory, shape: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        zinc.Channel.create(region_name(), np.uint8, shape)


def test_python_and_the_c_library_allow_the_same_element_types() -> None:
    # The spec's table (section 10.2.1) is implemented twice: here and in C.
    kinds = "biufcSUMmVO"
    for kind in kinds:
        for size in (1, 2, 3, 4, 8, 12, 16, 32):
            for order in "|<>":
                spelled = f"{order}{kind}{size}"
                native = ffi.new("ZincChannelFrameType *")
                native.dtype = spelled.encode()
                native.ndim = 1
                native.shape[0] = 1
                out = ffi.new("ZincChannel *")
                code = lib.zinc_channel_create_typed(b"t-never", 1, 1, native, 1, 1 << 20, out)
                # Invalid flags: a frame type that passes is refused for them instead.
                c_allows = "unknown channel create flags" in zinc._errors.error(code).strerror
                try:
                    python_allows = np.dtype(spelled).str == spelled
                    zinc._frame_type.frame_type(spelled, 1)
                except (TypeError, ValueError):
                    python_allows = False
                assert python_allows == c_allows, spelled


def test_untyped_channel_frames_are_bytes_of_the_committed_length(region_name: NameFactory) -> None:
    name = region_name()
    with zinc.Channel.create_untyped(name, 100, slots=8) as writer:
        assert writer.shape is None and writer.dtype == np.uint8 and writer.slot_size == 100
        with zinc.Channel.open_reader(name) as reader:
            assert writer.send(b"hello") == 0
            writer.send(bytearray(b"x" * 100))
            writer.send(np.arange(3, dtype="<u2"))  # any contiguous buffer, as bytes
            with writer.frame() as frame:
                assert frame.array.shape == (100,)
                frame.array[:2] = [1, 2]
                frame.commit(2)
            writer.send(b"")
            got = [reader.recv_copy(0) for _ in range(5)]
            assert bytes(got[0]) == b"hello"
            assert bytes(got[1]) == b"x" * 100
            assert bytes(got[2]) == np.arange(3, dtype="<u2").tobytes()
            assert got[3].tolist() == [1, 2]
            assert got[4].size == 0 and got[4].dtype == np.uint8


def test_untyped_send_errors(region_name: NameFactory) -> None:
    with zinc.Channel.create_untyped(region_name(), 8) as writer:
        with pytest.raises(ValueError, match="cannot send 9 bytes: a slot of this channel holds 8"):
            writer.send(b"123456789")
        with pytest.raises(TypeError, match="bytes-like objects.*not str"):
            writer.send("text")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="not C-contiguous"):
            writer.send(np.arange(8, dtype=np.uint8)[::2])
        with writer.frame() as frame:
            with pytest.raises(ValueError, match="nbytes 9 is more than the slot size 8"):
                frame.commit(9)
        assert writer.info.write_seq == 1


def test_typed_frames_commit_whole(region_name: NameFactory) -> None:
    with zinc.Channel.create(region_name(), np.uint32, 4) as writer:
        frame = writer.frame()
        with pytest.raises(ValueError, match=r"is 16 bytes \(uint32, shape \(4,\)\)"):
            frame.commit(8)
        assert frame.commit(16) == 0
        with pytest.raises(ValueError, match="frame 0 was already committed or given up"):
            frame.commit()


def test_a_frame_given_up_by_an_exception_is_never_seen(region_name: NameFactory) -> None:
    name = region_name()
    with zinc.Channel.create(name, np.uint8, 16) as writer:
        with zinc.Channel.open_reader(name) as reader:
            with pytest.raises(RuntimeError):
                with writer.frame() as frame:
                    frame.array[:] = 1
                    raise RuntimeError("camera unplugged")
            assert not frame.open and not frame.array.flags.writeable
            assert reader.recv(timeout_ms=0) is None
            with writer.frame() as again:
                assert again.sequence == 0, "the same frame, written anew"
                again.array[:] = 2
            assert reader.recv_copy(0).tolist() == [2] * 16


def test_one_open_frame_per_writer_and_one_held_frame_per_reader(region_name: NameFactory) -> None:
    name = region_name()
    with zinc.Channel.create(name, np.uint8, 4) as writer:
        with zinc.Channel.open_reader(name) as reader:
            first = writer.frame()
            with pytest.raises(ValueError, match="frame 0 is still open: commit it"):
                writer.frame()
            first.commit()
            writer.send(np.ones(4, np.uint8))
            held = reader.recv()
            with pytest.raises(ValueError, match="frame 0 is still held: release it"):
                reader.recv(0)
            held.release()
            held.release()  # again: nothing
            assert reader.recv_copy(0).tolist() == [1] * 4


def test_dropped_frames_are_given_back_by_the_next_call(region_name: NameFactory) -> None:
    name = region_name()
    with zinc.Channel.create(name, np.uint8, 4, slots=1) as writer:
        with zinc.Channel.open_reader(name) as reader:
            writer.frame().array[:] = 5  # dropped uncommitted
            with writer.frame() as frame:
                assert frame.sequence == 0 and frame.array.tolist() == [5] * 4
            reader.recv()  # dropped unreleased: holds the only slot
            assert writer.frame(timeout_ms=0) is None
            assert reader.recv(timeout_ms=0) is None  # releases the dropped frame
            assert writer.frame(timeout_ms=0) is not None


def test_timeouts(region_name: NameFactory) -> None:
    name = region_name()
    with zinc.Channel.create(name, np.uint8, 4, slots=1) as writer:
        with zinc.Channel.open_reader(name) as reader:
            assert reader.recv(timeout_ms=0) is None
            assert reader.recv(timeout_ms=30) is None
            assert reader.recv_copy(timeout_ms=0) is None
            assert writer.send(np.zeros(4, np.uint8), timeout_ms=0) == 0
            assert writer.send(np.zeros(4, np.uint8), timeout_ms=0) is None, "ring full"
            assert writer.frame(timeout_ms=30) is None
            with pytest.raises(OverflowError, match="timeout_ms must be between 0 and"):
                reader.recv(timeout_ms=-1)
            with pytest.raises(OverflowError):
                writer.frame(timeout_ms=2**32)


def test_latest_reader_gets_the_newest_frame_once(region_name: NameFactory) -> None:
    name = region_name()
    with zinc.Channel.create(name, np.uint16, 2, mode="latest", slots=4, max_readers=2) as writer:
        with zinc.Channel.open_reader(name) as reader:
            for i in range(10):
                writer.send(np.full(2, i, np.uint16))
            with reader.recv(0) as frame:
                assert frame.sequence == 9 and frame.array.tolist() == [9, 9]
                # The writer never waits, even with the frame held.
                for i in range(10, 20):
                    writer.send(np.full(2, i, np.uint16), timeout_ms=0)
                assert frame.array.tolist() == [9, 9], "a held frame is never overwritten"
            assert reader.recv(0).sequence == 19
            assert reader.recv(0) is None


def test_create_and_open_errors(region_name: NameFactory) -> None:
    name = region_name()
    with zinc.Channel.create(name, np.uint8, 4, max_readers=1) as writer:
        with pytest.raises(FileExistsError, match="already exists"):
            zinc.Channel.create(name, np.uint8, 4)
        with pytest.raises(OSError, match="already has a writer") as busy:
            zinc.Channel.open_writer(name)
        assert busy.value.errno == errno.EBUSY
        with zinc.Channel.open_reader(name):
            with pytest.raises(OSError, match="all 1 reader entries are held") as full:
                zinc.Channel.open_reader(name)
            assert full.value.errno == errno.EBUSY
        assert writer.info.readers == 0
    with pytest.raises(FileNotFoundError, match="no region named"):
        zinc.Channel.open_reader(name)
    with zinc.SharedRegion.create(name, zinc.PAGE_SIZE):
        with pytest.raises(OSError, match="channel") as not_a_channel:
            zinc.Channel.open_reader(name)
        assert not_a_channel.value.errno == errno.ENOMSG


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"slots": 0}, OSError, "slot_count 0 is not in 1..65536"),
        ({"max_readers": 65}, OSError, "max_readers 65 is not in 1..64"),
        (
            {"mode": "latest", "slots": 4, "max_readers": 4},
            OSError,
            r"needs slot_count >= max_readers \+ 2 \(6\), not 4",
        ),
        ({"mode": "newest"}, ValueError, "mode must be 'lossless' or 'latest', not 'newest'"),
        ({"role": "owner"}, ValueError, "role must be 'writer' or 'reader', not 'owner'"),
        ({"slots": -1}, OverflowError, "slots must be between 0 and"),
    ],
)
def test_bad_geometry_is_refused_with_a_message(
    region_name: NameFactory, kwargs: Any, error: Any, message: str
) -> None:
    name = region_name()
    with pytest.raises(error, match=message) as caught:
        zinc.Channel.create(name, np.uint8, 4, **kwargs)
    if error is OSError:
        assert caught.value.errno == errno.EINVAL
    assert not object_path(name).exists()


def test_bad_names(region_name: NameFactory) -> None:
    with pytest.raises(OSError, match="names use only") as caught:
        zinc.Channel.create("bad name", np.uint8, 4)
    assert caught.value.errno == errno.EINVAL
    with pytest.raises(ValueError, match="name contains NUL"):
        zinc.Channel.open_reader("a\0b")
    with pytest.raises(TypeError, match="name must be a str"):
        zinc.Channel.open_writer(b"bytes")  # type: ignore[arg-type]


def test_reader_created_channel_takes_a_writer_later(region_name: NameFactory) -> None:
    name = region_name()
    with zinc.Channel.create(name, np.uint8, 3, role="reader") as reader:
        assert isinstance(reader, zinc.ChannelReader) and reader.info.writer_pid == 0
        with zinc.Channel.open_writer(name) as writer:
            writer.send(np.array([1, 2, 3], np.uint8))
        assert reader.recv_copy(0).tolist() == [1, 2, 3]
    assert not object_path(name).exists(), "the creating reader owns the name"


def test_info_and_repr(region_name: NameFactory) -> None:
    name = region_name()
    with zinc.Channel.create(name, np.uint8, (480, 640, 3), mode="latest") as writer:
        assert repr(writer) == (
            f"<zinc.ChannelWriter name={name!r} mode=latest dtype=uint8 shape=(480, 640, 3) "
            "slots=8 created>"
        )
        with zinc.Channel.open_reader(name) as reader:
            writer.send(np.zeros((480, 640, 3), np.uint8))
            info = reader.info
            assert info == zinc.ChannelInfo(
                name=name,
                mode="latest",
                dtype=np.dtype(np.uint8),
                shape=(480, 640, 3),
                slot_count=8,
                slot_size=480 * 640 * 3,
                max_readers=4,
                readers=1,
                write_seq=1,
                writer_pid=writer.info.writer_pid,
            )
            assert info.writer_pid > 0
        assert repr(reader).endswith("opened closed>")
    with zinc.Channel.create_untyped(name, 10) as untyped:
        assert "untyped slot_size=10" in repr(untyped)


def test_channels_cannot_be_pickled(region_name: NameFactory) -> None:
    with zinc.Channel.create(region_name(), np.uint8, 1) as writer:
        with pytest.raises(TypeError, match="pass the channel's name to the other process"):
            pickle.dumps(writer)


def test_typed_frame_of_the_wrong_length_is_skipped_with_ebadmsg(region_name: NameFactory) -> None:
    # A writer in another language may commit fewer bytes than the frame type.
    name = region_name()
    native = ffi.new("ZincChannelFrameType *")
    native.dtype = b"<u4"
    native.ndim = 1
    native.shape[0] = 4
    out = ffi.new("ZincChannel *")
    assert lib.zinc_channel_create_typed(name.encode(), 1, 4, native, 1, 0, out) == 0
    raw_writer = out[0]
    try:
        with zinc.Channel.open_reader(name) as reader:
            frame = ffi.new("ZincChannelFrame *")
            for length in (8, 16):
                assert lib.zinc_channel_acquire(raw_writer, 0, frame) == 0
                ffi.buffer(frame.data, 16)[:] = bytes(range(16))
                assert lib.zinc_channel_commit(raw_writer, length) == 0
            with pytest.raises(OSError, match="frame 0 is 8 bytes, but its frame type") as bad:
                reader.recv(0)
            assert bad.value.errno == errno.EBADMSG
            with reader.recv(0) as good:
                assert good.sequence == 1
                assert zlib.crc32(good.array) == zlib.crc32(bytes(range(16)))
    finally:
        lib.zinc_channel_close(raw_writer)
