"""Python benchmarks: zinc against the standard library's alternatives.

A ping-pong between two Python processes (a parent and a spawned child):
the parent sends, the child answers, the parent times each round trip.

    zinc            two regions, notify() / wait()
    mp-pipe         multiprocessing.Pipe, send_bytes / recv_bytes
    mp-shm-event    multiprocessing.shared_memory plus two multiprocessing.Event
    iceoryx2        iceoryx2 event services (Notifier / Listener), if installed

and the cost of SharedRegion.as_numpy() on a 4 KiB and a 1 GiB region.

--placement=two-cpus (the default) pins the parent and the child to different
CPUs, as in the C benchmarks; one-cpu pins both to the same CPU, where every
hand-over is a context switch (on a VM much cheaper than waking an idle
virtual CPU, so blocking transports are faster there); scheduler pins
neither (--no-pin is the same).

Usage: python bench/python/run.py [--rounds=20000] [--placement=two-cpus]
       [--json=FILE] [--name-prefix=bench-py-PID] [--no-iceoryx2]
(zinc must be importable; scripts/bench installs ./python into .venv first.)
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import statistics
import sys
import time
from typing import Any, Callable, Dict, List

import zinc

WARMUP = 200
TIMEOUT_MS = 10000


def summarize(samples: List[int]) -> Dict[str, float]:
    ordered = sorted(samples)
    n = len(ordered)

    def at(q: float) -> int:
        return ordered[min(n - 1, max(0, int(q * n + 0.999999) - 1))]

    return {
        "p50_ns": at(0.5),
        "p99_ns": at(0.99),
        "p999_ns": at(0.999),
        "mean_ns": statistics.fmean(ordered),
    }


# ---- the echo side of each transport (runs in the child) ----------------------


def echo_zinc(ping_name: str, pong_name: str, rounds: int, ready: Any) -> None:
    ping = zinc.SharedRegion.open(ping_name)
    pong = zinc.SharedRegion.open(pong_name)
    ready.set()
    for _ in range(rounds):
        if not ping.wait(TIMEOUT_MS):
            raise SystemExit("zinc echo: no ping within 10 s")
        pong.notify()
    ping.close()
    pong.close()


def echo_pipe(conn: Any, rounds: int, ready: Any) -> None:
    ready.set()
    for _ in range(rounds):
        conn.send_bytes(conn.recv_bytes())


def echo_shm_event(shm_name: str, ping: Any, pong: Any, rounds: int, ready: Any) -> None:
    from multiprocessing import shared_memory

    shm = shared_memory.SharedMemory(name=shm_name)
    ready.set()
    for _ in range(rounds):
        if not ping.wait(TIMEOUT_MS / 1000):
            raise SystemExit("shm+Event echo: no ping within 10 s")
        ping.clear()
        shm.buf[1] = shm.buf[0]  # answer in shared memory
        pong.set()
    shm.close()


def echo_iceoryx2(prefix: str, rounds: int, ready: Any) -> None:
    import iceoryx2 as iox2

    node = iox2.NodeBuilder.new().create(iox2.ServiceType.Ipc)
    ping = node.service_builder(iox2.ServiceName.new(prefix + "-ping")).event().open_or_create()
    pong = node.service_builder(iox2.ServiceName.new(prefix + "-pong")).event().open_or_create()
    listener = ping.listener_builder().create()
    notifier = pong.notifier_builder().create()
    ready.set()
    for _ in range(rounds):
        while not listener.blocking_wait():
            pass
        notifier.notify()


# ---- the timing side (runs in the parent) ---------------------------------------


def time_rounds(rounds: int, one_round: Callable[[], None]) -> List[int]:
    for _ in range(WARMUP):
        one_round()
    samples = []
    clock = time.perf_counter_ns
    for _ in range(rounds):
        start = clock()
        one_round()
        samples.append(clock() - start)
    return samples


def run_pinned(cpu: int, target: Callable[..., None], *args: Any) -> None:
    if cpu >= 0:
        os.sched_setaffinity(0, {cpu})
    target(*args)


CHILD_CPU = -1  # the child's CPU, or -1 to leave it to the scheduler
NAME_PREFIX = f"bench-py-{os.getpid()}"  # of the regions this run creates


def start_child(ctx: Any, target: Callable[..., None], *args: Any) -> Any:
    ready = ctx.Event()
    child = ctx.Process(target=run_pinned, args=(CHILD_CPU, target, *args, ready), daemon=True)
    child.start()
    if not ready.wait(60):
        child.kill()
        raise RuntimeError(f"{target.__name__} did not start")
    return child


def finish_child(child: Any) -> None:
    child.join(30)
    if child.exitcode != 0:
        raise RuntimeError(f"echo process failed with exit code {child.exitcode}")


def bench_zinc(ctx: Any, rounds: int) -> List[int]:
    base = NAME_PREFIX
    ping = zinc.SharedRegion.create(base + "-ping", zinc.PAGE_SIZE)
    pong = zinc.SharedRegion.create(base + "-pong", zinc.PAGE_SIZE)
    try:
        child = start_child(ctx, echo_zinc, base + "-ping", base + "-pong", WARMUP + rounds)

        def one_round() -> None:
            ping.notify()
            if not pong.wait(TIMEOUT_MS):
                raise RuntimeError("zinc: no pong within 10 s")

        samples = time_rounds(rounds, one_round)
        finish_child(child)
        return samples
    finally:
        ping.close()
        pong.close()


def bench_pipe(ctx: Any, rounds: int) -> List[int]:
    parent_end, child_end = ctx.Pipe()
    child = start_child(ctx, echo_pipe, child_end, WARMUP + rounds)

    def one_round() -> None:
        parent_end.send_bytes(b"x")
        parent_end.recv_bytes()

    samples = time_rounds(rounds, one_round)
    finish_child(child)
    return samples


def bench_shm_event(ctx: Any, rounds: int) -> List[int]:
    from multiprocessing import shared_memory

    shm = shared_memory.SharedMemory(create=True, size=4096)
    ping, pong = ctx.Event(), ctx.Event()
    try:
        child = start_child(ctx, echo_shm_event, shm.name, ping, pong, WARMUP + rounds)
        counter = [0]

        def one_round() -> None:
            counter[0] = (counter[0] + 1) % 256
            shm.buf[0] = counter[0]
            ping.set()
            if not pong.wait(TIMEOUT_MS / 1000):
                raise RuntimeError("shm+Event: no pong within 10 s")
            pong.clear()

        samples = time_rounds(rounds, one_round)
        finish_child(child)
        return samples
    finally:
        shm.close()
        shm.unlink()


def bench_iceoryx2(ctx: Any, rounds: int) -> List[int]:
    import iceoryx2 as iox2

    prefix = f"zinc-bench-{os.getpid()}"
    node = iox2.NodeBuilder.new().create(iox2.ServiceType.Ipc)
    ping = node.service_builder(iox2.ServiceName.new(prefix + "-ping")).event().open_or_create()
    pong = node.service_builder(iox2.ServiceName.new(prefix + "-pong")).event().open_or_create()
    notifier = ping.notifier_builder().create()
    listener = pong.listener_builder().create()
    child = start_child(ctx, echo_iceoryx2, prefix, WARMUP + rounds)

    def one_round() -> None:
        notifier.notify()
        while not listener.blocking_wait():
            pass

    samples = time_rounds(rounds, one_round)
    finish_child(child)
    return samples


def bench_as_numpy(capacity: int, calls: int = 2000) -> float:
    region = zinc.SharedRegion.create(f"{NAME_PREFIX}-np-{capacity}", capacity)
    try:
        clock = time.perf_counter_ns
        samples = []
        for _ in range(calls):
            start = clock()
            view = region.as_numpy()
            samples.append(clock() - start)
            del view
        return statistics.median(samples)
    finally:
        region.close()


def main() -> int:
    global CHILD_CPU, NAME_PREFIX
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20000)
    parser.add_argument("--json", default="")
    parser.add_argument(
        "--placement", choices=("two-cpus", "one-cpu", "scheduler"), default="two-cpus"
    )
    parser.add_argument("--no-pin", action="store_true", help="same as --placement=scheduler")
    parser.add_argument("--name-prefix", default=NAME_PREFIX, help="of the regions it creates")
    parser.add_argument(
        "--no-iceoryx2",
        action="store_true",
        help="skip iceoryx2 even if installed (it keeps a global iox2_* file in /dev/shm)",
    )
    args = parser.parse_args()
    NAME_PREFIX = args.name_prefix
    cpus = sorted(os.sched_getaffinity(0))
    placement = "scheduler" if args.no_pin else args.placement
    if placement == "two-cpus" and len(cpus) < 2:
        placement = "one-cpu"  # what two-cpus means with a single CPU
    if placement != "scheduler":
        CHILD_CPU = cpus[1] if placement == "two-cpus" else cpus[0]
        os.sched_setaffinity(0, {cpus[0]})
    ctx = mp.get_context("spawn")
    lines: List[Dict[str, Any]] = []

    transports = [
        ("zinc", "zinc SharedRegion notify() / wait()", bench_zinc),
        ("mp-pipe", "multiprocessing.Pipe (send_bytes / recv_bytes)", bench_pipe),
        ("mp-shm-event", "multiprocessing.shared_memory + Event", bench_shm_event),
    ]
    try:
        if not args.no_iceoryx2:
            import iceoryx2  # noqa: F401

            transports.append(
                ("iceoryx2", "iceoryx2 event (Notifier / Listener.blocking_wait)", bench_iceoryx2)
            )
    except ImportError as error:
        lines.append(
            {
                "bench": "python-note",
                "text": f"iceoryx2 is not installed ({error}); its row is missing.",
            }
        )

    for key, label, run in transports:
        samples = run(ctx, args.rounds)
        line = {
            "bench": "python-pingpong",
            "key": key,
            "label": label,
            "placement": placement,
            "rounds": len(samples),
            **summarize(samples),
        }
        lines.append(line)
        print(
            f"python {key:13s} {placement:9s}: "
            f"p50 {line['p50_ns'] / 1000:8.2f} us  p99 {line['p99_ns'] / 1000:8.2f} us"
        )

    for capacity in (4096, 1 << 30) if placement == "two-cpus" else ():
        median = bench_as_numpy(capacity)
        lines.append({"bench": "python-as-numpy", "capacity": capacity, "median_ns": median})
        print(f"python as_numpy {capacity:>11,} B: {median:.0f} ns")

    if args.json:
        with open(args.json, "a") as out:
            for line in lines:
                out.write(json.dumps(line) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
