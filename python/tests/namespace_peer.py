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
    return held_writer(name) if role == "held-writer" else judge(name)


if __name__ == "__main__":
    sys.exit(main())
