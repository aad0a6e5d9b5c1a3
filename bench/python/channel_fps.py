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
    iceoryx2        (only when asked for, and installed) iceoryx2's Python
                    publish-subscribe, lossless (no safe overflow, the
                    publisher retries until delivered) with a subscriber
                    buffer of 4: the producer renders into a loaned sample
                    (loan_slice_uninit) and sends it; the consumer sleeps
                    on an iceoryx2 event the producer notifies after each
                    send, then reads the samples in place.

--slots=1,2,4,8 runs every transport with each of those numbers of frames in
flight instead of 4 (the zinc channel's slots, the Queue's size, the
shared_memory slots, iceoryx2's subscriber buffer). The fill column is the
producer's median time to render one frame: what a frame costs to write
into memory that the slot choice keeps warm in the cache, or not.

"Rendering" a frame k is filling all its bytes with k % 251 (a 6 MB memset,
what a camera driver or a decoder writing the frame costs at least). The
consumer "touches" each frame: it checks that the first and the last byte
are k % 251 and sums one row (1920 x 3 bytes). It counts the frames after
10 warm-up frames and the time from the first to the last of them.

Usage: python bench/python/channel_fps.py [--seconds=3 | --quick] [--json=FILE]
       [--transports=zinc-frame,zinc-send,mp-queue,shm-index-queue[,iceoryx2]]
       [--slots=4] [--name-prefix=bench-fps-PID]
Prints a markdown table; --json appends one JSON line per transport
(bench "python-channel-fps"). zinc must be importable (scripts/bench installs
./python into .venv first).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import sys
import time
from multiprocessing import shared_memory
from typing import Any, Callable, Dict, List, Optional, Tuple

import numpy as np
import zinc

SHAPE = (1080, 1920, 3)
FRAME_BYTES = int(np.prod(SHAPE))
WARMUP = 10
TIMEOUT_S = 30.0

# The producer's render times of this run, in ns.
FILL_NS: List[int] = []


def render(frame: np.ndarray[Any, Any], k: int) -> None:
    start = time.perf_counter_ns()
    frame.fill(k % 251)
    FILL_NS.append(time.perf_counter_ns() - start)


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


def consume_shm(
    shm_name: str, slot_count: int, filled: Any, free: Any, ready: Any, results: Any
) -> None:
    consumer = Consumer()
    shm = shared_memory.SharedMemory(name=shm_name)
    slots = np.ndarray((slot_count, *SHAPE), np.uint8, buffer=shm.buf)
    ready.set()
    while (item := filled.get(timeout=TIMEOUT_S)) is not None:
        k, index = item
        consumer.touch(k, slots[index])
        free.put(index)
    del slots
    shm.close()
    results.put(consumer.result())


def iceoryx2_service(node: Any, name: str, slots: int) -> Any:
    import ctypes

    import iceoryx2 as iox2

    return (
        node.service_builder(iox2.ServiceName.new(name))
        .publish_subscribe(iox2.Slice[ctypes.c_uint8])
        .enable_safe_overflow(False)
        .subscriber_max_buffer_size(slots)
        .subscriber_max_borrowed_samples(1)
        .history_size(0)
        .open_or_create()
    )


def payload_array(sample: Any) -> np.ndarray[Any, Any]:
    import ctypes

    raw = (ctypes.c_uint8 * FRAME_BYTES).from_address(sample.payload_ptr)
    return np.frombuffer(raw, np.uint8).reshape(SHAPE)


def consume_iceoryx2(name: str, slots: int, done: Any, ready: Any, results: Any) -> None:
    import iceoryx2 as iox2

    consumer = Consumer()
    node = iox2.NodeBuilder.new().create(iox2.ServiceType.Ipc)
    subscriber = (
        iceoryx2_service(node, name, slots).subscriber_builder().buffer_size(slots).create()
    )
    event = node.service_builder(iox2.ServiceName.new(name + "-sent")).event().open_or_create()
    listener = event.listener_builder().create()
    ready.set()
    k = 0  # lossless: the samples come in the order they were sent
    while True:
        listener.timed_wait(iox2.Duration.from_millis(10))
        received = False
        while (sample := subscriber.receive()) is not None:
            received = True
            pixels = payload_array(sample)
            consumer.touch(k, pixels)
            k += 1
            del pixels
            sample.delete()
        if not received and done.is_set():
            break
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


Result = Tuple[int, float, int]


def bench_zinc(ctx: Any, seconds: float, prefix: str, slots: int, in_place: bool) -> Result:
    name = f"{prefix}-{'frame' if in_place else 'send'}-{slots}"
    writer = zinc.Channel.create(name, np.uint8, SHAPE, slots=slots, max_readers=1, prefault=True)
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


def bench_queue(ctx: Any, seconds: float, prefix: str, slots: int) -> Result:
    frames = ctx.Queue(maxsize=slots)
    child, results = start_consumer(ctx, consume_queue, frames)

    def one_frame(k: int) -> None:
        frame = np.empty(SHAPE, np.uint8)  # a new array per frame, as a producer makes them
        render(frame, k)
        frames.put((k, frame))

    produce_for(seconds, one_frame)
    frames.put(None)
    return finish(child, results)


def bench_shm(ctx: Any, seconds: float, prefix: str, slots: int) -> Result:
    shm = shared_memory.SharedMemory(create=True, size=slots * FRAME_BYTES)
    # In a list, so that the finally block can drop the view before the close
    # (SharedMemory.close() refuses while a view exists).
    views = [np.ndarray((slots, *SHAPE), np.uint8, buffer=shm.buf)]
    filled, free = ctx.Queue(), ctx.Queue()
    for index in range(slots):
        free.put(index)
    try:
        child, results = start_consumer(ctx, consume_shm, shm.name, slots, filled, free)

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


def bench_iceoryx2(ctx: Any, seconds: float, prefix: str, slots: int) -> Result:
    import iceoryx2 as iox2

    name = f"{prefix}-iox2-{slots}"
    node = iox2.NodeBuilder.new().create(iox2.ServiceType.Ipc)
    publisher = (
        iceoryx2_service(node, name, slots)
        .publisher_builder()
        .initial_max_slice_len(FRAME_BYTES)
        .max_loaned_samples(1)
        .backpressure_strategy(iox2.BackpressureStrategy.RetryUntilDelivered)
        .create()
    )
    event = node.service_builder(iox2.ServiceName.new(name + "-sent")).event().open_or_create()
    notifier = event.notifier_builder().create()
    done = ctx.Event()
    child, results = start_consumer(ctx, consume_iceoryx2, name, slots, done)

    def one_frame(k: int) -> None:
        sample = publisher.loan_slice_uninit(FRAME_BYTES)
        pixels = payload_array(sample)
        render(pixels, k)
        del pixels
        sample.assume_init().send()
        notifier.notify()

    produce_for(seconds, one_frame)
    done.set()
    notifier.notify()
    result = finish(child, results)
    publisher.delete()
    return result


Bench = Callable[[Any, float, str, int], Result]

TRANSPORTS: Dict[str, Tuple[str, Bench]] = {
    "zinc-frame": (
        "zinc.Channel, rendered into the slot (frame())",
        lambda ctx, s, p, n: bench_zinc(ctx, s, p, n, in_place=True),
    ),
    "zinc-send": (
        "zinc.Channel, rendered then copied in (send())",
        lambda ctx, s, p, n: bench_zinc(ctx, s, p, n, in_place=False),
    ),
    "mp-queue": ("multiprocessing.Queue of arrays (pickled)", bench_queue),
    "shm-index-queue": ("shared_memory slots + Queue of slot indices", bench_shm),
    "iceoryx2": ("iceoryx2 publish-subscribe, rendered into a loaned sample", bench_iceoryx2),
}
DEFAULT_TRANSPORTS = ["zinc-frame", "zinc-send", "mp-queue", "shm-index-queue"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="timed seconds per transport")
    parser.add_argument("--quick", action="store_true", help="same as --seconds=0.5")
    parser.add_argument("--json", default="", help="append JSON lines to this file")
    parser.add_argument("--transports", default=",".join(DEFAULT_TRANSPORTS))
    parser.add_argument("--slots", default="4", help="frames in flight, e.g. 1,2,4,8")
    parser.add_argument("--name-prefix", default=f"bench-fps-{os.getpid()}")
    args = parser.parse_args()
    seconds = 0.5 if args.quick else args.seconds
    wanted = [t for t in args.transports.split(",") if t]
    unknown = [t for t in wanted if t not in TRANSPORTS]
    if unknown:
        parser.error(f"unknown transports {unknown}; choose from {list(TRANSPORTS)}")
    slot_counts = [int(n) for n in args.slots.split(",") if n]
    ctx = mp.get_context("spawn")
    lines: List[Dict[str, Any]] = []
    print(f"1080p RGB frames ({FRAME_BYTES:,} bytes), {seconds:g} s per transport\n")
    print("| transport | slots | frames/s | GB/s | fill us | frames | how a frame moves |")
    print("|---|---:|---:|---:|---:|---:|---|")
    for key in wanted:
        label, run = TRANSPORTS[key]
        for slots in slot_counts:
            FILL_NS.clear()
            frames, elapsed, bad = run(ctx, seconds, args.name_prefix, slots)
            if bad:
                raise RuntimeError(f"{key}: {bad} frames did not hold what was rendered")
            fps = frames / elapsed if elapsed > 0 else 0.0
            fill_us = statistics.median(FILL_NS[WARMUP:] or FILL_NS) / 1000
            line = {
                "bench": "python-channel-fps",
                "key": key,
                "label": label,
                "slots": slots,
                "frame_bytes": FRAME_BYTES,
                "frames": frames,
                "seconds": elapsed,
                "fps": fps,
                "gb_per_s": fps * FRAME_BYTES / 1e9,
                "fill_us": fill_us,
            }
            lines.append(line)
            print(
                f"| {key} | {slots} | {fps:,.0f} | {line['gb_per_s']:.2f} | {fill_us:,.0f} "
                f"| {frames} | {label} |",
                flush=True,
            )
    if args.json:
        with open(args.json, "a") as out:
            for line in lines:
                out.write(json.dumps(line) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
