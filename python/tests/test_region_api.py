"""create/open, properties, shared bytes, and every bad input with its error."""

from __future__ import annotations

import errno
import mmap
import os
import pickle
import re
from importlib import metadata
from pathlib import Path

import pytest
from conftest import REPO_ROOT, NameFactory, object_path
from hypothesis import assume, given
from hypothesis import strategies as st

import zinc

PAGE = zinc.PAGE_SIZE
NAME_RULE = re.compile(r"[A-Za-z0-9_-]{1,250}")

name_suffixes = st.from_regex(r"[A-Za-z0-9_-]{0,40}", fullmatch=True)
page_counts = st.integers(min_value=1, max_value=64)


@given(suffix=name_suffixes, pages=page_counts)
def test_created_region_has_its_name_capacity_and_zeroed_bytes(
    region_name: NameFactory, suffix: str, pages: int
) -> None:
    name = region_name(suffix)
    with zinc.SharedRegion.create(name, pages * PAGE) as region:
        assert region.name == name
        assert region.capacity == pages * PAGE
        assert not region.closed
        view = region.as_buffer()
        assert len(view) == pages * PAGE
        assert not view.readonly and view.format == "B"
        assert view[: min(PAGE, len(view))] == bytes(min(PAGE, len(view)))
        assert object_path(name).stat().st_size == PAGE + pages * PAGE
    # The view keeps the creator's handle, so the name, until it goes.
    assert object_path(name).exists()
    del view
    assert not object_path(name).exists()


@given(
    pages=page_counts,
    data=st.data(),
)
def test_bytes_written_through_one_handle_are_read_through_another(
    region_name: NameFactory, pages: int, data: st.DataObject
) -> None:
    capacity = pages * PAGE
    payload = data.draw(st.binary(min_size=0, max_size=min(capacity, 3 * PAGE)))
    offset = data.draw(st.integers(0, capacity - len(payload)))
    name = region_name()
    with zinc.SharedRegion.create(name, capacity) as writer, zinc.SharedRegion.open(name) as reader:
        assert reader.capacity == capacity and reader.name == name
        writer.as_buffer()[offset : offset + len(payload)] = payload
        assert bytes(reader.as_buffer()[offset : offset + len(payload)]) == payload
        # And back: the two views are the same physical memory.
        reader.as_buffer()[offset : offset + len(payload)] = payload[::-1]
        assert bytes(writer.as_buffer()[offset : offset + len(payload)]) == payload[::-1]


def test_longest_name_is_accepted_and_one_more_byte_is_not(region_name: NameFactory) -> None:
    base = region_name()
    longest = base + "x" * (250 - len(base))
    with zinc.SharedRegion.create(longest, PAGE) as region:
        assert region.name == longest
        assert zinc.SharedRegion.open(longest).name == longest
    with pytest.raises(OSError) as info:
        zinc.SharedRegion.create(longest + "x", PAGE)
    assert info.value.errno == errno.EINVAL
    assert "251 bytes" in str(info.value) and "250" in str(info.value)


@given(name=st.text(min_size=0, max_size=260))
def test_invalid_names_raise_oserror_einval_saying_why(region_name: NameFactory, name: str) -> None:
    assume("\0" not in name and not NAME_RULE.fullmatch(name))
    for attempt in (
        lambda: zinc.SharedRegion.create(name, PAGE),
        lambda: zinc.SharedRegion.open(name),
    ):
        with pytest.raises(OSError) as info:
            attempt()
        assert type(info.value) is OSError
        assert info.value.errno == errno.EINVAL
        assert re.search(r"name (is empty|is \d+ bytes|has byte)", str(info.value)), info.value


@pytest.mark.parametrize("name", ["\udc80", "ok\ud800name"], ids=["lone_low", "lone_high"])
def test_name_with_a_lone_surrogate_raises_einval_like_other_bad_names(name: str) -> None:
    with pytest.raises(OSError, match="name has byte 0xed at offset") as info:
        zinc.SharedRegion.create(name, PAGE)
    assert info.value.errno == errno.EINVAL


@given(prefix=st.text(max_size=5), suffix=st.text(max_size=5))
def test_nul_in_name_raises_value_error(prefix: str, suffix: str) -> None:
    name = prefix + "\0" + suffix
    with pytest.raises(ValueError, match="name contains NUL"):
        zinc.SharedRegion.create(name, PAGE)
    with pytest.raises(ValueError, match="name contains NUL"):
        zinc.SharedRegion.open(name)


@pytest.mark.parametrize("name", [b"bytes-name", 42, None])
def test_name_that_is_not_a_str_raises_type_error(name: object) -> None:
    with pytest.raises(TypeError, match="name must be a str"):
        zinc.SharedRegion.create(name, PAGE)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="name must be a str"):
        zinc.SharedRegion.open(name)  # type: ignore[arg-type]


@given(capacity=st.integers(1, 2**40).filter(lambda c: c % PAGE != 0))
def test_capacity_not_a_page_multiple_raises_einval_naming_both(
    region_name: NameFactory, capacity: int
) -> None:
    name = region_name()
    with pytest.raises(OSError) as info:
        zinc.SharedRegion.create(name, capacity)
    assert type(info.value) is OSError and info.value.errno == errno.EINVAL
    assert f"capacity {capacity} is not a multiple of the page size {PAGE}" in str(info.value)
    assert not object_path(name).exists()


def test_capacity_example_from_the_issue(region_name: NameFactory) -> None:
    with pytest.raises(OSError, match="capacity 5000 is not a multiple of the page size 4096"):
        zinc.SharedRegion.create(region_name(), 5000)


def test_zero_and_huge_capacities_raise_einval(region_name: NameFactory) -> None:
    with pytest.raises(OSError, match="capacity must be positive") as info:
        zinc.SharedRegion.create(region_name(), 0)
    assert info.value.errno == errno.EINVAL
    with pytest.raises(OSError, match="too large for one mapping") as info:
        zinc.SharedRegion.create(region_name(), 2**63)
    assert info.value.errno == errno.EINVAL


@pytest.mark.parametrize("capacity", [-1, -PAGE, 2**64])
def test_capacity_outside_the_c_range_raises_overflow_error(
    region_name: NameFactory, capacity: int
) -> None:
    # Not "between 0 and ...": the library refuses 0 (EINVAL, above).
    with pytest.raises(
        OverflowError,
        match=rf"capacity must be a positive multiple of the page size \({PAGE}\) "
        rf"below 2\*\*64, got {capacity}$",
    ):
        zinc.SharedRegion.create(region_name(), capacity)


@pytest.mark.parametrize("capacity", [4096.0, "4096", None])
def test_capacity_that_is_not_an_int_raises_type_error(
    region_name: NameFactory, capacity: object
) -> None:
    with pytest.raises(TypeError):
        zinc.SharedRegion.create(region_name(), capacity)  # type: ignore[arg-type]


def test_create_of_an_existing_name_raises_file_exists_error(region_name: NameFactory) -> None:
    name = region_name()
    with zinc.SharedRegion.create(name, PAGE) as region:
        region.as_buffer()[0] = 7
        with pytest.raises(FileExistsError, match=f"region '{name}' already exists") as info:
            zinc.SharedRegion.create(name, PAGE)
        assert info.value.errno == errno.EEXIST
        assert region.as_buffer()[0] == 7  # the failed create lost nothing


def test_open_of_a_missing_name_raises_file_not_found_error(region_name: NameFactory) -> None:
    name = region_name()
    with pytest.raises(FileNotFoundError, match=f"no region named '{name}'") as info:
        zinc.SharedRegion.open(name)
    assert info.value.errno == errno.ENOENT


def write_object(name: str, data: bytes) -> None:
    fd = os.open(object_path(name), os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def valid_object(name: str) -> bytearray:
    """The bytes of a valid one-page region named `name`, made by zinc itself."""
    with zinc.SharedRegion.create(name, PAGE):
        return bytearray(object_path(name).read_bytes())


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda b: b.__setitem__(slice(0, 8), b"NOTZINC!"), "magic"),
        (lambda b: b.__setitem__(slice(8, 10), (9).to_bytes(2, "little")), "version"),
        (lambda b: b.__setitem__(slice(16, 24), (8 * PAGE).to_bytes(8, "little")), "capacity"),
        (lambda b: b.__setitem__(slice(40, 48), bytes(8)), "name_hash"),
        (lambda b: b.__delitem__(slice(PAGE + 100, None)), f"object is {PAGE + 100} bytes"),
    ],
    ids=["bad_magic", "bad_version", "bad_capacity", "bad_name_hash", "truncated"],
)
def test_open_of_a_corrupted_region_raises_oserror_ebadmsg(
    region_name: NameFactory, damage: object, message: str
) -> None:
    name = region_name()
    data = valid_object(name)
    damage(data)  # type: ignore[operator]
    write_object(name, bytes(data))
    with pytest.raises(OSError) as info:
        zinc.SharedRegion.open(name)
    assert type(info.value) is OSError and info.value.errno == errno.EBADMSG
    assert message in str(info.value), info.value


def test_open_while_the_creator_is_not_done_raises_blocking_io_error(
    region_name: NameFactory,
) -> None:
    # An object of the right size whose magic is still 0, as between the
    # creator's ftruncate and its header publication: retryable.
    name = region_name()
    write_object(name, bytes(2 * PAGE))
    with pytest.raises(BlockingIOError) as info:
        zinc.SharedRegion.open(name)
    assert info.value.errno == errno.EAGAIN


def test_owner_close_unlinks_but_opened_handle_keeps_reading(region_name: NameFactory) -> None:
    name = region_name()
    owner = zinc.SharedRegion.create(name, PAGE)
    reader = zinc.SharedRegion.open(name)
    owner.as_buffer()[:3] = b"abc"
    owner.close()
    assert not object_path(name).exists()
    with pytest.raises(FileNotFoundError):
        zinc.SharedRegion.open(name)
    assert bytes(reader.as_buffer()[:3]) == b"abc"
    # A new region under the old name is a different region.
    with zinc.SharedRegion.create(name, PAGE) as fresh:
        assert bytes(fresh.as_buffer()[:3]) == bytes(3)
        assert bytes(reader.as_buffer()[:3]) == b"abc"
    reader.close()


def test_opener_close_does_not_unlink(region_name: NameFactory) -> None:
    name = region_name()
    with zinc.SharedRegion.create(name, PAGE):
        zinc.SharedRegion.open(name).close()
        assert object_path(name).exists()


def test_repr_shows_name_capacity_role_and_state(region_name: NameFactory) -> None:
    name = region_name()
    owner = zinc.SharedRegion.create(name, 2 * PAGE)
    reader = zinc.SharedRegion.open(name)
    assert repr(owner) == f"<zinc.SharedRegion name={name!r} capacity={2 * PAGE} role=creator>"
    assert repr(reader) == f"<zinc.SharedRegion name={name!r} capacity={2 * PAGE} role=opener>"
    owner.close()
    reader.close()
    assert repr(owner).endswith("role=creator closed>")
    assert owner.name == name and owner.capacity == 2 * PAGE and owner.closed


def test_subclass_is_preserved_by_create_and_open(region_name: NameFactory) -> None:
    class Frames(zinc.SharedRegion):
        pass

    name = region_name()
    with Frames.create(name, PAGE) as owner, Frames.open(name) as reader:
        assert type(owner) is Frames and type(reader) is Frames
        assert repr(owner).startswith("<zinc.Frames ")


def test_region_cannot_be_pickled_and_says_what_to_do(region_name: NameFactory) -> None:
    with zinc.SharedRegion.create(region_name(), PAGE) as region:
        with pytest.raises(TypeError, match="pass its name to the other process"):
            pickle.dumps(region)


def test_page_size_and_name_limit_are_the_system_values() -> None:
    assert zinc.PAGE_SIZE == mmap.PAGESIZE == os.sysconf("SC_PAGE_SIZE")
    assert zinc.MAX_NAME_LEN == 250


def test_version_is_the_projects_version() -> None:
    cmake = (REPO_ROOT / "CMakeLists.txt").read_text()
    match = re.search(r"project\(zinc VERSION ([0-9.]+)", cmake)
    assert match, "project(zinc VERSION ...) not found in CMakeLists.txt"
    assert zinc.__version__ == match.group(1)
    if Path(zinc.__file__).parent.parent.name == "site-packages":
        assert metadata.version("zinc-shm") == zinc.__version__


def test_public_names_are_exported() -> None:
    assert set(zinc.__all__) == {
        "MAX_NAME_LEN",
        "PAGE_SIZE",
        "Channel",
        "ChannelInfo",
        "ChannelReader",
        "ChannelWriter",
        "ReadFrame",
        "WriteFrame",
        "RegionInfo",
        "SharedRegion",
        "WaitSet",
        "__version__",
        "list_regions",
    }
    for name in zinc.__all__:
        assert hasattr(zinc, name)
