"""A Python stand-in for examples/camera.cpp, keeping the same contract (see
python/examples/camera_consumer.py): a latest-mode channel of (480, 640, 3)
uint8 frames, 8 slots, 4 readers, 60 frames per second; the first 8 bytes of
a frame are its CLOCK_MONOTONIC capture time, little-endian; every other byte
of row r of frame s is (s + r) % 256.

    camera_producer.py NAME SECONDS
Prints "ready" once the channel exists; stops after SECONDS or when a line
(or the end) comes on stdin, and prints the frame count.
"""

from __future__ import annotations

import sys
import threading
import time

import numpy as np

import zinc

FPS = 60


def main() -> int:
    name, seconds = sys.argv[1], float(sys.argv[2])
    rows = np.arange(480, dtype=np.uint16)[:, None, None]
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.readline(), stop.set()), daemon=True).start()
    with zinc.Channel.create(name, "|u1", (480, 640, 3), mode="latest", slots=8) as camera:
        print("ready", flush=True)
        start = time.monotonic()
        sequence = 0
        while time.monotonic() - start < seconds and not stop.is_set():
            with camera.frame() as frame:
                assert frame.sequence == sequence
                np.remainder(rows + sequence, 256, out=frame.array, casting="unsafe")
                stamp = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
                frame.array.reshape(-1)[:8] = np.array([stamp], "<u8").view(np.uint8)
            sequence += 1
            next_frame = start + sequence / FPS
            time.sleep(max(0.0, next_frame - time.monotonic()))
    print(sequence, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
