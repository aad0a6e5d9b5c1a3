"""Writer and reader processes exchange data through regions with notify/wait.

Every test here starts real Python processes (tests/peer.py): a writer that
puts payloads into a "down" region and readers that answer through their own
"up" regions. The test compares, byte for byte, what each process recorded
reading from shared memory with what the other side wrote.
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

import numpy as np
import pytest
from conftest import PEER, NameFactory, Peer, run_python
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from strategies import byte_payloads, numpy_payloads

import zinc

PAGE = zinc.PAGE_SIZE
# Each example starts processes (~0.3 s): shrinking a failure would take
# minutes, so these tests report the first failing example as it was drawn.
NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)
CONTROL = 64  # bytes at the start of each region kept for the round counter


def placed(
    draw: st.DrawFn, payload: np.ndarray[Any, Any], capacity_pages: int
) -> Tuple[np.ndarray[Any, Any], int]:
    """An offset at which `payload` fits after the control bytes, aligned for
    its dtype (as_numpy refuses a misaligned one)."""
    room = capacity_pages * PAGE - CONTROL - payload.nbytes
    offset = CONTROL + draw(st.integers(0, room))
    return payload, offset - offset % payload.dtype.alignment


def region_pages(payloads: List[np.ndarray[Any, Any]]) -> int:
    largest = max((p.nbytes for p in payloads), default=0)
    return (CONTROL + largest) // PAGE + 1


def save_spec(path: Path, plan: Dict[str, Any]) -> None:
    np.savez(path, **plan)


def run_exchange(
    tmp_path: Path,
    region_name: NameFactory,
    peers: Callable[..., Peer],
    draw: st.DrawFn,
    payloads: st.SearchStrategy[np.ndarray[Any, Any]],
    readers: int,
    rounds: int,
    via: str,
    writer_creates: bool = False,
) -> None:
    """Runs one writer and `readers` readers over `rounds` rounds and checks
    that every payload and reply arrived byte for byte."""
    downs = [draw(payloads) for _ in range(rounds)]
    ups = [[draw(payloads) for _ in range(rounds)] for _ in range(readers)]
    down_pages = region_pages(downs)
    up_pages = [region_pages(u) for u in ups]
    plan: Dict[str, Any] = {"rounds": np.array(rounds)}
    for r, payload in enumerate(downs):
        plan[f"down_{r}"], plan[f"down_offset_{r}"] = placed(draw, payload, down_pages)
    for k in range(readers):
        for r, payload in enumerate(ups[k]):
            plan[f"up_{k}_{r}"], plan[f"up_offset_{k}_{r}"] = placed(draw, payload, up_pages[k])
    run_plan(tmp_path, region_name, peers, plan, readers, down_pages, up_pages, via, writer_creates)


def run_plan(
    tmp_path: Path,
    region_name: NameFactory,
    peers: Callable[..., Peer],
    plan: Dict[str, Any],
    readers: int,
    down_pages: int,
    up_pages: List[int],
    via: str,
    writer_creates: bool,
) -> None:
    tag = region_name()  # unique per example: names files and regions
    spec = tmp_path / f"{tag}-spec.npz"
    save_spec(spec, plan)
    down_name = region_name("-down")
    up_names = [region_name(f"-up{k}") for k in range(readers)]
    owned = [zinc.SharedRegion.create(n, pages * PAGE) for n, pages in zip(up_names, up_pages)]
    if not writer_creates:
        owned.append(zinc.SharedRegion.create(down_name, down_pages * PAGE))
    try:
        writer_args = ["--down", down_name, "--spec", str(spec), "--via", via]
        writer_args += [arg for n in up_names for arg in ("--up", n)]
        writer_args += ["--record", str(tmp_path / f"{tag}-writer.npz")]
        if writer_creates:
            writer_args += ["--create", str(down_pages * PAGE)]
        writer = peers(str(PEER), "write", *writer_args)
        if writer_creates:
            line = writer.readline()
            assert line == "created\n", writer.finish().stderr
        reader_peers = [
            peers(
                str(PEER),
                "read",
                "--down",
                down_name,
                "--up",
                up_names[k],
                "--index",
                str(k),
                "--spec",
                str(spec),
                "--via",
                via,
                "--record",
                str(tmp_path / f"{tag}-reader{k}.npz"),
            )
            for k in range(readers)
        ]
        finish_all([writer, *reader_peers])
    finally:
        for region in owned:
            region.close()

    rounds = int(plan["rounds"])
    with np.load(tmp_path / f"{tag}-writer.npz") as got:
        for k in range(readers):
            for r in range(rounds):
                assert_same_bytes(got[f"up_{k}_{r}"], plan[f"up_{k}_{r}"], f"reply {k}/{r}")
    for k in range(readers):
        with np.load(tmp_path / f"{tag}-reader{k}.npz") as got:
            for r in range(rounds):
                assert_same_bytes(got[f"down_{r}"], plan[f"down_{r}"], f"reader {k} round {r}")


def finish_all(group: List[Peer], timeout: float = 60.0) -> None:
    """Waits for every peer; the first one to fail stops the others at once."""
    deadline = time.monotonic() + timeout
    running = list(group)
    while running and time.monotonic() < deadline:
        for peer in list(running):
            code = peer.process.poll()
            if code is None:
                continue
            running.remove(peer)
            if code != 0:
                result = peer.finish()
                for other in group:
                    other.kill()
                raise AssertionError(f"{peer.args} exited {code}:\n{result.stdout}{result.stderr}")
        time.sleep(0.01)
    for peer in group:
        result = peer.finish(timeout=max(0.0, deadline - time.monotonic()) + 1)
        assert result.returncode == 0, f"{peer.args}\n{result.stdout}\n{result.stderr}"


def assert_same_bytes(got: np.ndarray[Any, Any], want: np.ndarray[Any, Any], what: str) -> None:
    assert got.dtype == want.dtype, what
    assert got.shape == want.shape, what
    assert got.tobytes() == want.tobytes(), what


@settings(max_examples=25, phases=NO_SHRINK)
@given(data=st.data(), readers=st.integers(1, 4), rounds=st.integers(1, 6))
def test_bytes_flow_from_writer_to_readers_and_back(
    tmp_path: Path,
    region_name: NameFactory,
    peers: Callable[..., Peer],
    data: st.DataObject,
    readers: int,
    rounds: int,
) -> None:
    run_exchange(
        tmp_path, region_name, peers, data.draw, byte_payloads(), readers, rounds, via="buffer"
    )


@settings(max_examples=25, phases=NO_SHRINK)
@given(data=st.data(), readers=st.integers(1, 4), rounds=st.integers(1, 4))
def test_numpy_arrays_of_generated_dtypes_and_shapes_cross_processes(
    tmp_path: Path,
    region_name: NameFactory,
    peers: Callable[..., Peer],
    data: st.DataObject,
    readers: int,
    rounds: int,
) -> None:
    run_exchange(
        tmp_path, region_name, peers, data.draw, numpy_payloads(), readers, rounds, via="numpy"
    )


@settings(max_examples=6, phases=NO_SHRINK)
@given(data=st.data())
def test_writer_process_creates_region_that_reader_processes_open(
    tmp_path: Path, region_name: NameFactory, peers: Callable[..., Peer], data: st.DataObject
) -> None:
    run_exchange(
        tmp_path,
        region_name,
        peers,
        data.draw,
        numpy_payloads(),
        readers=2,
        rounds=2,
        via="numpy",
        writer_creates=True,
    )


def test_many_rounds_both_directions_with_two_readers(
    tmp_path: Path, region_name: NameFactory, peers: Callable[..., Peer]
) -> None:
    rng = random.Random("many_rounds_both_directions")
    rounds, readers = 1000, 2
    plan: Dict[str, Any] = {"rounds": np.array(rounds)}

    def payload() -> Tuple[np.ndarray[Any, Any], int]:
        size = rng.randrange(0, 2 * PAGE)
        data = np.frombuffer(rng.randbytes(size), dtype=np.uint8)
        return data, CONTROL + rng.randrange(0, 3 * PAGE - CONTROL - size + 1)

    for r in range(rounds):
        plan[f"down_{r}"], plan[f"down_offset_{r}"] = payload()
        for k in range(readers):
            plan[f"up_{k}_{r}"], plan[f"up_offset_{k}_{r}"] = payload()
    run_plan(tmp_path, region_name, peers, plan, readers, 3, [3] * readers, "buffer", False)


def test_notifications_from_another_process_coalesce(region_name: NameFactory) -> None:
    name = region_name()
    with zinc.SharedRegion.create(name, PAGE) as region:
        assert not region.try_wait()
        result = run_python(
            "import sys, zinc\n"
            "with zinc.SharedRegion.open(sys.argv[1]) as r:\n"
            "    for _ in range(5): r.notify()\n".replace("sys.argv[1]", repr(name))
        )
        assert result.returncode == 0, result.stderr
        assert region.try_wait()
        assert not region.try_wait()
        assert not region.wait(0)


def test_process_opened_after_notify_sees_it_pending(region_name: NameFactory) -> None:
    # The cursor of a new handle starts at 0: earlier notifications are pending.
    name = region_name()
    with zinc.SharedRegion.create(name, PAGE) as region:
        region.as_buffer()[:5] = b"ready"
        region.notify()
        result = run_python(
            "import zinc\n"
            f"with zinc.SharedRegion.open({name!r}) as r:\n"
            "    print(r.wait(0), bytes(r.as_buffer()[:5]), r.try_wait())\n"
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout == "True b'ready' False\n"


def test_reader_keeps_data_after_writer_process_exits(
    region_name: NameFactory, peers: Callable[..., Peer]
) -> None:
    # The writer process creates and fills the region and waits for a line on
    # stdin; the reader (this process) opens it, lets the writer exit (its
    # exit unlinks the name) and still reads every byte.
    name = region_name()
    payload = random.Random("reader_keeps_data_after_writer_exits").randbytes(PAGE)
    writer = peers(
        "-c",
        "import sys, zinc\n"
        f"r = zinc.SharedRegion.create({name!r}, zinc.PAGE_SIZE)\n"
        f"r.as_buffer()[:] = bytes.fromhex({payload.hex()!r})\n"
        "r.notify()\n"
        "print('written', flush=True)\n"
        "sys.stdin.readline()\n",
    )
    assert writer.readline() == "written\n", writer.finish().stderr
    with zinc.SharedRegion.open(name) as reader:
        assert writer.finish_with_input("\n").returncode == 0
        assert reader.try_wait()
        assert bytes(reader.as_buffer()) == payload
        with pytest.raises(FileNotFoundError):
            zinc.SharedRegion.open(name)
