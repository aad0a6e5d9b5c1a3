"""The distributions scripts/wheel makes: the wheel installs and works where
there is no compiler and no source tree, the sdist builds on its own.

The install tests need the files: scripts/test builds them once (scripts/wheel
--out build/dist-test, skipped when nothing they are made from changed) and
sets ZINC_TEST_DIST to that folder. Each test makes a fresh virtualenv.
"""

from __future__ import annotations

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


def wheel_library(tmp_path: Path, arch: str) -> Path:
    with zipfile.ZipFile(wheel_for(arch)) as wheel:
        return Path(wheel.extract("zinc/libzinc_core.so", tmp_path / arch))


@needs_dist
@pytest.mark.parametrize("arch", ARCHS)
def test_wheel_is_manylinux2014_for_every_python3(arch: str) -> None:
    wheel = wheel_for(arch)
    name, version, python, abi, platforms = wheel.name[: -len(".whl")].split("-")
    assert (name, version, python, abi) == ("zinc_shm", zinc.__version__, "py3", "none")
    assert set(platforms.split(".")) == {f"manylinux2014_{arch}", f"manylinux_2_17_{arch}"}
    names = zipfile.ZipFile(wheel).namelist()
    want = {"zinc/libzinc_core.so", "zinc/_zinc_cffi.py", "zinc/include/zinc.h", "zinc/py.typed"}
    assert want <= set(names)
    assert not [n for n in names if n.endswith(".pyc")]


@needs_dist
@pytest.mark.parametrize("arch", ARCHS)
def test_wheel_library_is_stripped_and_needs_nothing_past_glibc_2_17(
    tmp_path: Path, arch: str
) -> None:
    library = wheel_library(tmp_path, arch)
    head = library.read_bytes()[:20]
    assert head[:4] == b"\x7fELF" and int.from_bytes(head[18:20], "little") == ELF_MACHINE[arch]
    sections = subprocess.run(
        ["readelf", "-S", "-W", str(library)], capture_output=True, text=True, check=True
    ).stdout
    assert ".dynsym" in sections
    assert ".symtab" not in sections and ".debug_info" not in sections
    symbols = subprocess.run(
        ["readelf", "--dyn-syms", "-W", str(library)], capture_output=True, text=True, check=True
    ).stdout
    versions = {tuple(map(int, v.split("."))) for v in re.findall(r"@GLIBC_([0-9.]+)", symbols)}
    assert versions and max(versions) <= (2, 17), sorted(versions)
    # Only the C ABI leaves the library (src/exports.map), not the static libc++.
    exported = re.findall(r"\s(?:FUNC|OBJECT)\s+GLOBAL\s+DEFAULT\s+\d+\s+(\S+)", symbols)
    assert exported and all(name.startswith("zinc_") for name in exported), exported
    needed = subprocess.run(
        ["readelf", "-d", str(library)], capture_output=True, text=True, check=True
    ).stdout
    assert "libstdc++" not in needed and "libc++" not in needed


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
        [str(python), "-c", "import zinc._ffi as f; print(f.library_path)"],
        capture_output=True,
        text=True,
        env=env,
        cwd=work,
        timeout=60,
    )
    assert where.stdout.strip().startswith(str(tmp_path / "venv" / "lib"))


@needs_dist
def test_sdist_builds_and_installs_on_its_own(tmp_path: Path, region_name: NameFactory) -> None:
    python = make_venv(tmp_path / "venv")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "ZINC_LIBRARY")}
    sdist = shutil.copy(dist_file("zinc_shm-*.tar.gz"), tmp_path)
    pip_install(python, [str(sdist)], env, tmp_path)
    name = region_name()
    code = (
        "import zinc, zinc._ffi as f\n"
        f"with zinc.SharedRegion.create({name!r}, zinc.PAGE_SIZE) as r:\n"
        "    r.notify(); print(r.try_wait(), f.library_path.startswith(%r))\n"
        % str(tmp_path / "venv")
    )
    result = subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "True True\n"
