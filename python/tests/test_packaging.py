"""The distributions scripts/wheel makes: the wheel installs and works where
there is no compiler and no source tree, the sdist builds on its own; and
the stable-ABI extension zinc._fastpath in the installed package and in both
wheels.

The install tests need the files: scripts/test builds them once (scripts/wheel
--out build/dist-test, skipped when nothing they are made from changed) and
sets ZINC_TEST_DIST to that folder. Each test makes a fresh virtualenv.
"""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Dict, List

import pytest
from conftest import PYTHON_DIR, NameFactory, object_path

import zinc

DIST = os.environ.get("ZINC_TEST_DIST")
needs_dist = pytest.mark.skipif(not DIST, reason="set by scripts/test after scripts/wheel")


def test_pyproject_version_is_the_package_version() -> None:
    pyproject = (PYTHON_DIR / "pyproject.toml").read_text()
    match = re.search(r'^version = "([^"]+)"$', pyproject, re.M)
    assert match and match.group(1) == zinc.__version__


def dist_file(pattern: str) -> Path:
    assert DIST is not None
    found = sorted(Path(DIST).glob(pattern))
    assert len(found) == 1, f"expected one {pattern} in {DIST}, found {found}"
    return found[0]


def clean_env(path: str) -> Dict[str, str]:
    """The environment of a user without this checkout: no PYTHONPATH, no
    ZINC_LIBRARY, only `path` on PATH, and no compiler."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ZINC_LIBRARY")}
    env.update(PATH=path, CC="/nonexistent/cc", CXX="/nonexistent/c++")
    env.pop("VIRTUAL_ENV", None)
    return env


def make_venv(folder: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(folder)], check=True, timeout=300)
    return folder / "bin" / "python"


def pip_install(python: Path, args: List[str], env: Dict[str, str], cwd: Path) -> None:
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr


ARCHS = ("x86_64", "aarch64")
# e_machine in an ELF header: what each wheel's library must be built for.
ELF_MACHINE = {"x86_64": 62, "aarch64": 183}


def wheel_for(arch: str) -> Path:
    return dist_file(f"zinc_shm-*_{arch}.whl")


# The extension's file: the stable ABI's suffix, not a CPython version's.
EXTENSION = "zinc/_fastpath.abi3.so"


def wheel_member(tmp_path: Path, arch: str, member: str) -> Path:
    with zipfile.ZipFile(wheel_for(arch)) as wheel:
        return Path(wheel.extract(member, tmp_path / arch))


def readelf(*args: str) -> str:
    return subprocess.run(["readelf", *args], capture_output=True, text=True, check=True).stdout


def needed_libraries(library: Path) -> List[str]:
    """The library's DT_NEEDED entries, in order."""
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", readelf("-d", str(library)))


def assert_built_for_manylinux2014(library: Path, arch: str) -> List[str]:
    """The checks both of a wheel's libraries pass: the target's machine,
    stripped, no glibc symbol past 2.17. Returns what the library exports."""
    head = library.read_bytes()[:20]
    assert head[:4] == b"\x7fELF" and int.from_bytes(head[18:20], "little") == ELF_MACHINE[arch]
    sections = readelf("-S", "-W", str(library))
    assert ".dynsym" in sections
    assert ".symtab" not in sections and ".debug_info" not in sections
    symbols = readelf("--dyn-syms", "-W", str(library))
    versions = {tuple(map(int, v.split("."))) for v in re.findall(r"@GLIBC_([0-9.]+)", symbols)}
    assert versions and max(versions) <= (2, 17), sorted(versions)
    return re.findall(r"\s(?:FUNC|OBJECT)\s+GLOBAL\s+DEFAULT\s+\d+\s+(\S+)", symbols)


def assert_extension_links_no_python_and_no_core(extension: Path) -> None:
    # The interpreter that imports it provides the Py* symbols and cffi the
    # core's functions; libc.so.6 tells auditwheel which libc the wheel is for.
    needed = needed_libraries(extension)
    assert "libc.so.6" in needed, needed
    assert not [n for n in needed if n.startswith(("libpython", "libzinc_core"))], needed


@needs_dist
@pytest.mark.parametrize("arch", ARCHS)
def test_wheel_is_cp39_abi3_manylinux2014_for_every_python3(arch: str) -> None:
    wheel = wheel_for(arch)
    name, version, python, abi, platforms = wheel.name[: -len(".whl")].split("-")
    assert (name, version, python, abi) == ("zinc_shm", zinc.__version__, "cp39", "abi3")
    assert set(platforms.split(".")) == {f"manylinux2014_{arch}", f"manylinux_2_17_{arch}"}
    names = zipfile.ZipFile(wheel).namelist()
    want = {"zinc/libzinc_core.so", EXTENSION, "zinc/_zinc_cffi.py", "zinc/include/zinc.h"}
    assert want | {"zinc/py.typed"} <= set(names)
    assert not [n for n in names if n.endswith((".pyc", ".c"))]


@needs_dist
@pytest.mark.parametrize("arch", ARCHS)
def test_wheel_library_is_stripped_and_needs_nothing_past_glibc_2_17(
    tmp_path: Path, arch: str
) -> None:
    library = wheel_member(tmp_path, arch, "zinc/libzinc_core.so")
    exported = assert_built_for_manylinux2014(library, arch)
    # Only the C ABI leaves the library (src/exports.map), not the static libc++.
    assert exported and all(name.startswith("zinc_") for name in exported), exported
    needed = needed_libraries(library)
    assert not [n for n in needed if "libstdc++" in n or "libc++" in n], needed


@needs_dist
@pytest.mark.parametrize("arch", ARCHS)
def test_wheel_extension_is_stripped_abi3_and_links_no_libpython_or_core(
    tmp_path: Path, arch: str
) -> None:
    extension = wheel_member(tmp_path, arch, EXTENSION)
    exported = assert_built_for_manylinux2014(extension, arch)
    # Built with hidden visibility: the module's init function alone leaves it.
    assert exported == ["PyInit__fastpath"], exported
    assert_extension_links_no_python_and_no_core(extension)


@pytest.mark.skipif(
    os.environ.get("ZINC_TEST_INSTALLED") != "1", reason="set by scripts/test after pip install"
)
def test_installed_package_has_the_fastpath_extension_and_it_imports() -> None:
    package = Path(zinc.__file__).resolve().parent
    found = sorted(package.glob("_fastpath*.abi3.so"))
    assert len(found) == 1, f"expected one _fastpath*.abi3.so in {package}, found {found}"
    fastpath = importlib.import_module("zinc._fastpath")
    assert Path(fastpath.__file__ or "").resolve() == found[0]
    assert_extension_links_no_python_and_no_core(found[0])


@needs_dist
def test_distributions_have_fixed_timestamps() -> None:
    # Reproducible archives: every entry stamped with SOURCE_DATE_EPOCH (the
    # same instant throughout), whatever the build machine's clock said.
    for arch in ARCHS:
        stamps = {info.date_time for info in zipfile.ZipFile(wheel_for(arch)).infolist()}
        assert len(stamps) == 1, (arch, stamps)
    sdist_times = {m.mtime for m in tarfile.open(dist_file("zinc_shm-*.tar.gz")).getmembers()}
    assert len(sdist_times) == 1, sdist_times


@needs_dist
def test_sdist_carries_the_core_sources() -> None:
    sdist = dist_file("zinc_shm-*.tar.gz")
    root = f"zinc_shm-{zinc.__version__}/"
    names = {n[len(root) :] for n in tarfile.open(sdist).getnames()}
    assert {"pyproject.toml", "CMakeLists.txt", "zinc/__init__.py", "README.md"} <= names
    assert {"core/CMakeLists.txt", "core/include/zinc.h", "core/src/c_api.cpp"} <= names
    assert not [n for n in names if n.startswith(("build/", "tests/"))]


@needs_dist
def test_wheel_installs_without_a_compiler_and_runs_the_two_process_example(
    tmp_path: Path, region_name: NameFactory
) -> None:
    python = make_venv(tmp_path / "venv")
    env = clean_env(str(python.parent))
    assert shutil.which("cc", path=env["PATH"]) is None
    assert shutil.which("c++", path=env["PATH"]) is None
    # From a folder that holds nothing but the examples: no source tree.
    work = tmp_path / "work"
    work.mkdir()
    pip_install(python, ["--find-links", str(DIST), "zinc-shm[numpy]"], env, work)
    name = region_name()
    for example in ("quickstart_writer.py", "quickstart_reader.py"):
        text = (PYTHON_DIR / "examples" / example).read_text()
        (work / example).write_text(text.replace('"quickstart-py"', repr(name)))
    writer = subprocess.Popen(
        [str(python), "quickstart_writer.py"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=work,
    )
    try:
        assert writer.stdout is not None
        first = writer.stdout.readline()
        assert first.startswith("wrote 131072 float64 values into"), writer.stderr
        reader = subprocess.run(
            [str(python), "quickstart_reader.py"],
            capture_output=True,
            text=True,
            env=env,
            cwd=work,
            timeout=60,
        )
        assert reader.returncode == 0, reader.stderr
        assert reader.stdout == "[0.  0.5 1.  1.5 2. ]\n"
        out, err = writer.communicate("\n", timeout=60)
        assert writer.returncode == 0, err
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.communicate()
    assert not object_path(name).exists()
    where = subprocess.run(
        [
            str(python),
            "-c",
            "import zinc._ffi as f, zinc._fastpath as x\nprint(f.library_path); print(x.__file__)",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=work,
        timeout=60,
    )
    assert where.returncode == 0, where.stderr
    library, extension = where.stdout.split()
    assert library.startswith(str(tmp_path / "venv" / "lib"))
    assert extension == str(Path(library).parent / "_fastpath.abi3.so")


@needs_dist
def test_sdist_builds_and_installs_on_its_own(tmp_path: Path, region_name: NameFactory) -> None:
    python = make_venv(tmp_path / "venv")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ZINC_LIBRARY")}
    sdist = shutil.copy(dist_file("zinc_shm-*.tar.gz"), tmp_path)
    pip_install(python, [str(sdist)], env, tmp_path)
    name = region_name()
    # The sdist's build compiles the extension too (with this machine's C
    # compiler and Python headers).
    code = (
        "import zinc, zinc._ffi as f, zinc._fastpath\n"
        f"with zinc.SharedRegion.create({name!r}, zinc.PAGE_SIZE) as r:\n"
        "    r.notify(); print(r.try_wait(), f.library_path.startswith(%r))\n"
        % str(tmp_path / "venv")
    )
    result = subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "True True\n"
