"""A publication: one local channel read by the bridge and put to one Zenoh
key expression, frame by frame.

Lossless channels go out reliable with blocking congestion control, and only
while a subscriber matches the key (so frames wait in the local channel, and
its writer feels the back-pressure, while the other side is down or
restarting); a frame is released from the local reader only after Zenoh
accepted the put. Latest channels go out with congestion control DROP, so
a full link loses frames instead of holding the writer back; the newest
frame is then put once more with blocking congestion control when the stream
pauses after it (settle()), or at once when the local channel ends, so a
stream that stops always ends on its newest frame on the other side, never
on one the link dropped. A pause is a silence
longer than twice the stream's usual interval (at least SETTLE_MIN_S, at most
SETTLE_MAX_S), so a steady stream is never sent twice.

A publication does not wait by itself beyond one frame: forward(timeout_ms)
moves at most one frame, so the same object serves a thread of its own or
one thread that waits on many channels (zinc/bridge/_serve.py), and the
server alone decides when to leave a channel (after taking it out of
whatever it waits on).

A frame is copied twice on its way out, the fewest this Zenoh allows: its
put() takes bytes, bytearray, str or ZBytes, never a view of the slot (no
buffer protocol in the eclipse-zenoh 1.10 wheel), and makes its own copy of
what it is given before it returns. So the slot is copied into one
bytearray kept for the route (not into a new bytes object a frame), and
Zenoh copies that into the frame's ZBytes; the bytearray is free again once
put() returned. A latest channel keeps that ZBytes for its settling put, which then
copies nothing.
"""

from __future__ import annotations

import enum
import threading
import time
from typing import Any, Optional, Tuple

import numpy as np

import zinc

from ._config import Publish
from ._stats import RouteStats, log
from ._wire import HeaderWriter, StreamType

# A join that keeps failing says why at most this often.
COMPLAINT_INTERVAL_S = 10.0
# How long a latest channel's newest frame waits for a newer one before it is
# put again without the risk of a drop (a receiver skips the repeat when it
# had the frame already): twice the stream's smoothed interval, within these.
SETTLE_MIN_S = 0.02
SETTLE_MAX_S = 2.0


class Forwarded(enum.Enum):
    """What one forward() did."""

    FRAME = "a frame went out"
    NOTHING = "no frame came in time"
    ENDED = "the local channel ended"


class Publication:
    def __init__(self, session: Any, zenoh: Any, route: Publish) -> None:
        self.route = route
        self.stats = RouteStats(f"publish {route.channel!r} -> {route.key!r}", receiving=False)
        self.reader: Optional[zinc.ChannelReader] = None
        self._session = session
        self._zenoh = zenoh
        self._publisher: Any = None
        # Where a frame is copied out of its slot, reused frame after frame.
        self._outgoing = bytearray()
        # Latest channels: a blocking publisher on the same key, the newest
        # frame put through the dropping one (its ZBytes, attachment) until
        # it is settled, and when it was put.
        self._settler: Any = None
        self._unsettled: Optional[Tuple[Any, bytes]] = None
        self._last_put_at: Optional[float] = None
        self._interval_s: Optional[float] = None  # smoothed time between puts
        self._listener: Any = None
        self._headers: Optional[HeaderWriter] = None
        self._encoding = zenoh.Encoding("application/x-zinc-frame")
        # Set while a subscriber matches the key (lossless channels wait for it).
        self._matched = threading.Event()
        self._waits_for_match = True
        self._complained_at = -COMPLAINT_INTERVAL_S

    # ---- joining the local channel ---------------------------------------

    def join(self, timeout_ms: int) -> bool:
        """Joins the local channel as a reader (waiting up to `timeout_ms` for
        it to appear) and declares the Zenoh publisher for its mode; False if
        it did not appear."""
        try:
            reader = zinc.Channel.open_reader(self.route.channel, timeout_ms=timeout_ms)
        except (FileNotFoundError, TimeoutError):
            return False
        except OSError as failure:  # EBUSY (every reader entry held), a broken channel...
            now = time.monotonic()
            if now - self._complained_at > COMPLAINT_INTERVAL_S:
                self._complained_at = now
                log.error("%s: cannot join the local channel: %s", self.stats.route, failure)
            return False
        stream = StreamType(
            mode=reader.mode,
            slot_size=reader.slot_size,
            dtype=None if reader.shape is None else reader.dtype.str,
            shape=reader.shape,
        )
        log.info("%s: joined (%s)", self.stats.route, stream.describe())
        lossless = stream.mode == "lossless"
        zenoh = self._zenoh
        self._publisher = self._session.declare_publisher(
            self.route.key,
            encoding=self._encoding,
            congestion_control=(
                zenoh.CongestionControl.BLOCK if lossless else zenoh.CongestionControl.DROP
            ),
            reliability=zenoh.Reliability.RELIABLE,
            express=not lossless,
        )
        if not lossless:
            self._settler = self._session.declare_publisher(
                self.route.key,
                encoding=self._encoding,
                congestion_control=zenoh.CongestionControl.BLOCK,
                reliability=zenoh.Reliability.RELIABLE,
            )
        self._unsettled = None
        # Every publication logs whether a subscriber matches; only a
        # lossless one waits for it (see `sending`).
        self._matched.clear()
        self._waits_for_match = lossless
        self._listener = self._publisher.declare_matching_listener(self._on_matching)
        if self._publisher.matching_status.matching:
            self._matched.set()  # the listener may have said so already
        self._headers = HeaderWriter(stream)
        self.reader = reader
        return True

    def _on_matching(self, status: Any) -> None:
        # Runs on a Zenoh thread.
        if status.matching:
            log.info("%s: a subscriber matches; sending", self.stats.route)
            self._matched.set()
        else:
            what = "holding frames back" if self._waits_for_match else "frames go nowhere"
            log.info("%s: no subscriber matches; %s", self.stats.route, what)
            self._matched.clear()

    def leave(self) -> None:
        """Leaves the local channel and undeclares the publisher."""
        for entity in (self._listener, self._publisher, self._settler):
            if entity is not None:
                try:
                    entity.undeclare()
                except Exception:  # zenoh.ZError: the session closed, taking it along
                    pass
        self._listener = self._publisher = self._settler = None
        self._unsettled = self._last_put_at = self._interval_s = None
        if self.reader is not None:
            self.reader.close()
            self.reader = None
        self._headers = None
        self._outgoing = bytearray()

    # ---- forwarding --------------------------------------------------------

    @property
    def sending(self) -> bool:
        """True when a frame read now would be put: joined, and for a
        lossless channel a subscriber matches."""
        if self.reader is None:
            return False
        return not self._waits_for_match or self._matched.is_set()

    def wait_until_sending(self, timeout_s: float) -> bool:
        if self.reader is None:
            return False
        return not self._waits_for_match or self._matched.wait(timeout_s)

    def forward(self, timeout_ms: int) -> Forwarded:
        """Moves the next frame of the local channel to Zenoh, waiting up to
        `timeout_ms` for it. ENDED when the local channel ended (its writer
        closed it and every frame was read): the caller then calls leave(),
        and join() waits for a new one."""
        reader, headers, publisher = self.reader, self._headers, self._publisher
        if reader is None or headers is None or publisher is None:
            return Forwarded.NOTHING
        try:
            frame = reader.recv(timeout_ms)
        except BrokenPipeError:
            log.info("%s: the local channel ended; waiting for a new one", self.stats.route)
            # The caller leaves now, which would forget the newest frame:
            # its settling put goes first, or a dropped last put is lost.
            self._settle_now()
            return Forwarded.ENDED
        if frame is None:
            return Forwarded.NOTHING
        with frame:
            payload = self._zenoh.ZBytes(self._copy_out(frame.array))
            attachment = headers.header(frame.sequence)
            # Blocks while the link's queue is full (lossless): the frame
            # stays held meanwhile, so the local writer is held back too.
            publisher.put(payload, attachment=attachment)
        if self._settler is not None:
            self._note_put()
            self._unsettled = (payload, attachment)
        self.stats.forwarded(len(payload))
        return Forwarded.FRAME

    def _copy_out(self, array: Any) -> bytearray:
        """The bytes of `array` (a frame's slot) in the route's bytearray,
        which is made anew only when the frame's size changes (untyped
        channels)."""
        source = array.reshape(-1).view(np.uint8)
        if len(self._outgoing) != source.nbytes:
            self._outgoing = bytearray(source.nbytes)
        np.frombuffer(self._outgoing, dtype=np.uint8)[:] = source
        return self._outgoing

    def settle(self, now: float) -> Optional[float]:
        """Puts a latest channel's newest frame again, this time without the
        risk of a drop, once the stream paused after it. Returns the seconds
        until it is due, or None when nothing waits."""
        unsettled, settler, put_at = self._unsettled, self._settler, self._last_put_at
        if unsettled is None or settler is None or put_at is None:
            return None
        pause = SETTLE_MIN_S
        if self._interval_s is not None:
            pause = min(SETTLE_MAX_S, max(SETTLE_MIN_S, 2 * self._interval_s))
        due = put_at + pause - now
        if due > 0:
            return due
        self._settle_now()
        return None

    def _settle_now(self) -> None:
        """The settling put of the newest frame, if it is still due."""
        unsettled, settler = self._unsettled, self._settler
        self._unsettled = None
        if unsettled is not None and settler is not None:
            payload, attachment = unsettled
            settler.put(payload, attachment=attachment)  # the ZBytes: no copy

    def _note_put(self) -> None:
        """Adds a latest channel's put, now, to the smoothed interval between
        puts (the first gap is the estimate, each later one moves it by an
        eighth)."""
        now = time.monotonic()
        if self._last_put_at is not None:
            gap = now - self._last_put_at
            interval = self._interval_s
            self._interval_s = gap if interval is None else interval + (gap - interval) / 8
        self._last_put_at = now
