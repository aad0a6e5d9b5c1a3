"""What one frame costs in Python: zinc's channel against iceoryx2's
publish-subscribe, in one process and one run.

Each round the writer hands out `--slots` frames of `--bytes` bytes and the
reader then takes them all back; the two halves are timed separately, per
batch, so the clock is read twice per batch and not twice per frame. The
rounds of every row are interleaved (zinc, then iceoryx2, then zinc...), so
that a load coming and going on a shared machine hits all rows alike. A row
gives the median over the batches of the time per frame:

    zinc frame()+commit     with writer.frame(): (nothing written)
    zinc recv+release       with reader.recv(0): (nothing read)
    iceoryx2 loan+send      publisher.loan_uninit().assume_init().send()
    iceoryx2 receive+drop   subscriber.receive().delete()

and the same with a numpy array over the payload for iceoryx2 (zinc's frames
always carry one): ``np.frombuffer`` of the payload's address, what a numpy
user writes to fill or read a sample in place. Two rows in parentheses give
the floor under zinc's: its two C calls per frame made through cffi with
nothing around them, and what two cffi calls of a function that does
nothing cost (the rest of the floor is the core's own work per call). Where
zinc._fastpath is built (the installed package), two more rows time the
same frames with zinc._frames' Python classes, the fallback without it.

Usage: python bench/python/frame_cost.py [--batches=4000] [--bytes=64]
       [--slots=8] [--json=FILE] [--name-prefix=bench-cost-PID] [--no-iceoryx2]
Prints a markdown table. iceoryx2 is optional (pip install iceoryx2); without
it its rows are missing and a note says so.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import statistics
import sys
import time
from contextlib import ExitStack
from typing import Callable, Dict, List, Tuple

import numpy as np
import zinc
from zinc import _frames as zinc_frames

Batch = Callable[[], None]
# (what a write batch measures, the batch, what a read batch measures, the batch)
Pair = Tuple[str, Batch, str, Batch]


def interleaved_ns(batches: int, frames: int, pairs: List[Pair]) -> Dict[str, float]:
    """Median ns per frame of every batch. Each round runs every pair once,
    write then read, so that every row sees the same machine: a load that
    comes and goes on a shared host hits them all alike."""
    clock = time.perf_counter_ns
    samples: Dict[str, List[int]] = {}
    for what_write, _, what_read, _ in pairs:
        samples[what_write], samples[what_read] = [], []
    for round_ in range(batches + batches // 10):
        for what_write, write, what_read, read in pairs:
            start = clock()
            write()
            middle = clock()
            read()
            end = clock()
            if round_ >= batches // 10:  # the first tenth warms up
                samples[what_write].append(middle - start)
                samples[what_read].append(end - middle)
    return {what: statistics.median(ns) / frames for what, ns in samples.items()}


def frame_batches(
    writer: zinc.ChannelWriter, reader: zinc.ChannelReader, slots: int
) -> Tuple[Batch, Batch]:
    """A batch of `slots` empty frames written, and one read."""

    def write() -> None:
        for _ in range(slots):
            with writer.frame():
                pass

    def read() -> None:
        for _ in range(slots):
            with reader.recv(0):
                pass

    return write, read


def python_frames_pair(name: str, nbytes: int, slots: int, stack: ExitStack) -> List[Pair]:
    """The zinc rows again with zinc._frames' Python classes, the fallback
    where zinc._fastpath does not import: a channel whose gates are made
    while the C module is set aside (a measurement's shortcut; a program
    chooses with ZINC_NO_FASTPATH=1 before importing zinc)."""
    from zinc import _frames

    fastpath, _frames._fastpath_module = _frames._fastpath_module, None
    try:
        writer = stack.enter_context(
            zinc.Channel.create(name, np.uint8, (nbytes,), slots=slots, max_readers=1)
        )
        reader = stack.enter_context(zinc.Channel.open_reader(name))
    finally:
        _frames._fastpath_module = fastpath

    write, read = frame_batches(writer, reader, slots)
    return [("zinc frame()+commit, Python frames", write, "zinc recv+release, Python frames", read)]


def zinc_pairs(writer: zinc.ChannelWriter, reader: zinc.ChannelReader) -> List[Pair]:
    from zinc._ffi import ffi, lib

    slots, nbytes = writer.slot_count, writer.slot_size
    write, read = frame_batches(writer, reader, slots)

    # The floor under both: the two C calls per frame through cffi alone,
    # and two cffi calls of a function that does nothing.
    native = ffi.new("ZincChannelFrame *")
    writer_handle, reader_handle = writer._h, reader._h
    acquire, commit = lib.zinc_channel_acquire, lib.zinc_channel_commit
    read_, release, version = lib.zinc_channel_read, lib.zinc_channel_release, lib.zinc_version

    def write_c() -> None:
        for _ in range(slots):
            acquire(writer_handle, 0, native)
            commit(writer_handle, nbytes)

    def read_c() -> None:
        for _ in range(slots):
            read_(reader_handle, 0, native)
            release(reader_handle)

    def two_empty_calls() -> None:
        for _ in range(slots):
            version()
            version()

    return [
        ("zinc frame()+commit", write, "zinc recv+release", read),
        ("(C calls alone: acquire+commit)", write_c, "(C calls alone: read+release)", read_c),
        ("(two cffi calls of zinc_version, which does nothing)", two_empty_calls, "", lambda: None),
    ]


def iceoryx2_pairs(name: str, nbytes: int, slots: int) -> Tuple[List[Pair], Callable[[], None]]:
    import iceoryx2 as iox2

    class Payload(ctypes.Structure):
        _fields_ = [("data", ctypes.c_uint8 * nbytes)]

    node = iox2.NodeBuilder.new().create(iox2.ServiceType.Ipc)
    service = (
        node.service_builder(iox2.ServiceName.new(name))
        .publish_subscribe(Payload)
        .subscriber_max_buffer_size(slots)
        .subscriber_max_borrowed_samples(2)
        .history_size(0)
        .open_or_create()
    )
    publisher = service.publisher_builder().max_loaned_samples(2).create()
    subscriber = service.subscriber_builder().buffer_size(slots).create()

    def send_bare() -> None:
        for _ in range(slots):
            publisher.loan_uninit().assume_init().send()

    def receive_bare() -> None:
        for _ in range(slots):
            subscriber.receive().delete()

    array_type = ctypes.c_uint8 * nbytes

    def send_numpy() -> None:
        for _ in range(slots):
            sample = publisher.loan_uninit()
            array = np.frombuffer(array_type.from_address(sample.payload_ptr), np.uint8)
            del array
            sample.assume_init().send()

    def receive_numpy() -> None:
        for _ in range(slots):
            sample = subscriber.receive()
            array = np.frombuffer(array_type.from_address(sample.payload_ptr), np.uint8)
            del array
            sample.delete()

    def close() -> None:
        subscriber.delete()
        publisher.delete()

    pairs = [
        ("iceoryx2 loan_uninit+send", send_bare, "iceoryx2 receive+delete", receive_bare),
        (
            "iceoryx2 loan_uninit+numpy view+send",
            send_numpy,
            "iceoryx2 receive+numpy view+delete",
            receive_numpy,
        ),
    ]
    return pairs, close


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=4000)
    parser.add_argument("--bytes", type=int, default=64, help="frame size")
    parser.add_argument("--slots", type=int, default=8, help="frames per batch")
    parser.add_argument("--json", default="")
    parser.add_argument("--name-prefix", default=f"bench-cost-{os.getpid()}")
    parser.add_argument("--no-iceoryx2", action="store_true")
    args = parser.parse_args()
    writer = zinc.Channel.create(
        args.name_prefix, np.uint8, (args.bytes,), slots=args.slots, max_readers=1
    )
    with writer, zinc.Channel.open_reader(args.name_prefix) as reader, ExitStack() as stack:
        pairs = zinc_pairs(writer, reader)
        if zinc_frames.FASTPATH:
            pairs += python_frames_pair(args.name_prefix + "-py", args.bytes, args.slots, stack)
        close_iceoryx2: Callable[[], None] = lambda: None  # noqa: E731
        note = ""
        if not args.no_iceoryx2:
            try:
                more, close_iceoryx2 = iceoryx2_pairs(
                    args.name_prefix + "-iox2", args.bytes, args.slots
                )
                pairs += more
            except ImportError as error:
                note = f"iceoryx2 is not installed ({error}); its rows are missing."
        rows = interleaved_ns(args.batches, args.slots, pairs)
        rows.pop("", None)
        close_iceoryx2()
    print(f"per-frame cost, {args.bytes}-byte frames, batches of {args.slots}, median of")
    print(f"{args.batches} batches (python {sys.version.split()[0]}); zinc's frames: ", end="")
    print("zinc._fastpath (C)" if zinc_frames.FASTPATH else f"Python ({zinc_frames.FASTPATH_ERROR})")
    print()
    print("| what | ns per frame |")
    print("|---|---:|")
    for what, ns in rows.items():
        print(f"| {what} | {ns:,.0f} |")
    if note:
        print(f"\n{note}")
    if args.json:
        with open(args.json, "a") as out:
            for what, ns in rows.items():
                line = {
                    "bench": "python-frame-cost",
                    "key": what,
                    "bytes": args.bytes,
                    "ns": ns,
                }
                out.write(json.dumps(line) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
