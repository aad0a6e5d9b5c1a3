"""A Python reader behind a bridge, for tests/test_bridge.py: checks every
frame that bridge_writer.cpp made (its index, its CRC-32, its pattern) and
prints one JSON summary.

  bridge_reader.py NAME --last N [--create MODE DTYPE SHAPE] [--stall-after K]
      [--idle SECONDS]

Joins channel NAME as a reader, or with --create makes it (as its first
reader: the bridge then joins it as the writer), prints "joined", and reads
until frame N arrives, the writer has left, or no frame came for --idle
seconds (default 30). With --stall-after K it holds the K-th frame it got,
prints "stalled INDEX" and reads a line from stdin before going on.
The summary: {"frames", "corrupt", "indices": [[first, last], ...] (runs of
consecutive indices), "dtype", "shape", "mode", "first_corrupt"}.
"""

from __future__ import annotations

import argparse
import json
import sys
import zlib
from typing import Any, List, Optional

import numpy as np

import zinc

JOIN_TIMEOUT_MS = 60_000


def pattern_byte(index: int, k: int) -> int:
    return (index * 131 + k * 7 + k // 256) % 256


def check(data: np.ndarray[Any, Any]) -> Optional[str]:
    """None if the frame is whole, else what is wrong with it."""
    raw = data.reshape(-1).view(np.uint8)
    index = int(raw[:8].view("<u8")[0])
    crc = int(raw[8:12].view("<u4")[0])
    if zlib.crc32(raw[12:]) != crc:
        return f"frame {index}: CRC mismatch"
    last = raw.size - 1
    if raw[12] != pattern_byte(index, 12) or raw[last] != pattern_byte(index, last):
        return f"frame {index}: its bytes are another frame's"
    return None


def runs(indices: List[int]) -> List[List[int]]:
    out: List[List[int]] = []
    for i in indices:
        if out and out[-1][1] + 1 == i:
            out[-1][1] = i
        else:
            out.append([i, i])
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("name")
    parser.add_argument("--last", type=int, required=True)
    parser.add_argument("--create", nargs=3, metavar=("MODE", "DTYPE", "SHAPE"))
    parser.add_argument("--stall-after", type=int)
    parser.add_argument("--idle", type=float, default=30)
    args = parser.parse_args()
    if args.create:
        mode, dtype, shape = args.create
        dims = tuple(int(n) for n in shape.split(",") if n)
        reader = zinc.Channel.create(args.name, dtype, dims, mode=mode, role="reader")
    else:
        reader = zinc.Channel.open_reader(args.name, timeout_ms=JOIN_TIMEOUT_MS)
    print("joined", flush=True)
    indices: List[int] = []
    corrupt = 0
    first_corrupt = None
    with reader:
        for frame in reader.frames(timeout_ms=int(args.idle * 1000)):
            problem = check(frame.array)
            index = int(frame.array.reshape(-1).view(np.uint8)[:8].view("<u8")[0])
            if problem is None:
                indices.append(index)
            else:
                corrupt += 1
                first_corrupt = first_corrupt or problem
            if args.stall_after is not None and len(indices) == args.stall_after:
                print("stalled", index, flush=True)
                sys.stdin.readline()
            if index >= args.last:
                break
        summary = {
            "frames": len(indices),
            "corrupt": corrupt,
            "first_corrupt": first_corrupt,
            "indices": runs(indices),
            "dtype": reader.dtype.str,
            "shape": list(reader.shape) if reader.shape is not None else None,
            "mode": reader.mode,
        }
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
