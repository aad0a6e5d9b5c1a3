"""Writes zinc/_zinc_cffi.py, cffi's out-of-line ABI-mode module for zinc.h.

Run by the package's build (python/CMakeLists.txt), not at import:

    python build_cffi.py path/to/zinc.h path/to/_zinc_cffi.py

The module holds the declarations already parsed (cffi's compact type
tables), so ``import zinc`` neither reads the header nor imports cffi's C
parser. It has no machine code: the library is still loaded with dlopen, and
the same file serves every architecture. A header this cffi cannot parse
falls back to the built-in declarations (zinc/_cdef.py), as the import does.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import cffi

MODULE = "zinc._zinc_cffi"


def load_cdef_module() -> object:
    """zinc/_cdef.py on its own: importing the package would load the library."""
    path = Path(__file__).resolve().parent / "zinc" / "_cdef.py"
    spec = importlib.util.spec_from_file_location("zinc_build_cdef", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: build_cffi.py ZINC_H OUTPUT_PY", file=sys.stderr)
        return 2
    header, output = Path(argv[1]), Path(argv[2])
    cdef = load_cdef_module()
    builder = cffi.FFI()
    try:
        builder.cdef(cdef.strip_for_cdef(header.read_text(encoding="utf-8")))  # type: ignore[attr-defined]
    except (cffi.CDefError, cffi.FFIError) as error:
        print(f"build_cffi: {header}: {error}; using the built-in declarations", file=sys.stderr)
        builder = cffi.FFI()
        builder.cdef(cdef.BUILTIN_CDEF)  # type: ignore[attr-defined]
    builder.set_source(MODULE, None)
    output.parent.mkdir(parents=True, exist_ok=True)
    # emit_python_code rewrites the file only when its text changes.
    builder.emit_python_code(str(output))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
