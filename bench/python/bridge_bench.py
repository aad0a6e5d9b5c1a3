"""The bridge's own cost: zinc channels carried by two zinc-bridge processes
over Zenoh (loopback TCP) against plain Zenoh publish/subscribe between two
Python processes, in the same run, plus a local zinc channel for scale.

    latency-64B   one-way latency of a 64-byte frame, one frame every 2 ms
                  (so no queue builds up): the sender stamps CLOCK_MONOTONIC
                  into the frame, the receiver subtracts it from its clock.
    fps-1080p     (1080, 1920, 3) uint8 frames (6.2 MB) as fast as the
                  receiver takes them (lossless / BLOCK), counted at the
                  receiver for --seconds.

    zenoh     a Zenoh publisher -> a Zenoh subscriber (FifoChannel), the
              same settings as the bridge (reliable, BLOCK, peer mode, tcp)
    bridge    zinc writer -> channel -> zinc-bridge -> Zenoh -> zinc-bridge
              -> channel -> zinc reader (four processes)
    channel   zinc writer -> channel -> zinc reader on one machine (zero
              copy: its frames/s is the hand-over rate, not a copy's)

Usage: python bench/python/bridge_bench.py [--quick] [--samples=N]
       [--seconds=S] [--json=FILE] [--name-prefix=P]
(zinc and eclipse-zenoh must be importable; scripts/bench runs it.)
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from typing import Any, Dict, List, Optional

import numpy as np

import zinc

FRAME_1080P = (1080, 1920, 3)
PERIOD_S = 0.002
TIMEOUT_MS = 30_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def summarize(samples: List[int]) -> Dict[str, float]:
    ordered = sorted(samples)
    n = len(ordered)

    def at(q: float) -> int:
        return ordered[min(n - 1, max(0, int(q * n + 0.999999) - 1))]

    return {"p50_ns": at(0.5), "p99_ns": at(0.99), "mean_ns": statistics.fmean(ordered)}


def zenoh_session(listen: Optional[str] = None, connect: Optional[str] = None) -> Any:
    import zenoh

    config = zenoh.Config()
    config.insert_json5("mode", '"peer"')
    config.insert_json5("scouting/multicast/enabled", "false")
    config.insert_json5("listen/endpoints", json.dumps([listen] if listen else []))
    config.insert_json5("connect/endpoints", json.dumps([connect] if connect else []))
    return zenoh.open(config)


# ---- receivers (child processes, one JSON line on stdout) ----------------------


def receive_zenoh(args: argparse.Namespace) -> Dict[str, Any]:
    import zenoh

    session = zenoh_session(listen=f"tcp/127.0.0.1:{args.port}")
    subscriber = session.declare_subscriber(args.key, zenoh.handlers.FifoChannel(8))
    print("ready", flush=True)
    if args.test == "latency-64B":
        samples = []
        for _ in range(args.count):
            payload = subscriber.recv().payload.to_bytes()
            samples.append(time.monotonic_ns() - int.from_bytes(payload[:8], "little"))
        result: Dict[str, Any] = summarize(samples)
    else:
        result = count_frames(lambda: len(subscriber.recv().payload.to_bytes()), args.seconds)
    session.close()
    return result


def receive_channel(args: argparse.Namespace) -> Dict[str, Any]:
    shape = (64,) if args.test == "latency-64B" else FRAME_1080P
    reader = zinc.Channel.create(args.channel, "|u1", shape, role="reader")
    print("ready", flush=True)
    with reader:
        if args.test == "latency-64B":
            samples = []
            for _ in range(args.count):
                frame = reader.recv(TIMEOUT_MS)
                assert frame is not None, "no frame within 30 s"
                with frame:
                    stamp = int(frame.array[:8].view("<u8")[0])
                samples.append(time.monotonic_ns() - stamp)
            return summarize(samples)

        def one() -> int:
            frame = reader.recv(TIMEOUT_MS)
            assert frame is not None, "no frame within 30 s"
            with frame:
                return int(frame.array.nbytes)

        return count_frames(one, args.seconds)


def count_frames(receive: Any, seconds: float) -> Dict[str, Any]:
    """Frames per second over `seconds`, from the first frame received."""
    receive()
    start = time.monotonic()
    frames = nbytes = 0
    while time.monotonic() - start < seconds:
        nbytes += receive()
        frames += 1
    elapsed = time.monotonic() - start
    return {
        "fps": frames / elapsed,
        "gb_per_s": nbytes / elapsed / 1e9,
        "frames": frames,
    }


# ---- senders (this process) ----------------------------------------------------


class Receiver:
    def __init__(self, *role: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, __file__, *role], stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if line.strip() != "ready":
            self.process.kill()
            raise RuntimeError(f"receiver {role} did not start: {line!r}")

    def result(self, timeout: float) -> Dict[str, Any]:
        out, _ = self.process.communicate(timeout=timeout)
        if self.process.returncode != 0:
            raise RuntimeError(f"receiver failed ({self.process.returncode})")
        return dict(json.loads(out.strip().splitlines()[-1]))

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def send_zenoh(test: str, count: int, seconds: float) -> Dict[str, Any]:
    import zenoh

    port = free_port()
    key = f"zinc/bench/{os.getpid()}"
    receiver = Receiver(
        "--role=zenoh",
        f"--test={test}",
        f"--port={port}",
        f"--key={key}",
        f"--count={count}",
        f"--seconds={seconds}",
    )
    session = zenoh_session(connect=f"tcp/127.0.0.1:{port}")
    try:
        publisher = session.declare_publisher(
            key,
            congestion_control=zenoh.CongestionControl.BLOCK,
            reliability=zenoh.Reliability.RELIABLE,
            express=test == "latency-64B",
        )
        wait_for(lambda: publisher.matching_status.matching, "the Zenoh subscriber")
        if test == "latency-64B":
            payload = bytearray(64)
            for _ in range(count):
                time.sleep(PERIOD_S)
                payload[:8] = time.monotonic_ns().to_bytes(8, "little")
                publisher.put(bytes(payload))
        else:
            frame = bytes(np.zeros(FRAME_1080P, np.uint8))
            while receiver.process.poll() is None:
                publisher.put(frame)
        return receiver.result(60)
    finally:
        receiver.kill()
        session.close()


def send_channel(
    test: str, count: int, seconds: float, prefix: str, bridged: bool
) -> Dict[str, Any]:
    """Writes into channel src; the receiver reads dst (the same channel
    without bridges)."""
    src = f"{prefix}-{test}-src"
    dst = f"{prefix}-{test}-dst" if bridged else src
    key = f"zinc/bench/{src}"
    shape = (64,) if test == "latency-64B" else FRAME_1080P
    bridges: List[subprocess.Popen[bytes]] = []
    receiver = Receiver(
        "--role=channel",
        f"--test={test}",
        f"--channel={dst}",
        f"--count={count}",
        f"--seconds={seconds}",
    )
    try:
        if bridged:
            port = free_port()
            for route in (
                ["--subscribe", f"{key}={dst}", "--listen", f"tcp/127.0.0.1:{port}"],
                ["--publish", f"{src}={key}", "--connect", f"tcp/127.0.0.1:{port}"],
            ):
                bridges.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "zinc.bridge", "-q", *route],
                        stderr=subprocess.DEVNULL,
                    )
                )
            writer = zinc.Channel.create(src, "|u1", shape)
        else:
            writer = zinc.Channel.open_writer(src, timeout_ms=TIMEOUT_MS)
        with writer:
            wait_for(lambda: writer.info.readers > 0, "the reader")
            if test == "latency-64B":
                for _ in range(count):
                    time.sleep(PERIOD_S)
                    with writer.frame() as frame:
                        frame.array[:8] = np.frombuffer(
                            time.monotonic_ns().to_bytes(8, "little"), np.uint8
                        )
            else:
                while receiver.process.poll() is None:
                    frame = writer.frame(100)
                    if frame is not None:
                        with frame:
                            frame.array[0, 0, 0] = 1
            return receiver.result(60)
    finally:
        receiver.kill()
        for bridge in bridges:
            bridge.terminate()
            bridge.wait(30)


def wait_for(condition: Any, what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not show up within 30 s")
        time.sleep(0.01)


LABELS = {
    "zenoh": "plain Zenoh pub/sub (Python, loopback TCP)",
    "bridge": "zinc channel -> zinc-bridge -> Zenoh -> zinc-bridge -> zinc channel",
    "channel": "zinc channel, same machine (no bridge, zero copy)",
}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--role", choices=["zenoh", "channel"])
    parser.add_argument("--test", default="latency-64B")
    parser.add_argument("--port", type=int)
    parser.add_argument("--key")
    parser.add_argument("--channel")
    parser.add_argument("--count", type=int)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--samples", type=int)
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--json")
    parser.add_argument("--name-prefix", default=f"bench-bridge-{os.getpid()}")
    args = parser.parse_args()
    if args.role == "zenoh":
        print(json.dumps(receive_zenoh(args)), flush=True)
        return 0
    if args.role == "channel":
        print(json.dumps(receive_channel(args)), flush=True)
        return 0
    samples = args.samples or (200 if args.quick else 2000)
    seconds = args.seconds or (1.0 if args.quick else 5.0)
    rows = []
    for test in ("latency-64B", "fps-1080p"):
        for key in ("zenoh", "bridge", "channel"):
            if key == "zenoh":
                result = send_zenoh(test, samples, seconds)
            else:
                result = send_channel(test, samples, seconds, args.name_prefix, key == "bridge")
            row = {
                "bench": "python-bridge",
                "test": test,
                "key": key,
                "label": LABELS[key],
            }
            row.update(result)
            if test == "latency-64B":
                row["samples"] = samples
                print(
                    f"{test:12} {key:8} p50 {row['p50_ns'] / 1000:8.1f} us  "
                    f"p99 {row['p99_ns'] / 1000:8.1f} us",
                    flush=True,
                )
            else:
                print(
                    f"{test:12} {key:8} {row['fps']:8.1f} frames/s  {row['gb_per_s']:.2f} GB/s",
                    flush=True,
                )
            rows.append(row)
    if args.json:
        with open(args.json, "a") as out:
            for row in rows:
                out.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
