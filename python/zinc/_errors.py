"""How failures become Python exceptions, in one place for every zinc object.

A failed C call becomes an OSError whose errno is the code's meaning (so
Python picks the subclass: FileExistsError, FileNotFoundError, TimeoutError...)
and whose message is the library's own detail for that call. Arguments are
checked here before they reach C: names, integers that must fit a C type, and
the optional numpy dependency.
"""

from __future__ import annotations

import errno
import operator
from typing import Any, Dict

from ._ffi import ffi, lib

# The additions to the original nine functions; None when the loaded library
# is an original zinc core without them.
_zinc_strerror = getattr(lib, "zinc_strerror", None)
_zinc_last_error_message = getattr(lib, "zinc_last_error_message", None)

# zinc's codes are the Linux errno values; map them by meaning so that
# OSError picks the right subclass on every platform (FileExistsError...).
ERRNO: Dict[int, int] = {
    int(lib.ZINC_EPERM): errno.EPERM,
    int(lib.ZINC_ENOENT): errno.ENOENT,
    int(lib.ZINC_EAGAIN): errno.EAGAIN,
    int(lib.ZINC_EBUSY): errno.EBUSY,
    int(lib.ZINC_EEXIST): errno.EEXIST,
    int(lib.ZINC_EINVAL): errno.EINVAL,
    int(lib.ZINC_ENOSPC): errno.ENOSPC,
    int(lib.ZINC_EBADMSG): errno.EBADMSG,
    int(lib.ZINC_ETIMEDOUT): errno.ETIMEDOUT,
    int(lib.ZINC_ECANCELED): errno.ECANCELED,
    int(lib.ZINC_EPIPE): errno.EPIPE,
    int(lib.ZINC_ENOMSG): errno.ENOMSG,
    int(lib.ZINC_ESTALE): errno.ESTALE,
}


def text(chars: Any) -> str:
    """A C string from the library as str."""
    raw = ffi.string(chars)
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw


def error(code: int) -> OSError:
    """The OSError for a failed zinc call.

    Call it on the thread that made the call, right after it: the detailed
    message is thread-local in the C library and the next failure replaces it.
    """
    detail = ""
    if _zinc_last_error_message is not None:
        detail = text(_zinc_last_error_message())
    if not detail:
        if _zinc_strerror is not None:
            detail = text(_zinc_strerror(code))
        else:  # pragma: no cover - only with an original core library
            detail = f"zinc error {code}"
    return OSError(ERRNO.get(code, -code), detail)


def check(code: int) -> None:
    """Raises the OSError for `code` unless it is 0."""
    if code != 0:
        raise error(code)


def encode_name(name: str) -> bytes:
    """The name as the C library takes it; the library checks the rules."""
    if not isinstance(name, str):
        raise TypeError(f"name must be a str, not {type(name).__name__}")
    if "\0" in name:
        raise ValueError("name contains NUL")
    # surrogatepass: a lone surrogate becomes bytes the library rejects with a
    # message, like every other invalid name, instead of a UnicodeEncodeError.
    return name.encode("utf-8", "surrogatepass")


def checked_integer(value: int, what: str, maximum: int) -> int:
    """`value` as an int in 0..maximum (the C type's range), else OverflowError."""
    number = operator.index(value)
    if not 0 <= number <= maximum:
        raise OverflowError(f"{what} must be between 0 and {maximum}, got {number}")
    return number


def require_numpy(feature: str) -> Any:
    """The numpy module; an ImportError that says how to install it if missing."""
    try:
        import numpy
    except ImportError as missing:
        raise ImportError(
            f"{feature} needs numpy, which is not installed. "
            "Install it with: pip install numpy (or pip install 'zinc-shm[numpy]')"
        ) from missing
    return numpy
