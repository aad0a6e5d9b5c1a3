"""What the bridge tests share: the C++ writer (bridge_writer.cpp, built
once per run against the installed package), zinc-bridge processes whose log
is collected as it comes, free TCP ports, and a channel's write_seq read
from its header (docs/spec.md section 10.2, offset 32) without joining it."""

from __future__ import annotations

import json
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Sequence, Tuple

import pytest
from conftest import TESTS_DIR, NameFactory

import zinc

PACKAGE_DIR = Path(zinc.__file__).resolve().parent
WRITE_SEQ_OFFSET = 32
GAP = re.compile(r"gap: frames (\d+)\.\.(\d+) never arrived")
FIRST = re.compile(r"first frame is the source's frame (\d+)")


def build_writer(out_dir: Path) -> Path:
    """bridge_writer.cpp compiled against the installed package's zinc.h and
    libzinc_core (a C++ writer, as a user's would be)."""
    compiler = shutil.which("c++") or shutil.which("g++")
    if compiler is None:
        pytest.skip("no C++ compiler to build the bridge tests' C++ writer")
    header_dir = PACKAGE_DIR / "include"
    library = PACKAGE_DIR / "libzinc_core.so"
    if not (header_dir / "zinc.h").exists() or not library.exists():
        pytest.fail(f"the installed package at {PACKAGE_DIR} has no include/zinc.h or library")
    binary = out_dir / "bridge_writer"
    # The bundled library's soname is libzinc_core.so.<major> while its file
    # is libzinc_core.so (cffi opens it by path): give the loader that name.
    soname = re.search(rb"libzinc_core\.so\.\d+", library.read_bytes())
    if soname is not None:
        (out_dir / soname.group().decode()).symlink_to(library)
    subprocess.run(
        [
            compiler,
            "-std=c++17",
            "-O2",
            "-o",
            str(binary),
            str(TESTS_DIR / "bridge_writer.cpp"),
            f"-I{header_dir}",
            str(library),
            f"-Wl,-rpath,{out_dir}",
        ],
        check=True,
        timeout=120,
    )
    return binary


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_seq(name: str) -> int:
    """Frames committed to channel `name` so far, from its header."""
    region = zinc.SharedRegion.open(name)
    try:
        data = region.as_buffer()
        try:
            return int(struct.unpack_from("<Q", data, WRITE_SEQ_OFFSET)[0])
        finally:
            data.release()
    finally:
        region.close()


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


class Process:
    """A child process whose stdout and stderr lines are collected by threads
    (so a chatty child never blocks on a full pipe)."""

    def __init__(self, argv: Sequence[str], prefix: Sequence[str] = ()) -> None:
        self.argv = [*prefix, *argv]
        self.process = subprocess.Popen(
            self.argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.out: List[str] = []
        self.err: List[str] = []
        self._changed = threading.Condition()
        self._readers = [
            threading.Thread(target=self._collect, args=(self.process.stdout, self.out)),
            threading.Thread(target=self._collect, args=(self.process.stderr, self.err)),
        ]
        for reader in self._readers:
            reader.daemon = True
            reader.start()

    def _collect(self, stream: Any, lines: List[str]) -> None:
        for line in stream:
            with self._changed:
                lines.append(line.rstrip("\n"))
                self._changed.notify_all()

    def wait_for(self, pattern: str, timeout: float = 60, stream: str = "out") -> re.Match[str]:
        """The first line of `stream` matching `pattern`, waiting for it."""
        lines = self.out if stream == "out" else self.err
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in lines:
                    match = regex.search(line)
                    if match:
                        return match
                left = deadline - time.monotonic()
                if left <= 0 or (self.process.poll() is not None and not self._alive_readers()):
                    raise AssertionError(
                        f"{self.argv[:4]}: no line matching {pattern!r} within {timeout} s "
                        f"(exit {self.process.poll()}):\nstdout:\n"
                        + "\n".join(self.out[-30:])
                        + "\nstderr:\n"
                        + "\n".join(self.err[-30:])
                    )
                self._changed.wait(min(left, 0.5))

    def _alive_readers(self) -> bool:
        return any(reader.is_alive() for reader in self._readers)

    def send(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text)
        self.process.stdin.flush()

    def finish(self, timeout: float = 60) -> int:
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(
                f"{self.argv[:4]} did not finish in {timeout} s:\n" + "\n".join(self.err[-30:])
            ) from None
        for reader in self._readers:
            reader.join(10)
        return code

    def terminate(self, timeout: float = 30) -> int:
        """SIGTERM, then the exit status (SIGKILL if it does not exit)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.finish(timeout)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        for reader in self._readers:
            reader.join(10)

    def log(self) -> str:
        return "\n".join(self.err)


def bridge_argv(*args: str) -> List[str]:
    return [sys.executable, "-m", "zinc.bridge", *args]


def gaps(log: str) -> List[List[int]]:
    """The [first, last] of each gap a bridge reported."""
    return [[int(a), int(b)] for a, b in GAP.findall(log)]


def summary(reader: Process, timeout: float = 120) -> Dict[str, Any]:
    """The JSON summary bridge_reader.py prints last."""
    code = reader.finish(timeout)
    assert code == 0, "\n".join(reader.err[-30:])
    return dict(json.loads(reader.out[-1]))


def missing(indices: List[List[int]], first: int, last: int) -> List[List[int]]:
    """The runs of first..last that are not in `indices` (runs too)."""
    holes: List[List[int]] = []
    expected = first
    for a, b in indices:
        if a > expected:
            holes.append([expected, a - 1])
        expected = max(expected, b + 1)
    if expected <= last:
        holes.append([expected, last])
    return holes


READER = str(TESTS_DIR / "bridge_reader.py")

Start = Callable[..., Process]


@pytest.fixture(scope="module")
def writer_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_writer(tmp_path_factory.mktemp("bridge-writer"))


@pytest.fixture
def start() -> Iterator[Start]:
    """Starts processes; kills every one still running at teardown."""
    started: List[Process] = []

    def run(*argv: str, prefix: Tuple[str, ...] = ()) -> Process:
        process = Process(argv, prefix)
        started.append(process)
        return process

    yield run
    for process in started:
        process.kill()


class Route:
    """A channel `src` carried to channel `dst` over key `key` by a
    publishing bridge and a subscribing bridge; one listens on `port`, the
    other connects to it. The tests start the subscribing bridge first, so
    by default it listens: the publishing one then connects as it starts
    (a connecting bridge started first retries about every second)."""

    def __init__(self, region_name: NameFactory, publisher_listens: bool = False) -> None:
        self.src = region_name("-src")
        self.dst = region_name("-dst")
        self.key = f"zinc/test/{self.src}"
        self.port = free_port()
        self.publisher_listens = publisher_listens

    def _endpoint(self, listens: bool) -> List[str]:
        return [
            "--listen" if listens else "--connect",
            f"tcp/127.0.0.1:{self.port}",
        ]

    def publisher(self, start: Start, *extra: str, prefix: Tuple[str, ...] = ()) -> Process:
        bridge = start(
            *bridge_argv(
                "--publish", f"{self.src}={self.key}", *self._endpoint(self.publisher_listens)
            ),
            *extra,
            prefix=prefix,
        )
        bridge.wait_for("ready:", stream="err")
        return bridge

    def subscriber(self, start: Start, *extra: str, prefix: Tuple[str, ...] = ()) -> Process:
        bridge = start(
            *bridge_argv(
                "--subscribe",
                f"{self.key}={self.dst}",
                *self._endpoint(not self.publisher_listens),
            ),
            *extra,
            prefix=prefix,
        )
        bridge.wait_for("ready:", stream="err")
        return bridge


def start_writer(
    start: Start, binary: Path, name: str, mode: str, frames: int, shape: str, hz: float = 0
) -> Process:
    writer = start(str(binary), name, mode, str(frames), shape, str(hz))
    writer.wait_for("^ready$")
    return writer


def start_reader(start: Start, name: str, last: int, *options: str) -> Process:
    reader = start(sys.executable, READER, name, "--last", str(last), *options)
    reader.wait_for("^joined$")
    return reader
