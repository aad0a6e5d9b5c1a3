"""Wait sets from Python: zinc.WaitSet against iceoryx2's WaitSet.

A waiter process holds N members and waits on all of them with one call; a
notifier process notifies one member at a time (drawn at random, the same
sequence for both), after --gap-us, once the waiter acknowledged the last.

    zinc       N regions in a zinc.WaitSet; the notifier calls notify()
    iceoryx2   N event services, a Listener each attached to an iceoryx2
               WaitSet (attach_notification); the notifier calls notify()

Both stamp time.monotonic_ns() into the same shared page (a zinc region)
just before the notify, and acknowledge through another, so only the
wake-up path differs. Reported: wake latency (stamp to the waiter's wake,
p50/p99) and the waiter's CPU while it waits --idle-seconds with nothing
coming (getrusage, all threads, as a percentage of one CPU).

Usage: python bench/python/wait_sets.py [--members=1,10,100,1000]
       [--samples=500] [--gap-us=300] [--idle-seconds=1] [--json=FILE]
       [--no-iceoryx2]
(zinc must be importable; scripts/bench installs ./python into .venv first.)
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import struct
import subprocess
import sys
import time
from typing import Any

import zinc

LONG_MS = 10_000


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def percentile(values: list[int], q: float) -> int:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def waiter(
    backend: str, prefix: str, members: int, samples: int, idle_seconds: float
) -> None:
    stamp = zinc.SharedRegion.open(prefix + "-stamp")
    ack = zinc.SharedRegion.open(prefix + "-ack")
    view = stamp.as_buffer()
    latencies: list[int] = []
    if backend == "zinc":
        regions = [zinc.SharedRegion.open(f"{prefix}-{k}") for k in range(members)]
        ws = zinc.WaitSet()
        for k, region in enumerate(regions):
            ws.add(region, key=k)
        print("ready", flush=True)
        while len(latencies) < samples:
            for _ in ws.wait(LONG_MS):
                latencies.append(
                    time.monotonic_ns() - struct.unpack_from("<q", view)[0]
                )
                ack.notify()
        cpu0, wall0 = cpu_s(), time.monotonic()
        ws.wait(int(idle_seconds * 1000))
    else:
        import iceoryx2 as iox2

        node = iox2.NodeBuilder.new().create(iox2.ServiceType.Ipc)
        listeners = []
        for k in range(members):
            service = (
                node.service_builder(iox2.ServiceName.new(f"{prefix}-{k}"))
                .event()
                .open_or_create()
            )
            listeners.append(service.listener_builder().create())
        waitset = iox2.WaitSetBuilder.new().create(iox2.ServiceType.Ipc)
        guards = [waitset.attach_notification(listener) for listener in listeners]
        by_id = {
            iox2.WaitSetAttachmentId.from_guard(g): listeners[k]
            for k, g in enumerate(guards)
        }
        print("ready", flush=True)
        timeout = iox2.Duration.from_millis(LONG_MS)
        while len(latencies) < samples:
            notifications, _ = waitset.wait_and_process_with_timeout(timeout)
            for attachment in notifications:
                latencies.append(
                    time.monotonic_ns() - struct.unpack_from("<q", view)[0]
                )
                listener = by_id[attachment]
                for _ in range(64):  # consume the events, or it stays ready
                    if listener.try_wait() is None:
                        break
                ack.notify()
        cpu0, wall0 = cpu_s(), time.monotonic()
        waitset.wait_and_process_with_timeout(
            iox2.Duration.from_millis(int(idle_seconds * 1000))
        )
    idle_pct = 100 * (cpu_s() - cpu0) / (time.monotonic() - wall0)
    print(
        json.dumps(
            {
                "p50_ns": percentile(latencies, 0.5),
                "p99_ns": percentile(latencies, 0.99),
                "idle_cpu_pct": idle_pct,
            }
        ),
        flush=True,
    )


def notifier(
    backend: str, prefix: str, members: int, samples: int, gap_us: int
) -> None:
    stamp = zinc.SharedRegion.open(prefix + "-stamp")
    ack = zinc.SharedRegion.open(prefix + "-ack")
    view = stamp.as_buffer()
    if backend == "zinc":
        targets: list[Any] = [
            zinc.SharedRegion.open(f"{prefix}-{k}") for k in range(members)
        ]
    else:
        import iceoryx2 as iox2

        node = iox2.NodeBuilder.new().create(iox2.ServiceType.Ipc)
        targets = [
            node.service_builder(iox2.ServiceName.new(f"{prefix}-{k}"))
            .event()
            .open_or_create()
            .notifier_builder()
            .create()
            for k in range(members)
        ]
    print("ready", flush=True)
    sys.stdin.readline()  # the waiter is ready too
    draw = random.Random(7)
    for _ in range(samples):
        k = draw.randrange(members)
        time.sleep(draw.uniform(0.5, 1.5) * gap_us / 1e6)
        struct.pack_into("<q", view, 0, time.monotonic_ns())
        targets[k].notify()
        if not ack.wait(LONG_MS):
            raise SystemExit("notifier: no acknowledgement")
    sys.stdin.readline()  # until the waiter is done


def run_case(
    backend: str, members: int, samples: int, gap_us: int, idle_seconds: float
) -> dict[str, Any]:
    prefix = f"bench-wsp-{os.getpid()}-{backend}-{members}"
    owned = [zinc.SharedRegion.create(prefix + "-stamp", zinc.PAGE_SIZE)]
    owned.append(zinc.SharedRegion.create(prefix + "-ack", zinc.PAGE_SIZE))
    if backend == "zinc":
        owned += [
            zinc.SharedRegion.create(f"{prefix}-{k}", zinc.PAGE_SIZE)
            for k in range(members)
        ]
    me = [sys.executable, __file__]
    common = [backend, prefix, str(members), str(samples)]
    try:
        wait = subprocess.Popen(
            [*me, "--role=waiter", *common, str(idle_seconds)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert wait.stdout is not None
        notify = subprocess.Popen(
            [*me, "--role=notifier", *common, str(gap_us)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert notify.stdin is not None and notify.stdout is not None
        if (
            wait.stdout.readline().strip() != "ready"
            or notify.stdout.readline().strip() != "ready"
        ):
            raise SystemExit(f"{backend}: a peer did not start")
        notify.stdin.write("go\n")
        notify.stdin.flush()
        result = json.loads(wait.stdout.readline())
        notify.stdin.write("done\n")
        notify.stdin.flush()
        notify.wait(timeout=60)
        wait.wait(timeout=60)
    finally:
        for region in owned:
            region.close()
    return {"bench": "py_wait_set", "backend": backend, "members": members, **result}


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1].startswith("--role="):
        role = sys.argv[1].split("=", 1)[1]
        backend, prefix, members, samples, last = sys.argv[2:7]
        if role == "waiter":
            waiter(backend, prefix, int(members), int(samples), float(last))
        else:
            notifier(backend, prefix, int(members), int(samples), int(last))
        return 0
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", default="1,10,100,1000")
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--gap-us", type=int, default=300)
    parser.add_argument("--idle-seconds", type=float, default=1.0)
    parser.add_argument("--json", default="")
    parser.add_argument("--no-iceoryx2", action="store_true")
    args = parser.parse_args()
    backends = ["zinc"]
    if not args.no_iceoryx2:
        try:
            import iceoryx2  # noqa: F401

            backends.append("iceoryx2")
        except ImportError as error:
            print(f"iceoryx2 is not installed ({error}); zinc only", file=sys.stderr)
    for members in (int(m) for m in args.members.split(",")):
        for backend in backends:
            row = run_case(
                backend, members, args.samples, args.gap_us, args.idle_seconds
            )
            print(
                f"{backend:9} {members:5} members: wake p50 {row['p50_ns'] / 1000:.1f} us "
                f"p99 {row['p99_ns'] / 1000:.1f} us, idle {row['idle_cpu_pct']:.3f}% of a CPU",
                flush=True,
            )
            if args.json:
                with open(args.json, "a") as out:
                    out.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
