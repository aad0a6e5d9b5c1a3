"""What a bridge does: its routes (local channel -> key expression, key
expression -> local channel) and how its Zenoh session finds its peers, from
command-line arguments and/or a small TOML or JSON file (docs/bridge.md).

Pure data and parsing: nothing here imports zenoh, so a bad configuration is
reported before any network is touched, and --help works without the extra.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Set, Union

KEY_PREFIX = "zinc"
DEFAULT_SLOTS = 8
DEFAULT_MAX_READERS = 4
# Frames that may wait between Zenoh and the local writer of a subscription.
DEFAULT_QUEUE = 8


class ConfigError(ValueError):
    """A configuration the bridge cannot run; the message says what to fix."""


@dataclass(frozen=True)
class Publish:
    """Local channel `channel` published to key expression `key`."""

    channel: str
    key: str


@dataclass(frozen=True)
class Subscribe:
    """Key expression `key` written into local channel `channel`, which the
    bridge creates at the first frame (with the sender's frame type and mode,
    `slots` slots and up to `max_readers` readers) or joins as its writer
    when it exists. `queue` frames may wait between Zenoh and the channel."""

    key: str
    channel: str
    slots: int = DEFAULT_SLOTS
    max_readers: int = DEFAULT_MAX_READERS
    queue: int = DEFAULT_QUEUE


@dataclass(frozen=True)
class BridgeConfig:
    """A bridge's routes and its Zenoh endpoints. `scouting` enables Zenoh's
    multicast scouting (off by default: peers are named with `connect` and
    `listen`). `zenoh` holds further Zenoh settings as {"path/to/key": value}
    (JSON values), applied last."""

    publish: List[Publish] = field(default_factory=list)
    subscribe: List[Subscribe] = field(default_factory=list)
    connect: List[str] = field(default_factory=list)
    listen: List[str] = field(default_factory=list)
    scouting: bool = False
    zenoh: Dict[str, Any] = field(default_factory=dict)

    def validated(self) -> BridgeConfig:
        if not self.publish and not self.subscribe:
            raise ConfigError("nothing to bridge: give at least one --publish or --subscribe")
        seen: Dict[str, str] = {}
        routes: List[Union[Publish, Subscribe]] = [*self.publish, *self.subscribe]
        for route in routes:
            what = f"{'publish' if isinstance(route, Publish) else 'subscribe'} {route.key!r}"
            _check_key(route.key, what)
            if not route.channel:
                raise ConfigError(f"{what}: the channel name is empty")
            earlier = seen.get(route.channel)
            if earlier is not None:
                raise ConfigError(
                    f"channel {route.channel!r} appears twice ({earlier} and {what}); a bridge "
                    "serves each local channel once"
                )
            seen[route.channel] = what
        for route in self.subscribe:
            for name in ("slots", "max_readers", "queue"):
                value = getattr(route, name)
                if type(value) is not int or value < 1:
                    raise ConfigError(
                        f"subscribe {route.key!r}: {name} must be >= 1, not {value!r}"
                    )
        return self


def default_key(channel: str) -> str:
    return f"{KEY_PREFIX}/{channel}"


def parse_publish(text: str) -> Publish:
    """CHANNEL or CHANNEL=KEY (the key defaults to zinc/CHANNEL)."""
    channel, _, key = text.partition("=")
    return Publish(channel=channel, key=key or default_key(channel))


def parse_subscribe(text: str, **options: int) -> Subscribe:
    """KEY or KEY=CHANNEL (the channel defaults to the key's last chunk)."""
    key, _, channel = text.partition("=")
    return Subscribe(key=key, channel=channel or key.rsplit("/", 1)[-1], **options)


def load_file(path: Path) -> BridgeConfig:
    """A BridgeConfig from a .toml or .json file (docs/bridge.md shows both)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as failure:
        raise ConfigError(f"cannot read the configuration {path}: {failure.strerror}") from None
    if path.suffix == ".toml":
        data = _parse_toml(text, path)
    elif path.suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as bad:
            raise ConfigError(f"{path}: not valid JSON: {bad}") from None
    else:
        raise ConfigError(f"{path}: the configuration is a .toml or a .json file")
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a table of settings")
    return from_mapping(data, str(path))


def _parse_toml(text: str, path: Path) -> Dict[str, Any]:
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        raise ConfigError(
            f"{path}: reading TOML needs Python 3.11 or newer; write the same settings as "
            "a .json file"
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as bad:
        raise ConfigError(f"{path}: not valid TOML: {bad}") from None


_TOP = {"publish", "subscribe", "connect", "listen", "scouting", "zenoh"}
_PUBLISH = {"channel", "key"}
_SUBSCRIBE = {"key", "channel", "slots", "max_readers", "queue"}


def from_mapping(data: Mapping[str, Any], origin: str) -> BridgeConfig:
    _no_unknown(data, _TOP, origin)
    publish = []
    for i, entry in enumerate(_list_of(data, "publish", dict, origin)):
        where = f"{origin}: publish[{i}]"
        _no_unknown(entry, _PUBLISH, where)
        channel = _string(entry, "channel", where)
        publish.append(Publish(channel, _string(entry, "key", where, default_key(channel))))
    subscribe = []
    for i, entry in enumerate(_list_of(data, "subscribe", dict, origin)):
        where = f"{origin}: subscribe[{i}]"
        _no_unknown(entry, _SUBSCRIBE, where)
        key = _string(entry, "key", where)
        subscribe.append(
            Subscribe(
                key=key,
                channel=_string(entry, "channel", where, key.rsplit("/", 1)[-1]),
                slots=entry.get("slots", DEFAULT_SLOTS),
                max_readers=entry.get("max_readers", DEFAULT_MAX_READERS),
                queue=entry.get("queue", DEFAULT_QUEUE),
            )
        )
    scouting = data.get("scouting", False)
    if not isinstance(scouting, bool):
        raise ConfigError(f"{origin}: scouting must be true or false, not {scouting!r}")
    zenoh = data.get("zenoh", {})
    if not isinstance(zenoh, dict):
        raise ConfigError(f"{origin}: zenoh must be a table of 'path/to/key' = value")
    return BridgeConfig(
        publish=publish,
        subscribe=subscribe,
        connect=_list_of(data, "connect", str, origin),
        listen=_list_of(data, "listen", str, origin),
        scouting=scouting,
        zenoh=dict(zenoh),
    )


def merged(base: BridgeConfig, **extra: Sequence[Any]) -> BridgeConfig:
    """`base` with the routes and endpoints of the command line added."""
    changes: Dict[str, Any] = {
        name: [*getattr(base, name), *values] for name, values in extra.items()
    }
    return replace(base, **changes)


def _no_unknown(entry: Mapping[str, Any], known: Set[str], where: str) -> None:
    unknown = sorted(set(entry) - known)
    if unknown:
        raise ConfigError(
            f"{where}: unknown setting {', '.join(map(repr, unknown))} (known: "
            f"{', '.join(sorted(known))})"
        )


def _list_of(data: Mapping[str, Any], name: str, kind: type, origin: str) -> List[Any]:
    value = data.get(name, [])
    if not isinstance(value, list) or not all(isinstance(item, kind) for item in value):
        noun = "tables" if kind is dict else "strings"
        raise ConfigError(f"{origin}: {name} must be a list of {noun}")
    return list(value)


def _string(entry: Mapping[str, Any], name: str, where: str, default: Optional[str] = None) -> str:
    value = entry.get(name, default)
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}: {name} must be a non-empty string")
    return value


def _check_key(key: str, what: str) -> None:
    """The key expression rules that matter here (Zenoh checks the rest):
    a route names one key, so no wildcards, no empty chunks."""
    if not key or key.startswith("/") or key.endswith("/") or "//" in key:
        raise ConfigError(f"{what}: key expression {key!r} has an empty chunk")
    if any(c in key for c in "*$?#"):
        raise ConfigError(
            f"{what}: key expression {key!r} has a wildcard or a reserved character; a route "
            "carries one channel, so it names one key"
        )
