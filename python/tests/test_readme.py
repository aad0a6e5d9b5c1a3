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
