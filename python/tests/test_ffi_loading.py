"""How the package finds libzinc_core and declares its functions, and the
ImportErrors for a missing, foreign or incompatible library."""

from __future__ import annotations

import ctypes.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, Optional

import cffi
import pytest
from conftest import PYTHON_DIR, REPO_ROOT, NameFactory, peer_env, run_python

import zinc
import zinc._ffi as zinc_ffi

PACKAGE_DIR = Path(zinc.__file__).resolve().parent


def compile_library(tmp_path: Path, name: str, source: str) -> Path:
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to build a fake library")
    c_file = tmp_path / f"{name}.c"
    c_file.write_text(source)
    library = tmp_path / f"{name}.so"
    subprocess.run([compiler, "-shared", "-fPIC", "-o", str(library), str(c_file)], check=True)
    return library


def fake_core(tmp_path: Path, version: int) -> Path:
    return compile_library(
        tmp_path,
        f"fake_zinc_{version:08x}",
        f"#include <stdint.h>\nuint32_t zinc_version(void) {{ return 0x{version:08x}u; }}\n",
    )


def import_zinc(
    env_changes: Dict[str, Optional[str]], cwd: Optional[Path] = None, code: str = ""
) -> subprocess.CompletedProcess[str]:
    env = peer_env()
    for key, value in env_changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return run_python("import zinc, zinc._ffi as f\n" + code, env=env, cwd=cwd)


GENERATED = PACKAGE_DIR / (zinc_ffi.GENERATED_MODULE + ".py")


def package_sources_only(tmp_path: Path) -> Path:
    """A copy of the package's Python sources: no library, no header and no
    module generated at build time."""
    target = tmp_path / "site" / "zinc"
    target.mkdir(parents=True)
    for source in PACKAGE_DIR.glob("*.py"):
        if source.name != GENERATED.name:
            shutil.copy(source, target / source.name)
    return target.parent


def generate_module(tmp_path: Path, header: Path) -> Path:
    """python/build_cffi.py run on header, as the package's build runs it."""
    output = tmp_path / "generated" / "_zinc_cffi.py"
    result = subprocess.run(
        [sys.executable, str(PYTHON_DIR / "build_cffi.py"), str(header), str(output)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return output


@pytest.mark.parametrize("version", [0x00010001, 0x00030001, 0x00020000])
def test_incompatible_library_is_refused_naming_path_and_both_versions(
    tmp_path: Path, version: int
) -> None:
    library = fake_core(tmp_path, version)
    result = import_zinc({"ZINC_LIBRARY": str(library)})
    assert result.returncode != 0
    assert "ImportError" in result.stderr
    assert f"incompatible library {library}" in result.stderr
    assert f"0x{version:08x}" in result.stderr and "0x00020001" in result.stderr


def test_newer_revision_of_the_same_format_is_accepted(tmp_path: Path) -> None:
    # An original-ABI library has none of the additions: the package still
    # imports and falls back for the page size.
    library = fake_core(tmp_path, 0x00020007)
    result = import_zinc(
        {"ZINC_LIBRARY": str(library)}, code="print(f.library_path, zinc.PAGE_SIZE)"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{library} {zinc.PAGE_SIZE}\n"
    channel = import_zinc({"ZINC_LIBRARY": str(library)}, code="zinc.Channel.open_reader('x')")
    assert "NotImplementedError: zinc.Channel needs the channel functions" in channel.stderr


def test_library_without_zinc_version_is_refused(tmp_path: Path) -> None:
    library = compile_library(tmp_path, "not_zinc", "int something_else(void) { return 1; }\n")
    result = import_zinc({"ZINC_LIBRARY": str(library)})
    assert result.returncode != 0
    assert f"{library} is not a zinc core library" in result.stderr


def test_zinc_library_pointing_nowhere_names_the_variable(tmp_path: Path) -> None:
    missing = tmp_path / "missing" / "libzinc_core.so"
    result = import_zinc({"ZINC_LIBRARY": str(missing)})
    assert result.returncode != 0
    assert f"cannot load ZINC_LIBRARY={missing}" in result.stderr
    assert "unset it" in result.stderr


def test_zinc_library_override_is_used(region_name: NameFactory) -> None:
    result = import_zinc(
        {"ZINC_LIBRARY": zinc_ffi.library_path},
        code=f"print(f.library_path)\nzinc.SharedRegion.create({region_name()!r}, 4096).close()",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{zinc_ffi.library_path}\n"


def test_library_not_found_says_where_it_looked_and_what_to_do(tmp_path: Path) -> None:
    if ctypes.util.find_library("zinc_core"):
        pytest.skip("a libzinc_core is installed system-wide, so the search cannot fail")
    site = package_sources_only(tmp_path)
    result = import_zinc(
        {"ZINC_LIBRARY": None, "LD_LIBRARY_PATH": None, "PYTHONPATH": str(site)}, cwd=tmp_path
    )
    assert result.returncode != 0
    message = result.stderr
    assert "cannot find libzinc_core.so" in message
    assert (
        f"installed in the package: {site / 'zinc' / 'libzinc_core.so'} (no such file)" in message
    )
    assert "source checkout, release build" in message
    assert "system search path (LD_LIBRARY_PATH" in message
    assert "pip install ./python" in message
    assert "LD_LIBRARY_PATH" in message and "ZINC_LIBRARY=" in message


def test_library_on_ld_library_path_is_found_and_builtin_cdef_serves_without_header(
    tmp_path: Path, region_name: NameFactory
) -> None:
    site = package_sources_only(tmp_path)
    library_dir = Path(zinc_ffi.library_path).resolve().parent
    result = import_zinc(
        {"ZINC_LIBRARY": None, "LD_LIBRARY_PATH": str(library_dir), "PYTHONPATH": str(site)},
        cwd=tmp_path,
        code=(
            "print(zinc.__file__.startswith(%r), f.library_path, f.header_path, f.declared_by)\n"
            "r = zinc.SharedRegion.create(%r, 4096)\n"
            "r.notify(); print(r.try_wait())\n"
            "try:\n"
            "    zinc.SharedRegion.create('bad name', 4096)\n"
            "except OSError as e:\n"
            "    print(e)\n" % (str(site), region_name())
        ),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "True libzinc_core.so None built-in declarations",
        "True",
        "[Errno 22] name has byte 0x20 at offset 3; names use only A-Z a-z 0-9 _ -",
    ]


def test_header_declarations_match_the_builtin_cdef() -> None:
    header = REPO_ROOT / "include" / "zinc.h"
    from_header = cffi.FFI()
    from_header.cdef(zinc_ffi.strip_for_cdef(header.read_text()))
    builtin = cffi.FFI()
    builtin.cdef(zinc_ffi.BUILTIN_CDEF)
    lib_header = from_header.dlopen(zinc_ffi.library_path)
    lib_builtin = builtin.dlopen(zinc_ffi.library_path)
    functions = sorted(set(re.findall(r"\b(zinc_\w+)\s*\(", header.read_text())))
    assert len(functions) >= 17
    for function in functions:
        want = from_header.getctype(from_header.typeof(getattr(lib_header, function)))
        got = builtin.getctype(builtin.typeof(getattr(lib_builtin, function)))
        assert got == want, function
    constants = re.findall(r"\b(ZINC_[A-Z_]+)\s*=", header.read_text())
    defines = re.findall(
        r"^#define (ZINC_[A-Z_]+) ", zinc_ffi.strip_for_cdef(header.read_text()), re.M
    )
    assert "ZINC_CHANNEL_MAX_DIMS" in defines
    for constant in constants + defines:
        assert getattr(lib_builtin, constant) == getattr(lib_header, constant), constant
    assert set(from_header.list_types()[0]) == set(builtin.list_types()[0])


def test_header_structs_have_the_builtin_cdef_layout() -> None:
    header = REPO_ROOT / "include" / "zinc.h"
    from_header = cffi.FFI()
    from_header.cdef(zinc_ffi.strip_for_cdef(header.read_text()))
    builtin = cffi.FFI()
    builtin.cdef(zinc_ffi.BUILTIN_CDEF)
    structs = re.findall(r"typedef struct (\w+) \{", header.read_text())
    assert {"ZincHeaderInfo", "ZincChannelFrameType", "ZincChannelInfo"} <= set(structs)
    for struct in structs:
        assert builtin.sizeof(struct) == from_header.sizeof(struct), struct
        want = [(f, from_header.offsetof(struct, f)) for f, _ in from_header.typeof(struct).fields]
        got = [(f, builtin.offsetof(struct, f)) for f, _ in builtin.typeof(struct).fields]
        assert got == want, struct


def test_strip_for_cdef_removes_preprocessor_lines_and_cplusplus_blocks() -> None:
    header = "\n".join(
        [
            "#ifndef X_H",
            "#define X_H",
            "#include <stdint.h>",
            "#ifdef __cplusplus",
            'extern "C" {',
            "#endif",
            "#define LONG_MACRO(a) \\",
            "  ((a) + 1)",
            "#define X_CONTINUED 1 \\",
            "  + 2",
            "#define X_DIMS 0x4u /* kept: cdef reads integer constants */",
            "int32_t x_call(int32_t a);",
            "typedef struct x_shape { uint64_t extent[X_DIMS]; } x_shape;",
            "#ifdef __cplusplus",
            "}",
            "#else",
            "typedef int x_c_only;",
            "#endif",
            "#endif",
        ]
    )
    stripped = zinc_ffi.strip_for_cdef(header)
    assert stripped.splitlines() == [
        "#define X_DIMS 0x4",
        "int32_t x_call(int32_t a);",
        "typedef struct x_shape { uint64_t extent[X_DIMS]; } x_shape;",
        "typedef int x_c_only;",
    ]
    ffi = cffi.FFI()
    ffi.cdef(stripped)
    assert ffi.sizeof("x_shape") == 32


def test_cdef_source_falls_back_to_builtin_without_a_header(tmp_path: Path) -> None:
    source, path = zinc_ffi.cdef_source([tmp_path / "nowhere" / "zinc.h"])
    assert path is None and source == zinc_ffi.BUILTIN_CDEF
    header = tmp_path / "zinc.h"
    header.write_text("#define A 1\nint32_t zinc_version_like(void);\n")
    source, path = zinc_ffi.cdef_source([tmp_path / "nowhere" / "zinc.h", header])
    assert path == header and source.split("\n") == [
        "#define A 1",
        "int32_t zinc_version_like(void);",
    ]


def test_header_next_to_the_package_declares_when_no_module_was_generated(
    tmp_path: Path, region_name: NameFactory
) -> None:
    site = package_sources_only(tmp_path)
    (site / "zinc" / "include").mkdir()
    header = shutil.copy(REPO_ROOT / "include" / "zinc.h", site / "zinc" / "include" / "zinc.h")
    result = import_zinc(
        {"ZINC_LIBRARY": zinc_ffi.library_path, "PYTHONPATH": str(site)},
        cwd=tmp_path,
        code=(
            "import sys\n"
            "print(f.header_path, f.declared_by, 'pycparser' in sys.modules)\n"
            "zinc.SharedRegion.create(%r, 4096).close()\n" % region_name()
        ),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{header} {header} True\n"


def test_generated_module_declares_what_the_header_declares(tmp_path: Path) -> None:
    header = REPO_ROOT / "include" / "zinc.h"
    generated = generate_module(tmp_path, header)
    assert generated.read_text().startswith("# auto-generated file\nimport _cffi_backend\n")
    namespace: Dict[str, object] = {}
    exec(compile(generated.read_text(), str(generated), "exec"), namespace)
    built: Any = namespace["ffi"]
    parsed = cffi.FFI()
    parsed.cdef(zinc_ffi.strip_for_cdef(header.read_text()))
    lib_built = built.dlopen(zinc_ffi.library_path)
    lib_parsed = parsed.dlopen(zinc_ffi.library_path)
    functions = sorted(set(re.findall(r"\b(zinc_\w+)\s*\(", header.read_text())))
    assert len(functions) >= 17
    for function in functions:
        want = parsed.getctype(parsed.typeof(getattr(lib_parsed, function)))
        got = built.getctype(built.typeof(getattr(lib_built, function)))
        # The generated tables name a typedef'd struct "struct X", the parser "X".
        assert got.replace("struct ", "") == want.replace("struct ", ""), function
    constants = re.findall(r"\b(ZINC_[A-Z_]+)\s*=", header.read_text())
    constants += re.findall(r"^#define (ZINC_[A-Z_]+) ", parsed_defines(header), re.M)
    for constant in constants:
        assert getattr(lib_built, constant) == getattr(lib_parsed, constant), constant
    for struct in re.findall(r"typedef struct (\w+) \{", header.read_text()):
        assert built.sizeof(struct) == parsed.sizeof(struct), struct
        fields = [f for f, _ in parsed.typeof(struct).fields]
        assert [built.offsetof(struct, f) for f in fields] == [
            parsed.offsetof(struct, f) for f in fields
        ], struct
    # The same header gives the same file: the wheel builds are reproducible.
    again = generate_module(tmp_path / "again", header)
    assert again.read_bytes() == generated.read_bytes()


def parsed_defines(header: Path) -> str:
    return zinc_ffi.strip_for_cdef(header.read_text())


def test_generated_module_falls_back_to_builtin_for_a_header_cffi_cannot_parse(
    tmp_path: Path,
) -> None:
    header = tmp_path / "zinc.h"
    header.write_text("int32_t zinc_version(void) __attribute__((unused)) oops;\n")
    generated = generate_module(tmp_path, header)
    namespace: Dict[str, object] = {}
    exec(compile(generated.read_text(), str(generated), "exec"), namespace)
    built: Any = namespace["ffi"]
    builtin = cffi.FFI()
    builtin.cdef(zinc_ffi.BUILTIN_CDEF)
    assert built.sizeof("ZincChannelInfo") == builtin.sizeof("ZincChannelInfo")
    assert built.dlopen(zinc_ffi.library_path).zinc_version() >> 16 == 2


def test_generated_module_is_used_and_no_header_is_parsed(
    tmp_path: Path, region_name: NameFactory
) -> None:
    site = package_sources_only(tmp_path)
    (site / "zinc" / "include").mkdir()
    shutil.copy(REPO_ROOT / "include" / "zinc.h", site / "zinc" / "include" / "zinc.h")
    shutil.copy(generate_module(tmp_path, REPO_ROOT / "include" / "zinc.h"), site / "zinc")
    result = import_zinc(
        {"ZINC_LIBRARY": zinc_ffi.library_path, "PYTHONPATH": str(site)},
        cwd=tmp_path,
        code=(
            "import sys\n"
            "parsers = ('pycparser', 'cffi', 'zinc._cdef', 'pathlib')\n"
            "print(f.header_path, f.declared_by, [m for m in parsers if m in sys.modules])\n"
            "with zinc.SharedRegion.create(%r, 4096) as r:\n"
            "    r.notify(); print(r.try_wait())\n" % region_name()
        ),
    )
    assert result.returncode == 0, result.stderr
    # Neither cffi's parser nor the fallbacks' modules were imported.
    assert result.stdout == "None zinc._zinc_cffi []\nTrue\n"


@pytest.mark.skipif(
    os.environ.get("ZINC_TEST_INSTALLED") != "1", reason="set by scripts/test after pip install"
)
def test_installed_package_carries_its_library_generated_module_header_and_type_marker() -> None:
    assert Path(zinc_ffi.library_path) == PACKAGE_DIR / "libzinc_core.so"
    assert zinc_ffi.declared_by == "zinc._zinc_cffi" and zinc_ffi.header_path is None
    assert GENERATED.is_file()
    # The header stays in the package, for C users and the fallback.
    assert (PACKAGE_DIR / "include" / "zinc.h").is_file()
    assert (PACKAGE_DIR / "py.typed").is_file()
    assert "site-packages" in PACKAGE_DIR.parts
