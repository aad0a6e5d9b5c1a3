"""The frame classes themselves, in whichever implementation this process
uses: zinc._fastpath's C classes (the installed package's) or the Python
ones of zinc._frames (ZINC_NO_FASTPATH=1, which scripts/test also runs the
channel tests with). The channel tests exercise both the same way; these
check what only the classes' own machinery does: reference cycles through a
frame, frames made by hand, a frame inherited through fork(), and which
implementation is in use."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import weakref
from typing import Any

import numpy as np
import pytest
from conftest import NameFactory, object_path, run_in_child

import zinc
from zinc import _frames


def test_frames_come_only_from_channels() -> None:
    for frame_class in (zinc.ReadFrame, zinc.WriteFrame):
        with pytest.raises(TypeError, match="come from a channel"):
            frame_class()


def test_frames_can_be_weakly_referenced(region_name: NameFactory) -> None:
    name = region_name()
    with zinc.Channel.create(name, np.uint8, 4) as writer, zinc.Channel.open_reader(name) as reader:
        frame = writer.frame()
        written = weakref.ref(frame)
        frame.commit()
        got = reader.recv(0)
        read = weakref.ref(got)
        assert written() is frame and read() is got
        got.release()
        del frame, got
        gc.collect()
        assert written() is None and read() is None


def test_participants_kept_only_by_a_cycle_through_their_frame_are_collected(
    region_name: NameFactory,
) -> None:
    name = region_name()
    with zinc.Channel.create(name, np.uint8, 4, max_readers=1) as writer:
        reader: Any = zinc.Channel.open_reader(name)
        writer.send(np.full(4, 7, np.uint8))
        reader.kept = reader.recv(0)  # reader -> frame -> reader
        gone = weakref.ref(reader)
        del reader
        gc.collect()
        assert gone() is None, "a cycle through a ReadFrame is collected"
        assert writer.info.readers == 0, "and its reader entry is freed with its frame"
    other = region_name()
    creator: Any = zinc.Channel.create(other, np.uint8, 4)
    creator.kept = creator.frame()  # writer -> open frame -> writer
    gone = weakref.ref(creator)
    del creator
    gc.collect()
    assert gone() is None, "a cycle through a WriteFrame is collected"
    assert not object_path(other).exists(), "and the creator's close unlinked its channel"


def test_a_write_frame_inherited_through_fork_cannot_be_committed_in_the_child(
    region_name: NameFactory,
) -> None:
    name = region_name()
    with zinc.Channel.create(name, np.uint8, 4) as writer:
        reader = zinc.Channel.open_reader(name)
        frame = writer.frame()
        frame.array[:] = 5

        def child() -> int:
            try:
                with frame:
                    pass
                return 2
            except ValueError as error:
                return 0 if "inherited through fork()" in str(error) else 3

        assert run_in_child(child) == 0
        assert frame.open, "the child's attempt left the parent's frame open"
        frame.commit()
        with reader.recv(0) as got:
            assert got.array.tolist() == [5] * 4
        reader.close()


def test_the_implementation_in_use_is_the_one_asked_for() -> None:
    if os.environ.get("ZINC_NO_FASTPATH", "") not in ("", "0"):
        assert not _frames.FASTPATH and _frames.FASTPATH_ERROR == "ZINC_NO_FASTPATH is set"
        assert zinc.ReadFrame.__module__ == "zinc._frames"
    elif os.environ.get("ZINC_TEST_INSTALLED") == "1":
        # The installed package (pip install ./python) always has the C classes.
        assert _frames.FASTPATH, _frames.FASTPATH_ERROR
        assert zinc.ReadFrame.__module__ == "zinc" and zinc.WriteFrame.__module__ == "zinc"
    else:
        pytest.skip("zinc imported from the sources: _fastpath may not be built")


def test_zinc_no_fastpath_selects_the_python_frames(region_name: NameFactory) -> None:
    name = region_name()
    script = (
        "import numpy as np, sys, zinc\n"
        "from zinc import _frames\n"
        "with zinc.Channel.create(sys.argv[1], np.uint8, 4) as w, "
        "zinc.Channel.open_reader(sys.argv[1]) as r:\n"
        "    w.send(np.full(4, 9, np.uint8))\n"
        "    with r.recv(0) as f:\n"
        "        print(_frames.FASTPATH, type(f).__module__, f.array.tolist())\n"
    )
    env = dict(os.environ, ZINC_NO_FASTPATH="1")
    result = subprocess.run(
        [sys.executable, "-c", script, name], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "zinc._frames", "[9,", "9,", "9,", "9]"]
