"""The one place that imports zenoh (the eclipse-zenoh package, installed by
the ``zinc-shm[bridge]`` extra) and turns a BridgeConfig into a Zenoh
session configuration."""

from __future__ import annotations

import json
from typing import Any

from ._config import BridgeConfig

INSTALL_HINT = "pip install 'zinc-shm[bridge]'"

# Zenoh settings the bridge relies on (docs/bridge.md, "Semantics"), applied
# before the user's own `zenoh` table, which may override them:
SETTINGS = {
    "mode": "peer",
    # A BLOCK put waits for room in the link's transmission queue, and Zenoh
    # closes a link whose queue stays full this long (microseconds; its own
    # default is 5 s). A lossless stream's receiver may stall this long
    # without a frame lost; it is also how long a network partition under a
    # lossless stream takes to notice (the lease does not end a blocked put).
    "transport/link/tx/queue/congestion_control/block/wait_before_close": 30_000_000,
}


def require_zenoh() -> Any:
    """The zenoh module, or ImportError naming the extra that installs it."""
    try:
        import zenoh
    except ImportError as missing:
        raise ImportError(
            f"zinc.bridge needs the eclipse-zenoh package, which is not installed "
            f"({missing}): {INSTALL_HINT}"
        ) from missing
    return zenoh


def session_config(zenoh: Any, config: BridgeConfig) -> Any:
    """A zenoh.Config for `config`: peer mode, its connect and listen
    endpoints (Zenoh retries the connect endpoints until they answer, and
    again after a link is lost), multicast scouting as asked."""
    native = zenoh.Config()
    settings = dict(SETTINGS)
    settings["connect/endpoints"] = list(config.connect)
    settings["listen/endpoints"] = list(config.listen)
    settings["scouting/multicast/enabled"] = config.scouting
    settings.update(config.zenoh)
    for key, value in settings.items():
        native.insert_json5(key, json.dumps(value))
    return native
