"""Channels between processes: writers and readers are separate Python
processes (tests/channel_peer.py), including ones killed with SIGKILL.

Each frame's bytes are a function of its sequence, so a reader records only
(sequence, crc32) and the test checks every frame it got. Hypothesis draws
the frame type, the ring and the number of readers; the example counts stay
small because every example starts several interpreters.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

import numpy as np
import pytest
from channel_peer import expected_crc
from conftest import TESTS_DIR, NameFactory, Peer
from hypothesis import given, settings
from hypothesis import strategies as st

import zinc

PEER = str(TESTS_DIR / "channel_peer.py")


@st.composite
def frame_types(draw: st.DrawFn) -> Tuple[str, Tuple[int, ...]]:
    kind, sizes = draw(
        st.sampled_from(
            [
                ("b", (1,)),
                ("i", (1, 2, 4, 8)),
                ("u", (1, 2, 4, 8)),
                ("f", (2, 4, 8)),
                ("c", (8, 16)),
            ]
        )
    )
    size = draw(st.sampled_from(sizes))
    order = "|" if size == 1 else draw(st.sampled_from("<>"))
    shape = draw(st.lists(st.integers(1, 6), min_size=0, max_size=3))
    return f"{order}{kind}{size}", tuple(shape)


def shape_arg(shape: Tuple[int, ...]) -> str:
    return ",".join(str(n) for n in shape)


def expect_line(peer: Peer, prefix: str) -> str:
    line = peer.readline()
    if not line.startswith(prefix):
        result = peer.finish(timeout=5)
        raise AssertionError(f"expected {prefix!r} from {peer.args}, got {line!r}: {result.stderr}")
    return line


def records(path: Path) -> List[Tuple[int, int]]:
    return [(int(s), int(c)) for s, c in (line.split() for line in path.read_text().splitlines())]


@settings(max_examples=5)
@given(
    frame_type=frame_types(),
    slots=st.integers(1, 6),
    early=st.integers(1, 2),
    late=st.integers(0, 1),
    frames=st.integers(1, 30),
    late_at=st.floats(0, 1),
    seed=st.integers(0, 2**31),
)
def test_lossless_readers_get_every_frame_after_their_join_in_order(
    region_name: NameFactory,
    peers: Callable[..., Peer],
    tmp_path: Path,
    frame_type: Tuple[str, Tuple[int, ...]],
    slots: int,
    early: int,
    late: int,
    frames: int,
    late_at: float,
    seed: int,
) -> None:
    name = region_name()
    dtype, shape = frame_type
    at = min(int(late_at * frames), frames - 1)  # late readers join before the last frame
    # Everyone starts at once (readers retry until the channel exists); the
    # writer waits for the early readers before frame 0 and for the late ones
    # before frame `at`, and late readers start once the early ones joined.
    writer = peers(
        PEER, "write", name, f"--frames={frames}", f"--seed={seed}", "--create", dtype,
        shape_arg(shape), f"--slots={slots}", f"--max-readers={early + late}",
        f"--readers={early}", f"--late={late}", f"--late-at={at}",
    )  # fmt: skip
    records_of = [tmp_path / f"{name}-{k}.txt" for k in range(early + late)]
    readers = [peers(PEER, "read", name, f"--record={records_of[k]}") for k in range(early)]
    joined = [int(expect_line(reader, "joined").split()[1]) for reader in readers]
    late_readers = [peers(PEER, "read", name, f"--record={r}") for r in records_of[early:]]
    joined += [int(expect_line(reader, "joined").split()[1]) for reader in late_readers]
    readers += late_readers
    finished = writer.finish()
    assert finished.returncode == 0, finished.stderr
    nbytes = np.dtype(dtype).itemsize * int(np.prod(shape))
    for k, (reader, record, joined_at) in enumerate(zip(readers, records_of, joined)):
        result = reader.finish()
        assert result.returncode == 0, result.stderr
        got = records(record)
        sequences = [s for s, _ in got]
        first = 0 if k < early else sequences[0] if sequences else frames
        # The first frame committed after the join (write_seq then, or one
        # committed between the join and that look) and every one after it.
        assert first <= joined_at
        assert sequences == list(range(first, frames)), (k, joined_at)
        for sequence, crc in got:
            assert crc == expected_crc("random", seed, sequence, nbytes), sequence


@settings(max_examples=3)
@given(frame_type=frame_types(), readers=st.integers(1, 3), frames=st.integers(200, 1500))
def test_latest_readers_see_increasing_sequences_and_never_a_torn_frame(
    region_name: NameFactory,
    peers: Callable[..., Peer],
    tmp_path: Path,
    frame_type: Tuple[str, Tuple[int, ...]],
    readers: int,
    frames: int,
) -> None:
    name = region_name()
    dtype, shape = frame_type
    # Large enough frames that a write overlapping a read would show.
    shape = shape + (64,) if len(shape) < 5 else shape
    writer = peers(
        PEER, "write", name, f"--frames={frames}", "--fill=sequence", "--create", dtype,
        shape_arg(shape), "--mode=latest", f"--slots={readers + 2}", f"--max-readers={readers}",
        f"--readers={readers}",
    )  # fmt: skip
    started = []
    for k in range(readers):
        record = tmp_path / f"{name}-{k}.txt"
        started.append((peers(PEER, "read", name, f"--record={record}"), record))
    for reader, _ in started:
        expect_line(reader, "joined")
    finished = writer.finish()
    assert finished.returncode == 0, finished.stderr
    nbytes = np.dtype(dtype).itemsize * int(np.prod(shape))
    for reader, record in started:
        result = reader.finish()
        assert result.returncode == 0, result.stderr
        got = records(record)
        assert got, "a latest reader saw no frame at all"
        sequences = [s for s, _ in got]
        assert all(a < b for a, b in zip(sequences, sequences[1:]))
        assert sequences[-1] == frames - 1, "the newest frame is the last one read"
        for sequence, crc in got:
            assert crc == expected_crc("sequence", 0, sequence, nbytes), f"frame {sequence} torn"


def test_reader_killed_holding_a_frame_does_not_wedge_a_lossless_writer(
    region_name: NameFactory, peers: Callable[..., Peer]
) -> None:
    name = region_name()
    with zinc.Channel.create(name, np.uint32, (256,), slots=2, max_readers=1) as writer:
        reader = peers(PEER, "read", name, "--hold")
        expect_line(reader, "joined")
        writer.send(np.zeros(256, np.uint32))
        expect_line(reader, "holding 0")
        writer.send(np.ones(256, np.uint32))
        assert writer.frame(timeout_ms=0) is None, "the ring is full while the reader lives"
        reader.kill()
        start = time.monotonic()
        frame = writer.frame(timeout_ms=5000)
        assert frame is not None, "the writer is still held back by a dead reader"
        assert time.monotonic() - start < 5
        frame.commit()
        assert writer.info.readers == 0
        # A new reader takes the dead one's entry.
        with zinc.Channel.open_reader(name) as late:
            writer.send(np.full(256, 7, np.uint32))
            assert int(late.recv_copy(5000)[0]) == 7


@pytest.mark.parametrize("mode", ["lossless", "latest"])
def test_writer_killed_mid_frame_never_exposes_it(
    mode: str, region_name: NameFactory, peers: Callable[..., Peer]
) -> None:
    name = region_name()
    nbytes = 4096
    with zinc.Channel.create(
        name, np.uint8, (nbytes,), slots=4, mode=mode, max_readers=1, role="reader"
    ) as reader:
        writer = peers(PEER, "write", name, "--frames=3", "--fill=sequence", "--hang")
        expect_line(writer, "ready")
        expect_line(writer, "mid-frame")
        writer.kill()
        seen: Dict[int, Any] = {}
        while (frame := reader.recv(timeout_ms=200)) is not None:
            with frame:
                seen[frame.sequence] = frame.array.copy()
        assert max(seen) == 2, "frame 3 was only half written"
        for sequence, data in seen.items():
            assert (data == sequence % 251).all()
        # The next writer takes over the dead one's role and writes frame 3 anew.
        with zinc.Channel.open_writer(name) as successor:
            assert successor.send(np.full(nbytes, 42, np.uint8)) == 3
        frame = reader.recv(timeout_ms=5000)
        assert frame is not None and frame.sequence == 3
        with frame:
            assert (frame.array == 42).all()
