"""A channel's frame type (docs/spec.md section 10.2.1): numpy dtype and shape
to and from the ZincChannelFrameType the C ABI records in the channel header.

The C library checks the type again at create; the checks here come first so
that a dtype or shape the spec does not allow is a ValueError that names it.
"""

from __future__ import annotations

import math
import operator
from typing import TYPE_CHECKING, Any, Optional, Tuple, Union

from ._errors import require_numpy
from ._ffi import ffi, lib

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import DTypeLike

MAX_DIMS = int(lib.ZINC_CHANNEL_MAX_DIMS)

# Element sizes in bytes the spec allows for each numpy kind: bool, signed and
# unsigned integers, IEEE floats, complex numbers of two floats.
ELEMENT_SIZES = {
    "b": (1,),
    "i": (1, 2, 4, 8),
    "u": (1, 2, 4, 8),
    "f": (2, 4, 8, 16),
    "c": (8, 16, 32),
}

ShapeLike = Union[int, Tuple[int, ...]]


def frame_type(dtype: DTypeLike, shape: ShapeLike) -> Tuple[np.dtype[Any], Tuple[int, ...], Any]:
    """(element dtype, shape, ZincChannelFrameType *) for frames of `shape` and
    `dtype`. A subarray dtype such as ``("<f4", (3,))`` adds its shape to the
    frame's, as in ``np.empty(shape, dtype)``. ValueError for what the spec
    does not allow."""
    numpy = require_numpy("zinc.Channel")
    item: np.dtype[Any] = numpy.dtype(dtype)
    if isinstance(shape, tuple):
        dims = tuple(operator.index(n) for n in shape)
    else:
        dims = (operator.index(shape),)
    while item.subdtype is not None:
        item, subshape = item.subdtype
        dims += subshape
    if item.fields is not None or item.itemsize not in ELEMENT_SIZES.get(item.kind, ()):
        raise ValueError(
            f"dtype {item} ({item.str!r}) cannot be a channel's frame type: frames hold "
            "bool, integer, float or complex elements (numpy kinds b, i, u, f, c; "
            "docs/spec.md section 10.2.1)"
        )
    if len(dims) > MAX_DIMS:
        raise ValueError(f"shape {dims} has {len(dims)} dimensions; a frame has at most {MAX_DIMS}")
    if any(n < 1 for n in dims):
        raise ValueError(f"shape {dims} has an extent below 1; every extent of a frame is >= 1")
    native: Any = ffi.new("ZincChannelFrameType *")
    native.dtype = item.str.encode("ascii")
    native.ndim = len(dims)
    for d, extent in enumerate(dims):
        native.shape[d] = extent
    return item, dims, native


def decode(native: Any) -> Optional[Tuple[np.dtype[Any], Tuple[int, ...]]]:
    """(dtype, shape) of a ZincChannelFrameType the library validated, or None
    for an untyped channel (all bytes zero)."""
    spelled = ffi.string(native.dtype)
    if not isinstance(spelled, bytes) or not spelled:
        return None
    numpy = require_numpy("zinc.Channel")
    ndim = int(native.ndim)
    dtype: np.dtype[Any] = numpy.dtype(spelled.decode("ascii"))
    return dtype, tuple(int(native.shape[d]) for d in range(ndim))


def frame_bytes(dtype: np.dtype[Any], shape: Tuple[int, ...]) -> int:
    """The size of a frame of `shape` elements of `dtype`."""
    return dtype.itemsize * math.prod(shape)
