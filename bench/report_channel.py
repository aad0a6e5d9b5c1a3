"""The channel part of docs/benchmarks.md (bench/report.py calls it).

Two sections: fan-out latency from one writer to 1..16 reader processes
(bench/fanout.cpp, bench/iceoryx2), and lossless channel throughput to one
checksumming reader (bench/stream.cpp --transport=channel) next to memcpy.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
from report_format import fmt_bytes, fmt_ns, table, verdict

# The fan-out series, in table order: (transport, readers spin) -> label.
# "sleep" means ZINC_SPIN_US=0 (woken by the commit's notify), "spin" the
# library's adaptive default.
FANOUT_SERIES = {
    ("channel", "sleep"): "zinc channel, lossless",
    ("channel-latest", "sleep"): "zinc channel, latest",
    ("channel", "spin"): "zinc channel, lossless, default spin",
    ("pipe", "sleep"): "a pipe per reader",
    ("iceoryx2", "sleep"): "iceoryx2 publish/subscribe + event",
}
ZINC = ("channel", "sleep")
ICEORYX2 = ("iceoryx2", "sleep")


def series_of(run: dict) -> tuple[str, str]:
    if run["transport"] in ("channel", "channel-latest") and run.get("spin_us", 0) != 0:
        return (run["transport"], "spin")
    return (run["transport"], "sleep")


def fanout_runs(runs: list[dict]) -> dict[int, dict[tuple[str, str], dict[int, dict]]]:
    """frame size -> series -> readers -> run."""
    out: dict[int, dict[tuple[str, str], dict[int, dict]]] = {}
    for r in runs:
        if r["bench"] == "fanout":
            out.setdefault(r["frame_bytes"], {}).setdefault(series_of(r), {})[
                r["readers"]
            ] = r
    return out


def fanout_section(
    runs: list[dict],
    docs: Path,
    machine: dict[str, str],
    lines: list[str],
    checks: list[list[str]],
) -> None:
    by_frame = fanout_runs(runs)
    notes = [r["text"] for r in runs if r["bench"] == "fanout-note"]
    if not by_frame:
        return
    counts = sorted(
        {n for series in by_frame.values() for runs_ in series.values() for n in runs_}
    )
    load = machine.get("load_fanout")
    lines += [
        "## Channels: fan-out latency to 1..16 reader processes",
        "",
        "One writer process sends fixed-size frames to N reader processes forked from it",
        "(`bench/fanout.cpp`; iceoryx2 in `bench/iceoryx2`, Rust, the same protocol). The writer",
        "fills each frame, then writes its CLOCK_MONOTONIC time into it and publishes it; each",
        "reader records the time from that stamp to its read returning. The writer sends the next",
        "frame only after every reader acknowledged the last (a counter in shared memory, not",
        "timed) and 100 us more passed, so each sample is one hand-over to a reader that waits for",
        "it. Cells are p50 / p99 over all readers' samples; every column of a row was measured",
        "back to back.",
        "",
        "- **zinc channel**: `zinc_channel_acquire` → fill → `zinc_channel_commit`; each reader in",
        "  a blocking `zinc_channel_read` (1 s timeout), looks at the stamp and the frame's last",
        "  byte in place, `zinc_channel_release`. Readers run with `ZINC_SPIN_US=0`, so they sleep",
        "  in the kernel and the commit's notify (one FUTEX_WAKE for all of them) wakes them;",
        '  the "default spin" column keeps the library\'s adaptive spin (up to 50 us) instead.',
        "- **a pipe per reader**: the writer `write()`s the frame into N pipes in turn (buffers",
        "  raised to hold a whole frame); each reader `read()`s all of it (a copy).",
        "- **iceoryx2** 0.10 (Rust crate, `ipc::Service`): `loan_slice_uninit` → fill → `send`,",
        "  then `notify` on an event service; each reader sleeps in `Listener::timed_wait` and",
        "  takes the sample with `Subscriber::receive` (zero copy, like zinc). Publish/subscribe",
        "  has no blocking receive of its own; this pairing is iceoryx2's documented way to wake",
        "  a subscriber.",
        "",
        "Nothing is pinned. The machine has 2 CPUs, so from 2 readers on the readers queue for",
        "the CPUs, and 16 readers oversubscribe them 8 to 1: every reader that is woken needs a",
        "context switch, and the p50 of N readers grows with the readers that run before it on",
        "the same CPU. Other processes on the machine ran too"
        + (f" (load average {load} when the fan-out runs began)." if load else "."),
        "",
        "The 1 MiB rows include what producing the frame does to the machine: the writer's",
        "1 MiB of stores comes just before the stamp (see the payload section above for the",
        "same effect on a single notify). The pipe rows also copy the frame into every pipe",
        "and out again, one reader after another.",
        "",
    ]
    for frame in sorted(by_frame):
        series = by_frame[frame]
        present = [key for key in FANOUT_SERIES if key in series]
        rows = []
        for n in counts:
            row = [str(n)]
            for key in present:
                r = series[key].get(n)
                row.append(
                    f"{fmt_ns(r['latency_p50_ns'])} / {fmt_ns(r['latency_p99_ns'])}"
                    if r
                    else ""
                )
            rows.append(row)
        lines += [
            f"### {fmt_bytes(frame)} frames",
            "",
            table(["readers"] + [FANOUT_SERIES[key] for key in present], rows),
            "",
        ]
        zinc = series.get(ZINC, {})
        extremes = [
            [str(n)]
            + [
                f"{fmt_ns(series[key][n]['fastest_p50_ns'])} / "
                f"{fmt_ns(series[key][n]['slowest_p50_ns'])}"
                if n in series[key]
                else ""
                for key in present
            ]
            for n in counts
        ]
        lines += [
            "The first and the last reader to get each frame: p50 over the frames of the",
            "lowest / the highest latency among the readers. The first reader's figure is the",
            "closest to the hand-over itself; the others wait for a CPU as well. A zinc commit",
            "wakes every sleeping reader with one FUTEX_WAKE, which the kernel carries out one",
            "reader after another; a pipe writer wakes reader k with its k-th write.",
            "",
            table(["readers"] + [FANOUT_SERIES[key] for key in present], extremes),
            "",
        ]
        if 1 in zinc and 8 in zinc:
            one, eight = zinc[1]["latency_p50_ns"], zinc[8]["latency_p50_ns"]
            checks.append(
                [
                    f"channel fan-out of {fmt_bytes(frame)}: p50 to 8 readers within 2x of "
                    "1 reader",
                    f"{fmt_ns(eight)} vs {fmt_ns(one)}: {eight / one:.2f}x (the first of "
                    f"the 8 readers to get each frame: p50 "
                    f"{fmt_ns(zinc[8]['fastest_p50_ns'])})",
                    verdict(eight <= 2 * one),
                ]
            )
        peer = series.get(ICEORYX2, {})
        both = [n for n in counts if n in zinc and n in peer]
        if both:
            slower = [
                n
                for n in both
                if zinc[n]["latency_p50_ns"] >= peer[n]["latency_p50_ns"]
            ]
            ratios = ", ".join(
                f"{n}: {fmt_ns(zinc[n]['latency_p50_ns'])} vs {fmt_ns(peer[n]['latency_p50_ns'])}"
                for n in both
            )
            checks.append(
                [
                    f"channel fan-out of {fmt_bytes(frame)}: p50 below iceoryx2's at every reader "
                    "count",
                    ratios
                    + (
                        f" (not below at {', '.join(map(str, slower))})"
                        if slower
                        else ""
                    ),
                    verdict(not slower),
                ]
            )
    if ZINC in by_frame.get(64, {}):
        cpu_rows = []
        for n in counts:
            cells = [str(n)]
            for key in (ZINC, ("channel", "spin")):
                r = by_frame[64].get(key, {}).get(n)
                cells.append(
                    f"{r['readers_cpu_pct']:.0f}% / {r['writer_cpu_pct']:.0f}%"
                    if r
                    else ""
                )
            cpu_rows.append(cells)
        lines += [
            "CPU time of the 64 B runs, as % of one CPU: all readers together (their warm-up",
            "included) / the writer. With 100 us between frames the adaptive spin finds that",
            "frames come later than its limit and shrinks towards its 1 us floor, so the two",
            "columns cost about the same.",
            "",
            table(
                ["readers", FANOUT_SERIES[ZINC], FANOUT_SERIES[("channel", "spin")]],
                cpu_rows,
            ),
            "",
        ]
    lines += [f"Note: {text}" for text in notes] + ([""] if notes else [])
    lines += [
        "There is no Python column yet: `zinc.Channel` came to the Python adapter while this",
        "benchmark was written, and a Python reader is still to be added to `bench/fanout.cpp`'s",
        "protocol (`bench/python/channel_fps.py` measures Python channel frame rates).",
        "",
        "![Fan-out latency against the number of readers](bench/fanout.png)",
        "",
    ]
    plot_fanout(by_frame, docs)


def plot_fanout(
    by_frame: dict[int, dict[tuple[str, str], dict[int, dict]]], docs: Path
) -> None:
    frames = sorted(by_frame)
    fig, axes = plt.subplots(
        1, len(frames), figsize=(6 * len(frames), 4.5), squeeze=False
    )
    for ax, frame in zip(axes[0], frames, strict=True):
        for key, label in FANOUT_SERIES.items():
            points = by_frame[frame].get(key)
            if not points:
                continue
            xs = sorted(points)
            ax.plot(
                xs,
                [points[x]["latency_p50_ns"] / 1000 for x in xs],
                marker="o",
                label=label,
            )
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xticks(sorted({x for p in by_frame[frame].values() for x in p}))
        ax.get_xaxis().set_major_formatter(plt.ScalarFormatter())
        ax.set_xlabel("reader processes (2 CPUs)")
        ax.set_ylabel("p50 latency, stamp to read (us, log scale)")
        ax.set_title(f"Fan-out of {fmt_bytes(frame)} frames")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(docs / "bench" / "fanout.png", dpi=110)
    plt.close(fig)


def channel_stream_section(
    runs: list[dict], lines: list[str], checks: list[list[str]]
) -> None:
    memcpy = next(
        (
            r["gb_per_s"]
            for r in runs
            if r["bench"] == "stream" and r["transport"] == "memcpy"
        ),
        None,
    )
    channel = [
        r for r in runs if r["bench"] == "stream" and r["transport"] == "channel"
    ]
    if not channel:
        return
    channel.sort(key=lambda r: (r["frame_bytes"], r["slots"]))
    rows = []
    for r in channel:
        share = f"{100 * r['gb_per_s'] / memcpy:.0f}%" if memcpy else ""
        rows.append(
            [
                fmt_bytes(r["frame_bytes"]),
                str(r["slots"]),
                f"{r['gb_per_s']:.2f}",
                f"{r['frames_per_s']:,.0f}",
                share,
            ]
        )
    lines += [
        "## Channels: throughput to one checksumming reader",
        "",
        "A lossless channel from a producer process to one consumer process",
        "(`bench/stream.cpp --transport=channel`, pinned to one CPU each like the other stream",
        "rows): the producer acquires a slot, fills it (memset) and commits it; the consumer reads",
        "it, sums every byte of the frame in place as 64-bit words, checks the sum, and releases",
        "it. The yardstick is the same run's single-thread memcpy"
        + (f" ({memcpy:.2f} GB/s, 1 GiB buffers)." if memcpy else "."),
        "",
        table(["frame", "slots", "GB/s", "frames/s", "of memcpy"], rows),
        "",
        "A 4 KiB frame is in the caches, so its cost is the hand-over: each frame's cache lines",
        "move from the producer's CPU to the consumer's and back, and every commit and release",
        "touches the channel's shared counters. A longer ring lets the two sides drift further",
        "apart.",
        "",
    ]
    if memcpy:
        for frame in sorted({r["frame_bytes"] for r in channel}):
            best = max(
                (r for r in channel if r["frame_bytes"] == frame),
                key=lambda r: r["gb_per_s"],
            )
            checks.append(
                [
                    f"channel, {fmt_bytes(frame)} frames, one checksumming reader: at least 50% of "
                    "memcpy",
                    f"{best['gb_per_s']:.2f} GB/s ({best['slots']} slots) vs memcpy "
                    f"{memcpy:.2f} GB/s: {100 * best['gb_per_s'] / memcpy:.0f}%",
                    verdict(best["gb_per_s"] >= 0.5 * memcpy),
                ]
            )


def python_channel_fps_section(runs: list[dict], lines: list[str]) -> None:
    """Frames per second of bench/python/channel_fps.py (zinc.Channel vs multiprocessing)."""
    rows = [r for r in runs if r["bench"] == "python-channel-fps"]
    if not rows:
        return
    lines += [
        "### Channels from Python: 1080p frames per second",
        "",
        "`bench/python/channel_fps.py`: a (1080, 1920, 3) uint8 frame (6.2 MB) from one Python",
        "process to another, for a few seconds per transport. The producer renders every frame",
        "(fills all of it); the consumer checks two bytes and sums one row. zinc renders into",
        "the slot itself (`writer.frame()`) or into an array it then sends (`writer.send()`, one",
        "copy); `multiprocessing.Queue` pickles the array; `shared_memory` + Queue renders into",
        "one of a few shared slots and passes the slot's index.",
        "",
        table(
            ["transport", "frames/s", "GB/s", "frames"],
            [
                [r["label"], f"{r['fps']:,.0f}", f"{r['gb_per_s']:.2f}", f"{r['frames']:,}"]
                for r in rows
            ],
        ),
        "",
    ]
