"""zinc.bridge: carries zinc channels between machines over Zenoh.

A bridge publishes local channels to Zenoh key expressions and writes the
frames of remote key expressions into local channels, with each channel's
frame type (dtype and shape), so a reader on the far side learns them as a
local reader does. Run it as ``zinc-bridge`` (or ``python -m zinc.bridge``);
docs/bridge.md explains the options, the guarantees and the wire format.

Needs the eclipse-zenoh package: ``pip install 'zinc-shm[bridge]'``. Only
:class:`Bridge` imports it (zinc.bridge._zenoh), so ``import zinc`` and
``import zinc.bridge`` never do.

Modules, each importing only those after it: ``_cli`` (the command),
``_bridge`` (Bridge), ``_serve`` (one thread and a wait set serve the
publications),
``_publish`` / ``_subscribe`` (one route each), ``_wire`` (the frame header),
``_stats`` (counters and log), ``_zenoh`` (the import and the session's
configuration), ``_config`` (routes and endpoints).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._config import BridgeConfig, ConfigError, Publish, Subscribe, load_file
from ._stats import RouteStats

if TYPE_CHECKING:
    from ._bridge import Bridge

__all__ = [
    "Bridge",
    "BridgeConfig",
    "ConfigError",
    "Publish",
    "RouteStats",
    "Subscribe",
    "load_file",
]


def __getattr__(name: str) -> Any:
    # Bridge's module imports numpy and the channel layer; load it on first use.
    if name == "Bridge":
        from ._bridge import Bridge

        return Bridge
    raise AttributeError(f"module 'zinc.bridge' has no attribute {name!r}")
