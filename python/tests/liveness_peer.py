"""Roles that tests/test_pid_namespaces.py runs in another pid namespace.

namespace_peer.py held-writer NAME
  Joins channel NAME as its writer, commits frames 0 and 1 (every byte the
  frame's sequence, see channel_peer.py --fill sequence), prints
  "committed", waits for a line on stdin (the reader now holds frame 0),
  then asks three times for the next frame with a 1 s timeout, printing
  "frame none" for a timeout or "frame SEQUENCE" for a frame it got (and
  fills with 0xEE and commits, as a writer that goes on would). Prints
  "done".
namespace_peer.py judge NAME
  Judges region NAME the ways `zinc gc` and a new creator do and prints
  one JSON object: {"status": list_regions() status, "remove_stale":
  zinc_remove_stale(NAME, 0), "replace_stale": "exists" or "replaced"}.
"""

from __future__ import annotations

import json
import sys

import numpy as np
from channel_peer import frame_bytes

import zinc
from zinc._ffi import lib


def held_writer(name: str) -> int:
    with zinc.Channel.open_writer(name) as writer:
        for sequence in range(2):
            writer.send(np.full(writer.slot_size, sequence % 251, dtype=np.uint8), 5000)
        print("committed", flush=True)
        sys.stdin.readline()
        for _ in range(3):
            frame = writer.frame(1000)
            if frame is None:
                print("frame none", flush=True)
                break
            with frame:
                frame.array.reshape(-1).view(np.uint8)[:] = 0xEE
            print("frame", frame.sequence, flush=True)
    print("done", flush=True)
    return 0


def writer(name: str, frames: int, hang: bool) -> int:
    with zinc.Channel.open_writer(name) as channel:
        for _ in range(frames):
            frame = channel.frame(20_000)
            if frame is None:
                raise SystemExit("writer: no room for a frame in 20 s")
            with frame:
                view = frame.array.reshape(-1).view(np.uint8)
                view[:] = frame_bytes("random", 7, frame.sequence, view.size)
        print("done", flush=True)
        if hang:
            frame = channel.frame(20_000)
            assert frame is not None
            frame.array.reshape(-1).view(np.uint8)[: channel.slot_size // 2] = 0xEE
            print("mid-frame", flush=True)
            sys.stdin.readline()
            return 1
    return 0


def judge(name: str) -> int:
    status = [r.status for r in zinc.list_regions(name) if r.name == name]
    removed = int(lib.zinc_remove_stale(name.encode(), 0))
    try:
        zinc.SharedRegion.create(name, zinc.PAGE_SIZE, replace_stale=True).close()
        replaced = "replaced"
    except FileExistsError:
        replaced = "exists"
    print(
        json.dumps(
            {
                "status": status[0] if status else None,
                "remove_stale": removed,
                "replace_stale": replaced,
            }
        ),
        flush=True,
    )
    return 0


def main() -> int:
    role, name = sys.argv[1], sys.argv[2]
    if role == "held-writer":
        return held_writer(name)
    if role == "writer":
        return writer(name, int(sys.argv[3]), "--hang" in sys.argv[4:])
    return judge(name)


if __name__ == "__main__":
    sys.exit(main())
