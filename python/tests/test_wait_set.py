"""zinc.WaitSet: one wait for many regions and channels (docs/spec.md section 11),
in this process and against writer processes (tests/channel_peer.py), some of
them killed with SIGKILL while the set waits."""

from __future__ import annotations

import asyncio
import os
import selectors
import signal
import threading
import time
import zlib
from typing import Callable, Dict, Hashable, List, Set

import numpy as np
import pytest
from channel_peer import expected_crc
from conftest import TESTS_DIR, NameFactory, Peer
from hypothesis import given, settings
from hypothesis import strategies as st
from test_wait import ctrl_c_ends_the_wait, wait_until_blocked_in_futex

import zinc

PEER = str(TESTS_DIR / "channel_peer.py")
LONG_MS = 10_000  # only a lost wake-up (or a hang) waits this long


def test_empty_set_times_out_with_an_empty_list() -> None:
    with zinc.WaitSet() as ws:
        assert ws.wait(0) == []
        assert ws.wait(10) == []


def test_notified_region_is_reported_by_its_key(region_name: NameFactory) -> None:
    with (
        zinc.SharedRegion.create(region_name(), zinc.PAGE_SIZE) as a,
        zinc.SharedRegion.create(region_name(), zinc.PAGE_SIZE) as b,
        zinc.WaitSet() as ws,
    ):
        ws.add(a, key="a")
        ws.add(b)
        assert ws.wait(0) == []
        b.notify()
        assert ws.wait(LONG_MS) == [b]  # the key defaults to the member
        assert ws.wait(0) == []  # reported once
        a.notify()
        assert ws.wait(LONG_MS) == ["a"]


def test_reader_is_ready_until_its_frame_is_read(region_name: NameFactory) -> None:
    name = region_name()
    with (
        zinc.Channel.create(name, "|u1", (16,)) as writer,
        zinc.Channel.open_reader(name) as reader,
        zinc.WaitSet() as ws,
    ):
        ws.add(reader, key=1)
        assert ws.wait(0) == []
        writer.send(np.arange(16, dtype=np.uint8))
        assert ws.wait(LONG_MS) == [1]
        assert ws.wait(0) == [1]  # level-triggered
        frame = reader.recv(0)
        assert frame is not None
        assert ws.wait(0) == []  # a reader that holds a frame is not ready
        frame.release()
        assert ws.wait(0) == []


def test_lossless_writer_is_ready_when_a_reader_makes_room(region_name: NameFactory) -> None:
    name = region_name()
    with zinc.Channel.create(name, "|u1", (8,), slots=2, max_readers=1) as writer:
        with zinc.Channel.open_reader(name) as reader, zinc.WaitSet() as ws:
            ws.add(writer, key="room")
            assert ws.wait(0) == ["room"]
            writer.send(np.zeros(8, np.uint8))
            writer.send(np.zeros(8, np.uint8))
            assert ws.wait(0) == []
            got: List[List[Hashable]] = []
            waiter = threading.Thread(target=lambda: got.append(ws.wait(LONG_MS)))
            waiter.start()
            frame = reader.recv(0)
            assert frame is not None
            frame.release()
            waiter.join()
            assert got == [["room"]]


def test_membership_errors_are_clear(region_name: NameFactory) -> None:
    with zinc.SharedRegion.create(region_name(), zinc.PAGE_SIZE) as region, zinc.WaitSet() as ws:
        with pytest.raises(TypeError, match="SharedRegion, ChannelReader or ChannelWriter"):
            ws.add("not a member")  # type: ignore[arg-type]
        with pytest.raises(KeyError):
            ws.remove(region)
        ws.add(region)
        with pytest.raises(ValueError, match="already"):
            ws.add(region, key=2)
        assert region in ws and len(ws) == 1
        ws.remove(region)
        assert region not in ws and len(ws) == 0
        region.close()
        with pytest.raises(ValueError, match="closed"):
            ws.add(region)
    with pytest.raises(ValueError, match="wait set is closed"):
        ws.wait(0)


def test_close_from_another_thread_ends_a_wait() -> None:
    ws = zinc.WaitSet()
    outcome: List[BaseException] = []
    started = threading.Event()

    def wait() -> None:
        started.set()
        try:
            ws.wait(None)
        except BaseException as e:  # noqa: BLE001 - the test inspects it
            outcome.append(e)

    waiter = threading.Thread(target=wait)
    waiter.start()
    started.wait()
    ws.close()
    waiter.join(timeout=LONG_MS / 1000)
    assert not waiter.is_alive()
    assert len(outcome) == 1 and isinstance(outcome[0], ValueError)
    ws.close()  # again: nothing


def test_member_closed_while_in_the_set_is_reported_once_and_leaves(
    region_name: NameFactory,
) -> None:
    name = region_name()
    with zinc.Channel.create(name, "|u1", (8,)) as _writer, zinc.WaitSet() as ws:
        reader = zinc.Channel.open_reader(name)
        ws.add(reader, key="r")
        got: List[List[Hashable]] = []
        waiter = threading.Thread(target=lambda: got.append(ws.wait(LONG_MS)))
        waiter.start()
        reader.close()
        waiter.join()
        assert got == [["r"]]
        assert len(ws) == 0
        assert ws.wait(0) == []


def test_fileno_is_readable_while_a_member_is_ready(region_name: NameFactory) -> None:
    with zinc.SharedRegion.create(region_name(), zinc.PAGE_SIZE) as region, zinc.WaitSet() as ws:
        ws.add(region, key="r")
        with selectors.DefaultSelector() as selector:
            selector.register(ws.fileno(), selectors.EVENT_READ)
            assert selector.select(0) == []
            region.notify()
            assert len(selector.select(LONG_MS / 1000)) == 1
            assert ws.wait(0) == ["r"]
            assert selector.select(0) == []  # the wait cleared it


def test_wait_async_serves_three_channels_from_one_set(region_name: NameFactory) -> None:
    names = [region_name() for _ in range(3)]
    writers = [zinc.Channel.create(n, "<u4", (4,)) for n in names]
    readers = [zinc.Channel.open_reader(n) for n in names]
    try:

        async def consume() -> Dict[str, List[int]]:
            seen: Dict[str, List[int]] = {n: [] for n in names}
            with zinc.WaitSet() as ws:
                for n, reader in zip(names, readers):
                    ws.add(reader, key=n)
                while sum(len(v) for v in seen.values()) < 3 * 5:
                    for key in await ws.wait_async(LONG_MS):
                        reader = readers[names.index(str(key))]
                        frame = reader.recv(0)
                        if frame is not None:
                            with frame:
                                seen[str(key)].append(int(frame.array[0]))
            return seen

        async def produce() -> None:
            for i in range(5):
                for writer in writers:
                    writer.send(np.full(4, i, np.uint32))
                await asyncio.sleep(0)

        async def main() -> Dict[str, List[int]]:
            consumer = asyncio.ensure_future(consume())
            await produce()
            return await asyncio.wait_for(consumer, LONG_MS / 1000)

        seen = asyncio.run(main())
        assert seen == {n: [0, 1, 2, 3, 4] for n in names}
    finally:
        for channel in readers + writers:
            channel.close()


def test_wait_async_times_out_with_an_empty_list() -> None:
    async def main() -> List[Hashable]:
        with zinc.WaitSet() as ws:
            return await ws.wait_async(20)

    assert asyncio.run(main()) == []


def test_close_ends_a_pending_wait_async() -> None:
    async def main() -> None:
        ws = zinc.WaitSet()
        pending = asyncio.ensure_future(ws.wait_async(None))
        await asyncio.sleep(0)  # let it reach add_reader
        ws.close()
        with pytest.raises(ValueError, match="closed"):
            await asyncio.wait_for(pending, LONG_MS / 1000)

    asyncio.run(main())


def test_polling_fallback_reports_a_frame(
    region_name: NameFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZINC_WAIT_SET", "poll")
    name = region_name()
    with (
        zinc.Channel.create(name, "|u1", (8,)) as writer,
        zinc.Channel.open_reader(name) as reader,
        zinc.WaitSet() as ws,
    ):
        from zinc._ffi import lib

        assert lib.zinc_wait_set_mechanism(ws._handle()) == lib.ZINC_WAIT_SET_POLL
        ws.add(reader, key="r")
        got: List[List[Hashable]] = []
        waiter = threading.Thread(target=lambda: got.append(ws.wait(LONG_MS)))
        waiter.start()
        writer.send(np.ones(8, np.uint8))
        waiter.join()
        assert got == [["r"]]


# ---- writer processes ----------------------------------------------------------


def expect_line(peer: Peer, prefix: str) -> str:
    line = peer.readline()
    if not line.startswith(prefix):
        result = peer.finish(timeout=5)
        raise AssertionError(f"expected {prefix!r} from {peer.args}, got {line!r}: {result.stderr}")
    return line


@settings(max_examples=4)
@given(
    writers=st.integers(1, 4),
    frames=st.integers(1, 40),
    slots=st.integers(1, 4),
    killed=st.sets(st.integers(0, 3), max_size=2),
    seed=st.integers(0, 2**31),
)
def test_one_set_reads_every_frame_of_several_writer_processes(
    region_name: NameFactory,
    peers: Callable[..., Peer],
    writers: int,
    frames: int,
    slots: int,
    killed: Set[int],
    seed: int,
) -> None:
    """Each writer process creates a lossless channel and writes `frames`
    frames; one set serves a reader of every channel. Writers in `killed`
    hang mid-frame after their frames and are killed with SIGKILL while the
    set waits: the frames they committed are all read, and the set goes on
    serving the others. The others close, and their readers end with EPIPE."""
    names = [region_name() for _ in range(writers)]
    killed = {k for k in killed if k < writers}
    procs = []
    for k, name in enumerate(names):
        args = [PEER, "write", name, f"--frames={frames}", f"--seed={seed + k}", "--create",
                "|u1", "32", f"--slots={slots}", "--max-readers=1", "--readers=1"]  # fmt: skip
        if k in killed:
            args.append("--hang")
        procs.append(peers(*args))
    for proc in procs:
        expect_line(proc, "ready")
    readers = [zinc.Channel.open_reader(n, timeout_ms=LONG_MS) for n in names]
    got: Dict[int, List[int]] = {k: [] for k in range(writers)}
    ended: Set[int] = set()
    try:
        with zinc.WaitSet() as ws:
            for k, reader in enumerate(readers):
                ws.add(reader, key=k)
            while len(ended) < writers:
                keys = ws.wait(LONG_MS)
                assert keys, f"no member ready in {LONG_MS} ms; ended {ended}, got {got}"
                for key in keys:
                    k = int(key)  # type: ignore[call-overload]
                    try:
                        frame = readers[k].recv(0)
                    except BrokenPipeError:
                        ws.remove(readers[k])
                        ended.add(k)
                        continue
                    if frame is None:
                        continue
                    with frame:
                        crc = zlib.crc32(frame.array)
                        assert crc == expected_crc("random", seed + k, frame.sequence, 32)
                        got[k].append(frame.sequence)
                    if k in killed and len(got[k]) == frames:
                        expect_line(procs[k], "mid-frame")
                        os.kill(procs[k].process.pid, 9)
                        procs[k].process.wait()
                        ws.remove(readers[k])
                        ended.add(k)
    finally:
        for reader in readers:
            reader.close()
    for k in range(writers):
        assert got[k] == list(range(frames)), k
    for k in set(range(writers)) - killed:
        assert procs[k].finish().returncode == 0


def _main_thread_waiter(peers: Callable[..., Peer], handler: str, timeout_ms: int) -> Peer:
    """A process whose main thread waits in an empty WaitSet with `handler`
    installed. Its slices are made a minute long, so only the signal itself
    can end the sleep early (the slice is the fallback for a signal that
    lands just before a sleep begins)."""
    return peers(
        "-c",
        "import signal, sys, time\n"
        "import zinc, zinc._wait_set\n"
        "zinc._wait_set._SLICE_MS = 60000\n"
        f"{handler}\n"
        "with zinc.WaitSet() as ws:\n"
        "    print('waiting', flush=True)\n"
        "    start = time.monotonic()\n"
        "    try:\n"
        f"        keys = ws.wait({timeout_ms})\n"
        "        print(f'returned {keys} after {time.monotonic() - start:.2f} s', flush=True)\n"
        "    except KeyboardInterrupt:\n"
        "        print('interrupted', flush=True)\n",
    )


def test_ctrl_c_ends_a_main_thread_wait_at_once(peers: Callable[..., Peer]) -> None:
    # 70 s: a Ctrl-C left to the end of the minute-long slice still exits.
    ctrl_c_ends_the_wait(_main_thread_waiter(peers, "", 600000), finish_timeout=70)


def test_a_signal_handler_runs_during_a_main_thread_wait_which_goes_on(
    peers: Callable[..., Peer],
) -> None:
    # The handler prints when it runs; the wait must then go on to its own
    # timeout (3 s), not return early and not wait for a slice to end.
    waiter = _main_thread_waiter(
        peers,
        "signal.signal(signal.SIGUSR1, lambda *_: print('handled', flush=True))",
        3000,
    )
    assert waiter.readline() == "waiting\n", waiter.finish().stderr
    wait_until_blocked_in_futex(waiter.process.pid)
    sent = time.monotonic()
    os.kill(waiter.process.pid, signal.SIGUSR1)
    assert waiter.readline() == "handled\n", waiter.finish().stderr
    assert time.monotonic() - sent < 2.5, "the handler waited for the end of a slice"
    result = waiter.finish(timeout=70)
    assert result.returncode == 0, result.stderr
    returned = result.stdout.strip()
    assert returned.startswith("returned [] after "), returned
    assert float(returned.split()[-2]) >= 2.9, f"the wait ended early: {returned}"
