"""The Python benchmark (bench/python/run.py) runs briefly and cleanly.

Its numbers are not checked here (scripts/bench measures them); this keeps
the script working as the package changes. iceoryx2 is left out where it is
installed: it keeps a global iox2_* file in /dev/shm, which a test must not
leave behind.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT, NameFactory, peer_env

RUN = REPO_ROOT / "bench" / "python" / "run.py"


@pytest.mark.skipif(not RUN.exists(), reason="bench/ is not in this checkout")
@pytest.mark.parametrize("placement", ["one-cpu", "scheduler"])
def test_python_benchmark_runs_and_leaves_no_region(
    placement: str, region_name: NameFactory, tmp_path: Path
) -> None:
    prefix = region_name()
    out = tmp_path / "python.jsonl"
    iox2_before = set(Path("/dev/shm").glob("iox2_*"))
    result = subprocess.run(
        [
            sys.executable,
            str(RUN),
            "--rounds=50",
            f"--placement={placement}",
            f"--name-prefix={prefix}",
            "--no-iceoryx2",
            f"--json={out}",
        ],
        capture_output=True,
        text=True,
        env=peer_env(),
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    pingpongs = {r["key"]: r for r in rows if r["bench"] == "python-pingpong"}
    assert {"zinc", "mp-pipe", "mp-shm-event"} <= set(pingpongs)
    for row in pingpongs.values():
        assert row["placement"] == placement
        assert row["rounds"] == 50
        assert 0 < row["p50_ns"] <= row["p99_ns"] <= row["p999_ns"]
    assert f"python zinc          {placement:9s}: p50" in result.stdout
    assert not list(Path("/dev/shm").glob(f"zinc_{prefix}*"))
    assert set(Path("/dev/shm").glob("iox2_*")) <= iox2_before
