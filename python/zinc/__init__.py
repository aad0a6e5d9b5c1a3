"""zinc: named shared-memory regions with cross-process notify/wait.

One process creates a region by name; others open it by the same name. Every
process reads and writes the same physical pages in place: ``as_buffer()`` and
``as_numpy()`` are views of the shared mapping, never copies. ``notify()``
wakes the processes blocked in ``wait()``.

    >>> import zinc
    >>> with zinc.SharedRegion.create("frames", zinc.PAGE_SIZE) as region:
    ...     region.as_buffer()[:5] = b"hello"
    ...     region.notify()

The C core is libzinc_core (bundled in this package); see ``zinc._ffi`` for
how it is found.

The modules, each importing only those listed after it:
``_wait_set`` (WaitSet: waits on many regions and channels at once),
``_channel_writer``/``_channel_reader`` (ChannelWriter, ChannelReader),
``_channel`` (Channel: their base class, making and joining channels),
``_frames`` (WriteFrame, ReadFrame), ``_frame_type`` (dtype and shape in the
channel header), ``_region_list`` (list_regions), ``_region``
(SharedRegion), ``_errors`` (C codes to exceptions), ``_ffi`` (the library).
``_async_wait`` (asyncio and the futex_waitv waiter threads) is imported by
the first async call, so a program that makes none never imports asyncio.
"""

from __future__ import annotations

from ._channel import Channel, ChannelInfo
from ._channel_reader import ChannelReader
from ._channel_writer import ChannelWriter
from ._frames import ReadFrame, WriteFrame
from ._region import MAX_NAME_LEN, PAGE_SIZE, SharedRegion
from ._region_list import RegionInfo, list_regions
from ._wait_set import WaitSet

__version__ = "0.1.0"

__all__ = [
    "MAX_NAME_LEN",
    "PAGE_SIZE",
    "Channel",
    "ChannelInfo",
    "ChannelReader",
    "ChannelWriter",
    "ReadFrame",
    "RegionInfo",
    "SharedRegion",
    "WaitSet",
    "WriteFrame",
    "__version__",
    "list_regions",
]
