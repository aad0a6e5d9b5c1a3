"""A writer or reader process for the cross-process tests.

The test writes a spec (an .npz file) of rounds: per round, the payload the
writer puts into the "down" region and, per reader, the reply that reader
puts into its own "up" region. Both kinds of process only use the spec for
what to write and for the dtype, shape and offset of what to read; what they
actually read from shared memory goes to their --record file, which the test
compares byte for byte with the spec.

Protocol, per round r (1-based), with the first 8 bytes of every region a
round counter (uint64) and payloads at offsets >= 64:
  writer:   write payload, down counter = r, notify down;
            for each reader: wait on its up region until its counter == r,
            read the reply.
  reader k: wait on down until its counter == r, read the payload;
            write its reply, up_k counter = r, notify up_k.
Nobody touches a region's bytes while another process may be writing them.

Usage:
  peer.py write --down NAME [--create CAPACITY] --up NAME... --spec F --record F
  peer.py read  --down NAME --up NAME --index K --spec F --record F
  (both take --via buffer|numpy and --timeout-ms)
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any, Dict

import numpy as np

import zinc


class PeerError(Exception):
    pass


def counter(region: zinc.SharedRegion) -> memoryview:
    return region.as_buffer()[:8].cast("Q")


def wait_for_round(region: zinc.SharedRegion, expected: int, timeout_ms: int, what: str) -> None:
    """Waits until `region`'s round counter reaches `expected`."""
    count = counter(region)
    deadline = time.monotonic() + timeout_ms / 1000
    while True:
        seen = count[0]
        if seen == expected:
            return
        if seen > expected:
            raise PeerError(f"{what}: expected round {expected}, found {seen} (a round was missed)")
        remaining = int((deadline - time.monotonic()) * 1000)
        if remaining <= 0 or not region.wait(remaining):
            raise PeerError(f"{what}: timed out waiting for round {expected} (at {seen})")


def put(region: zinc.SharedRegion, array: np.ndarray[Any, Any], offset: int, via: str) -> None:
    if via == "numpy":
        region.as_numpy(array.dtype, shape=array.shape, offset=offset)[...] = array
    else:
        data = array.tobytes()
        region.as_buffer()[offset : offset + len(data)] = data


def get(
    region: zinc.SharedRegion, like: np.ndarray[Any, Any], offset: int, via: str
) -> np.ndarray[Any, Any]:
    if via == "numpy":
        return region.as_numpy(like.dtype, shape=like.shape, offset=offset).copy()
    data = bytes(region.as_buffer()[offset : offset + like.nbytes])
    return np.frombuffer(data, dtype=like.dtype).reshape(like.shape)


def write(args: argparse.Namespace, spec: Any) -> Dict[str, np.ndarray[Any, Any]]:
    rounds = int(spec["rounds"])
    if args.create:
        down = zinc.SharedRegion.create(args.down, args.create)
        print("created", flush=True)
    else:
        down = zinc.SharedRegion.open(args.down)
    ups = [zinc.SharedRegion.open(name) for name in args.up]
    record: Dict[str, np.ndarray[Any, Any]] = {}
    with down:
        for r in range(rounds):
            put(down, spec[f"down_{r}"], int(spec[f"down_offset_{r}"]), args.via)
            counter(down)[0] = r + 1
            down.notify()
            for k, up in enumerate(ups):
                wait_for_round(up, r + 1, args.timeout_ms, f"writer, reply of reader {k}")
                key = f"up_{k}_{r}"
                record[key] = get(up, spec[key], int(spec[f"up_offset_{k}_{r}"]), args.via)
    for up in ups:
        up.close()
    return record


def read(args: argparse.Namespace, spec: Any) -> Dict[str, np.ndarray[Any, Any]]:
    rounds = int(spec["rounds"])
    k = args.index
    record: Dict[str, np.ndarray[Any, Any]] = {}
    with zinc.SharedRegion.open(args.down) as down, zinc.SharedRegion.open(args.up[0]) as up:
        for r in range(rounds):
            wait_for_round(down, r + 1, args.timeout_ms, f"reader {k}")
            key = f"down_{r}"
            record[key] = get(down, spec[key], int(spec[f"down_offset_{r}"]), args.via)
            put(up, spec[f"up_{k}_{r}"], int(spec[f"up_offset_{k}_{r}"]), args.via)
            counter(up)[0] = r + 1
            up.notify()
    return record


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("role", choices=["write", "read"])
    parser.add_argument("--down", required=True)
    parser.add_argument("--up", action="append", default=[])
    parser.add_argument("--index", type=int, default=0)
    parser.add_argument("--create", type=int, default=0)
    parser.add_argument("--spec", required=True)
    parser.add_argument("--record", required=True)
    parser.add_argument("--via", choices=["buffer", "numpy"], default="buffer")
    parser.add_argument("--timeout-ms", type=int, default=10000)
    args = parser.parse_args()
    with np.load(args.spec, allow_pickle=False) as spec:
        try:
            record = write(args, spec) if args.role == "write" else read(args, spec)
        except PeerError as error:
            print(f"peer {args.role}: {error}", file=sys.stderr)
            return 1
    np.savez(args.record, **record)
    return 0


if __name__ == "__main__":
    sys.exit(main())
