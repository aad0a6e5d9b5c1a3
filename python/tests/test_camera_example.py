"""python/examples/camera_consumer.py reads a camera-like channel, here fed
by a Python producer (tests/camera_producer.py) that keeps the contract of
examples/camera.cpp."""

from __future__ import annotations

import re
from typing import Callable

import pytest
from conftest import PYTHON_DIR, TESTS_DIR, NameFactory, Peer, object_path, unlink_region

CONSUMER = str(PYTHON_DIR / "examples" / "camera_consumer.py")
REMOTE_CONSUMER = str(PYTHON_DIR / "examples" / "camera_remote_consumer.py")
PRODUCER = str(TESTS_DIR / "camera_producer.py")

SUMMARY = re.compile(
    r"python consumer(?: \(remote, through two zinc-bridge processes\))?: "
    r"(\d+) frames, (\d+) skipped, latency p50 ([\d.]+) ms p99 ([\d.]+) ms, "
    r"pattern ok, mean brightness ([\d.]+)"
)


def test_consumer_reads_a_second_of_frames_and_checks_them(
    region_name: NameFactory, peers: Callable[..., Peer]
) -> None:
    name = region_name()
    # The consumer starts first and waits for the channel to appear.
    consumer = peers(CONSUMER, name, "1")
    producer = peers(PRODUCER, name, "30")  # until the consumer is done
    assert producer.readline().strip() == "ready", producer.finish().stderr
    result = consumer.finish(timeout=30)
    assert result.returncode == 0, result.stdout + result.stderr
    match = SUMMARY.fullmatch(result.stdout.strip())
    assert match, result.stdout
    frames, skipped = int(match.group(1)), int(match.group(2))
    p50, p99, brightness = (float(match.group(i)) for i in (3, 4, 5))
    # About 60 frames in the second; generous bounds for a loaded machine.
    assert 10 <= frames <= 90 and skipped < frames
    print(result.stdout.strip())
    assert 0 <= p50 <= p99 < 1000
    assert 120 < brightness < 135
    finished = producer.finish_with_input("stop\n", timeout=30)
    assert finished.returncode == 0, finished.stderr
    assert not object_path(name).exists()


def test_consumer_gives_up_when_no_channel_appears(
    region_name: NameFactory, peers: Callable[..., Peer]
) -> None:
    name = region_name()
    code = (
        "import runpy, sys\n"
        f"sys.argv = [{CONSUMER!r}, {name!r}, '1']\n"
        "consumer = runpy.run_path(sys.argv[0], run_name='camera_consumer')\n"
        "consumer['main'].__globals__['JOIN_SECONDS'] = 0.2  # not 10 s\n"
        "sys.exit(consumer['main']())\n"
    )
    result = peers("-c", code).finish(timeout=30)
    assert result.returncode != 0
    assert f"python consumer: no channel {name!r} after 0.2 s" in result.stderr


def test_remote_consumer_reads_through_two_bridges(
    region_name: NameFactory, peers: Callable[..., Peer]
) -> None:
    """camera_remote_consumer.py: the producer's frames cross two zinc-bridge
    processes and a TCP connection, and arrive whole (the consumer checks
    each frame's pattern against the number it carries in its bytes)."""
    pytest.importorskip("zenoh")
    name = region_name()
    remote = f"{name}-remote"  # the subscribing bridge's channel (the script's naming)
    producer = peers(PRODUCER, name, "60")
    assert producer.readline().strip() == "ready", producer.finish().stderr
    try:
        # Twenty frames, however long the bridges take on a loaded machine
        # (a second's worth was 2 frames once, under the mutation harness);
        # 50 s is a bound, not a speed.
        result = peers(REMOTE_CONSUMER, name, "50", "--frames", "20").finish(timeout=90)
        remote_left = object_path(remote).exists()
    finally:
        unlink_region(remote)
    assert result.returncode == 0, result.stdout + result.stderr
    summary = [line for line in result.stdout.splitlines() if line.startswith("python consumer")]
    assert summary and "(remote, through two zinc-bridge processes)" in summary[0], result.stdout
    match = SUMMARY.fullmatch(summary[0].strip())
    assert match, summary[0]
    frames, skipped = int(match.group(1)), int(match.group(2))
    assert frames == 20 and skipped < frames
    assert 120 < float(match.group(5)) < 135
    assert not remote_left, "the subscribing bridge left its channel behind"
    finished = producer.finish_with_input("stop\n", timeout=30)
    assert finished.returncode == 0, finished.stderr
