"""Two zinc-bridge processes on the loopback interface carry a channel from
a C++ writer (bridge_writer.cpp) behind one to a Python reader
(bridge_reader.py) behind the other; every frame is checked whole (index,
CRC-32, pattern). Lossless and latest, bridges killed with SIGKILL and
restarted mid-stream, readers that stall. docs/bridge.md says what each
scenario pins down."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from bridge_support import (
    FIRST,
    Route,
    Start,
    bridge_argv,
    free_port,
    gaps,
    missing,
    start,
    start_reader,
    start_writer,
    summary,
    wait_until,
    write_seq,
    writer_binary,
)
from conftest import NameFactory

import zinc
from zinc.bridge import Bridge, BridgeConfig, Publish

pytest.importorskip(
    "zenoh",
    reason="eclipse-zenoh is not installed (python/requirements-dev.txt and the "
    "zinc-shm[bridge] extra install it)",
)

# Fixtures, imported so that pytest finds them here.
__all__ = ["start", "writer_binary"]


def test_lossless_frames_arrive_whole_and_in_order(
    region_name: NameFactory, start: Start, writer_binary: Path
) -> None:
    route = Route(region_name)
    frames = 3000
    receiving = route.subscriber(start)
    sending = route.publisher(start)
    reader = start_reader(start, route.dst, frames - 1, "--create", "lossless", "|u1", "4096")
    writer = start_writer(start, writer_binary, route.src, "lossless", frames, "4096")
    result = summary(reader)
    assert writer.finish() == 0
    assert result["corrupt"] == 0, result["first_corrupt"]
    assert result["indices"] == [[0, frames - 1]]
    for bridge in (sending, receiving):
        assert bridge.terminate() == 0
        assert f": {frames} frames, {frames * 4096} bytes" in bridge.log()  # the summary
    assert gaps(receiving.log()) == []
    assert f"{frames} frames, {frames * 4096} bytes, 0 gaps (0 frames missing)" in receiving.log()


def test_the_remote_reader_learns_dtype_and_shape(
    region_name: NameFactory, start: Start, writer_binary: Path
) -> None:
    """The subscribing bridge makes the local channel at the first frame,
    with the source's frame type: a reader that joins it sees <u2 (8, 4)."""
    route = Route(region_name)
    frames = 600
    route.subscriber(start)
    route.publisher(start)
    writer = start_writer(start, writer_binary, route.src, "lossless", frames, "<u2:8,4", hz=200)
    reader = start_reader(start, route.dst, frames - 1)
    result = summary(reader)
    assert writer.finish() == 0
    assert (result["dtype"], result["shape"], result["mode"]) == ("<u2", [8, 4], "lossless")
    assert result["corrupt"] == 0, result["first_corrupt"]
    # It joined late; from its first frame on it saw every one.
    assert len(result["indices"]) == 1 and result["indices"][0][1] == frames - 1


def test_latest_frames_arrive_whole_and_the_newest_last(
    region_name: NameFactory, start: Start, writer_binary: Path
) -> None:
    route = Route(region_name)
    frames = 2000
    receiving = route.subscriber(start)
    route.publisher(start)
    reader = start_reader(start, route.dst, frames - 1, "--create", "latest", "|u1", "4096")
    writer = start_writer(start, writer_binary, route.src, "latest", frames, "4096", hz=1000)
    result = summary(reader)
    assert writer.finish() == 0
    assert result["corrupt"] == 0, result["first_corrupt"]
    assert result["indices"][-1][1] == frames - 1
    assert result["mode"] == "latest"
    assert gaps(receiving.log()) == []  # latest never counts drops as gaps


def test_a_stalled_reader_holds_the_lossless_writer_back(
    region_name: NameFactory, start: Start, writer_binary: Path
) -> None:
    """Back-pressure goes the whole way: the reader stops releasing, the
    subscribing bridge blocks in frame(), Zenoh's queue and TCP fill, the
    publishing bridge's put blocks while it holds its frame, and the C++
    writer waits for room. Resumed, every frame arrives."""
    route = Route(region_name)
    frames = 3000
    receiving = route.subscriber(start)
    route.publisher(start)
    reader = start_reader(
        start, route.dst, frames - 1, "--create", "lossless", "|u1", "65536", "--stall-after", "20"
    )
    writer = start_writer(start, writer_binary, route.src, "lossless", frames, "65536")
    reader.wait_for("^stalled 19$")
    # The writer stops: its count no longer moves for a second.
    last = [-1, time.monotonic()]

    def settled() -> bool:
        now = write_seq(route.src)
        if now != last[0]:
            last[:] = [now, time.monotonic()]
        return time.monotonic() - last[1] > 1.0

    wait_until(settled, 60, "the writer to be held back")
    held_at = int(last[0])
    assert held_at < frames // 2, f"the writer went on to frame {held_at} of {frames}"
    assert not any(line.startswith("done") for line in writer.out)
    print(f"the writer was held back after {held_at} frames of 64 KiB")
    reader.send("resume\n")
    result = summary(reader)
    assert writer.finish() == 0
    assert result["corrupt"] == 0, result["first_corrupt"]
    assert result["indices"] == [[0, frames - 1]]
    assert gaps(receiving.log()) == []


def test_a_stalled_latest_reader_gets_the_newest_frame(
    region_name: NameFactory, start: Start, writer_binary: Path
) -> None:
    """Latest never waits: the writer finishes while the reader stalls, and
    the reader's next frame is the newest, not the one after its stall."""
    route = Route(region_name)
    frames = 1000
    route.subscriber(start)
    route.publisher(start)
    reader = start_reader(
        start, route.dst, frames - 1, "--create", "latest", "|u1", "4096", "--stall-after", "5"
    )
    writer = start_writer(start, writer_binary, route.src, "latest", frames, "4096", hz=1000)
    stalled_at = int(reader.wait_for(r"^stalled (\d+)$").group(1))
    assert writer.finish() == 0  # never held back
    reader.send("resume\n")
    result = summary(reader)
    assert result["corrupt"] == 0, result["first_corrupt"]
    assert result["indices"][-1][1] == frames - 1
    after = [run for run in result["indices"] if run[1] > stalled_at]
    # The frame after the stall is the newest the bridge had, far past it.
    assert after and after[0][0] > stalled_at + 100, result["indices"]


def test_a_publishing_bridge_killed_and_restarted_mid_stream(
    region_name: NameFactory, start: Start, writer_binary: Path
) -> None:
    """SIGKILL the bridge that reads the writer's channel: its reader entry
    is freed by the OFD-lock liveness rule, so the writer goes on and a new
    bridge joins again. The frames written meanwhile never crossed: the
    receiving bridge reports them as a gap, exactly."""
    route = Route(region_name, publisher_listens=True)
    frames = 3000
    receiving = route.subscriber(start)
    sending = route.publisher(start)
    reader = start_reader(start, route.dst, frames - 1, "--create", "lossless", "|u1", "1024")
    writer = start_writer(start, writer_binary, route.src, "lossless", frames, "1024", hz=500)
    wait_until(lambda: write_seq(route.dst) >= 500, 60, "500 frames through the bridges")
    sending.kill()
    # The receiving bridge connects to the new one's listener again by itself.
    route.publisher(start)
    result = summary(reader)
    assert writer.finish() == 0
    assert result["corrupt"] == 0, result["first_corrupt"]
    holes = missing(result["indices"], 0, frames - 1)
    assert holes, "nothing was lost while no bridge read the channel?"
    assert holes == gaps(receiving.log())  # every frame lost was reported
    assert sum(b - a + 1 for a, b in holes) < frames - 500
    assert result["indices"][-1][1] == frames - 1


def test_a_receiving_bridge_killed_and_restarted_mid_stream(
    region_name: NameFactory, start: Start, writer_binary: Path
) -> None:
    """SIGKILL the bridge that writes the reader's channel: a new bridge
    takes the dead one's writer role over (OFD-lock liveness) and the reader
    follows. Meanwhile the publishing bridge sees no subscriber and stops
    taking frames, so the writer is held back instead of losing frames; only
    frames in flight at the kill can be lost, and the new bridge reports
    where it resumed."""
    route = Route(region_name, publisher_listens=True)
    frames = 3000
    receiving = route.subscriber(start)
    sending = route.publisher(start)
    reader = start_reader(start, route.dst, frames - 1, "--create", "lossless", "|u1", "1024")
    writer = start_writer(start, writer_binary, route.src, "lossless", frames, "1024", hz=500)
    wait_until(lambda: write_seq(route.dst) >= 500, 60, "500 frames through the bridges")
    receiving.kill()
    # In flight: what the writer committed and the dead bridge never wrote
    # into dst (inside Zenoh's queue, TCP, the dead bridge's FIFO).
    in_flight = write_seq(route.src) - write_seq(route.dst)
    restarted = route.subscriber(start)
    result = summary(reader)
    assert writer.finish() == 0
    assert result["corrupt"] == 0, result["first_corrupt"]
    holes = missing(result["indices"], 0, frames - 1)
    lost = sum(b - a + 1 for a, b in holes)
    print(f"in flight at the kill: {in_flight} frames; lost: {lost} {holes}")
    # Up to 16 more: puts in the milliseconds before Zenoh saw the link close.
    assert lost <= in_flight + 16, f"{lost} frames lost, {in_flight} were in flight: {holes}"
    assert "no subscriber matches; holding frames back" in sending.log()
    resumed_at = int(restarted.wait_for(FIRST.pattern, stream="err").group(1))
    assert len(result["indices"]) <= 2
    if holes:
        assert holes == [[holes[0][0], resumed_at - 1]]
    assert result["indices"][-1][1] == frames - 1


def test_one_bridge_pair_carries_several_channels_both_ways(
    region_name: NameFactory, start: Start, writer_binary: Path, tmp_path: Path
) -> None:
    """Two lossless channels and a latest one from the first bridge to the
    second, and a lossless one back, every bridge configured by one file
    (TOML for one, JSON for the other)."""
    names = {n: (region_name(f"-{n}"), region_name(f"-{n}-remote")) for n in "abcd"}
    port = free_port()
    keys = {n: f"zinc/test/{names[n][0]}" for n in names}
    first = tmp_path / "first.toml"
    first.write_text(
        f'listen = ["tcp/127.0.0.1:{port}"]\n'
        + "".join(f'[[publish]]\nchannel = "{names[n][0]}"\nkey = "{keys[n]}"\n' for n in "abc")
        + f'[[subscribe]]\nkey = "{keys["d"]}"\nchannel = "{names["d"][1]}"\n'
    )
    second = tmp_path / "second.json"
    second.write_text(
        json.dumps(
            {
                "connect": [f"tcp/127.0.0.1:{port}"],
                "subscribe": [{"key": keys[n], "channel": names[n][1]} for n in "abc"],
                "publish": [{"channel": names["d"][0], "key": keys["d"]}],
            }
        )
    )
    bridges = [start(*bridge_argv("--config", str(path))) for path in (first, second)]
    for bridge in bridges:
        bridge.wait_for(
            "ready: 3 publications, 1 subscriptions|ready: 1 publications, 3 sub", stream="err"
        )
    frames = 1500
    modes = {"a": "lossless", "b": "lossless", "c": "latest", "d": "lossless"}
    readers = {
        n: start_reader(start, names[n][1], frames - 1, "--create", modes[n], "|u1", "512")
        for n in names
    }
    writers = [
        start_writer(start, writer_binary, names[n][0], modes[n], frames, "512", hz=1000)
        for n in names
    ]
    results = {n: summary(readers[n]) for n in names}
    for writer in writers:
        assert writer.finish() == 0
    for n, result in results.items():
        assert result["corrupt"] == 0, (n, result["first_corrupt"])
        assert result["indices"][-1][1] == frames - 1, (n, result["indices"])
        if modes[n] == "lossless":
            assert result["indices"] == [[0, frames - 1]], (n, result["indices"])
    for bridge in bridges:
        assert bridge.terminate() == 0
        assert gaps(bridge.log()) == []


def test_one_thread_and_a_wait_set_serve_every_publication(region_name: NameFactory) -> None:
    """Three published channels, one serving thread (asleep in a
    zinc.WaitSet on their readers), which forwards each channel's frames."""
    names = [region_name(f"-{i}") for i in range(3)]
    writers = [zinc.Channel.create(name, "<u4", (4,), mode="latest") for name in names]
    config = BridgeConfig(
        publish=[Publish(name, f"zinc/test/{name}") for name in names],
        listen=[f"tcp/127.0.0.1:{free_port()}"],
    )
    before = set(threading.enumerate())
    with Bridge(config) as bridge:
        started = [t.name for t in set(threading.enumerate()) - before]
        assert started.count("zinc-bridge publications") == 1, started
        assert not [
            n for n in started if n.startswith("zinc-bridge ") and n != "zinc-bridge publications"
        ]
        for sent in range(1, 4):
            for writer in writers:
                writer.send(np.full(4, sent, "<u4"))
            wait_until(
                lambda n=sent: all(s.frames == n for s in bridge.stats), 30, "every channel's frame"
            )
    for writer in writers:
        writer.close()
