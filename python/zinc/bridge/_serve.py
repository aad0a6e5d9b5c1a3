"""How the publications' local readers are waited on: the one piece of the
bridge that decides which thread sleeps where.

One thread serves every publication: it sleeps in a zinc.WaitSet (docs/spec.md
section 11) on the readers of the publications that are sending, and
forwards the frames of those the set reports ready. Each publication keeps
the same three steps: join() until its local channel is there, wait until
it is `sending` (a lossless channel needs a matching subscriber), forward()
one frame at a time. The set's membership follows those states: a channel
that is not there yet, or a lossless one that no subscriber matches, is not
in the set, and the thread looks again every SLICE_MS.

A latest channel's newest frame is put a second time, reliably, when no newer
one followed it (Publication.settle): the wait is cut short for that.

A put that waits for room (lossless, the receiver behind) holds the thread,
and with it every publication of this bridge: the same back-pressure a
single TCP link between two bridges gives anyway.
"""

from __future__ import annotations

import math
import threading
import time
from typing import Dict, Sequence, cast

import zinc

from ._publish import Forwarded, Publication

# How long one wait lasts before joins, subscribers and the stop flag are
# looked at again.
SLICE_MS = 100
# Frames forwarded from one ready channel before the others get their turn.
BURST = 16


class PublicationServer:
    """One thread, one wait set, every publication."""

    def __init__(self, publications: Sequence[Publication]) -> None:
        self._publications = list(publications)
        self._waitset = zinc.WaitSet()
        # The reader of each publication (by index) that is in the set now.
        self._members: Dict[int, zinc.ChannelReader] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._serve, name="zinc-bridge publications", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout_s: float) -> bool:
        """Stops the thread; False if it is still blocked (in a put that
        waits for room) after `timeout_s`."""
        self._stop.set()
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            return False
        self._waitset.close()
        return True

    def _serve(self) -> None:
        timeout_ms = SLICE_MS
        while not self._stop.is_set():
            self._follow()
            for key in self._waitset.wait(timeout_ms):
                self._drain(cast(int, key))  # the keys are the indexes given to add()
            timeout_ms = self._settle()

    def _settle(self) -> int:
        """Settles the latest channels whose newest frame is due (see
        Publication.settle); returns how long the next wait may last."""
        now = time.monotonic()
        timeout_ms = SLICE_MS
        for publication in self._publications:
            due = publication.settle(now)
            if due is not None:
                timeout_ms = min(timeout_ms, max(1, math.ceil(due * 1000)))
        return timeout_ms

    def _follow(self) -> None:
        """Joins the channels not joined yet (one try each) and keeps the set
        to the readers of the publications that are sending."""
        for key, publication in enumerate(self._publications):
            if publication.reader is None:
                publication.join(0)
            wanted = publication.reader if publication.sending else None
            member = self._members.get(key)
            if member is wanted:
                continue
            if member is not None:
                self._leave_set(key)
            if wanted is not None:
                self._waitset.add(wanted, key=key)
                self._members[key] = wanted

    def _drain(self, key: int) -> None:
        publication = self._publications[key]
        for _ in range(BURST):
            outcome = publication.forward(0)
            if outcome is Forwarded.ENDED:
                self._leave_set(key)
                publication.leave()
                return
            if outcome is Forwarded.NOTHING:
                return

    def _leave_set(self, key: int) -> None:
        member = self._members.pop(key, None)
        if member is not None and member in self._waitset:
            self._waitset.remove(member)
