"""A subscription: frames arriving on one Zenoh key expression written into
one local channel, by a thread of its own.

Zenoh hands samples to a bounded FIFO (the route's `queue`); when it is full
Zenoh's receiving side waits, and with the sender's blocking congestion
control that back-pressure reaches the remote publisher and its local writer.
This thread blocks in the local writer's frame() while the local ring is
full (lossless), so a reader that stalls here stalls the whole chain instead
of losing frames. For a latest channel it drains the FIFO and writes only the
newest frame, and skips the publisher's settling repeat of the frame it wrote
last (zinc/bridge/_publish.py).

The local channel is made at the first frame, with the sender's frame type
and mode, or joined as its writer when it exists (a bridge restarted after
kill -9 takes the dead one's writer role over, and the readers follow).
Lossless frames carry the source's sequence: a hole is reported as a gap
(RouteStats.gap), never passed over in silence.

A frame that is written is copied twice: out of Zenoh's buffer into a bytes
object (the eclipse-zenoh 1.10 wheel's ZBytes offers to_bytes() and no
buffer protocol, so nothing can read it in place), and from that into the
slot. Only its length is looked at before it is chosen, so a latest frame
drained behind a newer one, or a settling repeat, is not copied at all.
"""

from __future__ import annotations

import threading
from typing import Any, Optional, Tuple

import numpy as np

import zinc

from ._config import Subscribe
from ._stats import RouteStats, log
from ._wire import FrameError, HeaderReader, StreamType

# How often a thread blocked on the local writer looks at the stop flag.
WRITE_SLICE_MS = 100


class Subscription:
    def __init__(self, session: Any, zenoh: Any, route: Subscribe) -> None:
        self.route = route
        self.stats = RouteStats(f"subscribe {route.key!r} -> {route.channel!r}")
        self._headers = HeaderReader()
        self._writer: Optional[zinc.ChannelWriter] = None
        self._stream: Optional[StreamType] = None
        self._expected: Optional[int] = None  # the next lossless sequence
        self._latest_written: Optional[int] = None  # the source frame written last (latest)
        self._stop = threading.Event()
        self._subscriber = session.declare_subscriber(
            route.key, zenoh.handlers.FifoChannel(route.queue)
        )
        self._thread = threading.Thread(
            target=self._run, name=f"zinc-bridge {route.key}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Undeclares the subscriber (ending the thread's wait) and closes the
        local writer; a bridge that created the channel unlinks its name."""
        self._stop.set()
        self._subscriber.undeclare()
        self._thread.join()
        self._drop_writer()

    def _drop_writer(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._writer, self._stream = None, None
        self._latest_written = None

    # ---- the thread ----------------------------------------------------------

    def _run(self) -> None:
        # The handler, not the subscriber: a recv() on the subscriber would
        # hold it borrowed, and stop()'s undeclare would fail ("Already
        # borrowed") instead of ending the recv.
        queue = self._subscriber.handler
        while not self._stop.is_set():
            try:
                sample = queue.recv()
            except Exception:  # zenoh.ZError: undeclared, the queue closed (stop())
                return
            try:
                self._receive(queue, sample)
            except FrameError as bad:
                self.stats.reject(str(bad))
            except OSError as failure:
                # EBUSY (a live writer holds the role), ESTALE (another
                # writer took it over): leave, and try again at the next frame.
                self._drop_writer()
                self.stats.reject(f"cannot write local channel {self.route.channel!r}: {failure}")

    def _parse(self, sample: Any) -> Tuple[int, StreamType]:
        attachment = sample.attachment
        return self._headers.parse(
            None if attachment is None else attachment.to_bytes(), len(sample.payload)
        )

    def _receive(self, queue: Any, sample: Any) -> None:
        sequence, stream = self._parse(sample)
        if stream.mode == "latest":
            # Only the newest frame matters: skip what queued up behind it.
            newer = queue.try_recv()
            while newer is not None:
                sequence, stream = self._parse(newer)
                sample, newer = newer, queue.try_recv()
            if sequence == self._latest_written:
                return  # the publisher's settling repeat of a frame we have
        writer = self._writer_for(stream)
        if writer is None:
            return
        if stream.mode == "lossless":
            self._check_sequence(sequence)
        frame = None
        while frame is None:
            if self._stop.is_set():
                return
            frame = writer.frame(WRITE_SLICE_MS)
        with frame:
            payload = sample.payload.to_bytes()
            target = frame.array.reshape(-1).view(np.uint8)
            target[: len(payload)] = np.frombuffer(payload, dtype=np.uint8)
            frame.commit(len(payload))
        self._latest_written = sequence if stream.mode == "latest" else None
        self.stats.forwarded(len(payload))

    def _check_sequence(self, sequence: int) -> None:
        expected = self._expected
        if expected is None:
            log.info("%s: first frame is the source's frame %d", self.stats.route, sequence)
        elif sequence > expected:
            self.stats.gap(expected, sequence)
        elif sequence < expected:
            self.stats.restart(expected, sequence)
        self._expected = sequence + 1

    def _writer_for(self, stream: StreamType) -> Optional[zinc.ChannelWriter]:
        """The local writer for frames of `stream`, made or joined at the
        first frame; None (the frame rejected) if the local channel exists
        with frames of another kind."""
        if self._writer is not None and self._stream == stream:
            return self._writer
        if self._writer is not None and self._stream is not None:
            self.stats.reject(
                f"the source changed its frames from {self._stream.describe()} to "
                f"{stream.describe()}; restart the bridge to make the local channel anew"
            )
            return None
        writer = join_or_create(self.route, stream)
        if not fits(writer, stream):
            found = describe(writer)
            writer.close()
            self.stats.reject(
                f"local channel {self.route.channel!r} has {found}, but the source sends "
                f"{stream.describe()}"
            )
            return None
        self._writer, self._stream = writer, stream
        log.info("%s: writing %s", self.stats.route, stream.describe())
        return writer


def join_or_create(route: Subscribe, stream: StreamType) -> zinc.ChannelWriter:
    """The writer of local channel `route.channel`: joined if it exists
    (taking a dead writer's role over), else created for `stream`."""
    for _ in range(100):
        try:
            return zinc.Channel.open_writer(route.channel)
        except FileNotFoundError:
            pass
        try:
            if stream.dtype is None or stream.shape is None:
                return zinc.Channel.create_untyped(
                    route.channel,
                    stream.slot_size,
                    slots=route.slots,
                    mode=stream.mode,
                    max_readers=route.max_readers,
                )
            return zinc.Channel.create(
                route.channel,
                stream.dtype,
                stream.shape,
                slots=route.slots,
                mode=stream.mode,
                max_readers=route.max_readers,
            )
        except FileExistsError:
            continue  # another process made it meanwhile: join it
    raise FileExistsError(f"channel {route.channel!r} kept appearing and vanishing")


def fits(writer: zinc.ChannelWriter, stream: StreamType) -> bool:
    if writer.mode != stream.mode:
        return False
    if stream.dtype is None:
        return writer.shape is None and writer.slot_size >= stream.slot_size
    return writer.shape == stream.shape and writer.dtype.str == stream.dtype


def describe(channel: zinc.Channel) -> str:
    if channel.shape is None:
        return f"{channel.mode} untyped frames of up to {channel.slot_size} bytes"
    return f"{channel.mode} frames of {channel.dtype.str} shape {channel.shape}"
