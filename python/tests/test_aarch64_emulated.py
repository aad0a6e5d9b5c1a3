"""The aarch64 wheel, run under emulation: qemu-user in an arm64 Debian root.

scripts/test.d/45-python-aarch64.sh prepares the root (debootstrap, cached
outside the checkout), installs the aarch64 wheel into /opt/zinc-wheel there
with pip's manylinux2014_aarch64 platform check, and sets ZINC_TEST_ARM64_ROOT.
The wheel's stable-ABI extension zinc._fastpath is imported there too.
Each emulated process runs in a mount namespace of its own (unshare) with
the host's /dev/shm and a /proc bound into the root, then chroot and
qemu-aarch64-static: the arm64 Python, numpy, cffi and libzinc_core share
regions with each other and with this (x86-64) process.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Iterator, List, Sequence

import pytest
from channel_peer import expected_crc
from conftest import PYTHON_DIR, TESTS_DIR, NameFactory, object_path

# Set by stage 45 once the root is made and the wheel installed in it; not
# ZINC_ARM64_ROOT, which a user sets to move the root and which stage 40's
# tests then inherit while the root is still being made.
ROOT = os.environ.get("ZINC_TEST_ARM64_ROOT")
pytestmark = pytest.mark.skipif(not ROOT, reason="set by scripts/test.d/45-python-aarch64.sh")

# The arm64 root's site folders: the wheel, then cffi and numpy from PyPI.
GUEST_PATH = "/opt/zinc-wheel:/opt/zinc-deps"
# Emulated, an arm64 Python with numpy takes seconds to start.
TIMEOUT_S = 240

ENTER = (
    'mount --bind /dev/shm "$0/dev/shm" && mount -t proc proc "$0/proc" && '
    'exec chroot "$0" /usr/bin/qemu-aarch64-static /usr/bin/python3 "$@"'
)


def emulated(args: Sequence[str], **popen: object) -> "subprocess.Popen[str]":
    """An arm64 python3 process inside the root, started with args."""
    assert ROOT is not None
    env = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "PYTHONPATH": GUEST_PATH,
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    command = ["unshare", "--mount", "--propagation", "private", "sh", "-c", ENTER, ROOT, *args]
    return subprocess.Popen(command, text=True, env=env, **popen)  # type: ignore[call-overload,no-any-return]


def run_emulated(args: Sequence[str]) -> "subprocess.CompletedProcess[str]":
    process = emulated(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = process.communicate(timeout=TIMEOUT_S)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return subprocess.CompletedProcess(args, process.returncode, out, err)


def first_line(process: "subprocess.Popen[str]") -> str:
    """The process's first line of output; with its stderr if there is none."""
    assert process.stdout is not None and process.stderr is not None
    line = process.stdout.readline()
    if not line:
        process.wait(timeout=TIMEOUT_S)
        return "(no output; stderr: " + process.stderr.read() + ")"
    return line


@pytest.fixture
def guest_dir() -> Iterator[tuple[Path, str]]:
    """A folder inside the root: (its host path, its path as the guest sees it)."""
    assert ROOT is not None
    guest = f"/tmp/zinc-test-{uuid.uuid4().hex}"
    host = Path(ROOT + guest)
    host.mkdir(parents=True)
    try:
        yield host, guest
    finally:
        shutil.rmtree(host, ignore_errors=True)


def assert_aarch64_elf(path: Path) -> None:
    header = path.read_bytes()[:20]
    assert header[:4] == b"\x7fELF" and int.from_bytes(header[18:20], "little") == 183  # EM_AARCH64


def test_the_wheel_loads_its_aarch64_library_and_the_generated_declarations() -> None:
    assert ROOT is not None
    assert_aarch64_elf(Path(ROOT) / "opt" / "zinc-wheel" / "zinc" / "libzinc_core.so")
    result = run_emulated(
        [
            "-c",
            "import platform, zinc, zinc._ffi as f\n"
            "print(platform.machine(), zinc.__version__, f.declared_by, f.library_path)\n",
        ]
    )
    assert result.returncode == 0, result.stderr
    machine, version, declared_by, path = result.stdout.split()
    assert machine == "aarch64"
    assert declared_by == "zinc._zinc_cffi"
    assert path == "/opt/zinc-wheel/zinc/libzinc_core.so"
    print(result.stdout, end="")


def test_the_wheel_imports_its_aarch64_fastpath_extension() -> None:
    # The stable-ABI extension, cross-compiled against arm64's pyconfig.h,
    # loads into the guest's CPython (3.11, not the 3.9 it was built for).
    assert ROOT is not None
    assert_aarch64_elf(Path(ROOT) / "opt" / "zinc-wheel" / "zinc" / "_fastpath.abi3.so")
    result = run_emulated(
        ["-c", "import sys, zinc._fastpath as x\nprint(sys.implementation.cache_tag, x.__file__)\n"]
    )
    assert result.returncode == 0, result.stderr
    cache_tag, path = result.stdout.split()
    assert cache_tag.startswith("cpython-")
    assert path == "/opt/zinc-wheel/zinc/_fastpath.abi3.so"
    print(result.stdout, end="")


def test_two_process_region_example_runs_on_aarch64(
    guest_dir: tuple[Path, str], region_name: NameFactory
) -> None:
    host, guest = guest_dir
    name = region_name()
    for example in ("quickstart_writer.py", "quickstart_reader.py"):
        text = (PYTHON_DIR / "examples" / example).read_text()
        (host / example).write_text(text.replace('"quickstart-py"', repr(name)))
    writer = emulated(
        [f"{guest}/quickstart_writer.py"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        first = first_line(writer)
        assert first.startswith("wrote 131072 float64 values into"), first
        reader = run_emulated([f"{guest}/quickstart_reader.py"])
        assert reader.returncode == 0, reader.stderr
        assert reader.stdout == "[0.  0.5 1.  1.5 2. ]\n"
        _, err = writer.communicate("\n", timeout=TIMEOUT_S)
        assert writer.returncode == 0, err
        print(first + reader.stdout, end="")
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.communicate()
    assert not object_path(name).exists()


def emulated_peer(guest: str, args: List[str]) -> List[str]:
    """Arguments for an emulated tests/channel_peer.py with a longer timeout:
    under emulation (and a loaded machine) a peer takes many seconds to start,
    more than the writer's 20 s wait for its readers."""
    code = (
        f"import sys; sys.path.insert(0, {guest!r}); import channel_peer; "
        f"channel_peer.TIMEOUT_MS = {TIMEOUT_S * 1000}; sys.exit(channel_peer.main())"
    )
    return ["-c", code, *args]


def channel_run(guest_dir: tuple[Path, str], name: str, reader_on_host: bool) -> List[str]:
    """An emulated channel writer and one reader (emulated, or this machine's
    x86-64 Python); returns the reader's record lines."""
    host, guest = guest_dir
    shutil.copy(TESTS_DIR / "channel_peer.py", host / "channel_peer.py")
    frames, shape = 24, "64,48"
    writer = emulated(
        emulated_peer(
            guest,
            ["write", name, "--frames", str(frames), "--create", "uint8", shape]
            + ["--slots", "4", "--readers", "1", "--seed", "7"],
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        ready = first_line(writer)
        assert ready == "ready\n", ready
        if reader_on_host:
            reader = subprocess.run(
                [sys.executable, str(TESTS_DIR / "channel_peer.py"), "read", name]
                + ["--record", str(host / "record.txt")],
                capture_output=True,
                text=True,
                timeout=TIMEOUT_S,
            )
        else:
            reader = run_emulated(
                emulated_peer(guest, ["read", name, "--record", f"{guest}/record.txt"])
            )
        assert reader.returncode == 0, reader.stderr
        assert reader.stdout.startswith("joined "), reader.stdout
        _, err = writer.communicate(timeout=TIMEOUT_S)
        assert writer.returncode == 0, err
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.communicate()
    lines = (host / "record.txt").read_text().splitlines()
    nbytes = 64 * 48
    assert lines == [f"{s} {expected_crc('random', 7, s, nbytes)}" for s in range(frames)]
    return lines


def test_channel_writer_and_reader_run_on_aarch64(
    guest_dir: tuple[Path, str], region_name: NameFactory
) -> None:
    lines = channel_run(guest_dir, region_name(), reader_on_host=False)
    print(f"aarch64 writer -> aarch64 reader: {len(lines)} frames, every crc32 as written")


def test_an_aarch64_writer_feeds_an_x86_64_reader(
    guest_dir: tuple[Path, str], region_name: NameFactory
) -> None:
    # One region, two architectures: the layout is the spec's, not the ABI's.
    lines = channel_run(guest_dir, region_name(), reader_on_host=True)
    print(f"aarch64 writer -> x86-64 reader: {len(lines)} frames, every crc32 as written")
