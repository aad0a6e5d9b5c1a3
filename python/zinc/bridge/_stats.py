"""What each route of a bridge has done, for its log and its summary."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

log = logging.getLogger("zinc.bridge")

REJECT_LOG_INTERVAL_S = 10.0


@dataclass
class RouteStats:
    """Counters of one route: frames and bytes forwarded, and for a
    subscription (`receiving`) also `gaps`, the holes in a lossless stream's
    sequence, `missing`, the frames in them, `restarts`, the times the
    source's sequence went back (a new source channel), and `rejected`, the
    frames dropped because they broke the wire rules or did not fit the
    local channel."""

    route: str
    receiving: bool = True  # a subscription (gaps and rejections apply)
    frames: int = 0
    bytes: int = 0
    gaps: int = 0
    missing: int = 0
    restarts: int = 0
    rejected: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    _complained_at: float = field(default=-REJECT_LOG_INTERVAL_S, repr=False, compare=False)

    def forwarded(self, nbytes: int) -> None:
        with self._lock:
            self.frames += 1
            self.bytes += nbytes

    def gap(self, first: int, end: int) -> None:
        """Frames first..end-1 never arrived."""
        with self._lock:
            self.gaps += 1
            self.missing += end - first
            total = self.missing
        log.warning(
            "%s: gap: frames %d..%d never arrived (%d frames; %d missing in %d gaps so far)",
            self.route,
            first,
            end - 1,
            end - first,
            total,
            self.gaps,
        )

    def restart(self, expected: int, sequence: int) -> None:
        with self._lock:
            self.restarts += 1
        log.warning(
            "%s: the source restarted: frame %d came where %d was due",
            self.route,
            sequence,
            expected,
        )

    def reject(self, why: str) -> None:
        """Counts a rejected frame; says why at once, then at most every
        REJECT_LOG_INTERVAL_S (a stream of bad frames is one complaint)."""
        now = time.monotonic()
        with self._lock:
            self.rejected += 1
            count = self.rejected
            quiet = now - self._complained_at < REJECT_LOG_INTERVAL_S
            if not quiet:
                self._complained_at = now
        if not quiet:
            log.error("%s: frame rejected (%d so far): %s", self.route, count, why)

    def summary(self) -> str:
        if not self.receiving:
            return f"{self.route}: {self.frames} frames, {self.bytes} bytes"
        return (
            f"{self.route}: {self.frames} frames, {self.bytes} bytes, {self.gaps} gaps "
            f"({self.missing} frames missing), {self.restarts} source restarts, "
            f"{self.rejected} rejected"
        )
