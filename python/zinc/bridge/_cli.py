"""The zinc-bridge command: parses the configuration, runs a Bridge until
SIGINT or SIGTERM, then prints each route's summary (also with -q)."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any, List, Optional

from ._config import (
    DEFAULT_MAX_READERS,
    DEFAULT_QUEUE,
    DEFAULT_SLOTS,
    BridgeConfig,
    ConfigError,
    load_file,
    merged,
    parse_publish,
    parse_subscribe,
)
from ._stats import log

EPILOG = """\
examples:
  on the camera's machine:   zinc-bridge --listen tcp/0.0.0.0:7447 --publish camera
  on the consumer's machine: zinc-bridge --connect tcp/camera-host:7447 --subscribe zinc/camera

Lossless channels stay lossless while the receiver keeps up (back-pressure
reaches the writer); latest channels drop. See docs/bridge.md.
"""


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="zinc-bridge",
        description="Carry zinc channels between machines over Zenoh.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--config", type=Path, help="a .toml or .json file of settings (docs/bridge.md)")
    p.add_argument(
        "--publish",
        action="append",
        default=[],
        metavar="CHANNEL[=KEY]",
        help="publish local channel CHANNEL to key expression KEY (default zinc/CHANNEL)",
    )
    p.add_argument(
        "--subscribe",
        action="append",
        default=[],
        metavar="KEY[=CHANNEL]",
        help="write the frames of KEY into local channel CHANNEL (default: KEY's last chunk)",
    )
    p.add_argument(
        "--connect",
        action="append",
        default=[],
        metavar="ENDPOINT",
        help="a Zenoh endpoint to connect to, e.g. tcp/10.0.0.2:7447 (retried until it answers)",
    )
    p.add_argument(
        "--listen",
        action="append",
        default=[],
        metavar="ENDPOINT",
        help="a Zenoh endpoint to listen on, e.g. tcp/0.0.0.0:7447",
    )
    p.add_argument(
        "--scouting", action="store_true", help="find peers by Zenoh's multicast scouting too"
    )
    p.add_argument(
        "--slots", type=int, default=DEFAULT_SLOTS, help="slots of a channel the bridge creates"
    )
    p.add_argument(
        "--max-readers",
        type=int,
        default=DEFAULT_MAX_READERS,
        help="readers of a channel the bridge creates",
    )
    p.add_argument(
        "--queue",
        type=int,
        default=DEFAULT_QUEUE,
        help="frames that may wait between Zenoh and a local channel",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="log only warnings and errors")
    return p


def configuration(args: argparse.Namespace) -> BridgeConfig:
    """The file's settings (if any) with the command line's added."""
    base = load_file(args.config) if args.config is not None else BridgeConfig()
    options = {"slots": args.slots, "max_readers": args.max_readers, "queue": args.queue}
    config = merged(
        base,
        publish=[parse_publish(text) for text in args.publish],
        subscribe=[parse_subscribe(text, **options) for text in args.subscribe],
        connect=args.connect,
        listen=args.listen,
    )
    return replace(config, scouting=config.scouting or args.scouting).validated()


def main(argv: Optional[List[str]] = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        format="zinc-bridge: %(message)s",
        level=logging.WARNING if args.quiet else logging.INFO,
        stream=sys.stderr,
    )
    try:
        config = configuration(args)
    except ConfigError as bad:
        print(f"zinc-bridge: {bad}", file=sys.stderr)
        return 2
    from ._bridge import Bridge

    try:
        bridge = Bridge(config)
    except ImportError as missing:
        print(f"zinc-bridge: {missing}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def request_stop(signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        bridge.start()
    except Exception as failure:  # zenoh.ZError: an endpoint it cannot listen on...
        print(f"zinc-bridge: cannot start: {failure}", file=sys.stderr)
        return 1
    log.info("ready: %d publications, %d subscriptions", len(config.publish), len(config.subscribe))
    try:
        while not stop.wait(1.0):
            pass
    finally:
        bridge.stop()
        for stats in bridge.stats:
            print(f"zinc-bridge: {stats.summary()}", file=sys.stderr, flush=True)
    return 0
