"""Loading libzinc_core and declaring its C ABI to cffi (ABI mode).

At import this module finds the library, declares its functions, checks
``zinc_version()`` and exposes ``ffi``, ``lib``, ``library_path``,
``header_path`` and ``declared_by``. The declarations come from, in order:

1. ``zinc/_zinc_cffi.py``, a cffi out-of-line ABI module that the package's
   build generates from zinc.h (python/build_cffi.py): no header is parsed at
   import, and cffi's parser is not even imported;
2. ``zinc.h`` next to the package (``include/zinc.h``) or in the checkout
   around it, parsed with cffi;
3. the built-in copy in ``_cdef.BUILTIN_CDEF``.

Every failure is an ImportError that says what was tried and what to do
about it.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import TYPE_CHECKING, Any, List, Optional, Tuple, Type

if TYPE_CHECKING:
    from pathlib import Path

    import cffi

# Neither pathlib nor zinc._cdef is imported on the ordinary path (the
# generated module): both only serve the fallbacks.


def __getattr__(name: str) -> Any:
    """BUILTIN_CDEF and strip_for_cdef, from zinc._cdef, when asked for."""
    if name in ("BUILTIN_CDEF", "strip_for_cdef"):
        from . import _cdef

        return getattr(_cdef, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# The zinc_version() this adapter was written against: the format version in
# the high 16 bits, the ABI revision in the low 16 bits. A library with the
# same format and the same or a later revision is compatible.
ABI_VERSION = 0x00020001
FORMAT_VERSION = ABI_VERSION >> 16
MIN_REVISION = ABI_VERSION & 0xFFFF

LIBRARY_ENV = "ZINC_LIBRARY"

_PACKAGE_DIR = os.path.dirname(os.path.realpath(__file__))


def _package_dirs() -> List[str]:
    """This package's folders: more than one in an editable install, where the
    built files live apart from the sources."""
    package = sys.modules.get(__name__.rpartition(".")[0])
    paths = [os.path.realpath(p) for p in getattr(package, "__path__", [])]
    return [_PACKAGE_DIR] + [p for p in paths if p != _PACKAGE_DIR]


_LIBRARY_SUFFIX = ".dylib" if sys.platform == "darwin" else ".so"
LIBRARY_NAME = "libzinc_core" + _LIBRARY_SUFFIX

# The out-of-line module the build generates (python/build_cffi.py).
GENERATED_MODULE = "_zinc_cffi"


def header_candidates() -> List[Path]:
    """Where zinc.h may be: inside the installed package, then the checkout."""
    from pathlib import Path

    installed = [Path(folder) / "include" / "zinc.h" for folder in _package_dirs()]
    return installed + [Path(_PACKAGE_DIR).parent.parent / "include" / "zinc.h"]


def cdef_source(candidates: Optional[List[Path]] = None) -> Tuple[str, Optional[Path]]:
    """The cdef text and the header it came from (None: the built-in copy)."""
    from ._cdef import BUILTIN_CDEF, strip_for_cdef

    for path in header_candidates() if candidates is None else candidates:
        try:
            text = path.read_text(encoding="utf-8")
        except OSError:
            continue
        return strip_for_cdef(text), path
    return BUILTIN_CDEF, None


def library_candidates() -> List[Tuple[str, str]]:
    """(where, what to dlopen) in search order, without ZINC_LIBRARY."""
    join = os.path.join
    checkout = join(os.path.dirname(os.path.dirname(_PACKAGE_DIR)), "build")
    installed = [("installed in the package", join(d, LIBRARY_NAME)) for d in _package_dirs()]
    return installed + [
        ("source checkout, release build", join(checkout, "release", LIBRARY_NAME)),
        ("source checkout, debug build", join(checkout, "debug", LIBRARY_NAME)),
        ("system search path (LD_LIBRARY_PATH, ld.so.cache)", LIBRARY_NAME),
        ("system search path (LD_LIBRARY_PATH, ld.so.cache)", LIBRARY_NAME + ".2"),
    ]


def _not_found(tried: List[Tuple[str, str, str]]) -> ImportError:
    lines = [f"zinc: cannot find {LIBRARY_NAME}. Looked in:"]
    lines += [f"  - {where}: {what} ({why})" for where, what, why in tried]
    lines += [
        "To fix: reinstall the package (pip install ./python builds and bundles the",
        "library), or build it (cmake --preset release && cmake --build --preset release)",
        f"and set {LIBRARY_ENV}=/path/to/{LIBRARY_NAME} or add its folder to LD_LIBRARY_PATH.",
    ]
    return ImportError("\n".join(lines))


def open_library(ffi: Any) -> Tuple[Any, str]:
    """The loaded library and the path (or name) it was loaded from."""
    explicit = os.environ.get(LIBRARY_ENV)
    if explicit:
        try:
            return ffi.dlopen(explicit), explicit
        except OSError as error:
            raise ImportError(
                f"zinc: cannot load {LIBRARY_ENV}={explicit}: {error}. "
                f"Point {LIBRARY_ENV} at a built {LIBRARY_NAME} or unset it."
            ) from None
    tried: List[Tuple[str, str, str]] = []
    for where, what in library_candidates():
        if os.sep in what and not os.path.exists(what):
            tried.append((where, what, "no such file"))
            continue
        try:
            return ffi.dlopen(what), what
        except OSError as error:
            tried.append((where, what, str(error).splitlines()[0]))
    raise _not_found(tried)


def check_version(lib: Any, path: str) -> int:
    """zinc_version() of the library; ImportError unless it is compatible."""
    try:
        version_of = lib.zinc_version
    except AttributeError:
        raise ImportError(
            f"zinc: {path} is not a zinc core library (it has no zinc_version)"
        ) from None
    version = int(version_of())
    if version >> 16 != FORMAT_VERSION or version & 0xFFFF < MIN_REVISION:
        raise ImportError(
            f"zinc: incompatible library {path}: it reports zinc_version() "
            f"0x{version:08x} (format {version >> 16}, revision {version & 0xFFFF}), "
            f"but this zinc package needs 0x{ABI_VERSION:08x} (format {FORMAT_VERSION}, "
            f"revision {MIN_REVISION} or later). Install a matching libzinc_core or "
            f"unset {LIBRARY_ENV}."
        )
    return version


class GeneratedLibrary:
    """The library as the generated module's FFI opens it, behaving like the
    in-line FFI's: a function the library lacks (an older core) is an
    AttributeError, so ``getattr(lib, name, None)`` works, and every name
    found is kept as an attribute of this object, so later look-ups are plain
    attribute reads."""

    def __init__(self, lib: Any, error: Type[BaseException]) -> None:
        self._lib = lib
        self._error = error

    def __getattr__(self, name: str) -> Any:
        try:
            value = getattr(self._lib, name)
        except self._error as error:  # a symbol the library does not export
            raise AttributeError(str(error)) from None
        setattr(self, name, value)
        return value

    def __dir__(self) -> List[str]:
        return dir(self._lib)


def generated_ffi() -> Optional[Any]:
    """The FFI of the module generated at build time, or None without one."""
    name = __name__.rpartition(".")[0] + "." + GENERATED_MODULE
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name != name:
            raise
        return None
    return module.ffi


def parsed_ffi() -> Tuple[cffi.FFI, Optional[Path]]:
    """An FFI declared from zinc.h (parsed now) or from the built-in copy."""
    import cffi

    from ._cdef import BUILTIN_CDEF

    ffi = cffi.FFI()
    source, header = cdef_source()
    try:
        ffi.cdef(source)
    except (cffi.CDefError, cffi.FFIError):
        # A header this cffi cannot parse (CDefError for syntax, FFIError for
        # an expression it does not evaluate): the built-in declarations still
        # describe the ABI this adapter uses.
        ffi = cffi.FFI()
        ffi.cdef(BUILTIN_CDEF)
        header = None
    return ffi, header


def load() -> Tuple[Any, Any, str, Optional[Path], str]:
    header: Optional[Path] = None
    ffi = generated_ffi()
    if ffi is not None:
        lib, path = open_library(ffi)
        lib = GeneratedLibrary(lib, ffi.error)
        declared_by = f"{__name__.rpartition('.')[0]}.{GENERATED_MODULE}"
    else:
        ffi, header = parsed_ffi()
        lib, path = open_library(ffi)
        declared_by = str(header) if header is not None else "built-in declarations"
    check_version(lib, path)
    return ffi, lib, path, header, declared_by


# header_path: the zinc.h parsed at this import (None when the generated
# module or the built-in copy declared the functions); declared_by says which.
ffi, lib, library_path, header_path, declared_by = load()
