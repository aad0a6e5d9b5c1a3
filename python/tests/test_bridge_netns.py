"""The bridges in two network namespaces joined by a veth pair (as root):
the C++ writer and the Python reader share /dev/shm with them, the frames
cross a real (virtual) link, and the link goes down twice mid-stream: once
briefly (TCP carries on, nothing is lost) and once until Zenoh gives the
link up (the connecting bridge reconnects when it comes back, and what was
lost in flight is reported as gaps, exactly)."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import time
from pathlib import Path
from typing import Iterator, Tuple

import pytest
from bridge_support import (
    Route,
    Start,
    bridge_argv,
    gaps,
    missing,
    start,
    start_reader,
    start_writer,
    summary,
    wait_until,
    write_seq,
    writer_binary,
)
from conftest import NameFactory

pytest.importorskip(
    "zenoh",
    reason="eclipse-zenoh is not installed (python/requirements-dev.txt and the "
    "zinc-shm[bridge] extra install it)",
)

# Fixtures, imported so that pytest finds them here.
__all__ = ["start", "writer_binary"]

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root"),
    pytest.mark.skipif(shutil.which("ip") is None, reason="no ip command (Debian: iproute2)"),
]

# Short limits, so that a dropped link is noticed in seconds: the lease,
# and how long a put may wait for a full queue before Zenoh closes the link.
LEASE_MS = 3000
ZENOH = {
    "transport/link/tx/lease": LEASE_MS,
    "transport/link/tx/queue/congestion_control/block/wait_before_close": LEASE_MS * 1000,
}


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=30)


class Namespaces:
    """Two namespaces, `a` and `b`, joined by veth devices va (10.X.Y.1 in
    a) and vb (10.X.Y.2 in b)."""

    def __init__(self) -> None:
        tag = f"{os.getpid() % 100000}{random.randrange(100)}"
        self.a, self.b = f"zinc-bra-{tag}", f"zinc-brb-{tag}"
        self.va, self.vb = f"zva{tag}"[:15], f"zvb{tag}"[:15]
        subnet = f"10.{random.randrange(200, 250)}.{random.randrange(1, 250)}"
        self.address_a, self.address_b = f"{subnet}.1", f"{subnet}.2"
        ip("netns", "add", self.a)
        ip("netns", "add", self.b)
        ip(
            "link",
            "add",
            self.va,
            "netns",
            self.a,
            "type",
            "veth",
            "peer",
            "name",
            self.vb,
            "netns",
            self.b,
        )
        for ns, dev, address in (
            (self.a, self.va, self.address_a),
            (self.b, self.vb, self.address_b),
        ):
            ip("-n", ns, "addr", "add", f"{address}/24", "dev", dev)
            ip("-n", ns, "link", "set", dev, "up")
            ip("-n", ns, "link", "set", "lo", "up")

    def exec_in(self, ns: str) -> Tuple[str, ...]:
        return ("ip", "netns", "exec", ns)

    def link(self, up: bool) -> None:
        ip("-n", self.b, "link", "set", self.vb, "up" if up else "down")

    def delete(self) -> None:
        for ns in (self.a, self.b):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=30)


@pytest.fixture
def namespaces() -> Iterator[Namespaces]:
    pair = Namespaces()
    try:
        yield pair
    finally:
        pair.delete()
        listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
        assert pair.a not in listed.stdout and pair.b not in listed.stdout, listed.stdout


def test_lossless_frames_cross_a_veth_link_that_goes_down_and_up(
    region_name: NameFactory,
    start: Start,
    writer_binary: Path,
    namespaces: Namespaces,
    tmp_path: Path,
) -> None:
    route = Route(region_name)
    settings = tmp_path / "lease.json"
    settings.write_text(json.dumps({"zenoh": ZENOH}))
    endpoint = f"tcp/{namespaces.address_a}:{route.port}"
    sending = start(
        *bridge_argv(
            "--publish", f"{route.src}={route.key}", "--listen", endpoint, "--config", str(settings)
        ),
        prefix=namespaces.exec_in(namespaces.a),
    )
    sending.wait_for("ready:", stream="err")
    receiving = start(
        *bridge_argv(
            "--subscribe",
            f"{route.key}={route.dst}",
            "--connect",
            endpoint,
            "--config",
            str(settings),
        ),
        prefix=namespaces.exec_in(namespaces.b),
    )
    receiving.wait_for("ready:", stream="err")
    frames = 4000
    reader = start_reader(start, route.dst, frames - 1, "--create", "lossless", "|u1", "1024")
    writer = start_writer(start, writer_binary, route.src, "lossless", frames, "1024", hz=500)

    # Down for a third of those limits: the link survives and nothing is lost.
    wait_until(lambda: write_seq(route.dst) >= 500, 60, "500 frames across the link")
    namespaces.link(up=False)
    time.sleep(LEASE_MS / 3000)  # the test is about time: an outage of that length
    namespaces.link(up=True)
    wait_until(lambda: write_seq(route.dst) >= 1500, 60, "frames after the short outage")
    assert gaps(receiving.log()) == []
    assert "no subscriber matches" not in sending.log()

    # Down until the publishing bridge's put has waited past the limit:
    # Zenoh closes the link, the bridge holds frames back (no subscriber
    # matches), and the receiving bridge reconnects when the link is back.
    namespaces.link(up=False)
    sending.wait_for("no subscriber matches", timeout=60, stream="err")
    namespaces.link(up=True)
    result = summary(reader, timeout=180)
    assert writer.finish() == 0
    assert result["corrupt"] == 0, result["first_corrupt"]
    assert result["indices"][-1][1] == frames - 1
    holes = missing(result["indices"], 0, frames - 1)
    assert holes == gaps(receiving.log())  # whatever was lost in flight was reported
    lost = sum(b - a + 1 for a, b in holes)
    print(f"lost in flight when the link was dropped: {lost} frames {holes}")
    assert lost < frames // 2
