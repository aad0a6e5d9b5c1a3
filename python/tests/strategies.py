"""Hypothesis strategies shared by the tests: dtypes and payloads."""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import zinc

PAGE = zinc.PAGE_SIZE


def scalar_dtypes() -> st.SearchStrategy[np.dtype[Any]]:
    return st.one_of(
        hnp.boolean_dtypes(),
        hnp.integer_dtypes(endianness="?"),
        hnp.unsigned_integer_dtypes(endianness="?"),
        hnp.floating_dtypes(endianness="?"),
        hnp.complex_number_dtypes(endianness="?"),
        hnp.datetime64_dtypes(endianness="?"),
        hnp.byte_string_dtypes(min_len=1, max_len=8),
        hnp.unicode_string_dtypes(min_len=1, max_len=4),
    )


# Structured dtypes included (nested, with sub-arrays); packed, so every byte
# of an item belongs to a field.
DTYPES = hnp.nested_dtypes(subtype_strategy=scalar_dtypes(), max_leaves=4, max_itemsize=64)


@st.composite
def numpy_payloads(draw: st.DrawFn) -> np.ndarray[Any, Any]:
    dtype = draw(DTYPES)
    shape = draw(hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=6))
    return draw(hnp.arrays(dtype, shape))


@st.composite
def byte_payloads(draw: st.DrawFn) -> np.ndarray[Any, Any]:
    data = draw(st.binary(min_size=0, max_size=3 * PAGE))
    return np.frombuffer(data, dtype=np.uint8).copy()
