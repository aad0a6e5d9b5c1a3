"""Shared fixtures: unique region names that are unlinked after every test,
hypothesis profiles, and helpers to run Python peers in other processes."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Callable, Dict, Iterator, List, Optional, Sequence

import pytest
from hypothesis import HealthCheck, settings

TESTS_DIR = Path(__file__).resolve().parent
PYTHON_DIR = TESTS_DIR.parent
REPO_ROOT = PYTHON_DIR.parent
PEER = TESTS_DIR / "peer.py"

# "ci" (the default, used by scripts/test): derandomized, so every run draws
# the same examples (each test's seed derives from its name) and a failure
# reproduces. "dev": random, more examples, failures saved in .hypothesis/.
_COMMON = dict(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile("ci", derandomize=True, database=None, max_examples=100, **_COMMON)
settings.register_profile("dev", max_examples=200, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# Names start with "t<pid>-" like the C++ tests' names, so scripts/lib.sh
# sweeps what a killed test run left behind.
_SALT = random.SystemRandom().randrange(100000)
_counter = 0


def unique_name(scenario: str) -> str:
    global _counter
    _counter += 1
    return f"t{os.getpid()}-py-{scenario}-{_counter}-{_SALT}"


def object_path(name: str) -> Path:
    return Path("/dev/shm") / f"zinc_{name}"


def run_in_child(body: Callable[[], int]) -> int:
    """Forks, runs body() in the child, returns the child's exit status."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = body()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def unlink_region(name: str) -> None:
    try:
        object_path(name).unlink()
    except FileNotFoundError:
        pass


NameFactory = Callable[..., str]


@pytest.fixture
def region_name(request: pytest.FixtureRequest) -> Iterator[NameFactory]:
    """Makes unique region names; unlinks every one after the test, pass or fail."""
    used: List[str] = []
    scenario = request.node.name.replace("test_", "", 1)[:40]
    scenario = "".join(c if c.isalnum() or c in "_-" else "-" for c in scenario)

    def make(suffix: str = "") -> str:
        name = unique_name(scenario) + suffix
        used.append(name)
        return name

    yield make
    for name in used:
        unlink_region(name)


def peer_env(**extra: str) -> Dict[str, str]:
    env = dict(os.environ)
    env.update(extra)
    return env


class Peer:
    """A Python process running tests/peer.py (or any script); killed if left running."""

    def __init__(self, args: Sequence[str], env: Optional[Dict[str, str]] = None) -> None:
        self.args = list(args)
        self.process = subprocess.Popen(
            [sys.executable, *self.args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env if env is not None else peer_env(),
        )

    def readline(self) -> str:
        assert self.process.stdout is not None
        return self.process.stdout.readline()

    def finish(self, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
        try:
            out, err = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, err = self.process.communicate()
            raise AssertionError(
                f"peer {self.args} did not finish in {timeout} s:\n{out}\n{err}"
            ) from None
        return subprocess.CompletedProcess(self.args, self.process.returncode, out, err)

    def finish_with_input(
        self, text: str, timeout: float = 60.0
    ) -> subprocess.CompletedProcess[str]:
        assert self.process.stdin is not None
        self.process.stdin.write(text)
        self.process.stdin.flush()
        return self.finish(timeout)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.communicate()


@pytest.fixture
def peers() -> Iterator[Callable[..., Peer]]:
    """Starts peers; kills any still running at teardown."""
    started: List[Peer] = []

    def start(*args: str, env: Optional[Dict[str, str]] = None) -> Peer:
        peer = Peer(args, env)
        started.append(peer)
        return peer

    yield start
    for peer in started:
        peer.kill()


def run_python(
    code: str, env: Optional[Dict[str, str]] = None, cwd: Optional[Path] = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Runs `code` in a fresh interpreter and returns its result."""
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env if env is not None else peer_env(),
        cwd=cwd,
        timeout=timeout,
    )
