"""What one frame costs in Python: zinc's channel against iceoryx2's
publish-subscribe, in one process and one run.

Each round the writer hands out `--slots` frames of `--bytes` bytes and the
reader then takes them all back; the two halves are timed separately, per
batch, so the clock is read twice per batch and not twice per frame. A row
gives the median over the batches of the time per frame:

    zinc frame()+commit     with writer.frame() as f: (nothing written)
    zinc recv+release       with reader.recv(0) as f: (nothing read)
    iceoryx2 loan+send      publisher.loan_uninit().assume_init().send()
    iceoryx2 receive+drop   subscriber.receive().delete()

and the same with a numpy array over the payload for iceoryx2 (zinc's frames
always carry one): ``np.frombuffer`` of the payload's address, what a numpy
user writes to fill or read a sample in place. Two rows in parentheses give
the floor under zinc's: its two C calls per frame made through cffi with
nothing around them.

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
from typing import Callable, Dict, List, Tuple

import numpy as np
import zinc

Batch = Callable[[], None]


def per_frame_ns(batches: int, frames: int, write: Batch, read: Batch) -> Tuple[float, float]:
    """Median ns per frame of write() and of read(), each handling `frames`."""
    clock = time.perf_counter_ns
    written: List[int] = []
    taken: List[int] = []
    for round_ in range(batches + batches // 10):
        start = clock()
        write()
        middle = clock()
        read()
        end = clock()
        if round_ >= batches // 10:  # the first tenth warms up
            written.append(middle - start)
            taken.append(end - middle)
    return statistics.median(written) / frames, statistics.median(taken) / frames


def zinc_rows(name: str, nbytes: int, slots: int, batches: int) -> Dict[str, float]:
    writer = zinc.Channel.create(name, np.uint8, (nbytes,), slots=slots, max_readers=1)
    with writer, zinc.Channel.open_reader(name) as reader:

        def write() -> None:
            for _ in range(slots):
                with writer.frame() as frame:
                    pass
            del frame

        def read() -> None:
            for _ in range(slots):
                with reader.recv(0) as frame:
                    pass
            del frame

        put, get = per_frame_ns(batches, slots, write, read)

        # The floor under both: the two C calls per frame through cffi alone.
        from zinc._ffi import ffi, lib

        native = ffi.new("ZincChannelFrame *")
        writer_handle, reader_handle = writer._h, reader._h
        acquire, commit = lib.zinc_channel_acquire, lib.zinc_channel_commit
        read_, release = lib.zinc_channel_read, lib.zinc_channel_release

        def write_c() -> None:
            for _ in range(slots):
                acquire(writer_handle, 0, native)
                commit(writer_handle, nbytes)

        def read_c() -> None:
            for _ in range(slots):
                read_(reader_handle, 0, native)
                release(reader_handle)

        put_c, get_c = per_frame_ns(batches, slots, write_c, read_c)
    return {
        "zinc frame()+commit": put,
        "zinc recv+release": get,
        "(C calls alone: acquire+commit)": put_c,
        "(C calls alone: read+release)": get_c,
    }


def iceoryx2_rows(name: str, nbytes: int, slots: int, batches: int) -> Dict[str, float]:
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

    put, get = per_frame_ns(batches, slots, send_bare, receive_bare)
    put_np, get_np = per_frame_ns(batches, slots, send_numpy, receive_numpy)
    subscriber.delete()
    publisher.delete()
    return {
        "iceoryx2 loan_uninit+send": put,
        "iceoryx2 receive+delete": get,
        "iceoryx2 loan_uninit+numpy view+send": put_np,
        "iceoryx2 receive+numpy view+delete": get_np,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=4000)
    parser.add_argument("--bytes", type=int, default=64, help="frame size")
    parser.add_argument("--slots", type=int, default=8, help="frames per batch")
    parser.add_argument("--json", default="")
    parser.add_argument("--name-prefix", default=f"bench-cost-{os.getpid()}")
    parser.add_argument("--no-iceoryx2", action="store_true")
    args = parser.parse_args()
    rows = zinc_rows(args.name_prefix, args.bytes, args.slots, args.batches)
    note = ""
    if not args.no_iceoryx2:
        try:
            rows.update(
                iceoryx2_rows(args.name_prefix + "-iox2", args.bytes, args.slots, args.batches)
            )
        except ImportError as error:
            note = f"iceoryx2 is not installed ({error}); its rows are missing."
    print(f"per-frame cost, {args.bytes}-byte frames, batches of {args.slots}, median of")
    print(f"{args.batches} batches (python {sys.version.split()[0]})\n")
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
