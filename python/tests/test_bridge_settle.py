"""A latest channel's newest frame is never lost at the end of a stream: the
publishing bridge puts it again, with blocking congestion control, once the
stream pauses after it, and the subscribing bridge skips that repeat when it
had the frame. Zenoh cannot be made to drop one chosen frame, so these tests
drive a Publication and a Subscription with a real local channel and
recording stand-ins for the Zenoh session; test_bridge.py runs the real
thing end to end."""

from __future__ import annotations

import time
from typing import Any, List, Optional, Tuple

import numpy as np
import pytest
from conftest import NameFactory

import zinc
from zinc.bridge import Publish, Subscribe, _publish
from zinc.bridge._publish import Forwarded, Publication
from zinc.bridge._subscribe import Subscription

zenoh = pytest.importorskip("zenoh")


class RecordingPublisher:
    """Stands in for a Zenoh publisher: keeps what was put through it."""

    def __init__(self, congestion_control: Any) -> None:
        self.congestion_control = congestion_control
        self.puts: List[Tuple[bytes, bytes]] = []
        self.payloads: List[Any] = []  # the objects put, as Zenoh got them
        self.matching_status = type("Status", (), {"matching": True})()

    def put(self, payload: Any, attachment: bytes) -> None:
        self.puts.append((bytes(payload), bytes(attachment)))
        self.payloads.append(payload)

    def declare_matching_listener(self, callback: Any) -> "RecordingPublisher":
        return self

    def undeclare(self) -> None:
        pass


class RecordingSession:
    def __init__(self) -> None:
        self.publishers: List[RecordingPublisher] = []

    def declare_publisher(self, key: str, **options: Any) -> RecordingPublisher:
        publisher = RecordingPublisher(options["congestion_control"])
        self.publishers.append(publisher)
        return publisher

    def by_congestion(self, control: Any) -> RecordingPublisher:
        (publisher,) = [p for p in self.publishers if p.congestion_control == control]
        return publisher


@pytest.fixture
def latest_publication(region_name: NameFactory) -> Any:
    name = region_name()
    writer = zinc.Channel.create(name, np.uint8, (16,), mode="latest", slots=4, max_readers=1)
    session = RecordingSession()
    publication = Publication(session, zenoh, Publish(channel=name, key="zinc/test"))
    assert publication.join(1000)
    yield writer, session, publication
    publication.leave()
    writer.close()


def send(writer: Any, value: int) -> None:
    writer.send(np.full(16, value, dtype=np.uint8))


def next_value(reader: Any) -> int:
    """The value of the next frame `reader` gets (send() fills it with one)."""
    frame = reader.recv(1000)
    assert frame is not None
    with frame:
        return int(frame.array[0])


def test_the_newest_frame_is_put_again_blocking_when_the_stream_pauses(
    latest_publication: Any,
) -> None:
    writer, session, publication = latest_publication
    dropping = session.by_congestion(zenoh.CongestionControl.DROP)
    blocking = session.by_congestion(zenoh.CongestionControl.BLOCK)
    send(writer, 7)
    assert publication.forward(1000) is Forwarded.FRAME
    now = time.monotonic()
    assert publication.settle(now) is not None  # not due yet: it waits for a newer frame
    assert blocking.puts == []
    assert publication.settle(now + _publish.SETTLE_MIN_S) is None  # due: put again
    assert blocking.puts == dropping.puts
    assert publication.settle(now + 10) is None  # once only
    assert len(blocking.puts) == 1


def test_the_newest_frame_is_put_again_blocking_when_the_local_channel_ends(
    latest_publication: Any,
) -> None:
    """A writer that commits its last frame and closes at once leaves no
    pause to wait for: the publication leaves the channel on ENDED, and the
    last frame's first put may have been the one the link dropped (as it
    was under load in test_bridge.py). Its settling put goes before that."""
    writer, session, publication = latest_publication
    dropping = session.by_congestion(zenoh.CongestionControl.DROP)
    blocking = session.by_congestion(zenoh.CongestionControl.BLOCK)
    send(writer, 8)
    assert publication.forward(1000) is Forwarded.FRAME
    send(writer, 9)
    assert publication.forward(1000) is Forwarded.FRAME
    writer.close()
    assert blocking.puts == []  # no pause yet
    assert publication.forward(1000) is Forwarded.ENDED
    assert blocking.puts == dropping.puts[-1:]  # frame 9, again, before the leave
    assert np.frombuffer(blocking.puts[0][0], dtype=np.uint8)[0] == 9
    publication.leave()
    assert publication.settle(time.monotonic() + 10) is None  # once only
    assert len(blocking.puts) == 1


def test_the_settling_put_hands_zenoh_the_first_puts_zbytes(latest_publication: Any) -> None:
    writer, session, publication = latest_publication
    dropping = session.by_congestion(zenoh.CongestionControl.DROP)
    blocking = session.by_congestion(zenoh.CongestionControl.BLOCK)
    send(writer, 5)
    assert publication.forward(1000) is Forwarded.FRAME
    assert publication.settle(time.monotonic() + 1) is None
    assert isinstance(dropping.payloads[0], zenoh.ZBytes)
    assert blocking.payloads[0] is dropping.payloads[0]  # no copy for the repeat


def test_a_put_frame_keeps_its_bytes_when_the_next_frame_reuses_the_buffer(
    latest_publication: Any,
) -> None:
    # The publication copies every frame into one bytearray; Zenoh must have
    # copied it (ZBytes(bytearray) does) before the next frame overwrites it.
    writer, session, publication = latest_publication
    dropping = session.by_congestion(zenoh.CongestionControl.DROP)
    send(writer, 1)
    assert publication.forward(1000) is Forwarded.FRAME
    send(writer, 2)
    assert publication.forward(1000) is Forwarded.FRAME
    first, second = dropping.payloads
    assert bytes(first) == bytes(16 * [1])
    assert bytes(second) == bytes(16 * [2])


def test_a_steady_stream_is_not_sent_twice(
    latest_publication: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer, session, publication = latest_publication
    blocking = session.by_congestion(zenoh.CongestionControl.BLOCK)
    clock = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    for value in range(40):  # 10 Hz: a frame every 100 ms
        send(writer, value)
        assert publication.forward(1000) is Forwarded.FRAME
        clock[0] += 0.1
        publication.settle(clock[0] - 0.001)
    # Only the first frame went twice: no interval was known after it.
    assert len(blocking.puts) == 1
    assert np.frombuffer(blocking.puts[0][0], dtype=np.uint8)[0] == 0
    # The stream stops: twice its interval later the newest goes again.
    assert publication.settle(clock[0] + 0.1) is None
    assert len(blocking.puts) == 2
    assert np.frombuffer(blocking.puts[1][0], dtype=np.uint8)[0] == 39


class OneSample:
    """Stands in for a Zenoh sample and the subscriber's queue."""

    def __init__(self, payload: bytes, attachment: bytes) -> None:
        self.payload = zenoh.ZBytes(payload)
        self.attachment = zenoh.ZBytes(attachment)

    def try_recv(self) -> Optional["OneSample"]:
        return None


class CountedPayload:
    """Stands in for a sample's ZBytes, counting the copies taken of it."""

    def __init__(self, payload: bytes) -> None:
        self._payload = payload
        self.copies = 0

    def __len__(self) -> int:
        return len(self._payload)

    def to_bytes(self) -> bytes:
        self.copies += 1
        return self._payload


class QueuedSamples:
    """Stands in for the subscriber's queue, holding samples that arrived."""

    def __init__(self, samples: List[OneSample]) -> None:
        self._samples = list(samples)

    def try_recv(self) -> Optional[OneSample]:
        return self._samples.pop(0) if self._samples else None


class SubscribingSession:
    def declare_subscriber(self, key: str, handler: Any) -> Any:
        return None


@pytest.fixture
def subscription(region_name: NameFactory) -> Any:
    """A Subscription that writes a local channel of its own (its name in
    `.route.channel`), fed by the test through _receive()."""
    remote = region_name()
    subscription = Subscription(
        SubscribingSession(), zenoh, Subscribe(key="zinc/test", channel=remote)
    )
    yield subscription
    subscription._drop_writer()


def test_the_subscriber_skips_the_repeat_of_a_frame_it_wrote(
    latest_publication: Any, subscription: Any
) -> None:
    writer, session, publication = latest_publication
    blocking = session.by_congestion(zenoh.CongestionControl.BLOCK)
    dropping = session.by_congestion(zenoh.CongestionControl.DROP)
    send(writer, 3)
    publication.forward(1000)
    publication.settle(time.monotonic() + 1)
    first, repeat = OneSample(*dropping.puts[0]), OneSample(*blocking.puts[0])
    subscription._receive(first, first)
    with zinc.Channel.open_reader(subscription.route.channel, timeout_ms=1000) as reader:
        assert next_value(reader) == 3
        subscription._receive(repeat, repeat)  # skipped: nothing new
        assert reader.recv(0) is None
        # A repeat the subscriber never had (its first put was dropped) is written.
        subscription._latest_written = None
        subscription._receive(repeat, repeat)
        assert next_value(reader) == 3


def test_the_subscriber_copies_only_the_newest_of_queued_latest_frames(
    latest_publication: Any, subscription: Any
) -> None:
    writer, session, publication = latest_publication
    dropping = session.by_congestion(zenoh.CongestionControl.DROP)
    for value in (4, 5, 6):
        send(writer, value)
        publication.forward(1000)
    samples = [OneSample(*put) for put in dropping.puts]
    payloads = [CountedPayload(put[0]) for put in dropping.puts]
    for sample, payload in zip(samples, payloads):
        sample.payload = payload
    subscription._receive(QueuedSamples(samples[1:]), samples[0])
    assert [payload.copies for payload in payloads] == [0, 0, 1]
    with zinc.Channel.open_reader(subscription.route.channel, timeout_ms=1000) as reader:
        assert next_value(reader) == 6
