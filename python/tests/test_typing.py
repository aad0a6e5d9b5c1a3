"""mypy --strict passes on a file that uses the whole API, and on the package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import PYTHON_DIR, REPO_ROOT, NameFactory

TYPING_CHECK = PYTHON_DIR / "tests" / "typing_check.py"


def mypy_strict(target: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    cache = REPO_ROOT / "build" / "mypy-cache"
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(cache), str(target)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def test_file_using_the_whole_api_passes_mypy_strict(tmp_path: Path) -> None:
    # Run from an empty folder: `zinc` resolves to the installed package, so
    # this also checks that its py.typed marker and annotations ship.
    result = mypy_strict(TYPING_CHECK, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout


def test_package_source_passes_mypy_strict() -> None:
    result = mypy_strict(PYTHON_DIR / "zinc", cwd=PYTHON_DIR)
    assert result.returncode == 0, result.stdout + result.stderr


def test_file_using_the_whole_api_runs(region_name: NameFactory) -> None:
    completed = subprocess.run(
        [sys.executable, str(TYPING_CHECK), region_name()],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == "ok\n"
