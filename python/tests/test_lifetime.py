"""close(), garbage collection, context managers, and views that outlive close."""

from __future__ import annotations

import gc
from typing import Any, Callable, List

import numpy as np
import pytest
from conftest import NameFactory, object_path

import zinc

PAGE = zinc.PAGE_SIZE


def test_close_twice_is_harmless_and_unlinks_once(region_name: NameFactory) -> None:
    name = region_name()
    region = zinc.SharedRegion.create(name, PAGE)
    region.close()
    assert region.closed and not object_path(name).exists()
    region.close()
    assert region.closed


def test_with_block_closes_and_unlinks(region_name: NameFactory) -> None:
    name = region_name()
    with zinc.SharedRegion.create(name, PAGE) as region:
        assert object_path(name).exists()
    assert region.closed and not object_path(name).exists()


def test_with_block_closes_when_the_body_raises(region_name: NameFactory) -> None:
    name = region_name()
    with pytest.raises(RuntimeError, match="body failed"):
        with zinc.SharedRegion.create(name, PAGE) as region:
            raise RuntimeError("body failed")
    assert region.closed and not object_path(name).exists()


def test_with_on_opened_region_closes_it_but_keeps_the_name(region_name: NameFactory) -> None:
    name = region_name()
    with zinc.SharedRegion.create(name, PAGE):
        with zinc.SharedRegion.open(name) as reader:
            pass
        assert reader.closed and object_path(name).exists()


def test_garbage_collected_creator_unlinks_its_name(region_name: NameFactory) -> None:
    name = region_name()
    zinc.SharedRegion.create(name, PAGE)  # dropped at once
    gc.collect()
    assert not object_path(name).exists()


def test_garbage_collected_cycle_holding_a_region_unlinks(region_name: NameFactory) -> None:
    name = region_name()
    cycle: List[Any] = [zinc.SharedRegion.create(name, PAGE)]
    cycle.append(cycle)
    del cycle
    gc.collect()
    assert not object_path(name).exists()


def test_buffer_taken_before_close_stays_valid_until_released(region_name: NameFactory) -> None:
    name = region_name()
    region = zinc.SharedRegion.create(name, PAGE)
    view = region.as_buffer()
    region.close()  # never a BufferError
    view[:4] = b"live"
    assert bytes(view[:4]) == b"live"
    # The mapping, and the creator's name, live as long as the view.
    with zinc.SharedRegion.open(name) as reader:
        assert bytes(reader.as_buffer()[:4]) == b"live"
    del view
    gc.collect()
    assert not object_path(name).exists()


def test_slices_of_a_buffer_keep_the_mapping_alive(region_name: NameFactory) -> None:
    name = region_name()
    region = zinc.SharedRegion.create(name, 2 * PAGE)
    tail = region.as_buffer()[PAGE:]
    del region
    gc.collect()
    tail[-3:] = b"end"
    assert bytes(tail[-3:]) == b"end" and len(tail) == PAGE
    del tail
    gc.collect()
    assert not object_path(name).exists()


def test_numpy_array_taken_before_close_stays_valid(region_name: NameFactory) -> None:
    name = region_name()
    with zinc.SharedRegion.create(name, PAGE) as region:
        numbers = region.as_numpy(np.float64)
    numbers[:] = np.arange(numbers.size)
    assert numbers.sum() == sum(range(PAGE // 8))
    derived = numbers[10:20].reshape(2, 5)
    del numbers
    gc.collect()
    assert derived[1, 4] == 19.0
    assert object_path(name).exists()
    del derived
    gc.collect()
    assert not object_path(name).exists()


def test_closed_regions_views_survive_the_other_handles(region_name: NameFactory) -> None:
    name = region_name()
    owner = zinc.SharedRegion.create(name, PAGE)
    reader = zinc.SharedRegion.open(name)
    seen_by_reader = reader.as_buffer()
    reader.close()
    owner.as_buffer()[0] = 42
    owner.close()
    assert seen_by_reader[0] == 42


CLOSED_OPERATIONS: List[Callable[[zinc.SharedRegion], object]] = [
    lambda r: r.as_buffer(),
    lambda r: r.as_numpy(),
    lambda r: r.as_numpy(np.int32, shape=2),
    lambda r: r.notify(),
    lambda r: r.wait(),
    lambda r: r.wait(0),
    lambda r: r.try_wait(),
    lambda r: r.__enter__(),
]


@pytest.mark.parametrize(
    "operation",
    CLOSED_OPERATIONS,
    ids=[
        "as_buffer",
        "as_numpy",
        "as_numpy_dtype",
        "notify",
        "wait",
        "wait_0",
        "try_wait",
        "enter",
    ],
)
def test_operations_on_a_closed_region_raise_value_error(
    region_name: NameFactory, operation: Callable[[zinc.SharedRegion], object]
) -> None:
    region = zinc.SharedRegion.create(region_name(), PAGE)
    region.close()
    with pytest.raises(ValueError, match="^region is closed$"):
        operation(region)


def test_with_on_a_closed_region_raises_value_error(region_name: NameFactory) -> None:
    region = zinc.SharedRegion.create(region_name(), PAGE)
    region.close()
    with pytest.raises(ValueError, match="region is closed"):
        with region:
            pass


def test_metadata_stays_readable_after_close(region_name: NameFactory) -> None:
    name = region_name()
    region = zinc.SharedRegion.create(name, 3 * PAGE)
    region.close()
    assert (region.name, region.capacity, region.closed) == (name, 3 * PAGE, True)


def test_many_views_then_close_in_any_order(region_name: NameFactory) -> None:
    # Views, arrays and closes interleaved: every view stays usable and the
    # name goes exactly when the last one does.
    name = region_name()
    region = zinc.SharedRegion.create(name, PAGE)
    views: List[Any] = [region.as_buffer(), region.as_numpy(), region.as_numpy(np.uint32)]
    region.close()
    for i in range(len(views)):
        views[i][i] = i + 1
    assert list(views[1][:3]) == [1, 2, 0] and views[2][2] == 3
    while views:
        assert object_path(name).exists()
        views.pop(0)
        gc.collect()
    assert not object_path(name).exists()
