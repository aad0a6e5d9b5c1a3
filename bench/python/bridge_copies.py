"""What each way of handing a frame to Zenoh, and of taking one from a Zenoh
sample, costs in Python: the copies zinc-bridge makes per frame, measured
one by one on 1080p frames (1080 x 1920 x 3 uint8, 6.2 MB), in one process.

Publisher side (a publisher with no subscriber, so a put() is the cost of
turning its argument into Zenoh's ZBytes plus a route lookup that finds
nobody; no network work is timed):

    tobytes                 frame.array.tobytes(): the slot into a new bytes
    put(bytes)              publisher.put() of that bytes (Zenoh copies it)
    ZBytes(bytes)           the same copy made explicitly, kept
    put(ZBytes)             publisher.put() of a ZBytes made before
    scratch[:] = slot       the slot into one bytearray reused every frame
    put(bytearray)          publisher.put() of that bytearray

and whole frames as the bridge sends them: tobytes + put(bytes) (the bridge
before it kept a bytearray), the same keeping the bytes as a latest
publication does for its settle, scratch + put(bytearray), and scratch +
ZBytes + put keeping the ZBytes (the bridge now).

Subscriber side (samples received over loopback TCP from a second session,
kept, then read again and again):

    to_bytes                sample.payload.to_bytes(): a new bytes
    slot[:] = bytes         np.frombuffer of that bytes copied into a slot
    len(payload)            the length alone, which the header check needs

and to_bytes + slot[:] = bytes, a frame as the bridge writes it.

Each row is the median over --rounds of one operation on one frame. The rows
of a side take turns, one round each, because a 6 MB allocation's cost
depends on what the allocator was given back before (a freed block trimmed
from the heap comes back as fresh pages, faulted in on first touch): timed
one after the other, the same row can measure 1 ms or 13 ms. Run with zinc's
venv (eclipse-zenoh and numpy importable).

Usage: python bench/python/bridge_copies.py [--rounds=200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from bridge_bench import FRAME_1080P, free_port, zenoh_session


def medians_us(
    operations: list[tuple[str, Callable[[], Any]]], rounds: int
) -> list[float]:
    """The median time of each operation, the operations taking turns."""
    times: list[list[int]] = [[] for _ in operations]
    for _ in range(rounds):
        for (_, operation), spent in zip(operations, times):
            start = time.perf_counter_ns()
            operation()
            spent.append(time.perf_counter_ns() - start)
    return [statistics.median(spent) / 1000 for spent in times]


def received_samples(zenoh: Any, frame: np.ndarray, count: int) -> list[Any]:
    """`count` samples of `frame` received over loopback TCP."""
    endpoint = f"tcp/127.0.0.1:{free_port()}"
    receiving = zenoh_session(listen=endpoint)
    sending = zenoh_session(connect=endpoint)
    subscriber = receiving.declare_subscriber(
        "bench/copies", zenoh.handlers.FifoChannel(count)
    )
    publisher = sending.declare_publisher(
        "bench/copies",
        congestion_control=zenoh.CongestionControl.BLOCK,
        reliability=zenoh.Reliability.RELIABLE,
    )
    deadline = time.monotonic() + 10
    while not publisher.matching_status.matching:
        if time.monotonic() > deadline:
            raise TimeoutError("the receiving session did not match within 10 s")
        time.sleep(0.01)
    payload = frame.tobytes()
    for _ in range(count):
        publisher.put(payload)
    samples = [subscriber.recv() for _ in range(count)]
    publisher.undeclare()
    sending.close()
    subscriber.undeclare()
    receiving.close()
    return samples


def main() -> int:
    import zenoh

    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    rounds = args.rounds

    slot = np.random.default_rng(1).integers(0, 256, FRAME_1080P, dtype=np.uint8)
    flat_slot = slot.reshape(-1)
    alone = zenoh_session()
    publisher = alone.declare_publisher("bench/copies/nobody")
    kept = slot.tobytes()
    kept_zbytes = zenoh.ZBytes(kept)
    scratch = bytearray(slot.nbytes)
    scratch_view = np.frombuffer(scratch, dtype=np.uint8)
    held: list[Any] = [None]  # what a latest publication keeps for its settle

    def scratch_put() -> None:
        np.copyto(scratch_view, flat_slot)
        publisher.put(scratch)

    def scratch_zbytes_put() -> None:
        np.copyto(scratch_view, flat_slot)
        held[0] = zenoh.ZBytes(scratch)
        publisher.put(held[0])

    def tobytes_put_kept() -> None:
        held[0] = slot.tobytes()
        publisher.put(held[0])

    publishing: list[tuple[str, Callable[[], Any]]] = [
        ("tobytes", slot.tobytes),
        ("put(bytes)", lambda: publisher.put(kept)),
        ("ZBytes(bytes)", lambda: zenoh.ZBytes(kept)),
        ("put(ZBytes)", lambda: publisher.put(kept_zbytes)),
        ("scratch[:] = slot", lambda: np.copyto(scratch_view, flat_slot)),
        ("put(bytearray)", lambda: publisher.put(scratch)),
        ("tobytes + put(bytes)", lambda: publisher.put(slot.tobytes())),
        ("tobytes + put(bytes), kept", tobytes_put_kept),
        ("scratch + put(bytearray)", scratch_put),
        ("scratch + ZBytes + put, kept", scratch_zbytes_put),
    ]
    rows = [
        ("publish", name, us)
        for (name, _), us in zip(publishing, medians_us(publishing, rounds))
    ]
    held[0] = None
    publisher.undeclare()
    alone.close()

    samples = received_samples(zenoh, slot, 8)
    payload = samples[0].payload
    taken = payload.to_bytes()
    target = np.empty(slot.nbytes, dtype=np.uint8)

    def bytes_into_slot() -> None:
        target[: len(taken)] = np.frombuffer(taken, dtype=np.uint8)

    def to_bytes_into_slot() -> None:
        data = payload.to_bytes()
        target[: len(data)] = np.frombuffer(data, dtype=np.uint8)

    subscribing: list[tuple[str, Callable[[], Any]]] = [
        ("to_bytes", payload.to_bytes),
        ("slot[:] = bytes", bytes_into_slot),
        ("to_bytes + slot[:] = bytes", to_bytes_into_slot),
        ("len(payload)", lambda: len(payload)),
    ]
    rows += [
        ("subscribe", name, us)
        for (name, _), us in zip(subscribing, medians_us(subscribing, rounds))
    ]
    assert bytes(target) == kept, "the received frame differs from the one sent"

    print(f"frame {slot.nbytes} bytes, median of {rounds} rounds")
    for side, operation, us in rows:
        print(f"{side:10} {operation:30} {us:9.1f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
