"""The READMEs' Python examples are the code that runs, and print what they show."""

from __future__ import annotations

import doctest
import re
from pathlib import Path
from typing import Callable, List, Tuple

import pytest
from conftest import PYTHON_DIR, REPO_ROOT, NameFactory, Peer, object_path

EXAMPLES = PYTHON_DIR / "examples"
QUICKSTART_NAME = "quickstart-py"


def fenced_blocks(markdown: str) -> List[Tuple[str, str]]:
    """(language, body) of every fenced code block, in order."""
    return [(m.group(1), m.group(2)) for m in re.finditer(r"```(\w*)\n(.*?)```", markdown, re.S)]


def quickstart_blocks(markdown: str) -> List[Tuple[str, str]]:
    """The python and text blocks of the writer/reader quick start."""
    blocks = [b for b in fenced_blocks(markdown) if b[0] in ("python", "text")]
    for i in range(len(blocks) - 3):
        if blocks[i][0] == "python" and "quickstart_writer" in blocks[i + 1][1]:
            return blocks[i : i + 4]
    raise AssertionError("no quick start with quickstart_writer.py found")


def section(markdown: str, heading: str) -> str:
    start = markdown.index(heading)
    end = markdown.find("\n## ", start + len(heading))
    return markdown[start : end if end != -1 else len(markdown)]


READMES = {
    "top_level": lambda: section((REPO_ROOT / "README.md").read_text(), "## Quick start in Python"),
    "python": lambda: (PYTHON_DIR / "README.md").read_text(),
}


@pytest.mark.parametrize("readme", sorted(READMES))
def test_quickstart_code_in_readme_is_the_example_files(readme: str) -> None:
    writer, _, reader, _ = quickstart_blocks(READMES[readme]())
    assert writer[1] == (EXAMPLES / "quickstart_writer.py").read_text()
    assert reader[1] == (EXAMPLES / "quickstart_reader.py").read_text()


@pytest.mark.parametrize("readme", sorted(READMES))
def test_quickstart_prints_what_the_readme_shows(
    readme: str, region_name: NameFactory, peers: Callable[..., Peer]
) -> None:
    _, (_, writer_output), _, (_, reader_output) = quickstart_blocks(READMES[readme]())
    name = region_name()

    def script(file: str) -> str:
        # Run as written, except for a name of this test run's own.
        return (EXAMPLES / file).read_text().replace(f'"{QUICKSTART_NAME}"', repr(name))

    def shown(block: str, file: str) -> List[str]:
        command, *lines = block.splitlines()
        assert command == f"$ .venv/bin/python python/examples/{file}"
        return [line.replace(repr(QUICKSTART_NAME), repr(name)) for line in lines]

    writer = peers("-c", script("quickstart_writer.py"))
    expected_writer = shown(writer_output, "quickstart_writer.py")
    for line in expected_writer:
        assert writer.readline().rstrip("\n") == line, writer.finish().stderr
    reader = peers("-c", script("quickstart_reader.py")).finish()
    assert reader.returncode == 0, reader.stderr
    assert reader.stdout.splitlines() == shown(reader_output, "quickstart_reader.py")
    result = writer.finish_with_input("\n")
    assert result.returncode == 0, result.stderr
    assert not object_path(name).exists()


def test_python_readme_examples_run_as_shown(region_name: NameFactory) -> None:
    # The examples use names starting with "readme-"; each run gets its own.
    prefix = region_name()
    text = (PYTHON_DIR / "README.md").read_text().replace("readme-", f"{prefix}-")
    test = doctest.DocTestParser().get_doctest(text, {}, "python/README.md", None, 0)
    assert len(test.examples) >= 30
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    failures: List[str] = []
    try:
        runner.run(test, out=failures.append)
    finally:
        for leftover in Path("/dev/shm").glob(f"zinc_{prefix}-*"):
            leftover.unlink()
    assert runner.failures == 0, "".join(failures)


def numpy_example_blocks(markdown: str) -> List[str]:
    """Writer code, reader code, writer output, reader output of the numpy example."""
    blocks = fenced_blocks(markdown)
    for i in range(len(blocks) - 3):
        if blocks[i][0] == "python" and "numpy_writer.py" in blocks[i + 2][1]:
            assert [b[0] for b in blocks[i : i + 4]] == ["python", "python", "text", "text"]
            return [b[1] for b in blocks[i : i + 4]]
    raise AssertionError("no numpy example with numpy_writer.py found")


def test_numpy_example_runs_and_prints_what_the_readme_shows(
    region_name: NameFactory, peers: Callable[..., Peer]
) -> None:
    writer_code, reader_code, writer_shown, reader_shown = numpy_example_blocks(
        (PYTHON_DIR / "README.md").read_text()
    )
    assert writer_code == (EXAMPLES / "numpy_writer.py").read_text()
    assert reader_code == (EXAMPLES / "numpy_reader.py").read_text()
    name = region_name()

    def script(code: str) -> str:
        return code.replace('"numpy-demo"', repr(name))

    writer = peers("-c", script(writer_code))
    writer_lines = writer_shown.splitlines()
    assert writer_lines[0] == "$ .venv/bin/python python/examples/numpy_writer.py"
    assert writer.readline().rstrip("\n") == writer_lines[1], writer.finish().stderr
    reader = peers("-c", script(reader_code)).finish()
    assert reader.returncode == 0, reader.stderr
    reader_lines = reader_shown.splitlines()
    assert reader_lines[0] == "$ .venv/bin/python python/examples/numpy_reader.py"
    assert reader.stdout.splitlines() == reader_lines[1:]
    result = writer.finish()
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == writer_lines[2:]
    assert not object_path(name).exists()


def test_original_numpy_example_as_two_scripts_fails_as_the_readme_says(
    region_name: NameFactory, peers: Callable[..., Peer]
) -> None:
    name = region_name()
    writer = peers(
        "-c",
        "import numpy as np, zinc\n"
        f"region = zinc.SharedRegion.create({name!r}, 4 * zinc.PAGE_SIZE)\n"
        "region.as_numpy(np.float64)[:] = np.linspace(0, 1, 2048)\n"
        "region.notify()\n",
    ).finish()
    assert writer.returncode == 0, writer.stderr
    reader_code = (EXAMPLES / "numpy_reader.py").read_text().replace('"numpy-demo"', repr(name))
    reader = peers("-c", reader_code).finish()
    assert reader.returncode != 0
    assert (
        reader.stderr.splitlines()[-1] == f"FileNotFoundError: [Errno 2] no region named {name!r}"
    )
    shown = "FileNotFoundError: [Errno 2] no region named 'numpy-demo'"
    assert shown in (PYTHON_DIR / "README.md").read_text()
