"""A node that serves three channels from one wait set, with asyncio.

Three producer tasks write to three lossless channels at different rates
(a camera at 30 Hz, an IMU at 200 Hz, commands now and then); one consumer
task waits on all three readers with a single zinc.WaitSet and handles
whichever has a frame. In a real node the producers are other processes;
the consumer's loop is the same.

    python wait_set_node.py [SECONDS]
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Dict

import numpy as np

import zinc

RATES_HZ = {"camera": 30, "imu": 200, "commands": 2}


async def produce(writer: zinc.ChannelWriter, hz: float, seconds: float) -> None:
    for sequence in range(int(hz * seconds)):
        await writer.send_async(np.full(writer.shape, sequence % 256, writer.dtype))
        await asyncio.sleep(1 / hz)


async def consume(readers: Dict[str, zinc.ChannelReader], done: asyncio.Event) -> Dict[str, int]:
    counts = {name: 0 for name in readers}
    with zinc.WaitSet() as ws:
        for name, reader in readers.items():
            ws.add(reader, key=name)
        while True:
            keys = await ws.wait_async(timeout_ms=100)
            if not keys and done.is_set():
                return counts  # the producers finished and every frame was read
            for key in keys:
                frame = readers[str(key)].recv(0)
                if frame is not None:
                    with frame:
                        counts[str(key)] += 1  # use frame.array here


async def main(seconds: float) -> None:
    prefix = f"node-{os.getpid()}-"
    writers = {
        name: zinc.Channel.create(prefix + name, "<f4", (16,), slots=16) for name in RATES_HZ
    }
    readers = {name: zinc.Channel.open_reader(prefix + name) for name in RATES_HZ}
    try:
        done = asyncio.Event()
        consumer = asyncio.ensure_future(consume(readers, done))
        await asyncio.gather(
            *(produce(writers[name], hz, seconds) for name, hz in RATES_HZ.items())
        )
        done.set()
        counts = await consumer
        print(", ".join(f"{name}: {n} frames" for name, n in counts.items()))
    finally:
        for channel in [*readers.values(), *writers.values()]:
            channel.close()


if __name__ == "__main__":
    asyncio.run(main(float(sys.argv[1]) if len(sys.argv) > 1 else 2.0))
