"""asyncio benchmark: many pending SharedRegion.wait_async() calls.

For 1, 100 and 1,000 pending waits, each on a region of its own, three ways
of waiting:

    waiter      wait_async() today: shared waiter threads in futex_waitv,
                one per 127 regions
    threads     wait_async()'s fallback (ZINC_WAIT_ASYNC=threads): a
                dedicated thread per pending wait
    to_thread   wait_async() before: asyncio.to_thread() on the default
                executor (min(32, CPUs + 4) workers; the other waits queue)

and measures, in a fresh process per case:
    wake latency   notify one region (drawn at random, the same sequence for
                   every mode), time until its awaiting task resumes (the
                   task is re-armed after each sample); a sample that
                   takes over a second counts as starved, and three starved
                   samples end the series
    all woken      notify every region at once, time until every wait returned
    memory         resident memory and threads added by the pending waits

Usage: python bench/python/asyncio_waits.py [--samples=300] [--json=FILE]
       [--name-prefix=bench-aio-PID]
(zinc must be importable; scripts/bench installs ./python into .venv first.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import threading
import time
from typing import Any, Dict, List, Optional

import zinc
import zinc._async_wait  # imported by the first async call; "threads" patches it first

COUNTS = (1, 100, 1000)
MODES = ("waiter", "threads", "to_thread")
LONG_MS = 120_000
STARVED_S = 1.0


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


async def wait_before(region: zinc.SharedRegion, timeout_ms: int) -> bool:
    """wait_async() as it was before the waiter threads (verbatim)."""
    handle = region._handle()
    stop, token = region._begin_wait()
    try:
        return await asyncio.to_thread(zinc._wait, handle, timeout_ms)
    except BaseException:
        stop.set()
        raise
    finally:
        region._end_wait(stop, token)


def percentile(samples: List[int], q: float) -> Optional[int]:
    if not samples:
        return None
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.999999) - 1))]


async def measure(mode: str, count: int, samples: int, prefix: str) -> Dict[str, Any]:
    if mode == "threads":
        zinc._async_wait.shared_waiter = lambda make_error: None  # type: ignore[assignment]
    wait = wait_before if mode == "to_thread" else zinc.SharedRegion.wait_async
    names = [f"{prefix}-{mode}-{count}-{i}" for i in range(count)]
    owners = [zinc.SharedRegion.create(name, zinc.PAGE_SIZE) for name in names]
    readers = [zinc.SharedRegion.open(name) for name in names]
    try:
        for reader in readers:
            reader.try_wait()
        await asyncio.sleep(0.1)
        rss_before, threads_before = rss_kib(), threading.active_count()
        tasks = [asyncio.create_task(wait(r, LONG_MS)) for r in readers]
        await asyncio.sleep(0.5)
        rss_pending, threads_pending = rss_kib(), threading.active_count()

        latencies: List[int] = []
        starved = 0
        clock = time.perf_counter_ns
        order = random.Random(count)  # seeded: every mode notifies the same regions
        for _ in range(samples):
            i = order.randrange(count)
            start = clock()
            owners[i].notify()
            done, _ = await asyncio.wait({tasks[i]}, timeout=STARVED_S)
            if not done:
                starved += 1
                if starved >= 3:
                    break
                continue
            latencies.append(clock() - start)
            tasks[i] = asyncio.create_task(wait(readers[i], LONG_MS))
            await asyncio.sleep(0.001)  # let the new wait go to sleep

        await asyncio.sleep(0.2)
        start = clock()
        for owner in owners:
            owner.notify()
        _, pending = await asyncio.wait(tasks, timeout=10)
        all_woken_ns = None if pending else clock() - start
        for task in pending:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        return {
            "bench": "python-asyncio",
            "mode": mode,
            "pending": count,
            "samples": len(latencies),
            "starved": starved,
            "p50_ns": percentile(latencies, 0.5),
            "p99_ns": percentile(latencies, 0.99),
            "all_woken_ns": all_woken_ns,
            "rss_kib": rss_pending - rss_before,
            "threads": threads_pending - threads_before,
        }
    finally:
        for region in readers + owners:
            region.close()


def fmt_ns(ns: Optional[int]) -> str:
    if ns is None:
        return "-"
    return f"{ns / 1000:.0f} us" if ns < 1_000_000 else f"{ns / 1e6:.1f} ms"


def describe(row: Dict[str, Any]) -> str:
    starved = f", {row['starved']} starved" if row["starved"] else ""
    return (
        f"{row['mode']:9s} {row['pending']:5d} pending: wake p50 {fmt_ns(row['p50_ns'])}, "
        f"p99 {fmt_ns(row['p99_ns'])} ({row['samples']} samples{starved}); all woken "
        f"{fmt_ns(row['all_woken_ns']) if row['all_woken_ns'] else 'not within 10 s'}; "
        f"+{row['rss_kib'] / 1024:.1f} MiB, +{row['threads']} threads"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--json", default="")
    parser.add_argument("--name-prefix", default=f"bench-aio-{os.getpid()}")
    parser.add_argument(
        "--case", default="", help=argparse.SUPPRESS
    )  # MODE:COUNT, internal
    args = parser.parse_args()
    if args.case:
        mode, count = args.case.split(":")
        row = asyncio.run(measure(mode, int(count), args.samples, args.name_prefix))
        print(json.dumps(row))
        return 0
    rows = []
    for count in COUNTS:
        for mode in MODES:
            # A fresh process per case: threads and memory of one case do not
            # linger into the next.
            result = subprocess.run(
                [
                    sys.executable,
                    __file__,
                    f"--case={mode}:{count}",
                    f"--samples={args.samples}",
                    f"--name-prefix={args.name_prefix}",
                ],
                capture_output=True,
                text=True,
                timeout=600,
            )
            if result.returncode != 0:
                print(result.stderr, file=sys.stderr)
                return 1
            row = json.loads(result.stdout.splitlines()[-1])
            rows.append(row)
            print(describe(row), flush=True)
    if args.json:
        with open(args.json, "a") as out:
            for row in rows:
                out.write(json.dumps(row) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
