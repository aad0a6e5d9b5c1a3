"""The bridge benchmark (bench/python/bridge_bench.py) runs briefly and
cleanly: every path of both tests gives a well-formed row. Its numbers are
not checked here (scripts/bench measures them)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT, NameFactory, object_path, peer_env

BENCH = REPO_ROOT / "bench" / "python" / "bridge_bench.py"

pytest.importorskip(
    "zenoh",
    reason="eclipse-zenoh is not installed (python/requirements-dev.txt and the "
    "zinc-shm[bridge] extra install it)",
)


@pytest.mark.skipif(not BENCH.exists(), reason="bench/ is not in this checkout")
def test_bridge_benchmark_runs_every_path_and_leaves_no_region(
    region_name: NameFactory, tmp_path: Path
) -> None:
    prefix = region_name()
    out = tmp_path / "bridge.jsonl"
    result = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--samples=20",
            "--seconds=0.2",
            f"--name-prefix={prefix}",
            f"--json={out}",
        ],
        capture_output=True,
        text=True,
        env=peer_env(),
        timeout=240,
    )
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [(r["test"], r["key"]) for r in rows] == [
        (test, key)
        for test in ("latency-64B", "fps-1080p")
        for key in ("zenoh", "bridge", "channel")
    ]
    for row in rows:
        assert row["bench"] == "python-bridge"
        if row["test"] == "latency-64B":
            assert row["samples"] == 20 and 0 < row["p50_ns"] <= row["p99_ns"]
        else:
            assert row["frames"] > 0 and row["fps"] > 0
    for test in ("latency-64B", "fps-1080p"):
        for end in ("src", "dst"):
            assert not object_path(f"{prefix}-{test}-{end}").exists()
