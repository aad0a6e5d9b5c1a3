"""A channel writer or reader process for tests/test_channel_processes.py.

Every frame's bytes are a function of its sequence (frame_bytes below), so a
reader records only "sequence crc32" per frame and the test recomputes what
each frame must have held:
  --fill random:    bytes from numpy's generator seeded with (seed, sequence)
  --fill sequence:  every byte is sequence % 251 (a torn frame mixes values)

  channel_peer.py write NAME --frames N [--fill F --seed S]
      [--create DTYPE SHAPE --mode M --slots N --max-readers R]
      [--readers K] [--late K2 --late-at F] [--hang]
    Joins (or creates) the channel as its writer and prints "ready"; waits
    until K readers have joined before frame 0, and K + K2 before frame F;
    writes N frames (even ones with frame(), odd ones with send()), then
    closes. With --hang it instead fills half of frame N, prints "mid-frame"
    and waits to be killed.
  channel_peer.py read NAME --record FILE [--hold]
    Joins as a reader (retrying while the channel does not exist yet),
    prints "joined WRITE_SEQ" (the frames committed by then), and records
    every frame until the writer has left. With --hold it reads one frame,
    prints "holding SEQUENCE" and waits to be killed while holding it.
SHAPE is comma-separated ("" for a frame of one element).
"""

from __future__ import annotations

import argparse
import sys
import time
import zlib
from typing import Any, Tuple

import numpy as np

import zinc

TIMEOUT_MS = 20_000


def frame_bytes(fill: str, seed: int, sequence: int, nbytes: int) -> np.ndarray[Any, Any]:
    if fill == "sequence":
        return np.full(nbytes, sequence % 251, dtype=np.uint8)
    return np.random.default_rng([seed, sequence]).integers(0, 256, nbytes, dtype=np.uint8)


def expected_crc(fill: str, seed: int, sequence: int, nbytes: int) -> int:
    return zlib.crc32(frame_bytes(fill, seed, sequence, nbytes).tobytes())


def parse_shape(text: str) -> Tuple[int, ...]:
    return tuple(int(n) for n in text.split(",") if n)


def wait_for_readers(writer: zinc.ChannelWriter, count: int) -> None:
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    while writer.info.readers < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"writer: only {writer.info.readers} of {count} readers joined")
        time.sleep(0.001)


def write(args: argparse.Namespace) -> int:
    if args.create:
        dtype, shape = args.create
        writer = zinc.Channel.create(
            args.name,
            dtype,
            parse_shape(shape),
            mode=args.mode,
            slots=args.slots,
            max_readers=args.max_readers,
        )
    else:
        writer = zinc.Channel.open_writer(args.name)
    print("ready", flush=True)
    nbytes = writer.slot_size
    with writer:
        wait_for_readers(writer, args.readers)
        for f in range(args.frames):
            if f == args.late_at and args.late:
                wait_for_readers(writer, args.readers + args.late)
            data = frame_bytes(args.fill, args.seed, f, nbytes)
            if f % 2 == 0:
                frame = writer.frame(TIMEOUT_MS)
                if frame is None:
                    raise SystemExit(f"writer: no room for frame {f} in {TIMEOUT_MS} ms")
                with frame:
                    frame.array.reshape(-1).view(np.uint8)[:] = data
            else:
                sent = writer.send(data.view(writer.dtype).reshape(writer.shape), TIMEOUT_MS)
                if sent is None:
                    raise SystemExit(f"writer: no room for frame {f} in {TIMEOUT_MS} ms")
        if args.hang:
            frame = writer.frame(TIMEOUT_MS)
            assert frame is not None
            frame.array.reshape(-1).view(np.uint8)[: nbytes // 2 + 1] = 0xEE
            print("mid-frame", flush=True)
            time.sleep(60)
            return 1
    return 0


def join_reader(name: str) -> zinc.ChannelReader:
    return zinc.Channel.open_reader(name, timeout_ms=TIMEOUT_MS)


def read(args: argparse.Namespace) -> int:
    with join_reader(args.name) as reader:
        print("joined", reader.info.write_seq, flush=True)
        if args.hold:
            frame = reader.recv(TIMEOUT_MS)
            if frame is None:
                return 1
            print("holding", frame.sequence, flush=True)
            time.sleep(60)
            return 1
        with open(args.record, "w") as record:
            for frame in reader.frames(timeout_ms=TIMEOUT_MS):
                record.write(f"{frame.sequence} {zlib.crc32(frame.array)}\n")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=["write", "read"])
    parser.add_argument("name")
    parser.add_argument("--frames", type=int, default=0)
    parser.add_argument("--fill", choices=["random", "sequence"], default="random")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--create", nargs=2, metavar=("DTYPE", "SHAPE"))
    parser.add_argument("--mode", default="lossless")
    parser.add_argument("--slots", type=int, default=8)
    parser.add_argument("--max-readers", type=int, default=4)
    parser.add_argument("--readers", type=int, default=0)
    parser.add_argument("--late", type=int, default=0)
    parser.add_argument("--late-at", type=int, default=0)
    parser.add_argument("--hang", action="store_true")
    parser.add_argument("--record", default="")
    parser.add_argument("--hold", action="store_true")
    args = parser.parse_args()
    return write(args) if args.role == "write" else read(args)


if __name__ == "__main__":
    sys.exit(main())
