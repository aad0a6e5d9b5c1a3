"""The camera's consumer on another machine, through two zinc-bridge processes.

On two machines the same thing is two commands and a consumer:

    camera host:    zinc-bridge --listen tcp/0.0.0.0:7447 --publish NAME=zinc/camera
    consumer host:  zinc-bridge --connect tcp/CAMERA-HOST:7447 --subscribe zinc/camera=NAME-remote
                    python camera_consumer.py NAME-remote SECONDS --remote

This script plays both hosts on this one, over the loopback interface: it
starts the publishing bridge (a reader of the producer's channel NAME) and
the subscribing bridge (the writer of NAME-remote, which it creates with the
producer's frame type at the first frame), runs camera_consumer.py on
NAME-remote, then stops both bridges. Frames cross a real TCP connection
through Zenoh; the consumer checks their pattern and latency as it does
beside the producer.

    python camera_remote_consumer.py NAME [SECONDS] [--frames FRAMES]

(SECONDS and --frames are camera_consumer.py's: it stops at whichever
comes first.)

Needs the bridge extra (pip install "zinc-shm[bridge]").
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import List

HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def bridge(*args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "zinc.bridge", "--quiet", *args])


def stop(processes: List[subprocess.Popen[bytes]]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main() -> int:
    name = sys.argv[1]
    seconds = sys.argv[2] if len(sys.argv) > 2 else "3"
    options = sys.argv[3:]  # --frames FRAMES
    key = f"zinc/camera/{os.getpid()}"
    endpoint = f"tcp/127.0.0.1:{free_port()}"
    remote = f"{name}-remote"
    bridges = [
        bridge("--listen", endpoint, "--publish", f"{name}={key}"),
        bridge("--connect", endpoint, "--subscribe", f"{key}={remote}"),
    ]
    try:
        consumer = subprocess.run(
            [
                sys.executable,
                str(HERE / "camera_consumer.py"),
                remote,
                seconds,
                *options,
                "--remote",
            ]
        )
    finally:
        stop(bridges)
    return consumer.returncode


if __name__ == "__main__":
    sys.exit(main())
