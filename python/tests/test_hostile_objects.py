"""A FIFO that another local user put under a region's name: no call may
block on it, none may modify it while only looking, and the errors say what
it is."""

from __future__ import annotations

import errno
import os
import stat
import time
from typing import Callable

import pytest
from conftest import NameFactory, object_path

import zinc


def _returns_in_child(call: Callable[[], None], timeout_s: float = 5.0) -> int:
    """Runs call() in a forked child; its exit code, or -1 if it blocked."""
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            call()
        except BaseException:
            code = 3
        finally:
            os._exit(code)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    return -1


@pytest.fixture
def fifo(region_name: NameFactory) -> str:
    name = region_name("fifo")
    os.mkfifo(object_path(name), 0o600)
    return name


def test_open_create_and_list_answer_at_once_and_leave_the_fifo(fifo: str) -> None:
    before = os.lstat(object_path(fifo))
    calls = {
        "open": lambda: zinc.SharedRegion.open(fifo),
        "create replace_stale": lambda: zinc.SharedRegion.create(
            fifo, zinc.PAGE_SIZE, replace_stale=True
        ),
        "list_regions": lambda: zinc.list_regions(fifo),
    }
    for what, call in calls.items():
        assert _returns_in_child(call) != -1, f"{what} blocked on the FIFO"
    after = os.lstat(object_path(fifo))
    assert stat.S_ISFIFO(after.st_mode) and after.st_ino == before.st_ino


def test_errors_say_it_is_a_fifo_and_not_to_retry(fifo: str) -> None:
    with pytest.raises(OSError) as opened:
        zinc.SharedRegion.open(fifo)
    assert opened.value.errno == errno.EBADMSG  # not EAGAIN: waiting will not help
    assert "FIFO" in str(opened.value)
    with pytest.raises(FileExistsError):
        zinc.SharedRegion.create(fifo, zinc.PAGE_SIZE, replace_stale=True)
    [info] = zinc.list_regions(fifo)
    assert info.status == "invalid"
    assert "FIFO" in info.problem
