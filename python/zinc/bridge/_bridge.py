"""zinc.bridge.Bridge: one Zenoh session, its publications and subscriptions."""

from __future__ import annotations

from types import TracebackType
from typing import Any, List, Optional, Type

from ._config import BridgeConfig
from ._publish import Publication
from ._serve import PublicationServer
from ._stats import RouteStats, log
from ._subscribe import Subscription
from ._zenoh import require_zenoh, session_config

# How long stop() waits for a publication's thread before closing the
# session under it.
STOP_TIMEOUT_S = 2.0


class Bridge:
    """Carries local channels to Zenoh and Zenoh key expressions into local
    channels, as `config` says (docs/bridge.md).

    ``with Bridge(config) as bridge:`` opens the Zenoh session and starts
    every route; leaving the block stops them, closes the local channels the
    bridge joined or made, and closes the session. ImportError naming the
    ``zinc-shm[bridge]`` extra when eclipse-zenoh is missing.
    """

    def __init__(self, config: BridgeConfig) -> None:
        self.config = config.validated()
        self._zenoh = require_zenoh()
        self._session: Any = None
        self._publications: List[Publication] = []
        self._subscriptions: List[Subscription] = []
        self._server: Optional[PublicationServer] = None
        self._stats: List[RouteStats] = []

    def start(self) -> None:
        zenoh = self._zenoh
        self._session = zenoh.open(session_config(zenoh, self.config))
        try:
            for sub in self.config.subscribe:
                self._subscriptions.append(Subscription(self._session, zenoh, sub))
            for pub in self.config.publish:
                self._publications.append(Publication(self._session, zenoh, pub))
            self._stats = [p.stats for p in self._publications]
            self._stats += [s.stats for s in self._subscriptions]
            for subscription in self._subscriptions:
                subscription.start()
            self._server = PublicationServer(self._publications)
            self._server.start()
        except BaseException:
            self.stop()
            raise
        log.info(
            "session %s: listening on %s, connecting to %s",
            self._session.info.zid(),
            ", ".join(self.config.listen) or "nothing",
            ", ".join(self.config.connect) or "nothing",
        )

    @property
    def stats(self) -> List[RouteStats]:
        """Each route's counters (publications first), also after stop()."""
        return list(self._stats)

    def stop(self) -> None:
        """Stops every route and closes the session; calling it again does nothing."""
        for subscription in self._subscriptions:
            subscription.stop()
        if self._server is not None and not self._server.stop(STOP_TIMEOUT_S):
            # A put waits for room that will not come (the receiver stalls):
            # closing the session ends it.
            log.warning("a publication is still sending; closing the session under it")
            self._close_session()
            self._server.stop(STOP_TIMEOUT_S)
        self._server = None
        for publication in self._publications:
            publication.leave()
        self._publications, self._subscriptions = [], []
        self._close_session()

    def _close_session(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None

    def __enter__(self) -> Bridge:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc_value: Optional[BaseException],
        traceback: Optional[TracebackType],
    ) -> None:
        self.stop()
