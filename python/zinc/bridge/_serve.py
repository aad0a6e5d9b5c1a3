"""How the publications' local readers are waited on: the one piece of the
bridge that decides which thread sleeps where.

PublicationThreads gives each publication a thread that sleeps in its
reader's recv(). Every publication keeps the same three steps whatever
serves it: join() until the local channel is there, wait until it is
`sending` (a lossless channel needs a matching subscriber), forward() one
frame at a time.
"""

from __future__ import annotations

import threading
import time
from typing import List, Sequence

from ._publish import Forwarded, Publication

# How long one wait lasts before the stop flag is looked at again.
SLICE_MS = 100


class PublicationThreads:
    """One thread per publication."""

    def __init__(self, publications: Sequence[Publication]) -> None:
        self._publications = list(publications)
        self._stop = threading.Event()
        self._threads: List[threading.Thread] = []

    def start(self) -> None:
        for publication in self._publications:
            thread = threading.Thread(
                target=self._serve,
                args=(publication,),
                name=f"zinc-bridge {publication.route.channel}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout_s: float) -> bool:
        """Stops the threads; False if one is still blocked (in a put that
        waits for room) after `timeout_s`."""
        self._stop.set()
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads = [thread for thread in self._threads if thread.is_alive()]
        return not self._threads

    def _serve(self, publication: Publication) -> None:
        stop = self._stop
        while not stop.is_set():
            if publication.reader is None:
                publication.join(SLICE_MS)
            elif publication.wait_until_sending(SLICE_MS / 1000):
                if publication.forward(SLICE_MS) is Forwarded.ENDED:
                    publication.leave()
