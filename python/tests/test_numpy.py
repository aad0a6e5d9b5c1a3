"""as_numpy(): dtypes, shapes and offsets over the shared bytes, its bad
arguments, and what happens without numpy."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pytest
from conftest import NameFactory, run_python
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import DTYPES

import zinc

PAGE = zinc.PAGE_SIZE


def test_default_array_is_uint8_over_the_whole_capacity(region_name: NameFactory) -> None:
    with zinc.SharedRegion.create(region_name(), 2 * PAGE) as region:
        array = region.as_numpy()
        assert array.dtype == np.uint8 and array.shape == (2 * PAGE,)
        assert array.flags.writeable and array.flags.c_contiguous
        array[-1] = 255
        assert region.as_buffer()[-1] == 255


@given(dtype=DTYPES, pages=st.integers(1, 4), data=st.data())
def test_any_dtype_maps_the_items_that_fit_after_the_offset(
    region_name: NameFactory, dtype: np.dtype[Any], pages: int, data: st.DataObject
) -> None:
    capacity = pages * PAGE
    offset = data.draw(st.integers(0, capacity // dtype.alignment)) * dtype.alignment
    with zinc.SharedRegion.create(region_name(), capacity) as region:
        array = region.as_numpy(dtype, offset=offset)
        assert array.dtype == dtype
        assert array.shape == ((capacity - offset) // dtype.itemsize,)
        values = data.draw(hnp.arrays(dtype, min(array.size, 8)))
        array[: values.size] = values
        written = bytes(region.as_buffer()[offset : offset + values.nbytes])
        assert written == array[: values.size].tobytes()


@given(dtype=DTYPES, data=st.data())
def test_shape_and_offset_place_an_array_exactly(
    region_name: NameFactory, dtype: np.dtype[Any], data: st.DataObject
) -> None:
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5))
    values = data.draw(hnp.arrays(dtype, shape))
    capacity = (values.nbytes // PAGE + 1) * PAGE
    offset = data.draw(st.integers(0, (capacity - values.nbytes) // dtype.alignment))
    offset *= dtype.alignment
    name = region_name()
    with zinc.SharedRegion.create(name, capacity) as writer, zinc.SharedRegion.open(name) as reader:
        writer.as_numpy(dtype, shape=shape, offset=offset)[...] = values
        seen = reader.as_numpy(dtype, shape=shape, offset=offset)
        assert seen.shape == values.shape
        assert seen.tobytes() == values.tobytes()
        assert bytes(reader.as_buffer()[offset : offset + values.nbytes]) == values.tobytes()


def test_typed_scalar_dtype_and_integer_shape(region_name: NameFactory) -> None:
    with zinc.SharedRegion.create(region_name(), PAGE) as region:
        frame = region.as_numpy(np.float32, shape=(16, 16), offset=PAGE - 1024)
        assert frame.shape == (16, 16) and frame.nbytes == 1024
        frame[15, 15] = 1.5
        assert region.as_numpy(np.float32)[-1] == 1.5
        assert region.as_numpy("<i2", shape=3).shape == (3,)


def test_structured_records_are_shared_field_by_field(region_name: NameFactory) -> None:
    record = np.dtype([("id", "<u4"), ("pos", "<f8", (3,)), ("tag", "S4")])
    name = region_name()
    with zinc.SharedRegion.create(name, PAGE) as writer, zinc.SharedRegion.open(name) as reader:
        rows = writer.as_numpy(record)
        assert rows.shape == (PAGE // record.itemsize,)
        rows[1] = (7, (1.0, 2.0, 3.0), b"abcd")
        row = reader.as_numpy(record)[1]
        assert row["id"] == 7 and list(row["pos"]) == [1.0, 2.0, 3.0] and row["tag"] == b"abcd"


@pytest.mark.parametrize("offset", [-1, PAGE + 1])
def test_offset_outside_the_region_raises_value_error(
    region_name: NameFactory, offset: int
) -> None:
    with zinc.SharedRegion.create(region_name(), PAGE) as region:
        with pytest.raises(ValueError, match=f"offset {offset} is outside the region"):
            region.as_numpy(offset=offset)


def test_offset_at_the_end_gives_an_empty_array(region_name: NameFactory) -> None:
    with zinc.SharedRegion.create(region_name(), PAGE) as region:
        assert region.as_numpy(np.float64, offset=PAGE).shape == (0,)


def test_shape_larger_than_the_region_raises_value_error_with_sizes(
    region_name: NameFactory,
) -> None:
    with zinc.SharedRegion.create(region_name(), PAGE) as region:
        with pytest.raises(
            ValueError,
            match=r"shape \(2, 512\) of float64 needs 8192 bytes at offset 0, "
            r"but the region has 4096 bytes there \(capacity 4096\)",
        ):
            region.as_numpy(np.float64, shape=(2, 512))
        with pytest.raises(ValueError, match="needs 8 bytes at offset 4092"):
            region.as_numpy(np.float32, shape=2, offset=PAGE - 4)


def test_negative_dimension_raises_value_error(region_name: NameFactory) -> None:
    with zinc.SharedRegion.create(region_name(), PAGE) as region:
        with pytest.raises(ValueError, match="negative dimension"):
            region.as_numpy(shape=(-1, 4))


@pytest.mark.parametrize("dtype", [object, np.dtype([("a", "i4"), ("b", object)])])
def test_object_dtypes_raise_type_error(region_name: NameFactory, dtype: Any) -> None:
    with zinc.SharedRegion.create(region_name(), PAGE) as region:
        with pytest.raises(TypeError, match="Python objects, which cannot live in shared memory"):
            region.as_numpy(dtype)


def test_zero_size_dtype_raises_value_error(region_name: NameFactory) -> None:
    with zinc.SharedRegion.create(region_name(), PAGE) as region:
        with pytest.raises(ValueError, match="has no size"):
            region.as_numpy(np.dtype([]))


def test_invalid_dtype_raises_numpys_type_error(region_name: NameFactory) -> None:
    with zinc.SharedRegion.create(region_name(), PAGE) as region:
        with pytest.raises(TypeError):
            region.as_numpy("not-a-dtype")


def test_without_numpy_as_numpy_says_how_to_install_it(
    region_name: NameFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "numpy", None)  # "import numpy" now fails
    with zinc.SharedRegion.create(region_name(), PAGE) as region:
        with pytest.raises(ImportError, match=r"needs numpy.*pip install numpy"):
            region.as_numpy()
        region.as_buffer()[:2] = b"ok"  # everything else works


def test_package_imports_and_works_in_a_process_without_numpy(region_name: NameFactory) -> None:
    name = region_name()
    result = run_python(
        "import sys\n"
        "sys.modules['numpy'] = None\n"
        "import zinc\n"
        f"with zinc.SharedRegion.create({name!r}, zinc.PAGE_SIZE) as r:\n"
        "    r.as_buffer()[:2] = b'ok'\n"
        "    try:\n"
        "        r.as_numpy()\n"
        "    except ImportError as e:\n"
        "        print(e)\n"
    )
    assert result.returncode == 0, result.stderr
    assert "pip install numpy" in result.stdout


SUBARRAY_DTYPES = st.one_of(
    st.tuples(DTYPES, hnp.array_shapes(min_dims=1, max_dims=2, max_side=3)).map(np.dtype),
    st.just(np.dtype((np.dtype(("<f4", (2,))), (3,)))),  # nested: arrays get (..., 3, 2)
)


@given(dtype=SUBARRAY_DTYPES, data=st.data())
def test_subarray_dtype_appends_its_shape_like_numpy(
    region_name: NameFactory, dtype: np.dtype[Any], data: st.DataObject
) -> None:
    shape = data.draw(hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=4))
    expected = np.zeros(shape, dtype=dtype)  # numpy's own shape for this dtype
    values = data.draw(hnp.arrays(expected.dtype, expected.shape))
    name = region_name()
    capacity = (values.nbytes // PAGE + 1) * PAGE
    with zinc.SharedRegion.create(name, capacity) as writer, zinc.SharedRegion.open(name) as reader:
        writer.as_numpy(dtype, shape=shape)[...] = values
        seen = reader.as_numpy(dtype, shape=shape)
        assert seen.shape == expected.shape and seen.dtype == expected.dtype
        assert seen.tobytes() == values.tobytes()
        everything = reader.as_numpy(dtype)
        assert everything.shape == np.zeros(capacity // dtype.itemsize, dtype).shape


def test_subarray_dtype_of_the_issue_maps_without_reshape_error(region_name: NameFactory) -> None:
    with zinc.SharedRegion.create(region_name(), PAGE) as region:
        vectors = region.as_numpy(np.dtype(("<f4", (3,))), shape=4)
        assert vectors.shape == (4, 3) and vectors.dtype == np.float32
        assert region.as_numpy(np.dtype(("<f4", (3,)))).shape == (PAGE // 12, 3)
        nested = np.dtype((np.dtype(("<i2", (2,))), (3,)))
        assert region.as_numpy(nested, shape=5).shape == np.zeros(5, nested).shape == (5, 3, 2)


@pytest.mark.parametrize(
    "dtype, offset, alignment",
    [(np.float64, 4, 8), (np.int32, 2, 4), (np.complex128, 4, 8), (np.int16, 4095, 2)],
)
def test_misaligned_offset_raises_value_error_naming_the_alignment(
    region_name: NameFactory, dtype: Any, offset: int, alignment: int
) -> None:
    with zinc.SharedRegion.create(region_name(), PAGE) as region:
        with pytest.raises(
            ValueError,
            match=rf"offset {offset} is not a multiple of the alignment of .* "
            rf"\({alignment} bytes\)",
        ):
            region.as_numpy(dtype, offset=offset)


def test_packed_records_have_alignment_one_and_take_any_offset(region_name: NameFactory) -> None:
    record = np.dtype([("id", "<u4"), ("x", "<f8")])  # packed: alignment 1
    with zinc.SharedRegion.create(region_name(), PAGE) as region:
        assert region.as_numpy(record, count=2, offset=3).shape == (2,)


def test_count_maps_that_many_items(region_name: NameFactory) -> None:
    with zinc.SharedRegion.create(region_name(), PAGE) as region:
        assert region.as_numpy(np.uint16, count=10, offset=8).shape == (10,)
        assert region.as_numpy(np.uint16, count=0).shape == (0,)
        with pytest.raises(ValueError, match="count -1 is negative"):
            region.as_numpy(np.uint16, count=-1)
        with pytest.raises(ValueError, match=r"count 2049 of uint16 needs 4098 bytes at offset 0"):
            region.as_numpy(np.uint16, count=2049)
        with pytest.raises(ValueError, match="give shape or count, not both"):
            region.as_numpy(np.uint16, shape=2, count=2)


def test_every_fixed_size_dtype_frombuffer_accepts_maps(region_name: NameFactory) -> None:
    kinds = "?bBhHiIlLqQefdgFDGSUVmM"
    dtypes = [np.dtype(k) for k in kinds if np.dtype(k).itemsize > 0]
    dtypes += [np.dtype("S3"), np.dtype("U2"), np.dtype("V5"), np.dtype("M8[ms]"), np.dtype(">i8")]
    with zinc.SharedRegion.create(region_name(), PAGE) as region:
        for dtype in dtypes:
            array = region.as_numpy(dtype, count=3, offset=2 * 64)
            reference = np.frombuffer(bytes(3 * dtype.itemsize), dtype=dtype)
            assert array.dtype == reference.dtype and array.shape == reference.shape, dtype
