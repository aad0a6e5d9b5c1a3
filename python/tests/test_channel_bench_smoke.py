"""The channel benchmark (bench/python/channel_fps.py) runs briefly and cleanly.

Its numbers are not checked here (scripts/bench measures them); this keeps
the script working as the package changes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT, NameFactory, peer_env

FPS = REPO_ROOT / "bench" / "python" / "channel_fps.py"
TRANSPORTS = ["zinc-frame", "zinc-send", "mp-queue", "shm-index-queue"]


@pytest.mark.skipif(not FPS.exists(), reason="bench/ is not in this checkout")
def test_channel_benchmark_runs_every_transport_and_leaves_no_region(
    region_name: NameFactory, tmp_path: Path
) -> None:
    prefix = region_name()
    out = tmp_path / "fps.jsonl"
    result = subprocess.run(
        [sys.executable, str(FPS), "--seconds=0.1", f"--name-prefix={prefix}", f"--json={out}"],
        capture_output=True,
        text=True,
        env=peer_env(),
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["key"] for r in rows] == TRANSPORTS
    for row in rows:
        assert row["bench"] == "python-channel-fps"
        assert row["frame_bytes"] == 1080 * 1920 * 3
        assert row["frames"] > 0 and row["fps"] > 0
        assert row["slots"] == 4 and row["fill_us"] > 0
    table = result.stdout.splitlines()
    assert "| transport | slots | frames/s | GB/s | fill us | frames | how a frame moves |" in table
    assert sum(line.startswith("| zinc-") for line in table) == 2
    assert not list(Path("/dev/shm").glob(f"zinc_{prefix}*"))


COST = REPO_ROOT / "bench" / "python" / "frame_cost.py"


@pytest.mark.skipif(not COST.exists(), reason="bench/ is not in this checkout")
def test_frame_cost_benchmark_prints_its_rows_and_leaves_no_region(
    region_name: NameFactory, tmp_path: Path
) -> None:
    prefix = region_name()
    out = tmp_path / "cost.jsonl"
    result = subprocess.run(
        [
            sys.executable,
            str(COST),
            "--batches=20",
            "--no-iceoryx2",
            f"--name-prefix={prefix}",
            f"--json={out}",
        ],
        capture_output=True,
        text=True,
        env=peer_env(),
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    rows = {r["key"]: r["ns"] for r in map(json.loads, out.read_text().splitlines())}
    assert rows["zinc frame()+commit"] > 0 and rows["zinc recv+release"] > 0
    assert rows["(C calls alone: acquire+commit)"] > 0
    assert "| what | ns per frame |" in result.stdout.splitlines()
    assert not list(Path("/dev/shm").glob(f"zinc_{prefix}*"))
