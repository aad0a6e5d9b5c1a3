"""Restarting a channel's writer (issue 18, docs/spec.md §10.8): a writer
killed with SIGKILL in the middle of a frame is replaced by a new process
that takes the role with Channel.open_writer and continues at write_seq; a
reader that was waiting meanwhile gets every committed frame once, in order,
with the bytes of its sequence (the dead writer's unfinished frame is never
shown; the new writer writes that sequence anew)."""

from __future__ import annotations

import threading
import zlib
from typing import List, Tuple

from channel_peer import expected_crc
from conftest import TESTS_DIR, NameFactory, Peer

import zinc

LIVENESS_PEER = str(TESTS_DIR / "liveness_peer.py")
SLOT_BYTES = 256


def test_reader_follows_a_new_writer_after_the_writer_is_killed(
    region_name: NameFactory,
) -> None:
    name = region_name()
    with zinc.Channel.create(
        name, "|u1", (SLOT_BYTES,), slots=4, max_readers=1, role="reader"
    ) as reader:
        first = Peer([LIVENESS_PEER, "writer", name, "3", "--hang"])
        try:
            assert first.readline().strip() == "done"
            assert first.readline().strip() == "mid-frame"
            got: List[Tuple[int, int]] = []
            for _ in range(3):
                frame = reader.recv(5000)
                assert frame is not None
                with frame:
                    got.append((frame.sequence, zlib.crc32(frame.array.tobytes())))
            first.kill()

            # The reader waits through the restart.
            later: List[Tuple[int, int]] = []

            def read_three() -> None:
                for _ in range(3):
                    frame = reader.recv(20_000)
                    if frame is None:
                        return
                    with frame:
                        later.append((frame.sequence, zlib.crc32(frame.array.tobytes())))

            waiting = threading.Thread(target=read_three)
            waiting.start()
            second = Peer([LIVENESS_PEER, "writer", name, "3"])
            result = second.finish()
            waiting.join()
        finally:
            first.kill()
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "done"
    frames = got + later
    assert [s for s, _ in frames] == list(range(6)), "frames lost or repeated across the restart"
    bad = [s for s, crc in frames if crc != expected_crc("random", 7, s, SLOT_BYTES)]
    assert bad == [], f"frames whose bytes are not their sequence's: {bad}"
