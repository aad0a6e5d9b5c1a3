"""Regions inherited through os.fork(): the child may use them, and its close
(or its garbage collection, or its exit) drops only its own mapping: never
the parent's name, ref_count or waiter counts."""

from __future__ import annotations

import gc
import os
import time

from conftest import NameFactory, object_path, run_in_child

import zinc


def _ref_count(name: str) -> int:
    [info] = zinc.list_regions(name)
    assert info.ref_count is not None
    return info.ref_count


def test_child_closing_or_collecting_inherited_regions_keeps_the_parents_name(
    region_name: NameFactory,
) -> None:
    name = region_name("fork-close")
    with (
        zinc.SharedRegion.create(name, zinc.PAGE_SIZE) as owner,
        zinc.SharedRegion.open(name) as reader,
    ):
        refs = _ref_count(name)

        def close_everything() -> int:
            reader.close()
            owner.close()
            gc.collect()  # the native close runs here, in the child
            return 0

        def just_drop() -> int:
            # What an exiting child's garbage collection does.
            nonlocal_refs = [owner, reader]
            del nonlocal_refs
            gc.collect()
            return 0

        assert run_in_child(close_everything) == 0
        assert run_in_child(just_drop) == 0
        assert object_path(name).exists(), "a child's close unlinked the parent's region"
        assert _ref_count(name) == refs
        owner.notify()
        assert reader.try_wait()
    assert not object_path(name).exists(), "the parent's close still unlinks"


def test_child_waits_and_writes_through_inherited_regions(region_name: NameFactory) -> None:
    name = region_name("fork-use")
    with (
        zinc.SharedRegion.create(name, zinc.PAGE_SIZE) as owner,
        zinc.SharedRegion.open(name) as reader,
    ):
        data = owner.as_buffer()

        def answer() -> int:
            if not reader.wait(10_000):
                return 2
            reply = b"child saw " + bytes(reader.as_buffer()[:6])
            reader.as_buffer()[64 : 64 + len(reply)] = reply
            reader.notify()
            reader.close()
            return 0

        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                code = answer()
            finally:
                os._exit(code)
        data[:6] = b"parent"
        owner.notify()
        deadline = time.monotonic() + 10
        while bytes(data[64:80]) != b"child saw parent" and time.monotonic() < deadline:
            owner.wait(500)  # also sees its own notify; the data decides
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert bytes(data[64:80]) == b"child saw parent"
        assert object_path(name).exists()
        assert _ref_count(name) == 2
        del data


def test_inherited_creator_reports_its_role(region_name: NameFactory) -> None:
    name = region_name("fork-role")
    with zinc.SharedRegion.create(name, zinc.PAGE_SIZE) as owner:
        assert "role=creator" in repr(owner)
        read, write = os.pipe()

        def report() -> int:
            os.write(write, repr(owner).encode())
            return 0

        assert run_in_child(report) == 0
        text = os.read(read, 4096).decode()
        os.close(read)
        os.close(write)
        assert "role=inherited" in text, text
