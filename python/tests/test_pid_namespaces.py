"""Channels and stale-region judgements across pid namespaces (issue 18):
the other participant runs under ``unshare --pid --fork --mount-proc``, as in
containers that share /dev/shm but not pids. A participant judged from the
host runs at a pid that no host process has (placed with ns_last_pid), so a
judgement by pid would call it dead. Needs root; skipped with the reason
otherwise.

Every frame's bytes are a function of its sequence (channel_peer.py), so
each side checks the crc32 of every frame it got.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zlib
from pathlib import Path
from typing import Callable, Iterator, List, Optional, Tuple

import numpy as np
import pytest
from channel_peer import expected_crc, frame_bytes
from conftest import TESTS_DIR, NameFactory, object_path, peer_env

import zinc

CHANNEL_PEER = str(TESTS_DIR / "channel_peer.py")
LIVENESS_PEER = str(TESTS_DIR / "liveness_peer.py")
FRAMES = 120
SEED = 7
SLOT_BYTES = 256


def _unavailable_reason() -> str:
    if os.geteuid() != 0:
        return "pid namespaces need root (unshare --pid --mount-proc)"
    if shutil.which("unshare") is None:
        return "no unshare command (util-linux)"
    probe = subprocess.run(
        ["unshare", "--pid", "--fork", "--mount-proc", "true"], capture_output=True, text=True
    )
    if probe.returncode != 0:
        return f"unshare --pid --fork --mount-proc refused: {probe.stderr.strip()}"
    return ""


_REASON = _unavailable_reason()
pytestmark = pytest.mark.skipif(bool(_REASON), reason=_REASON)


def dead_host_pid() -> int:
    """A pid no host process has now: a child that exited and was reaped."""
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return pid


class NamespacedPeer:
    """A Python script in a new pid namespace with its own /proc: pid 1 there,
    or `pid` (a shell is pid 1 and places the script). The whole namespace is
    killed if the test leaves it running."""

    def __init__(self, args: List[str], pid: Optional[int] = None) -> None:
        command = [sys.executable, *args]
        if pid is not None:
            script = f'echo {pid - 1} > /proc/sys/kernel/ns_last_pid && "$@"; exit $?'
            command = ["sh", "-c", script, "sh", *command]
        self.args = args
        self.process = subprocess.Popen(
            ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", *command],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=peer_env(),
        )

    def expect(self, prefix: str) -> str:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line.startswith(prefix):
            out, err = self.finish(timeout=10)
            raise AssertionError(f"expected {prefix!r} from {self.args}, got {line!r}: {err}")
        return line.strip()

    def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def finish(self, timeout: float = 60) -> Tuple[str, str]:
        try:
            out, err = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            out, err = self.process.communicate()
            raise AssertionError(f"{self.args} did not finish in {timeout} s: {err}") from None
        return out, err

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.communicate()


Namespaced = Callable[..., NamespacedPeer]


@pytest.fixture
def namespaced() -> Iterator[Namespaced]:
    """Starts namespaced peers; kills any still running at teardown."""
    started: List[NamespacedPeer] = []

    def start(args: List[str], pid: Optional[int] = None) -> NamespacedPeer:
        peer = NamespacedPeer(args, pid)
        started.append(peer)
        return peer

    yield start
    for peer in started:
        peer.kill()


def check_records(records: List[Tuple[int, int]]) -> None:
    assert [s for s, _ in records] == list(range(FRAMES)), "frames lost, repeated or reordered"
    bad = [s for s, crc in records if crc != expected_crc("random", SEED, s, SLOT_BYTES)]
    assert bad == [], f"frames with wrong bytes (overwritten while held?): {bad[:10]}"


def test_frames_pass_from_namespaced_writer_to_host_reader(
    region_name: NameFactory, namespaced: Namespaced
) -> None:
    """The writer in the namespace is held back by the host reader all the
    time (2 slots); it must wait for it, never take its entry."""
    name = region_name()
    writer = namespaced(
        [CHANNEL_PEER, "write", name, "--frames", str(FRAMES), "--seed", str(SEED)]
        + ["--create", "|u1", str(SLOT_BYTES), "--slots", "2", "--readers", "1"]
    )
    writer.expect("ready")
    records: List[Tuple[int, int]] = []
    with zinc.Channel.open_reader(name) as reader:
        for frame in reader.frames(timeout_ms=20_000):
            records.append((frame.sequence, zlib.crc32(frame.array.tobytes())))
    _, err = writer.finish()
    assert writer.process.returncode == 0, err
    check_records(records)


def test_frames_pass_from_host_writer_to_namespaced_reader(
    region_name: NameFactory, namespaced: Namespaced, tmp_path: Path
) -> None:
    """The host writer is held back by a reader in another namespace, at a
    pid no host process has: it must wait for it, never take its entry."""
    name = region_name()
    record = tmp_path / "reader.txt"
    with zinc.Channel.create(name, "|u1", (SLOT_BYTES,), slots=2, max_readers=2) as writer:
        reader = namespaced([CHANNEL_PEER, "read", name, "--record", str(record)], dead_host_pid())
        reader.expect("joined")
        for sequence in range(FRAMES):
            sent = writer.send(frame_bytes("random", SEED, sequence, SLOT_BYTES), 20_000)
            assert sent == sequence, f"frame {sequence}: send gave {sent}"
    _, err = reader.finish()
    assert reader.process.returncode == 0, err
    check_records(
        [(int(s), int(c)) for s, c in (line.split() for line in record.read_text().splitlines())]
    )


def test_host_writer_never_overwrites_the_frame_a_namespaced_reader_holds(
    region_name: NameFactory, namespaced: Namespaced
) -> None:
    name = region_name()
    with zinc.Channel.create(name, "|u1", (SLOT_BYTES,), slots=2, max_readers=1) as writer:
        reader = namespaced([CHANNEL_PEER, "read", name, "--hold"], dead_host_pid())
        reader.expect("joined")
        for sequence in range(2):
            writer.send(frame_bytes("sequence", 0, sequence, SLOT_BYTES), 5000)
        assert reader.expect("holding") == "holding 0"
        frame = writer.frame(1000)
        assert frame is None, (
            f"the host writer took the live namespaced reader's entry and got frame "
            f"{frame.sequence if frame else None} into the slot it holds"
        )


def test_namespaced_writer_never_overwrites_the_frame_a_host_reader_holds(
    region_name: NameFactory, namespaced: Namespaced
) -> None:
    name = region_name()
    with zinc.Channel.create(
        name, "|u1", (SLOT_BYTES,), slots=2, max_readers=1, role="reader"
    ) as reader:
        writer = namespaced([LIVENESS_PEER, "held-writer", name])
        writer.expect("committed")
        held = reader.recv(5000)
        assert held is not None and held.sequence == 0
        copy = held.array.copy()
        writer.send("go")
        out, err = writer.finish()
        assert out.split("\n")[:2] == ["frame none", "done"], (out, err)
        assert np.array_equal(held.array, copy), "the held frame was overwritten"
        held.release()
        frame = reader.recv(5000)
        assert frame is not None and frame.sequence == 1
        with frame:
            assert bytes(frame.array) == bytes([1]) * SLOT_BYTES


def test_gc_in_another_namespace_keeps_a_live_creators_region(
    region_name: NameFactory, namespaced: Namespaced
) -> None:
    name = region_name()
    with zinc.SharedRegion.create(name, zinc.PAGE_SIZE):
        inode = object_path(name).stat().st_ino
        judge = namespaced([LIVENESS_PEER, "judge", name])
        out, err = judge.finish()
        assert judge.process.returncode == 0, err
        verdict = json.loads(out)
        assert verdict == {"status": "live", "remove_stale": -16, "replace_stale": "exists"}
        assert object_path(name).stat().st_ino == inode, "the live creator's region was replaced"
