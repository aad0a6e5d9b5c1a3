"""Consumes a camera-like channel: the newest 640x480 RGB frame, zero copy.

The producer (examples/camera.cpp, or any writer that keeps the contract)
creates a typed channel NAME of dtype "|u1" and shape (480, 640, 3) in latest
mode (8 slots, 4 readers) and commits 60 frames per second. The first 8
bytes of a frame are its capture time (CLOCK_MONOTONIC nanoseconds, a
little-endian u64); every other byte of row r of frame s is (s + r) % 256.

This consumer joins (waiting up to 10 s for the channel to appear), reads
frames for SECONDS (default 3), or until it has read FRAMES frames when
--frames is given, or until the producer leaves, checks the pattern of a few
rows of every frame, and prints one line: frames read, frames skipped (the
newest frame replaced them before they were read), latency from capture to
receipt, the pattern check and the mean brightness.

    python camera_consumer.py NAME [SECONDS] [--frames FRAMES] [--remote]

With --remote, NAME is a copy of the producer's channel that zinc-bridge
writes on this machine (camera_remote_consumer.py sets that up): its frames
are numbered by that channel, so a frame's number in the producer's is read
from its own bytes (row 0), modulo 256, and skips are counted from that.
"""

from __future__ import annotations

import sys
import time
from typing import Any, List

import numpy as np

import zinc

SHAPE = (480, 640, 3)
CHECKED_ROWS = np.array([1, 100, 239, 358, 479])
JOIN_SECONDS = 10


def join(name: str) -> zinc.ChannelReader:
    """The reader, once the producer has created the channel."""
    try:
        reader = zinc.Channel.open_reader(name, timeout_ms=round(JOIN_SECONDS * 1000))
    except TimeoutError:
        raise SystemExit(f"python consumer: no channel {name!r} after {JOIN_SECONDS} s") from None
    if reader.dtype != np.uint8 or reader.shape != SHAPE or reader.mode != "latest":
        raise SystemExit(
            f"python consumer: {reader!r} is not a camera channel "
            f"(want dtype uint8, shape {SHAPE}, mode latest)"
        )
    return reader


def source_number(pixels: Any) -> int:
    """The frame's number in the producer's channel, modulo 256: the value
    of row 0's bytes after the timestamp."""
    return int(pixels[0].reshape(-1)[8])


def pattern_ok(pixels: Any, sequence: int) -> bool:
    """Rows r hold (sequence + r) % 256, except the timestamp's 8 bytes."""
    expected = ((sequence + CHECKED_ROWS) % 256).astype(np.uint8)
    rows_ok = bool((pixels[CHECKED_ROWS] == expected[:, None, None]).all())
    first_row = pixels[0].reshape(-1)[8:]
    return rows_ok and bool((first_row == sequence % 256).all())


def main() -> int:
    remote = "--remote" in sys.argv
    args = [arg for arg in sys.argv[1:] if arg != "--remote"]
    enough = None  # stop after this many frames
    if "--frames" in args:
        at = args.index("--frames")
        enough = int(args[at + 1])
        del args[at : at + 2]
    name = args[0]
    seconds = float(args[1]) if len(args) > 1 else 3.0
    latencies_ns: List[int] = []
    brightness: List[float] = []
    skipped = 0
    bad: List[int] = []
    last = None
    with join(name) as reader:
        end = time.monotonic() + seconds
        for frame in reader.frames(timeout_ms=1000):
            received = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
            pixels = frame.array  # the shared slot itself, read-only
            captured = int(pixels.reshape(-1)[:8].view("<u8")[0])
            latencies_ns.append(received - captured)
            number = source_number(pixels) if remote else frame.sequence
            if last is not None:
                skipped += (number - last - 1) % 256 if remote else number - last - 1
            last = number
            if not pattern_ok(pixels, number):
                bad.append(frame.sequence)
            brightness.append(float(pixels[::4, ::4].mean()))
            if time.monotonic() >= end or len(latencies_ns) == enough:
                break
    who = "python consumer"
    if remote:
        who += " (remote, through two zinc-bridge processes)"
    if not latencies_ns:
        print(f"{who}: no frames")
        return 1
    p50, p99 = np.percentile(np.array(latencies_ns) / 1e6, [50, 99])
    pattern = "pattern ok" if not bad else f"pattern WRONG in {len(bad)} frames (first {bad[0]})"
    print(
        f"{who}: {len(latencies_ns)} frames, {skipped} skipped, "
        f"latency p50 {p50:.2f} ms p99 {p99:.2f} ms, {pattern}, "
        f"mean brightness {np.mean(brightness):.1f}"
    )
    return 0 if not bad else 1


if __name__ == "__main__":
    sys.exit(main())
