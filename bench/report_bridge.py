"""The bridge part of docs/benchmarks.md (bench/report.py calls it):
bench/python/bridge_bench.py's rows, zinc-bridge next to plain Zenoh and a
local channel, measured in one run.

Run alone on a results file, it prints the section:
    python bench/report_bridge.py build/bench-results/python.jsonl
"""

from __future__ import annotations

import sys
from pathlib import Path

from report_format import fmt_ns, read_jsonl, table

ORDER = ("zenoh", "bridge", "channel")


def bridge_section(runs: list[dict], lines: list[str]) -> None:
    rows = [r for r in runs if r["bench"] == "python-bridge"]
    if not rows:
        return
    by = {(r["test"], r["key"]): r for r in rows}
    latency = [by[("latency-64B", k)] for k in ORDER if ("latency-64B", k) in by]
    fps = [by[("fps-1080p", k)] for k in ORDER if ("fps-1080p", k) in by]
    lines += [
        "## The bridge: zinc channels over Zenoh",
        "",
        "`bench/python/bridge_bench.py` (docs/bridge.md): a zinc channel carried by two",
        "`zinc-bridge` processes over Zenoh on loopback TCP (writer, two bridges and reader: four",
        "processes), against plain Zenoh publish/subscribe between two Python processes with",
        "the bridge's settings (peer mode, tcp, reliable, congestion control BLOCK), and a local",
        "channel for scale, in the same run. Latency: one 64-byte frame every 2 ms (no queue",
        "builds up), stamped by the sender and timed by the receiver on the same clock.",
        "Throughput: (1080, 1920, 3) uint8 frames (6.2 MB), lossless, as fast as the receiver",
        "takes them, counted at the receiver.",
        "",
    ]
    if latency:
        lines += [
            table(
                ["path", "64 B latency p50", "p99", "samples"],
                [
                    [r["label"], fmt_ns(r["p50_ns"]), fmt_ns(r["p99_ns"]), f"{r['samples']:,}"]
                    for r in latency
                ],
            ),
            "",
        ]
    if fps:
        lines += [
            table(
                ["path", "1080p frames/s", "GB/s", "frames"],
                [
                    [r["label"], f"{r['fps']:,.1f}", f"{r['gb_per_s']:.2f}", f"{r['frames']:,}"]
                    for r in fps
                ],
            ),
            "",
        ]
    cost = {k: by.get(("latency-64B", k)) for k in ("zenoh", "bridge")}
    if cost["zenoh"] and cost["bridge"]:
        extra = cost["bridge"]["p50_ns"] - cost["zenoh"]["p50_ns"]
        lines += [
            f"The bridge's own cost at p50: {fmt_ns(extra)} over plain Zenoh (two channel hops",
            "and two Python bridges on top of the same Zenoh link).",
            "",
        ]


def main() -> int:
    lines: list[str] = []
    bridge_section(read_jsonl(Path(sys.argv[1])), lines)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
