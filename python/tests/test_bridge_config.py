"""zinc.bridge without a network: its configuration (command line, TOML and
JSON files), the frame header on the wire, and the import rules (import zinc
never imports zenoh; a missing eclipse-zenoh is an error naming the extra)."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Tuple

import pytest
from conftest import peer_env, run_python
from hypothesis import given
from hypothesis import strategies as st

from zinc.bridge import BridgeConfig, ConfigError, Publish, Subscribe, load_file
from zinc.bridge._cli import configuration, parser
from zinc.bridge._wire import HEADER, FrameError, HeaderReader, HeaderWriter, StreamType

TOML = """\
listen = ["tcp/0.0.0.0:7447"]
connect = ["tcp/10.0.0.2:7447"]

[[publish]]
channel = "camera"

[[publish]]
channel = "imu"
key = "robot/imu"

[[subscribe]]
key = "zinc/commands"
slots = 16
"""


def cli(*argv: str) -> BridgeConfig:
    return configuration(parser().parse_args(list(argv)))


def test_command_line_routes_take_default_keys_and_channels() -> None:
    config = cli("--publish", "camera", "--publish", "imu=robot/imu", "--subscribe", "zinc/cmd")
    assert config.publish == [Publish("camera", "zinc/camera"), Publish("imu", "robot/imu")]
    assert config.subscribe == [Subscribe("zinc/cmd", "cmd")]
    assert config.scouting is False


def test_toml_and_json_files_say_the_same(tmp_path: Path) -> None:
    toml_file = tmp_path / "bridge.toml"
    toml_file.write_text(TOML)
    json_file = tmp_path / "bridge.json"
    json_file.write_text(
        json.dumps(
            {
                "listen": ["tcp/0.0.0.0:7447"],
                "connect": ["tcp/10.0.0.2:7447"],
                "publish": [{"channel": "camera"}, {"channel": "imu", "key": "robot/imu"}],
                "subscribe": [{"key": "zinc/commands", "slots": 16}],
            }
        )
    )
    from_toml, from_json = load_file(toml_file), load_file(json_file)
    assert from_toml == from_json
    assert from_toml.subscribe == [Subscribe("zinc/commands", "commands", slots=16)]


def test_the_command_line_adds_to_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bridge.toml"
    path.write_text(TOML)
    config = cli("--config", str(path), "--publish", "lidar", "--connect", "tcp/10.0.0.3:7447")
    assert [p.channel for p in config.publish] == ["camera", "imu", "lidar"]
    assert config.connect == ["tcp/10.0.0.2:7447", "tcp/10.0.0.3:7447"]


@pytest.mark.parametrize(
    "argv, message",
    [
        ((), "nothing to bridge"),
        (("--publish", "cam=zinc/*"), "wildcard"),
        (("--publish", "cam=zinc//cam"), "empty chunk"),
        (("--publish", "cam", "--subscribe", "zinc/other=cam"), "appears twice"),
        (("--subscribe", "zinc/cam", "--slots", "0"), "slots must be >= 1"),
    ],
)
def test_bad_command_lines_say_what_to_fix(argv: Tuple[str, ...], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        cli(*argv)


@pytest.mark.parametrize(
    "text, message",
    [
        ('[[publish]]\nchanel = "cam"\n', "unknown setting 'chanel'"),
        ('publish = "cam"\n', "publish must be a list of tables"),
        ("scouting = 1\n", "scouting must be true or false"),
        ("listen = [\n", "not valid TOML"),
    ],
)
def test_bad_files_say_what_to_fix(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bridge.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_file(path)


def test_a_file_of_another_kind_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bridge.yaml"
    path.write_text("publish: []\n")
    with pytest.raises(ConfigError, match="a .toml or a .json file"):
        load_file(path)


def test_the_command_exits_2_with_the_config_error() -> None:
    result = run_python("import sys, zinc.bridge._cli as c; sys.exit(c.main([]))")
    assert result.returncode == 2
    assert "zinc-bridge: nothing to bridge" in result.stderr


# ---- the wire ------------------------------------------------------------

TYPED = StreamType("lossless", 64, "<u2", (8, 4))
UNTYPED = StreamType("latest", 1000, None, None)


@pytest.mark.parametrize("stream", [TYPED, UNTYPED])
def test_a_header_carries_the_sequence_and_the_frame_type(stream: StreamType) -> None:
    header = HeaderWriter(stream).header(2**40 + 7)
    assert len(header) == HEADER.size == 80
    length = stream.frame_bytes or 10
    assert HeaderReader().parse(header, length) == (2**40 + 7, stream)


def test_the_frame_type_bytes_are_the_channel_headers() -> None:
    """Bytes 24..79 are docs/spec.md section 10.2.1's 56 bytes."""
    header = HeaderWriter(TYPED).header(0)
    dtype, ndim, reserved, *shape = struct.unpack("<8sII5Q", header[24:])
    assert (dtype, ndim, reserved, shape) == (b"<u2\0\0\0\0\0", 2, 0, [8, 4, 0, 0, 0])


def corrupt(offset: int, value: bytes) -> bytes:
    header = bytearray(HeaderWriter(TYPED).header(3))
    header[offset : offset + len(value)] = value
    return bytes(header)


@pytest.mark.parametrize(
    "attachment, length, message",
    [
        (None, 64, "without an attachment"),
        (b"short", 64, "the attachment is 5 bytes"),
        (corrupt(0, b"XXXX"), 64, "bad magic"),
        (corrupt(4, b"\x02"), 64, "version 2"),
        (corrupt(5, b"\x03"), 64, "mode 3"),
        (corrupt(16, struct.pack("<Q", 0)), 64, "slot size 0"),
        (corrupt(16, struct.pack("<Q", 65)), 64, "not the size of a <u2 frame"),
        (corrupt(24, b"<u3\0"), 64, "is not valid"),
        (corrupt(24, b"u2\0\0"), 64, "not spelled as numpy spells it"),
        (corrupt(32, struct.pack("<I", 6)), 64, "6 dimensions"),
        (corrupt(56, struct.pack("<Q", 9)), 64, "extents past"),
        (HeaderWriter(TYPED).header(3), 63, "is 63 bytes"),
        (HeaderWriter(UNTYPED).header(3), 1001, "more than its slot size"),
    ],
)
def test_bad_headers_are_refused_with_the_reason(
    attachment: bytes, length: int, message: str
) -> None:
    with pytest.raises(FrameError, match=message):
        HeaderReader().parse(attachment, length)


@given(
    st.sampled_from([TYPED, UNTYPED]),
    st.integers(0, 79),
    st.integers(0, 255),
    st.integers(0, 2**12),
)
def test_a_damaged_header_is_refused_or_means_what_it_says(
    stream: StreamType, offset: int, byte: int, length: int
) -> None:
    """Any one byte of a header changed: FrameError, or a header that
    encodes back to the same bytes (nothing else is ever accepted)."""
    header = bytearray(HeaderWriter(stream).header(5))
    header[offset] = byte
    try:
        sequence, parsed = HeaderReader().parse(bytes(header), length)
    except FrameError:
        return
    assert HeaderWriter(parsed).header(sequence) == bytes(header)


# ---- imports ---------------------------------------------------------------


def test_import_zinc_imports_neither_the_bridge_nor_zenoh() -> None:
    result = run_python(
        "import sys, zinc, zinc.bridge\n"
        "print(sorted(m for m in ('zenoh', 'zinc.bridge._bridge') if m in sys.modules))"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_a_missing_zenoh_is_an_error_naming_the_extra() -> None:
    code = (
        "import sys\n"
        "sys.modules['zenoh'] = None  # import zenoh now fails\n"
        "import zinc.bridge._cli as c\n"
        "sys.exit(c.main(['--publish', 'camera']))\n"
    )
    result = run_python(code, env=peer_env())
    assert result.returncode == 2
    assert "needs the eclipse-zenoh package" in result.stderr
    assert "pip install 'zinc-shm[bridge]'" in result.stderr
