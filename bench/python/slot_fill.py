"""Does the slot choice make large frames slower to fill? One process, no
consumer: the median time to fill a (1080, 1920, 3) uint8 frame (a 6 MB
memset) when frame f goes to slot f mod N (what a lossless zinc channel did
before layout 2) and when every frame reuses one slot (what a writer that
takes the most recently released slot does while the readers keep up), for
N = 1, 2, 4, 8.

    zinc channel    a zinc.Channel of N slots with no reader: writer.frame()
                    hands out the slot the core chooses (layout 2: the warmest
                    free one, here always the last), filled and committed
    memory ring     the cycle f mod N over N frames of a plain shared_memory
                    buffer (no zinc at all)
    memory reuse    one frame of that buffer, filled again and again

A row runs in blocks of consecutive frames (the cache only stays warm
within a block), and the blocks of all rows take turns, so that the load of
a shared machine hits them alike; the first 2 x 8 frames of a block are not
timed.

Usage: python bench/python/slot_fill.py [--frames=200] [--slots=1,2,4,8]
       [--name-prefix=bench-fill-PID]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from multiprocessing import shared_memory
from typing import Callable, Dict, List

import numpy as np
import zinc

SHAPE = (1080, 1920, 3)
BLOCKS = 5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200, help="timed frames per row")
    parser.add_argument("--slots", default="1,2,4,8")
    parser.add_argument("--name-prefix", default=f"bench-fill-{os.getpid()}")
    args = parser.parse_args()
    counts = [int(n) for n in args.slots.split(",") if n]
    most = max(counts)
    frame_bytes = int(np.prod(SHAPE))
    shm = shared_memory.SharedMemory(create=True, size=most * frame_bytes)
    views = [np.ndarray((most, *SHAPE), np.uint8, buffer=shm.buf)]
    writers = {
        n: zinc.Channel.create(f"{args.name_prefix}-{n}", np.uint8, SHAPE, slots=n, prefault=True)
        for n in counts
    }
    try:
        fills: Dict[str, Callable[[int], None]] = {}
        for n in counts:

            def zinc_ring(k: int, writer: zinc.ChannelWriter = writers[n]) -> None:
                with writer.frame() as frame:
                    start = time.perf_counter_ns()
                    frame.array.fill(k % 251)
                    times[current].append(time.perf_counter_ns() - start)

            def memory_ring(k: int, n: int = n) -> None:
                start = time.perf_counter_ns()
                views[0][k % n].fill(k % 251)
                times[current].append(time.perf_counter_ns() - start)

            fills[f"zinc channel, {n} slots"] = zinc_ring
            fills[f"memory ring, {n} slots"] = memory_ring

        def memory_reuse(k: int) -> None:
            start = time.perf_counter_ns()
            views[0][0].fill(k % 251)
            times[current].append(time.perf_counter_ns() - start)

        fills["memory reuse, 1 slot"] = memory_reuse
        times: Dict[str, List[int]] = {what: [] for what in fills}
        warmup = 2 * most  # frames of a block that fill the cache: not timed
        block = warmup + args.frames // BLOCKS
        k = 0
        for _ in range(BLOCKS):
            for current, fill in fills.items():
                for _ in range(block):
                    fill(k)
                    k += 1
                del times[current][-block : -block + warmup]
        print(
            f"median fill of a {frame_bytes:,}-byte frame, {args.frames // BLOCKS * BLOCKS} "
            "frames per row\n"
        )
        print("| slot choice | fill us |")
        print("|---|---:|")
        for what, ns in times.items():
            print(f"| {what} | {statistics.median(ns) / 1000:,.0f} |")
    finally:
        for writer in writers.values():
            writer.close()
        views.clear()
        shm.close()
        shm.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
