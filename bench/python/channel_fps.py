"""Frames per second of 1080p RGB frames between two Python processes.

A frame is a (1080, 1920, 3) uint8 array (6,220,800 bytes). The parent
process produces frames and a spawned child consumes them; every transport
is lossless with room for 4 frames in flight:

    zinc-frame      zinc.Channel (lossless, 4 slots): the producer renders each
                    frame straight into the slot (writer.frame()); the
                    consumer reads it in place (reader.recv()). No copy.
    zinc-send       the same channel, but the producer renders into an array of
                    its own and writer.send() copies it into the slot.
    mp-queue        multiprocessing.Queue(maxsize=4) of the arrays, pickled.
    shm-index-queue multiprocessing.shared_memory with 4 frame slots; a Queue
                    carries the index of each filled slot to the consumer and
                    another one carries it back when the consumer is done.

"Rendering" a frame k is filling all its bytes with k % 251 (a 6 MB memset,
what a camera driver or a decoder writing the frame costs at least). The
consumer "touches" each frame: it checks that the first and the last byte
are k % 251 and sums one row (1920 x 3 bytes). It counts the frames after
10 warm-up frames and the time from the first to the last of them.

Usage: python bench/python/channel_fps.py [--seconds=3 | --quick] [--json=FILE]
       [--transports=zinc-frame,zinc-send,mp-queue,shm-index-queue]
       [--name-prefix=bench-fps-PID]
Prints a markdown table; --json appends one JSON line per transport
(bench "python-channel-fps"). zinc must be importable (scripts/bench sets
PYTHONPATH and ZINC_LIBRARY).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import time
from multiprocessing import shared_memory
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np

import zinc

SHAPE = (1080, 1920, 3)
FRAME_BYTES = int(np.prod(SHAPE))
SLOTS = 4
WARMUP = 10
TIMEOUT_S = 30.0


def render(frame: np.ndarray[Any, Any], k: int) -> None:
    frame.fill(k % 251)


class Consumer:
    """Counts and touches frames; the result goes back to the parent."""

    def __init__(self) -> None:
        self.frames = 0
        self.bad = 0
        self.start = 0.0
        self.end = 0.0
        self.row_sum = 0

    def touch(self, k: int, frame: np.ndarray[Any, Any]) -> None:
        if frame[0, 0, 0] != k % 251 or frame[-1, -1, -1] != k % 251:
            self.bad += 1
        self.row_sum += int(frame[SHAPE[0] // 2].sum())
        if k == WARMUP:
            self.start = time.perf_counter()
        if k >= WARMUP:
            self.frames += 1
            self.end = time.perf_counter()

    def result(self) -> Tuple[int, float, int]:
        # Frames after the first timed one, over the time between them.
        return self.frames - 1, self.end - self.start, self.bad


# ---- consumers (run in the child) ---------------------------------------------


def consume_zinc(name: str, ready: Any, results: Any) -> None:
    consumer = Consumer()
    with zinc.Channel.open_reader(name) as reader:
        ready.set()
        for frame in reader.frames(timeout_ms=int(TIMEOUT_S * 1000)):
            consumer.touch(frame.sequence, frame.array)
    results.put(consumer.result())


def consume_queue(frames: Any, ready: Any, results: Any) -> None:
    consumer = Consumer()
    ready.set()
    while (item := frames.get(timeout=TIMEOUT_S)) is not None:
        k, frame = item
        consumer.touch(k, frame)
    results.put(consumer.result())


def consume_shm(shm_name: str, filled: Any, free: Any, ready: Any, results: Any) -> None:
    consumer = Consumer()
    shm = shared_memory.SharedMemory(name=shm_name)
    slots = np.ndarray((SLOTS, *SHAPE), np.uint8, buffer=shm.buf)
    ready.set()
    while (item := filled.get(timeout=TIMEOUT_S)) is not None:
        k, index = item
        consumer.touch(k, slots[index])
        free.put(index)
    del slots
    shm.close()
    results.put(consumer.result())


# ---- producers (run in the parent) ---------------------------------------------


def produce_for(seconds: float, one_frame: Callable[[int], None]) -> int:
    """Warm-up frames, then frames for `seconds` (two at least, so that a
    loaded machine still times something); returns how many in all."""
    k = 0
    end: Optional[float] = None
    while end is None or time.perf_counter() < end or k < WARMUP + 2:
        one_frame(k)
        k += 1
        if k == WARMUP:
            end = time.perf_counter() + seconds
    return k


def start_consumer(ctx: Any, target: Callable[..., None], *args: Any) -> Tuple[Any, Any]:
    ready, results = ctx.Event(), ctx.Queue()
    child = ctx.Process(target=target, args=(*args, ready, results), daemon=True)
    child.start()
    if not ready.wait(60):
        child.kill()
        raise RuntimeError(f"{target.__name__} did not start")
    return child, results


def finish(child: Any, results: Any) -> Tuple[int, float, int]:
    result: Tuple[int, float, int] = results.get(timeout=TIMEOUT_S)
    child.join(TIMEOUT_S)
    if child.exitcode != 0:
        raise RuntimeError(f"consumer failed with exit code {child.exitcode}")
    return result


def bench_zinc(ctx: Any, seconds: float, prefix: str, in_place: bool) -> Tuple[int, float, int]:
    name = f"{prefix}-{'frame' if in_place else 'send'}"
    writer = zinc.Channel.create(name, np.uint8, SHAPE, slots=SLOTS, max_readers=1, prefault=True)
    with writer:
        child, results = start_consumer(ctx, consume_zinc, name)
        own = np.empty(SHAPE, np.uint8)

        def one_frame(k: int) -> None:
            if in_place:
                with writer.frame() as frame:
                    render(frame.array, k)
            else:
                render(own, k)
                writer.send(own)

        produce_for(seconds, one_frame)
    return finish(child, results)  # the writer's close ends the consumer's loop


def bench_queue(ctx: Any, seconds: float, prefix: str) -> Tuple[int, float, int]:
    frames = ctx.Queue(maxsize=SLOTS)
    child, results = start_consumer(ctx, consume_queue, frames)

    def one_frame(k: int) -> None:
        frame = np.empty(SHAPE, np.uint8)  # a new array per frame, as a producer makes them
        render(frame, k)
        frames.put((k, frame))

    produce_for(seconds, one_frame)
    frames.put(None)
    return finish(child, results)


def bench_shm(ctx: Any, seconds: float, prefix: str) -> Tuple[int, float, int]:
    shm = shared_memory.SharedMemory(create=True, size=SLOTS * FRAME_BYTES)
    # In a list, so that the finally block can drop the view before the close
    # (SharedMemory.close() refuses while a view exists).
    views = [np.ndarray((SLOTS, *SHAPE), np.uint8, buffer=shm.buf)]
    filled, free = ctx.Queue(), ctx.Queue()
    for index in range(SLOTS):
        free.put(index)
    try:
        child, results = start_consumer(ctx, consume_shm, shm.name, filled, free)

        def one_frame(k: int) -> None:
            index = free.get(timeout=TIMEOUT_S)
            render(views[0][index], k)
            filled.put((k, index))

        produce_for(seconds, one_frame)
        filled.put(None)
        return finish(child, results)
    finally:
        views.clear()
        shm.close()
        shm.unlink()


TRANSPORTS: Dict[str, Tuple[str, Callable[[Any, float, str], Tuple[int, float, int]]]] = {
    "zinc-frame": (
        "zinc.Channel, rendered into the slot (frame())",
        lambda ctx, s, p: bench_zinc(ctx, s, p, in_place=True),
    ),
    "zinc-send": (
        "zinc.Channel, rendered then copied in (send())",
        lambda ctx, s, p: bench_zinc(ctx, s, p, in_place=False),
    ),
    "mp-queue": ("multiprocessing.Queue of arrays (pickled)", bench_queue),
    "shm-index-queue": ("shared_memory slots + Queue of slot indices", bench_shm),
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="timed seconds per transport")
    parser.add_argument("--quick", action="store_true", help="same as --seconds=0.5")
    parser.add_argument("--json", default="", help="append JSON lines to this file")
    parser.add_argument("--transports", default=",".join(TRANSPORTS))
    parser.add_argument("--name-prefix", default=f"bench-fps-{os.getpid()}")
    args = parser.parse_args()
    seconds = 0.5 if args.quick else args.seconds
    wanted = [t for t in args.transports.split(",") if t]
    unknown = [t for t in wanted if t not in TRANSPORTS]
    if unknown:
        parser.error(f"unknown transports {unknown}; choose from {list(TRANSPORTS)}")
    ctx = mp.get_context("spawn")
    lines: List[Dict[str, Any]] = []
    print(f"1080p RGB frames ({FRAME_BYTES:,} bytes), {seconds:g} s per transport\n")
    print("| transport | frames/s | GB/s | frames | how a frame moves |")
    print("|---|---:|---:|---:|---|")
    for key in wanted:
        label, run = TRANSPORTS[key]
        frames, elapsed, bad = run(ctx, seconds, args.name_prefix)
        if bad:
            raise RuntimeError(f"{key}: {bad} frames did not hold what was rendered")
        fps = frames / elapsed if elapsed > 0 else 0.0
        line = {
            "bench": "python-channel-fps",
            "key": key,
            "label": label,
            "frame_bytes": FRAME_BYTES,
            "frames": frames,
            "seconds": elapsed,
            "fps": fps,
            "gb_per_s": fps * FRAME_BYTES / 1e9,
        }
        lines.append(line)
        print(
            f"| {key} | {fps:,.0f} | {line['gb_per_s']:.2f} | {frames} | {label} |",
            flush=True,
        )
    if args.json:
        with open(args.json, "a") as out:
            for line in lines:
                out.write(json.dumps(line) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
